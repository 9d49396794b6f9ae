//! Text output of `gwb tenant plan|apply` (JSON is the serialized plan or report), the
//! progress bar of the writes, and the one place Graph's messages pass through before they
//! are shown.

use std::fmt::Write as _;

use serde_json::Value;

use super::apply::ApplyReport;
use super::{Plan, written_back};

/// A message Graph sent, made safe to show: every server text gwb prints or stores passes
/// through the project's one redaction function.
pub fn graph_message(text: &str) -> String {
    crate::redact::redact_string(text)
}

/// A progress bar on stderr (hidden when stderr is not a terminal or output is quiet).
pub fn progress(len: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || !tracing::enabled!(tracing::Level::WARN) {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message("writing");
    pb
}

fn short(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", short(v))).collect();
            parts.join(" ")
        }
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// The plan for people.
pub fn plan_text(plan: &Plan, out: Option<&std::path::Path>) -> String {
    let mut s = String::new();
    let title = match &plan.undo_of {
        Some(u) => format!("Undo plan for {u}"),
        None => format!("Tenant plan from {}", plan.source.origin),
    };
    let _ = writeln!(s, "{title} ({})", plan.format);
    let _ = writeln!(s);
    let _ = writeln!(s, "Changes ({}):", plan.changes.len());
    if plan.changes.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for c in &plan.changes {
        let what = match (c.kind.as_str(), c.request.method.as_str()) {
            ("setting", "POST") => {
                " (created from its template, every other default kept)".to_string()
            }
            ("setting", "PATCH") => " (the whole values array, every other value kept)".to_string(),
            ("setting", "DELETE") => " (the setting is deleted)".to_string(),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "  {:<7} {} ({}): {}: {} -> {}{what}",
            c.kind,
            c.display_name,
            c.id.as_deref().unwrap_or("new"),
            c.property,
            short(&c.before),
            short(&c.after)
        );
    }
    if !plan.refused.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Refused ({}):", plan.refused.len());
        for r in &plan.refused {
            let name = r.display_name.as_deref().unwrap_or("?");
            let _ = writeln!(s, "  {name} ({}): {}: {}", r.id, r.reason, r.detail);
        }
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Notes:");
        for n in &plan.notes {
            let _ = writeln!(s, "  {}: {}", n.code, n.message);
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Forecast, groups written back per target (before -> after):"
    );
    for b in &plan.forecast_before {
        let _ = writeln!(
            s,
            "  {:<11} {:>5} -> {}",
            b.target,
            written_back(&plan.forecast_before, &b.target),
            written_back(&plan.forecast_after, &b.target)
        );
    }
    if !plan.outcome_changes.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Groups that change outcome ({}):",
            plan.outcome_changes.len()
        );
        for o in &plan.outcome_changes {
            let _ = writeln!(
                s,
                "  {:<11} {} ({}): {} -> {} ({})",
                o.target, o.display_name, o.id, o.before, o.after, o.reason_after
            );
        }
    }
    let _ = writeln!(s);
    let next = match (out, &plan.undo_of) {
        (_, Some(_)) => String::new(),
        (Some(p), None) => format!(" Review it, then: gwb tenant apply {}", p.display()),
        (None, None) => " Save it with --out FILE to apply it.".to_string(),
    };
    let _ = writeln!(
        s,
        "{} changes, {} refused, {} already in the wanted state.{next}",
        plan.changes.len(),
        plan.refused.len(),
        plan.unchanged
    );
    s
}

/// The apply report for people.
pub fn apply_text(r: &ApplyReport) -> String {
    let mut s = String::new();
    for i in &r.results {
        let who = format!("{} ({})", i.display_name, i.id.as_deref().unwrap_or("new"));
        match i.status.as_str() {
            "failed" => {
                let _ = writeln!(
                    s,
                    "  failed   {who}: {}{}{}",
                    i.http_status
                        .map(|h| format!("HTTP {h} "))
                        .unwrap_or_default(),
                    i.code
                        .as_deref()
                        .map(|c| format!("{c}: "))
                        .unwrap_or_default(),
                    i.message.as_deref().unwrap_or("")
                );
            }
            st => {
                let _ = writeln!(s, "  {st:<8} {who}: {}", i.property);
            }
        }
    }
    if let Some(u) = &r.undo_file {
        let _ = writeln!(s, "Undo file: {u} (gwb tenant apply --undo {u})");
    }
    let verb = if r.dry_run { "would change" } else { "changed" };
    let planned = r.results.iter().filter(|i| i.status == "planned").count();
    let _ = writeln!(
        s,
        "{} {verb}, {} already in place, {} failed{}.",
        if r.dry_run { planned } else { r.changed },
        r.already,
        r.failed,
        if r.failed > 0 {
            "; fix the causes and run the same apply again: changes in place are skipped"
        } else {
            ""
        }
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_server_messages_are_masked() {
        let m = graph_message("token eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl was rejected");
        assert_eq!(m, "token [redacted] was rejected");
        assert_eq!(
            graph_message("Insufficient privileges"),
            "Insufficient privileges"
        );
    }
}
