//! Plan renderers: Terraform-like table text (coloured on a terminal), `gwb-plan/1` JSON,
//! Markdown, RFC 2849 LDIF change records that `ldapmodify` imports as they are, CSV and HTML.
//! Pure: they return text.

use std::fmt::Write as _;

use crate::ad::ldif::write_attr;

use super::args::PlanFormat;
use super::model::*;

/// How many member DNs a table or Markdown entry lists before `… and N more`.
const MEMBER_LIST_MAX: usize = 20;

/// Render a plan in a format.
pub fn render(plan: &Plan, format: PlanFormat, show_unchanged: bool) -> anyhow::Result<String> {
    render_with(plan, format, show_unchanged, false)
}

/// [`render`], the table in colour when `colour` (a terminal without NO_COLOR).
pub fn render_with(
    plan: &Plan,
    format: PlanFormat,
    show_unchanged: bool,
    colour: bool,
) -> anyhow::Result<String> {
    Ok(match format {
        PlanFormat::Json => serde_json::to_string_pretty(plan)? + "\n",
        PlanFormat::Table => table_with(plan, show_unchanged, colour),
        PlanFormat::Markdown => markdown(plan, show_unchanged),
        PlanFormat::Ldif => ldif(plan),
        PlanFormat::Csv => csv(plan)?,
        PlanFormat::Html => html(plan, show_unchanged),
    })
}

