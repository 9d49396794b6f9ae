//! The table report for people: the gate, the verdicts, findings grouped by code, and the
//! forecast rows whose outcome matters (`--all` for every group), laid out at the terminal's
//! width without breaking a code mid-word; colour only when asked (a terminal, no NO_COLOR).

use super::{FindingGroup, RenderOptions, Row, compact_cell, group_findings, matrix};
use crate::audit::{Code, Report, Severity, Verdict};
use crate::core::{GroupForecast, Outcome};

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn severity(&self, s: Severity, text: &str) -> String {
        self.wrap(
            match s {
                Severity::Error => "1;31",
                Severity::Warning => "33",
                Severity::Info => "36",
            },
            text,
        )
    }
    fn verdict(&self, v: Verdict, text: &str) -> String {
        self.wrap(
            match v {
                Verdict::Ready => "32",
                Verdict::ReadyWithWarnings => "33",
                Verdict::Incomplete => "1;33",
                Verdict::Blocked => "1;31",
                Verdict::Unavailable => "2",
            },
            text,
        )
    }
    fn outcome(&self, g: &GroupForecast, text: &str) -> String {
        self.wrap(
            match g.outcome {
                Outcome::Writeback if g.existing_dn.is_some() => "36",
                Outcome::Writeback => "32",
                Outcome::Delete => "31",
                Outcome::Keep => "33",
                Outcome::Skip => "2",
            },
            text,
        )
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
}

/// Display width in terminal columns (one per char; good enough for names and codes).
fn width_of(s: &str) -> usize {
    s.chars().count()
}

fn pad(s: &str, painted: String, w: usize) -> String {
    let n = width_of(s);
    format!("{painted}{}", " ".repeat(w.saturating_sub(n)))
}

