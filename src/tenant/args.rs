//! Command-line arguments of `gwb tenant plan` and `gwb tenant apply`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

pub const TENANT_LONG: &str = "\
The tenant-side changes Microsoft's guide asks for before group writeback is enabled, planned and
reversible: the Group.Unified setting NewUnifiedGroupWritebackDefault, and writebackConfiguration
(isEnabled, onPremisesGroupType) on existing groups. `plan` shows every change, what is refused and
why, and the forecast of every target before and after; `apply` makes exactly the planned changes,
refuses a plan the tenant has moved away from, and writes an undo file first.

gwb never changes a writeback feature flag (features.groupWriteBackEnabled and the like).

Examples:
  gwb tenant plan -s bundle/ --new-m365-default false --disable-existing-m365 -o plan.json
  gwb tenant apply plan.json --tenant … --client-id …        # writes plan.undo.json first
  gwb tenant apply --undo plan.undo.json --tenant … --client-id …";

#[derive(Debug, Args)]
pub struct TenantArgs {
    #[command(subcommand)]
    pub command: TenantCommand,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Plan tenant-side changes and show their effect on every target's forecast.
    #[command(long_about = PLAN_LONG)]
    Plan(Box<PlanArgs>),
    /// Apply a reviewed plan exactly (or, with --undo, restore what an apply changed).
    #[command(long_about = APPLY_LONG)]
    Apply(Box<ApplyArgs>),
}

const PLAN_LONG: &str = "\
Reads a snapshot bundle (--snapshot DIR) or the live tenant (the Graph options of gwb collect) and
plans the changes asked for. Groups already in the wanted state are skipped; groups that cannot be
changed (synced from AD, distribution lists, mail-enabled security groups, security groups with a
type other than universalSecurityGroup, role-assignable groups without --role-management) are
refused with a reason. Changes that cannot have the intended effect (isEnabled = false while only
the original writeback is enabled, which ignores it) are refused unless --force.

Examples:
  gwb tenant plan --snapshot fixtures/contoso --new-m365-default false --disable-existing-m365
  gwb tenant plan --snapshot bundle/ --disable-existing-m365 --except keep.txt --out plan.json
  gwb tenant plan --tenant … --client-id … --enable <id> --group-type universalSecurityGroup";

const APPLY_LONG: &str = "\
Applies a plan written by `gwb tenant plan --out`. Before anything is written, every planned group and
the setting are read again: a plan the tenant has moved away from is refused, naming the groups;
changes already in place are skipped (so re-running after a partial failure converges). The previous
values of everything about to change are written to the undo file (default: PLAN with .undo.json)
and flushed to disk before the first write. Group changes go through $batch, 20 per request;
throttled items are retried after Retry-After; refused items are reported with Graph's message.

With --undo FILE, the undo file is turned into a plan (shown first) that restores every touched
group's writebackConfiguration and the Group.Unified setting exactly, explicit nulls included.

Exit codes: 0 every change is in place, 1 some changes failed (listed), 2 usage or input error,
a stale plan or an unreadable file.

Examples:
  gwb tenant apply plan.json --tenant … --client-id …
  gwb tenant apply --undo plan.undo.json --dry-run --tenant … --client-id …";

/// Output formats of the tenant commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TenantFormat {
    /// Text for people (default on a terminal).
    Table,
    /// JSON (`gwb-tenant-plan/1`, `gwb-tenant-apply/1`).
    Json,
}

/// Values of --group-type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "verbatim")]
pub enum GroupTypeArg {
    #[value(name = "universalDistributionGroup")]
    UniversalDistributionGroup,
    #[value(name = "universalSecurityGroup")]
    UniversalSecurityGroup,
    #[value(name = "universalMailEnabledSecurityGroup")]
    UniversalMailEnabledSecurityGroup,
}

