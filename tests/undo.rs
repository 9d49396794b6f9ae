//! Integration tests of `gwb undo` against the Samba lab DC: an apply that creates, updates
//! (attributes and members), renames and deletes, undone from its journal, gives back the
//! directory as it was (compared search against search); the undo of the undo gives back the
//! applied state.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use gwb::plan::model::*;

use crate::ldap::lab::{self, Lab, attr};
use crate::util::{gwb, make_plan, one, ou_groups};

const UNIVERSAL_SECURITY: i32 = -2147483640;

/// Groups of an OU as a comparable map: stamp -> (CN, attributes, members), without the
/// values AD assigns (objectGUID, objectSid, USNs, timestamps).
type State = BTreeMap<String, (String, BTreeMap<String, BTreeSet<String>>)>;

fn state(lab: &Lab, ou: &str) -> State {
    let attrs = [
        "cn",
        "displayName",
        "description",
        "groupType",
        "adminDescription",
        "member",
        "sAMAccountName",
        "mail",
    ];
    let mut out = State::new();
    for e in ou_groups(lab, ou, &attrs) {
        let stamp = e
            .attrs
            .get("adminDescription")
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_else(|| e.dn.clone());
        let mut attrs = BTreeMap::new();
        for (k, v) in e.attrs {
            let v: BTreeSet<String> = if k == "member" {
                v.iter().map(|m| m.to_ascii_lowercase()).collect()
            } else {
                v.into_iter().collect()
            };
            attrs.insert(k, v);
        }
        out.insert(stamp, (e.dn.to_ascii_lowercase(), attrs));
    }
    out
}

fn guid_usn(lab: &Lab, dn: &str) -> (uuid::Uuid, u64) {
    let dn = dn.to_string();
    lab.run(async move |a| {
        let e = a
            .read(&dn, &["objectGUID", "uSNChanged"])
            .await
            .expect("object");
        let g = gwb::ad::ids::guid_from_bytes(e.first("objectGUID").unwrap()).unwrap();
        let u = e.text("uSNChanged").unwrap().parse().unwrap();
        (g, u)
    })
}

/// `gwb apply PLAN --journal-dir JOURNAL` against the lab DC as its administrator.
fn apply_cmd(lab: &Lab, plan: &Path, journal: &Path) -> assert_cmd::Command {
    let mut c = gwb();
    c.env_remove("GWB_LDAP_PASSWORD")
        .env_remove("GWB_CONFIG")
        .args(["apply", "--yes"])
        .arg(plan)
        .arg("--journal-dir")
        .arg(journal)
        .args(["--ldap-url", lab.var("GWB_TEST_LDAP_URL")])
        .args(["--bind-dn", lab.var("GWB_TEST_LDAP_BIND_DN")])
        .arg("--password-file")
        .arg(lab.password_file())
        .args(["--ca-file", lab.var("GWB_TEST_LDAP_CA_FILE")]);
    c
}

fn apply(lab: &Lab, plan: &Path, journal: &Path) -> String {
    let out = apply_cmd(lab, plan, journal).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "apply failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn undo(journal_dir: &Path, out: &Path) -> Plan {
    let o = gwb()
        .arg("undo")
        .arg(journal_dir)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("gwb apply"));
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

