//! Markdown for pull-request comments and `$GITHUB_STEP_SUMMARY`: the gate result first,
//! verdicts, findings grouped with a targets column, the forecast in a `<details>` block; never
//! more than [`LIMIT`] characters (GitHub refuses comments over 65,536), long lists cut with
//! counts.

use super::{group_findings, matrix, outcome_cell};
use crate::audit::gate::GateResult;
use crate::audit::{Code, Report};

/// The most characters the Markdown report has.
pub const LIMIT: usize = 65_000;
/// Kept back for the closing lines once a list is cut.
const RESERVE: usize = 1_500;

pub(crate) use crate::escape::markdown as escape;

/// Append lines while they fit in the budget; say how many were cut.
fn push_rows(o: &mut String, rows: impl ExactSizeIterator<Item = String>, what: &str) {
    let total = rows.len();
    for (i, row) in rows.enumerate() {
        if o.chars().count() + row.chars().count() + RESERVE > LIMIT {
            o.push_str(&format!(
                "\n*… {} more {what} cut to stay under GitHub's comment limit; the full list is in the JSON or HTML report.*\n",
                total - i
            ));
            return;
        }
        o.push_str(&row);
    }
}

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    // ✅ and "passed" only when every gating target is ready on its merits.
    let (icon, word) = match r.gate.result {
        GateResult::Passed if r.gate.truly_passed() => ("✅", "passed"),
        GateResult::Passed => ("⚠️", r.gate.headline),
        GateResult::Failed => ("❌", "FAILED"),
        GateResult::Incomplete => ("⚠️", "INCOMPLETE"),
    };
    o.push_str(&format!(
        "## {icon} gwb audit: gate {word} (exit {})\n\n",
        r.gate.exit_code
    ));
    for t in &r.gate.per_target {
        let (icon, note) = match t.mark() {
            "pass" => ("✅", String::new()),
            "FAIL" => ("❌", String::new()),
            m => ("⚠️", format!(" ({m})")),
        };
        o.push_str(&format!(
            "- {icon} **{}**: {}{note}\n",
            t.target.as_str(),
            escape(&t.summary)
        ));
    }
    for t in &r.gate.not_gated {
        if let Some(v) = r.verdicts.iter().find(|v| v.target == *t) {
            o.push_str(&format!(
                "- ➖ {}: {} (not gated)\n",
                t.as_str(),
                v.verdict.as_str()
            ));
        }
    }
    o.push_str(&format!(
        "\nFails on: {}{}{}\n\n",
        r.gate.fail_on,
        if r.gate.allow_incomplete {
            "; incomplete allowed"
        } else {
            "; incomplete evidence fails"
        },
        if r.gate.require_complete {
            "; all evidence required"
        } else {
            ""
        }
    ));
    o.push_str("### Verdicts\n\n| Target | Verdict | Gate | Errors | Warnings | Waived | Written back | Skipped | Kept | Deleted |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (v, f) in r.verdicts.iter().zip(&r.forecast) {
        let [w, s, k, d] = super::outcome_counts(f);
        o.push_str(&format!(
            "| {} | **{}** | {} | {} | {} | {} | {w} | {s} | {k} | {d} |\n",
            v.target.as_str(),
            v.verdict.as_str(),
            if v.gated { "gated" } else { "not gated" },
            v.errors,
            v.warnings,
            v.waived
        ));
    }
    o.push_str("\n### Findings\n\n| Severity | Code | Targets | Count | First subject | Remediation |\n|---|---|---|---:|---|---|\n");
    let groups: Vec<_> = group_findings(&r.findings)
        .into_iter()
        .filter(|g| g.code != Code::ForecastSummary)
        .collect();
    let rows: Vec<String> = groups
        .iter()
        .map(|g| {
            let first = g.items[0];
            format!(
                "| {} | `{}` | {} | {} | {} | {} |\n",
                if g.waived {
                    "waived".to_string()
                } else {
                    g.severity.as_str().to_string()
                },
                g.code.as_str(),
                g.targets_text(),
                g.items.len(),
                escape(&format!("{}: {}", first.subject, first.message)),
                escape(&first.remediation)
            )
        })
        .collect();
    push_rows(&mut o, rows.into_iter(), "finding groups");
    // Every finding, in a collapsed block.
    o.push_str("\n<details><summary>All findings, one per subject</summary>\n\n| Severity | Code | Targets | Subject | Message | Waiver |\n|---|---|---|---|---|---|\n");
    let rows: Vec<String> = r
        .findings
        .iter()
        .filter(|f| f.code != Code::ForecastSummary)
        .map(|f| {
            let targets: Vec<&str> = f.targets.iter().map(|t| t.as_str()).collect();
            format!(
                "| {} | `{}` | {} | {} | {} | {} |\n",
                f.severity.as_str(),
                f.code.as_str(),
                if targets.is_empty() {
                    "all".to_string()
                } else {
                    targets.join(", ")
                },
                escape(&f.subject),
                escape(&f.message),
                f.waived
                    .as_ref()
                    .map(|w| escape(&format!(
                        "until {} by {}: {}",
                        w.expires, w.approved_by, w.reason
                    )))
                    .unwrap_or_default()
            )
        })
        .collect();
    push_rows(&mut o, rows.into_iter(), "findings");
    o.push_str("\n</details>\n");
    // The forecast rows that matter.
    let all = matrix(r);
    let total = all.len();
    let rows: Vec<_> = all.into_iter().filter(|row| row.matters()).collect();
    o.push_str(&format!(
        "\n<details><summary>Forecast: {} of {total} groups whose outcome matters</summary>\n\n| Group | Kind |",
        rows.len()
    ));
    for f in &r.forecast {
        o.push_str(&format!(" {} |", f.target.as_str()));
    }
    o.push_str("\n|---|---|");
    for _ in &r.forecast {
        o.push_str("---|");
    }
    o.push('\n');
    let lines: Vec<String> = rows
        .iter()
        .map(|row| {
            let mut l = format!("| {} | {} |", escape(row.name), row.kind);
            for c in &row.cells {
                l.push_str(&format!(
                    " {} |",
                    escape(&c.map(outcome_cell).unwrap_or_default())
                ));
            }
            l.push('\n');
            l
        })
        .collect();
    push_rows(&mut o, lines.into_iter(), "groups");
    o.push_str("\n</details>\n\n");
    o.push_str(&format!(
        "<sub>Snapshot `{}`{}; target OU `{}`; evidence {}; gwb {}; as of {}.</sub>\n",
        escape(&r.snapshot.origin),
        r.snapshot
            .tenant_id
            .as_ref()
            .map(|t| format!(", tenant `{}`", escape(t)))
            .unwrap_or_default(),
        escape(r.target_ou.as_deref().unwrap_or("unknown")),
        if r.evidence.complete {
            "complete".to_string()
        } else {
            let mut v = r.evidence.missing.clone();
            v.extend(r.evidence.incomplete.iter().cloned());
            format!("missing {}", escape(&v.join(", ")))
        },
        r.gwb_version,
        escape(&r.as_of)
    ));
    o
}