impl GroupTypeArg {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupTypeArg::UniversalDistributionGroup => "universalDistributionGroup",
            GroupTypeArg::UniversalSecurityGroup => "universalSecurityGroup",
            GroupTypeArg::UniversalMailEnabledSecurityGroup => "universalMailEnabledSecurityGroup",
        }
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Snapshot bundle directory to plan from (otherwise the live tenant, with the Graph options).
    #[arg(long, short = 's', value_name = "DIR")]
    pub snapshot: Option<PathBuf>,
    /// Set Group.Unified NewUnifiedGroupWritebackDefault (creates the setting from its template when absent).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub new_m365_default: Option<bool>,
    /// Set isEnabled = false on every Microsoft 365 group whose isEnabled is not already false.
    #[arg(long)]
    pub disable_existing_m365: bool,
    /// Object ids to leave alone with --disable-existing-m365 (one a line; `#` starts a comment).
    #[arg(long, value_name = "FILE", requires = "disable_existing_m365")]
    pub except: Option<PathBuf>,
    /// Set isEnabled = true on these groups (repeatable, or comma-separated).
    #[arg(long, value_name = "ID", num_args = 1.., value_delimiter = ',')]
    pub enable: Vec<String>,
    /// Set isEnabled = false on these groups (repeatable, or comma-separated).
    #[arg(long, value_name = "ID", num_args = 1.., value_delimiter = ',')]
    pub disable: Vec<String>,
    /// onPremisesGroupType for the groups given to --enable (default: leave it as it is).
    #[arg(long, value_enum, value_name = "TYPE", requires = "enable")]
    pub group_type: Option<GroupTypeArg>,
    /// The app holds RoleManagement.ReadWrite.Directory, which changing role-assignable groups needs.
    #[arg(long)]
    pub role_management: bool,
    /// Plan changes the order guard refuses (e.g. isEnabled = false while only the original writeback is on).
    #[arg(long)]
    pub force: bool,
    /// Convert these groups' source of authority from AD to the cloud (PATCH
    /// onPremisesSyncBehavior isCloudManaged=true): object ids (comma-separated), @FILE (ids,
    /// one a line), or a display-name pattern (* and ? wildcards). Repeatable.
    #[arg(long, value_name = "SELECTOR")]
    pub convert_soa: Vec<String>,
    /// Roll these groups' conversion back (isCloudManaged=false; Entra Connect takes them over
    /// on its next cycle). Same SELECTOR forms as --convert-soa. Repeatable.
    #[arg(long, value_name = "SELECTOR")]
    pub rollback_soa: Vec<String>,
    /// Write the plan (JSON, gwb-tenant-plan/1) to FILE for review and `gwb tenant apply`.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// How to show the plan on stdout (default: table, on a terminal and through a pipe).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<TenantFormat>,
    #[command(flatten)]
    pub config: crate::config::ConfigArgs,
    #[command(flatten)]
    pub graph: crate::graph::args::GraphArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan to apply (written by `gwb tenant plan --out`).
    #[arg(
        value_name = "PLAN",
        required_unless_present = "undo",
        conflicts_with = "undo"
    )]
    pub plan: Option<PathBuf>,
    /// Restore what an apply changed, from its undo file (planned and shown before any write).
    #[arg(long, value_name = "FILE")]
    pub undo: Option<PathBuf>,
    /// Where to write the undo file (default: PLAN with .undo.json; with --undo: FILE with .redo.json).
    #[arg(long, value_name = "FILE")]
    pub undo_file: Option<PathBuf>,
    /// Refuse any plan but the one with this SHA-256 (printed by `gwb tenant plan --out`,
    /// approved by the change record).
    #[arg(long, value_name = "HEX", conflicts_with = "undo")]
    pub expect_sha256: Option<String>,
    /// Show what would be written and stop (the stale-plan check still runs).
    #[arg(long)]
    pub dry_run: bool,
    /// Write without asking. On a terminal gwb shows the changes and asks; off one (a pipeline,
    /// a scheduled task) nothing is written without --yes.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// With --undo: also restore objects changed again since the apply.
    #[arg(long)]
    pub force: bool,
    /// How to show the result on stdout (default: table, on a terminal and through a pipe).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<TenantFormat>,
    #[command(flatten)]
    pub config: crate::config::ConfigArgs,
    #[command(flatten)]
    pub graph: crate::graph::args::GraphArgs,
}
