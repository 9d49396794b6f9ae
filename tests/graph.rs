//! Integration tests: live Graph collection against the in-process Graph simulator.

use std::path::Path;

use gwb::sim::{self, SimConfig, SimServer, generate::GenSpec};
use serde_json::Value;

use crate::util::{fails, gwb};

const SECRET: &str = "Zq8~s3cr3t-VALUE-never-printed";

fn server(spec: GenSpec, cfg: SimConfig) -> SimServer {
    sim::start(sim::generate::generate(&spec), cfg, 0).expect("simulator starts")
}

fn small() -> GenSpec {
    // 2,500 members in one group: three member pages at $top=999.
    GenSpec {
        groups: 45,
        members: 900,
        seed: 11,
        big: 2500,
    }
}

fn collect_cmd(s: &SimServer, out: &Path) -> assert_cmd::Command {
    let mut c = gwb();
    c.env_remove("GWB_ACCESS_TOKEN")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST")
        .env("AZURE_CLIENT_SECRET", SECRET)
        .args(["collect", "--out"])
        .arg(out)
        .args([
            "--graph-url",
            &s.url(),
            "--tenant",
            "contoso.onmicrosoft.com",
            "--client-id",
            "11111111-2222-3333-4444-555555555555",
        ]);
    c
}

