//! `gwb tenant plan --convert-soa / --rollback-soa` against the simulator: a nested pair is
//! converted child first, a mail-enabled group and a parent whose AD-managed child stays behind
//! are refused with their reasons, the forecast after the conversion is shown, and apply then
//! undo (apply --undo) gives back `isCloudManaged` as it was.

use std::path::Path;

use serde_json::{Value, json};

use crate::util::{gwb, run_ok, sim_graph_args};

const SECRET: &str = "soa-tenant-secret";
const DOMAIN: &str = "S-1-5-21-55-66-77";
const PARENT: &str = "4c000000-0000-4000-8000-000000000001";
const CHILD: &str = "4c000000-0000-4000-8000-000000000002";
const MAIL: &str = "4c000000-0000-4000-8000-000000000003";
const LONELY: &str = "4c000000-0000-4000-8000-000000000004";
const STAYS: &str = "4c000000-0000-4000-8000-000000000005";

fn nested(id: &str, name: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.group", "id": id, "displayName": name,
           "onPremisesSyncEnabled": true, "securityEnabled": true, "mailEnabled": false, "groupTypes": []})
}

fn synced(id: &str, n: u32, name: &str, mail: bool, members: Vec<Value>) -> Value {
    json!({
        "id": id,
        "displayName": name,
        "groupTypes": [],
        "mailEnabled": mail,
        "securityEnabled": true,
        "mail": if mail { json!(format!("{}@contoso.com", name.to_lowercase().replace(' ', ""))) } else { Value::Null },
        "onPremisesSyncEnabled": true,
        "onPremisesSecurityIdentifier": format!("{DOMAIN}-{n}"),
        "members": members,
    })
}

fn tenant() -> Value {
    json!({
        "format": "gwb-tenant/1",
        "tenantId": "11111111-2222-4333-8444-555555555555",
        "onPremisesSynchronization": {
            "id": "a3b5c7d9-1f2e-4d3c-8b4a-5e6f7a8b9c0d",
            "configuration": {"synchronizationClientVersion": "2.5.79.0"},
            "features": {"groupWriteBackEnabled": false, "unifiedGroupWritebackEnabled": false}
        },
        "settings": [],
        "subscribedSkus": [],
        // The parent comes first: the plan must still convert the child first.
        "groups": [
            synced(PARENT, 5001, "Parent", false, vec![nested(CHILD, "Child")]),
            synced(CHILD, 5002, "Child", false, vec![]),
            synced(MAIL, 5003, "Mail Team", true, vec![]),
            synced(LONELY, 5004, "Lonely Parent", false, vec![nested(STAYS, "Stays")]),
            synced(STAYS, 5005, "Stays", false, vec![]),
        ],
        "deletedGroups": []
    })
}

fn cmd() -> assert_cmd::Command {
    let mut c = gwb();
    c.env_remove("GWB_ACCESS_TOKEN")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST")
        .env_remove("GWB_CONFIG")
        .env("AZURE_CLIENT_SECRET", SECRET);
    c
}