fn group(id: &str, action: Action) -> PlannedGroup {
    PlannedGroup {
        id: id.to_string(),
        display_name: id.to_string(),
        action,
        reason: gwb::core::GroupReason::Eligible,
        detail: String::new(),
        dn: None,
        cn: None,
        group_type: None,
        current: None,
        attributes: BTreeMap::new(),
        members: MemberChanges::default(),
        delete_proof: None,
        sha256: None,
    }
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn undo_returns_the_directory_to_its_prior_state_and_undo_of_undo_back() {
    let Some(lab) = lab::lab() else { return };
    let name = lab.unique("undo");
    let ou = format!("OU={name},{}", lab.base());
    let ids: Vec<String> = (0..4).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let (new_id, upd_id, ren_id, del_id) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let u = |n: &str| format!("CN={n},{ou}");
    let upd = format!("CN=Group_{upd_id},{ou}");
    let ren = format!("CN=Old Name,{ou}");
    let del = format!("CN=Group_{del_id},{ou}");
    let short = &name[name.len() - 8..];
    lab.run(async |a| {
        a.add_ou(&ou).await;
        for n in ["u1", "u2", "u3"] {
            a.add_user(&u(n), &format!("{n}{short}"), None).await;
        }
        for (dn, id, sam) in [
            (&upd, upd_id, "upd"),
            (&ren, ren_id, "ren"),
            (&del, del_id, "del"),
        ] {
            a.add(
                dn,
                vec![
                    attr("objectClass", &["top", "group"]),
                    attr("sAMAccountName", &[&format!("{sam}{short}")]),
                    attr("groupType", &[&UNIVERSAL_SECURITY.to_string()]),
                    attr("adminDescription", &[&format!("Group_{id}")]),
                    attr("displayName", &[sam]),
                    attr("description", &[&format!("{sam} before")]),
                ],
            )
            .await;
        }
        a.add_members(&upd, &[u("u1")]).await;
        a.add_members(&del, &[u("u2"), u("u3")]).await;
    });
    let before = state(&lab, &ou);
    assert_eq!(before.len(), 3);

    // A plan that creates, updates, renames and deletes.
    let (upd_guid, upd_usn) = guid_usn(&lab, &upd);
    let (ren_guid, ren_usn) = guid_usn(&lab, &ren);
    let (del_guid, del_usn) = guid_usn(&lab, &del);
    let cur = |dn: &str, g, usn| {
        Some(CurrentObject {
            dn: dn.to_string(),
            object_guid: Some(g),
            usn_changed: Some(usn),
            stamp: StampSource::AdminDescription,
        })
    };
    let mut create = group(new_id, Action::Create);
    create.dn = Some(format!("CN=Group_{new_id},{ou}"));
    create.cn = Some(format!("Group_{new_id}"));
    create.group_type = Some(UNIVERSAL_SECURITY);
    for (k, v) in [
        ("displayName", "new"),
        ("adminDescription", &format!("Group_{new_id}")),
        ("groupType", &UNIVERSAL_SECURITY.to_string()),
    ] {
        create.attributes.insert(
            k.into(),
            AttrChange {
                before: None,
                after: one(v),
            },
        );
    }
    create.members.add = vec![u("u1"), u("u3")];
    let mut update = group(upd_id, Action::Update);
    update.dn = Some(upd.clone());
    update.current = cur(&upd, upd_guid, upd_usn);
    update.attributes.insert(
        "description".into(),
        AttrChange {
            before: one("upd before"),
            after: one("upd after"),
        },
    );
    update.attributes.insert(
        "mail".into(),
        AttrChange {
            before: None,
            after: one("upd@lab.example.com"),
        },
    );
    update.members.add = vec![u("u2"), u("u3")];
    update.members.remove = vec![u("u1")];
    let mut rename = group(ren_id, Action::Rename);
    rename.dn = Some(format!("CN=New Name,{ou}"));
    rename.cn = Some("New Name".into());
    rename.current = cur(&ren, ren_guid, ren_usn);
    rename.attributes.insert(
        "displayName".into(),
        AttrChange {
            before: one("ren"),
            after: one("New Name"),
        },
    );
    let mut delete = group(del_id, Action::Delete);
    delete.current = cur(&del, del_guid, del_usn);
    delete.delete_proof = Some(DeleteProof::CompleteSnapshot);
    let groups = vec![create, update, rename, delete];
    let plan = make_plan(&ou, None, groups);
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, crate::util::sealed_json(&plan)).unwrap();
    let j1 = dir.path().join("j1");
    apply(&lab, &plan_path, &j1);
    let applied = state(&lab, &ou);
    assert_ne!(applied, before);
    assert_eq!(applied.len(), 3, "{applied:#?}");
    assert!(
        applied[&format!("Group_{ren_id}")]
            .0
            .starts_with("cn=new name,")
    );

    // Undo: the inverse plan, rendered, saved, applied with gwb apply.
    let inv = undo(&j1, &dir.path().join("undo.json"));
    let action = |p: &Plan, id: &str| p.groups.iter().find(|g| g.id == id).unwrap().action;
    assert_eq!(action(&inv, new_id), Action::Delete);
    assert_eq!(action(&inv, upd_id), Action::Update);
    assert_eq!(action(&inv, ren_id), Action::Rename);
    assert_eq!(action(&inv, del_id), Action::Create);
    let recreated = inv.groups.iter().find(|g| &g.id == del_id).unwrap();
    assert!(recreated.detail.contains("objectSid") && recreated.detail.contains("Recycle Bin"));
    let j2 = dir.path().join("j2");
    apply(&lab, &dir.path().join("undo.json"), &j2);
    let undone = state(&lab, &ou);
    assert_eq!(undone, before, "undo did not restore the directory");

    // Undo of the undo: back to the applied state.
    undo(&j2, &dir.path().join("redo.json"));
    apply(&lab, &dir.path().join("redo.json"), &dir.path().join("j3"));
    assert_eq!(
        state(&lab, &ou),
        applied,
        "undo of the undo did not give back the applied state"
    );

    lab.run(async |a| a.delete_tree(&ou).await);
}

