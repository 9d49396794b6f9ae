//! Against the Samba DC (tenant served by the simulator and collected, AD live): a converted
//! security group is written into its original AD group (same objectGUID, objectSid and DN,
//! members and description from the cloud, nothing new in the target OU), rolled-back and
//! synced groups are not touched, a second run writes nothing, and `gwb undo` restores the
//! original members and attributes.

use std::collections::BTreeSet;
use std::path::Path;

use gwb::ad::ids;
use gwb::core::GroupReason;
use gwb::plan::model::{Action, Plan};
use serde_json::{Value, json};

use crate::apply::Env;
use crate::util::{gwb, sim_graph_args};

const UNIVERSAL_SECURITY: i32 = -2147483640;

/// objectGUID, objectSid, uSNChanged, members (lower case), description, adminDescription.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    guid: Vec<u8>,
    sid: String,
    usn: u64,
    members: BTreeSet<String>,
    description: Option<String>,
    admin_description: Option<String>,
}

fn seen(e: &Env, dn: &str) -> Seen {
    e.admin(async |a| {
        let x = a
            .read(
                dn,
                &[
                    "objectGUID",
                    "objectSid",
                    "uSNChanged",
                    "member",
                    "description",
                    "adminDescription",
                ],
            )
            .await
            .unwrap_or_else(|| panic!("{dn} exists"));
        Seen {
            guid: x.first("objectGUID").unwrap().to_vec(),
            sid: ids::sid_from_bytes(x.first("objectSid").unwrap()).unwrap(),
            usn: x.text("uSNChanged").unwrap().parse().unwrap(),
            members: x
                .texts("member")
                .into_iter()
                .map(|m| m.to_ascii_lowercase())
                .collect(),
            description: x.text("description").map(str::to_string),
            admin_description: x.text("adminDescription").map(str::to_string),
        }
    })
}

fn run(c: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = c.output().expect("gwb runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn collect(e: &Env, sim: &gwb::sim::SimServer, target: &str, out: &Path) {
    let mut c = gwb();
    c.env_remove("GWB_ACCESS_TOKEN")
        .env_remove("GWB_LDAP_PASSWORD")
        .env_remove("GWB_LDAP_URL")
        .env_remove("GWB_LDAP_BIND_DN")
        .env_remove("GWB_CONFIG")
        .env("AZURE_CLIENT_SECRET", "lab-secret")
        .args(["collect", "--out"])
        .arg(out)
        .args(sim_graph_args(sim))
        .args(["--target-ou", target])
        .args(["--ldap-url", e.lab.var("GWB_TEST_LDAP_URL")])
        .args(["--bind-dn", e.lab.var("GWB_TEST_LDAP_BIND_DN")])
        .arg("--password-file")
        .arg(e.lab.password_file())
        .args(["--ca-file", e.lab.var("GWB_TEST_LDAP_CA_FILE")]);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 0, "collect: {err}");
}

fn plan(dir: &Path, out: &Path) -> Plan {
    let (code, _, err) = run(gwb()
        .env_remove("GWB_CONFIG")
        .args(["plan", "--snapshot"])
        .arg(dir)
        .arg("--out")
        .arg(out)
        .args(["--format", "json"]));
    assert_eq!(code, 0, "plan: {err}");
    Plan::from_json(&std::fs::read_to_string(out).expect("plan"), "plan.json").expect("plan")
}

fn apply(e: &Env, plan_file: &Path) -> String {
    let (code, out, err) = run(&mut e.cmd(plan_file));
    assert_eq!(code, 0, "apply: {out}\n{err}");
    out
}