fn plan(snapshot: &Path, out: &Path, extra: &[&str]) -> Value {
    let o = run_ok(
        cmd()
            .args(["tenant", "plan", "--snapshot"])
            .arg(snapshot)
            .args(extra)
            .arg("--out")
            .arg(out)
            .args(["--format", "json"]),
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn managed(s: &gwb::sim::SimServer, id: &str) -> bool {
    s.shared
        .with_store(|st| st.sync_behavior(id))
        .expect("group")
}

/// The order the simulator accepted onPremisesSyncBehavior writes in (group ids).
fn soa_writes(s: &gwb::sim::SimServer) -> Vec<(String, bool)> {
    s.shared.with_writes(|w| {
        w.applied()
            .iter()
            .filter(|a| a.path.ends_with("/onPremisesSyncBehavior"))
            .map(|a| {
                (
                    a.id.clone(),
                    a.body.as_ref().unwrap()["isCloudManaged"]
                        .as_bool()
                        .unwrap(),
                )
            })
            .collect()
    })
}

#[test]
fn convert_children_first_refuse_mail_enabled_then_apply_and_undo() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    std::fs::create_dir(&snap).unwrap();
    let doc = tenant();
    std::fs::write(snap.join("tenant.json"), doc.to_string()).unwrap();
    let f = dir.path().join("soa.json");
    let ids = format!("{PARENT},{CHILD},{MAIL}");
    let p = plan(
        &snap,
        &f,
        &["--convert-soa", &ids, "--convert-soa", "lonely*"],
    );

    // Child first, each in its own wave, and exactly the PATCH of the resource.
    let changes = p["changes"].as_array().unwrap();
    let order: Vec<&str> = changes.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(order, [CHILD, PARENT], "{}", p["changes"]);
    assert!(changes[0]["wave"].as_u64() < changes[1]["wave"].as_u64());
    for c in changes {
        let id = c["id"].as_str().unwrap();
        assert_eq!(c["property"], "onPremisesSyncBehavior");
        assert_eq!(c["request"]["method"], "PATCH");
        assert_eq!(
            c["request"]["url"],
            format!("/groups/{id}/onPremisesSyncBehavior").as_str()
        );
        assert_eq!(c["request"]["body"], json!({"isCloudManaged": true}));
        assert_eq!(c["before"], json!({"isCloudManaged": false}));
    }
    // Refused with their reasons.
    let reason = |id: &str| {
        p["refused"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| {
                (
                    r["reason"].as_str().unwrap().to_string(),
                    r["detail"].as_str().unwrap().to_string(),
                )
            })
            .unwrap_or_else(|| panic!("{id} refused: {}", p["refused"]))
    };
    let (code, detail) = reason(MAIL);
    assert_eq!(code, "exchange-managed");
    assert!(detail.contains("Exchange Online"), "{detail}");
    let (code, detail) = reason(LONELY);
    assert_eq!(code, "children-not-converted");
    assert!(detail.contains(STAYS), "{detail}");
    // Preparations reported per group (no AD evidence: the scope cannot be checked).
    let notes = p["notes"].to_string();
    assert!(notes.contains("soa-prepare"), "{notes}");
    // The forecast after the conversion: Cloud Sync now provisions both back.
    let moved: Vec<(String, String, String)> = p["outcomeChanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["target"] == "cloud-sync")
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["after"].as_str().unwrap().to_string(),
                c["reasonAfter"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for id in [CHILD, PARENT] {
        assert!(
            moved.contains(&(id.to_string(), "writeback".into(), "soa-converted".into())),
            "{moved:?}"
        );
    }

    // Applied against the live tenant: the undo file first, then the waves in order.
    let s = gwb::sim::start(
        gwb::sim::store::Store::from_tenant(&doc).unwrap(),
        gwb::sim::SimConfig::default(),
        0,
    )
    .unwrap();
    let out = run_ok(
        cmd()
            .args(["tenant", "apply", "--yes"])
            .arg(&f)
            .args(sim_graph_args(&s))
            .args(["--format", "json"]),
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["changed"], 2, "{report}");
    assert!(managed(&s, CHILD) && managed(&s, PARENT));
    assert!(!managed(&s, MAIL) && !managed(&s, LONELY));
    assert_eq!(
        soa_writes(&s),
        [(CHILD.to_string(), true), (PARENT.to_string(), true)]
    );
    let undo = dir.path().join("soa.undo.json");
    let u: Value = serde_json::from_str(&std::fs::read_to_string(&undo).unwrap()).unwrap();
    assert_eq!(u["groups"].as_array().unwrap().len(), 2);
    assert_eq!(u["groups"][0]["property"], "onPremisesSyncBehavior");

    // Applied again: already done, nothing written.
    let again = run_ok(
        cmd()
            .args(["tenant", "apply", "--yes"])
            .arg(&f)
            .arg("--undo-file")
            .arg(dir.path().join("again.undo.json"))
            .args(sim_graph_args(&s))
            .args(["--format", "json"]),
    );
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        (again["changed"].as_u64(), again["already"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(soa_writes(&s).len(), 2);

    // Undo: parents first, back to not cloud-managed.
    run_ok(
        cmd()
            .args(["tenant", "apply", "--yes", "--undo"])
            .arg(&undo)
            .args(sim_graph_args(&s))
            .args(["--format", "json"]),
    );
    assert!(!managed(&s, CHILD) && !managed(&s, PARENT));
    assert_eq!(
        soa_writes(&s)[2..],
        [(PARENT.to_string(), false), (CHILD.to_string(), false)]
    );
}

#[test]
fn edited_already_done_and_stale_conversion_plans() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    std::fs::create_dir(&snap).unwrap();
    let doc = tenant();
    std::fs::write(snap.join("tenant.json"), doc.to_string()).unwrap();
    let f = dir.path().join("soa.json");
    let p = plan(&snap, &f, &["--convert-soa", &format!("{PARENT},{CHILD}")]);
    assert_eq!(p["changes"].as_array().unwrap().len(), 2);
    let s = gwb::sim::start(
        gwb::sim::store::Store::from_tenant(&doc).unwrap(),
        gwb::sim::SimConfig::default(),
        0,
    )
    .unwrap();
    let apply = |plan: &Path, undo: &str| {
        cmd()
            .args(["tenant", "apply", "--yes"])
            .arg(plan)
            .arg("--undo-file")
            .arg(dir.path().join(undo))
            .args(sim_graph_args(&s))
            .args(["--format", "json"])
            .output()
            .unwrap()
    };
    // A plan edited to write anything else is refused before any request.
    let mut edited: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
    edited["changes"][0]["request"]["body"] = json!({"isCloudManaged": true, "x": 1});
    // Sealed again, so the digest check passes and the change itself is what is refused.
    if let Some(o) = edited.as_object_mut() {
        o.remove("sha256");
        o.remove("sectionSha256");
    }
    gwb::plan::seal::seal_value(&mut edited);
    let bad = dir.path().join("edited.json");
    std::fs::write(&bad, edited.to_string()).unwrap();
    let out = apply(&bad, "edited.undo.json");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a change gwb tenant plan makes"));
    assert!(soa_writes(&s).is_empty());
    // The parent's group is deleted since planning: the plan is stale, nothing is written
    // (not even the child's change) and no undo file is left.
    let (st, _) = s
        .shared
        .call("DELETE", &format!("/v1.0/groups/{PARENT}"), None);
    assert_eq!(st, 204);
    let out = apply(&f, "stale.undo.json");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("stale") && err.contains(PARENT), "{err}");
    assert!(soa_writes(&s).is_empty());
    assert!(!dir.path().join("stale.undo.json").exists());
    // Converted by someone else since planning: reported as already done, not written again.
    s.shared.with_store(|st| st.set_sync_behavior(CHILD, true));
    let f2 = dir.path().join("child.json");
    plan(&snap, &f2, &["--convert-soa", CHILD]);
    let out = apply(&f2, "child.undo.json");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(
        report["already"],
        1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(soa_writes(&s).is_empty());
}
