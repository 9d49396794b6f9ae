//! Owned groups outside the target OU, against the Samba DC: a written group moved out of the
//! OU by hand is planned as a rename back (modrdn with newSuperior), which `ldapmodify` imports
//! from the plan's LDIF and `gwb apply` carries out, keeping objectGUID, objectSid and members;
//! the next plan is all noop. And the stamped groups outside that gwb leaves alone: Cloud
//! Sync's stamp alone, several copies, a copy next to the one in the OU, a group whose cloud
//! group is not in the tenant (their uSNChanged unchanged, no second copy created).

use std::collections::BTreeSet;
use std::sync::Arc;

use gwb::core::GroupReason;
use gwb::plan::model::{Action, Plan, PlannedGroup};

use super::contoso::{Contoso, collect, contoso, plan, run, state};
use super::{Env, key};
use crate::ldap::lab::{self, attr};

/// objectGUID, objectSid and member keys of the object at `dn`.
pub(super) fn identity(e: &Env, dn: &str) -> Option<(Vec<u8>, Vec<u8>, BTreeSet<String>)> {
    e.admin(async |a| {
        let x = a.read(dn, &["objectGUID", "objectSid", "member"]).await?;
        Some((
            x.first("objectGUID")?.to_vec(),
            x.first("objectSid")?.to_vec(),
            x.texts("member").into_iter().map(key).collect(),
        ))
    })
}

fn usn(e: &Env, dn: &str) -> u64 {
    e.admin(async |a| {
        a.read(dn, &["uSNChanged"])
            .await
            .and_then(|x| x.text("uSNChanged").and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("uSNChanged of {dn}"))
    })
}

/// Move `dn` under `parent` by hand (modrdn, same RDN); the new DN.
fn move_under(e: &Env, dn: &str, parent: &str) -> String {
    let rdn = gwb::ad::Dn::parse(dn).expect("dn");
    let cn = rdn.rdn_value().expect("rdn").to_string();
    let new_rdn = format!("CN={}", gwb::ad::dn::escape_value(&cn));
    e.admin(async |a| {
        let r = a
            .ldap
            .modifydn(dn, &new_rdn, true, Some(parent))
            .await
            .expect("modrdn");
        assert_eq!(r.rc, 0, "moving {dn}: {r:?}");
    });
    format!("{new_rdn},{parent}")
}

/// Apply `plan_file` as the writeback account (with --takeover when the plan needs it).
pub(super) fn apply(e: &Env, plan_file: &std::path::Path, p: &Plan) -> String {
    let mut c = e.cmd(plan_file);
    if p.refusal(&[]).is_some() {
        c.arg("--takeover");
    }
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "apply: {out}\n{err}");
    out
}

/// contoso collected, planned and applied into its empty target OU.
pub(super) fn applied(name: &str) -> Option<(Contoso, Plan)> {
    let lab = lab::lab()?;
    let c = contoso(Arc::new(lab), name);
    let f = c.work.path().join("plan0.json");
    let p = plan(&c.b1, &f);
    apply(&c.e, &f, &p);
    Some((c, p))
}

pub(super) fn replan(c: &Contoso, name: &str) -> (std::path::PathBuf, Plan) {
    let b = c.work.path().join(format!("b-{name}"));
    collect(&c.e, &c.sim, &c.target, &b);
    let f = c.work.path().join(format!("plan-{name}.json"));
    let p = plan(&b, &f);
    (f, p)
}

