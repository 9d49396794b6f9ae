//! `gwb mappings test`: for every group (or one), the steps Cloud Sync's on-demand
//! provisioning shows — scoping, then each attribute mapping's expression evaluated step by
//! step — from a bundle, without writing anything.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use super::source::GroupAttributes;
use super::{Configuration, MappingSource, ScopeResult};
use crate::expr::{Engine, Source, Step, Stop, Value};

pub const FORMAT: &str = "gwb-mappings-test/1";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub format: &'static str,
    pub configurations: Vec<ConfigReport>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigReport {
    pub domain: String,
    pub service_principal: String,
    pub job_id: String,
    pub job_status: String,
    pub scope_mode: String,
    pub problems: Vec<String>,
    pub groups: Vec<GroupReport>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupReport {
    pub id: String,
    pub display_name: String,
    pub scope: ScopeResult,
    pub mappings: Vec<MappingReport>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingReport {
    pub target: String,
    pub expression: String,
    pub flow_type: String,
    pub steps: Vec<Step>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What a mapping gives for the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Outcome {
    /// A value (rendered: strings quoted, `null`).
    Value {
        value: String,
    },
    /// The expression gave null and the mapping's default value applies (only on create).
    DefaultValue {
        value: String,
    },
    /// IgnoreFlowIfNullOrEmpty: the attribute is not sent.
    NotSent {
        reason: String,
    },
    Unforecastable {
        reason: String,
    },
    Error {
        message: String,
    },
    /// `member = members`: references resolved against AD.
    Members,
    /// The expression does not parse.
    Invalid {
        message: String,
    },
}

impl Outcome {
    /// The value as text when there is one (`None` for null and for every other outcome).
    pub fn text(&self) -> Option<&str> {
        match self {
            Outcome::Value { value } | Outcome::DefaultValue { value } => {
                value.strip_prefix('"').and_then(|v| v.strip_suffix('"'))
            }
            _ => None,
        }
    }
}

/// Evaluate one configuration for the given groups.
pub fn run_config(
    cfg: &Configuration,
    groups: &[&GroupAttributes],
    known_attributes: &BTreeSet<String>,
    engine: &Engine,
) -> ConfigReport {
    let mut problems = cfg.problems.clone();
    if cfg.switch_container_caveat() {
        problems.push("parentDistinguishedName routes with Switch without IgnoreFlowIfNullOrEmpty: Microsoft documents that on updates, with Entra ID as the source, such a Switch can evaluate to null (wrap it in IgnoreFlowIfNullOrEmpty or use nested IIF)".into());
    }
    if !cfg.object_mapping_enabled {
        problems.push(format!(
            "the group object mapping {:?} is disabled: Cloud Sync provisions no group with it",
            cfg.object_mapping
        ));
    }
    ConfigReport {
        domain: cfg.domain.clone(),
        service_principal: format!(
            "{} ({})",
            cfg.service_principal.display_name.as_deref().unwrap_or(""),
            cfg.service_principal.id
        ),
        job_id: cfg.job.id.clone(),
        job_status: job_status(cfg),
        scope_mode: cfg.scope.describe(),
        problems,
        groups: groups
            .iter()
            .map(|g| group_report(cfg, g, known_attributes, engine))
            .collect(),
    }
}

fn job_status(cfg: &Configuration) -> String {
    let j = &cfg.job;
    let mut s = j.status_code.clone().unwrap_or_else(|| "unknown".into());
    if let Some(q) = &j.quarantine {
        let _ = write!(
            s,
            " (quarantine: {}{})",
            q.reason.as_deref().unwrap_or("no reason given"),
            q.error
                .as_deref()
                .map(|e| format!(", {e}"))
                .unwrap_or_default()
        );
    }
    if let Some(st) = &j.schedule_state {
        let _ = write!(s, ", schedule {st}");
    }
    if let Some(i) = &j.interval {
        let _ = write!(s, " every {i}");
    }
    s
}

fn group_report(
    cfg: &Configuration,
    g: &GroupAttributes,
    known: &BTreeSet<String>,
    engine: &Engine,
) -> GroupReport {
    GroupReport {
        id: g.id().to_string(),
        display_name: g.display_name().to_string(),
        scope: cfg.scope_of(engine, g.id(), g),
        mappings: cfg
            .mappings
            .iter()
            .map(|m| mapping_report(m, g, known, engine))
            .collect(),
    }
}

fn mapping_report(
    m: &super::Mapping,
    g: &dyn Source,
    known: &BTreeSet<String>,
    engine: &Engine,
) -> MappingReport {
    let mut notes = Vec::new();
    if m.create_only() {
        notes.push("applies only when the group is created (flowType ObjectAddOnly)".into());
    }
    let (steps, outcome) = match &m.source {
        MappingSource::Members => (Vec::new(), Outcome::Members),
        MappingSource::Invalid(e) => (Vec::new(), Outcome::Invalid { message: e.clone() }),
        MappingSource::DefaultOnly => (
            Vec::new(),
            match &m.default_value {
                Some(d) => Outcome::DefaultValue {
                    value: Value::Str(d.clone()).render(),
                },
                None => Outcome::Value {
                    value: "null".into(),
                },
            },
        ),
        MappingSource::Expression(p) => {
            for a in p.attributes() {
                if !known.contains(&a) {
                    notes.push(format!(
                        "[{a}] is on no group in the bundle: it reads null (a directory extension must be collected with $select)"
                    ));
                }
            }
            if p.uses("IIF")
                && (p.uses("IsPresent") || p.uses("IsNullOrEmpty") || p.uses("IsNull"))
                && p.attributes().iter().any(|a| g.attribute(a).is_null())
            {
                notes.push("IIF tests a null attribute: Microsoft's reference calls this unsupported (\"the condition check fails\") while its own GroupDN mappings rely on it; gwb takes the documented branch".into());
            }
            let (r, steps) = engine.evaluate_traced(p, g);
            let outcome = match r {
                Ok(v) if v.is_null() => match &m.default_value {
                    Some(d) => {
                        notes.push(
                            "the expression gives null: the default value is used only when the group is created".into(),
                        );
                        Outcome::DefaultValue {
                            value: Value::Str(d.clone()).render(),
                        }
                    }
                    None => Outcome::Value { value: v.render() },
                },
                Ok(v) => Outcome::Value { value: v.render() },
                Err(Stop::IgnoreFlow) => Outcome::NotSent {
                    reason: Stop::IgnoreFlow.to_string(),
                },
                Err(Stop::Unforecastable(r)) => Outcome::Unforecastable { reason: r },
                Err(Stop::Error(e)) => Outcome::Error { message: e },
            };
            (steps, outcome)
        }
    };
    MappingReport {
        target: m.target.clone(),
        expression: m.text.clone(),
        flow_type: m.flow_type.clone(),
        steps,
        outcome,
        notes,
    }
}

/// The report as text, one block per group, steps indented by depth.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    for c in &r.configurations {
        let _ = writeln!(out, "Cloud Sync configuration {}", c.domain);
        let _ = writeln!(out, "  service principal: {}", c.service_principal);
        let _ = writeln!(out, "  job: {} ({})", c.job_id, c.job_status);
        let _ = writeln!(out, "  scope: {}", c.scope_mode);
        for p in &c.problems {
            let _ = writeln!(out, "  ! {p}");
        }
        for g in &c.groups {
            let _ = writeln!(out);
            let verdict = match g.scope.in_scope {
                Some(true) => "in scope",
                Some(false) => "out of scope: Cloud Sync skips this group",
                None => "scope cannot be told",
            };
            let _ = writeln!(out, "Group {:?} ({})", g.display_name, g.id);
            let _ = writeln!(out, "  Scoping: {verdict}");
            for s in &g.scope.steps {
                let _ = writeln!(out, "    {:<7} {}: {}", s.result, s.check, s.detail);
            }
            let _ = writeln!(out, "  Attribute mappings:");
            for m in &g.mappings {
                let _ = writeln!(out, "    {} = {}", m.target, m.expression);
                // Innermost first, indented by depth, the whole expression last; long
                // sub-expressions are shortened here (the JSON format has them in full).
                for s in &m.steps {
                    let _ = writeln!(
                        out,
                        "      {}{} → {}",
                        "  ".repeat(s.depth.min(12)),
                        shorten(&s.expression),
                        s.result
                    );
                }
                let shown = match &m.outcome {
                    Outcome::Value { value } => value.clone(),
                    Outcome::DefaultValue { value } => format!("{value} (default value)"),
                    Outcome::NotSent { reason } => reason.clone(),
                    Outcome::Unforecastable { reason } => format!("cannot be forecast: {reason}"),
                    Outcome::Error { message } => format!("error: {message}"),
                    Outcome::Members => {
                        "the group's members, as references to their AD objects (not an expression value)".into()
                    }
                    Outcome::Invalid { message } => format!("does not parse: {message}"),
                };
                let _ = writeln!(out, "      = {shown}");
                for n in &m.notes {
                    let _ = writeln!(out, "      note: {n}");
                }
            }
        }
        let _ = writeln!(out);
    }
    out
}

fn shorten(s: &str) -> String {
    const MAX: usize = 100;
    if s.chars().count() <= MAX {
        return s.to_string();
    }
    let head: String = s.chars().take(MAX / 2).collect();
    let tail: Vec<char> = s.chars().rev().take(MAX / 2 - 10).collect();
    let tail: String = tail.into_iter().rev().collect();
    format!("{head} … {tail}")
}
