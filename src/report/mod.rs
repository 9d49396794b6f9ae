//! Renderers: one [`Report`] model, one writer per format. Only this module and `app` print.
//!
//! - table: people at a terminal (verdicts, findings, a group × target outcome matrix);
//! - json: `gwb-audit/1`, stable names, arrays for every collection (docs/report-json.md);
//! - csv: one row per group and target, UTF-8 with BOM, RFC 4180 quoting, no #TYPE line;
//! - markdown: for change tickets; clixml: for Import-Clixml.

pub mod shape;

use std::collections::BTreeMap;

use comfy_table::{ContentArrangement, Table, presets};

use crate::audit::{Code, Report};
use crate::cli::Format;
use crate::core::{GroupForecast, Outcome};

/// Render a report in a format. Returns bytes so CSV can carry its BOM.
/// Render a report straight into a writer (JSON is streamed, never held whole in memory).
pub fn write(
    report: &Report,
    format: Format,
    width: Option<u16>,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            out.write_all(b"\n")?;
        }
        Format::Csv => out.write_all(&csv(report)?)?,
        Format::Markdown => out.write_all(markdown(report).as_bytes())?,
        Format::Table => out.write_all(table(report, width).as_bytes())?,
        Format::Clixml => out.write_all(
            crate::ps::clixml::to_clixml(&serde_json::to_value(report)?, "gwb.AuditReport")
                .as_bytes(),
        )?,
    }
    Ok(())
}

/// A compact cell: `+` create, `~` update, `-` delete, `=` keep untouched, `·` skip.
fn outcome_cell(g: &GroupForecast) -> String {
    use crate::core::OnPremGroupType as T;
    match g.outcome {
        Outcome::Writeback => {
            let t = match g.on_premises_group_type {
                Some(T::UniversalDistribution) => "distribution",
                Some(T::UniversalSecurity) => "security",
                Some(T::UniversalMailEnabledSecurity) => "mail-enabled security",
                None => "?",
            };
            let sign = if g.existing_dn.is_some() { '~' } else { '+' };
            let skipped = g.members.skipped.len();
            if skipped > 0 {
                format!("{sign} {t} ({skipped} skipped)")
            } else {
                format!("{sign} {t}")
            }
        }
        Outcome::Delete => format!("- {}", g.reason.code()),
        Outcome::Keep => format!("= {}", g.reason.code()),
        Outcome::Skip => format!("· {}", g.reason.code()),
    }
}

/// Rows of the group × target matrix: (id, name, kind, cells per target).
fn matrix(report: &Report) -> Vec<(String, String, String, Vec<String>)> {
    // (sort key, id) -> (name, kind, cells)
    let mut rows: BTreeMap<(String, String), (String, String, Vec<String>)> = BTreeMap::new();
    let n = report.forecast.len();
    for (i, f) in report.forecast.iter().enumerate() {
        for g in &f.groups {
            let key = (g.display_name.to_lowercase(), g.id.clone());
            let e = rows.entry(key).or_insert_with(|| {
                (
                    g.display_name.clone(),
                    short_kind(g),
                    vec![String::new(); n],
                )
            });
            e.2[i] = outcome_cell(g);
        }
    }
    rows.into_iter()
        .map(|((_, id), (name, kind, cells))| (id, name, kind, cells))
        .collect()
}

/// Short kind labels for the matrix.
fn short_kind(g: &GroupForecast) -> String {
    use crate::bundle::tenant::GroupKind as K;
    match g.kind {
        Some(K::Microsoft365) => "m365",
        Some(K::Security) => "security",
        Some(K::MailEnabledSecurity) => "mail-sec",
        Some(K::Distribution) => "dist-list",
        None => "(AD only)",
    }
    .to_string()
}

fn kind_name(g: &GroupForecast) -> String {
    match g.kind {
        Some(k) => serde_json::to_value(k)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        None => "(AD only)".into(),
    }
}

fn new_table(width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .force_no_tty();
    t.set_width(width.unwrap_or(120));
    t
}

