//! Content-addressed plans: `gwb plan --out` prints the plan's SHA-256 and how to apply it; a
//! plan changed after it was made (its summary lowered, a member added, an action changed, a
//! section edited) is refused by `gwb show` and `gwb apply` with exit 2 before any connection,
//! naming what differs; `--expect-sha256` (and gwb.toml `[apply] expect-sha256`) refuses any
//! plan but the approved one. The same for tenant plans.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{fixture, gwb, make_plan, sealed_json};

/// A port nothing listens on: a command that tried to connect would fail with a connection
/// error, not the refusal the tests expect.
const CLOSED_LDAP: &str = "ldaps://127.0.0.1:9";

/// `gwb plan --snapshot fixtures/contoso --out FILE`; the file, its JSON, and stderr.
fn saved_plan(dir: &Path) -> (PathBuf, Value, String) {
    let file = dir.join("plan.json");
    let out = gwb()
        .args(["plan", "--snapshot"])
        .arg(fixture("contoso"))
        .arg("--out")
        .arg(&file)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    (file, v, String::from_utf8(out.stderr).unwrap())
}

fn show(file: &Path) -> (i32, String, String) {
    let out = gwb()
        .arg("show")
        .arg(file)
        .args(["--format", "table"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn apply(file: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = gwb()
        .env_remove("GWB_LDAP_PASSWORD")
        .env_remove("GWB_LDAP_URL")
        .env_remove("GWB_CONFIG")
        .arg("apply")
        .arg(file)
        .args(["--ldap-url", CLOSED_LDAP])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
#[cfg_attr(windows, ignore = "asserts the apply line quoted for a POSIX shell")]
fn plan_out_prints_the_digest_and_how_to_apply_it() {
    let dir = tempfile::tempdir().unwrap();
    let (file, v, stderr) = saved_plan(dir.path());
    let sha = v["sha256"].as_str().expect("the plan carries its sha256");
    assert_eq!(sha.len(), 64);
    assert!(
        stderr.contains(&format!(
            "Saved plan to {} (sha256 {sha}). Apply it with: gwb apply {}",
            file.display(),
            file.display()
        )),
        "{stderr}"
    );
    // The digest is of the content, not the layout: the same plan compacted shows the same.
    let compact = dir.path().join("compact.json");
    std::fs::write(&compact, v.to_string()).unwrap();
    let (code, table, err) = show(&compact);
    assert_eq!(code, 0, "{err}");
    assert!(table.contains(&format!("plan sha256: {sha}")), "{table}");
    assert!(table.contains("Plan: "), "{table}");
}

/// Write `v` changed by `edit` to a file; both commands refuse it (exit 2), naming `needle`.
fn assert_refused(dir: &Path, name: &str, v: &Value, edit: impl FnOnce(&mut Value), needle: &str) {
    let mut v = v.clone();
    edit(&mut v);
    let file = dir.join(name);
    std::fs::write(&file, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let (code, out, err) = show(&file);
    assert_eq!(code, 2, "show {name}: {out}{err}");
    assert!(out.is_empty(), "show {name} rendered a refused plan: {out}");
    assert!(err.contains(": refused: the plan "), "show {name}: {err}");
    assert!(err.contains(needle), "show {name}: {err}");
    assert_eq!(err.matches(needle).count(), 1, "said once: {err}");
    let (code, out, err) = apply(&file, &["--yes"]);
    assert_eq!(code, 2, "apply {name}: {out}{err}");
    assert!(err.contains(needle), "apply {name}: {err}");
    assert!(
        !err.to_lowercase().contains("connect") && !err.contains("127.0.0.1"),
        "apply {name} tried the directory: {err}"
    );
}

/// The one confirmation rule: a sound saved plan applied from a pipe without --yes is refused
/// before any connection, naming --yes and how to review; nothing is asked.
#[test]
fn apply_of_a_saved_plan_off_a_terminal_needs_yes_and_connects_to_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _, _) = saved_plan(dir.path());
    let (code, out, err) = apply(&file, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("refusing to apply the plan without --yes")
            && err.contains(&format!("gwb show {}", file.display())),
        "{err}"
    );
    assert!(
        !err.contains("Only 'yes' is accepted"),
        "asked off a terminal: {err}"
    );
    assert!(
        !err.to_lowercase().contains("connect") && !err.contains("127.0.0.1"),
        "tried the directory: {err}"
    );
    // With --yes the same plan goes on towards the directory (here it stops at the missing
    // credentials, not at the confirmation).
    let (code, _, err) = apply(&file, &["--yes"]);
    assert_eq!(code, 2);
    assert!(
        !err.contains("without --yes") && err.contains("--bind-dn"),
        "{err}"
    );
}

fn group_index(v: &Value, action: &str) -> usize {
    v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .position(|g| g["action"] == action)
        .unwrap()
}

#[test]
fn a_plan_with_its_summary_lowered_is_refused_naming_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let (_, v, _) = saved_plan(dir.path());
    assert_eq!(v["summary"]["delete"], 1);
    assert_refused(
        dir.path(),
        "lowered.json",
        &v,
        |v| v["summary"]["delete"] = 0.into(),
        "$.summary.delete says 0, but the plan's actions give 1",
    );
}

#[test]
fn a_plan_with_a_member_added_is_refused_naming_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let (_, v, _) = saved_plan(dir.path());
    let i = group_index(&v, "create");
    let name = v["groups"][i]["displayName"].as_str().unwrap().to_string();
    // The summary is raised to match, as a careful editor would.
    assert_refused(
        dir.path(),
        "member.json",
        &v,
        |v| {
            v["groups"][i]["members"]["add"]
                .as_array_mut()
                .unwrap()
                .push("CN=Domain Admins,CN=Users,DC=contoso,DC=com".into());
            let n = v["summary"]["memberAdds"].as_u64().unwrap();
            v["summary"]["memberAdds"] = (n + 1).into();
        },
        &format!("$.groups[{i}] (\"{name}\""),
    );
}

#[test]
fn a_plan_with_an_action_changed_is_refused_naming_the_group_and_action() {
    let dir = tempfile::tempdir().unwrap();
    let (_, v, _) = saved_plan(dir.path());
    let i = group_index(&v, "keep");
    assert_refused(
        dir.path(),
        "action.json",
        &v,
        |v| {
            v["groups"][i]["action"] = "delete".into();
            v["summary"]["delete"] = 2.into();
            v["summary"]["keep"] = (v["summary"]["keep"].as_u64().unwrap() - 1).into();
        },
        &format!("$.groups[{i}]"),
    );
    let (_, v, _) = saved_plan(dir.path());
    assert_refused(
        dir.path(),
        "threshold.json",
        &v,
        |v| v["policy"]["maxDeletes"] = 100000.into(),
        "policy: changed after the plan was made",
    );
    let (_, v, _) = saved_plan(dir.path());
    assert_refused(
        dir.path(),
        "unsealed.json",
        &v,
        |v| {
            v.as_object_mut().unwrap().remove("sha256");
        },
        "the plan carries no sha256",
    );
}

#[test]
fn expect_sha256_refuses_another_valid_plan_and_accepts_the_approved_one() {
    let dir = tempfile::tempdir().unwrap();
    // Two valid plans that change nothing (apply then needs no directory).
    let approved = make_plan("OU=WB,DC=lab,DC=test", None, vec![]);
    let other = make_plan("OU=Other,DC=lab,DC=test", None, vec![]);
    let a = dir.path().join("approved.json");
    let o = dir.path().join("other.json");
    std::fs::write(&a, sealed_json(&approved)).unwrap();
    std::fs::write(&o, sealed_json(&other)).unwrap();
    let sha = approved.sha256.clone().unwrap();
    assert_ne!(Some(&sha), other.sha256.as_ref());

    let (code, out, err) = apply(&o, &["--expect-sha256", &sha]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&format!("not the approved {sha} (--expect-sha256)")),
        "{err}"
    );
    let (code, out, err) = apply(&a, &["--expect-sha256", &sha.to_uppercase()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("nothing to do"), "{out}");
    let (code, _, err) = apply(&a, &["--expect-sha256", "abc"]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a SHA-256"), "{err}");

    // The same pin from gwb.toml.
    let cfg = dir.path().join("gwb.toml");
    std::fs::write(&cfg, format!("[apply]\nexpect-sha256 = \"{sha}\"\n")).unwrap();
    let cfg = cfg.to_str().unwrap();
    let (code, _, err) = apply(&o, &["--config", cfg]);
    assert_eq!(code, 2);
    assert!(err.contains("not the approved"), "{err}");
    let (code, out, err) = apply(&a, &["--config", cfg]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn tenant_plans_are_sealed_and_pinned_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant-plan.json");
    let out = gwb()
        .args(["tenant", "plan", "--snapshot"])
        .arg(fixture("contoso"))
        .args(["--disable-existing-m365", "--out"])
        .arg(&file)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let sha = v["sha256"].as_str().unwrap().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("(sha256 {sha}). Apply it with: gwb tenant apply")),
        "{stderr}"
    );
    let tenant_apply = |f: &Path, extra: &[&str]| {
        let out = gwb()
            .env_remove("GWB_ACCESS_TOKEN")
            .env("AZURE_CLIENT_SECRET", "x")
            .args(["tenant", "apply", "--yes"])
            .arg(f)
            .args(["--graph-url", "http://127.0.0.1:9"])
            .args(["--tenant", "contoso.onmicrosoft.com"])
            .args(["--client-id", "11111111-2222-3333-4444-555555555555"])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Pinned to another digest: refused before connecting.
    let (code, err) = tenant_apply(&file, &["--expect-sha256", &"0".repeat(64)]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("this plan has sha256 {sha}")),
        "{err}"
    );
    // Edited: refused naming the change.
    let mut edited = v.clone();
    edited["changes"][0]["after"] = serde_json::json!({"isEnabled": true});
    let e = dir.path().join("edited.json");
    std::fs::write(&e, edited.to_string()).unwrap();
    let (code, err) = tenant_apply(&e, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("changed after it was made: $.changes[0] is not what was planned"),
        "{err}"
    );
}

#[test]
fn apply_refuses_a_sealed_plan_that_changes_unknown_members_before_connecting() {
    use gwb::plan::model::*;
    let ou = "OU=WB,DC=lab,DC=test";
    let id = "3a5c3221-c465-48c0-95b8-e9305786a271";
    let dn = format!("CN=Group_{id},{ou}");
    let g = PlannedGroup {
        id: id.into(),
        display_name: "Finance".into(),
        action: Action::Update,
        reason: gwb::core::GroupReason::Eligible,
        detail: String::new(),
        dn: Some(dn.clone()),
        cn: Some(format!("Group_{id}")),
        group_type: Some(i32::MIN | 8),
        current: Some(CurrentObject {
            dn,
            object_guid: None,
            usn_changed: None,
            stamp: StampSource::AdminDescription,
        }),
        attributes: Default::default(),
        members: MemberChanges {
            remove: vec!["CN=Isaiah Langer,OU=Users,DC=lab,DC=test".into()],
            unknown: true,
            ..MemberChanges::default()
        },
        delete_proof: None,
        sha256: None,
    };
    // Sealed by someone who can seal: the digest passes, the unknown rule still refuses.
    let plan = make_plan(ou, None, vec![g]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("plan.json");
    std::fs::write(&f, sealed_json(&plan)).unwrap();
    let (code, out, err) = apply(&f, &["--yes"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("group 3a5c3221-c465-48c0-95b8-e9305786a271 (Finance): its members are unknown, yet the plan changes them"),
        "{err}"
    );
}
