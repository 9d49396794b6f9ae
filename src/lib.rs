//! gwb: Microsoft Entra group writeback — readiness audit, impact forecast and executor.
//!
//! Data flows one way: collectors (`graph`, `ldap`, `ps`) produce a snapshot
//! [`bundle`]; the pure decision [`core`] turns a bundle into per-group and
//! per-member outcomes; [`audit`] adds readiness findings and verdicts; [`report`]
//! renders them. Only `main.rs` knows exit codes; only `report` and `app` print.

// No panics on input: unwrap and panic! are errors outside tests (expect stays, as it names the invariant).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod ad;
pub mod app;
pub mod apply;
pub mod audit;
pub mod background;
pub mod bundle;
pub mod cli;
pub mod cloudsync;
pub mod collect;
pub mod config;
pub mod confirm;
pub mod core;
pub mod digest;
pub mod error;
pub mod escape;
pub mod expr;
pub mod fsio;
pub mod graph;
pub mod input;
pub mod install;
pub mod ldap;
pub mod migrate;
pub mod outcome;
pub mod par;
pub mod par_json;
pub mod plan;
pub mod ps;
pub mod redact;
pub mod report;
pub mod schema;
pub mod sim;
pub mod snapshot;
pub mod sync;
pub mod tenant;
pub mod term;
pub mod text;
pub mod undo;
