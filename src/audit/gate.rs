//! The gate: which targets it judges, what fails it, and its result. Pure; `main` turns the
//! result into the process's exit code (the numbers are documented here and in the README).

use serde::Serialize;

use super::{Severity, TargetVerdict, Verdict};
use crate::core::{Flags, Target};

/// What the gate fails on (default: errors and incomplete evidence, every available target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatePolicy {
    /// `--gate TARGET` (repeatable). Empty: every forecast target that is available.
    pub targets: Vec<Target>,
    /// `--fail-on`: fail on counted findings at or above this severity; `None` = never.
    pub fail_on: Option<Severity>,
    /// `--allow-incomplete`: an `incomplete` verdict passes.
    pub allow_incomplete: bool,
    /// `--require-complete`: any missing or incomplete evidence fails (exit 3), needed or not.
    pub require_complete: bool,
}

impl Default for GatePolicy {
    fn default() -> GatePolicy {
        GatePolicy {
            targets: Vec::new(),
            fail_on: Some(Severity::Error),
            allow_incomplete: false,
            require_complete: false,
        }
    }
}

/// The gate's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GateResult {
    Passed,
    /// A gating target is blocked (or fails `--fail-on warning`, or is unavailable but gated).
    Failed,
    /// No gating target failed outright, but one lacks evidence (fails closed).
    Incomplete,
}

impl From<GateResult> for crate::outcome::RunOutcome {
    fn from(r: GateResult) -> Self {
        match r {
            GateResult::Passed => crate::outcome::RunOutcome::Pass,
            GateResult::Failed => crate::outcome::RunOutcome::GateFailed,
            GateResult::Incomplete => crate::outcome::RunOutcome::Incomplete,
        }
    }
}

/// One gating target's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetGate {
    pub target: Target,
    pub verdict: Verdict,
    pub passed: bool,
    /// Why, in words: "blocked by 2 errors", "ready", "incomplete: missing ad".
    pub summary: String,
}

impl TargetGate {
    /// The word a report shows for this target: `pass` only when the verdict is ready (with
    /// or without warnings) and passes; `not enforced` when a blocked verdict passes because
    /// of `--fail-on never`; `incomplete accepted` when an incomplete one passes because of
    /// `--allow-incomplete`; `FAIL` otherwise.
    pub fn mark(&self) -> &'static str {
        match (self.passed, self.verdict) {
            (true, Verdict::Ready | Verdict::ReadyWithWarnings) => "pass",
            (true, Verdict::Incomplete) => "incomplete accepted",
            (true, _) => "not enforced",
            (false, _) => "FAIL",
        }
    }
    /// True when the target passes on its merits (ready, or ready with warnings).
    pub fn truly_passed(&self) -> bool {
        self.passed && matches!(self.verdict, Verdict::Ready | Verdict::ReadyWithWarnings)
    }
}

/// The gate as reported (JSON `gate` object) and as the closing line says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Gate {
    /// The targets the gate judges.
    pub targets: Vec<Target>,
    /// `error`, `warning` or `never`.
    pub fail_on: &'static str,
    pub allow_incomplete: bool,
    pub require_complete: bool,
    pub result: GateResult,
    pub exit_code: u8,
    pub per_target: Vec<TargetGate>,
    /// Targets shown for comparison only (e.g. connect-v2 when v2 is off).
    pub not_gated: Vec<Target>,
    /// The closing line, as printed on stderr.
    pub line: String,
    /// The gate's result in words: `passed` only when every gating target is ready (or ready
    /// with warnings); `not enforced` when the exit code is 0 only because of `--fail-on
    /// never`; `incomplete accepted` when it is 0 only because of `--allow-incomplete`;
    /// `FAILED` or `INCOMPLETE` otherwise.
    pub headline: &'static str,
}

impl Gate {
    /// True when the gate passed and every gating target passed on its merits.
    pub fn truly_passed(&self) -> bool {
        self.result == GateResult::Passed && self.per_target.iter().all(TargetGate::truly_passed)
    }
}

