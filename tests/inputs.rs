//! Inputs that say what they are, and plans that read well: one clear sentence and exit 2 for
//! a directory that is not a bundle, an empty file, a non-journal, a missing path, an LDIF
//! given as a PowerShell export, an unwritable `--out`; `--evidence DIR` lists what it skipped;
//! every script answers `--help`; `gwb show` renders every plan format, errors print once, the
//! table is coloured only on request.

use std::path::Path;

use crate::util::{fixture, gwb, repo};

/// Run gwb; exit code, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = gwb()
        .env("NO_COLOR", "1")
        .env_remove("GWB_CONFIG")
        .current_dir(std::env::temp_dir())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_directory_that_is_not_a_bundle_is_an_input_error_naming_what_a_bundle_holds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    for cmd in ["audit", "plan"] {
        let (code, out, err) = run(&[cmd, "--snapshot", s(dir.path())]);
        assert_eq!(code, 2, "{cmd}: {err}");
        assert!(out.is_empty(), "{cmd}: {out}");
        assert!(
            err.contains(&format!(
                "{}: is not a snapshot bundle: it holds none of tenant.json (the cloud side), ad.ldif (the AD side), bundle.json (the manifest) or connect/",
                dir.path().display()
            )),
            "{cmd}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "one sentence: {err}");
    }
}

#[test]
fn an_empty_file_says_it_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tenant.json"), "").unwrap();
    let (code, _, err) = run(&["audit", "--snapshot", s(dir.path())]);
    assert_eq!(code, 2);
    assert!(
        err.contains("tenant.json: the file is empty: expected a JSON document"),
        "{err}"
    );
    assert!(!err.contains("EOF"), "{err}");
    let plan = dir.path().join("plan.json");
    std::fs::write(&plan, "\n").unwrap();
    let (code, _, err) = run(&["show", s(&plan)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("plan.json: the file is empty: expected a gwb plan"),
        "{err}"
    );
}

