//! The one integration-test binary (ripgrep style): one module per topic.

mod util;

mod apply;
mod audit;
mod cloud_sync;
mod config;
mod config_keys;
mod config_sections;
mod graph;
mod graph_hostile;
mod input_hostile;
mod inputs;
mod install;
mod kerberos;
mod ldap;
mod ldap_hostile;
mod line_ends;
mod migrate;
mod pinned;
pub mod plan;
mod ps;
mod report_formats;
mod report_gate;
mod report_honest;
mod sam_account_name;
mod schemas;
mod soa;
mod sync;
mod sync_state;
mod tenant;
mod terminal;
mod terminal_io;
mod undo;
