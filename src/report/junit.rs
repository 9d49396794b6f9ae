//! JUnit XML for CI systems that show test results (Azure DevOps, Jenkins, GitLab): one
//! testsuite per gating target, one testcase per check (a finding, or a check that found
//! nothing), plus the target's verdict. Failures carry the message and remediation; waived
//! findings are skipped with the waiver's reason.

use crate::audit::gate::TargetGate;
use crate::audit::{Code, Finding, Report, Severity, Verdict};

pub(crate) use crate::escape::xml;

struct Case {
    class: String,
    name: String,
    /// (type, message, body)
    failure: Option<(String, String, String)>,
    skipped: Option<String>,
    out: Option<String>,
}

fn body(f: &Finding) -> String {
    let mut b = format!("{}: {}", f.subject, f.message);
    if !f.evidence.is_empty() {
        b.push_str(&format!("\nEvidence: {}", f.evidence));
    }
    if !f.remediation.is_empty() {
        b.push_str(&format!("\nRemediation: {}", f.remediation));
    }
    b
}

fn suite_cases(r: &Report, t: &TargetGate) -> Vec<Case> {
    let target = t.target;
    let class = format!("gwb.{}", target.as_str());
    let v = r.verdicts.iter().find(|v| v.target == target);
    let fail_on = match r.gate.fail_on {
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        "never" => None,
        _ => Some(Severity::Error),
    };
    // The verdict fails whatever the gate policy when it is not ready: a blocked target under
    // --fail-on never is a failure ("gate not enforced"); an incomplete one accepted by
    // --allow-incomplete is skipped, saying so.
    let accepted = t.passed && t.verdict == Verdict::Incomplete;
    let verdict_fails = !t.truly_passed() && !accepted;
    let mut cases = vec![Case {
        class: class.clone(),
        name: "verdict".into(),
        failure: verdict_fails.then(|| {
            let note = if t.passed {
                format!(" ({})", t.mark())
            } else {
                String::new()
            };
            (
                t.verdict.as_str().to_string(),
                format!("{}{note}", t.summary),
                format!("{}: {}{note}", target.as_str(), t.summary),
            )
        }),
        skipped: accepted.then(|| format!("{} (incomplete accepted)", t.summary)),
        out: t.truly_passed().then(|| t.summary.clone()),
    }];
    let findings: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.applies_to(target) && f.code != Code::ForecastSummary)
        .collect();
    for f in &findings {
        let name = format!("{}: {}", f.code.as_str(), f.subject);
        // An error finding is a failure whatever the gate policy; a warning is one when the
        // gate fails on warnings.
        let fails = f.counts()
            && f.severity > Severity::Info
            && (f.severity >= Severity::Error || fail_on.is_some_and(|min| f.severity >= min));
        cases.push(Case {
            class: format!("{class}.{}", f.code.as_str()),
            name,
            failure: fails.then(|| (f.severity.as_str().to_string(), f.message.clone(), body(f))),
            skipped: f.waived.as_ref().map(|w| {
                format!(
                    "waived until {} by {}: {}",
                    w.expires, w.approved_by, w.reason
                )
            }),
            out: (!fails && f.waived.is_none()).then(|| body(f)),
        });
    }
    // Checks that ran and found nothing pass; checks that could not run say why.
    for &c in Code::ALL {
        if !c.applies_to(target)
            || c.is_evidence_gap()
            || c.default_severity() == Severity::Info
            || findings.iter().any(|f| f.code == c)
            || matches!(c, Code::WaiverExpired | Code::WaiverUnmatched)
        {
            continue;
        }
        let unchecked = v.is_some_and(|v| v.unchecked.contains(&c));
        cases.push(Case {
            class: format!("{class}.{}", c.as_str()),
            name: c.as_str().to_string(),
            failure: (unchecked && t.verdict == Verdict::Incomplete && !t.passed).then(|| {
                (
                    "incomplete".to_string(),
                    format!("not checked: missing {}", c.needs().join(", ")),
                    format!(
                        "{}\nRemediation: collect the missing evidence",
                        c.description()
                    ),
                )
            }),
            skipped: (unchecked && t.passed)
                .then(|| format!("not checked: missing {}", c.needs().join(", "))),
            out: None,
        });
    }
    cases
}

pub fn render(r: &Report) -> String {
    let suites: Vec<(&TargetGate, Vec<Case>)> = r
        .gate
        .per_target
        .iter()
        .map(|t| (t, suite_cases(r, t)))
        .collect();
    let count = |cs: &[Case], f: fn(&Case) -> bool| cs.iter().filter(|c| f(c)).count();
    let all: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = suites
        .iter()
        .map(|(_, c)| count(c, |c| c.failure.is_some()))
        .sum();
    let skipped: usize = suites
        .iter()
        .map(|(_, c)| count(c, |c| c.skipped.is_some()))
        .sum();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    o.push_str(&format!(
        "<testsuites name=\"gwb audit\" tests=\"{all}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n"
    ));
    for (t, cases) in &suites {
        o.push_str(&format!(
            "  <testsuite name=\"gwb audit: {}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" timestamp=\"{}\">\n",
            t.target.as_str(),
            cases.len(),
            count(cases, |c| c.failure.is_some()),
            count(cases, |c| c.skipped.is_some()),
            xml(r.generated_at.trim_end_matches('Z'))
        ));
        o.push_str(&format!(
            "    <properties>\n      <property name=\"verdict\" value=\"{}\"/>\n      <property name=\"snapshot\" value=\"{}\"/>\n      <property name=\"gate\" value=\"{}\"/>\n    </properties>\n",
            t.verdict.as_str(),
            xml(&r.snapshot.origin),
            xml(&r.gate.line)
        ));
        for c in cases {
            o.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                xml(&c.class),
                xml(&c.name)
            ));
            if c.failure.is_none() && c.skipped.is_none() && c.out.is_none() {
                o.push_str("/>\n");
                continue;
            }
            o.push_str(">\n");
            if let Some((ty, msg, text)) = &c.failure {
                o.push_str(&format!(
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                    xml(ty),
                    xml(msg),
                    xml(text)
                ));
            }
            if let Some(why) = &c.skipped {
                o.push_str(&format!("      <skipped message=\"{}\"/>\n", xml(why)));
            }
            if let Some(out) = &c.out {
                o.push_str(&format!("      <system-out>{}</system-out>\n", xml(out)));
            }
            o.push_str("    </testcase>\n");
        }
        o.push_str("  </testsuite>\n");
    }
    o.push_str("</testsuites>\n");
    o
}
