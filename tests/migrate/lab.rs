//! The migration's preparation against the Samba DC. Each test seeds, in its own OU, groups as
//! Entra Connect writes them (`CN=Group_<id>`, stamped in `adminDescription` only) and a decoy
//! (a `Group_<id>` CN without the stamp), serves the tenant with the Graph simulator, collects,
//! makes the preparation with `gwb migrate plan --out-preparation` and applies it with
//! `gwb apply` as the delegated writeback account.

use std::path::Path;

use serde_json::{Value, json};

use crate::apply::{Env, env};
use crate::util::gwb;

fn run(c: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = c.output().expect("gwb runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn admin_ldap(e: &Env, c: &mut assert_cmd::Command) {
    c.env_remove("GWB_LDAP_PASSWORD")
        .env_remove("GWB_LDAP_URL")
        .env_remove("GWB_LDAP_BIND_DN");
    c.args(["--ldap-url", e.lab.var("GWB_TEST_LDAP_URL")]);
    c.args(["--bind-dn", e.lab.var("GWB_TEST_LDAP_BIND_DN")]);
    c.arg("--password-file").arg(e.lab.password_file());
    c.args(["--ca-file", e.lab.var("GWB_TEST_LDAP_CA_FILE")]);
}

/// `gwb collect` of the simulated tenant and the DC into `out`, Connect's container as target.
fn collect(e: &Env, sim: &gwb::sim::SimServer, out: &Path) {
    let mut c = gwb();
    c.env_remove("GWB_ACCESS_TOKEN")
        .env("AZURE_CLIENT_SECRET", "lab-secret")
        .args(["collect", "--out"])
        .arg(out)
        .args(["--graph-url", &sim.url()])
        .args(["--tenant", "fab.onmicrosoft.com"])
        .args(["--client-id", "11111111-2222-3333-4444-555555555555"])
        .args(["--target-ou", &e.ou]);
    admin_ldap(e, &mut c);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 0, "collect: {err}");
}

/// A tenant with fresh ids (tests share the DC; Cloud Sync's and gwb's joins are domain-wide):
/// a security group enabled for writeback and a Microsoft 365 group, without members.
fn tenant(v1: bool, v2: bool, ou: &str) -> (Value, String, String) {
    let sales = uuid::Uuid::new_v4().to_string();
    let project = uuid::Uuid::new_v4().to_string();
    let mut t = super::tenant(v1, v2, ou);
    let groups = t["groups"].as_array_mut().expect("groups");
    groups.retain(|g| g["id"] == super::SALES || g["id"] == super::PROJECT);
    for g in groups.iter_mut() {
        g["members"] = json!([]);
        let id = if g["id"] == super::SALES {
            &sales
        } else {
            &project
        };
        g["id"] = json!(id);
    }
    (t, sales, project)
}

fn sim(t: &Value) -> gwb::sim::SimServer {
    gwb::sim::start(
        gwb::sim::store::Store::from_tenant(t).expect("store"),
        gwb::sim::SimConfig::default(),
        0,
    )
    .expect("simulator")
}

/// Seed a group as Entra Connect writes it: `CN=Group_<id>`, stamped in adminDescription.
fn seed_connect_group(e: &Env, id: &str, name: &str, group_type: i32) -> String {
    let dn = format!("CN=Group_{id},{}", e.ou);
    let sam = format!("{}{}", &name[..3], &e.tag);
    e.admin(async |a| {
        a.add_group(&dn, &sam, group_type).await;
        a.replace(&dn, "adminDescription", &format!("Group_{id}"))
            .await;
        a.replace(&dn, "displayName", name).await;
    });
    dn
}

fn read(e: &Env, dn: &str, attrs: &[&str]) -> gwb::ad::ldif::Entry {
    e.admin(async |a| a.read(dn, attrs).await)
        .unwrap_or_else(|| panic!("{dn} exists"))
}

fn migrate(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let (code, out, err) = run(gwb()
        .env_remove("GWB_CONFIG")
        .args(["migrate", "plan", "--snapshot"])
        .arg(dir)
        .args(["--format", "json"])
        .args(extra));
    assert!(code == 0 || code == 1, "migrate: exit {code}: {err}");
    (code, serde_json::from_str(&out).expect("migration JSON"))
}

