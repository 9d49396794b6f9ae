//! Integration tests: `gwb tenant plan|apply` against the Graph simulator serving Contoso.

use std::path::Path;

use gwb::sim::{self, SimConfig, SimServer};
use serde_json::{Value, json};

use crate::util::{AUDIT_JSON_ARGS, fixture, gwb, json_ok, run_ok, sim_graph_args};

const SECRET: &str = "Zq8~tenant-s3cr3t-never-printed";
const GROUP_UNIFIED: &str = "62375ab9-6b52-47ed-826b-58e47e0e304b";

fn contoso_doc() -> Value {
    let text = std::fs::read_to_string(fixture("contoso/tenant.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn server_with(doc: &Value, cfg: SimConfig) -> SimServer {
    sim::start(sim::Store::from_tenant(doc).unwrap(), cfg, 0).expect("simulator starts")
}

fn graph_args(s: &SimServer) -> Vec<String> {
    let mut v = sim_graph_args(s);
    v.extend(["--max-attempts".into(), "12".into()]);
    v
}

fn cmd() -> assert_cmd::Command {
    let mut c = gwb();
    c.env_remove("GWB_ACCESS_TOKEN")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST")
        .env("AZURE_CLIENT_SECRET", SECRET);
    c
}

/// Every JSON document on stdout (an undo run prints its plan, then its report).
fn json_docs(out: &[u8]) -> Vec<Value> {
    let text = String::from_utf8(out.to_vec()).unwrap();
    serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .map(|v| v.unwrap())
        .collect()
}

/// A tenant plan's JSON with its digests recomputed (an editor who knows how to seal).
fn resealed(plan: &Value) -> String {
    let mut p: gwb::tenant::Plan = serde_json::from_value(plan.clone()).unwrap();
    p.seal();
    serde_json::to_string_pretty(&p).unwrap()
}

fn plan_snapshot(plan: &Path, extra: &[&str]) -> Value {
    let out = run_ok(
        cmd()
            .args(["tenant", "plan", "--snapshot"])
            .arg(fixture("contoso"))
            .args(extra)
            .arg("--out")
            .arg(plan)
            .args(["--format", "json"]),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `gwb tenant plan` from the simulator's live tenant, saved to `plan`; the plan as printed.
fn plan_live(s: &SimServer, plan: &Path, extra: &[&str]) -> Value {
    let out = run_ok(
        cmd()
            .args(["tenant", "plan"])
            .args(extra)
            .args(["--format", "json", "--out"])
            .arg(plan)
            .args(graph_args(s)),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn apply(s: &SimServer, plan: &Path) -> (i32, Value, String) {
    let out = cmd()
        .args(["tenant", "apply", "--yes"])
        .arg(plan)
        .args(graph_args(s))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report, stderr)
}

fn served_group(s: &SimServer, id: &str) -> Value {
    let (st, g) = s.shared.call(
        "GET",
        &format!("/beta/groups/{id}?$select=id,displayName,writebackConfiguration"),
        None,
    );
    assert_eq!(st, 200);
    g
}

fn ids_with_status(report: &Value, status: &str) -> Vec<String> {
    let mut v: Vec<String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == status)
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn m365_not_disabled(doc: &Value) -> Vec<String> {
    let mut v: Vec<String> = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| {
            g["groupTypes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "Unified")
        })
        .filter(|g| g["writebackConfiguration"]["isEnabled"] != false)
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn contoso_disable_m365_then_collect_and_audit_writes_back_no_m365_group() {
    let doc = contoso_doc();
    let s = server_with(&doc, SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    let plan = plan_snapshot(
        &plan_path,
        &["--new-m365-default", "false", "--disable-existing-m365"],
    );
    assert_eq!(plan["format"], "gwb-tenant-plan/1");
    // Exactly the Microsoft 365 groups whose isEnabled is not false; nothing for the setting,
    // which Contoso already has as "False" (another case than gwb writes).
    let mut planned: Vec<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["kind"], "group");
            assert_eq!(c["property"], "writebackConfiguration");
            assert_eq!(c["after"]["isEnabled"], false);
            assert_eq!(
                c["request"]["body"],
                json!({"writebackConfiguration": {"isEnabled": false}})
            );
            c["id"].as_str().unwrap().to_string()
        })
        .collect();
    planned.sort();
    let expected = m365_not_disabled(&doc);
    assert_eq!(planned, expected);
    assert_eq!(plan["refused"], json!([]));
    for f in ["forecastBefore", "forecastAfter"] {
        assert_eq!(plan[f].as_array().unwrap().len(), 4, "{f}: every target");
    }
    assert!(
        plan["outcomeChanges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["target"] != "connect-v1"),
        "connect-v1 ignores isEnabled: no outcome changes there"
    );

    let (code, report, stderr) = apply(&s, &plan_path);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["changed"], expected.len());
    assert_eq!(report["failed"], 0);
    assert!(dir.path().join("plan.undo.json").exists());

    // A following collect + audit sees the writes.
    let bundle = dir.path().join("bundle");
    run_ok(
        cmd()
            .args(["collect", "--out"])
            .arg(&bundle)
            .args(graph_args(&s)),
    );
    // The same AD as the plan saw, so both forecasts read the same OU and objects.
    std::fs::copy(fixture("contoso/ad.ldif"), bundle.join("ad.ldif")).unwrap();
    let out = gwb()
        .args(["audit", "--snapshot"])
        .arg(&bundle)
        .args(AUDIT_JSON_ARGS)
        .output()
        .unwrap();
    let audit = json_ok(&out);
    let mut seen_targets = 0;
    for f in audit["forecast"].as_array().unwrap() {
        let target = f["target"].as_str().unwrap();
        let m365_written: Vec<&Value> = f["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["kind"] == "microsoft365" && g["outcome"] == "writeback")
            .collect();
        if target == "connect-v2" || target == "gwb" {
            seen_targets += 1;
            assert!(m365_written.is_empty(), "{target}: {m365_written:?}");
            // The plan's forecast after matches what the audit now says.
            let after = plan["forecastAfter"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["target"] == target)
                .unwrap();
            let written = f["groups"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|g| g["outcome"] == "writeback")
                .count();
            assert_eq!(after["counts"]["writeback"], written, "{target}");
        }
        if target == "connect-v1" {
            assert!(!m365_written.is_empty(), "v1 ignores isEnabled");
        }
    }
    assert_eq!(seen_targets, 2);
}

#[test]
fn group_unified_is_created_with_every_template_default_and_updated_keeping_other_values() {
    let mut doc = contoso_doc();
    doc.as_object_mut()
        .unwrap()
        .insert("settings".into(), json!([]));
    let s = server_with(&doc, SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("create.json");
    // Planned from the live tenant this time.
    let plan = plan_live(&s, &plan_path, &["--new-m365-default", "false"]);
    assert_eq!(plan["changes"].as_array().unwrap().len(), 1);
    assert_eq!(plan["changes"][0]["request"]["method"], "POST");
    let (code, report, stderr) = apply(&s, &plan_path);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["changed"], 1);
    let template = sim::write::template(GROUP_UNIFIED).unwrap();
    let (_, settings) = s.shared.call("GET", "/beta/settings", None);
    let created = settings["value"][0].clone();
    assert_eq!(created["templateId"], GROUP_UNIFIED);
    let values = created["values"].as_array().unwrap();
    let defs = template["values"].as_array().unwrap();
    assert_eq!(values.len(), defs.len(), "every template value is present");
    for d in defs {
        let name = d["name"].as_str().unwrap();
        let v = values
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        let want = if name == "NewUnifiedGroupWritebackDefault" {
            json!("false")
        } else {
            d["defaultValue"].clone()
        };
        assert_eq!(v["value"], want, "{name}");
    }
    let sid = created["id"].as_str().unwrap().to_string();

    // An admin changes other values; gwb then changes only NewUnifiedGroupWritebackDefault.
    let mut custom = values.clone();
    for v in custom.iter_mut() {
        match v["name"].as_str().unwrap() {
            "UsageGuidelinesUrl" => v["value"] = json!("https://contoso.example/groups"),
            "EnableGroupCreation" => v["value"] = json!("false"),
            "NewUnifiedGroupWritebackDefault" => v["value"] = json!("False"),
            _ => {}
        }
    }
    let (st, _) = s.shared.call(
        "PATCH",
        &format!("/beta/settings/{sid}"),
        Some(json!({"values": custom})),
    );
    assert_eq!(st, 204);
    let plan_path2 = dir.path().join("update.json");
    let plan2 = plan_live(&s, &plan_path2, &["--new-m365-default", "true"]);
    assert_eq!(plan2["changes"][0]["request"]["method"], "PATCH");
    assert_eq!(plan2["changes"][0]["before"], "False");
    let (code, _, stderr) = apply(&s, &plan_path2);
    assert_eq!(code, 0, "{stderr}");
    let (_, now) = s.shared.call("GET", &format!("/beta/settings/{sid}"), None);
    let now_values = now["values"].as_array().unwrap();
    assert_eq!(now_values.len(), custom.len());
    for (old, new) in custom.iter().zip(now_values) {
        assert_eq!(old["name"], new["name"]);
        if old["name"] == "NewUnifiedGroupWritebackDefault" {
            assert_eq!(new["value"], "true");
        } else {
            assert_eq!(old["value"], new["value"], "{} kept exactly", old["name"]);
        }
    }

    // Undoing the update restores the admin's values; undoing the creation deletes the setting.
    run_ok(
        cmd()
            .args(["tenant", "apply", "--yes", "--undo"])
            .arg(dir.path().join("update.undo.json"))
            .args(graph_args(&s))
            .args(["--format", "json"]),
    );
    let (_, now) = s.shared.call("GET", &format!("/beta/settings/{sid}"), None);
    assert_eq!(now["values"], json!(custom));
    run_ok(
        cmd()
            .args(["tenant", "apply", "--yes", "--undo"])
            .arg(dir.path().join("create.undo.json"))
            .args(graph_args(&s))
            .args(["--format", "json", "--force"]),
    );
    let (_, settings) = s.shared.call("GET", "/beta/settings", None);
    assert_eq!(
        settings["value"],
        json!([]),
        "the created setting is deleted again"
    );
}

#[test]
fn throttled_and_denied_batch_items_are_reported_and_a_second_apply_converges() {
    let doc = contoso_doc();
    let cfg = SimConfig {
        fault_429: 30.0,
        retry_after: 0,
        fault_seed: 7,
        ..SimConfig::default()
    };
    let s = server_with(&doc, cfg);
    let expected = m365_not_disabled(&doc);
    // Two groups answered 403, one 400.
    let denied: Vec<String> = vec![
        expected[1].clone(),
        expected[5].clone(),
        expected[8].clone(),
    ];
    s.shared.with_writes(|w| {
        for d in &denied[..2] {
            w.deny.insert(d.clone(), 403);
        }
        w.deny.insert(denied[2].clone(), 400);
        // The access token stops working after the fourth write: gwb must get a new one.
        w.revoke_tokens_after = Some(4);
    });
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    plan_snapshot(&plan_path, &["--disable-existing-m365"]);

    let (code, report, stderr) = apply(&s, &plan_path);
    assert_eq!(code, 1, "some changes failed: {stderr}");
    assert_eq!(ids_with_status(&report, "failed"), {
        let mut d = denied.clone();
        d.sort();
        d
    });
    for r in report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "failed")
    {
        if r["id"] == denied[2].as_str() {
            assert_eq!(r["httpStatus"], 400);
            assert_eq!(r["code"], "Request_BadRequest");
            assert!(r["message"].as_str().unwrap().contains("refused"), "{r}");
            continue;
        }
        assert_eq!(r["httpStatus"], 403);
        assert_eq!(r["code"], "Authorization_RequestDenied");
        assert_eq!(
            r["message"],
            "Insufficient privileges to complete the operation."
        );
    }
    let changed = ids_with_status(&report, "changed");
    assert_eq!(changed.len(), expected.len() - denied.len());
    let stats = s.shared.stats();
    assert!(
        stats["faults"]["429-item"].as_u64().unwrap_or(0) > 0,
        "{stats}"
    );
    assert!(
        stats["tokensIssued"].as_u64().unwrap() >= 2,
        "the token was refreshed mid-run: {stats}"
    );
    for id in &changed {
        assert_eq!(
            served_group(&s, id)["writebackConfiguration"]["isEnabled"],
            false
        );
        assert_eq!(
            s.shared.with_writes(|w| w.writes_to(id)),
            1,
            "{id} written once"
        );
    }
    for id in &denied {
        assert_eq!(s.shared.with_writes(|w| w.writes_to(id)), 0);
    }

    // The permission is fixed; the same plan again writes only what is missing.
    s.shared.with_writes(|w| w.deny.clear());
    let (code, report, stderr) = apply(&s, &plan_path);
    assert_eq!(code, 0, "{stderr}");
    let mut d = denied.clone();
    d.sort();
    assert_eq!(ids_with_status(&report, "changed"), d);
    assert_eq!(ids_with_status(&report, "already"), changed);
    for id in &expected {
        assert_eq!(
            s.shared.with_writes(|w| w.writes_to(id)),
            1,
            "{id}: no duplicate write"
        );
    }
    // The undo file covers both runs.
    let undo: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.undo.json")).unwrap())
            .unwrap();
    let mut undone: Vec<String> = undo["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect();
    undone.sort();
    assert_eq!(undone, expected);

    // Someone changes one of the groups again: the undo plan refuses to overwrite it.
    let moved = &expected[0];
    let (st, _) = s.shared.call(
        "PATCH",
        &format!("/beta/groups/{moved}"),
        Some(json!({"writebackConfiguration": {"isEnabled": true}})),
    );
    assert_eq!(st, 204);
    let out = run_ok(
        cmd()
            .args(["tenant", "apply", "--yes", "--undo"])
            .arg(dir.path().join("plan.undo.json"))
            .args(graph_args(&s))
            .args(["--format", "json", "--dry-run"]),
    );
    let docs = json_docs(&out.stdout);
    let refused = docs[0]["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["id"], moved.as_str());
    assert_eq!(refused[0]["reason"], "changed-since-apply");
    assert_eq!(
        docs[0]["changes"].as_array().unwrap().len(),
        expected.len() - 1
    );
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn undo_restores_every_group_and_the_setting_exactly_with_explicit_nulls() {
    let mut doc = contoso_doc();
    doc["settings"][0]["values"][1]["value"] = json!("True");
    let original = doc.clone();
    let s = server_with(&doc, SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    // Write a modified bundle so the plan sees "True".
    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("tenant.json"),
        serde_json::to_string(&doc).unwrap(),
    )
    .unwrap();
    let vpn = "7eaf998d-5cc9-5aca-81b3-ed3cb1cf728b"; // security, isEnabled null, type null
    let out = cmd()
        .args(["tenant", "plan", "--snapshot"])
        .arg(&bundle)
        .args([
            "--new-m365-default",
            "false",
            "--disable-existing-m365",
            "--enable",
            vpn,
            "--group-type",
            "universalSecurityGroup",
            "--format",
            "json",
            "--out",
        ])
        .arg(&plan_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let vpn_change = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == vpn)
        .unwrap();
    assert_eq!(
        vpn_change["after"],
        json!({"isEnabled": true, "onPremisesGroupType": "universalSecurityGroup"})
    );
    assert!(
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "setting")
    );
    let (code, _, stderr) = apply(&s, &plan_path);
    assert_eq!(code, 0, "{stderr}");
    let undo_path = dir.path().join("plan.undo.json");
    let undo: Value = serde_json::from_str(&std::fs::read_to_string(&undo_path).unwrap()).unwrap();
    let vpn_undo = undo["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == vpn)
        .unwrap();
    assert_eq!(
        vpn_undo["previous"],
        json!({"isEnabled": null, "onPremisesGroupType": null}),
        "explicit nulls"
    );
    assert_eq!(
        undo["setting"]["previous"]["values"],
        original["settings"][0]["values"]
    );

    // --dry-run shows the undo plan and writes nothing.
    let writes_before = s.shared.with_writes(|w| w.applied().len());
    let out = run_ok(
        cmd()
            .args(["tenant", "apply", "--yes", "--undo"])
            .arg(&undo_path)
            .args(graph_args(&s))
            .args(["--format", "json", "--dry-run"]),
    );
    let docs = json_docs(&out.stdout);
    assert_eq!(
        docs[0]["format"], "gwb-tenant-plan/1",
        "the undo plan is shown first"
    );
    assert_eq!(
        docs[0]["changes"].as_array().unwrap().len(),
        plan["changes"].as_array().unwrap().len()
    );
    let vpn_back = docs[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == vpn)
        .unwrap();
    assert_eq!(
        vpn_back["request"]["body"],
        json!({"writebackConfiguration": {"isEnabled": null, "onPremisesGroupType": null}})
    );
    assert_eq!(docs[1]["dryRun"], true);
    assert_eq!(s.shared.with_writes(|w| w.applied().len()), writes_before);

    let out = run_ok(
        cmd()
            .args(["tenant", "apply", "--yes", "--undo"])
            .arg(&undo_path)
            .args(graph_args(&s))
            .args(["--format", "json"]),
    );
    let docs = json_docs(&out.stdout);
    assert_eq!(docs[1]["failed"], 0);
    // Every group and the setting are as before, nulls included.
    let now = s.shared.with_store(|st| st.to_tenant());
    for g in original["groups"].as_array().unwrap() {
        let id = g["id"].as_str().unwrap();
        let n = now["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap();
        assert_eq!(
            n["writebackConfiguration"]["isEnabled"], g["writebackConfiguration"]["isEnabled"],
            "{id}"
        );
        assert_eq!(
            n["writebackConfiguration"]["onPremisesGroupType"],
            g["writebackConfiguration"]["onPremisesGroupType"],
            "{id}"
        );
        let obj = n["writebackConfiguration"].as_object().unwrap();
        assert!(obj.contains_key("isEnabled") && obj.contains_key("onPremisesGroupType"));
    }
    let vpn_now = served_group(&s, vpn);
    assert_eq!(vpn_now["writebackConfiguration"]["isEnabled"], Value::Null);
    assert_eq!(now["settings"], original["settings"]);
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn a_stale_plan_is_refused_naming_the_group_and_nothing_is_written() {
    let doc = contoso_doc();
    let s = server_with(&doc, SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    plan_snapshot(&plan_path, &["--disable-existing-m365"]);
    // Someone enables "All Company" as a security group after the plan was reviewed.
    let all_company = "0f4dd137-411b-572f-95ff-d2a16c4cf9c4";
    let (st, _) = s.shared.call(
        "PATCH",
        &format!("/beta/groups/{all_company}"),
        Some(json!({"writebackConfiguration": {"isEnabled": true, "onPremisesGroupType": "universalSecurityGroup"}})),
    );
    assert_eq!(st, 204);
    let writes = s.shared.with_writes(|w| w.applied().len());
    let (code, _, stderr) = apply(&s, &plan_path);
    assert_eq!(code, 2);
    assert!(stderr.contains("stale"), "{stderr}");
    assert!(
        stderr.contains("All Company") && stderr.contains(all_company),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET));
    assert_eq!(
        s.shared.with_writes(|w| w.applied().len()),
        writes,
        "nothing written"
    );
    assert!(!dir.path().join("plan.undo.json").exists());
}

#[test]
fn order_guard_refuses_is_enabled_false_under_v1_only_unless_forced() {
    let mut doc = contoso_doc();
    doc["onPremisesSynchronization"]["features"]["unifiedGroupWritebackEnabled"] = json!(true);
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("tenant.json"),
        serde_json::to_string(&doc).unwrap(),
    )
    .unwrap();
    let run = |force: bool| -> Value {
        let mut c = cmd();
        c.args(["tenant", "plan", "--snapshot"]).arg(&bundle).args([
            "--disable-existing-m365",
            "--format",
            "json",
        ]);
        if force {
            c.arg("--force");
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let plan = run(false);
    assert_eq!(plan["changes"], json!([]));
    let refused = plan["refused"].as_array().unwrap();
    assert_eq!(refused.len(), m365_not_disabled(&doc).len());
    assert!(
        refused
            .iter()
            .all(|r| r["reason"] == "v1-ignores-is-enabled")
    );
    let codes: Vec<&str> = plan["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"v1-ignores-is-enabled") && codes.contains(&"v2-cannot-be-enabled"),
        "{codes:?}"
    );
    let forced = run(true);
    assert_eq!(forced["changes"].as_array().unwrap().len(), refused.len());
    assert_eq!(forced["refused"], json!([]));
    // No change of outcome under connect-v1, which ignores isEnabled.
    assert!(
        forced["outcomeChanges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["target"] != "connect-v1")
    );
}

#[test]
fn simulator_validates_writeback_configuration_like_graph() {
    let doc = contoso_doc();
    let s = server_with(&doc, SimConfig::default());
    let patch = |id: &str, wb: Value| {
        s.shared.call(
            "PATCH",
            &format!("/beta/groups/{id}"),
            Some(json!({"writebackConfiguration": wb})),
        )
    };
    let m365 = "0f4dd137-411b-572f-95ff-d2a16c4cf9c4";
    let (st, body) = patch(
        m365,
        json!({"onPremisesGroupType": "globalDistributionGroup"}),
    );
    assert_eq!(st, 400);
    assert_eq!(body["error"]["code"], "Request_BadRequest");
    assert_eq!(patch(m365, json!({"isEnabled": "no"})).0, 400);
    assert_eq!(patch(m365, json!({"colour": "blue"})).0, 400);
    // Security groups: universalSecurityGroup only.
    assert_eq!(
        patch(
            "7eaf998d-5cc9-5aca-81b3-ed3cb1cf728b",
            json!({"onPremisesGroupType": "universalDistributionGroup"})
        )
        .0,
        400
    );
    // Distribution list, mail-enabled security, synced from AD.
    assert_eq!(
        patch(
            "299dd30f-4e0e-57a3-afd6-e82343330644",
            json!({"isEnabled": true})
        )
        .0,
        400
    );
    assert_eq!(
        patch(
            "1b84af7a-ef53-5626-a318-9c76edb73df6",
            json!({"isEnabled": true})
        )
        .0,
        400
    );
    let (st, body) = patch(
        "a3b8cf25-693e-5be3-bebe-106ceefca4f6",
        json!({"isEnabled": true}),
    );
    assert_eq!(st, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("on-premises mastered")
    );
    // Role-assignable: 403 without RoleManagement.ReadWrite.Directory.
    let role = "6efeba2e-8490-5a30-8c40-45441a11211c";
    assert_eq!(patch(role, json!({"isEnabled": false})).0, 403);
    s.shared.with_writes(|w| w.role_management = true);
    assert_eq!(patch(role, json!({"isEnabled": false})).0, 204);
    // beta only.
    assert_eq!(
        s.shared
            .call(
                "PATCH",
                &format!("/v1.0/groups/{m365}"),
                Some(json!({"writebackConfiguration": {"isEnabled": false}}))
            )
            .0,
        400
    );
    // The template is served; a POST with an unknown value name is refused.
    let (st, t) = s.shared.call(
        "GET",
        &format!("/beta/directorySettingTemplates/{GROUP_UNIFIED}"),
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(t["displayName"], "Group.Unified");
    let (st, _) = s.shared.call(
        "PATCH",
        &format!(
            "/beta/settings/{}",
            doc["settings"][0]["id"].as_str().unwrap()
        ),
        Some(json!({"values": [{"name": "NoSuchSetting", "value": "x"}]})),
    );
    assert_eq!(st, 400);
    // Accepted writes are visible to reads and to the groups delta.
    assert_eq!(patch(m365, json!({"isEnabled": false})).0, 204);
    assert_eq!(
        served_group(&s, m365)["writebackConfiguration"]["isEnabled"],
        false
    );
    assert_eq!(s.shared.with_writes(|w| w.writes_to(m365)), 1);
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn an_edited_plan_that_would_write_anything_else_is_refused() {
    let doc = contoso_doc();
    let s = server_with(&doc, SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    let mut plan = plan_snapshot(&plan_path, &["--disable-existing-m365"]);
    // Someone turns a planned change into a feature-flag write.
    let sync_id = doc["onPremisesSynchronization"]["id"].as_str().unwrap();
    plan["changes"][2]["request"] = json!({
        "method": "PATCH",
        "url": format!("/directory/onPremisesSynchronization/{sync_id}"),
        "body": {"features": {"groupWriteBackEnabled": true}}
    });
    // As edited, its digest no longer matches: refused naming the change.
    std::fs::write(&plan_path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    let (code, _, stderr) = apply(&s, &plan_path);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("changed after it was made: $.changes[2] is not what was planned"),
        "{stderr}"
    );
    // Sealed again by the editor, the request check still refuses it.
    std::fs::write(&plan_path, resealed(&plan)).unwrap();
    let (code, _, stderr) = apply(&s, &plan_path);
    assert_eq!(code, 2);
    assert!(stderr.contains("$.changes[2].request"), "{stderr}");
    // A body that does not match before/after is refused too.
    let mut plan = plan_snapshot(&plan_path, &["--disable-existing-m365"]);
    plan["changes"][0]["request"]["body"] = json!({"writebackConfiguration": {"isEnabled": true}});
    std::fs::write(&plan_path, resealed(&plan)).unwrap();
    let (code, _, stderr) = apply(&s, &plan_path);
    assert_eq!(code, 2);
    assert!(stderr.contains("$.changes[0].request"), "{stderr}");
    assert_eq!(s.shared.with_writes(|w| w.applied().len()), 0);
    assert_eq!(
        s.shared.stats()["byRoute"].get("POST /beta/$batch"),
        None,
        "nothing sent"
    );
}
