//! Command-line arguments of `gwb apply`: a saved plan, or the plan flags of `gwb plan`
//! (flattened, so every command that plans takes the same flags), plus apply's own.

use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// A saved plan (`gwb plan --out plan.json`), applied exactly as reviewed. Without it, gwb
    /// plans from the plan flags first. Either way the changes are shown and confirmed (--yes).
    #[arg(value_name = "PLAN")]
    pub plan: Option<PathBuf>,
    /// Apply without asking. On a terminal gwb shows the changes and asks; off one (a pipeline,
    /// a scheduled task) nothing is written without --yes.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Run although Entra Connect writes back into the same OU (the plan's takeover guard).
    #[arg(long)]
    pub takeover: bool,
    /// Directory for the journal of this run (one JSON-lines file per run, named by UTC time).
    #[arg(long, value_name = "DIR", default_value = crate::apply::journal::DEFAULT_DIR)]
    pub journal_dir: PathBuf,
    /// Refuse any plan but the one with this SHA-256 (the digest `gwb plan --out` printed and
    /// the change record approved). Also gwb.toml `[apply] expect-sha256`.
    #[arg(long, value_name = "HEX")]
    pub expect_sha256: Option<String>,
    /// Member values per LDAP modify request.
    #[arg(long, value_name = "N", default_value_t = crate::ldap::write::MEMBER_BATCH)]
    pub batch: usize,
    /// The plan flags (`gwb plan`); with a saved plan only --snapshot (refuse the plan if the
    /// bundle's tenant.json is not the one planned from), --max-deletes (overrides the plan's
    /// threshold) and the LDAP flags are used.
    #[command(flatten)]
    pub input: crate::plan::args::PlanInputArgs,
}
