//! The command line ("low" arguments): clap definitions only, no I/O. Each subsystem owns
//! its own argument group (`graph::args`, `ldap::args`, `ps::args`, `sim::args`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::core::{CnFormat, DeletionBehavior, FeatureState, MemberLimitBehavior};

const ABOUT: &str =
    "Microsoft Entra group writeback: readiness audit, impact forecast and writeback executor";

const LONG_ABOUT: &str = "\
gwb answers three questions about writing Entra cloud groups back into on-premises Active Directory:

  1. Is the tenant and AD ready, and what exactly would happen?    gwb audit
  2. What evidence do these PowerShell exports hold?               gwb inspect
  3. Collect a snapshot bundle from Graph and AD for offline use.  gwb collect

Quick start (no tenant needed):
  gwb audit --snapshot fixtures/contoso

Exit codes: 0 gate passes, 1 gate fails (a gating target blocked, or findings at or
above --fail-on), 2 usage or input error, 3 evidence incomplete (a blocking check could
not run; --allow-incomplete accepts it).";

#[derive(Debug, Parser)]
#[command(name = "gwb", version = crate::install::VERSION, about = ABOUT, long_about = LONG_ABOUT, max_term_width = 100)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr; no progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Largest input file gwb reads (K, M, G suffixes; default 1G). Inputs must be regular files.
    #[arg(long, global = true, value_name = "SIZE", value_parser = crate::fsio::parse_size, env = "GWB_MAX_INPUT_SIZE")]
    pub max_input_size: Option<u64>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check readiness and forecast, group by group and member by member, what writeback would do.
    #[command(long_about = AUDIT_LONG)]
    Audit(Box<AuditArgs>),
    /// Collect a snapshot bundle from Microsoft Graph and/or AD over LDAP.
    #[command(long_about = COLLECT_LONG)]
    Collect(Box<CollectArgs>),
    /// Recognise PowerShell exports and show what evidence they hold.
    #[command(long_about = INSPECT_LONG)]
    Inspect(crate::ps::args::InspectArgs),
    /// List every finding code and reason code with its meaning (stable API).
    Codes(CodesArgs),
    /// Show what `gwb apply` would change in AD (nothing is written).
    #[command(long_about = crate::plan::args::PLAN_LONG)]
    Plan(Box<crate::plan::args::PlanArgs>),
    /// Render a saved plan (gwb-plan/1) in any plan format.
    #[command(long_about = crate::plan::args::SHOW_LONG)]
    Show(crate::plan::args::ShowArgs),
    /// Serve a bundle or a generated tenant with Microsoft Graph's semantics on loopback.
    #[command(long_about = SIM_LONG)]
    GraphSim(crate::sim::args::SimArgs),
    /// Write a commented configuration template (gwb.toml).
    #[command(long_about = crate::config::INIT_LONG)]
    Init(crate::config::InitArgs),
    /// The inverse plan of an apply run, from its journal (then: gwb apply).
    #[command(long_about = crate::undo::UNDO_LONG)]
    Undo(crate::undo::UndoArgs),
    /// Plan and apply in one step from live Graph and LDAP; --watch keeps AD in step.
    #[command(long_about = crate::sync::SYNC_LONG)]
    Sync(Box<crate::sync::args::SyncArgs>),
    /// Carry out a saved plan in Active Directory (journalled, retried, stale plans refused).
    #[command(long_about = APPLY_LONG)]
    Apply(Box<crate::apply::args::ApplyArgs>),
    /// Plan and apply the tenant-side changes to make before enabling writeback (reversible).
    #[command(long_about = crate::tenant::args::TENANT_LONG)]
    Tenant(crate::tenant::args::TenantArgs),
    /// Evaluate attribute mappings in Microsoft's expression language (Cloud Sync), step by step.
    #[command(long_about = crate::cloudsync::args::MAPPINGS_LONG)]
    Mappings(crate::cloudsync::args::MappingsArgs),
    /// Moving off a writer: each group's consequences, the preparation plan, the Connect steps.
    Migrate(crate::migrate::MigrateArgs),
    /// Write a shell completion script (bash, zsh, fish, powershell, elvish) to stdout.
    #[command(long_about = crate::install::COMPLETIONS_LONG)]
    Completions(crate::install::CompletionsArgs),
    /// Write the man page (or, with --out-dir, one page per command).
    #[command(long_about = crate::install::MAN_LONG)]
    Man(crate::install::ManArgs),
}

