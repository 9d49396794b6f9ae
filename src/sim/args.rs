//! Command-line arguments of `gwb graph-sim`.

use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Serve the tenant.json of this snapshot bundle.
    #[arg(long, value_name = "DIR")]
    pub bundle: Option<PathBuf>,
}