fn table(r: &Report, width: Option<u16>) -> String {
    let mut out = String::new();
    out.push_str(&format!("gwb audit of {}", r.snapshot.origin));
    if let Some(id) = &r.snapshot.tenant_id {
        out.push_str(&format!(" (tenant {id}"));
        if let Some(at) = &r.snapshot.collected_at {
            out.push_str(&format!(", collected {at}"));
        }
        out.push(')');
    }
    out.push('\n');
    out.push_str(&format!(
        "Target OU: {}\n",
        r.target_ou.as_deref().unwrap_or("(unknown)")
    ));
    let fl = |b: Option<bool>| match b {
        Some(true) => "on",
        Some(false) => "off",
        None => "unknown",
    };
    out.push_str(&format!(
        "Writeback v1: {}   v2: {}   device writeback: {}   Entra Connect: {}\n",
        fl(r.flags.v1),
        fl(r.flags.v2),
        fl(r.flags.device_writeback),
        r.connect_version.as_deref().unwrap_or("unknown")
    ));
    if !r.evidence.complete {
        let mut parts = Vec::new();
        if !r.evidence.missing.is_empty() {
            parts.push(format!("missing: {}", r.evidence.missing.join(", ")));
        }
        if !r.evidence.incomplete.is_empty() {
            parts.push(format!("incomplete: {}", r.evidence.incomplete.join(", ")));
        }
        out.push_str(&format!("Evidence: {}\n", parts.join("; ")));
    }
    out.push_str("\nVerdicts\n");
    let mut t = new_table(width);
    t.set_header(vec![
        "target", "verdict", "err", "warn", "write", "skip", "keep", "delete",
    ]);
    for (v, f) in r.verdicts.iter().zip(&r.forecast) {
        let c = f.counts();
        let n = |o| c.get(&o).copied().unwrap_or(0).to_string();
        t.add_row(vec![
            v.target.as_str().to_string(),
            v.verdict.as_str().to_string(),
            v.errors.to_string(),
            v.warnings.to_string(),
            n(Outcome::Writeback),
            n(Outcome::Skip),
            n(Outcome::Keep),
            n(Outcome::Delete),
        ]);
    }
    out.push_str(&t.to_string());
    // Findings as blocks, most severe first: readable at any terminal width.
    out.push_str("\n\nFindings\n");
    let wrap_at = usize::from(width.unwrap_or(120)).clamp(60, 160) - 4;
    for f in r
        .findings
        .iter()
        .filter(|f| f.code != Code::ForecastSummary)
    {
        let mut head = format!(
            "{:<7} {}",
            f.severity.as_str().to_uppercase(),
            f.code.as_str()
        );
        if !f.targets.is_empty() {
            let ts: Vec<&str> = f.targets.iter().map(|t| t.as_str()).collect();
            head.push_str(&format!(" [{}]", ts.join(", ")));
        }
        out.push_str(&head);
        out.push('\n');
        for line in wrap(&format!("{}: {}", f.subject, f.message), wrap_at) {
            out.push_str(&format!("    {line}\n"));
        }
        if !f.remediation.is_empty() {
            for (i, line) in wrap(&f.remediation, wrap_at - 2).into_iter().enumerate() {
                out.push_str(if i == 0 { "    → " } else { "      " });
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out.push('\n');
    out.push_str(
        "Forecast (group × target): + create, ~ update, - delete, = keep untouched, · skip\n",
    );
    let mut t = new_table(width);
    let mut header = vec!["group".to_string(), "kind".to_string()];
    header.extend(r.forecast.iter().map(|f| f.target.as_str().to_string()));
    t.set_header(header);
    for (_, name, kind, cells) in matrix(r) {
        let mut row = vec![name, kind];
        row.extend(cells);
        t.add_row(row);
    }
    out.push_str(&t.to_string());
    out.push_str("\n\nDetails per group and member: --format json. Codes: gwb codes.\n");
    out
}

/// Greedy word wrap for the plain-text report.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn md_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', "<br>")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn markdown(r: &Report) -> String {
    let mut o = String::new();
    o.push_str("# Group writeback readiness\n\n");
    o.push_str(&format!(
        "- Snapshot: `{}`\n",
        md_escape(&r.snapshot.origin)
    ));
    if let Some(id) = &r.snapshot.tenant_id {
        o.push_str(&format!("- Tenant: `{}`\n", md_escape(id)));
    }
    o.push_str(&format!(
        "- Target OU: `{}`\n",
        md_escape(r.target_ou.as_deref().unwrap_or("unknown"))
    ));
    o.push_str(&format!(
        "- Evidence complete: {}\n\n",
        if r.evidence.complete { "yes" } else { "no" }
    ));
    o.push_str("## Verdicts\n\n| Target | Verdict | Errors | Warnings | Written back | Skipped | Kept | Deleted |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (v, f) in r.verdicts.iter().zip(&r.forecast) {
        let c = f.counts();
        let n = |x| c.get(&x).copied().unwrap_or(0);
        o.push_str(&format!(
            "| {} | **{}** | {} | {} | {} | {} | {} | {} |\n",
            v.target.as_str(),
            v.verdict.as_str(),
            v.errors,
            v.warnings,
            n(Outcome::Writeback),
            n(Outcome::Skip),
            n(Outcome::Keep),
            n(Outcome::Delete)
        ));
    }
    o.push_str("\n## Findings\n\n| Severity | Code | Subject | Message | Remediation |\n|---|---|---|---|---|\n");
    for f in &r.findings {
        o.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            f.severity.as_str(),
            f.code.as_str(),
            md_escape(&f.subject),
            md_escape(&f.message),
            md_escape(&f.remediation)
        ));
    }
    o.push_str("\n## Forecast\n\n| Group | Kind |");
    for f in &r.forecast {
        o.push_str(&format!(" {} |", f.target.as_str()));
    }
    o.push_str("\n|---|---|");
    for _ in &r.forecast {
        o.push_str("---|");
    }
    o.push('\n');
    for (_, name, kind, cells) in matrix(r) {
        o.push_str(&format!("| {} | {} |", md_escape(&name), kind));
        for c in cells {
            o.push_str(&format!(" {} |", md_escape(&c)));
        }
        o.push('\n');
    }
    o
}