const APPLY_LONG: &str = "\
Applies a plan to the target OU over LDAP: a saved plan (`gwb plan --out plan.json`) exactly as
reviewed, or, without PLAN, a plan made now from the plan flags (shown and confirmed on a
terminal; --yes otherwise). Before the first write it re-reads the target OU and every object
the plan touches and refuses a stale plan (an object changed since planning, the target OU
moved, another tenant snapshot), honours the takeover guard (--takeover) and the deletion
threshold (--max-deletes). Writes are ordered (renames, creates, member and attribute changes
in batches, deletes), retried when the DC is busy or the connection drops, and journalled in
--journal-dir before and after each one. Prints one line per object and a summary line.

Exit codes: 0 everything applied, 1 some objects failed (the rest applied), 2 input error or
refused plan (nothing written).

Examples:
  export GWB_LDAP_PASSWORD=…
  gwb apply plan.json --ldap-url ldaps://dc1.corp.example.com --bind-dn 'CORP\\svc-gwb' \\
      --ca-file corp-ca.pem
  gwb apply plan.json --snapshot bundle/ …   # also refuse if bundle/tenant.json changed
  gwb apply --snapshot bundle/ --target-ou 'OU=Cloud Groups,DC=corp,DC=example,DC=com' --yes …";

const COLLECT_LONG: &str = "\
Writes a snapshot bundle (tenant.json, ad.ldif, bundle.json) that `gwb audit --snapshot` reads
offline. Graph collection needs application permissions (see docs/graph.md); LDAP discovery only
reads, unless --probe-rights is given. A section that cannot be collected is recorded as incomplete
and the command exits 3.

Examples:
  export AZURE_CLIENT_SECRET=…  GWB_LDAP_PASSWORD=…
  gwb collect --out bundle/ --tenant contoso.onmicrosoft.com --client-id <app id> \\
      --ldap-url ldaps://dc1.corp.example.com --bind-dn 'CORP\\svc-gwb' \\
      --ca-file corp-ca.pem --target-ou 'OU=Cloud Groups,DC=corp,DC=example,DC=com'
  gwb collect --out bundle/ --incremental --tenant … --client-id …   # only what changed";

const INSPECT_LONG: &str = "\
Says what each file is (Get-ADSyncAADCompanyFeature, Get-MgBetaGroup, Export-Clixml of Get-ADGroup,
…), prints the objects gwb read from it and any data-quality problems (ConvertTo-Json depth
truncation, lost CSV values). Reads Windows PowerShell 5.1 and PowerShell 7 output in any encoding.
An unreadable file is reported with its line or element and the command exits 2.

