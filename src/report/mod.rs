//! Renderers: one [`Report`] model, one writer per format. Only this module and `app`/`main`
//! print; every renderer reads the same verdicts, gate and findings.
//!
//! - table: people at a terminal (gate, verdicts, grouped findings, the outcomes that matter);
//! - json: `gwb-audit/1`, stable names, arrays for every collection (docs/reports.md);
//! - csv: one row per group and target, UTF-8 with BOM, RFC 4180 quoting, no #TYPE line;
//! - markdown: pull-request comments and `$GITHUB_STEP_SUMMARY` (at most 65,000 characters);
//! - html: one self-contained page for change boards; junit and sarif: CI systems;
//! - clixml: for Import-Clixml.

pub mod codes;
pub mod csv;
pub mod evidence;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod output;
pub mod sarif;
pub mod shape;
pub mod table;

use crate::audit::{Code, Finding, Report, Severity};
use crate::cli::Format;
use crate::core::{GroupForecast, GroupReason, Outcome, Target};

pub use self::csv::findings_csv;

/// How a report is laid out.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Columns the table report may use.
    pub width: u16,
    /// ANSI colour (only on a terminal, never with NO_COLOR).
    pub color: bool,
    /// Every group in the table, not only those whose outcome matters.
    pub all: bool,
    /// The executor's plan actions by group id (CSV `action` for target gwb), when AD and the
    /// target OU allow a plan.
    pub plan_actions: Option<std::sync::Arc<std::collections::HashMap<String, &'static str>>>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            width: 120,
            color: false,
            all: false,
            plan_actions: None,
        }
    }
}

/// Render a report straight into a writer (JSON is streamed, never held whole in memory).
pub fn write(
    report: &Report,
    format: Format,
    opts: &RenderOptions,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            // A concrete buffer in front of the `dyn` writer: serde_json writes many tiny
            // pieces, which then cost no virtual call each (a large report is hundreds of MB).
            let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut *out);
            // The findings and the forecasts' groups render on several cores.
            crate::par_json::parallel(|| serde_json::to_writer_pretty(&mut w, report))?;
            std::io::Write::write_all(&mut w, b"\n")?;
            std::io::Write::flush(&mut w)?;
        }
        Format::Csv => out.write_all(&csv::forecast_csv(report, opts.plan_actions.as_deref())?)?,
        Format::Markdown => out.write_all(markdown::render(report).as_bytes())?,
        Format::Table => out.write_all(table::render(report, opts).as_bytes())?,
        Format::Clixml => out.write_all(
            crate::ps::clixml::to_clixml(&serde_json::to_value(report)?, "gwb.AuditReport")
                .as_bytes(),
        )?,
        Format::Html => out.write_all(html::render(report).as_bytes())?,
        Format::Junit => out.write_all(junit::render(report).as_bytes())?,
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif::render(report))?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// The AD group kind a written-back group becomes, as the cells name it (`?` when unknown).
fn kind_label(g: &GroupForecast) -> &'static str {
    use crate::core::OnPremGroupType as T;
    match g.on_premises_group_type {
        Some(T::UniversalDistribution) => "distribution",
        Some(T::UniversalSecurity) => "security",
        Some(T::UniversalMailEnabledSecurity) => "mail-enabled security",
        None => "?",
    }
}