/// Sort arrays and drop what legitimately differs between runs.
fn normalise(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                if k == "collectedAt" || k.ends_with("DeltaLink") {
                    continue;
                }
                out.insert(k.clone(), normalise(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => {
            let mut items: Vec<Value> = a.iter().map(normalise).collect();
            items.sort_by_key(|x| x.to_string());
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// The first place where two documents differ, for short failure messages.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => {
                        if let Some(d) = first_difference(p, q, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                    (p, q) => {
                        return Some(format!("{path}.{k}: {} vs {}", p.is_some(), q.is_some()));
                    }
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]"))),
        (Value::Array(x), Value::Array(y)) => {
            Some(format!("{path}: {} items vs {}", x.len(), y.len()))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

/// The served tenant as gwb collects it: members of groups no target writes back (synced,
/// distribution lists, mail-enabled security) are skipped by default.
fn as_collected(served: &Value) -> Value {
    let mut v = served.clone();
    if let Some(groups) = v.get_mut("groups").and_then(Value::as_array_mut) {
        for g in groups {
            if let Some(o) = g.as_object_mut()
                && gwb::graph::model::members_irrelevant(o)
            {
                o.remove("members");
            }
        }
    }
    v
}

fn assert_same(collected: &Value, served: &Value) {
    let (a, b) = (normalise(collected), normalise(&as_collected(served)));
    if let Some(d) = first_difference(&a, &b, "$") {
        panic!("collected and served tenants differ at {d}");
    }
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn served(s: &SimServer) -> Value {
    s.shared.with_store(|st| st.to_tenant())
}

fn requests(s: &SimServer) -> u64 {
    s.shared.stats()["requests"].as_u64().unwrap()
}

/// With --all-members every group's members are collected, those no target writes back too.
#[test]
fn all_members_collects_every_group() {
    let s = server(small(), SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    collect_cmd(&s, dir.path())
        .arg("--all-members")
        .assert()
        .success();
    let doc = read_json(&dir.path().join("tenant.json"));
    let (a, b) = (normalise(&doc), normalise(&served(&s)));
    if let Some(d) = first_difference(&a, &b, "$") {
        panic!("collected and served tenants differ at {d}");
    }
    assert!(
        doc["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["members"].is_array())
    );
    // One more member batch than the default collection.
    assert_eq!(s.shared.stats()["requests"], 8, "{}", s.shared.stats());
}

#[test]
fn full_collection_equals_served_tenant() {
    let s = server(small(), SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let out = collect_cmd(&s, dir.path())
        .assert()
        .success()
        .get_output()
        .clone();
    let doc = read_json(&dir.path().join("tenant.json"));
    assert_same(&doc, &served(&s));
    assert_eq!(doc["format"], "gwb-tenant/1");
    assert!(
        doc["groupsDeltaLink"]
            .as_str()
            .unwrap()
            .contains("deltatoken")
    );
    // Unknown properties survive (visibility is not in gwb's typed model).
    assert!(
        doc["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g.get("visibility").is_some_and(Value::is_string))
    );
    // The bundle loads with gwb's own reader.
    gwb::snapshot::load_dir(dir.path(), &[]).expect("bundle loads");
    let stats = s.shared.stats();
    // 46 groups, 34 of which can be written back: 2 member batches (members of synced groups,
    // distribution lists and mail-enabled security groups are not needed), 1 groups page,
    // 2 extra pages of the big group, 1 sections batch, 1 SKU request.
    assert_eq!(stats["requests"], 7, "{stats}");
    assert_eq!(stats["batchItems"], 41, "{stats}");
    assert_eq!(stats["tokensIssued"], 1);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(SECRET));
}

#[test]
fn throttling_and_503s_do_not_change_the_bundle() {
    let cfg = SimConfig {
        fault_429: 10.0,
        fault_503: 2.0,
        retry_after: 0,
        fault_seed: 7,
        ..SimConfig::default()
    };
    let s = server(small(), cfg);
    let dir = tempfile::tempdir().unwrap();
    collect_cmd(&s, dir.path())
        .args(["--max-attempts", "12"])
        .assert()
        .success();
    let doc = read_json(&dir.path().join("tenant.json"));
    assert_same(&doc, &served(&s));
    assert!(doc.get("incompleteSections").is_none());
    let faults = &s.shared.stats()["faults"];
    let injected: u64 = faults
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert!(injected > 0, "no fault was injected: {faults}");
}

#[test]
fn resets_and_truncated_bodies_are_retried() {
    let cfg = SimConfig {
        fault_reset: 10.0,
        fault_truncate: 10.0,
        fault_seed: 3,
        ..SimConfig::default()
    };
    let s = server(
        GenSpec {
            groups: 300,
            members: 3000,
            seed: 5,
            big: 0,
        },
        cfg,
    );
    let dir = tempfile::tempdir().unwrap();
    collect_cmd(&s, dir.path())
        .args(["--max-attempts", "12"])
        .assert()
        .success();
    assert_same(&read_json(&dir.path().join("tenant.json")), &served(&s));
    let faults = &s.shared.stats()["faults"];
    assert!(
        faults.get("reset").is_some() || faults.get("truncate").is_some(),
        "{faults}"
    );
}

#[test]
fn persistent_failure_is_reported_incomplete() {
    let cfg = SimConfig {
        fail: vec![("/beta/settings".into(), 500)],
        ..SimConfig::default()
    };
    let s = server(small(), cfg);
    let dir = tempfile::tempdir().unwrap();
    let out = collect_cmd(&s, dir.path())
        .args(["--max-attempts", "2"])
        .assert()
        .code(3)
        .get_output()
        .clone();
    let doc = read_json(&dir.path().join("tenant.json"));
    assert_eq!(doc["incompleteSections"], serde_json::json!(["settings"]));
    assert!(
        doc.get("settings").is_none(),
        "a failed section is absent, not empty"
    );
    assert_eq!(
        doc["groups"].as_array().unwrap().len(),
        46,
        "the rest of the collection continues"
    );
    let manifest = read_json(&dir.path().join("bundle.json"));
    assert_eq!(
        manifest["incompleteSections"],
        serde_json::json!(["tenant"])
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("settings") && err.contains("500"), "{err}");
}

#[test]
fn failing_members_pages_mark_groups_incomplete() {
    let cfg = SimConfig {
        fail: vec![("/beta/groups/".into(), 503)],
        retry_after: 0,
        ..SimConfig::default()
    };
    let s = server(
        GenSpec {
            groups: 5,
            members: 50,
            seed: 2,
            big: 0,
        },
        cfg,
    );
    let dir = tempfile::tempdir().unwrap();
    collect_cmd(&s, dir.path())
        .args(["--max-attempts", "2"])
        .assert()
        .code(3);
    let doc = read_json(&dir.path().join("tenant.json"));
    assert!(
        doc["incompleteSections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "groups"),
        "{}",
        doc["incompleteSections"]
    );
    // Groups whose members could not be read carry no members array ("not collected"), never an empty one.
    assert!(
        doc["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g.get("members").is_none())
    );
}

#[test]
fn forbidden_on_premises_sync_is_explained() {
    let cfg = SimConfig {
        fail: vec![("/beta/directory/onPremisesSynchronization".into(), 403)],
        ..SimConfig::default()
    };
    let s = server(
        GenSpec {
            groups: 5,
            members: 50,
            seed: 2,
            big: 0,
        },
        cfg,
    );
    let dir = tempfile::tempdir().unwrap();
    let (_out, err) = fails(collect_cmd(&s, dir.path()), 3);
    assert!(
        err.contains("OnPremDirectorySynchronization.Read.All"),
        "{err}"
    );
    assert!(
        err.contains("Get-ADSyncAADCompanyFeature | ConvertTo-Json"),
        "{err}"
    );
    let doc = read_json(&dir.path().join("tenant.json"));
    assert_eq!(
        doc["incompleteSections"],
        serde_json::json!(["onPremisesSynchronization"])
    );
    assert!(doc["settings"].is_array() && doc["subscribedSkus"].is_array());
    // A 403 is final: requested once, not retried.
    assert_eq!(s.shared.stats()["faults"]["fail-403"], 1);
}

#[test]
fn delta_after_changes_updates_the_bundle_cheaply() {
    let s = server(small(), SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    collect_cmd(&s, dir.path()).assert().success();
    let first = requests(&s);

    // Unchanged tenant: a handful of requests.
    s.shared.reset_stats();
    collect_cmd(&s, dir.path())
        .arg("--incremental")
        .assert()
        .success();
    assert!(requests(&s) <= 3, "{}", s.shared.stats());
    assert!(
        requests(&s) * 100 <= first * 100 / 2,
        "incremental {} vs full {first}",
        requests(&s)
    );

    // Change the tenant through Graph: writeback setting, memberships, a deleted group.
    let t = served(&s);
    let groups = t["groups"].as_array().unwrap();
    // A cloud Microsoft 365 group: Graph (and the simulator) refuse writebackConfiguration on
    // distribution lists, mail-enabled security, synced and role-assignable groups.
    let g0 = groups
        .iter()
        .skip(3)
        .find(|g| {
            g["groupTypes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "Unified")
                && g["onPremisesSyncEnabled"] != true
        })
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let g1 = groups[1]["id"].as_str().unwrap().to_string();
    let gone = groups[2]["id"].as_str().unwrap().to_string();
    let removed_member = groups[1]["members"][0]["id"].as_str().unwrap().to_string();
    let new_member = groups.last().unwrap()["members"][5]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let call = |m: &str, u: &str, b: Option<Value>| s.shared.call(m, u, b).0;
    assert_eq!(
        call(
            "PATCH",
            &format!("/beta/groups/{g0}"),
            Some(
                serde_json::json!({"writebackConfiguration": {"isEnabled": false, "onPremisesGroupType": null}})
            )
        ),
        204
    );
    assert_eq!(
        call(
            "DELETE",
            &format!("/beta/groups/{g1}/members/{removed_member}/$ref"),
            None
        ),
        204
    );
    let odata_id = format!("https://graph.microsoft.com/v1.0/directoryObjects/{new_member}");
    assert_eq!(
        call(
            "POST",
            &format!("/beta/groups/{g1}/members/$ref"),
            Some(serde_json::json!({"@odata.id": odata_id}))
        ),
        204
    );
    assert_eq!(call("DELETE", &format!("/beta/groups/{gone}"), None), 204);

    s.shared.reset_stats();
    collect_cmd(&s, dir.path())
        .arg("--incremental")
        .assert()
        .success();
    assert!(requests(&s) <= 5, "{}", s.shared.stats());
    let doc = read_json(&dir.path().join("tenant.json"));
    assert_same(&doc, &served(&s));
    let g = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == g0.as_str())
        .unwrap();
    assert_eq!(g["writebackConfiguration"]["isEnabled"], false);
    // The new member arrived with its on-premises fields, not just an id.
    let g1doc = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == g1.as_str())
        .unwrap();
    let m = g1doc["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == new_member.as_str())
        .unwrap();
    assert!(
        m.get("onPremisesSyncEnabled").is_some() && m.get("displayName").is_some(),
        "{m}"
    );
}

#[test]
fn expired_delta_token_falls_back_to_full_collection() {
    let s = server(
        GenSpec {
            groups: 10,
            members: 100,
            seed: 9,
            big: 0,
        },
        SimConfig::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    collect_cmd(&s, dir.path()).assert().success();
    s.shared.with_store(|st| st.expire_delta_tokens());
    let out = collect_cmd(&s, dir.path())
        .arg("--incremental")
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("expired") && err.contains("collecting everything"),
        "{err}"
    );
    assert_same(&read_json(&dir.path().join("tenant.json")), &served(&s));
}

#[test]
fn wrong_secret_is_explained_and_never_printed() {
    let cfg = SimConfig {
        client_secret: Some("the-right-one".into()),
        ..SimConfig::default()
    };
    let s = server(
        GenSpec {
            groups: 2,
            members: 10,
            seed: 1,
            big: 0,
        },
        cfg,
    );
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = fails(collect_cmd(&s, dir.path()).args(["-vvv"]), 2);
    assert!(
        err.contains("AADSTS7000215") && err.contains("hint:"),
        "{err}"
    );
    assert!(!err.contains(SECRET) && !String::from_utf8_lossy(&out.stdout).contains(SECRET));
    assert_eq!(
        s.shared.stats()["requests"],
        0,
        "nothing is asked of Graph without a token"
    );
}

#[test]
fn unknown_client_is_explained() {
    let cfg = SimConfig {
        client_id: Some("someone-else".into()),
        ..SimConfig::default()
    };
    let s = server(
        GenSpec {
            groups: 2,
            members: 10,
            seed: 1,
            big: 0,
        },
        cfg,
    );
    let dir = tempfile::tempdir().unwrap();
    let (_out, err) = fails(collect_cmd(&s, dir.path()), 2);
    assert!(
        err.contains("AADSTS700016") && err.contains("--client-id"),
        "{err}"
    );
}

#[test]
fn secret_on_the_command_line_warns_and_stays_hidden() {
    let s = server(
        GenSpec {
            groups: 3,
            members: 20,
            seed: 1,
            big: 0,
        },
        SimConfig::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    let out = collect_cmd(&s, dir.path())
        .env_remove("AZURE_CLIENT_SECRET")
        .args(["--client-secret", SECRET, "-vv"])
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--client-secret puts the secret in the process list"),
        "{err}"
    );
    assert!(!err.contains(SECRET) && !String::from_utf8_lossy(&out.stdout).contains(SECRET));
    let tenant = std::fs::read_to_string(dir.path().join("tenant.json")).unwrap();
    assert!(!tenant.contains(SECRET));
    // --help never shows a secret from the environment.
    let help = gwb()
        .env("AZURE_CLIENT_SECRET", SECRET)
        .env("GWB_ACCESS_TOKEN", SECRET)
        .args(["collect", "--help"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&help.stdout).contains(SECRET));
}

#[test]
fn access_token_file_is_used_as_is() {
    let s = server(
        GenSpec {
            groups: 3,
            members: 20,
            seed: 1,
            big: 0,
        },
        SimConfig::default(),
    );
    let token = s.shared.issue_token();
    let dir = tempfile::tempdir().unwrap();
    let tok_file = dir.path().join("token.txt");
    std::fs::write(&tok_file, format!("{token}\r\n")).unwrap();
    let out_dir = dir.path().join("bundle");
    gwb()
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("GWB_ACCESS_TOKEN")
        .args(["collect", "--out"])
        .arg(&out_dir)
        .args(["--graph-url", &s.url(), "--access-token-file"])
        .arg(&tok_file)
        .assert()
        .success();
    assert_same(&read_json(&out_dir.join("tenant.json")), &served(&s));
    assert_eq!(s.shared.stats()["tokensIssued"], 0);
}

#[test]
fn rejected_access_token_is_explained() {
    let s = server(
        GenSpec {
            groups: 3,
            members: 20,
            seed: 1,
            big: 0,
        },
        SimConfig::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    let (_out, err) = fails(
        gwb()
            .env_remove("AZURE_CLIENT_SECRET")
            .env_remove("AZURE_CLIENT_ID")
            .env("GWB_ACCESS_TOKEN", "sim.not-a-real-token")
            .args(["collect", "--out"])
            .arg(dir.path())
            .args(["--graph-url", &s.url()]),
        3,
    );
    assert!(
        err.contains("401") && err.contains("access token was rejected"),
        "{err}"
    );
    assert!(!err.contains("sim.not-a-real-token"));
}

fn openssl_cert(dir: &Path) -> Option<std::path::PathBuf> {
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    let ok = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=gwb-test",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .ok()?
        .status
        .success();
    if !ok {
        return None;
    }
    let both = dir.join("app.pem");
    let text = format!(
        "{}{}",
        std::fs::read_to_string(&cert).ok()?,
        std::fs::read_to_string(&key).ok()?
    );
    std::fs::write(&both, text).ok()?;
    Some(both)
}

#[test]
#[cfg_attr(windows, ignore = "needs the openssl command-line tool")]
fn certificate_credentials_sign_a_client_assertion() {
    let dir = tempfile::tempdir().unwrap();
    let Some(pem) = openssl_cert(dir.path()) else {
        // CI (CI=true) and scripts/test.sh (GWB_REQUIRE_SAMBA=1) install openssl: its absence
        // there is a failure, not a pass.
        assert!(
            std::env::var_os("CI").is_none() && std::env::var_os("GWB_REQUIRE_SAMBA").is_none(),
            "openssl is needed to make the test certificate (apt-get install openssl)"
        );
        eprintln!("openssl not available; skipping");
        return;
    };
    let s = server(
        GenSpec {
            groups: 3,
            members: 20,
            seed: 1,
            big: 0,
        },
        SimConfig::default(),
    );
    for alg in ["ps256", "rs256"] {
        let out_dir = dir.path().join(alg);
        collect_cmd(&s, &out_dir)
            .env_remove("AZURE_CLIENT_SECRET")
            .arg("--client-certificate")
            .arg(&pem)
            .args(["--assertion-alg", alg])
            .assert()
            .success();
        assert!(out_dir.join("tenant.json").exists());
    }
    assert_eq!(s.shared.stats()["tokensIssued"], 2);
    assert_eq!(s.shared.stats()["tokensDenied"], 0);
}

#[test]
fn simulator_speaks_graph_over_http() {
    let s = server(
        GenSpec {
            groups: 30,
            members: 300,
            seed: 4,
            big: 0,
        },
        SimConfig::default(),
    );
    let token = s.shared.issue_token();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let base = s.url();
        let get = |path: &str, auth: bool, eventual: bool| {
            let mut rb = http.get(format!("{base}{path}"));
            if auth {
                rb = rb.bearer_auth(&token);
            }
            if eventual {
                rb = rb.header("ConsistencyLevel", "eventual");
            }
            rb.send()
        };
        assert_eq!(get("/beta/groups", false, false).await.unwrap().status(), 401);
        assert_eq!(get("/beta/groups?$top=1000", true, false).await.unwrap().status(), 400);
        assert_eq!(get("/beta/groups?$count=true", true, false).await.unwrap().status(), 400);
        let first: Value = get("/beta/groups?$count=true&$top=7&$select=id,displayName", true, true).await.unwrap().json().await.unwrap();
        assert_eq!(first["@odata.count"], 30);
        assert_eq!(first["value"].as_array().unwrap().len(), 7);
        assert_eq!(first["value"][0].as_object().unwrap().len(), 2);
        // nextLink keeps the query; @odata.count only on the first page; headers must be re-sent.
        let next = first["@odata.nextLink"].as_str().unwrap().to_string();
        let r = http.get(&next).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 400, "$count without ConsistencyLevel on a later page");
        let second: Value = http.get(&next).bearer_auth(&token).header("ConsistencyLevel", "eventual").send().await.unwrap().json().await.unwrap();
        assert!(second.get("@odata.count").is_none());
        assert_eq!(second["value"].as_array().unwrap().len(), 7);
        let count = get("/beta/groups/$count", true, true).await.unwrap().text().await.unwrap();
        assert_eq!(count, "30");
        let unified: Value = get("/beta/groups?$filter=groupTypes/any(c:c%20eq%20'Unified')&$select=id,groupTypes", true, false).await.unwrap().json().await.unwrap();
        assert!(unified["value"].as_array().unwrap().iter().all(|g| g["groupTypes"].as_array().unwrap().iter().any(|t| t == "Unified")));
        // $batch: more than 20 is refused; each item has its own status.
        let many: Vec<Value> = (0..21).map(|i| serde_json::json!({"id": i.to_string(), "method": "GET", "url": "/settings"})).collect();
        let r = http.post(format!("{base}/beta/$batch")).bearer_auth(&token).json(&serde_json::json!({"requests": many})).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let two = serde_json::json!({"requests": [
            {"id": "a", "method": "GET", "url": "/settings"},
            {"id": "b", "method": "GET", "url": "/groups/00000000-0000-0000-0000-000000000000"}
        ]});
        let r: Value = http.post(format!("{base}/beta/$batch")).bearer_auth(&token).json(&two).send().await.unwrap().json().await.unwrap();
        let statuses: Vec<u64> = r["responses"].as_array().unwrap().iter().map(|x| x["status"].as_u64().unwrap()).collect();
        assert_eq!(statuses, vec![200, 404]);
        // Settings: POST conflicts with the existing Group.Unified, PATCH is visible to later reads.
        let settings: Value = get("/beta/settings", true, false).await.unwrap().json().await.unwrap();
        let sid = settings["value"][0]["id"].as_str().unwrap().to_string();
        let body = serde_json::json!({"templateId": "62375ab9-6b52-47ed-826b-58e47e0e304b", "values": []});
        assert_eq!(http.post(format!("{base}/beta/settings")).bearer_auth(&token).json(&body).send().await.unwrap().status(), 400);
        let patch = serde_json::json!({"values": [{"name": "NewUnifiedGroupWritebackDefault", "value": "False"}]});
        assert_eq!(http.patch(format!("{base}/beta/settings/{sid}")).bearer_auth(&token).json(&patch).send().await.unwrap().status(), 204);
        let after: Value = get(&format!("/beta/settings/{sid}"), true, false).await.unwrap().json().await.unwrap();
        assert!(after["values"].as_array().unwrap().iter().any(|v| v["name"] == "NewUnifiedGroupWritebackDefault" && v["value"] == "False"));
        // Stats and reset.
        let stats: Value = http.get(format!("{base}/_sim/stats")).send().await.unwrap().json().await.unwrap();
        assert!(stats["requests"].as_u64().unwrap() >= 10);
        assert!(stats["unauthorized"].as_u64().unwrap() >= 1);
        assert_eq!(http.post(format!("{base}/_sim/reset")).send().await.unwrap().status(), 204);
        let stats: Value = http.get(format!("{base}/_sim/stats")).send().await.unwrap().json().await.unwrap();
        assert_eq!(stats["requests"], 0);
    });
}

#[test]
fn graph_sim_binary_announces_its_port_first() {
    use std::io::BufRead;
    let bin = assert_cmd::cargo::cargo_bin("gwb");
    let mut child = std::process::Command::new(bin)
        .args([
            "graph-sim",
            "--generate",
            "groups=3,members=10,seed=1",
            "--port",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("listening on http://127.0.0.1:"),
        "{line:?}"
    );
    let port: u16 = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    assert!(port > 0);
}

#[test]
fn graph_sim_serves_a_bundle() {
    let s = server(
        GenSpec {
            groups: 4,
            members: 30,
            seed: 8,
            big: 0,
        },
        SimConfig::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tenant.json"),
        serde_json::to_string_pretty(&served(&s)).unwrap(),
    )
    .unwrap();
    let (store, _) = sim::from_args(&sim::args::SimArgs {
        bundle: Some(dir.path().to_path_buf()),
        generate: None,
        port: 0,
        latency_ms: 0,
        fault_429: 0.0,
        fault_503: 0.0,
        fault_reset: 0.0,
        fault_truncate: 0.0,
        fault_seed: 1,
        retry_after: 1,
        fail: vec![],
        client_id: None,
        client_secret_file: None,
        token_lifetime: 60,
    })
    .unwrap();
    assert_same(&store.to_tenant(), &served(&s));
    std::fs::write(dir.path().join("tenant.json"), "{\"groups\": [1]}").unwrap();
    let out = gwb()
        .args(["graph-sim", "--bundle"])
        .arg(dir.path())
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("groups[0]"));
}

// The refresh rule is tested without timing in graph_hostile::token_refresh_follows_the_rule_whatever_the_machine_speed.

#[test]
fn incremental_over_a_damaged_bundle_names_the_file_and_place() {
    let s = server(
        GenSpec {
            groups: 3,
            members: 20,
            seed: 1,
            big: 0,
        },
        SimConfig::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tenant.json"),
        "{\n  \"format\": \"gwb-tenant/1\",\n  \"groups\": [1]\n}\n",
    )
    .unwrap();
    let (_out, err) = fails(collect_cmd(&s, dir.path()).arg("--incremental"), 2);
    assert!(
        err.contains("tenant.json") && err.contains("line 3"),
        "{err}"
    );
    assert_eq!(
        s.shared.stats()["requests"],
        0,
        "nothing is collected over a damaged bundle"
    );
}

#[test]
fn bodies_that_stay_truncated_make_the_collection_incomplete() {
    let cfg = SimConfig {
        fault_truncate: 100.0,
        ..SimConfig::default()
    };
    let s = server(
        GenSpec {
            groups: 5,
            members: 50,
            seed: 2,
            big: 0,
        },
        cfg,
    );
    let dir = tempfile::tempdir().unwrap();
    let out = collect_cmd(&s, dir.path())
        .args(["--max-attempts", "2"])
        .assert()
        .code(3)
        .get_output()
        .clone();
    let doc = read_json(&dir.path().join("tenant.json"));
    let incomplete: Vec<&str> = doc["incompleteSections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for section in [
        "onPremisesSynchronization",
        "settings",
        "subscribedSkus",
        "deletedGroups",
        "groups",
    ] {
        assert!(
            incomplete.contains(&section),
            "{section} missing from {incomplete:?}"
        );
    }
    assert!(doc.get("groups").is_none());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not complete JSON"), "{err}");
}

#[test]
fn headers_are_sent_again_on_every_page() {
    let s = server(
        GenSpec {
            groups: 12,
            members: 30,
            seed: 1,
            big: 0,
        },
        SimConfig::default(),
    );
    let args = gwb::graph::args::GraphArgs {
        graph_url: Some(s.url()),
        tenant: Some("t".into()),
        client_id: Some("c".into()),
        client_secret: Some("x".parse().unwrap()),
        ..Default::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, _) = gwb::graph::connect(&args).await.unwrap();
        // $count needs ConsistencyLevel on the nextLink pages too (the simulator refuses otherwise).
        let all = client
            .get_all(
                "/beta/groups?$select=id&$top=5&$count=true",
                &[("ConsistencyLevel", "eventual")],
            )
            .await
            .unwrap();
        assert_eq!(all.len(), 12);
        let err = client.get("/beta/groups?$top=1000", &[]).await.unwrap_err();
        assert_eq!(err.status, Some(400));
        assert_eq!(err.attempts, 1, "a 400 is not retried");
    });
    assert_eq!(s.shared.stats()["byRoute"]["GET /beta/groups"], 4);
}

#[test]
fn a_bundle_with_differing_member_copies_is_served_and_collected_faithfully() {
    let doc = serde_json::json!({
        "format": "gwb-tenant/1",
        "tenantId": "4a7b1c2d-0000-4000-8000-000000000001",
        "groups": [
            {"id": "0b5d3f2e-6a1e-4c59-9f6c-1a2b3c4d5e61", "displayName": "A",
             "members": [{"@odata.type": "#microsoft.graph.user", "id": "1b5d3f2e-6a1e-4c59-9f6c-1a2b3c4d5e61", "displayName": "U", "onPremisesSecurityIdentifier": "S-1-5-21-1-2-3-1001"}]},
            {"id": "0b5d3f2e-6a1e-4c59-9f6c-1a2b3c4d5e62", "displayName": "B",
             "members": [{"@odata.type": "#microsoft.graph.user", "id": "1b5d3f2e-6a1e-4c59-9f6c-1a2b3c4d5e61", "displayName": "U", "onPremisesObjectIdentifier": "2b5d3f2e-6a1e-4c59-9f6c-1a2b3c4d5e61"}]}
        ],
        "deletedGroups": [],
        "settings": [],
        "subscribedSkus": []
    });
    let store = sim::Store::from_tenant(&doc).unwrap();
    let s = sim::start(store, SimConfig::default(), 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    collect_cmd(&s, dir.path()).assert().success();
    let got = read_json(&dir.path().join("tenant.json"));
    let mut want = doc.clone();
    want.as_object_mut().unwrap().remove("format");
    let mut got_cmp = got.clone();
    got_cmp.as_object_mut().unwrap().remove("format");
    assert_same(&got_cmp, &want);
}

#[test]
fn a_refused_delta_bookmark_means_the_next_run_is_full() {
    let cfg = SimConfig {
        fail: vec![("/beta/groups/delta".into(), 400)],
        ..SimConfig::default()
    };
    let s = server(
        GenSpec {
            groups: 4,
            members: 20,
            seed: 1,
            big: 0,
        },
        cfg,
    );
    let dir = tempfile::tempdir().unwrap();
    let out = collect_cmd(&s, dir.path())
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("groups delta bookmark"));
    let doc = read_json(&dir.path().join("tenant.json"));
    assert!(doc.get("groupsDeltaLink").is_none());
    assert!(
        doc.get("incompleteSections").is_none(),
        "the bundle itself is complete"
    );
    let out = collect_cmd(&s, dir.path())
        .arg("--incremental")
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no groupsDeltaLink; collecting everything")
    );
    assert_same(&read_json(&dir.path().join("tenant.json")), &served(&s));
}

#[test]
fn incremental_sees_changes_to_members_themselves() {
    let s = server(
        GenSpec {
            groups: 20,
            members: 300,
            seed: 6,
            big: 0,
        },
        SimConfig::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    collect_cmd(&s, dir.path()).assert().success();
    let doc = read_json(&dir.path().join("tenant.json"));
    assert!(doc["usersDeltaLink"].is_string() && doc["devicesDeltaLink"].is_string());
    // A cloud-only user becomes synced: only /users/delta can tell.
    let t = served(&s);
    let user = t["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["members"].as_array().into_iter().flatten())
        .find(|m| {
            m["@odata.type"] == "#microsoft.graph.user" && m["onPremisesSyncEnabled"].is_null()
        })
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let patch = serde_json::json!({"onPremisesSyncEnabled": true, "onPremisesSecurityIdentifier": "S-1-5-21-7-7-7-4242"});
    assert_eq!(
        s.shared
            .call("PATCH", &format!("/beta/users/{user}"), Some(patch))
            .0,
        204
    );
    s.shared.reset_stats();
    collect_cmd(&s, dir.path())
        .arg("--incremental")
        .assert()
        .success();
    assert!(requests(&s) <= 3, "{}", s.shared.stats());
    let doc = read_json(&dir.path().join("tenant.json"));
    assert_same(&doc, &served(&s));
    let copies: Vec<&Value> = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["members"].as_array().into_iter().flatten())
        .filter(|m| m["id"] == user.as_str())
        .collect();
    assert!(!copies.is_empty());
    assert!(
        copies
            .iter()
            .all(|m| m["onPremisesSecurityIdentifier"] == "S-1-5-21-7-7-7-4242")
    );
    // A bundle without the users bookmark cannot be refreshed safely: everything is collected.
    let mut old = doc.clone();
    old.as_object_mut().unwrap().remove("usersDeltaLink");
    std::fs::write(dir.path().join("tenant.json"), old.to_string()).unwrap();
    let out = collect_cmd(&s, dir.path())
        .arg("--incremental")
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no usersDeltaLink"));
}