/// ANSI colour of an action's symbol: + green, ~ yellow, - red, > cyan.
fn paint(colour: bool, a: Action, s: &str) -> String {
    let code = match a {
        Action::Create => "32",
        Action::Update => "33",
        Action::Delete => "31",
        Action::Rename => "36",
        Action::Skip | Action::Keep if colour => "2",
        _ => return s.to_string(),
    };
    if colour {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// The closing line, e.g. `Plan: 12 to create, 3 to update, 1 to rename, 2 to delete, 40 unchanged.`
pub fn summary_line(s: &Summary) -> String {
    if s.is_empty() {
        return format!(
            "No changes. {} unchanged ({} up to date, {} kept, {} skipped).",
            s.unchanged(),
            s.noop,
            s.keep,
            s.skip
        );
    }
    format!(
        "Plan: {} to create, {} to update, {} to rename, {} to delete, {} unchanged.",
        s.create,
        s.update,
        s.rename,
        s.delete,
        s.unchanged()
    )
}

fn symbol(a: Action) -> &'static str {
    match a {
        Action::Create => "+",
        Action::Update => "~",
        Action::Rename => ">",
        Action::Delete => "-",
        Action::Keep => "=",
        Action::Skip => "·",
        Action::Noop => " ",
    }
}

fn show(v: &Option<AttrValue>) -> String {
    match v {
        None => "(none)".to_string(),
        Some(AttrValue::One(s)) => format!("{s:?}"),
        Some(AttrValue::Many(v)) => format!(
            "[{}]",
            v.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn members_text(out: &mut String, indent: &str, sign: &str, list: &[String], colour: bool) {
    let a = if sign == "+" {
        Action::Create
    } else {
        Action::Delete
    };
    for m in list.iter().take(MEMBER_LIST_MAX) {
        let _ = writeln!(
            out,
            "{indent}{}",
            paint(colour, a, &format!("member {sign} {m}"))
        );
    }
    if list.len() > MEMBER_LIST_MAX {
        let _ = writeln!(
            out,
            "{indent}{}",
            paint(
                colour,
                a,
                &format!("member {sign} … and {} more", list.len() - MEMBER_LIST_MAX)
            )
        );
    }
}

fn header(plan: &Plan) -> String {
    let mut out = String::new();
    let ou = &plan.target_ou;
    let _ = writeln!(
        out,
        "gwb plan ({}) for target OU {}{}",
        plan.created_at,
        ou.dn,
        ou.object_guid
            .map(|g| format!(" (objectGUID {g})"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "policy: --deletion {} --member-limit {} --cn-format {} --max-deletes {}",
        enum_name(&plan.policy.deletion),
        enum_name(&plan.policy.member_limit),
        enum_name(&plan.policy.cn_format),
        plan.policy.max_deletes
    );
    if let Some(d) = &plan.sha256 {
        let _ = writeln!(out, "plan sha256: {d}");
    }
    if !plan.safety.delete_proof.complete {
        let _ = writeln!(
            out,
            "deletions are not proven: {}; groups that would be deleted are kept",
            plan.safety
                .delete_proof
                .detail
                .as_deref()
                .unwrap_or("incomplete evidence")
        );
    }
    out
}

fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Skip reasons that need an administrator's attention (the group is meant to reach AD but
/// cannot): shown by default, with their reason, where routine skips and noops are folded.
pub fn needs_attention(g: &PlannedGroup) -> bool {
    use crate::core::GroupReason as R;
    matches!(g.action, Action::Skip | Action::Keep)
        && matches!(
            g.reason,
            R::NameCollision
                | R::MemberLimitExceeded
                | R::OtherWriterContainer
                | R::StampedCopiesOutsideTargetOu
        )
}

/// Shown by default: every write, every skip that needs attention, and every group whose
/// members are unknown (the reviewer must see that its membership is left as it is).
fn visible(g: &PlannedGroup, show_unchanged: bool) -> bool {
    show_unchanged || g.action.writes() || needs_attention(g) || g.members.unknown
}

/// Terraform-like text: one block per change, then refusals and the `Plan:` line.
pub fn table(plan: &Plan, show_unchanged: bool) -> String {
    table_with(plan, show_unchanged, false)
}

/// [`table`], in colour when `colour`.
pub fn table_with(plan: &Plan, show_unchanged: bool, colour: bool) -> String {
    let mut out = header(plan);
    out.push('\n');
    for g in plan.groups.iter().filter(|g| visible(g, show_unchanged)) {
        let head = format!("{} {:<7}", symbol(g.action), g.action.as_str());
        let _ = writeln!(
            out,
            "  {} {:?} ({})  [{}]",
            paint(colour, g.action, &head),
            g.display_name,
            g.id,
            g.reason
        );
        let dn =
            g.dn.as_deref()
                .or(g.current.as_ref().map(|c| c.dn.as_str()));
        match (g.action, &g.current) {
            (Action::Rename, Some(c)) => {
                let _ = writeln!(out, "      dn: {} -> {}", c.dn, dn.unwrap_or_default());
            }
            (_, _) => {
                if let Some(d) = dn {
                    let _ = writeln!(out, "      dn: {d}");
                }
            }
        }
        if !g.action.writes() || g.action == Action::Delete {
            let _ = writeln!(out, "      {}", g.detail);
        }
        for (name, ch) in &g.attributes {
            if ch.before.is_none() {
                let _ = writeln!(out, "      {name}: {}", show(&ch.after));
            } else {
                let _ = writeln!(
                    out,
                    "      {name}: {} -> {}",
                    show(&ch.before),
                    show(&ch.after)
                );
            }
        }
        members_text(&mut out, "      ", "+", &g.members.add, colour);
        members_text(&mut out, "      ", "-", &g.members.remove, colour);
        if g.members.unknown {
            let _ = writeln!(out, "      {MEMBERS_UNKNOWN}");
        }
        if !g.members.skipped.is_empty() && g.action.writes() {
            let _ = writeln!(
                out,
                "      {} member(s) not written (gwb codes: {})",
                g.members.skipped.len(),
                skipped_reasons(g)
            );
        }
    }
    if !plan.unowned.is_empty() {
        let decoys = plan.unowned.iter().filter(|u| u.why == "decoy").count();
        let _ = writeln!(
            out,
            "\n{} object(s) in the target OU carry no gwb stamp and are never touched ({decoys} look like written-back groups):",
            plan.unowned.len()
        );
        for u in plan.unowned.iter().take(MEMBER_LIST_MAX) {
            let _ = writeln!(
                out,
                "  {} ({}{})",
                u.dn,
                u.why,
                u.object_guid
                    .map(|g| format!(", objectGUID {g}"))
                    .unwrap_or_default()
            );
        }
        if plan.unowned.len() > MEMBER_LIST_MAX {
            let _ = writeln!(out, "  … and {} more", plan.unowned.len() - MEMBER_LIST_MAX);
        }
    }
    for r in &plan.safety.refusals {
        let _ = writeln!(
            out,
            "\nrefused ({}): {}{}",
            enum_name(&r.code),
            r.detail,
            r.override_flag
                .as_deref()
                .map(|f| format!(" [override: {f}]"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(out, "\n{}", summary_line(&plan.summary));
    out
}

fn skipped_reasons(g: &PlannedGroup) -> String {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for s in &g.members.skipped {
        *counts.entry(s.reason.code().to_string()).or_insert(0) += 1;
    }
    counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

use crate::escape::markdown as md_escape;

/// Markdown for change tickets.
pub fn markdown(plan: &Plan, show_unchanged: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# gwb plan\n");
    let _ = writeln!(out, "**{}**\n", summary_line(&plan.summary));
    let _ = writeln!(
        out,
        "- Plan SHA-256: `{}`\n- Target OU: `{}`\n- Created: {}\n- gwb {}\n- Tenant input: {} `{}`\n- AD input: {} `{}`",
        plan.sha256.as_deref().unwrap_or("-"),
        plan.target_ou.dn.replace('`', "'"),
        plan.created_at,
        plan.gwb_version,
        enum_name(&plan.inputs.tenant.source),
        plan.inputs.tenant.sha256.as_deref().unwrap_or("-"),
        enum_name(&plan.inputs.ad.source),
        plan.inputs.ad.sha256.as_deref().unwrap_or("-"),
    );
    for r in &plan.safety.refusals {
        let _ = writeln!(
            out,
            "\n> **Refused** (`{}`): {}",
            enum_name(&r.code),
            md_escape(&r.detail)
        );
    }
    let _ = writeln!(
        out,
        "\n| Action | Group | Reason | DN | Changes |\n|---|---|---|---|---|"
    );
    for g in plan.groups.iter().filter(|g| visible(g, show_unchanged)) {
        let mut changes: Vec<String> = g
            .attributes
            .iter()
            .map(|(k, c)| {
                format!(
                    "{k}: {} → {}",
                    md_escape(&show(&c.before)),
                    md_escape(&show(&c.after))
                )
            })
            .collect();
        if !g.members.add.is_empty() {
            changes.push(format!("+{} member(s)", g.members.add.len()));
        }
        if !g.members.remove.is_empty() {
            changes.push(format!("−{} member(s)", g.members.remove.len()));
        }
        if g.members.unknown {
            changes.push(MEMBERS_UNKNOWN.to_string());
        }
        if let (Action::Rename, Some(c)) = (g.action, &g.current) {
            changes.insert(0, format!("from {}", md_escape(&c.dn)));
        }
        let dn =
            g.dn.as_deref()
                .or(g.current.as_ref().map(|c| c.dn.as_str()))
                .unwrap_or("");
        let _ = writeln!(
            out,
            "| {} {} | {} | `{}` | {} | {} |",
            symbol(g.action),
            g.action.as_str(),
            md_escape(&g.display_name),
            g.reason,
            md_escape(dn),
            if changes.is_empty() {
                md_escape(&g.detail)
            } else {
                changes.join("<br>")
            }
        );
    }
    if !plan.unowned.is_empty() {
        let _ = writeln!(
            out,
            "\n{} object(s) in the target OU carry no gwb stamp and are never touched:\n",
            plan.unowned.len()
        );
        for u in &plan.unowned {
            let _ = writeln!(out, "- {} ({})", md_escape(&u.dn), md_escape(&u.why));
        }
    }
    let _ = writeln!(out, "\n{}", summary_line(&plan.summary));
    out
}

/// One row per group, for spreadsheets (the table's content, every group).
pub fn csv(plan: &Plan) -> anyhow::Result<String> {
    use crate::report::csv::cell;
    let mut buf: Vec<u8> = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = crate::report::csv::writer(&mut buf);
        w.write_record([
            "action",
            "displayName",
            "id",
            "reason",
            "dn",
            "currentDn",
            "attributeChanges",
            "memberAdds",
            "memberRemoves",
            "membersUnknown",
            "detail",
        ])?;
        for g in &plan.groups {
            let attrs: Vec<&str> = g.attributes.keys().map(String::as_str).collect();
            w.write_record([
                g.action.as_str().to_string(),
                cell(&g.display_name),
                g.id.clone(),
                g.reason.to_string(),
                cell(g.dn.as_deref().unwrap_or_default()),
                cell(g.current.as_ref().map_or("", |c| c.dn.as_str())),
                attrs.join(" "),
                g.members.add.len().to_string(),
                g.members.remove.len().to_string(),
                g.members.unknown.to_string(),
                cell(&g.detail),
            ])?;
        }
        w.flush()?;
    }
    Ok(String::from_utf8(buf)?)
}

/// A self-contained HTML page: the plan's digest, the changes, the closing line.
pub fn html(plan: &Plan, show_unchanged: bool) -> String {
    use crate::report::html::esc;
    let mut o = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>gwb plan</title><style>body{font-family:system-ui,sans-serif;margin:24px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}.create{color:#1a7f37}.update{color:#9a6700}.delete{color:#cf222e}.rename{color:#0969da}code{font-size:90%}</style></head><body>\n",
    );
    let _ = writeln!(
        o,
        "<h1>gwb plan</h1>\n<p><strong>{}</strong></p>\n<ul><li>Plan SHA-256: <code>{}</code></li><li>Target OU: <code>{}</code></li><li>Created: {}</li><li>gwb {}</li></ul>",
        esc(&summary_line(&plan.summary)),
        esc(plan.sha256.as_deref().unwrap_or("-")),
        esc(&plan.target_ou.dn),
        esc(&plan.created_at),
        esc(&plan.gwb_version)
    );
    for r in &plan.safety.refusals {
        let _ = writeln!(
            o,
            "<p><strong>Refused</strong> ({}): {}</p>",
            esc(&enum_name(&r.code)),
            esc(&r.detail)
        );
    }
    o.push_str(
        "<table><tr><th>Action</th><th>Group</th><th>Reason</th><th>DN</th><th>Changes</th></tr>\n",
    );
    for g in plan.groups.iter().filter(|g| visible(g, show_unchanged)) {
        let mut changes: Vec<String> = g
            .attributes
            .iter()
            .map(|(k, c)| {
                format!(
                    "{} : {} → {}",
                    esc(k),
                    esc(&show(&c.before)),
                    esc(&show(&c.after))
                )
            })
            .collect();
        for m in &g.members.add {
            changes.push(format!("member + {}", esc(m)));
        }
        for m in &g.members.remove {
            changes.push(format!("member − {}", esc(m)));
        }
        if g.members.unknown {
            changes.push(MEMBERS_UNKNOWN.to_string());
        }
        if changes.is_empty() {
            changes.push(esc(&g.detail));
        }
        let dn =
            g.dn.as_deref()
                .or(g.current.as_ref().map(|c| c.dn.as_str()))
                .unwrap_or("");
        let _ = writeln!(
            o,
            "<tr class=\"{a}\"><td>{} {a}</td><td>{}<br><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(symbol(g.action)),
            esc(&g.display_name),
            esc(&g.id),
            g.reason,
            esc(dn),
            changes.join("<br>"),
            a = g.action.as_str()
        );
    }
    o.push_str("</table>\n");
    if !plan.unowned.is_empty() {
        let _ = writeln!(
            o,
            "<p>{} object(s) in the target OU carry no gwb stamp and are never touched:</p><ul>",
            plan.unowned.len()
        );
        for u in &plan.unowned {
            let _ = writeln!(o, "<li><code>{}</code> ({})</li>", esc(&u.dn), esc(&u.why));
        }
        o.push_str("</ul>\n");
    }
    let _ = writeln!(
        o,
        "<p>{}</p>\n</body></html>",
        esc(&summary_line(&plan.summary))
    );
    o
}

/// One `modify` record's operations.
fn modify_record(out: &mut String, dn: &str, ops: &[(&str, &str, Vec<&str>)]) {
    if ops.is_empty() {
        return;
    }
    write_attr(out, "dn", dn.as_bytes());
    out.push_str("changetype: modify\n");
    for (op, attr, values) in ops {
        let _ = writeln!(out, "{op}: {attr}");
        for v in values {
            write_attr(out, attr, v.as_bytes());
        }
        out.push_str("-\n");
    }
    out.push('\n');
}

/// RFC 2849 change records in dependency order: renames, then creates (without members),
/// then attribute and member modifications (so nested groups created by the plan exist),
/// then deletes.
pub fn ldif(plan: &Plan) -> String {
    let mut out = String::from("version: 1\n\n");
    let _ = writeln!(
        out,
        "# gwb plan {} for {}\n# {}\n",
        plan.created_at,
        plan.target_ou.dn.replace('\n', " "),
        summary_line(&plan.summary)
    );
    for g in plan.groups.iter().filter(|g| g.action == Action::Rename) {
        let (Some(c), Some(cn)) = (&g.current, &g.cn) else {
            continue;
        };
        write_attr(&mut out, "dn", c.dn.as_bytes());
        out.push_str("changetype: modrdn\n");
        let rdn = format!("CN={}", crate::ad::dn::escape_value(cn));
        write_attr(&mut out, "newrdn", rdn.as_bytes());
        out.push_str("deleteoldrdn: 1\n");
        let new_parent =
            g.dn.as_deref()
                .and_then(|d| crate::ad::Dn::parse(d).ok())
                .and_then(|d| d.parent());
        let old_parent = crate::ad::Dn::parse(&c.dn).ok().and_then(|d| d.parent());
        if let Some(p) = new_parent
            && Some(&p) != old_parent.as_ref()
        {
            write_attr(&mut out, "newsuperior", p.to_string().as_bytes());
        }
        out.push('\n');
    }
    for g in plan.groups.iter().filter(|g| g.action == Action::Create) {
        let (Some(dn), Some(cn)) = (&g.dn, &g.cn) else {
            continue;
        };
        write_attr(&mut out, "dn", dn.as_bytes());
        out.push_str("changetype: add\nobjectClass: top\nobjectClass: group\n");
        write_attr(&mut out, "cn", cn.as_bytes());
        for (name, ch) in &g.attributes {
            if let Some(v) = &ch.after {
                for x in v.values() {
                    write_attr(&mut out, name, x.as_bytes());
                }
            }
        }
        out.push('\n');
    }
    for g in plan
        .groups
        .iter()
        .filter(|g| matches!(g.action, Action::Create | Action::Update | Action::Rename))
    {
        let Some(dn) = &g.dn else { continue };
        if g.members.unknown {
            out.push_str("# ");
            out.push_str(&g.display_name.replace(['\n', '\r'], " "));
            let _ = writeln!(out, " ({}): {MEMBERS_UNKNOWN}; no member change\n", g.id);
        }
        let mut ops: Vec<(&str, &str, Vec<&str>)> = Vec::new();
        if g.action != Action::Create {
            for (name, ch) in &g.attributes {
                match &ch.after {
                    Some(v) => ops.push(("replace", name, v.values())),
                    None => ops.push(("delete", name, Vec::new())),
                }
            }
        }
        if !g.members.add.is_empty() {
            ops.push((
                "add",
                "member",
                g.members.add.iter().map(String::as_str).collect(),
            ));
        }
        if !g.members.remove.is_empty() {
            ops.push((
                "delete",
                "member",
                g.members.remove.iter().map(String::as_str).collect(),
            ));
        }
        modify_record(&mut out, dn, &ops);
    }
    for g in plan.groups.iter().filter(|g| g.action == Action::Delete) {
        let Some(c) = &g.current else { continue };
        write_attr(&mut out, "dn", c.dn.as_bytes());
        out.push_str("changetype: delete\n\n");
    }
    out
}