/// A compact cell: `+` create, `~` update, `-` delete, `=` keep untouched, `·` skip.
pub(crate) fn outcome_cell(g: &GroupForecast) -> String {
    match g.outcome {
        Outcome::Writeback => {
            let t = kind_label(g);
            let sign = if g.existing_dn.is_some() { '~' } else { '+' };
            let skipped = g.members.skipped.len();
            if !g.members.collected {
                format!("{sign} {t} (members unknown)")
            } else if skipped > 0 {
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

/// The table's narrower cell: no member counts (`?` when members were not collected), and
/// `—` for a kind of group the target does not handle at all.
pub(crate) fn compact_cell(g: &GroupForecast) -> String {
    match g.outcome {
        Outcome::Writeback => {
            let t = kind_label(g);
            let sign = if g.existing_dn.is_some() { '~' } else { '+' };
            let unknown = if g.members.collected { "" } else { " ?" };
            format!("{sign} {t}{unknown}")
        }
        Outcome::Skip if g.reason == GroupReason::NotSupportedByTarget => "—".into(),
        _ => outcome_cell(g),
    }
}

/// Whether a group's outcome under a target is worth a person's attention: written back,
/// deleted, kept, or skipped for a reason the admin can fix.
pub(crate) fn matters(g: &GroupForecast) -> bool {
    match g.outcome {
        Outcome::Writeback | Outcome::Delete | Outcome::Keep => true,
        Outcome::Skip => matches!(
            g.reason,
            GroupReason::NameCollision
                | GroupReason::MemberLimitExceeded
                | GroupReason::FeatureDisabled
                | GroupReason::WritebackDisabled
        ),
    }
}

/// One row of the group × target matrix.
pub(crate) struct Row<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub kind: &'static str,
    /// Per forecast target, in report order; `None` when the target has no such group.
    pub cells: Vec<Option<&'a GroupForecast>>,
}

impl Row<'_> {
    pub fn matters(&self) -> bool {
        self.cells.iter().flatten().any(|g| matters(g))
    }
}

/// Rows of the group × target matrix, sorted by display name (folded), then id; one row per
/// key, each target's group in its cell (the last, should a target list a key twice).
pub(crate) fn matrix(report: &Report) -> Vec<Row<'_>> {
    let n = report.forecast.len();
    // Each forecast is normally in this order already (core::report_order): merge them, after
    // a stable sort of any that is not.
    let keys: Vec<Vec<String>> = report
        .forecast
        .iter()
        .map(|f| {
            f.groups
                .iter()
                .map(|g| g.display_name.to_lowercase())
                .collect()
        })
        .collect();
    let orders: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            let k = |j: usize| {
                (
                    keys[i][j].as_str(),
                    report.forecast[i].groups[j].id.as_str(),
                )
            };
            let mut order: Vec<usize> = (0..keys[i].len()).collect();
            if !order.windows(2).all(|w| k(w[0]) <= k(w[1])) {
                order.sort_by(|&a, &b| k(a).cmp(&k(b)));
            }
            order
        })
        .collect();
    let mut at = vec![0usize; n];
    let key = |i: usize, p: usize| {
        let j = orders[i][p];
        (
            keys[i][j].as_str(),
            report.forecast[i].groups[j].id.as_str(),
        )
    };
    let mut rows = Vec::new();
    while let Some(min) = (0..n)
        .filter(|&i| at[i] < keys[i].len())
        .map(|i| key(i, at[i]))
        .min()
    {
        let mut row: Option<Row> = None;
        for i in 0..n {
            while at[i] < keys[i].len() && key(i, at[i]) == min {
                let g = &report.forecast[i].groups[orders[i][at[i]]];
                let r = row.get_or_insert_with(|| Row {
                    id: &g.id,
                    name: &g.display_name,
                    kind: short_kind(g),
                    cells: vec![None; n],
                });
                r.cells[i] = Some(g);
                at[i] += 1;
            }
        }
        rows.extend(row);
    }
    rows
}

/// Short kind labels for the matrix.
pub(crate) fn short_kind(g: &GroupForecast) -> &'static str {
    use crate::bundle::tenant::GroupKind as K;
    match g.kind {
        Some(K::Microsoft365) => "m365",
        Some(K::Security) => "security",
        Some(K::MailEnabledSecurity) => "mail-sec",
        Some(K::Distribution) => "dist-list",
        None => "(AD only)",
    }
}

pub(crate) fn kind_name(g: &GroupForecast) -> String {
    match g.kind {
        Some(k) => serde_json::to_value(k)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        None => "(AD only)".into(),
    }
}

/// Findings as rendered: those of one code, severity and waiver state together, one item per
/// subject (the first finding of each), with the union of their targets.
pub(crate) struct FindingGroup<'a> {
    pub code: Code,
    pub severity: Severity,
    pub targets: Vec<Target>,
    pub waived: bool,
    pub items: Vec<&'a Finding>,
}

