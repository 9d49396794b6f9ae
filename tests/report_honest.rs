//! An honest gate in every format: under `--fail-on never` and `--allow-incomplete` no format
//! says "passed" (or ✅) while a gating verdict is blocked or incomplete; each says "gate not
//! enforced" or "incomplete accepted" with the real verdicts; JUnit and SARIF report the
//! findings whatever the policy; "not checked" lists only checks that did not run. A healthy
//! tenant still passes plainly.

use std::path::Path;

use serde_json::Value;

use crate::report_gate::healthy_bundle;
use crate::util::{fixture, gwb};

const LAX: [&str; 3] = ["--fail-on", "never", "--allow-incomplete"];

/// `gwb audit --snapshot DIR --format F` plus `extra`: exit code and stdout.
fn audit(dir: &Path, format: &str, extra: &[&str]) -> (i32, String, String) {
    let out = gwb()
        .env("NO_COLOR", "1")
        .env_remove("GWB_CONFIG")
        .current_dir(std::env::temp_dir())
        .args(["audit", "--snapshot"])
        .arg(dir)
        .args(["--format", format])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn contoso() -> std::path::PathBuf {
    fixture("contoso")
}

#[test]
fn under_fail_on_never_the_table_says_not_enforced_with_the_real_verdicts() {
    let (code, table, stderr) = audit(&contoso(), "table", &LAX);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        table.contains("  not enforced  connect-v1: blocked by 1 error"),
        "{table}"
    );
    assert!(
        table.contains("  not enforced  gwb: blocked by 2 errors"),
        "{table}"
    );
    assert!(
        table.contains("  incomplete accepted  cloud-sync: incomplete, missing members"),
        "{table}"
    );
    assert!(
        !table.lines().any(|l| l.trim_start().starts_with("pass ")),
        "{table}"
    );
    assert!(
        stderr
            .contains("gate: not enforced under --fail-on never (connect-v1: blocked by 1 error;"),
        "{stderr}"
    );
    assert!(!stderr.contains("gate: passed"), "{stderr}");
}

#[test]
fn under_fail_on_never_markdown_and_html_never_say_passed() {
    let (code, md, _) = audit(&contoso(), "markdown", &LAX);
    assert_eq!(code, 0);
    assert!(
        md.starts_with("## ⚠️ gwb audit: gate not enforced (exit 0)"),
        "{md}"
    );
    assert!(!md.contains('✅'), "{md}");
    assert!(!md.contains("gate passed"), "{md}");
    assert!(
        md.contains("- ⚠️ **gwb**: blocked by 2 errors (not enforced)"),
        "{md}"
    );
    assert!(
        md.contains("- ⚠️ **cloud-sync**: incomplete, missing members (incomplete accepted)"),
        "{md}"
    );

    let (code, html, _) = audit(&contoso(), "html", &LAX);
    assert_eq!(code, 0);
    assert!(
        !html.contains("Gate passed"),
        "a green banner over blocked cards"
    );
    assert!(html.contains("data-result=\"not-enforced\""));
    assert!(html.contains("Gate not enforced (--fail-on never)"));
    assert!(
        !html.contains("gated: passes"),
        "a blocked card said it passes"
    );
    assert!(html.contains("gated: not enforced (blocked by 2 errors)"));
    assert!(html.contains("gated: incomplete accepted (incomplete, missing members)"));
}

#[test]
fn junit_and_sarif_report_the_findings_whatever_the_policy() {
    for extra in [&LAX[..], &[][..]] {
        let (_, xml, _) = audit(&contoso(), "junit", extra);
        let head = xml
            .lines()
            .find(|l| l.starts_with("<testsuites"))
            .unwrap()
            .to_string();
        let failures: usize = head
            .split("failures=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        // connect-v1 and gwb are blocked (verdict + each error finding).
        assert!(failures >= 5, "{extra:?}: {head}");
        assert!(
            xml.contains("blocked by 2 errors"),
            "{extra:?}: the gwb verdict is reported"
        );
        let (_, sarif, _) = audit(&contoso(), "sarif", extra);
        let v: Value = serde_json::from_str(&sarif).unwrap();
        let run = &v["runs"][0];
        let errors = run["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["level"] == "error")
            .count();
        assert!(errors >= 3, "{extra:?}: {errors} error results");
        assert_ne!(run["invocations"][0]["properties"]["result"], "passed");
    }
    // The lax run's JUnit failures name the policy.
    let (_, xml, _) = audit(&contoso(), "junit", &LAX);
    assert!(xml.contains("blocked by 2 errors (not enforced)"), "{xml}");
}

#[test]
fn not_checked_lists_only_checks_that_did_not_run() {
    let (_, json, _) = audit(&contoso(), "json", &LAX);
    let v: Value = serde_json::from_str(&json).unwrap();
    // The gwb target has a domain-local-nesting error and is missing members evidence.
    let has_finding = v["findings"].as_array().unwrap().iter().any(|f| {
        f["code"] == "domain-local-nesting"
            && f["targets"]
                .as_array()
                .is_none_or(|t| t.is_empty() || t.iter().any(|t| t == "gwb"))
    });
    assert!(
        has_finding,
        "the fixture has a domain-local-nesting finding"
    );
    let gwb = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "gwb")
        .unwrap();
    assert_eq!(gwb["missing"], serde_json::json!(["members"]));
    assert!(
        !gwb["unchecked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "domain-local-nesting"),
        "{gwb}"
    );
    let (_, html, _) = audit(&contoso(), "html", &LAX);
    let card = html
        .split("<div class=\"card\" data-target=\"gwb\"")
        .nth(1)
        .and_then(|c| c.split("</div>\n").next())
        .unwrap();
    assert!(!card.contains("domain-local-nesting"), "{card}");
    assert!(card.contains("missing: members"), "{card}");
}

#[test]
fn a_healthy_tenant_still_passes_plainly() {
    let dir = tempfile::tempdir().unwrap();
    healthy_bundle(dir.path());
    let (code, md, err) = audit(dir.path(), "markdown", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        md.starts_with("## ✅ gwb audit: gate passed (exit 0)"),
        "{md}"
    );
    let (_, table, _) = audit(dir.path(), "table", &[]);
    assert!(table.contains("  pass  gwb: "), "{table}");
}