/// Gating targets: the `--gate` list, else every forecast target except an unavailable one.
pub fn gating_targets(forecast: &[Target], requested: &[Target], flags: Flags) -> Vec<Target> {
    if !requested.is_empty() {
        return forecast
            .iter()
            .copied()
            .filter(|t| requested.contains(t))
            .collect();
    }
    forecast
        .iter()
        .copied()
        .filter(|&t| !(t == Target::ConnectV2 && flags.v2 == Some(false)))
        .collect()
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

fn describe(v: &TargetVerdict) -> String {
    let waived = if v.waived > 0 {
        format!(", {} waived", v.waived)
    } else {
        String::new()
    };
    match v.verdict {
        Verdict::Blocked => format!("blocked by {}{waived}", plural(v.blocking, "error")),
        Verdict::Incomplete => format!("incomplete, missing {}", v.missing.join(", ")),
        Verdict::ReadyWithWarnings => {
            format!("ready with {}{waived}", plural(v.warnings, "warning"))
        }
        Verdict::Ready => format!("ready{waived}"),
        Verdict::Unavailable => "unavailable".into(),
    }
}

/// Judge the verdicts.
pub fn evaluate(
    policy: &GatePolicy,
    verdicts: &[TargetVerdict],
    missing: &[String],
    incomplete: &[String],
) -> Gate {
    let mut failed = false;
    let mut lacking = false;
    let mut per_target = Vec::new();
    let mut not_gated = Vec::new();
    for v in verdicts {
        if !v.gated {
            not_gated.push(v.target);
            continue;
        }
        let (fails, incomplete_fail) = match v.verdict {
            Verdict::Blocked => (policy.fail_on.is_some(), false),
            Verdict::Unavailable => (true, false),
            // Counted warnings fail `--fail-on warning` even when evidence is also missing.
            Verdict::Incomplete => (
                v.warnings > 0 && policy.fail_on.is_some_and(|s| s <= Severity::Warning),
                !policy.allow_incomplete,
            ),
            Verdict::ReadyWithWarnings => (
                policy.fail_on.is_some_and(|s| s <= Severity::Warning),
                false,
            ),
            Verdict::Ready => (false, false),
        };
        failed |= fails;
        lacking |= incomplete_fail;
        per_target.push(TargetGate {
            target: v.target,
            verdict: v.verdict,
            passed: !fails && !incomplete_fail,
            summary: describe(v),
        });
    }
    let evidence_gap = policy.require_complete && !(missing.is_empty() && incomplete.is_empty());
    let result = if failed {
        GateResult::Failed
    } else if lacking || evidence_gap {
        GateResult::Incomplete
    } else {
        GateResult::Passed
    };
    let mut parts: Vec<String> = per_target
        .iter()
        .map(|t| format!("{}: {}", t.target.as_str(), t.summary))
        .collect();
    if evidence_gap && !lacking {
        let mut all: Vec<&str> = missing.iter().map(String::as_str).collect();
        all.extend(incomplete.iter().map(String::as_str));
        parts.push(format!("--require-complete: missing {}", all.join(", ")));
    }
    if per_target.is_empty() {
        parts.push("no target gated".into());
    }
    let not_enforced = per_target.iter().any(|t| t.mark() == "not enforced");
    let accepted = per_target.iter().any(|t| t.mark() == "incomplete accepted");
    let head = match result {
        GateResult::Passed if not_enforced => "not enforced",
        GateResult::Passed if accepted => "incomplete accepted",
        GateResult::Passed => "passed",
        GateResult::Failed => "FAILED",
        GateResult::Incomplete => "INCOMPLETE",
    };
    let why = match head {
        "not enforced" => " under --fail-on never",
        "incomplete accepted" => " under --allow-incomplete",
        _ => "",
    };
    let mut line = format!("gate: {head}{why} ({})", parts.join("; "));
    for t in &not_gated {
        line.push_str(&format!("; {} not gated", t.as_str()));
    }
    Gate {
        targets: per_target.iter().map(|t| t.target).collect(),
        fail_on: match policy.fail_on {
            Some(Severity::Error) => "error",
            Some(Severity::Warning) => "warning",
            Some(Severity::Info) => "info",
            None => "never",
        },
        allow_incomplete: policy.allow_incomplete,
        require_complete: policy.require_complete,
        result,
        exit_code: crate::outcome::RunOutcome::from(result).exit_code(),
        per_target,
        not_gated,
        line,
        headline: head,
    }
}