impl FindingGroup<'_> {
    pub fn targets_text(&self) -> String {
        if self.targets.is_empty() {
            "all".into()
        } else {
            self.targets
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// Group findings for rendering (the report keeps one finding per subject). The order is the
/// report's: most severe first, waived ones after the counted ones of their severity.
pub(crate) fn group_findings(findings: &[Finding]) -> Vec<FindingGroup<'_>> {
    let mut groups: Vec<FindingGroup> = Vec::new();
    // Per group, the subjects already listed (a set, so grouping stays linear).
    let mut subjects: Vec<std::collections::HashSet<&str>> = Vec::new();
    for f in findings {
        let waived = f.waived.is_some();
        if let Some(i) = groups
            .iter()
            .position(|g| g.code == f.code && g.severity == f.severity && g.waived == waived)
        {
            let g = &mut groups[i];
            if f.targets.is_empty() || g.targets.is_empty() {
                g.targets.clear();
            } else {
                for t in &f.targets {
                    if !g.targets.contains(t) {
                        g.targets.push(*t);
                    }
                }
                g.targets.sort();
            }
            if subjects[i].insert(f.subject.as_str()) {
                g.items.push(f);
            }
        } else {
            subjects.push(std::iter::once(f.subject.as_str()).collect());
            groups.push(FindingGroup {
                code: f.code,
                severity: f.severity,
                targets: f.targets.clone(),
                waived,
                items: vec![f],
            });
        }
    }
    groups.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.waived.cmp(&b.waived))
            .then(a.code.cmp(&b.code))
    });
    groups
}

/// Counts of outcomes for a forecast: (writeback, skip, keep, delete).
pub(crate) fn outcome_counts(f: &crate::core::Forecast) -> [usize; 4] {
    let c = f.counts();
    let n = |o| c.get(&o).copied().unwrap_or(0);
    [
        n(Outcome::Writeback),
        n(Outcome::Skip),
        n(Outcome::Keep),
        n(Outcome::Delete),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matrix as a map from (folded name, id) to each target's group: the definition.
    fn reference(report: &Report) -> Vec<(String, String, Vec<Option<String>>)> {
        let mut rows: std::collections::BTreeMap<(String, String), Vec<Option<String>>> =
            Default::default();
        let n = report.forecast.len();
        for (i, f) in report.forecast.iter().enumerate() {
            for g in &f.groups {
                rows.entry((g.display_name.to_lowercase(), g.id.clone()))
                    .or_insert_with(|| vec![None; n])[i] = Some(g.detail.clone());
            }
        }
        rows.into_iter().map(|((n, id), c)| (n, id, c)).collect()
    }

    fn seen(rows: &[Row]) -> Vec<(String, String, Vec<Option<String>>)> {
        rows.iter()
            .map(|r| {
                (
                    r.name.to_lowercase(),
                    r.id.to_string(),
                    r.cells
                        .iter()
                        .map(|c| c.map(|g| g.detail.clone()))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn matrix_merges_every_target_in_name_order_sorted_or_not() {
        let snap = crate::snapshot::load_dir(std::path::Path::new("fixtures/contoso"), &[])
            .expect("fixture");
        let mut report = crate::audit::audit(
            &snap,
            &crate::audit::Options {
                generated_at: "2026-12-01T09:00:00Z".into(),
                ..Default::default()
            },
        )
        .expect("audit");
        assert!(report.forecast.len() == 4 && report.forecast[0].groups.len() > 3);
        assert_eq!(seen(&matrix(&report)), reference(&report));
        // Targets that list different groups, out of order, one key twice (the later wins).
        report.forecast[1].groups.reverse();
        report.forecast[2].groups.truncate(2);
        let mut twice = report.forecast[3].groups[0].clone();
        twice.detail = "the later one".into();
        report.forecast[3].groups.push(twice);
        report.forecast[0].groups.remove(1);
        let got = seen(&matrix(&report));
        assert_eq!(got, reference(&report));
        assert!(
            got.iter()
                .any(|r| r.2[3].as_deref() == Some("the later one"))
        );
    }
}