pub(super) fn group<'a>(p: &'a Plan, id: &str) -> &'a PlannedGroup {
    p.groups
        .iter()
        .find(|g| g.id == id)
        .unwrap_or_else(|| panic!("group {id} in the plan"))
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn an_owned_group_moved_out_of_the_ou_is_moved_back_keeping_guid_sid_and_members() {
    let Some((c, p0)) = applied("moved") else {
        return;
    };
    let e = &c.e;
    // The written group with the most members.
    let g = p0
        .groups
        .iter()
        .filter(|g| g.action == Action::Create)
        .max_by_key(|g| g.members.add.len())
        .expect("contoso creates groups");
    let home = g.dn.clone().expect("dn");
    let before = identity(e, &home).expect("the written group");
    assert!(!before.2.is_empty(), "a group with members");
    let elsewhere = format!("OU=Elsewhere,{}", e.ou);
    e.admin(async |a| a.add_ou(&elsewhere).await);

    for how in ["ldapmodify", "gwb-apply"] {
        let out_dn = move_under(e, &home, &elsewhere);
        let (plan_file, p) = replan(&c, how);
        let changes: Vec<&PlannedGroup> = p.changes().collect();
        assert_eq!(changes.len(), 1, "{how}: {:?}", p.summary);
        let m = changes[0];
        assert_eq!(
            (m.action, m.reason),
            (Action::Rename, GroupReason::MovedOutOfTargetOu)
        );
        assert_eq!(m.id, g.id);
        let cur = m.current.as_ref().expect("current");
        assert_eq!(key(&cur.dn), key(&out_dn));
        assert!(cur.usn_changed.is_some() && cur.object_guid.is_some());
        assert_eq!(key(m.dn.as_deref().expect("dn")), key(&home));
        assert!(m.members.add.is_empty() && m.members.remove.is_empty());
        assert_eq!(p.summary.rename, 1);
        let (code, table, err) = run(crate::util::gwb()
            .arg("show")
            .arg(&plan_file)
            .args(["--format", "table"]));
        assert_eq!(code, 0, "{err}");
        assert!(table.contains("1 to rename"), "{table}");
        if how == "ldapmodify" {
            let (code, ldif, err) = run(crate::util::gwb()
                .arg("show")
                .arg(&plan_file)
                .args(["--format", "ldif"]));
            assert_eq!(code, 0, "{err}");
            assert!(ldif.contains("changetype: modrdn"), "{ldif}");
            // RFC 2849 folds long lines: a leading space continues the previous one.
            let unfolded = ldif.replace("\n ", "");
            let sup = unfolded
                .lines()
                .find_map(|l| l.strip_prefix("newsuperior: "))
                .unwrap_or_else(|| panic!("a newsuperior line: {ldif}"));
            assert_eq!(key(sup), key(&c.target));
            let file = c.work.path().join("moved.ldif");
            std::fs::write(&file, &ldif).expect("ldif");
            e.lab.ldapmodify(&file, true);
        } else {
            let out = apply(e, &plan_file, &p);
            assert!(out.contains("1 renamed"), "{out}");
        }
        assert_eq!(
            identity(e, &home).as_ref(),
            Some(&before),
            "{how}: back home with the same objectGUID, objectSid and members"
        );
        assert!(
            identity(e, &out_dn).is_none(),
            "{how}: nothing left outside"
        );
    }
    let (_, p) = replan(&c, "after");
    assert!(p.summary.is_empty(), "all noop: {:?}", p.summary);
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn stamped_groups_outside_the_ou_that_are_not_gwbs_to_move_are_left_alone() {
    let Some((c, p0)) = applied("outside") else {
        return;
    };
    let e = &c.e;
    let created: Vec<&PlannedGroup> = p0
        .groups
        .iter()
        .filter(|g| g.action == Action::Create)
        .collect();
    assert!(created.len() >= 3, "contoso writes several groups");
    let (cs, several, twin) = (created[0], created[1], created[2]);
    let has_external_id = cs.attributes.contains_key("msDS-ExternalDirectoryObjectId");
    let elsewhere = format!("OU=Elsewhere,{}", e.ou);
    let other = format!("OU=Other,{}", e.ou);
    let stamp = |id: &str| format!("Group_{id}");
    let orphan_id = uuid::Uuid::new_v4().to_string();
    let mut outside: Vec<String> = Vec::new();
    let tag = e.tag.clone();
    let add_copy = |dn: &str, id: &str, n: usize| {
        let sam = format!("cp{n}{tag}");
        e.admin(async |a| {
            a.add(
                dn,
                vec![
                    attr("objectClass", &["top", "group"]),
                    attr("sAMAccountName", &[&sam]),
                    attr("groupType", &["-2147483640"]),
                    attr("adminDescription", &[&stamp(id)]),
                ],
            )
            .await
        });
    };
    e.admin(async |a| {
        a.add_ou(&elsewhere).await;
        a.add_ou(&other).await;
    });
    // Cloud Sync's stamp alone (where the schema has the attribute).
    if has_external_id {
        let dn = move_under(e, cs.dn.as_deref().expect("dn"), &elsewhere);
        e.admin(async |a| {
            let r = a
                .ldap
                .modify(
                    &dn,
                    vec![ldap3::Mod::Delete(
                        b"adminDescription".to_vec(),
                        std::collections::HashSet::new(),
                    )],
                )
                .await
                .expect("modify");
            assert_eq!(r.rc, 0, "{r:?}");
        });
        outside.push(dn);
    }
    // Moved out, and a second stamped copy elsewhere.
    outside.push(move_under(
        e,
        several.dn.as_deref().expect("dn"),
        &elsewhere,
    ));
    let copy = format!("CN=Copy of several,{other}");
    add_copy(&copy, &several.id, 1);
    outside.push(copy);
    // Still in the OU, with a stamped copy outside.
    let twin_copy = format!("CN=Twin,{elsewhere}");
    add_copy(&twin_copy, &twin.id, 2);
    outside.push(twin_copy.clone());
    // A stamped group outside whose cloud group does not exist.
    let orphan = format!("CN=Orphan,{elsewhere}");
    add_copy(&orphan, &orphan_id, 3);
    outside.push(orphan.clone());

    let (plan_file, p) = replan(&c, "outside");
    if has_external_id {
        let g = group(&p, &cs.id);
        assert_eq!(
            (g.action, g.reason),
            (Action::Skip, GroupReason::OtherWriterContainer),
            "{}",
            g.detail
        );
    }
    let g = group(&p, &several.id);
    assert_eq!(
        (g.action, g.reason),
        (Action::Skip, GroupReason::StampedCopiesOutsideTargetOu),
        "{}",
        g.detail
    );
    let g = group(&p, &twin.id);
    assert_eq!(g.action, Action::Noop, "{}", g.detail);
    assert!(
        g.detail.contains("Twin") && g.detail.contains("left untouched"),
        "{}",
        g.detail
    );
    assert!(
        p.groups.iter().all(|g| g.id != orphan_id),
        "a stamped group outside the OU whose cloud group is not in the tenant is not planned"
    );
    assert_eq!(
        (p.summary.create, p.summary.rename, p.summary.delete),
        (0, 0, 0),
        "{:?}",
        p.summary
    );
    // Applied: nothing outside the OU changes and no second copy appears in it.
    let usns: Vec<u64> = outside.iter().map(|d| usn(e, d)).collect();
    let in_ou_before = state(e, &c.target);
    apply(e, &plan_file, &p);
    assert_eq!(
        outside.iter().map(|d| usn(e, d)).collect::<Vec<_>>(),
        usns,
        "uSNChanged of the objects outside the OU"
    );
    assert_eq!(
        state(e, &c.target).keys().collect::<Vec<_>>(),
        in_ou_before.keys().collect::<Vec<_>>()
    );
}