/// Neutralise spreadsheet formulas in hostile values (=, +, -, @ at the start of a cell).
fn csv_cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

pub const CSV_COLUMNS: &[&str] = &[
    "target",
    "id",
    "displayName",
    "kind",
    "outcome",
    "reason",
    "onPremisesGroupType",
    "cn",
    "dn",
    "existingDn",
    "membersTotal",
    "membersResolved",
    "membersUnverified",
    "membersSkipped",
    "detail",
];

fn csv(r: &Report) -> anyhow::Result<Vec<u8>> {
    let mut buf = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = ::csv::WriterBuilder::new()
            .quote_style(::csv::QuoteStyle::Always)
            .terminator(::csv::Terminator::CRLF)
            .from_writer(&mut buf);
        w.write_record(CSV_COLUMNS)?;
        for f in &r.forecast {
            for g in &f.groups {
                let unverified = g
                    .members
                    .resolved
                    .iter()
                    .filter(|m| m.reason == crate::core::MemberReason::MemberUnverified)
                    .count();
                let kind = if g.kind.is_some() {
                    kind_name(g)
                } else {
                    String::new()
                };
                w.write_record([
                    f.target.as_str().to_string(),
                    g.id.clone(),
                    csv_cell(&g.display_name),
                    kind,
                    g.outcome.as_str().to_string(),
                    g.reason.code().to_string(),
                    g.on_premises_group_type
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    csv_cell(g.cn.as_deref().unwrap_or("")),
                    csv_cell(g.dn.as_deref().unwrap_or("")),
                    csv_cell(g.existing_dn.as_deref().unwrap_or("")),
                    g.members.total.to_string(),
                    (g.members.resolved.len() - unverified).to_string(),
                    unverified.to_string(),
                    g.members.skipped.len().to_string(),
                    csv_cell(&g.detail),
                ])?;
            }
        }
        w.flush()?;
    }
    Ok(buf)
}

/// `gwb codes`: every finding and reason code with its meaning.
pub fn codes(format: Format) -> anyhow::Result<String> {
    use crate::core::{GroupReason, MemberReason};
    let mut rows: Vec<(&str, &str, &str)> = Vec::new();
    for c in Code::ALL {
        rows.push(("finding", c.as_str(), c.description()));
    }
    for r in GroupReason::ALL {
        rows.push(("group-reason", r.code(), r.description()));
    }
    for r in MemberReason::ALL {
        rows.push(("member-reason", r.code(), r.description()));
    }
    Ok(match format {
        Format::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|(k, c, d)| serde_json::json!({"kind": k, "code": c, "description": d}))
                .collect();
            serde_json::to_string_pretty(&v)? + "\n"
        }
        Format::Markdown => {
            let mut o = String::from("| Kind | Code | Meaning |\n|---|---|---|\n");
            for (k, c, d) in &rows {
                o.push_str(&format!("| {k} | `{c}` | {} |\n", md_escape(d)));
            }
            o
        }
        _ => {
            let mut t = new_table(Some(120));
            t.set_header(vec!["kind", "code", "meaning"]);
            for (k, c, d) in &rows {
                t.add_row(vec![k.to_string(), c.to_string(), d.to_string()]);
            }
            t.to_string() + "\n"
        }
    })
}
