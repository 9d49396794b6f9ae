//! The one integration-test binary (ripgrep style): one module per topic.

mod util;

mod apply;
mod audit;
mod graph;
mod harden_graph;
mod ldap;
mod ops;
mod ps;
mod report_formats;
mod report_gate;
mod tenant;
