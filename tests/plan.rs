//! `gwb plan`: the diff against AD, its safety decisions, formats and the Samba round trips.

pub mod convergence;
mod digest;
mod lab_ldif;
mod props;
mod safety;
mod unknown;
