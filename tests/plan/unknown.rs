//! Unknown is never empty: a group whose members are not known (key absent, `null`, a partial
//! PowerShell export) gets no member change in any plan format, and the plan says so.

use std::path::Path;

use serde_json::Value;

use crate::util::{fixture, gwb, json_ok};

const FINANCE: &str = "8fa8af97-cdec-54ba-8fa3-3f90bfa50bca";
const ISAIAH: &str = "CN=Isaiah Langer,OU=Users,OU=Contoso,DC=contoso,DC=com";

/// A copy of fixtures/contoso whose tenant.json is changed by `edit`.
fn contoso_with(dir: &Path, edit: impl FnOnce(&mut Value)) {
    for f in ["tenant.json", "ad.ldif", "bundle.json"] {
        let src = fixture("contoso").join(f);
        if src.exists() {
            std::fs::copy(&src, dir.join(f)).unwrap();
        }
    }
    let path = dir.join("tenant.json");
    let mut t: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut t);
    std::fs::write(&path, serde_json::to_string_pretty(&t).unwrap()).unwrap();
}

fn finance(t: &mut Value) -> &mut serde_json::Map<String, Value> {
    t["groups"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|g| g["id"] == FINANCE)
        .unwrap()
        .as_object_mut()
        .unwrap()
}

/// The table block of the group whose header line contains `needle`.
pub fn block(table: &str, needle: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in table.lines() {
        let header = line.starts_with("  ") && !line.starts_with("   ");
        if header {
            inside = line.contains(needle);
        } else if line.is_empty() || !line.starts_with("   ") {
            inside = false;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn plan(dir: &Path, extra: &[&str], format: &str) -> std::process::Output {
    gwb()
        .args(["plan", "--snapshot"])
        .arg(dir)
        .args(extra)
        .args(["--format", format])
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Every format of the plan of `dir` leaves Finance Department's members as they are.
fn assert_members_left_alone(dir: &Path, extra: &[&str]) {
    let out = plan(dir, extra, "json");
    let p = json_ok(&out);
    let g = p["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == FINANCE)
        .unwrap();
    assert_eq!(g["members"]["unknown"], true, "{g}");
    assert_eq!(g["members"]["remove"], serde_json::json!([]), "{g}");
    assert_eq!(g["members"]["add"], serde_json::json!([]), "{g}");
    assert!(!g.to_string().contains(ISAIAH), "{g}");
    assert_eq!(p["summary"]["memberRemoves"], 0, "{}", p["summary"]);

    let out = plan(dir, extra, "table");
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    let block = block(&table, FINANCE);
    assert!(
        block.contains("members unknown: membership left as it is"),
        "{table}"
    );
    assert!(!block.contains("member -"), "{block}");
    assert!(!table.contains(&format!("member - {ISAIAH}")), "{table}");

    let md = String::from_utf8(plan(dir, extra, "markdown").stdout).unwrap();
    let row = md
        .lines()
        .find(|l| l.contains("Finance Department"))
        .unwrap();
    assert!(
        row.contains("members unknown: membership left as it is"),
        "{row}"
    );
    assert!(!row.contains("member(s)"), "{row}");

    let ldif = String::from_utf8(plan(dir, extra, "ldif").stdout).unwrap();
    assert!(
        ldif.contains(&format!(
            "# Finance Department ({FINANCE}): members unknown: membership left as it is; no member change"
        )),
        "{ldif}"
    );
    assert!(!ldif.contains("delete: member"), "{ldif}");
    let record = ldif
        .split("\n\n")
        .find(|r| r.starts_with(&format!("dn: CN=Group_{}", &FINANCE[..20])))
        .unwrap_or_default();
    assert!(record.contains("changetype: modify"), "{ldif}");
    assert!(!record.contains("member"), "{record}");
}

#[test]
fn members_key_absent_plans_no_member_change_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    contoso_with(dir.path(), |t| {
        finance(t).remove("members");
    });
    assert_members_left_alone(dir.path(), &[]);
}

#[test]
fn members_null_plans_no_member_change_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    contoso_with(dir.path(), |t| {
        finance(t).insert("members".into(), Value::Null);
    });
    assert_members_left_alone(dir.path(), &[]);
}

#[test]
fn members_from_a_partial_powershell_export_plan_no_member_change() {
    let dir = tempfile::tempdir().unwrap();
    // The groups come from an export that did not serialise the members (-Depth too low).
    contoso_with(dir.path(), |t| {
        t.as_object_mut().unwrap().remove("groups");
    });
    let export = dir.path().join("export");
    std::fs::create_dir(&export).unwrap();
    let file = export.join("groups.json");
    std::fs::write(
        &file,
        format!(
            r#"[{{"Id":"{FINANCE}","DisplayName":"Finance Department","Description":"Finance Department","GroupTypes":[],"MailEnabled":false,"SecurityEnabled":true,"MailNickname":"FinanceDepartment","WritebackConfiguration":{{"IsEnabled":true}},"Members":"System.Object[]"}}]"#
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap().to_string();
    assert_members_left_alone(dir.path(), &["--evidence", &file]);
}

#[test]
fn a_group_created_with_unknown_members_says_so() {
    // Workstation Admins' members are null in the fixture: created, no members, and said.
    let out = plan(&fixture("contoso"), &["--show-unchanged"], "table");
    let table = String::from_utf8(out.stdout).unwrap();
    let block = block(&table, "Workstation Admins");
    assert!(block.starts_with("  + create"), "{block}");
    assert!(
        block.contains("members unknown: membership left as it is"),
        "{block}"
    );
}

/// The plan's entry for Finance Department from an export (`groups` left out of tenant.json).
fn finance_from_export(export_json: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    contoso_with(dir.path(), |t| {
        t.as_object_mut().unwrap().remove("groups");
    });
    let file = dir.path().join("groups.json");
    std::fs::write(&file, export_json).unwrap();
    let out = plan(dir.path(), &["--evidence", file.to_str().unwrap()], "json");
    let p = json_ok(&out);
    p["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == FINANCE)
        .unwrap()
        .clone()
}

#[test]
fn an_attribute_the_export_did_not_carry_is_left_as_it_is() {
    // No DisplayName (or mail properties) in the export: unknown, so AD keeps its displayName.
    let g = finance_from_export(&format!(
        r#"[{{"Id":"{FINANCE}","Description":"Finance Department","GroupTypes":[],"MailEnabled":false,"SecurityEnabled":true,"WritebackConfiguration":{{"IsEnabled":true}},"Members":null}}]"#
    ));
    assert_eq!(g["action"], "update", "{g}");
    assert!(g["attributes"].get("displayName").is_none(), "{g}");
    assert!(g["attributes"].get("mailNickname").is_none(), "{g}");
    assert!(
        g["detail"]
            .as_str()
            .unwrap()
            .contains("displayName, mail, mailNickname, proxyAddresses unknown in the cloud data: left as it is"),
        "{g}"
    );
    // The control: a DisplayName the export says is null is known to be empty.
    let g = finance_from_export(&format!(
        r#"[{{"Id":"{FINANCE}","DisplayName":null,"Description":"Finance Department","GroupTypes":[],"MailEnabled":false,"SecurityEnabled":true,"Mail":null,"MailNickname":null,"ProxyAddresses":[],"WritebackConfiguration":{{"IsEnabled":true}},"Members":null}}]"#
    ));
    assert_eq!(g["attributes"]["displayName"]["after"], Value::Null, "{g}");
    assert_eq!(
        g["attributes"]["displayName"]["before"],
        "Finance Department"
    );
}
