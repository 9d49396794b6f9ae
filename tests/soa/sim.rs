//! Collection from the Graph simulator: `onPremisesSyncBehavior` is read for exactly the
//! groups that could have been converted (20 per `$batch`), and a denied read leaves the
//! section incomplete so the gate fails closed for the targets it concerns.

use std::path::Path;

use serde_json::{Value, json};

use crate::util::{audit_json, fixture, gwb, sim_graph_args};

const SECRET: &str = "soa-sim-secret";
const DOMAIN: &str = "S-1-5-21-1004336348-1177238915-682003330";

/// fixtures/soa's tenant plus `extra` converted groups (no AD needed to collect).
fn tenant(extra: usize) -> Value {
    let mut t: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("soa").join("tenant.json")).unwrap())
            .unwrap();
    let groups = t["groups"].as_array_mut().unwrap();
    for i in 0..extra {
        groups.push(json!({
            "id": format!("3b000000-0000-4000-8000-{:012}", i),
            "displayName": format!("Converted {i}"),
            "groupTypes": [],
            "mailEnabled": false,
            "securityEnabled": true,
            "onPremisesSyncEnabled": null,
            "onPremisesSecurityIdentifier": format!("{DOMAIN}-{}", 4000 + i),
            "onPremisesSyncBehavior": {"isCloudManaged": i % 3 != 0},
            "members": []
        }));
    }
    t
}

fn serve(t: &Value) -> gwb::sim::SimServer {
    gwb::sim::start(
        gwb::sim::store::Store::from_tenant(t).unwrap(),
        gwb::sim::SimConfig::default(),
        0,
    )
    .unwrap()
}

fn collect(s: &gwb::sim::SimServer, out: &Path) -> std::process::Output {
    gwb()
        .env_remove("GWB_ACCESS_TOKEN")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST")
        .env_remove("GWB_CONFIG")
        .env("AZURE_CLIENT_SECRET", SECRET)
        .args(["collect", "--out"])
        .arg(out)
        .args(sim_graph_args(s))
        .output()
        .unwrap()
}

fn candidates(t: &Value) -> Vec<String> {
    t["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| {
            g["onPremisesSyncEnabled"] != json!(true)
                && g["onPremisesSecurityIdentifier"].is_string()
        })
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect()
}

fn route(s: &gwb::sim::SimServer, label: &str) -> u64 {
    s.shared.stats()["byRoute"][label].as_u64().unwrap_or(0)
}

#[test]
fn collect_reads_the_state_of_exactly_the_candidate_groups_twenty_per_batch() {
    let t = tenant(38);
    let want = candidates(&t);
    assert_eq!(want.len(), 45, "7 in the fixture, 38 added");
    let s = serve(&t);
    let dir = tempfile::tempdir().unwrap();
    let out = collect(&s, dir.path());
    assert!(
        out.status.success(),
        "collect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One read per candidate, and no more batches than ceil(45 / 20) = 3.
    assert_eq!(
        route(&s, "batch GET /v1.0/groups/{id}/onPremisesSyncBehavior"),
        45
    );
    assert_eq!(route(&s, "GET /v1.0/groups/{id}/onPremisesSyncBehavior"), 0);
    assert_eq!(route(&s, "POST /v1.0/$batch"), 45_u64.div_ceil(20));
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("tenant.json")).unwrap())
            .unwrap();
    assert!(doc.get("incompleteSections").is_none(), "{doc}");
    let served: Value = s.shared.with_store(|st| st.to_tenant());
    for g in doc["groups"].as_array().unwrap() {
        let id = g["id"].as_str().unwrap();
        if want.iter().any(|w| w == id) {
            let expected = served["groups"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["id"] == id)
                .and_then(|x| x["onPremisesSyncBehavior"]["isCloudManaged"].as_bool())
                .unwrap_or(false);
            assert_eq!(
                g["onPremisesSyncBehavior"],
                json!({"isCloudManaged": expected}),
                "{id}"
            );
        } else {
            // Synced and cloud-native groups are not asked: absent means not collected.
            assert!(g.get("onPremisesSyncBehavior").is_none(), "{id}: {g}");
        }
    }
    // The on-premises identity a converted group keeps is carried.
    let finance = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["displayName"] == "Finance")
        .unwrap();
    assert_eq!(finance["onPremisesSamAccountName"], "Finance");
    assert_eq!(finance["onPremisesDomainName"], "contoso.com");
}

#[test]
fn a_denied_read_leaves_the_section_incomplete_and_the_gate_fails_closed() {
    let t = tenant(0);
    let s = serve(&t);
    s.shared.with_writes(|w| w.sync_behavior_denied = true);
    let dir = tempfile::tempdir().unwrap();
    let out = collect(&s, &dir.path().join("b"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("Group-OnPremisesSyncBehavior.ReadWrite.All"),
        "{err}"
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("b/tenant.json")).unwrap())
            .unwrap();
    assert_eq!(doc["incompleteSections"], json!(["onPremisesSyncBehavior"]));
    assert!(
        doc["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g.get("onPremisesSyncBehavior").is_none())
    );
    let v = audit_json(dir.path(), &dir.path().join("b"), &[]);
    for verdict in v["verdicts"].as_array().unwrap() {
        let t = verdict["target"].as_str().unwrap();
        let missing = verdict["missing"].to_string();
        assert_eq!(
            missing.contains("onPremisesSyncBehavior"),
            t != "connect-v1",
            "{t}: {verdict}"
        );
    }
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "evidence-incomplete" && f["subject"] == "onPremisesSyncBehavior")
        .expect("the incomplete section is a finding");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("Group-OnPremisesSyncBehavior.ReadWrite.All")
    );
    // Every candidate is unknown, so none is written by any target.
    for fc in v["forecast"].as_array().unwrap() {
        for g in fc["groups"].as_array().unwrap() {
            if candidates(&t).iter().any(|c| g["id"] == c.as_str()) {
                assert_eq!(g["reason"], "soa-state-unknown", "{g}");
            }
        }
    }
}
