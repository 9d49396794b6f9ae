//! SARIF 2.1.0 for GitHub code scanning: one rule per finding code (help text, default
//! level), one result per counted or waived finding, with a logical location (group id, OU
//! DN, setting) and the evidence file it rests on. Waived findings carry an accepted
//! suppression with the waiver's reason.

use serde_json::{Value, json};

use crate::audit::{Code, Finding, Report, Severity, section};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The evidence file a finding rests on, relative to the bundle.
fn artifact(f: &Finding) -> String {
    let quality = matches!(
        f.code,
        Code::EvidenceTruncated | Code::EvidenceUnrecognized | Code::EvidenceNote
    );
    if quality && !f.subject.is_empty() {
        return f.subject.replace('\\', "/");
    }
    if f.code == Code::EvidenceMissing && f.subject == section::AD {
        return "ad.ldif".into();
    }
    if matches!(f.code, Code::WaiverExpired | Code::WaiverUnmatched) {
        // "FILE: waiver N"
        return f
            .evidence
            .rsplit_once(": waiver")
            .map(|(file, _)| file.replace('\\', "/"))
            .unwrap_or_else(|| "waivers".into());
    }
    if f.code.needs().contains(&section::AD) {
        "ad.ldif".into()
    } else {
        "tenant.json".into()
    }
}

/// The base every result's `uri` is relative to: the bundle directory.
pub const BUNDLE_BASE: &str = "BUNDLE";
/// The directory gwb ran in (in CI, the checkout; GitHub code scanning resolves it to the
/// repository root).
pub const SRCROOT_BASE: &str = "%SRCROOT%";

/// `originalUriBaseIds`: where BUNDLE is. A relative bundle path is relative to %SRCROOT% (so
/// GitHub links results to the file in the repository); an absolute one is a file URI; a live
/// collection has no files, only a description.
fn uri_base_ids(origin: &str) -> Value {
    let srcroot =
        json!({"description": {"text": "The directory gwb ran in (in CI, the checkout)."}});
    let describe = "The snapshot bundle the audit read.";
    let path = std::path::Path::new(origin);
    let bundle = if origin.is_empty() || origin == "live" {
        json!({"description": {"text": "A live collection (no bundle files)."}})
    } else if path.has_root() {
        // Absolute, or (Windows) rooted on the current drive: `\bundles\x` is `C:\bundles\x`.
        let full = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        match url::Url::from_directory_path(&full) {
            Ok(u) => json!({"uri": u.as_str(), "description": {"text": describe}}),
            Err(()) => json!({"description": {"text": describe}}),
        }
    } else {
        let mut rel = percent_path(&origin.replace('\\', "/"));
        while rel.starts_with("./") {
            rel.drain(..2);
        }
        if !rel.ends_with('/') {
            rel.push('/');
        }
        if rel == "/" || rel == "./" {
            json!({"uri": "", "uriBaseId": SRCROOT_BASE, "description": {"text": describe}})
        } else {
            json!({"uri": rel, "uriBaseId": SRCROOT_BASE, "description": {"text": describe}})
        }
    };
    json!({ SRCROOT_BASE: srcroot, BUNDLE_BASE: bundle })
}

/// A relative path as a URI reference: every byte outside RFC 3986's unreserved set and `/`
/// percent-encoded.
fn percent_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn logical(f: &Finding) -> Value {
    let s = f.subject.as_str();
    let is_guid = s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4;
    let (kind, fqn) = if is_guid {
        ("object", format!("groups/{s}"))
    } else if s.contains('=') && s.contains(',') || s.to_ascii_uppercase().starts_with("OU=") {
        ("resource", format!("ad/{s}"))
    } else {
        ("property", format!("settings/{s}"))
    };
    json!({"name": s, "fullyQualifiedName": fqn, "kind": kind})
}

fn rule_name(c: Code) -> String {
    c.as_str()
        .split('-')
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

pub fn render(r: &Report) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            let targets: Vec<&str> = c.scope().iter().map(|t| t.as_str()).collect();
            json!({
                "id": c.as_str(),
                "name": rule_name(*c),
                "shortDescription": {"text": c.description().split(". ").next().unwrap_or_default()},
                "fullDescription": {"text": c.description()},
                "help": {
                    "text": format!("{}\n\nRemediation: {}", c.description(), c.remediation()),
                    "markdown": format!("{}\n\n**Remediation:** {}\n\nSee `gwb codes {}`.", c.description(), c.remediation(), c.as_str()),
                },
                "defaultConfiguration": {"level": level(c.default_severity())},
                "properties": {
                    "tags": ["entra", "group-writeback"],
                    "targets": if targets.is_empty() { vec!["all"] } else { targets },
                },
            })
        })
        .collect();
    let results: Vec<Value> = r
        .findings
        .iter()
        .filter(|f| f.code != Code::ForecastSummary)
        .map(|f| {
            let index = Code::ALL.iter().position(|c| *c == f.code).unwrap_or(0);
            let targets: Vec<&str> = f.targets.iter().map(|t| t.as_str()).collect();
            let mut text = f.message.clone();
            if !f.subject.is_empty() && !text.contains(&f.subject) {
                text = format!("{}: {text}", f.subject);
            }
            if !f.remediation.is_empty() {
                text.push_str(&format!(" Remediation: {}", f.remediation));
            }
            let mut res = json!({
                "ruleId": f.code.as_str(),
                "ruleIndex": index,
                "level": level(f.severity),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": percent_path(&artifact(f)), "uriBaseId": BUNDLE_BASE}},
                    "logicalLocations": [logical(f)],
                }],
                "partialFingerprints": {"gwbFinding/v1": format!("{}:{}", f.code.as_str(), f.subject.to_ascii_lowercase())},
                "properties": {
                    "subject": f.subject,
                    "targets": if targets.is_empty() { vec!["all"] } else { targets },
                    "evidence": f.evidence,
                },
            });
            if let Some(w) = &f.waived {
                res["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!("{} (approved by {}, until {})", w.reason, w.approved_by, w.expires),
                }]);
            }
            res
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gwb",
                "version": r.gwb_version,
                "semanticVersion": r.gwb_version,
                "rules": rules,
            }},
            "originalUriBaseIds": uri_base_ids(&r.snapshot.origin),
            "invocations": [{
                "executionSuccessful": true,
                "properties": {
                    "gate": r.gate.line,
                    // In words: "passed" only when every gating target is ready.
                    "result": r.gate.headline,
                    "exitCode": r.gate.exit_code,
                },
            }],
            "properties": {
                "snapshot": r.snapshot.origin,
                "verdicts": r.verdicts.iter().map(|v| json!({"target": v.target.as_str(), "verdict": v.verdict.as_str()})).collect::<Vec<_>>(),
            },
            "results": results,
        }],
    })
}
