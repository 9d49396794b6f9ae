//! One self-contained HTML page for change boards: no network (inline CSS, SVG and a few lines
//! of plain script). The gate result and the verdict per target, charts (groups by outcome per
//! target; the member-count distribution against the 50,000 and 250,000 limits), the findings
//! by severity with remediation and waivers, and the forecast table, sortable and filterable.

use super::{group_findings, matrix, outcome_cell};
use crate::audit::gate::GateResult;
use crate::audit::{Code, Report, Severity};
use crate::core::Outcome;

pub(crate) use crate::escape::html as esc;

pub(crate) const CSS: &str = r#"
:root{--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--inc:#bc4c00;--na:#6e7781;--fg:#1f2328;--mut:#59636e;--bd:#d1d9e0;--bg:#f6f8fa}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid var(--bd);padding-bottom:4px}
.meta{color:var(--mut)}.gate{border-radius:8px;padding:14px 18px;margin:16px 0;color:#fff;font-size:16px}
.gate.passed{background:var(--ok)}.gate.failed{background:var(--bad)}.gate.incomplete{background:var(--inc)}.gate.not-enforced{background:var(--inc)}
.gate code{color:#fff;background:rgba(0,0,0,.15);padding:2px 6px;border-radius:4px;display:inline-block;margin-top:6px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid var(--bd);border-radius:8px;padding:12px 14px;min-width:200px;flex:1}
.card h3{margin:0 0 6px;font-size:15px}.v{font-weight:600;text-transform:uppercase;font-size:13px}
.v-ready{color:var(--ok)}.v-ready-with-warnings{color:var(--warn)}.v-blocked{color:var(--bad)}.v-incomplete{color:var(--inc)}.v-unavailable{color:var(--na)}
.small{font-size:12px;color:var(--mut)}.charts{display:flex;flex-wrap:wrap;gap:24px}.chart{flex:1;min-width:420px}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid var(--bd);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);position:sticky;top:0;cursor:pointer;user-select:none}th[data-sort]::after{content:" ⇅";color:var(--mut)}
.sev{font-weight:600;font-size:12px;text-transform:uppercase}.sev-error{color:var(--bad)}.sev-warning{color:var(--warn)}.sev-info{color:var(--mut)}.sev-waived{color:var(--na)}
.finding{border-left:4px solid var(--bd);padding:6px 12px;margin:8px 0;background:#fff}.finding.error{border-color:var(--bad)}.finding.warning{border-color:var(--warn)}.finding.waived{border-color:var(--na);opacity:.85}
.fix{color:var(--fg)}.fix::before{content:"→ "}.waiver{color:var(--na)}
details{margin:6px 0}summary{cursor:pointer}.controls{margin:8px 0;display:flex;gap:12px;align-items:center}
input[type=search]{padding:5px 8px;border:1px solid var(--bd);border-radius:6px;width:280px}
.o-writeback{color:var(--ok)}.o-update{color:#0969da}.o-delete{color:var(--bad)}.o-keep{color:var(--warn)}.o-skip{color:var(--mut)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
@media print{th{position:static}.controls{display:none}}
"#;

pub(crate) const SCRIPT: &str = r#"
(function(){
  var t=document.getElementById('forecast');if(!t)return;
  var body=t.tBodies[0],q=document.getElementById('filter'),m=document.getElementById('matters');
  function apply(){var s=q.value.toLowerCase(),only=m.checked,n=0;
    for(var i=0;i<body.rows.length;i++){var r=body.rows[i];
      var show=(!only||r.getAttribute('data-matters')==='1')&&r.textContent.toLowerCase().indexOf(s)>=0;
      r.style.display=show?'':'none';if(show)n++;}
    document.getElementById('shown').textContent=n;}
  q.addEventListener('input',apply);m.addEventListener('change',apply);
  var ths=t.tHead.rows[0].cells;
  for(var c=0;c<ths.length;c++)(function(c){ths[c].addEventListener('click',function(){
    var asc=ths[c].getAttribute('data-dir')!=='asc';
    for(var k=0;k<ths.length;k++)ths[k].removeAttribute('data-dir');
    ths[c].setAttribute('data-dir',asc?'asc':'desc');
    var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){var x=a.cells[c].textContent,y=b.cells[c].textContent;
      var nx=parseFloat(x),ny=parseFloat(y);var r=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?r:-r;});
    rows.forEach(function(r){body.appendChild(r);});});})(c);
  apply();
})();
"#;

fn outcome_class(g: &crate::core::GroupForecast) -> &'static str {
    match g.outcome {
        Outcome::Writeback if g.existing_dn.is_some() => "o-update",
        Outcome::Writeback => "o-writeback",
        Outcome::Delete => "o-delete",
        Outcome::Keep => "o-keep",
        Outcome::Skip => "o-skip",
    }
}

