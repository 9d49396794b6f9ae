//! The one integration-test binary (ripgrep style): one module per topic.

mod util;

mod apply;
mod audit;
mod graph;
mod harden_graph;
mod harden_input;
mod harden_kerberos;
mod harden_ldap;
mod harden_lines;
mod install;
mod ldap;
mod ops;
mod ops_keys;
mod ops_sam;
mod ops_sync;
mod ops_undo;
mod plan;
mod ps;
mod report_formats;
mod report_gate;
mod schemas;
mod tenant;
