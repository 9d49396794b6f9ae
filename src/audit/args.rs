//! The flags of `gwb audit` and `gwb codes` (clap only, no I/O): inputs, policy, the gate,
//! the severity overrides, waivers and outputs.

use std::path::PathBuf;

use clap::Args;

use super::codes::Code;
use crate::cli::{FailOn, Format, PolicyArgs, Shape};
use crate::core::Target;

fn parse_code(s: &str) -> Result<Code, String> {
    Code::parse(s).ok_or_else(|| {
        format!("unknown finding code {s:?}; `gwb codes` lists them (e.g. name-collision)")
    })
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Snapshot bundle: a directory (tenant.json, ad.ldif, connect/) or a zip from --bundle.
    #[arg(long, short = 's', value_name = "DIR|ZIP")]
    pub snapshot: Option<PathBuf>,
    /// Extra PowerShell exports to read as evidence (repeatable).
    #[arg(long, value_name = "FILE")]
    pub evidence: Vec<PathBuf>,
    /// Targets to forecast (repeatable; default: all four). Gating targets are always forecast.
    #[arg(long, short = 't', value_enum)]
    pub target: Vec<Target>,
    /// Cloud Sync's "Provision membership to on-premises users" toggle, for the cloud-sync
    /// forecast from a configuration in the bundle (off: Microsoft's default since 2026).
    #[arg(long, value_enum, value_name = "off|on", default_value_t = Toggle::Off)]
    pub cloud_sync_membership: Toggle,
    /// Targets the gate judges (repeatable; default: every available target, so connect-v2 is
    /// left out while v2 is off).
    #[arg(long, value_enum, value_name = "TARGET")]
    pub gate: Vec<Target>,
    /// Report format (repeatable with --output-dir; default: table, on a terminal and through
    /// a pipe, or the format an --output extension names).
    #[arg(long, short = 'f', value_enum)]
    pub format: Vec<Format>,
    /// Write a report to FILE instead of stdout; FORMAT=FILE picks the format (repeatable),
    /// e.g. --output sarif=gwb.sarif --output html=audit.html.
    #[arg(long, short = 'o', value_name = "[FORMAT=]FILE")]
    pub output: Vec<String>,
    /// Write one file per --format into DIR (audit.json, audit.html, audit.sarif,
    /// audit.junit.xml, audit.md, audit.csv + audit-findings.csv, audit.txt, audit.clixml);
    /// without --format: json, html, junit, sarif, markdown and csv.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Table: list every group, not only those whose outcome matters.
    #[arg(long)]
    pub all: bool,
    /// Fail the gate (exit 1) on counted findings at or above this severity.
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// Accept `incomplete` verdicts (evidence a blocking check needs is missing): exit 0
    /// instead of 3.
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Exit 3 when any evidence is missing or incomplete, even evidence no blocking check needs.
    #[arg(long)]
    pub require_complete: bool,
    /// Treat CODE as an error (repeatable).
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    pub deny: Vec<Code>,
    /// Treat CODE as a warning (repeatable).
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    pub warn: Vec<Code>,
    /// Treat CODE as information: shown, never counted (repeatable).
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    pub allow: Vec<Code>,
    /// Accepted findings (TOML or JSON: code, subject, reason, expires, approvedBy).
    /// A waived finding stays visible and does not count; an expired waiver fails the gate.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Judge date-dependent severities and waiver expiry as of this RFC 3339 time (default: now).
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Also write an evidence bundle (zip): the inputs with their SHA-256, gwb's version, the
    /// command line, the policy, and the report as json and html.
    #[arg(long, value_name = "OUT.zip")]
    pub bundle: Option<PathBuf>,
    /// Print per-group records in another tool's shape (json, csv or clixml formats).
    #[arg(long, value_enum)]
    pub shape: Option<Shape>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub config: crate::config::ConfigArgs,
    #[command(flatten)]
    pub graph: crate::graph::args::GraphArgs,
    #[command(flatten)]
    pub ldap: crate::ldap::args::LdapArgs,
}

#[derive(Debug, Args)]
pub struct CodesArgs {
    /// One code to explain: meaning, default severity, targets, evidence and remediation.
    pub code: Option<String>,
    /// Output format: table, json, csv or markdown.
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: Format,
}

/// An on/off switch on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Toggle {
    #[default]
    Off,
    On,
}