/// Stacked horizontal bars: groups by outcome, one bar per target.
fn outcome_chart(r: &Report) -> String {
    let colors = [
        ("written back", "#1a7f37"),
        ("skipped", "#afb8c1"),
        ("kept", "#d4a72c"),
        ("deleted", "#cf222e"),
    ];
    let bar_w = 460.0;
    let row_h = 34.0;
    let h = 40.0 + row_h * r.forecast.len() as f64;
    let mut s = format!(
        "<svg role=\"img\" aria-label=\"Groups by outcome per target\" viewBox=\"0 0 600 {h}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\">"
    );
    for (i, (label, color)) in colors.iter().enumerate() {
        let x = 110.0 + i as f64 * 115.0;
        s.push_str(&format!(
            "<rect x=\"{x}\" y=\"4\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{}\" y=\"14\">{label}</text>",
            x + 16.0
        ));
    }
    for (i, f) in r.forecast.iter().enumerate() {
        let counts = super::outcome_counts(f);
        let total: usize = counts.iter().sum();
        let y = 30.0 + i as f64 * row_h;
        s.push_str(&format!(
            "<text x=\"0\" y=\"{}\">{}</text>",
            y + 16.0,
            f.target.as_str()
        ));
        let mut x = 110.0;
        for (n, (label, color)) in counts.iter().zip(colors.iter()) {
            if *n == 0 || total == 0 {
                continue;
            }
            let w = bar_w * *n as f64 / total as f64;
            s.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"22\" fill=\"{color}\"><title>{}: {n} {label}</title></rect>",
                f.target.as_str()
            ));
            if w > 22.0 {
                s.push_str(&format!(
                    "<text x=\"{:.1}\" y=\"{}\" fill=\"#fff\" text-anchor=\"middle\">{n}</text>",
                    x + w / 2.0,
                    y + 15.0
                ));
            }
            x += w;
        }
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" fill=\"#59636e\">{total}</text>",
            110.0 + bar_w + 6.0,
            y + 16.0
        ));
    }
    s.push_str("</svg>");
    s
}