#[test]
fn undo_of_a_plan_an_empty_file_or_a_missing_path_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let (code, _, err) = run(&[
        "plan",
        "--snapshot",
        s(&fixture("contoso")),
        "--out",
        s(&plan),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["undo", s(&plan)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not a gwb journal: this is a gwb-plan/1 document"),
        "{err}"
    );
    assert!(!err.contains("EOF"), "{err}");
    let empty = dir.path().join("run.jsonl");
    std::fs::write(&empty, "").unwrap();
    let (code, _, err) = run(&["undo", s(&empty)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not a gwb journal: the file is empty"),
        "{err}"
    );
    let missing = dir.path().join("no-such-dir");
    let (code, _, err) = run(&["undo", s(&missing)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no-such-dir: no such file or directory: give a journal gwb apply wrote"),
        "{err}"
    );
    assert_eq!(err.matches("os error").count(), 0, "{err}");
}

#[test]
fn an_unwritable_out_names_the_file_not_a_temporary_one() {
    let (code, _, err) = run(&[
        "plan",
        "--snapshot",
        s(&fixture("contoso")),
        "--out",
        "/nonexistent/dir/plan.json",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "cannot write /nonexistent/dir/plan.json: the directory /nonexistent/dir does not exist"
        ),
        "{err}"
    );
    assert!(!err.contains(".tmp") && !err.contains('~'), "{err}");
}

#[test]
fn inspect_recognises_ldif_and_gwb_documents_instead_of_misreading_them() {
    let (code, out, err) = run(&["inspect", s(&fixture("contoso/ad.ldif"))]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("ad.ldif: not read: an LDIF file of AD entries, not a PowerShell export"),
        "{err}"
    );
    assert!(!err.contains("header has"), "misread as CSV: {err}");
    let (code, _, err) = run(&["inspect", s(&fixture("contoso/tenant.json"))]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not read: a gwb-tenant/1 document gwb writes, not a PowerShell export; give the bundle's directory with --snapshot DIR"),
        "{err}"
    );
}

#[test]
fn evidence_dir_reads_the_exports_and_lists_what_it_skipped_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("exports");
    std::fs::create_dir(&ev).unwrap();
    std::fs::copy(
        fixture("powershell/company-feature.ps7.json"),
        ev.join("company-feature.json"),
    )
    .unwrap();
    std::fs::copy(fixture("contoso/ad.ldif"), ev.join("ad.ldif")).unwrap();
    std::fs::write(ev.join("notes.md"), "# notes").unwrap();
    std::fs::write(ev.join("broken.json"), "{\"a\": ").unwrap();
    let (code, out, err) = run(&[
        "audit",
        "--snapshot",
        s(&fixture("contoso")),
        "--evidence",
        s(&ev),
        "--format",
        "json",
        "--fail-on",
        "never",
        "--allow-incomplete",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
    assert!(
        err.contains(&format!(
            "skipped {}: an LDIF file of AD entries",
            ev.join("ad.ldif").display()
        )),
        "{err}"
    );
    assert!(
        err.contains("notes.md: a .md file, not a PowerShell export"),
        "{err}"
    );
    assert!(
        err.contains(&format!("skipped {}: ", ev.join("broken.json").display())),
        "{err}"
    );
}

#[test]
#[cfg_attr(windows, ignore = "runs the scripts with bash and python3")]
fn every_script_answers_help() {
    let dir = repo().join("scripts");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let (prog, ok) = match p.extension().and_then(|x| x.to_str()) {
            Some("sh") => ("bash", true),
            Some("py") => ("python3", true),
            _ => ("", false),
        };
        if !ok {
            continue;
        }
        n += 1;
        let out = std::process::Command::new(prog)
            .arg(&p)
            .arg("--help")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}: {stdout}", p.display());
        assert!(stdout.trim().len() > 40, "{}: {stdout}", p.display());
        assert!(!stdout.contains("Traceback"), "{}", p.display());
    }
    assert!(n >= 10, "{n} scripts");
}

#[test]
fn show_renders_every_plan_format_and_errors_print_once() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let (code, _, err) = run(&[
        "plan",
        "--snapshot",
        s(&fixture("contoso")),
        "--out",
        s(&plan),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let closing = "Plan: 25 to create, 1 to update, 0 to rename, 1 to delete";
    for (format, needle) in [
        ("table", closing),
        ("json", "\"format\": \"gwb-plan/1\""),
        ("markdown", closing),
        ("ldif", "changetype: add"),
        ("csv", "\"action\",\"displayName\""),
        ("html", "<!DOCTYPE html>"),
    ] {
        let (code, out, err) = run(&["show", s(&plan), "--format", format]);
        assert_eq!(code, 0, "{format}: {err}");
        assert!(out.contains(needle), "{format}: {out}");
    }
    let (_, html, _) = run(&["show", s(&plan), "--format", "html"]);
    assert!(
        html.contains(closing) && html.contains("Plan SHA-256"),
        "{html}"
    );
    // Error-level skips are shown by default with their reason; unowned objects are named.
    let (_, table, _) = run(&["show", s(&plan), "--format", "table"]);
    assert!(table.contains("[name-collision]"), "{table}");
    assert!(table.contains("[member-limit-exceeded]"), "{table}");
    assert!(
        table.contains("50001 direct members, over the gwb limit of 50000"),
        "{table}"
    );
    assert!(
        table.contains("CN=Group_8336a1d4-3f88-5936-bc4e-9e01141c677e,OU=Cloud Groups,OU=Contoso,DC=contoso,DC=com (decoy"),
        "{table}"
    );
    assert!(!table.contains('\u{1b}'), "no colour off a terminal");
    // A parse error is printed once.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"format":"gwb-plan/1","groups":[{"action":"crate"}]}"#,
    )
    .unwrap();
    let (code, _, err) = run(&["show", s(&bad)]);
    assert_eq!(code, 2);
    assert_eq!(err.matches("unknown variant `crate`").count(), 1, "{err}");
}

#[test]
fn the_table_is_coloured_only_when_asked() {
    let snap = gwb::snapshot::load_dir(&fixture("contoso"), &[]).unwrap();
    let prepared = gwb::core::inputs::prepare(&snap, None).unwrap();
    let p = gwb::plan::build(
        &snap,
        &prepared,
        &crate::plan::convergence::options(Default::default()),
    )
    .unwrap();
    let plain = gwb::plan::render::table_with(&p, false, false);
    let colour = gwb::plan::render::table_with(&p, false, true);
    assert!(!plain.contains('\u{1b}'));
    assert!(colour.contains("\u{1b}[32m+ create \u{1b}[0m"), "{colour}");
    assert!(colour.contains("\u{1b}[31m- delete \u{1b}[0m"), "{colour}");
    assert!(colour.contains("\u{1b}[33m~ update \u{1b}[0m"), "{colour}");
    assert!(colour.contains("\u{1b}[32mmember + "), "{colour}");
}

#[test]
fn plan_lists_each_skipped_evidence_file_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("contoso/ad.ldif"), dir.path().join("ad.ldif")).unwrap();
    let (code, _, err) = run(&[
        "plan",
        "--snapshot",
        s(&fixture("contoso")),
        "--evidence",
        s(dir.path()),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("ad.ldif: an LDIF file").count(), 1, "{err}");
}
