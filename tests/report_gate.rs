//! Integration tests: the gate fails closed (empty bundle, no ad.ldif), a healthy tenant passes
//! the default gate, waivers accept exactly one subject, and the output discipline (one closing
//! line on stderr, closed pipes, usage errors, no ANSI when redirected).

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{fixture, gwb};

/// A healthy tenant: contoso with its blocking problems fixed (Entra Connect at the floor, no
/// name clash, no domain-local nesting, every member list collected). v2 is off.
pub fn healthy_bundle(dir: &Path) {
    let c = fixture("contoso");
    for f in ["ad.ldif", "bundle.json"] {
        std::fs::copy(c.join(f), dir.join(f)).unwrap();
    }
    std::fs::create_dir_all(dir.join("connect")).unwrap();
    for e in std::fs::read_dir(c.join("connect")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join("connect").join(e.file_name())).unwrap();
    }
    let mut t: Value =
        serde_json::from_str(&std::fs::read_to_string(c.join("tenant.json")).unwrap()).unwrap();
    t["onPremisesSynchronization"]["configuration"]["synchronizationClientVersion"] =
        "2.6.84.0".into();
    let groups = t["groups"].as_array_mut().unwrap();
    groups.retain(|g| g["displayName"] != "Name Clash");
    for g in groups.iter_mut() {
        if g["displayName"] == "File Share Access" {
            g["members"]
                .as_array_mut()
                .unwrap()
                .retain(|m| m["displayName"] != "DL-FileShare-RW");
        }
        if g["displayName"] == "Workstation Admins" {
            g["members"] = Value::Array(vec![]);
        }
    }
    std::fs::write(dir.join("tenant.json"), serde_json::to_vec(&t).unwrap()).unwrap();
}

fn run(args: &[&str]) -> (Value, i32, String) {
    let out = gwb()
        .arg("audit")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        v,
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn verdict<'a>(v: &'a Value, target: &str) -> &'a Value {
    v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["target"] == target)
        .unwrap()
}