fn user(id: &str, name: &str, sid: &str, guid: uuid::Uuid) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.user",
        "id": id,
        "displayName": name,
        "onPremisesSyncEnabled": true,
        "onPremisesSecurityIdentifier": sid,
        "onPremisesObjectIdentifier": guid.to_string(),
    })
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn a_converted_group_is_written_into_its_original_ad_group_and_undone() {
    let Some(e) = crate::apply::env("soa") else {
        return;
    };
    let groups_ou = format!("OU=Groups,{}", e.ou);
    let target = format!("OU=Cloud Groups,{}", e.ou);
    e.admin(async |a| {
        a.add_ou(&groups_ou).await;
        a.add_ou(&target).await;
    });
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(|n| e.user(n));
    let identity = |dn: &str| -> (String, uuid::Uuid) {
        e.admin(async |a| {
            let x = a.read(dn, &["objectSid", "objectGUID"]).await.unwrap();
            (
                ids::sid_from_bytes(x.first("objectSid").unwrap()).unwrap(),
                ids::guid_from_bytes(x.first("objectGUID").unwrap()).unwrap(),
            )
        })
    };
    // The original AD groups: seeded by the test with AD's own SIDs.
    let dn_of = |cn: &str| format!("CN={cn},{groups_ou}");
    for cn in ["Finance", "Legal", "Ops"] {
        let dn = dn_of(cn);
        let sam = format!("{cn}{}", e.tag);
        let alice = alice.clone();
        e.admin(async |a| {
            a.add_group(&dn, &sam, UNIVERSAL_SECURITY).await;
            a.add_members(&dn, &[alice]).await;
            a.replace(&dn, "description", "managed in AD").await;
        });
    }
    let finance0 = seen(&e, &dn_of("Finance"));
    let legal0 = seen(&e, &dn_of("Legal"));
    let ops0 = seen(&e, &dn_of("Ops"));

    let ids_of = |n: u128| uuid::Uuid::from_u128(n ^ uuid::Uuid::new_v4().as_u128()).to_string();
    let (finance_id, legal_id, ops_id) = (ids_of(1), ids_of(2), ids_of(3));
    let members = |who: &[(&str, &String)]| -> Vec<Value> {
        who.iter()
            .map(|(name, dn)| {
                let (sid, guid) = identity(dn);
                user(&ids_of(guid.as_u128()), name, &sid, guid)
            })
            .collect()
    };
    let group = |id: &str, name: &str, sid: &str, sync: Value, managed: bool, who: Vec<Value>| {
        json!({
            "id": id,
            "displayName": name,
            "description": format!("{name}, managed in the cloud"),
            "groupTypes": [],
            "mailEnabled": false,
            "securityEnabled": true,
            "onPremisesSyncEnabled": sync,
            "onPremisesSecurityIdentifier": sid,
            "onPremisesSyncBehavior": {"isCloudManaged": managed},
            "writebackConfiguration": {"isEnabled": true, "onPremisesGroupType": null},
            "members": who,
        })
    };
    let tenant = json!({
        "format": "gwb-tenant/1",
        "tenantId": "11111111-2222-4333-8444-555555555555",
        "onPremisesSynchronization": {
            "id": "a3b5c7d9-1f2e-4d3c-8b4a-5e6f7a8b9c0d",
            "configuration": {"synchronizationClientVersion": "2.5.79.0"},
            "features": {"groupWriteBackEnabled": false, "unifiedGroupWritebackEnabled": false}
        },
        "settings": [],
        "subscribedSkus": [],
        "groups": [
            group(&finance_id, "Finance", &finance0.sid, Value::Null, true,
                  members(&[("bob", &bob), ("carol", &carol)])),
            group(&legal_id, "Legal", &legal0.sid, Value::Null, false,
                  members(&[("bob", &bob)])),
            group(&ops_id, "Ops", &ops0.sid, json!(true), false,
                  members(&[("bob", &bob)])),
        ],
        "deletedGroups": []
    });
    let sim = gwb::sim::start(
        gwb::sim::store::Store::from_tenant(&tenant).unwrap(),
        gwb::sim::SimConfig::default(),
        0,
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let b1 = work.path().join("b1");
    collect(&e, &sim, &target, &b1);

    // The plan: an update of the original group, nothing created anywhere.
    let f1 = work.path().join("plan1.json");
    let p1 = plan(&b1, &f1);
    let changes: Vec<_> = p1.changes().collect();
    assert_eq!(changes.len(), 1, "{:?}", p1.summary);
    let g = changes[0];
    assert_eq!(g.id, finance_id);
    assert_eq!(
        (g.action, g.reason),
        (Action::Update, GroupReason::SoaConverted)
    );
    assert_eq!(
        g.dn.as_deref().map(str::to_ascii_lowercase),
        Some(dn_of("Finance").to_ascii_lowercase())
    );
    assert!(
        g.detail
            .contains("the cloud is now its source of authority"),
        "{}",
        g.detail
    );
    assert!(p1.groups.iter().all(|g| g.action != Action::Create));
    for (id, reason) in [
        (&legal_id, GroupReason::SoaRollbackPending),
        (&ops_id, GroupReason::SourceOnPremises),
    ] {
        let g = p1.groups.iter().find(|g| &g.id == id).unwrap();
        assert_eq!((g.action, g.reason), (Action::Skip, reason));
    }

    apply(&e, &f1);
    let finance1 = seen(&e, &dn_of("Finance"));
    assert_eq!(finance1.guid, finance0.guid, "same objectGUID");
    assert_eq!(finance1.sid, finance0.sid, "same objectSid");
    let lower = |s: &String| s.to_ascii_lowercase();
    assert_eq!(
        finance1.members,
        [lower(&bob), lower(&carol)]
            .into_iter()
            .collect::<BTreeSet<_>>()
    );
    assert_eq!(
        finance1.description.as_deref(),
        Some("Finance, managed in the cloud")
    );
    assert_eq!(
        finance1.admin_description,
        Some(format!("Group_{finance_id}")),
        "gwb stamps the object it adopts"
    );
    // Nothing new in the target OU; rolled-back and synced groups untouched.
    let in_target = e.admin(async |a| {
        a.ldap
            .search(
                &target,
                ldap3::Scope::OneLevel,
                "(objectClass=*)",
                vec!["cn"],
            )
            .await
            .unwrap()
            .0
            .len()
    });
    assert_eq!(in_target, 0);
    assert_eq!(seen(&e, &dn_of("Legal")), legal0);
    assert_eq!(seen(&e, &dn_of("Ops")), ops0);

    // The journal records the adoption.
    let journal = std::fs::read_dir(e.journal.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|d| std::fs::read_to_string(d.path()).unwrap())
        .collect::<String>();
    assert!(journal.contains("\"adopted\":true"), "{journal}");

    // A second run writes nothing.
    let b2 = work.path().join("b2");
    collect(&e, &sim, &target, &b2);
    let f2 = work.path().join("plan2.json");
    let p2 = plan(&b2, &f2);
    assert_eq!(p2.changes().count(), 0, "{:?}", p2.summary);
    let g2 = p2.groups.iter().find(|g| g.id == finance_id).unwrap();
    assert_eq!(
        (g2.action, g2.reason),
        (Action::Noop, GroupReason::SoaConverted)
    );
    // Applied, it sends no write (the DC-wide USN is not compared: other tests share the DC).
    let out = apply(&e, &f2);
    assert!(
        out.contains("nothing to do") || out.contains("; 0 LDAP writes"),
        "{out}"
    );
    assert_eq!(
        seen(&e, &dn_of("Finance")),
        finance1,
        "uSNChanged unchanged"
    );

    // Undo: the original members and attributes, same object.
    let undo = work.path().join("undo.json");
    let (code, _, err) = run(gwb()
        .env_remove("GWB_CONFIG")
        .arg("undo")
        .arg(e.journal.path())
        .arg("--out")
        .arg(&undo)
        .args(["--format", "json"]));
    assert_eq!(code, 0, "undo: {err}");
    apply(&e, &undo);
    let finance2 = seen(&e, &dn_of("Finance"));
    assert_eq!(finance2.guid, finance0.guid);
    assert_eq!(finance2.sid, finance0.sid);
    assert_eq!(finance2.members, finance0.members);
    assert_eq!(finance2.description, finance0.description);
    assert_eq!(finance2.admin_description, None);
}