fn truncate(s: &str, w: usize) -> String {
    if width_of(s) <= w {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(w.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Greedy word wrap: breaks only at spaces; a word longer than the line stays whole.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && width_of(&line) + 1 + width_of(word) > width {
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

/// Lay out plain rows in aligned columns (cells are never broken).
fn grid(header: &[&str], rows: &[Vec<(String, String)>]) -> String {
    let n = header.len();
    let mut w: Vec<usize> = header.iter().map(|h| width_of(h)).collect();
    for r in rows {
        for (i, (plain, _)) in r.iter().enumerate().take(n) {
            w[i] = w[i].max(width_of(plain));
        }
    }
    let mut out = String::new();
    let head: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| format!("{h:<width$}", width = w[i]))
        .collect();
    out.push_str(head.join("  ").trim_end());
    out.push('\n');
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, (plain, painted))| pad(plain, painted.clone(), w[i]))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn plain(s: impl Into<String>) -> (String, String) {
    let s = s.into();
    (s.clone(), s)
}

/// How many subjects a grouped finding lists before "and N more".
const SUBJECTS_SHOWN: usize = 4;

fn render_group(o: &mut String, g: &FindingGroup, p: &Paint, width: usize) {
    let label = if g.waived {
        "WAIVED".to_string()
    } else {
        g.severity.as_str().to_uppercase()
    };
    let mut head = format!(
        "{} {}",
        p.severity(g.severity, &format!("{label:<7}")),
        p.bold(g.code.as_str())
    );
    let mut head_w = 8 + g.code.as_str().len();
    if !g.targets.is_empty() {
        let t = format!(" [{}]", g.targets_text());
        head_w += t.chars().count();
        head.push_str(&t);
    }
    if g.items.len() > 1 {
        let t = format!(" ×{}", g.items.len());
        head_w += t.chars().count();
        head.push_str(&t);
    }
    // Information is one line per code: the first subject, cut to the width.
    if g.severity == Severity::Info && !g.waived {
        if let Some(f) = g.items.first() {
            let text = format!("{}: {}", f.subject, f.message);
            let room = width.saturating_sub(head_w + 2);
            if room >= 12 {
                head.push_str(": ");
                head.push_str(&truncate(&text, room));
            }
        }
        o.push_str(&head);
        o.push('\n');
        return;
    }
    o.push_str(&head);
    o.push('\n');
    let same_message = g.items.len() > 1 && g.items.iter().all(|f| f.message == g.items[0].message);
    let shown = if same_message { 3 } else { SUBJECTS_SHOWN }.min(g.items.len());
    if same_message {
        // One message for every subject: say it once, then list the subjects.
        for line in wrap(&g.items[0].message, width.saturating_sub(4)) {
            o.push_str(&format!("    {line}\n"));
        }
    }
    for f in g.items.iter().take(shown) {
        let text = if same_message {
            format!("- {}", f.subject)
        } else if f.subject.is_empty() {
            f.message.clone()
        } else {
            format!("{}: {}", f.subject, f.message)
        };
        if same_message {
            o.push_str(&format!(
                "    {}\n",
                truncate(&text, width.saturating_sub(4))
            ));
        } else {
            for line in wrap(&text, width.saturating_sub(4)) {
                o.push_str(&format!("    {line}\n"));
            }
        }
        if let Some(w) = &f.waived {
            for line in wrap(
                &format!(
                    "waived until {} by {}: {}",
                    w.expires, w.approved_by, w.reason
                ),
                width.saturating_sub(6),
            ) {
                o.push_str(&format!("      {line}\n"));
            }
        }
    }
    if g.items.len() > shown {
        o.push_str(&format!(
            "    … and {} more (--format json or html for all)\n",
            g.items.len() - shown
        ));
    }
    let fix = g
        .items
        .first()
        .map(|f| f.remediation.as_str())
        .unwrap_or("");
    if !fix.is_empty() && g.severity > Severity::Info && !g.waived {
        // At most two lines here; the JSON, HTML and `gwb codes CODE` have it in full.
        let lines = wrap(fix, width.saturating_sub(8));
        for (i, line) in lines.iter().take(2).enumerate() {
            o.push_str(if i == 0 { "    → " } else { "      " });
            o.push_str(line);
            if i == 1 && lines.len() > 2 {
                o.push_str(" …");
            }
            o.push('\n');
        }
    }
}

fn forecast_rows(o: &mut String, r: &Report, rows: &[Row], p: &Paint, width: usize) {
    let targets: Vec<&str> = r.forecast.iter().map(|f| f.target.as_str()).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.cells
                .iter()
                .map(|c| c.map(compact_cell).unwrap_or_default())
                .collect()
        })
        .collect();
    let mut col_w: Vec<usize> = targets.iter().map(|t| width_of(t)).collect();
    for cs in &cells {
        for (i, c) in cs.iter().enumerate() {
            col_w[i] = col_w[i].max(width_of(c));
        }
    }
    let kind_w = rows
        .iter()
        .map(|r| width_of(r.kind))
        .max()
        .unwrap_or(4)
        .max(4);
    let fixed: usize = col_w.iter().sum::<usize>() + 2 * col_w.len() + kind_w + 2;
    let name_max = rows
        .iter()
        .map(|r| width_of(r.name))
        .max()
        .unwrap_or(5)
        .max(5);
    if fixed + 16 <= width {
        // A grid: names truncated to what is left, every cell whole.
        let name_w = name_max.min(width - fixed);
        let mut head = format!("{:<name_w$}  {:<kind_w$}", "group", "kind");
        for (t, w) in targets.iter().zip(&col_w) {
            head.push_str(&format!("  {t:<w$}"));
        }
        o.push_str(head.trim_end());
        o.push('\n');
        for (row, cs) in rows.iter().zip(&cells) {
            let name = truncate(row.name, name_w);
            let mut line = format!(
                "{}  {:<kind_w$}",
                pad(&name, name.clone(), name_w),
                row.kind
            );
            for ((c, g), w) in cs.iter().zip(&row.cells).zip(&col_w) {
                let painted = match g {
                    Some(g) => p.outcome(g, c),
                    None => String::new(),
                };
                line.push_str(&format!("  {}", pad(c, painted, *w)));
            }
            o.push_str(line.trim_end());
            o.push('\n');
        }
    } else {
        // Too narrow for a grid: the name on its own line, then `target: outcome` units that
        // wrap as wholes.
        for (row, cs) in rows.iter().zip(&cells) {
            let room = width.saturating_sub(row.kind.chars().count() + 3);
            o.push_str(&format!("{} ({})\n", truncate(row.name, room), row.kind));
            let mut line = String::from("   ");
            let mut line_w = 3;
            for ((t, c), g) in targets.iter().zip(cs).zip(&row.cells) {
                let Some(g) = g else { continue };
                let unit = format!("{t}: {c}");
                let uw = width_of(&unit);
                if line_w > 3 && line_w + 3 + uw > width {
                    o.push_str(line.trim_end());
                    o.push('\n');
                    line = String::from("   ");
                    line_w = 3;
                }
                line.push_str(&format!(" {t}: {}  ", p.outcome(g, c)));
                line_w += uw + 3;
            }
            o.push_str(line.trim_end());
            o.push('\n');
        }
    }
}

