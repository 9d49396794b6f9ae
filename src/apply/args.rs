//! Command-line arguments of `gwb apply`.

use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// A saved plan (`gwb plan --out plan.json`), applied exactly as reviewed.
    #[arg(value_name = "PLAN")]
    pub plan: Option<PathBuf>,
    /// Apply without asking. Without a saved plan, apply asks on a terminal and refuses
    /// otherwise unless --yes is given.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Run although Entra Connect writes back into the same OU (the plan's takeover guard).
    #[arg(long)]
    pub takeover: bool,
    /// Abort before the first write when the plan deletes more than N objects (default: the
    /// plan's threshold, 500 unless planned otherwise).
    #[arg(long, value_name = "N")]
    pub max_deletes: Option<usize>,
    /// Directory for the journal of this run (one JSON-lines file per run, named by UTC time).
    #[arg(long, value_name = "DIR", default_value = crate::apply::journal::DEFAULT_DIR)]
    pub journal_dir: PathBuf,
    /// The snapshot bundle the plan was made from: refuse the plan if its tenant.json differs.
    #[arg(long, value_name = "DIR")]
    pub snapshot: Option<PathBuf>,
    /// Member values per LDAP modify request.
    #[arg(long, value_name = "N", default_value_t = crate::ldap::write::MEMBER_BATCH,
          value_parser = clap::value_parser!(usize))]
    pub batch: usize,
    #[command(flatten)]
    pub ldap: crate::ldap::args::LdapArgs,
}
