//! CSV: the forecast (one row per group and target) and the findings (one row per finding),
//! UTF-8 with BOM for Excel and Import-Csv, RFC 4180 quoting, formulas neutralised.

use super::kind_name;
use crate::audit::Report;

pub(crate) use crate::escape::csv_cell as cell;

pub(crate) fn writer(buf: &mut Vec<u8>) -> ::csv::Writer<&mut Vec<u8>> {
    ::csv::WriterBuilder::new()
        .quote_style(::csv::QuoteStyle::Always)
        .terminator(::csv::Terminator::CRLF)
        .from_writer(buf)
}

pub const CSV_COLUMNS: &[&str] = &[
    "target",
    "id",
    "displayName",
    "kind",
    "outcome",
    "action",
    "reason",
    "onPremisesGroupType",
    "cn",
    "dn",
    "existingDn",
    "membersCollected",
    "membersTotal",
    "membersResolved",
    "membersUnverified",
    "membersSkipped",
    "detail",
];

/// The forecast. Where members were not collected, the member counts are empty, not 0.
/// `action` is what `gwb plan` would do for target gwb (create, update, rename, delete, keep,
/// skip, noop); empty for the other targets and when no plan can be made (no AD or target OU).
pub fn forecast_csv(
    r: &Report,
    actions: Option<&std::collections::HashMap<String, &'static str>>,
) -> anyhow::Result<Vec<u8>> {
    let mut buf = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = writer(&mut buf);
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
                let counts = if g.members.collected {
                    [
                        g.members.total.to_string(),
                        (g.members.resolved.len() - unverified).to_string(),
                        unverified.to_string(),
                        g.members.skipped.len().to_string(),
                    ]
                } else {
                    Default::default()
                };
                let [total, resolved, unverified, skipped] = counts;
                w.write_record([
                    f.target.as_str().to_string(),
                    g.id.clone(),
                    cell(&g.display_name),
                    kind,
                    g.outcome.as_str().to_string(),
                    if f.target == crate::core::Target::Gwb {
                        actions
                            .and_then(|a| a.get(&g.id.to_ascii_lowercase()))
                            .map(|a| a.to_string())
                            .unwrap_or_default()
                    } else {
                        String::new()
                    },
                    g.reason.code().to_string(),
                    g.on_premises_group_type
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    cell(g.cn.as_deref().unwrap_or("")),
                    cell(g.dn.as_deref().unwrap_or("")),
                    cell(g.existing_dn.as_deref().unwrap_or("")),
                    if g.members.collected { "true" } else { "false" }.to_string(),
                    total,
                    resolved,
                    unverified,
                    skipped,
                    cell(&g.detail),
                ])?;
            }
        }
        w.flush()?;
    }
    Ok(buf)
}

pub const FINDINGS_COLUMNS: &[&str] = &[
    "severity",
    "code",
    "subject",
    "targets",
    "message",
    "evidence",
    "remediation",
    "waived",
    "waiverReason",
    "waiverExpires",
    "waiverApprovedBy",
];

/// The findings, one row each (`--output-dir` writes it as audit-findings.csv).
pub fn findings_csv(r: &Report) -> anyhow::Result<Vec<u8>> {
    let mut buf = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = writer(&mut buf);
        w.write_record(FINDINGS_COLUMNS)?;
        for f in &r.findings {
            let targets: Vec<&str> = f.targets.iter().map(|t| t.as_str()).collect();
            let (waived, reason, expires, by) = match &f.waived {
                Some(w) => (
                    "true",
                    w.reason.as_str(),
                    w.expires.as_str(),
                    w.approved_by.as_str(),
                ),
                None => ("false", "", "", ""),
            };
            w.write_record([
                f.severity.as_str().to_string(),
                f.code.as_str().to_string(),
                cell(&f.subject),
                if targets.is_empty() {
                    "all".to_string()
                } else {
                    targets.join(" ")
                },
                cell(&f.message),
                cell(&f.evidence),
                cell(&f.remediation),
                waived.to_string(),
                cell(reason),
                cell(expires),
                cell(by),
            ])?;
        }
        w.flush()?;
    }
    Ok(buf)
}
