//! `gwb codes`: every finding code (default severity, targets, evidence, meaning, remediation)
//! and every group and member reason code; `gwb codes CODE` explains one.

use crate::audit::Code;
use crate::audit::severity::deadline;
use crate::cli::Format;
use crate::core::{GroupReason, MemberReason};

struct Entry {
    kind: &'static str,
    code: &'static str,
    severity: String,
    /// (date, severity) when a deadline raises it.
    deadline: Option<(String, &'static str)>,
    targets: String,
    needs: String,
    description: &'static str,
    remediation: &'static str,
}

fn entries() -> Vec<Entry> {
    let mut rows = Vec::new();
    for c in Code::ALL {
        let targets: Vec<&str> = c.scope().iter().map(|t| t.as_str()).collect();
        let sev = c.default_severity().as_str().to_string();
        let dl = deadline(*c).map(|d| (d.from.date().to_string(), d.severity.as_str()));
        rows.push(Entry {
            kind: "finding",
            code: c.as_str(),
            severity: sev,
            deadline: dl,
            targets: if targets.is_empty() {
                "all".into()
            } else {
                targets.join(" ")
            },
            needs: c.needs().join(" "),
            description: c.description(),
            remediation: c.remediation(),
        });
    }
    for r in GroupReason::ALL {
        rows.push(Entry {
            kind: "group-reason",
            code: r.code(),
            severity: String::new(),
            deadline: None,
            targets: String::new(),
            needs: String::new(),
            description: r.description(),
            remediation: "",
        });
    }
    for r in MemberReason::ALL {
        rows.push(Entry {
            kind: "member-reason",
            code: r.code(),
            severity: String::new(),
            deadline: None,
            targets: String::new(),
            needs: String::new(),
            description: r.description(),
            remediation: "",
        });
    }
    rows
}

impl Entry {
    /// "warning", or "warning (error from 2026-10-01)".
    fn severity_text(&self) -> String {
        match &self.deadline {
            Some((date, sev)) => format!("{} ({sev} from {date})", self.severity),
            None => self.severity.clone(),
        }
    }
}

use crate::escape::markdown as md_cell;

/// Render the code list, or one code's explanation.
pub fn render(code: Option<&str>, format: Format) -> anyhow::Result<String> {
    let mut rows = entries();
    if let Some(c) = code {
        rows.retain(|e| e.code.eq_ignore_ascii_case(c.trim()));
        if rows.is_empty() {
            anyhow::bail!("unknown code {c:?}: `gwb codes` lists every code");
        }
    }
    let json = |e: &Entry| {
        let mut v =
            serde_json::json!({"kind": e.kind, "code": e.code, "description": e.description});
        if e.kind == "finding" {
            v["defaultSeverity"] = e.severity.clone().into();
            if let Some((date, sev)) = &e.deadline {
                v["severityFrom"] = serde_json::json!({"date": date, "severity": sev});
            }
            v["targets"] = e.targets.clone().into();
            v["needs"] = e.needs.clone().into();
            v["remediation"] = e.remediation.into();
        }
        v
    };
    Ok(match format {
        Format::Json => {
            let v: Vec<serde_json::Value> = rows.iter().map(json).collect();
            if code.is_some() && v.len() == 1 {
                serde_json::to_string_pretty(&v[0])? + "\n"
            } else {
                serde_json::to_string_pretty(&v)? + "\n"
            }
        }
        Format::Markdown => {
            let mut o = String::from(
                "| Kind | Code | Default severity | Targets | Needs | Meaning | Remediation |\n|---|---|---|---|---|---|---|\n",
            );
            for e in &rows {
                o.push_str(&format!(
                    "| {} | `{}` | {} | {} | {} | {} | {} |\n",
                    e.kind,
                    e.code,
                    e.severity_text(),
                    e.targets,
                    e.needs,
                    md_cell(e.description),
                    md_cell(e.remediation)
                ));
            }
            o
        }
        Format::Csv => {
            let mut buf = Vec::new();
            {
                let mut w = ::csv::WriterBuilder::new()
                    .quote_style(::csv::QuoteStyle::Always)
                    .terminator(::csv::Terminator::CRLF)
                    .from_writer(&mut buf);
                w.write_record([
                    "kind",
                    "code",
                    "defaultSeverity",
                    "targets",
                    "needs",
                    "description",
                    "remediation",
                ])?;
                for e in &rows {
                    w.write_record([
                        e.kind,
                        e.code,
                        &e.severity_text(),
                        &e.targets,
                        &e.needs,
                        e.description,
                        e.remediation,
                    ])?;
                }
                w.flush()?;
            }
            String::from_utf8(buf)?
        }
        Format::Table if code.is_some() => {
            let e = &rows[0];
            let mut o = format!("{} ({})\n", e.code, e.kind);
            if e.kind == "finding" {
                o.push_str(&format!("  default severity: {}\n", e.severity_text()));
                o.push_str(&format!("  targets:          {}\n", e.targets));
                if !e.needs.is_empty() {
                    o.push_str(&format!("  needs evidence:   {}\n", e.needs));
                }
            }
            o.push_str(&format!("\n  {}\n", e.description));
            if !e.remediation.is_empty() {
                o.push_str(&format!("\n  Remediation: {}\n", e.remediation));
            }
            o
        }
        Format::Table => {
            let mut t = comfy_table::Table::new();
            t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
                .force_no_tty()
                .set_width(crate::term::stdout_width());
            t.set_header(vec!["kind", "code", "severity", "meaning"]);
            for e in &rows {
                t.add_row(vec![
                    e.kind.to_string(),
                    e.code.to_string(),
                    e.severity_text(),
                    e.description.to_string(),
                ]);
            }
            t.to_string() + "\n\nOne code in full (with its remediation): gwb codes CODE\n"
        }
        other => anyhow::bail!(
            "gwb codes prints table, json, csv or markdown, not {}",
            other.name()
        ),
    })
}
