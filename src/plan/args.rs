//! The command line of `gwb plan` and `gwb show`. [`PlanInputArgs`] (inputs, policy, the
//! deletion threshold) is flattened by `gwb apply` and `gwb sync` too, so every command that
//! plans takes the same flags.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::model::DEFAULT_MAX_DELETES;

/// Output formats of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Terraform-like text: changes only (all with --show-unchanged), then a `Plan:` line.
    Table,
    /// The saved plan, `gwb-plan/1`.
    Json,
    /// Markdown for change tickets and pull requests.
    Markdown,
    /// RFC 2849 change records that `ldapmodify` imports as they are.
    Ldif,
    /// One row per group (UTF-8 with BOM, RFC 4180 quoting, formulas neutralised).
    Csv,
    /// A self-contained page for a change record.
    Html,
}

/// Where a plan's inputs come from, and the policy it is computed under.
#[derive(Debug, Clone, Args)]
pub struct PlanInputArgs {
    /// Snapshot bundle directory (tenant.json, ad.ldif, bundle.json). Without it: live Graph
    /// (the `gwb collect` flags) and live LDAP (--ldap-url).
    #[arg(long, short = 's', value_name = "DIR")]
    pub snapshot: Option<PathBuf>,
    /// Extra PowerShell exports to read as evidence (repeatable). Groups read from them never
    /// prove a deletion (an export may be partial).
    #[arg(long, value_name = "FILE")]
    pub evidence: Vec<PathBuf>,
    /// Refuse to apply a plan that deletes more than N groups (Entra Connect's
    /// accidental-deletion default is 500).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_DELETES)]
    pub max_deletes: usize,
    #[command(flatten)]
    pub policy: crate::cli::PolicyArgs,
    #[command(flatten)]
    pub config: crate::config::ConfigArgs,
    #[command(flatten)]
    pub graph: crate::graph::args::GraphArgs,
    #[command(flatten)]
    pub ldap: crate::ldap::args::LdapArgs,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub input: PlanInputArgs,
    /// Output format (default: table, on a terminal and through a pipe).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<PlanFormat>,
    /// Save the plan (gwb-plan/1 JSON) to FILE for `gwb show` and `gwb apply`.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// List unchanged groups (noop, keep, skip) in table and markdown output too.
    #[arg(long)]
    pub show_unchanged: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A saved plan (`gwb plan --out plan.json`).
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Output format (default: table, on a terminal and through a pipe).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<PlanFormat>,
    /// List unchanged groups (noop, keep, skip) in table and markdown output too.
    #[arg(long)]
    pub show_unchanged: bool,
}

pub const PLAN_LONG: &str = "\
Computes what `gwb apply` would change in AD: the desired state of every cloud group under
target gwb (the same rules and policy flags as `gwb audit --target gwb`) diffed against the AD
objects in the target OU. Nothing is written. Actions: create, update, rename, delete, keep,
skip, noop, each with the decision core's reason code (gwb codes).

Inputs: --snapshot DIR, or live Graph (the `gwb collect` flags) and live LDAP (--ldap-url).
Target OU: --target-ou, else bundle.json targetOu, else the tenant's unifiedGroupContainer.
Deletes need proof: a complete groups section (and with live Graph a GET answering 404);
otherwise the group is kept and the plan says why.

Examples:
  gwb plan --snapshot bundle/ --target-ou 'OU=Cloud Groups,DC=corp,DC=example,DC=com'
  gwb plan --snapshot bundle/ --out plan.json            # review, then: gwb apply plan.json
  gwb plan --snapshot bundle/ --format ldif > plan.ldif  # ldapmodify -f plan.ldif
  gwb plan --snapshot bundle/ --cn-format display-name --show-unchanged";

pub const SHOW_LONG: &str = "\
Renders a saved plan (gwb-plan/1) in any plan format (table, json, markdown, ldif, csv, html),
without reading Graph or AD. The plan's SHA-256 is checked first: a plan changed after it was
made is refused (exit 2), naming the first difference.

Examples:
  gwb show plan.json
  gwb show plan.json --format markdown > change-ticket.md
  gwb show plan.json --format ldif > plan.ldif";