fn journal_lines(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|f| std::fs::read_to_string(f.path()).ok())
        .map(|t| t.lines().filter(|l| l.contains("\"type\":\"end\"")).count())
        .sum()
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn an_apply_killed_midway_leaves_a_journal_that_matches_the_directory() {
    let Some(lab) = lab::lab() else { return };
    let name = lab.unique("kill");
    let ou = format!("OU={name},{}", lab.base());
    lab.run(async |a| a.add_ou(&ou).await);
    let total = 600;
    let groups: Vec<PlannedGroup> = (0..total)
        .map(|_| {
            let id = uuid::Uuid::new_v4().to_string();
            let mut g = group(&id, Action::Create);
            g.dn = Some(format!("CN=Group_{id},{ou}"));
            g.cn = Some(format!("Group_{id}"));
            g.group_type = Some(UNIVERSAL_SECURITY);
            g.attributes.insert(
                "adminDescription".into(),
                AttrChange {
                    before: None,
                    after: one(&format!("Group_{id}")),
                },
            );
            g
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    std::fs::write(
        &plan_path,
        serde_json::to_string(&make_plan(&ou, None, groups)).unwrap(),
    )
    .unwrap();
    let journal = dir.path().join("journal");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("gwb"))
        .env_remove("GWB_LDAP_PASSWORD")
        .env_remove("GWB_CONFIG")
        .args(["apply", "--yes"])
        .arg(&plan_path)
        .arg("--journal-dir")
        .arg(&journal)
        .args(["--ldap-url", lab.var("GWB_TEST_LDAP_URL")])
        .args(["--bind-dn", lab.var("GWB_TEST_LDAP_BIND_DN")])
        .arg("--password-file")
        .arg(lab.password_file())
        .args(["--ca-file", lab.var("GWB_TEST_LDAP_CA_FILE")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it (SIGKILL: no chance to tidy up) once a few dozen writes are journalled.
    let end = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while journal_lines(&journal) < 30 && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let file = gwb::undo::resolve_journal(&journal).unwrap();
    let records = gwb::apply::journal::read(&file).unwrap();
    let ends: std::collections::HashMap<u64, &gwb::apply::journal::EndRecord> = records
        .iter()
        .filter_map(|r| match r {
            gwb::apply::journal::Record::End(e) => Some((e.seq, e)),
            _ => None,
        })
        .collect();
    let (mut applied, mut unknown) = (BTreeSet::new(), BTreeSet::new());
    for r in &records {
        if let gwb::apply::journal::Record::Begin(b) = r {
            match ends.get(&b.seq) {
                Some(e) if e.outcome == gwb::apply::journal::Outcome::Applied => {
                    applied.insert(b.dn.to_ascii_lowercase());
                }
                Some(_) => {}
                None => {
                    unknown.insert(b.dn.to_ascii_lowercase());
                }
            }
        }
    }
    let present: BTreeSet<String> = state(&lab, &ou).into_values().map(|(dn, _)| dn).collect();
    assert!(
        applied.len() >= 30 && present.len() < total,
        "killed mid-way: {} applied",
        applied.len()
    );
    // Writes begun but not ended when the process died: at most one journal group commit.
    assert!(unknown.len() <= 64, "{} writes in flight", unknown.len());
    // Every write the journal calls applied is in the directory; nothing else is, except the
    // writes in flight when the process died.
    assert!(
        applied.is_subset(&present),
        "journalled but missing: {:?}",
        applied.difference(&present).collect::<Vec<_>>()
    );
    let extra: BTreeSet<&String> = present.difference(&applied).collect();
    assert!(
        extra.iter().all(|d| unknown.contains(*d)),
        "in AD but not journalled: {extra:?}"
    );
    // The undo of the interrupted run removes what it created. A create in flight that never
    // reached the DC makes apply refuse the undo plan, naming it (nothing written).
    undo(&journal, &dir.path().join("undo.json"));
    let absent: Vec<&String> = unknown.iter().filter(|d| !present.contains(*d)).collect();
    if absent.is_empty() {
        apply(&lab, &dir.path().join("undo.json"), &dir.path().join("j2"));
        assert!(state(&lab, &ou).is_empty(), "undo left objects");
    } else {
        let out = apply_cmd(&lab, &dir.path().join("undo.json"), &dir.path().join("j2"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no longer exists"));
    }
    lab.run(async |a| a.delete_tree(&ou).await);
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn an_undo_of_an_object_changed_since_the_apply_is_refused_naming_it() {
    let Some(lab) = lab::lab() else { return };
    let name = lab.unique("undostale");
    let ou = format!("OU={name},{}", lab.base());
    let ids: Vec<String> = (0..2).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    lab.run(async |a| a.add_ou(&ou).await);
    let mut groups = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let mut g = group(id, Action::Create);
        g.display_name = format!("Stale {i}");
        g.dn = Some(format!("CN=Group_{id},{ou}"));
        g.cn = Some(format!("Group_{id}"));
        g.group_type = Some(UNIVERSAL_SECURITY);
        for (n, v) in [
            ("adminDescription", format!("Group_{id}")),
            ("displayName", format!("Stale {i}")),
        ] {
            g.attributes.insert(
                n.into(),
                AttrChange {
                    before: None,
                    after: one(&v),
                },
            );
        }
        groups.push(g);
    }
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    std::fs::write(
        &plan_path,
        serde_json::to_string(&make_plan(&ou, None, groups)).unwrap(),
    )
    .unwrap();
    let j1 = dir.path().join("j1");
    apply(&lab, &plan_path, &j1);
    // The inverse plan carries each object's uSNChanged as the apply left it.
    let inv = undo(&j1, &dir.path().join("undo.json"));
    for id in &ids {
        let dn = format!("CN=Group_{id},{ou}");
        let (_, usn) = guid_usn(&lab, &dn);
        let g = inv.groups.iter().find(|g| &g.id == id).expect("undone");
        assert_eq!(g.action, Action::Delete);
        assert_eq!(g.current.as_ref().and_then(|c| c.usn_changed), Some(usn));
    }
    // Someone changes one of them by hand after the apply.
    let changed = format!("CN=Group_{},{ou}", ids[1]);
    lab.run(async |a| a.replace(&changed, "description", "edited by hand").await);
    let before = state(&lab, &ou);
    let out = apply_cmd(&lab, &dir.path().join("undo.json"), &dir.path().join("j2"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&ids[1]) && err.contains("uSNChanged"), "{err}");
    assert!(
        !err.contains(&ids[0]),
        "only the changed object is named: {err}"
    );
    assert_eq!(state(&lab, &ou), before, "a refused undo wrote");
    assert!(!dir.path().join("j2").exists() || journal_lines(&dir.path().join("j2")) == 0);
    lab.run(async |a| a.delete_tree(&ou).await);
}