pub fn render(r: &Report, opts: &RenderOptions) -> String {
    let p = Paint(opts.color);
    let width = usize::from(opts.width).max(40);
    let mut o = String::new();
    let mut title = format!("gwb audit of {}", r.snapshot.origin);
    if let Some(id) = &r.snapshot.tenant_id {
        title.push_str(&format!(" (tenant {id}"));
        if let Some(at) = &r.snapshot.collected_at {
            title.push_str(&format!(", collected {at}"));
        }
        title.push(')');
    }
    for line in wrap(&title, width) {
        o.push_str(&p.bold(&line));
        o.push('\n');
    }
    for line in wrap(
        &format!(
            "Target OU: {}",
            r.target_ou.as_deref().unwrap_or("(unknown)")
        ),
        width,
    ) {
        o.push_str(&line);
        o.push('\n');
    }
    let fl = |b: Option<bool>| match b {
        Some(true) => "on",
        Some(false) => "off",
        None => "unknown",
    };
    // The switches and, when the evidence is incomplete, what is missing: one line where the
    // width allows (the table is read on one screen or three).
    let mut status = format!(
        "Writeback v1: {}  v2: {}  device writeback: {}  Entra Connect: {}",
        fl(r.flags.v1),
        fl(r.flags.v2),
        fl(r.flags.device_writeback),
        r.connect_version.as_deref().unwrap_or("unknown")
    );
    if !r.evidence.complete {
        let mut parts = Vec::new();
        if !r.evidence.missing.is_empty() {
            parts.push(format!("missing {}", r.evidence.missing.join(", ")));
        }
        if !r.evidence.incomplete.is_empty() {
            parts.push(format!("incomplete {}", r.evidence.incomplete.join(", ")));
        }
        status.push_str(&format!("  Evidence: {}", parts.join("; ")));
    }
    for line in wrap(&status, width) {
        o.push_str(&line);
        o.push('\n');
    }
    o.push('\n');
    // Verdicts.
    let rows: Vec<Vec<(String, String)>> = r
        .verdicts
        .iter()
        .zip(&r.forecast)
        .map(|(v, f)| {
            let [w, s, k, d] = super::outcome_counts(f);
            vec![
                plain(v.target.as_str()),
                (
                    v.verdict.as_str().to_string(),
                    p.verdict(v.verdict, v.verdict.as_str()),
                ),
                plain(v.errors.to_string()),
                plain(v.warnings.to_string()),
                plain(v.waived.to_string()),
                plain(w.to_string()),
                plain(s.to_string()),
                plain(k.to_string()),
                plain(d.to_string()),
            ]
        })
        .collect();
    o.push_str(&p.bold("Verdicts"));
    o.push('\n');
    o.push_str(&grid(
        &[
            "target", "verdict", "err", "warn", "waived", "write", "skip", "keep", "delete",
        ],
        &rows,
    ));
    // Findings, grouped by code.
    o.push('\n');
    o.push_str(&p.bold("Findings"));
    o.push('\n');
    let groups = group_findings(&r.findings);
    let mut infos = Vec::new();
    for g in groups.iter().filter(|g| g.code != Code::ForecastSummary) {
        if g.severity == Severity::Info && !g.waived {
            infos.push(if g.items.len() > 1 {
                format!("{} ×{}", g.code.as_str(), g.items.len())
            } else {
                g.code.as_str().to_string()
            });
            continue;
        }
        render_group(&mut o, g, &p, width);
    }
    if !infos.is_empty() {
        // Information in one paragraph of codes; the messages are in the JSON and HTML.
        let lines = wrap(&infos.join(", "), width.saturating_sub(8));
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                o.push_str(&p.severity(Severity::Info, &format!("{:<7}", "INFO")));
                o.push(' ');
            } else {
                o.push_str("        ");
            }
            o.push_str(line);
            o.push('\n');
        }
    }
    // Forecast.
    let all_rows = matrix(r);
    let total = all_rows.len();
    let rows: Vec<Row> = all_rows
        .into_iter()
        .filter(|row| opts.all || row.matters())
        .collect();
    o.push('\n');
    let scope = if opts.all || rows.len() == total {
        format!("all {total} groups")
    } else {
        format!(
            "{} of {total} groups whose outcome matters; --all for every group",
            rows.len()
        )
    };
    for line in wrap(
        &format!(
            "Forecast ({scope}): + create, ~ update, - delete, = keep untouched, · skip, — not supported by the target, ? members not collected"
        ),
        width,
    ) {
        o.push_str(&p.bold(&line));
        o.push('\n');
    }
    forecast_rows(&mut o, r, &rows, &p, width);
    // Closing summary: one line per gating target.
    o.push('\n');
    for (i, line) in wrap(
        "Gate (details: --format html or json; a code explained: gwb codes CODE)",
        width,
    )
    .iter()
    .enumerate()
    {
        o.push_str(&if i == 0 { p.bold(line) } else { line.clone() });
        o.push('\n');
    }
    for t in &r.gate.per_target {
        let line = format!("  {}  {}: {}", t.mark(), t.target.as_str(), t.summary);
        o.push_str(&p.verdict(t.verdict, &line));
        o.push('\n');
    }
    for t in &r.gate.not_gated {
        if let Some(v) = r.verdicts.iter().find(|v| v.target == *t) {
            o.push_str(&format!(
                "  ----  {}: {} (not gated)\n",
                t.as_str(),
                v.verdict.as_str()
            ));
        }
    }
    o
}
