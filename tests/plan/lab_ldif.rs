//! Against the Samba lab DC: the LDIF of a plan, imported with `ldapmodify` as it is, gives the
//! directory the plan describes (checked with searches) and the next plan is all noop; a
//! --cn-format switch imported the same way renames in place (objectGUID kept) with escaped
//! DNs; decoys keep their uSNChanged; and a plan made from live Graph (the simulator) and live
//! LDAP equals the plan made from the collected bundle.

use std::path::Path;

use gwb::ad::{Dn, ids};
use gwb::plan::model::*;
use serde_json::{Value, json};

use crate::ldap::lab::{self, Lab};
use crate::util::{gwb, run_ok};

const SECRET: &str = "plan-client-secret";
const TENANT: &str = "6a0a1c2e-3b4d-4e6f-8a9b-0c1d2e3f4a5b";

fn graph_args(sim: &gwb::sim::SimServer) -> Vec<String> {
    [
        "--graph-url",
        &sim.url(),
        "--tenant",
        TENANT,
        "--client-id",
        "11111111-2222-3333-4444-555555555555",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn ldap_args(lab: &Lab) -> Vec<String> {
    vec![
        "--ldap-url".into(),
        lab.var("GWB_TEST_LDAP_URL").into(),
        "--ca-file".into(),
        lab.var("GWB_TEST_LDAP_CA_FILE").into(),
        "--bind-dn".into(),
        lab.var("GWB_TEST_LDAP_BIND_DN").into(),
        "--password-file".into(),
        lab.password_file().display().to_string(),
    ]
}

fn gwb_env() -> assert_cmd::Command {
    let mut c = gwb();
    c.env_remove("GWB_ACCESS_TOKEN")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST")
        .env_remove("GWB_LDAP_PASSWORD")
        .env("AZURE_CLIENT_SECRET", SECRET);
    c
}

fn collect(lab: &Lab, sim: &gwb::sim::SimServer, ou: &str, dir: &Path) {
    let out = gwb_env()
        .args(["collect", "--out"])
        .arg(dir)
        .args(graph_args(sim))
        .args(ldap_args(lab))
        .args(["--target-ou", ou])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "collect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn plan(dir: &Path, extra: &[&str], format: &str) -> String {
    let out = run_ok(
        gwb()
            .args(["plan", "--snapshot"])
            .arg(dir)
            .args(["--format", format])
            .args(extra),
    );
    String::from_utf8(out.stdout).unwrap()
}

fn plan_json(dir: &Path, extra: &[&str]) -> Plan {
    Plan::from_json(&plan(dir, extra, "json"), "stdout").unwrap()
}

/// `ldapmodify` the LDIF as it is, as the lab administrator over LDAPS.
fn ldapmodify(lab: &Lab, ldif: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.ldif");
    std::fs::write(&file, ldif).unwrap();
    lab.ldapmodify(&file, false);
}

fn texts(e: &gwb::ad::ldif::Entry, name: &str) -> Vec<String> {
    let mut v: Vec<String> = e.texts(name).into_iter().map(str::to_string).collect();
    v.sort();
    v
}

struct Seeded {
    ou: String,
    people: String,
    users: Vec<String>,
    adopted_id: String,
    adopted_dn: String,
    orphan_dn: String,
    decoy_dn: String,
    tenant: Value,
}

fn seed(lab: &Lab, name: &str) -> Seeded {
    let base = lab.base().to_string();
    let ou = format!("OU={name},{base}");
    let people = format!("OU={name}-people,{base}");
    let users: Vec<String> = (0..3).map(|i| format!("CN=u{i}-{name},{people}")).collect();
    let adopted_id = uuid::Uuid::new_v4().to_string();
    let orphan_id = uuid::Uuid::new_v4().to_string();
    let adopted_dn = format!("CN=Group_{adopted_id},{ou}");
    let orphan_dn = format!("CN=Group_{orphan_id},{ou}");
    let decoy_dn = format!("CN=Group_{},{ou}", uuid::Uuid::new_v4());
    let short = &name[name.len() - 8..];
    let sids: Vec<String> = lab.run(async |a| {
        a.add_ou(&ou).await;
        a.add_ou(&people).await;
        for (i, u) in users.iter().enumerate() {
            a.add_user(u, &format!("u{i}-{short}"), None).await;
        }
        // Written back earlier by Entra Connect (adminDescription only), with a stale name.
        a.add_group(&adopted_dn, &format!("ad-{short}"), -2147483640)
            .await;
        a.replace(
            &adopted_dn,
            "adminDescription",
            &format!("Group_{adopted_id}"),
        )
        .await;
        a.replace(&adopted_dn, "displayName", "stale").await;
        a.add_members(&adopted_dn, std::slice::from_ref(&users[0]))
            .await;
        a.add_group(&orphan_dn, &format!("or-{short}"), 8).await;
        a.replace(
            &orphan_dn,
            "adminDescription",
            &format!("Group_{orphan_id}"),
        )
        .await;
        // Looks written back, carries no stamp.
        a.add_group(&decoy_dn, &format!("de-{short}"), -2147483640)
            .await;
        let mut sids = Vec::new();
        for u in &users {
            let e = a.read(u, &["objectSid"]).await.expect("seeded user");
            sids.push(ids::sid_from_bytes(e.first("objectSid").unwrap()).unwrap());
        }
        sids
    });
    let user = |i: usize| {
        json!({"@odata.type": "#microsoft.graph.user", "id": format!("0b000000-0000-4000-8000-00000000000{i}"), "displayName": format!("u{i}"),
               "onPremisesSyncEnabled": true, "onPremisesSecurityIdentifier": sids[i]})
    };
    let cloud_only = json!({"@odata.type": "#microsoft.graph.user", "id": "0b000000-0000-4000-8000-000000000009", "displayName": "guest", "onPremisesSyncEnabled": null});
    let wb = |enabled: Value| json!({"isEnabled": enabled, "onPremisesGroupType": null});
    let team = "0a000000-0000-4000-8000-000000000001";
    let tenant = json!({
        "format": "gwb-tenant/1",
        "tenantId": TENANT,
        "onPremisesSynchronization": {"id": TENANT, "features": {"unifiedGroupWritebackEnabled": false, "groupWriteBackEnabled": false, "deviceWritebackEnabled": false},
            "configuration": {"synchronizationClientVersion": "2.6.84.0", "writebackConfiguration": {"unifiedGroupContainer": ou, "userContainer": null}}},
        "settings": [],
        "subscribedSkus": [],
        "groups": [
            {"id": team, "displayName": "Team Alpha", "description": "  The team  ", "groupTypes": ["Unified"], "mailEnabled": true, "securityEnabled": false,
             "mail": format!("alpha-{short}@lab.example.com"), "mailNickname": format!("alpha-{short}"),
             "proxyAddresses": [format!("SMTP:alpha-{short}@lab.example.com"), format!("smtp:old-{short}@lab.example.com")],
             "writebackConfiguration": wb(Value::Null), "members": [user(0), user(1), cloud_only]},
            {"id": "0a000000-0000-4000-8000-000000000002", "displayName": "File Access", "groupTypes": [], "mailEnabled": false, "securityEnabled": true,
             "writebackConfiguration": wb(json!(true)),
             "members": [user(1), user(2), {"@odata.type": "#microsoft.graph.group", "id": team}]},
            {"id": "0a000000-0000-4000-8000-000000000003", "displayName": "#, + \" \\ < > ; = hostile  ", "groupTypes": [], "mailEnabled": false, "securityEnabled": true,
             "writebackConfiguration": wb(json!(true)), "members": [user(2)]},
            {"id": "0a000000-0000-4000-8000-000000000004", "displayName": format!("{} 😀 Grüße\nzwei", "L".repeat(200)), "groupTypes": [], "mailEnabled": false, "securityEnabled": true,
             "writebackConfiguration": wb(json!(true)), "members": []},
            {"id": adopted_id, "displayName": "Adopted", "groupTypes": [], "mailEnabled": false, "securityEnabled": true,
             "writebackConfiguration": wb(json!(true)), "members": [user(2)]},
        ],
        "deletedGroups": [],
    });
    Seeded {
        ou,
        people,
        users,
        adopted_id,
        adopted_dn,
        orphan_dn,
        decoy_dn,
        tenant,
    }
}

fn usn(lab: &Lab, dn: &str) -> String {
    lab.run(async |a| {
        a.read(dn, &["uSNChanged"])
            .await
            .and_then(|e| e.text("uSNChanged").map(str::to_string))
            .unwrap_or_default()
    })
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn plan_ldif_imports_with_ldapmodify_and_converges() {
    let Some(lab) = lab::lab() else { return };
    let _exchange = lab::EXCHANGE.lock().unwrap_or_else(|e| e.into_inner());
    let name = lab.unique("planldif");
    let s = seed(&lab, &name);
    let sim = gwb::sim::start(
        gwb::sim::store::Store::from_tenant(&s.tenant).unwrap(),
        gwb::sim::SimConfig::default(),
        0,
    )
    .unwrap();
    let decoy_usn = usn(&lab, &s.decoy_dn);
    let adopted_guid = lab.run(async |a| {
        a.read(&s.adopted_dn, &["objectGUID"])
            .await
            .unwrap()
            .first("objectGUID")
            .unwrap()
            .to_vec()
    });
    let dir = tempfile::tempdir().unwrap();
    collect(&lab, &sim, &s.ou, dir.path());
    let p = plan_json(dir.path(), &[]);
    assert_eq!(
        (p.summary.create, p.summary.update, p.summary.delete),
        (4, 1, 1),
        "{}",
        plan(dir.path(), &[], "table")
    );
    assert!(p.target_ou.object_guid.is_some());
    assert!(p.unowned.iter().any(|u| u.why == "decoy"));
    // The adopted group is updated in place: name, stamp for Cloud Sync, members.
    let adopted = p.groups.iter().find(|g| g.id == s.adopted_id).unwrap();
    assert_eq!(adopted.action, Action::Update);
    assert_eq!(
        adopted.current.as_ref().unwrap().stamp,
        StampSource::AdminDescription
    );
    assert!(adopted.current.as_ref().unwrap().usn_changed.is_some());
    assert!(
        adopted
            .attributes
            .contains_key("msDS-ExternalDirectoryObjectId")
    );
    assert_eq!(adopted.members.add, [s.users[2].clone()]);
    assert_eq!(adopted.members.remove, [s.users[0].clone()]);

    ldapmodify(&lab, &plan(dir.path(), &[], "ldif"));

    // Read back what AD now holds: exactly the plan's values.
    lab.run(async |a| {
        for g in p
            .groups
            .iter()
            .filter(|g| matches!(g.action, Action::Create | Action::Update))
        {
            let dn = g.dn.as_ref().unwrap();
            let e = a
                .read(dn, &["*"])
                .await
                .unwrap_or_else(|| panic!("{dn} exists after the import"));
            for name in [
                "displayName",
                "description",
                "adminDescription",
                "msDS-ExternalDirectoryObjectId",
                "groupType",
                "mail",
                "mailNickname",
                "proxyAddresses",
            ] {
                let want = g.attributes.get(name).map(|c| {
                    c.after
                        .as_ref()
                        .map(|v| v.values().iter().map(|s| s.to_string()).collect::<Vec<_>>())
                        .unwrap_or_default()
                });
                if let Some(mut want) = want {
                    want.sort();
                    assert_eq!(texts(&e, name), want, "{name} of {dn}");
                }
            }
            assert_eq!(e.text("cn"), g.cn.as_deref());
        }
        let alpha = p
            .groups
            .iter()
            .find(|g| g.display_name == "Team Alpha")
            .unwrap();
        let e = a.read(alpha.dn.as_ref().unwrap(), &["*"]).await.unwrap();
        assert_eq!(e.text("description"), Some("The team"), "trimmed");
        assert_eq!(e.text("groupType"), Some("8"));
        assert_eq!(texts(&e, "member"), {
            let mut v = vec![s.users[0].clone(), s.users[1].clone()];
            v.sort();
            v
        });
        let file = p
            .groups
            .iter()
            .find(|g| g.display_name == "File Access")
            .unwrap();
        let e = a
            .read(file.dn.as_ref().unwrap(), &["member"])
            .await
            .unwrap();
        assert!(
            texts(&e, "member").contains(alpha.dn.as_ref().unwrap()),
            "nested group written"
        );
        let e = a
            .read(&s.adopted_dn, &["objectGUID", "displayName", "member"])
            .await
            .unwrap();
        assert_eq!(
            e.first("objectGUID").unwrap(),
            adopted_guid.as_slice(),
            "adopted in place"
        );
        assert_eq!(e.text("displayName"), Some("Adopted"));
        assert_eq!(texts(&e, "member"), [s.users[2].clone()]);
        assert!(
            a.read(&s.orphan_dn, &["cn"]).await.is_none(),
            "orphan deleted"
        );
    });
    assert_eq!(usn(&lab, &s.decoy_dn), decoy_usn, "decoy untouched");

    // The next plan over the imported state is all noop.
    let again = tempfile::tempdir().unwrap();
    collect(&lab, &sim, &s.ou, again.path());
    let p2 = plan_json(again.path(), &[]);
    let changes: Vec<_> = p2
        .changes()
        .map(|g| (&g.display_name, g.action, &g.attributes, &g.members))
        .collect();
    assert!(changes.is_empty(), "not converged: {changes:#?}");
    assert_eq!(p2.summary.noop, 5);

    // --cn-format display-name on that estate: renames imported with ldapmodify, in place.
    let renames = plan_json(again.path(), &["--cn-format", "display-name"]);
    assert_eq!(renames.summary.rename, 5);
    assert!(renames.summary.create == 0 && renames.summary.delete == 0);
    let guids: Vec<(String, uuid::Uuid)> = renames
        .groups
        .iter()
        .filter(|g| g.action == Action::Rename)
        .map(|g| {
            (
                g.dn.clone().unwrap(),
                g.current.as_ref().unwrap().object_guid.unwrap(),
            )
        })
        .collect();
    ldapmodify(
        &lab,
        &plan(again.path(), &["--cn-format", "display-name"], "ldif"),
    );
    lab.run(async |a| {
        for (dn, guid) in &guids {
            let e = a
                .read(dn, &["objectGUID", "cn"])
                .await
                .unwrap_or_else(|| panic!("{dn} after the rename"));
            assert_eq!(
                ids::guid_from_bytes(e.first("objectGUID").unwrap()),
                Some(*guid)
            );
            let cn = e.text("cn").unwrap();
            assert!(cn.encode_utf16().count() <= 64, "{cn:?}");
            // The DN Samba returns parses back to the CN gwb planned.
            assert_eq!(Dn::parse(dn).unwrap().rdn_value(), Some(cn));
        }
    });
    let hostile = renames
        .groups
        .iter()
        .find(|g| g.id == "0a000000-0000-4000-8000-000000000003")
        .unwrap();
    assert_eq!(
        hostile.cn.as_deref(),
        Some("#, + \" \\ < > ; = hostile_000000000003")
    );
    let third = tempfile::tempdir().unwrap();
    collect(&lab, &sim, &s.ou, third.path());
    let p3 = plan_json(third.path(), &["--cn-format", "display-name"]);
    assert!(
        p3.summary.is_empty(),
        "{}",
        plan(third.path(), &["--cn-format", "display-name"], "table")
    );
    assert_eq!(usn(&lab, &s.decoy_dn), decoy_usn, "decoy untouched");
    lab.run(async |a| {
        a.delete_tree(&s.ou).await;
        a.delete_tree(&s.people).await;
    });
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn a_plan_from_live_graph_and_ldap_equals_the_plan_from_the_bundle() {
    let Some(lab) = lab::lab() else { return };
    let _exchange = lab::EXCHANGE.lock().unwrap_or_else(|e| e.into_inner());
    let name = lab.unique("planlive");
    let s = seed(&lab, &name);
    let sim = gwb::sim::start(
        gwb::sim::store::Store::from_tenant(&s.tenant).unwrap(),
        gwb::sim::SimConfig::default(),
        0,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    collect(&lab, &sim, &s.ou, dir.path());
    let bundle = plan_json(dir.path(), &[]);
    let out = gwb_env()
        .args(["plan", "--format", "json"])
        .args(graph_args(&sim))
        .args(ldap_args(&lab))
        .args(["--target-ou", &s.ou])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = Plan::from_json(&String::from_utf8(out.stdout).unwrap(), "stdout").unwrap();
    assert_eq!(live.inputs.tenant.source, InputSource::Graph);
    assert_eq!(live.inputs.ad.source, InputSource::Ldap);
    assert_eq!(bundle.inputs.tenant.source, InputSource::Snapshot);
    // The hard delete was proven by a GET answering 404 in the live plan.
    let del = |p: &Plan| -> Vec<(String, Option<DeleteProof>)> {
        p.groups
            .iter()
            .filter(|g| g.action == Action::Delete)
            .map(|g| (g.id.clone(), g.delete_proof))
            .collect()
    };
    assert_eq!(del(&live).len(), 1);
    assert_eq!(del(&live)[0].1, Some(DeleteProof::GraphNotFound));
    assert_eq!(del(&bundle)[0].1, Some(DeleteProof::CompleteSnapshot));
    assert!(live.safety.delete_proof.graph_checked);
    // Everything else is the same plan.
    let strip = |p: &Plan| {
        let mut groups = p.groups.clone();
        for g in &mut groups {
            g.delete_proof = None;
            // A group's digest covers its delete proof.
            g.sha256 = None;
        }
        groups
    };
    assert_eq!(strip(&live), strip(&bundle));
    assert_eq!(live.summary, bundle.summary);
    assert_eq!(live.target_ou.dn, bundle.target_ou.dn);
    assert_eq!(live.target_ou.object_guid, bundle.target_ou.object_guid);
    assert_eq!(live.unowned, bundle.unowned);
    assert_eq!(live.safety.refusals, bundle.safety.refusals);
    lab.run(async |a| {
        a.delete_tree(&s.ou).await;
        a.delete_tree(&s.people).await;
    });
}