Examples:
  gwb inspect connect/company-feature.json
  gwb inspect --format json exports/*.xml | ConvertFrom-Json";

const SIM_LONG: &str = "\
A local Microsoft Graph for trying gwb without a tenant, for tests and for benchmarks: serves a
bundle's tenant.json or a generated tenant on 127.0.0.1 with paging, $batch, delta, deleted
items, writes visible to later reads, injectable latency and faults, and request counters
(GET /_sim/stats). The first line on stdout is `listening on http://127.0.0.1:PORT`.

Examples:
  gwb graph-sim --bundle fixtures/contoso --port 0
  gwb graph-sim --generate groups=10000,members=200000,seed=1 --fault-429 10 --latency-ms 20";

const AUDIT_LONG: &str = "\
Reads a snapshot bundle (--snapshot DIR) or a live tenant, checks the prerequisites of group
writeback and forecasts for each target what happens to every cloud group and member.

Targets:
  connect-v1   Entra Connect original writeback (Microsoft 365 groups as distribution groups)
  connect-v2   Entra Connect new writeback (deprecated since June 30, 2024)
  cloud-sync   Entra Cloud Sync group provisioning to AD (security groups)
  gwb          gwb's own executor (connect-v2 semantics plus gwb's options)

The gate judges every available target by default (connect-v2 is `unavailable` while v2 is off:
shown, not gated); --gate TARGET picks the targets it judges. A verdict is `blocked` by an
error finding, `incomplete` when evidence a blocking check needs is missing (the gate fails
closed, exit 3), else `ready` or `ready-with-warnings`. The last line on stderr says why:
  gate: FAILED (connect-v1: blocked by 2 errors; cloud-sync: ready; gwb: ready)

Severities are the documented defaults of `gwb codes`; --deny/--warn/--allow CODE change them,
and --waivers FILE accepts single findings (code + subject) until a date.

Examples:
  gwb audit --snapshot fixtures/contoso
  gwb audit --snapshot bundle/ --gate gwb --format html --output audit.html
  gwb audit --snapshot bundle/ --format sarif --format junit --output-dir reports/
  gwb audit --snapshot bundle/ --output json=audit.json --output markdown=summary.md
  gwb audit --snapshot bundle/ --gate cloud-sync --fail-on warning --waivers waivers.toml   # CI gate
  gwb audit --snapshot bundle/ --bundle CHG-1234.zip      # evidence for a change record
  gwb audit --snapshot CHG-1234.zip                       # the same verdict, offline";

/// Output formats of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people (default on a terminal).
    Table,
    /// Stable JSON (`gwb-audit/1`), readable by ConvertFrom-Json in PowerShell 5.1 and 7.
    Json,
    /// One row per group and target; UTF-8 with BOM for Excel and Import-Csv.
    Csv,
    /// Markdown for change tickets and pull requests.
    Markdown,
    /// CLIXML that Import-Clixml reads.
    Clixml,
    /// One self-contained HTML page for change boards (charts, sortable forecast).
    Html,
    /// JUnit XML (Azure DevOps, Jenkins, GitLab): a testsuite per gating target.
    Junit,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
            Format::Clixml => "clixml",
            Format::Html => "html",
            Format::Junit => "junit",
            Format::Sarif => "sarif",
        }
    }
    pub fn parse(s: &str) -> Option<Format> {
        <Format as ValueEnum>::from_str(s, true).ok()
    }
    /// The format an output file's extension names, if any.
    pub fn from_extension(path: &std::path::Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let by_suffix = [
            (".sarif.json", Format::Sarif),
            (".sarif", Format::Sarif),
            (".junit.xml", Format::Junit),
            (".junit", Format::Junit),
            (".clixml", Format::Clixml),
            (".json", Format::Json),
            (".csv", Format::Csv),
            (".md", Format::Markdown),
            (".markdown", Format::Markdown),
            (".html", Format::Html),
            (".htm", Format::Html),
            (".txt", Format::Table),
        ];
        by_suffix
            .iter()
            .find(|(suf, _)| name.ends_with(suf))
            .map(|(_, f)| *f)
    }
}

/// When the gate fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    /// Fail on any error finding (default).
    #[default]
    Error,
    /// Fail on warnings and errors.
    Warning,
    /// Never fail on findings (input errors still exit 2).
    Never,
}

/// Record shapes for PowerShell users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shape {
    /// Per-group records with MSIdentityTools' Get-MsIdGroupWritebackConfiguration property names.
    Msidentitytools,
}

/// The admin's writeback choices: the guide's "modify default behavior" steps and gwb's options.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// The single OU groups are written back into (default: the tenant's or Connect's configured container).
    #[arg(long, value_name = "DN")]
    pub target_ou: Option<String>,
    /// default: disabled or soft-deleted groups stay in AD until hard-deleted; modified: they are deleted.
    #[arg(long, value_enum, default_value = "default")]
    pub deletion: DeletionBehavior,
    /// default: Microsoft 365 groups over 50,000 members are not written back; raised: up to 250,000.
    #[arg(long, value_enum, default_value = "default")]
    pub member_limit: MemberLimitBehavior,
    /// CN of written-back groups: Group_<objectId>, or <display name>_<last 12 of objectId>.
    #[arg(long, value_enum, default_value = "object-id")]
    pub cn_format: CnFormat,
    /// as-if-enabled: forecast each target as if it were enabled now; current: honour the tenant's feature flags.
    #[arg(long, value_enum, default_value = "as-if-enabled")]
    pub feature_state: FeatureState,
}

impl PolicyArgs {
    /// The decision core's policy.
    pub fn policy(&self) -> crate::core::Policy {
        crate::core::Policy {
            deletion: self.deletion,
            member_limit: self.member_limit,
            cn_format: self.cn_format,
            feature_state: self.feature_state,
        }
    }
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Directory to write the snapshot bundle into (created if missing).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// The single OU groups are written back into.
    #[arg(long, value_name = "DN")]
    pub target_ou: Option<String>,
    /// Update DIR/tenant.json from the groups delta since its last collection (full collection if that is not possible).
    #[arg(long)]
    pub incremental: bool,
    #[command(flatten)]
    pub config: crate::config::ConfigArgs,
    #[command(flatten)]
    pub graph: crate::graph::args::GraphArgs,
    #[command(flatten)]
    pub ldap: crate::ldap::args::LdapArgs,
}

pub use crate::audit::args::{AuditArgs, CodesArgs};