/// Member counts of the cloud groups, binned, with the 50,000 and 250,000 limits marked.
fn member_chart(r: &Report) -> String {
    const BINS: [(&str, usize, usize); 8] = [
        ("0", 0, 0),
        ("1–10", 1, 10),
        ("11–100", 11, 100),
        ("101–1k", 101, 1_000),
        ("1k–10k", 1_001, 10_000),
        ("10k–50k", 10_001, 50_000),
        ("50k–250k", 50_001, 250_000),
        (">250k", 250_001, usize::MAX),
    ];
    let mut seen = std::collections::HashSet::new();
    let mut counts = [0usize; 8];
    let mut unknown = 0;
    for f in &r.forecast {
        for g in f.groups.iter().filter(|g| g.kind.is_some()) {
            if !seen.insert(g.id.as_str()) {
                continue;
            }
            if !g.members.collected {
                unknown += 1;
                continue;
            }
            let n = g.members.total;
            if let Some(i) = BINS.iter().position(|(_, lo, hi)| n >= *lo && n <= *hi) {
                counts[i] += 1;
            }
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let (x0, bw, gap, top, ch) = (40.0, 58.0, 8.0, 20.0, 160.0);
    let mut s = String::from(
        "<svg role=\"img\" aria-label=\"Member-count distribution\" viewBox=\"0 0 600 230\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">",
    );
    for (i, ((label, _, _), n)) in BINS.iter().zip(counts.iter()).enumerate() {
        let x = x0 + i as f64 * (bw + gap);
        let h = ch * *n as f64 / max as f64;
        let color = if i >= 7 {
            "#cf222e"
        } else if i == 6 {
            "#d4a72c"
        } else {
            "#0969da"
        };
        s.push_str(&format!(
            "<rect x=\"{x}\" y=\"{:.1}\" width=\"{bw}\" height=\"{h:.1}\" fill=\"{color}\"><title>{label} members: {n} group(s)</title></rect><text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{label}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{n}</text>",
            top + ch - h,
            x + bw / 2.0,
            top + ch + 14.0,
            x + bw / 2.0,
            top + ch - h - 3.0
        ));
    }
    for (i, label) in [
        (6, "50,000 limit (Microsoft 365, Cloud Sync)"),
        (7, "250,000 limit"),
    ] {
        let x = x0 + i as f64 * (bw + gap) - gap / 2.0;
        s.push_str(&format!(
            "<line x1=\"{x}\" y1=\"{top}\" x2=\"{x}\" y2=\"{}\" stroke=\"#cf222e\" stroke-dasharray=\"4 3\"/><text x=\"{}\" y=\"{}\" fill=\"#cf222e\" text-anchor=\"end\">{label}</text>",
            top + ch + 2.0,
            x - 3.0,
            if i == 6 { top + 8.0 } else { top + 22.0 }
        ));
    }
    s.push_str(&format!(
        "<text x=\"{x0}\" y=\"222\" fill=\"#59636e\">groups by direct member count{}</text></svg>",
        if unknown > 0 {
            format!("; {unknown} group(s) without collected members are not shown")
        } else {
            String::new()
        }
    ));
    s
}

pub fn render(r: &Report) -> String {
    let mut o = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    o.push_str(&format!(
        "<title>gwb audit: {}</title><style>{CSS}</style></head><body>\n",
        esc(&r.snapshot.origin)
    ));
    o.push_str("<h1>Group writeback readiness</h1>");
    o.push_str(&format!(
        "<div class=\"meta\">Snapshot <code>{}</code>{}{} · target OU <code>{}</code> · Entra Connect {} · generated {} by gwb {}</div>\n",
        esc(&r.snapshot.origin),
        r.snapshot.tenant_id.as_ref().map(|t| format!(" · tenant <code>{}</code>", esc(t))).unwrap_or_default(),
        r.snapshot.collected_at.as_ref().map(|t| format!(" · collected {}", esc(t))).unwrap_or_default(),
        esc(r.target_ou.as_deref().unwrap_or("unknown")),
        esc(r.connect_version.as_deref().unwrap_or("unknown")),
        esc(&r.generated_at),
        esc(r.gwb_version)
    ));
    let (class, word) = match r.gate.result {
        GateResult::Passed if r.gate.truly_passed() => ("passed", "Gate passed"),
        GateResult::Passed if r.gate.headline == "incomplete accepted" => (
            "not-enforced",
            "Incomplete accepted (--allow-incomplete): evidence is missing",
        ),
        GateResult::Passed => (
            "not-enforced",
            "Gate not enforced (--fail-on never): see each target's verdict",
        ),
        GateResult::Failed => ("failed", "Gate FAILED"),
        GateResult::Incomplete => ("incomplete", "Gate INCOMPLETE: evidence is missing"),
    };
    o.push_str(&format!(
        "<div class=\"gate {class}\" id=\"gate\" data-result=\"{}\"><strong>{word}</strong> (exit {}; fails on {}{})<br><code>{}</code></div>\n",
        class,
        r.gate.exit_code,
        r.gate.fail_on,
        if r.gate.allow_incomplete { ", incomplete allowed" } else { ", incomplete fails" },
        esc(&r.gate.line)
    ));
    if !r.evidence.complete {
        let mut v = r.evidence.missing.clone();
        v.extend(r.evidence.incomplete.iter().cloned());
        o.push_str(&format!(
            "<p><strong>Evidence not complete:</strong> {}</p>\n",
            esc(&v.join(", "))
        ));
    }
    o.push_str("<h2>Verdicts</h2><div class=\"cards\">\n");
    for (v, f) in r.verdicts.iter().zip(&r.forecast) {
        let [w, s, k, d] = super::outcome_counts(f);
        let gate = r.gate.per_target.iter().find(|t| t.target == v.target);
        o.push_str(&format!(
            "<div class=\"card\" data-target=\"{t}\" data-verdict=\"{vs}\"><h3>{t}</h3><div class=\"v v-{vs}\">{vs}</div><div class=\"small\">{}</div><div>{} error(s), {} warning(s), {} waived</div><div class=\"small\">{w} written back · {s} skipped · {k} kept · {d} deleted</div>{}</div>\n",
            match gate {
                Some(g) if g.truly_passed() => format!("gated: passes ({})", esc(&g.summary)),
                Some(g) if g.passed => format!("gated: {} ({})", g.mark(), esc(&g.summary)),
                Some(g) => format!("gated: FAILS ({})", esc(&g.summary)),
                None => "not gated (shown for comparison)".to_string(),
            },
            v.errors,
            v.warnings,
            v.waived,
            if v.missing.is_empty() {
                String::new()
            } else {
                // Only the checks that did not run (one that reported a finding ran).
                let unchecked = if v.unchecked.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; not checked: {}",
                        esc(&v.unchecked.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "))
                    )
                };
                format!(
                    "<div class=\"small\">missing: {}{unchecked}</div>",
                    esc(&v.missing.join(", "))
                )
            },
            t = v.target.as_str(),
            vs = v.verdict.as_str()
        ));
    }
    o.push_str("</div>\n<h2>Charts</h2><div class=\"charts\"><div class=\"chart\"><h3>Groups by outcome per target</h3>");
    o.push_str(&outcome_chart(r));
    o.push_str("</div><div class=\"chart\"><h3>Member counts against the limits</h3>");
    o.push_str(&member_chart(r));
    o.push_str("</div></div>\n<h2>Findings</h2>\n");
    for (sev, title) in [
        (Some(Severity::Error), "Errors"),
        (Some(Severity::Warning), "Warnings"),
        (None, "Waived"),
        (Some(Severity::Info), "Information"),
    ] {
        let groups: Vec<_> = group_findings(&r.findings)
            .into_iter()
            .filter(|g| g.code != Code::ForecastSummary)
            .filter(|g| match sev {
                None => g.waived,
                Some(s) => !g.waived && g.severity == s,
            })
            .collect();
        if groups.is_empty() {
            continue;
        }
        let n: usize = groups.iter().map(|g| g.items.len()).sum();
        let open = if sev == Some(Severity::Info) {
            ""
        } else {
            " open"
        };
        o.push_str(&format!(
            "<details{open} class=\"sev-block\"><summary><strong>{title}</strong> ({n})</summary>\n"
        ));
        for g in groups {
            let cls = if g.waived {
                "waived"
            } else {
                g.severity.as_str()
            };
            o.push_str(&format!(
                "<div class=\"finding {cls}\" data-code=\"{}\"><span class=\"sev sev-{cls}\">{}</span> <code>{}</code> <span class=\"small\">targets: {} · {} subject(s)</span>",
                g.code.as_str(),
                if g.waived { "waived" } else { g.severity.as_str() },
                g.code.as_str(),
                esc(&g.targets_text()),
                g.items.len()
            ));
            o.push_str("<ul>");
            for f in &g.items {
                o.push_str(&format!(
                    "<li><strong>{}</strong>: {}",
                    esc(&f.subject),
                    esc(&f.message)
                ));
                if !f.evidence.is_empty() {
                    o.push_str(&format!(
                        "<div class=\"small\">evidence: {}</div>",
                        esc(&f.evidence)
                    ));
                }
                if let Some(w) = &f.waived {
                    o.push_str(&format!(
                        "<div class=\"waiver\">waived until {} by {}: {}</div>",
                        esc(&w.expires),
                        esc(&w.approved_by),
                        esc(&w.reason)
                    ));
                }
                o.push_str("</li>");
            }
            o.push_str("</ul>");
            if let Some(f) = g.items.first()
                && !f.remediation.is_empty()
            {
                o.push_str(&format!("<div class=\"fix\">{}</div>", esc(&f.remediation)));
            }
            o.push_str("</div>\n");
        }
        o.push_str("</details>\n");
    }
    // Forecast table.
    let rows = matrix(r);
    o.push_str("<h2>Forecast</h2>");
    o.push_str(&format!(
        "<div class=\"controls\"><input type=\"search\" id=\"filter\" placeholder=\"Filter groups, ids, outcomes…\"><label><input type=\"checkbox\" id=\"matters\" checked> only groups whose outcome matters</label><span class=\"small\"><span id=\"shown\">{}</span> of {} groups shown</span></div>\n",
        rows.iter().filter(|r| r.matters()).count(),
        rows.len()
    ));
    o.push_str("<table id=\"forecast\"><thead><tr><th data-sort>group</th><th data-sort>kind</th><th data-sort>members</th>");
    for f in &r.forecast {
        o.push_str(&format!("<th data-sort>{}</th>", f.target.as_str()));
    }
    o.push_str("<th data-sort>id</th></tr></thead><tbody>\n");
    for row in &rows {
        let members = row
            .cells
            .iter()
            .flatten()
            .next()
            .map(|g| {
                if g.members.collected {
                    g.members.total.to_string()
                } else {
                    "not collected".into()
                }
            })
            .unwrap_or_default();
        o.push_str(&format!(
            "<tr data-matters=\"{}\"><td>{}</td><td>{}</td><td>{}</td>",
            if row.matters() { 1 } else { 0 },
            esc(row.name),
            row.kind,
            members
        ));
        for c in &row.cells {
            match c {
                Some(g) => o.push_str(&format!(
                    "<td class=\"{}\" title=\"{}\">{}</td>",
                    outcome_class(g),
                    esc(&g.detail),
                    esc(&outcome_cell(g))
                )),
                None => o.push_str("<td></td>"),
            }
        }
        o.push_str(&format!("<td><code>{}</code></td></tr>\n", esc(row.id)));
    }
    o.push_str("</tbody></table>\n<p class=\"small\">+ create · ~ update · - delete · = keep untouched · · skip. Codes: <code>gwb codes CODE</code>.</p>\n");
    o.push_str(&format!("<script>{SCRIPT}</script>\n</body></html>\n"));
    o
}