#[test]
fn a_healthy_tenant_passes_the_default_gate_with_v2_off() {
    let dir = tempfile::tempdir().unwrap();
    healthy_bundle(dir.path());
    let (v, code, err) = run(&["--snapshot", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["gate"]["result"], "passed");
    assert_eq!(v["gate"]["exitCode"], 0);
    assert_eq!(
        v["gate"]["targets"],
        serde_json::json!(["connect-v1", "cloud-sync", "gwb"])
    );
    assert_eq!(verdict(&v, "connect-v2")["verdict"], "unavailable");
    assert_eq!(verdict(&v, "connect-v2")["gated"], false);
    for t in ["connect-v1", "cloud-sync", "gwb"] {
        let vd = &verdict(&v, t)["verdict"];
        assert!(vd == "ready" || vd == "ready-with-warnings", "{t}: {vd}");
    }
    // The closing line is the only line on stderr, and says why.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("gate: passed ("), "{err}");
    assert!(err.contains("connect-v2 not gated"), "{err}");
    // Gating connect-v2 explicitly while v2 is off fails.
    let (_, code, err) = run(&[
        "--snapshot",
        dir.path().to_str().unwrap(),
        "--gate",
        "connect-v2",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("connect-v2: unavailable"), "{err}");
}

#[test]
fn a_bundle_with_only_its_manifest_fails_closed_with_exit_3_naming_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    // A directory that holds nothing of a bundle is an input error (see inputs::).
    let (_, code, err) = run(&["--snapshot", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not a snapshot bundle"), "{err}");
    // A bundle with only its manifest: every section is missing.
    std::fs::write(dir.path().join("bundle.json"), "{}").unwrap();
    let (v, code, err) = run(&["--snapshot", dir.path().to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(v["gate"]["result"], "incomplete");
    for vd in v["verdicts"].as_array().unwrap() {
        assert_eq!(vd["verdict"], "incomplete", "{vd}");
        let missing: Vec<&str> = vd["missing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        assert!(
            missing.contains(&"ad") && missing.contains(&"groups"),
            "{vd}"
        );
    }
    assert!(err.starts_with("gate: INCOMPLETE ("), "{err}");
    assert!(err.contains("missing ad"), "{err}");
    // Accepting incomplete evidence explicitly passes.
    let (_, code, _) = run(&[
        "--snapshot",
        dir.path().to_str().unwrap(),
        "--allow-incomplete",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn a_bundle_without_ad_ldif_fails_closed_naming_ad() {
    let dir = tempfile::tempdir().unwrap();
    healthy_bundle(dir.path());
    std::fs::remove_file(dir.path().join("ad.ldif")).unwrap();
    let (v, code, err) = run(&["--snapshot", dir.path().to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    for t in ["connect-v1", "cloud-sync", "gwb"] {
        let vd = verdict(&v, t);
        assert_eq!(vd["verdict"], "incomplete", "{vd}");
        assert_eq!(vd["missing"], serde_json::json!(["ad"]), "{vd}");
        let unchecked: Vec<&str> = vd["unchecked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert!(
            unchecked.contains(&"domain-local-nesting") && unchecked.contains(&"name-collision"),
            "{vd}"
        );
    }
    assert!(err.contains("gwb: incomplete, missing ad"), "{err}");
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// The fixture's two member-limit and domain-local groups are different subjects: a waiver for
/// one accepts that group's finding only.
#[test]
fn a_waiver_accepts_exactly_one_groups_finding_and_an_expired_one_fails_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    healthy_bundle(dir.path());
    // Two name collisions: put two hand-made objects in the OU under two groups' CNs.
    let mut ldif = std::fs::read_to_string(dir.path().join("ad.ldif")).unwrap();
    let ids = [
        "01d796ba-c643-5238-b904-a89132c39881", // Helpdesk Operators
        "13920c67-c1f3-5b41-8168-08c668b0fa5b", // Contractors
    ];
    for id in ids {
        ldif.push_str(&format!(
            "\ndn: CN=Group_{id},OU=Cloud Groups,OU=Contoso,DC=contoso,DC=com\nobjectClass: top\nobjectClass: group\ncn: Group_{id}\ngroupType: -2147483646\nobjectGUID:: {}\n",
            base64_guid(id)
        ));
    }
    std::fs::write(dir.path().join("ad.ldif"), ldif).unwrap();
    let snap = dir.path().to_str().unwrap().to_string();
    let (v, code, _) = run(&["--snapshot", &snap, "--gate", "gwb"]);
    assert_eq!(code, 1, "two collisions block gwb");
    let collisions: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "name-collision")
        .collect();
    assert_eq!(collisions.len(), 2, "one finding per group");
    let waiver = |expires: &str| {
        format!(
            "[[waiver]]\ncode = \"name-collision\"\nsubject = \"{}\"\nreason = \"The hand-made group is renamed in CHG-1234\"\nexpires = \"{expires}\"\napprovedBy = \"CAB 2026-11-30\"\n",
            ids[0]
        )
    };
    let w = write(dir.path(), "waivers.toml", &waiver("2099-01-31"));
    let (v, code, err) = run(&["--snapshot", &snap, "--gate", "gwb", "--waivers", &w]);
    assert_eq!(code, 1, "the other group's collision still blocks: {err}");
    let f = |v: &Value, id: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "name-collision" && f["subject"] == id)
            .cloned()
            .unwrap()
    };
    let waived = f(&v, ids[0]);
    assert_eq!(
        waived["waived"]["reason"],
        "The hand-made group is renamed in CHG-1234"
    );
    assert_eq!(waived["waived"]["approvedBy"], "CAB 2026-11-30");
    assert!(f(&v, ids[1]).get("waived").is_none());
    assert_eq!(verdict(&v, "gwb")["waived"], 1);
    assert_eq!(verdict(&v, "gwb")["blocking"], 1);
    // Waiving both (JSON this time) passes; the waived findings stay visible.
    let both = format!(
        "{{\"waivers\": [{}]}}",
        ids.iter()
            .map(|id| format!("{{\"code\":\"name-collision\",\"subject\":\"{id}\",\"reason\":\"CHG-1234\",\"expires\":\"2099-01-31\",\"approvedBy\":\"CAB\"}}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let w2 = write(dir.path(), "waivers.json", &both);
    let (v, code, err) = run(&["--snapshot", &snap, "--gate", "gwb", "--waivers", &w2]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 waived"), "{err}");
    assert_eq!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "name-collision" && f.get("waived").is_some())
            .count(),
        2
    );
    // An expired waiver fails the gate and says so.
    let old = write(dir.path(), "old.toml", &waiver("2026-11-01"));
    let (v, code, err) = run(&["--snapshot", &snap, "--gate", "gwb", "--waivers", &old]);
    assert_eq!(code, 1, "{err}");
    let expired = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "waiver-expired")
        .expect("waiver-expired finding");
    assert_eq!(expired["severity"], "error");
    assert!(
        expired["message"]
            .as_str()
            .unwrap()
            .contains("expired on 2026-11-01")
    );
    assert!(f(&v, ids[0]).get("waived").is_none());
    // A waiver that matches nothing is a warning, and does not fail the default gate by itself.
    let stray = write(
        dir.path(),
        "stray.toml",
        "[[waiver]]\ncode = \"name-collision\"\nsubject = \"00000000-0000-0000-0000-000000000000\"\nreason = \"typo\"\nexpires = \"2099-01-01\"\napprovedBy = \"CAB\"\n",
    );
    let (v, _, _) = run(&["--snapshot", &snap, "--gate", "gwb", "--waivers", &stray]);
    let unmatched = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "waiver-unmatched")
        .expect("waiver-unmatched");
    assert_eq!(unmatched["severity"], "warning");
    // A malformed waiver file is an input error naming the file and the waiver.
    let bad = write(
        dir.path(),
        "bad.json",
        "[{\"code\":\"no-such-code\",\"subject\":\"x\",\"reason\":\"r\",\"expires\":\"2099-01-01\",\"approvedBy\":\"a\"}]",
    );
    let out = gwb()
        .args(["audit", "--snapshot", &snap, "--waivers", &bad])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad.json: waiver 1") && err.contains("no-such-code"),
        "{err}"
    );
}

/// objectGUID bytes (little-endian first three fields) of a GUID, base64 for LDIF.
fn base64_guid(id: &str) -> String {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    let b: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    // A different GUID than the group's own, so the object is not gwb's.
    let mut v = vec![b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]];
    v.extend_from_slice(&b[8..]);
    v[15] ^= 0xff;
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(v)
}

#[test]
#[cfg_attr(windows, ignore = "pipes through Linux sh, bash and head")]
fn json_piped_into_head_exits_as_the_gate_says_with_only_the_gate_line() {
    let c = fixture("contoso");
    let bin = assert_cmd::cargo::cargo_bin("gwb");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' audit --snapshot '{}' --format json | head -1; echo \"rc=${{PIPESTATUS:-$?}}\"",
            bin.display(),
            c.display()
        ))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stdout.lines().next(), Some("{"));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("gate: FAILED ("), "{stderr}");
    assert!(!stderr.contains("Broken pipe"));
    // The exit status of gwb itself, through a pipe that closes early.
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "'{}' audit --snapshot '{}' --format json | head -1 >/dev/null; echo ${{PIPESTATUS[0]}}",
            bin.display(),
            c.display()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "1");
    // --quiet: nothing at all on stderr.
    let out = gwb()
        .args(["--quiet", "audit", "--snapshot", c.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty());
}

#[test]
fn unsupported_output_combinations_are_usage_errors() {
    let c = fixture("contoso");
    let c = c.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Vec<String>> = vec![
        vec![
            "--format".into(),
            "json".into(),
            "--format".into(),
            "html".into(),
        ],
        vec![
            "--output".into(),
            dir.path().join("r.out").display().to_string(),
        ],
        vec![
            "--format".into(),
            "json".into(),
            "--output".into(),
            dir.path().join("r.html").display().to_string(),
        ],
        vec![
            "--shape".into(),
            "msidentitytools".into(),
            "--format".into(),
            "table".into(),
        ],
        vec!["--output".into(), "pdf=r.pdf".into()],
        vec!["--deny".into(), "no-such-code".into()],
        vec![
            "--deny".into(),
            "name-collision".into(),
            "--allow".into(),
            "name-collision".into(),
        ],
    ];
    for extra in cases {
        let out = gwb()
            .args(["audit", "--snapshot", c])
            .args(&extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(out.stdout.is_empty(), "{extra:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            !err.contains("gate:"),
            "no gate line on a usage error: {err}"
        );
    }
    let out = gwb().args(["codes", "--format", "html"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // The format comes from --output's extension.
    let html = dir.path().join("r.html");
    gwb()
        .args(["audit", "--snapshot", c, "--output", html.to_str().unwrap()])
        .assert()
        .code(1);
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
    // Several formats into one directory, fixed names.
    let out_dir = dir.path().join("reports");
    gwb()
        .args([
            "audit",
            "--snapshot",
            c,
            "--format",
            "sarif",
            "--format",
            "junit",
            "--format",
            "csv",
            "--output-dir",
            out_dir.to_str().unwrap(),
        ])
        .assert()
        .code(1);
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "audit-findings.csv",
            "audit.csv",
            "audit.junit.xml",
            "audit.sarif"
        ]
    );
    // FORMAT=FILE, repeated, next to a stdout format.
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.md");
    let out = gwb()
        .args([
            "audit",
            "--snapshot",
            c,
            "--format",
            "csv",
            "--output",
            &format!("json={}", a.display()),
            "--output",
            &format!("markdown={}", b.display()),
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("\"target\"")
    );
    assert!(a.exists() && b.exists());
}

#[test]
fn no_ansi_codes_when_redirected_and_no_rust_debug_text() {
    let c = fixture("contoso");
    for format in ["table", "json", "markdown", "csv", "html", "junit", "sarif"] {
        let out = gwb()
            .args([
                "-v",
                "audit",
                "--snapshot",
                c.to_str().unwrap(),
                "--format",
                format,
            ])
            .env("FORCE_COLOR", "1")
            .env("CLICOLOR_FORCE", "1")
            .output()
            .unwrap();
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(
            !text.contains('\u{1b}'),
            "{format}: ANSI escape in redirected output"
        );
        for debug in ["Some(", "None,", "Some(false)", "Ok(", "Err("] {
            assert!(!text.contains(debug), "{format}: Rust debug text {debug:?}");
        }
    }
}

/// The README's strict CI gate, run as written on a healthy tenant, passes and writes the reports.
#[test]
fn the_readmes_strict_ci_gate_passes_on_a_healthy_tenant() {
    let readme = std::fs::read_to_string(crate::util::repo().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.contains("# strict CI gate"))
        .expect("a strict CI gate example in the README");
    let cmd = line.split('#').next().unwrap().trim();
    let args: Vec<&str> = cmd.split_whitespace().collect();
    assert_eq!(&args[..2], ["gwb", "audit"], "{cmd}");
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    std::fs::create_dir(&bundle).unwrap();
    healthy_bundle(&bundle);
    std::fs::write(
        dir.path().join("waivers.toml"),
        "# reviewed waivers go here\n",
    )
    .unwrap();
    let args: Vec<String> = args[1..]
        .iter()
        .map(|a| {
            if *a == "DIR" {
                bundle.display().to_string()
            } else {
                a.to_string()
            }
        })
        .collect();
    let out = gwb().current_dir(dir.path()).args(&args).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{cmd}: {err}");
    // The files written, one line each, then the gate's closing line.
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("gate: passed"), "{err}");
    for f in [
        "audit.json",
        "audit.html",
        "audit.sarif",
        "audit.junit.xml",
        "audit.md",
        "audit.csv",
    ] {
        assert!(dir.path().join("reports").join(f).exists(), "{f}");
        assert!(err.contains(&format!("Wrote reports/{f}")), "{f}: {err}");
    }
}

fn table(columns: &str, extra: &[&str]) -> String {
    let out = gwb()
        .args([
            "audit",
            "--snapshot",
            fixture("contoso").to_str().unwrap(),
            "--format",
            "table",
        ])
        .args(extra)
        .env("COLUMNS", columns)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Contoso's table fits three screens at 120x40, lays out within the width at 120 and 70
/// columns without breaking a code, and ends with a summary line per gating target.
#[test]
fn the_table_fits_the_width_keeps_codes_whole_and_closes_with_the_gate() {
    let wide = table("120", &[]);
    assert!(
        wide.lines().count() <= 3 * 40 - 2,
        "{} lines",
        wide.lines().count()
    );
    for (cols, t) in [(120, &wide), (70, &table("70", &[]))] {
        for l in t.lines() {
            assert!(l.chars().count() <= cols, "{cols}: {l}");
        }
        for code in [
            "member-limit-exceeded",
            "security-not-enabled",
            "writeback-disabled",
            "domain-local-nesting",
            "enablement-order-hazard",
        ] {
            assert!(t.contains(code), "{cols}: {code} whole");
        }
        assert!(t.contains("  FAIL  connect-v1: blocked by 1 error"), "{t}");
        assert!(t.contains("  FAIL  gwb: blocked by 2 errors"));
        assert!(t.contains("  ----  connect-v2: unavailable (not gated)"));
    }
    // By default only groups whose outcome matters; --all lists every group.
    assert!(wide.contains("36 of 44 groups whose outcome matters"));
    assert!(!wide.contains("Exchange All Staff DL"));
    let all = table("120", &["--all"]);
    assert!(all.contains("all 44 groups") && all.contains("Exchange All Staff DL"));
}

/// On a terminal (a pty from `script`) the table is coloured, except with NO_COLOR.
#[test]
#[cfg_attr(windows, ignore = "needs a pty from Linux script(1)")]
fn colour_on_a_terminal_only_and_never_with_no_color() {
    let bin = assert_cmd::cargo::cargo_bin("gwb");
    let c = fixture("contoso");
    let run = |no_color: bool| {
        let mut cmd = Command::new("script");
        cmd.args(["-qec"])
            .arg(format!(
                "stty cols 120 rows 40; '{}' audit --snapshot '{}' --format table",
                bin.display(),
                c.display()
            ))
            .arg("/dev/null")
            .env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().expect("script(1) from util-linux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = run(false);
    assert!(coloured.contains("\u{1b}[1;31mblocked"), "{coloured}");
    let plain = run(true);
    assert!(plain.contains("blocked"));
    assert!(!plain.contains('\u{1b}'), "NO_COLOR: no escape codes");
}
