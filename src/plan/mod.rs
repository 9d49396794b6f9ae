//! The writeback plan: the diff of the desired AD state (the decision core for target `gwb`)
//! against the AD state read at planning time, and the planning-time safety decisions that
//! apply and sync reuse. [`model`] holds the saved format `gwb-plan/1`.

pub mod model;

pub use model::{Action, Plan, PlannedGroup};
