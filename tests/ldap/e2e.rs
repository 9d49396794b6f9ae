//! End to end: `gwb collect` from the Samba lab DC plus gwb's Graph simulator gives a bundle
//! whose audit equals the audit of the same state written by hand (tenant.json and ad.ldif
//! composed here from what the test seeded).

use std::path::Path;

use base64::Engine;
use gwb::ad::ids;
use serde_json::{Value, json};

use super::lab;
use crate::util::gwb;

const SECRET: &str = "e2e-client-secret";
const TENANT: &str = "5f0a1c2e-3b4d-4e6f-8a9b-0c1d2e3f4a5b";

fn audit(dir: &Path) -> Value {
    let out = gwb()
        .args(["audit", "--snapshot"])
        .arg(dir)
        .args([
            "--format",
            "json",
            "--fail-on",
            "never",
            "--allow-incomplete",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "audit of {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["generatedAt"] = Value::Null;
    v["asOf"] = Value::Null;
    v["snapshot"] = Value::Null;
    v
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn collected_bundle_audits_like_the_hand_written_one() {
    let Some(lab) = lab::lab() else { return };
    let _exchange = lab::EXCHANGE.lock().unwrap_or_else(|e| e.into_inner());
    let name = lab.unique("e2e");
    let base = lab.base().to_string();
    let ou = format!("OU={name},{base}");
    let people = format!("OU={name}-people,{base}");
    let alice = format!("CN=alice-{name},{people}");
    let bob = format!("CN=bob-{name},{people}");
    let dl = format!("CN=dl-{name},{people}");
    let gg = format!("CN=gg-{name},{people}");
    let kept_id = uuid::Uuid::new_v4().to_string();
    let orphan_id = uuid::Uuid::new_v4().to_string();
    let kept = format!("CN=Group_{kept_id},{ou}");
    let orphan = format!("CN=Group_{orphan_id},{ou}");
    let short = &name[name.len() - 8..];
    // Seed AD and read back the identifiers AD assigned.
    let ids_read = lab.run(async |a| {
        a.add_ou(&ou).await;
        a.add_ou(&people).await;
        a.add_user(&alice, &format!("al-{short}"), None).await;
        a.add_user(&bob, &format!("bo-{short}"), None).await;
        a.add_group(&dl, &format!("dl-{short}"), -2147483644).await;
        a.add_group(&gg, &format!("gg-{short}"), -2147483646).await;
        a.add_group(&kept, &format!("k-{short}"), -2147483640).await;
        a.replace(&kept, "adminDescription", &format!("Group_{kept_id}"))
            .await;
        a.add_members(&kept, std::slice::from_ref(&alice)).await;
        a.add_group(&orphan, &format!("o-{short}"), 8).await;
        a.replace(&orphan, "adminDescription", &format!("Group_{orphan_id}"))
            .await;
        let mut out = Vec::new();
        for dn in [&alice, &bob, &dl, &gg, &kept, &orphan] {
            let e = a
                .read(dn, &["objectSid", "objectGUID"])
                .await
                .expect("seeded object");
            out.push((
                e.first("objectSid").unwrap().to_vec(),
                e.first("objectGUID").unwrap().to_vec(),
            ));
        }
        out
    });
    let sid = |i: usize| ids::sid_from_bytes(&ids_read[i].0).unwrap();
    let guid = |i: usize| ids::guid_from_bytes(&ids_read[i].1).unwrap();
    // The tenant: what the simulator serves and what the hand-written bundle holds.
    let user = |id: &str, sid: Option<String>, oid: Option<String>| {
        json!({"@odata.type": "#microsoft.graph.user", "id": id, "displayName": id, "onPremisesSyncEnabled": sid.is_some() || oid.is_some(),
               "onPremisesSecurityIdentifier": sid, "onPremisesObjectIdentifier": oid, "onPremisesImmutableId": null, "onPremisesDistinguishedName": null})
    };
    let synced_group = |id: &str, sid: String| json!({"@odata.type": "#microsoft.graph.group", "id": id, "displayName": id, "onPremisesSyncEnabled": true, "onPremisesSecurityIdentifier": sid});
    let wb = |enabled: Value| json!({"@odata.type": "#microsoft.graph.groupWritebackConfiguration", "isEnabled": enabled, "onPremisesGroupType": null});
    let tenant = json!({
        "format": "gwb-tenant/1",
        "tenantId": TENANT,
        "onPremisesSynchronization": {"id": TENANT, "features": {"unifiedGroupWritebackEnabled": false, "groupWriteBackEnabled": false, "deviceWritebackEnabled": false},
            "configuration": {"synchronizationClientVersion": "2.6.84.0", "writebackConfiguration": {"unifiedGroupContainer": ou, "userContainer": null}}},
        "settings": [],
        "subscribedSkus": [{"skuId": "078d2b04-f1bd-4111-bbd4-b4b1b354cef4", "skuPartNumber": "AAD_PREMIUM", "capabilityStatus": "Enabled",
            "servicePlans": [{"servicePlanId": "41781fb2-bc02-4b7c-bd55-b576c07bb09d", "servicePlanName": "AAD_PREMIUM", "provisioningStatus": "Success"}]}],
        "groups": [
            {"id": "0a000000-0000-4000-8000-000000000001", "displayName": "Team Alpha", "groupTypes": ["Unified"], "mailEnabled": true, "securityEnabled": false,
             "onPremisesSyncEnabled": null, "writebackConfiguration": wb(Value::Null),
             "members": [user("0b000000-0000-4000-8000-000000000001", Some(sid(0)), None), user("0b000000-0000-4000-8000-000000000009", None, None)]},
            {"id": "0a000000-0000-4000-8000-000000000002", "displayName": "File Access", "groupTypes": [], "mailEnabled": false, "securityEnabled": true,
             "onPremisesSyncEnabled": null, "writebackConfiguration": wb(json!(true)),
             "members": [user("0b000000-0000-4000-8000-000000000002", None, Some(guid(1).to_string())),
                         synced_group("0c000000-0000-4000-8000-000000000001", sid(2)), synced_group("0c000000-0000-4000-8000-000000000002", sid(3))]},
            {"id": kept_id, "displayName": "Old Access", "groupTypes": [], "mailEnabled": false, "securityEnabled": true,
             "onPremisesSyncEnabled": null, "writebackConfiguration": wb(json!(false)), "members": []},
        ],
        "deletedGroups": [],
    });
    let sim = gwb::sim::start(
        gwb::sim::store::Store::from_tenant(&tenant).unwrap(),
        gwb::sim::SimConfig::default(),
        0,
    )
    .unwrap();
    // 1. Collected.
    let collected = tempfile::tempdir().unwrap();
    // gwb against the simulator and the lab DC, with `args` before the live options.
    let live = |args: &[&std::ffi::OsStr]| {
        gwb()
            .env_remove("GWB_ACCESS_TOKEN")
            .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
            .env_remove("AZURE_AUTHORITY_HOST")
            .env_remove("GWB_LDAP_PASSWORD")
            .env("AZURE_CLIENT_SECRET", SECRET)
            .args(args)
            .args([
                "--graph-url",
                &sim.url(),
                "--tenant",
                TENANT,
                "--client-id",
                "11111111-2222-3333-4444-555555555555",
            ])
            .args([
                "--ldap-url",
                lab.var("GWB_TEST_LDAP_URL"),
                "--ca-file",
                lab.var("GWB_TEST_LDAP_CA_FILE"),
                "--bind-dn",
                lab.var("GWB_TEST_LDAP_BIND_DN"),
            ])
            .arg("--password-file")
            .arg(lab.password_file())
            .args(["--target-ou", &ou])
            .output()
            .unwrap()
    };
    let out = live(&[
        "collect".as_ref(),
        "--out".as_ref(),
        collected.path().as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "collect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 2. Written by hand: the same tenant, and the AD this test seeded and the lab DC's facts.
    let hand = tempfile::tempdir().unwrap();
    std::fs::write(
        hand.path().join("tenant.json"),
        serde_json::to_string_pretty(&tenant).unwrap(),
    )
    .unwrap();
    std::fs::write(
        hand.path().join("bundle.json"),
        json!({"format": "gwb-bundle/1", "targetOu": ou}).to_string(),
    )
    .unwrap();
    let config = lab.var("GWB_TEST_LDAP_CONFIG_DN");
    let schema = lab.var("GWB_TEST_LDAP_SCHEMA_DN");
    let obj = |dn: &str, classes: &[&str], i: usize, extra: &str| {
        let cls: String = classes
            .iter()
            .map(|c| format!("objectClass: {c}\n"))
            .collect();
        format!(
            "dn: {dn}\n{cls}objectSid:: {}\nobjectGUID:: {}\n{extra}\n",
            b64(&ids_read[i].0),
            b64(&ids_read[i].1)
        )
    };
    let mut ldif = format!(
        "dn: {base}\nobjectClass: domainDNS\n\n\
         dn: {schema}\nobjectClass: dMD\n\n\
         dn: CN=ms-DS-External-Directory-Object-Id,{schema}\nobjectClass: attributeSchema\nlDAPDisplayName: msDS-ExternalDirectoryObjectId\n\n\
         dn: CN=ms-Exch-Schema-Version-Pt,{schema}\nobjectClass: attributeSchema\nlDAPDisplayName: msExchSchemaVersionPt\nrangeUpper: 15334\n\n\
         dn: CN=Recycle Bin Feature,CN=Optional Features,CN=Directory Service,CN=Windows NT,CN=Services,{config}\nobjectClass: msDS-OptionalFeature\n\n\
         dn: {ou}\nobjectClass: organizationalUnit\nallowedChildClassesEffective: group\n\n"
    );
    ldif += &obj(&alice, &["user"], 0, "");
    ldif += &obj(&bob, &["user"], 1, "");
    ldif += &obj(&dl, &["group"], 2, "groupType: -2147483644\n");
    ldif += &obj(&gg, &["group"], 3, "groupType: -2147483646\n");
    ldif += &obj(
        &kept,
        &["group"],
        4,
        &format!("groupType: -2147483640\nadminDescription: Group_{kept_id}\nmember: {alice}\n"),
    );
    ldif += &obj(
        &orphan,
        &["group"],
        5,
        &format!("groupType: 8\nadminDescription: Group_{orphan_id}\n"),
    );
    std::fs::write(hand.path().join("ad.ldif"), ldif).unwrap();
    // The same audit, finding for finding and group for group.
    let a = audit(collected.path());
    let b = audit(hand.path());
    for key in [
        "verdicts", "flags", "targetOu", "evidence", "findings", "forecast",
    ] {
        assert_eq!(
            a[key], b[key],
            "{key} differs between the collected and the hand-written bundle"
        );
    }
    assert_eq!(a, b);
    // And the audit says what the seeded state means.
    let gwb_groups = &a["forecast"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"] == "gwb")
        .unwrap()["groups"];
    let by_name = |n: &str| {
        gwb_groups
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["displayName"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("Team Alpha")["members"]["resolved"], 1);
    assert_eq!(
        by_name("File Access")["members"]["skipped"][0]["reason"],
        "member-domain-local-group"
    );
    assert_eq!(by_name("Old Access")["outcome"], "keep");
    assert_eq!(
        gwb_groups
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["reason"] == "hard-deleted")
            .count(),
        1
    );
    // 3. Audited live (Graph and LDAP) into an evidence bundle, which replays offline to the
    // same audit: the bundle keeps what LDAP answered as inputs/ad.ldif and the target OU.
    let zip = collected.path().join("evidence.zip");
    let out = live(
        &[
            "audit",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--allow-incomplete",
            "--bundle",
        ]
        .map(std::ffi::OsStr::new)
        .into_iter()
        .chain([zip.as_os_str()])
        .collect::<Vec<_>>(),
    );
    assert!(
        out.status.success(),
        "live audit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut z = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let mut ad = String::new();
    std::io::Read::read_to_string(&mut z.by_name("inputs/ad.ldif").unwrap(), &mut ad).unwrap();
    assert!(
        ad.contains(&format!("adminDescription: Group_{kept_id}")),
        "{ad}"
    );
    assert!(z.by_name("inputs/bundle.json").is_ok());
    let replayed = audit(&zip);
    for key in [
        "verdicts", "flags", "targetOu", "evidence", "findings", "forecast",
    ] {
        assert_eq!(
            replayed[key], a[key],
            "{key} differs between the replayed evidence bundle and the collected bundle"
        );
    }
    lab.run(async |a| {
        a.delete_tree(&ou).await;
        a.delete_tree(&people).await;
    });
}