const SECURITY: i32 = -2147483640;
const DISTRIBUTION: i32 = 8;

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn connect_v2_to_cloud_sync_copies_the_stamp_on_exactly_connects_groups_and_undo_removes_it() {
    let Some(e) = env("mig-v2cs") else { return };
    let (t, sales, project) = tenant(false, true, &e.ou);
    let sales_dn = seed_connect_group(&e, &sales, "Sales Team", SECURITY);
    let project_dn = seed_connect_group(&e, &project, "Project X", DISTRIBUTION);
    // A decoy: Connect's name pattern, no stamp.
    let decoy_dn = format!("CN=Group_{},{}", uuid::Uuid::new_v4(), e.ou);
    e.admin(async |a| {
        a.add_group(&decoy_dn, &format!("dec{}", e.tag), SECURITY)
            .await
    });
    let usn = |dn: &str| -> String {
        read(&e, dn, &["uSNChanged"])
            .text("uSNChanged")
            .expect("uSNChanged")
            .to_string()
    };
    let decoy_usn = usn(&decoy_dn);
    let project_usn = usn(&project_dn);

    let s = sim(&t);
    let work = tempfile::tempdir().expect("tmp");
    let b1 = work.path().join("b1");
    collect(&e, &s, &b1);
    let prep = work.path().join("prep.json");
    // Before the copy, Cloud Sync would duplicate Sales Team ("Connect-v2 groups (stamp in
    // adminDescription only) are still matched only after adminDescription is copied into
    // msDS-ExternalDirectoryObjectId"): the gate fails.
    let (code, m) = migrate(
        &b1,
        &[
            "--from",
            "connect-v2",
            "--to",
            "cloud-sync",
            "--out-preparation",
            prep.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(code, 1);
    let sales_codes: Vec<&str> = m["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["id"] == sales.as_str())
        .expect("sales")["consequences"]
        .as_array()
        .expect("c")
        .iter()
        .map(|c| c["code"].as_str().expect("code"))
        .collect();
    assert_eq!(sales_codes, ["duplicated"]);

    let plan = gwb::plan::load::read_plan(&prep).expect("preparation plan");
    assert_eq!(plan.changes().count(), 1, "Sales Team only");

    // Apply as the writeback account: journalled; the stamp copied on Sales Team alone.
    let (code, _, err) = run(&mut e.cmd(&prep));
    assert_eq!(code, 0, "apply: {err}");
    let ext = |dn: &str| {
        read(&e, dn, &["msDS-ExternalDirectoryObjectId"])
            .text("msDS-ExternalDirectoryObjectId")
            .map(str::to_string)
    };
    assert_eq!(ext(&sales_dn), Some(format!("Group_{sales}")));
    assert_eq!(
        ext(&project_dn),
        None,
        "the Microsoft 365 group stays on Connect (v1)"
    );
    assert_eq!(ext(&decoy_dn), None);
    assert_eq!(usn(&decoy_dn), decoy_usn, "the decoy is not touched");
    assert_eq!(usn(&project_dn), project_usn);

    // Applying it twice writes nothing.
    let high = e.highest_usn();
    // (apply refuses the plan as stale: Sales Team's uSNChanged moved on with the copy.)
    let (code, _, err) = run(&mut e.cmd(&prep));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("refusing to apply a stale plan (nothing was written"),
        "{err}"
    );
    assert_eq!(e.highest_usn(), high, "the second apply wrote");
    // And the preparation made again is empty; Cloud Sync now adopts Sales Team.
    let b2 = work.path().join("b2");
    collect(&e, &s, &b2);
    let prep2 = work.path().join("prep2.json");
    let (_, m2) = migrate(
        &b2,
        &[
            "--from",
            "connect-v2",
            "--to",
            "cloud-sync",
            "--cloud-sync-cn",
            "connect",
            "--out-preparation",
            prep2.to_str().expect("utf-8"),
        ],
    );
    let sales2 = m2["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["id"] == sales.as_str())
        .expect("sales");
    assert_eq!(sales2["consequences"][0]["code"], "adopted");
    assert_eq!(
        gwb::plan::load::read_plan(&prep2)
            .expect("plan")
            .changes()
            .count(),
        0
    );
    let (code, _, err) = run(&mut e.cmd(&prep2));
    assert_eq!(code, 0, "{err}");
    assert_eq!(e.highest_usn(), high);

    // gwb undo removes the copy again.
    let undo = work.path().join("undo.json");
    let (code, _, err) = run(gwb()
        .arg("undo")
        .arg(e.journal.path())
        .arg("--out")
        .arg(&undo));
    assert_eq!(code, 0, "undo: {err}");
    let (code, _, err) = run(&mut e.cmd(&undo));
    assert_eq!(code, 0, "apply undo: {err}");
    assert_eq!(ext(&sales_dn), None, "undo removed the copy");
    assert_eq!(
        read(&e, &sales_dn, &["adminDescription"]).text("adminDescription"),
        Some(format!("Group_{sales}").as_str()),
        "Connect's stamp stays"
    );
    assert_eq!(usn(&decoy_dn), decoy_usn);
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn connect_v1_to_gwb_adopts_in_place_and_the_next_plan_is_all_noop() {
    let Some(e) = env("mig-v1gwb") else { return };
    let (mut t, sales, project) = tenant(true, false, &e.ou);
    // Connect v1 writes Microsoft 365 groups only: drop the security group from the tenant.
    t["groups"]
        .as_array_mut()
        .expect("groups")
        .retain(|g| g["id"] == project.as_str());
    let _ = sales;
    let project_dn = seed_connect_group(&e, &project, "Project X", DISTRIBUTION);
    let decoy_dn = format!("CN=Group_{},{}", uuid::Uuid::new_v4(), e.ou);
    e.admin(async |a| {
        a.add_group(&decoy_dn, &format!("dec{}", e.tag), SECURITY)
            .await
    });
    let before = read(&e, &project_dn, &["objectGUID", "objectSid", "uSNChanged"]);
    let decoy_usn = read(&e, &decoy_dn, &["uSNChanged"])
        .text("uSNChanged")
        .map(str::to_string);

    let s = sim(&t);
    let work = tempfile::tempdir().expect("tmp");
    let b1 = work.path().join("b1");
    collect(&e, &s, &b1);
    let prep = work.path().join("prep.json");
    let (code, m) = migrate(
        &b1,
        &[
            "--from",
            "connect-v1",
            "--to",
            "gwb",
            "--out-preparation",
            prep.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(code, 0, "{}", m["gate"]);
    let plan = gwb::plan::load::read_plan(&prep).expect("plan");
    assert_eq!(plan.groups.len(), 1);
    assert_eq!(plan.groups[0].id, project);
    // Adoption in place: an update of the existing object (gwb adds its second stamp), not a
    // create, and the CN kept.
    assert_eq!(plan.groups[0].action, gwb::plan::Action::Update);
    assert_eq!(
        plan.groups[0].cn.as_deref(),
        Some(format!("Group_{project}").as_str())
    );
    // Connect still writes into this OU: apply needs --takeover, as for any gwb plan there.
    let (code, _, err) = run(e.cmd(&prep).arg("--takeover"));
    assert_eq!(code, 0, "apply: {err}");
    let after = read(
        &e,
        &project_dn,
        &["objectGUID", "objectSid", "adminDescription"],
    );
    assert_eq!(
        after.first("objectGUID"),
        before.first("objectGUID"),
        "objectGUID kept"
    );
    assert_eq!(
        after.first("objectSid"),
        before.first("objectSid"),
        "SID kept"
    );
    assert_eq!(
        read(&e, &decoy_dn, &["uSNChanged"])
            .text("uSNChanged")
            .map(str::to_string),
        decoy_usn
    );
    // The next gwb plan over the same OU changes nothing.
    let b2 = work.path().join("b2");
    collect(&e, &s, &b2);
    let (code, out, err) = run(gwb()
        .args(["plan", "--snapshot"])
        .arg(&b2)
        .args(["--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let next = gwb::plan::Plan::from_json(&out, "plan").expect("plan");
    assert!(next.summary.is_empty(), "{:?}", next.summary);
    assert_eq!(next.summary.noop, 1);
}
