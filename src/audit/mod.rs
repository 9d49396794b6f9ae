//! The readiness audit: checks with stable codes over a snapshot, verdicts per target, and the
//! forecast from the decision core, gathered into one [`Report`].
