//! `gwb mappings …`: command-line arguments.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

pub const MAPPINGS_LONG: &str = "\
Works with attribute mappings in Microsoft's expression language, the language of Cloud Sync's
`cn`, `parentDistinguishedName` and other mappings.

  test   For every group of a bundle (or one), the steps Cloud Sync's on-demand provisioning
         shows: scoping (the default security clause, selected groups, scoping filters) and each
         mapping's expression evaluated step by step. Nothing is written anywhere.

The configuration is read from the bundle's cloud-sync/<domain>/ directory (servicePrincipal.json,
jobs.json, schema.json, appRoleAssignedTo.json; docs/cloud-sync.md says how to save them).

Examples:
  gwb mappings test --snapshot fixtures/cloud-sync
  gwb mappings test --snapshot fixtures/cloud-sync --group 'Sales EMEA' --format json";

#[derive(Debug, Args)]
pub struct MappingsArgs {
    #[command(subcommand)]
    pub command: MappingsCommand,
}

#[derive(Debug, Subcommand)]
pub enum MappingsCommand {
    /// Evaluate a Cloud Sync configuration's scope and mappings for each group, step by step.
    Test(TestArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The snapshot bundle (a directory with tenant.json and cloud-sync/<domain>/).
    #[arg(long, value_name = "DIR")]
    pub snapshot: PathBuf,
    /// Only this group: its object id or its exact display name.
    #[arg(long, value_name = "ID")]
    pub group: Option<String>,
    /// Only the configuration of this domain (the directory name under cloud-sync/).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    pub format: TestFormat,
}
