//! Command-line arguments of `gwb sync`.

use std::path::PathBuf;
use std::time::Duration;

fn duration(s: &str) -> Result<Duration, String> {
    crate::config::parse_duration(s)
}

#[derive(Debug, Clone, clap::Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub input: crate::plan::args::PlanInputArgs,
    /// Keep running: poll the groups delta every --interval and apply what changed.
    #[arg(long)]
    pub watch: bool,
    /// --watch: time between two polls ("10s", "2", "1m").
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub interval: Duration,
    /// --watch: a full reconciliation against AD this often (catches changes made by hand in AD).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = duration)]
    pub full_every: Duration,
    /// Print the plan that would be applied and write nothing (with --watch: every poll's plan).
    #[arg(long)]
    pub dry_run: bool,
    /// --dry-run: the plan's format (default: table, on a terminal and through a pipe).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<crate::plan::args::PlanFormat>,
    /// Run although Entra Connect writes back into the same OU (the takeover guard).
    #[arg(long)]
    pub takeover: bool,
    /// Directory of the journals (one file per applied change set).
    #[arg(long, value_name = "DIR", default_value = crate::apply::journal::DEFAULT_DIR)]
    pub journal_dir: PathBuf,
    /// --watch: directory of the delta bookmark and the last collected tenant, so a restart
    /// resumes where it stopped without re-applying.
    #[arg(long, value_name = "DIR", default_value = super::DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,
}
