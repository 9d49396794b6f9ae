//! The one integration-test binary (ripgrep style): one module per topic.

mod util;

mod audit;
mod graph;
mod ldap;
mod ops;
mod ops_undo;
mod ps;
