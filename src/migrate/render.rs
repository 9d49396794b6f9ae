//! The formats of a migration plan: table, json (`gwb-migration/1`), markdown, csv and html.

use std::fmt::Write as _;

use super::MigrateFormat;
use super::model::{Consequence, MigratedGroup, Migration, Side};
use crate::report::html::esc;

/// Render `m` in `format`; `all` lists groups whose handling does not change too.
pub fn render(m: &Migration, format: MigrateFormat, all: bool) -> anyhow::Result<String> {
    Ok(match format {
        MigrateFormat::Json => {
            let mut s = crate::par_json::parallel(|| serde_json::to_string_pretty(m))?;
            s.push('\n');
            s
        }
        MigrateFormat::Table => table(m, all),
        MigrateFormat::Markdown => markdown(m, all),
        MigrateFormat::Csv => csv(m),
        MigrateFormat::Html => html(m),
    })
}

fn codes(g: &MigratedGroup) -> String {
    g.consequences
        .iter()
        .map(|c| c.code.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn where_(s: &Side) -> String {
    match (&s.dn, s.outcome) {
        (Some(dn), _) => format!("{} {}", s.outcome.as_str(), dn),
        (None, o) => o.as_str().to_string(),
    }
}

fn closing(m: &Migration) -> String {
    let counts: Vec<String> = m
        .summary
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| format!("{n} {}", c.as_str()))
        .collect();
    let mut s = format!(
        "Migration {} -> {}: {} group(s): {}.\n",
        m.from.as_str(),
        m.to.as_str(),
        m.groups.len(),
        if counts.is_empty() {
            "none".to_string()
        } else {
            counts.join(", ")
        }
    );
    if m.gate.is_empty() {
        s.push_str("Gate: passed.\n");
    } else {
        let _ = writeln!(
            s,
            "Gate: FAILED: {} (review, then --accept {} if intended).",
            m.gate
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            m.gate
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    match (&m.preparation, &m.preparation_note) {
        (Some(p), _) => {
            let _ = writeln!(
                s,
                "Preparation: {} change(s) in {} (save with --out-preparation, apply with gwb apply).",
                p.changes().count(),
                p.target_ou.dn
            );
        }
        (None, Some(n)) => {
            let _ = writeln!(s, "Preparation: none ({n}).");
        }
        _ => {}
    }
    s
}

fn table(m: &Migration, all: bool) -> String {
    let mut s = String::new();
    // Gated groups first, so a duplicate or an orphan is the first thing read.
    let mut rows: Vec<&MigratedGroup> = m.groups.iter().filter(|g| all || g.changes()).collect();
    rows.sort_by_key(|g| !g.consequences.iter().any(|c| c.code.gates()));
    for g in rows {
        let _ = writeln!(
            s,
            "{:<32} {} ({}): {} {} -> {} {}",
            codes(g),
            g.display_name,
            g.id,
            g.before.writer.as_str(),
            where_(&g.before),
            g.after.writer.as_str(),
            where_(&g.after),
        );
    }
    if let Some(cs) = &m.cloud_sync {
        let _ = writeln!(
            s,
            "Cloud Sync assumed: cn mapping {}, container {}, on-premises user membership {}.",
            cs.cn_mapping,
            cs.container,
            if cs.membership_to_on_premises_users {
                "on"
            } else {
                "off"
            }
        );
    }
    s.push_str(&closing(m));
    s.push_str("Each consequence's reason: --format markdown, json or html.\n");
    s
}

use crate::escape::markdown as md;

fn markdown(m: &Migration, all: bool) -> String {
    let mut s = format!(
        "# Migration plan: {} to {}\n\n",
        m.from.as_str(),
        m.to.as_str()
    );
    s.push_str("| Consequence | Groups |\n|---|---:|\n");
    for (c, n) in &m.summary {
        if *n > 0 {
            let _ = writeln!(s, "| `{}` | {n} |", c.as_str());
        }
    }
    s.push_str("\n## Groups\n\n| Group | Before | After | Consequences |\n|---|---|---|---|\n");
    for g in m.groups.iter().filter(|g| all || g.changes()) {
        let _ = writeln!(
            s,
            "| {} (`{}`) | {} | {} | {} |",
            md(&g.display_name),
            g.id,
            md(&format!(
                "{}: {}",
                g.before.writer.as_str(),
                where_(&g.before)
            )),
            md(&format!(
                "{}: {}",
                g.after.writer.as_str(),
                where_(&g.after)
            )),
            md(&g
                .consequences
                .iter()
                .map(|c| format!("`{}` {}", c.code.as_str(), c.detail))
                .collect::<Vec<_>>()
                .join("; "))
        );
    }
    s.push_str("\n## Steps\n\n");
    for st in &m.checklist {
        let _ = writeln!(
            s,
            "{}. {}{}",
            st.step,
            if st.irreversible {
                "**IRREVERSIBLE** "
            } else {
                ""
            },
            st.title
        );
        if !st.powershell.is_empty() {
            let _ = writeln!(
                s,
                "\n   ```powershell\n   {}\n   ```\n",
                st.powershell.replace('\n', "\n   ")
            );
        }
    }
    s.push('\n');
    s.push_str(&closing(m));
    s
}

use crate::escape::csv_field;

fn csv(m: &Migration) -> String {
    let mut s = String::from(
        "id,displayName,consequence,detail,beforeWriter,beforeOutcome,beforeDn,afterWriter,afterOutcome,afterDn,beforeMembers,afterMembers,prepared\n",
    );
    for g in &m.groups {
        for c in &g.consequences {
            let cells = [
                g.id.clone(),
                g.display_name.clone(),
                c.code.as_str().to_string(),
                c.detail.clone(),
                g.before.writer.as_str().to_string(),
                g.before.outcome.as_str().to_string(),
                g.before.dn.clone().unwrap_or_default(),
                g.after.writer.as_str().to_string(),
                g.after.outcome.as_str().to_string(),
                g.after.dn.clone().unwrap_or_default(),
                g.before
                    .members_written
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                g.after
                    .members_written
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                g.prepared.to_string(),
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
            s.push_str(&line.join(","));
            s.push('\n');
        }
    }
    s
}

fn color(c: Consequence) -> &'static str {
    match c {
        Consequence::Unchanged => "#afb8c1",
        Consequence::Adopted => "#1a7f37",
        Consequence::Created => "#2da44e",
        Consequence::Renamed | Consequence::Moved | Consequence::Retyped => "#0969da",
        Consequence::MailAttributesDropped | Consequence::NoLongerWritten => "#d4a72c",
        Consequence::MembersDropped | Consequence::Orphaned => "#bc4c00",
        Consequence::Duplicated | Consequence::Deleted => "#cf222e",
    }
}

/// Horizontal bars: groups per consequence (the audit's chart style).
fn chart(m: &Migration) -> String {
    let rows: Vec<(Consequence, usize)> = m
        .summary
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| (*c, *n))
        .collect();
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let (bar_w, row_h) = (400.0, 28.0);
    let h = 10.0 + row_h * rows.len() as f64;
    let mut s = format!(
        "<svg role=\"img\" aria-label=\"Groups by consequence\" viewBox=\"0 0 600 {h}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\">"
    );
    for (i, (c, n)) in rows.iter().enumerate() {
        let y = 5.0 + i as f64 * row_h;
        let w = bar_w * *n as f64 / max as f64;
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{}\">{}</text><rect x=\"160\" y=\"{y}\" width=\"{w:.1}\" height=\"20\" fill=\"{}\"><title>{n} {}</title></rect><text x=\"{:.1}\" y=\"{}\" fill=\"#59636e\">{n}</text>",
            y + 14.0,
            c.as_str(),
            color(*c),
            c.as_str(),
            160.0 + w + 6.0,
            y + 14.0
        );
    }
    s.push_str("</svg>");
    s
}

fn html(m: &Migration) -> String {
    let mut o = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>gwb migration: {} to {}</title><style>{}</style></head><body>\n",
        m.from.as_str(),
        m.to.as_str(),
        crate::report::html::CSS
    );
    let _ = write!(
        o,
        "<h1>Migration plan: {} to {}</h1><p class=\"meta\">gwb {} · {} · {} group(s)</p>",
        m.from.as_str(),
        m.to.as_str(),
        esc(m.gwb_version),
        esc(&m.created_at),
        m.groups.len()
    );
    if m.gate.is_empty() {
        o.push_str("<div class=\"gate passed\">Gate passed: no group is duplicated, orphaned, deleted or loses members (or each is accepted).</div>");
    } else {
        let _ = write!(
            o,
            "<div class=\"gate failed\">Gate failed: {}<br><code>--accept {}</code></div>",
            esc(&m
                .gate
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")),
            esc(&m
                .gate
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(","))
        );
    }
    o.push_str("<h2>Groups by consequence</h2><div class=\"charts\"><div class=\"chart\">");
    o.push_str(&chart(m));
    o.push_str("</div></div><h2>Groups</h2><div class=\"controls\"><input type=\"search\" id=\"filter\" placeholder=\"Filter\"><label><input type=\"checkbox\" id=\"matters\" checked> changes only</label><span class=\"small\"><span id=\"shown\"></span> shown</span></div>");
    o.push_str("<table id=\"forecast\"><thead><tr><th data-sort>Group</th><th data-sort>Consequences</th><th data-sort>Before</th><th data-sort>After</th><th data-sort>Why</th></tr></thead><tbody>");
    for g in &m.groups {
        let _ = write!(
            o,
            "<tr data-matters=\"{}\"><td>{}<br><span class=\"small\">{}</span></td><td>{}</td><td>{}<br><span class=\"small\">{}</span></td><td>{}<br><span class=\"small\">{}</span></td><td class=\"small\">{}</td></tr>",
            if g.changes() { 1 } else { 0 },
            esc(&g.display_name),
            esc(&g.id),
            esc(&codes(g)),
            esc(g.before.writer.as_str()),
            esc(&where_(&g.before)),
            esc(g.after.writer.as_str()),
            esc(&where_(&g.after)),
            esc(&g
                .consequences
                .iter()
                .map(|c| c.detail.as_str())
                .collect::<Vec<_>>()
                .join("; "))
        );
    }
    o.push_str("</tbody></table><h2>Steps</h2><ol>");
    for st in &m.checklist {
        let _ = write!(
            o,
            "<li>{}{}",
            if st.irreversible {
                "<strong class=\"sev sev-error\">irreversible</strong> "
            } else {
                ""
            },
            esc(&st.title)
        );
        if !st.powershell.is_empty() {
            let _ = write!(o, "<pre><code>{}</code></pre>", esc(&st.powershell));
        }
        o.push_str("</li>");
    }
    let _ = writeln!(
        o,
        "</ol><pre class=\"small\">{}</pre><script>{}</script></body></html>",
        esc(&closing(m)),
        crate::report::html::SCRIPT
    );
    o
}
