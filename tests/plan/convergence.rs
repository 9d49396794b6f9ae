//! Plans over fixtures/contoso: a plan applied to the AD state (in memory, as AD would) makes
//! the next plan all noop; one changed membership gives exactly that change; a --cn-format
//! switch renames and never re-creates; decoys are never touched.

use gwb::ad::ldif::Entry;
use gwb::ad::{AdSnapshot, Dn};
use gwb::bundle::Snapshot;
use gwb::core::CnFormat;
use gwb::plan::diff::{PlanOptions, build, dn_key};
use gwb::plan::model::*;

use crate::util::{fixture, gwb};

/// A snapshot with the AD side kept as entries, so tests can change AD.
pub struct World {
    pub snap: Snapshot,
    pub entries: Vec<Entry>,
}

impl World {
    pub fn contoso() -> World {
        let dir = fixture("contoso");
        let snap = gwb::snapshot::load_dir(&dir, &[]).unwrap();
        let (entries, _) = gwb::bundle::load_ldif(&dir.join("ad.ldif")).unwrap();
        World { snap, entries }
    }
    pub fn rebuild(&mut self) {
        self.snap.ad = Some(AdSnapshot::from_entries(&self.entries).unwrap());
    }
    pub fn plan(&self, policy: PlanPolicy) -> Plan {
        plan_of(&self.snap, policy)
    }
}

pub fn options(policy: PlanPolicy) -> PlanOptions {
    PlanOptions {
        policy,
        inputs: PlanInputs {
            tenant_id: None,
            tenant: Fingerprint {
                source: InputSource::Snapshot,
                location: None,
                sha256: None,
            },
            ad: Fingerprint {
                source: InputSource::Ldif,
                location: None,
                sha256: None,
            },
        },
        created_at: "2026-12-01T00:00:00Z".into(),
        partial_evidence: None,
        graph_absent: None,
    }
}

pub fn plan_of(snap: &Snapshot, policy: PlanPolicy) -> Plan {
    let prepared = gwb::core::inputs::prepare(snap, None).unwrap();
    build(snap, &prepared, &options(policy)).unwrap()
}

fn find<'a>(entries: &'a mut [Entry], dn: &str) -> Option<&'a mut Entry> {
    let k = dn_key(dn);
    entries.iter_mut().find(|e| dn_key(&e.dn) == k)
}

fn set(e: &mut Entry, name: &str, values: Vec<Vec<u8>>) {
    e.attrs.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    if !values.is_empty() {
        e.attrs.push((name.to_string(), values));
    }
}

/// Carry a plan out on LDIF entries the way AD does (linked `member` values follow renames
/// and deletes). Returns how many objects were written.
pub fn apply_in_memory(entries: &mut Vec<Entry>, plan: &Plan) -> usize {
    let mut writes = 0;
    let mut usn = 900_000u64;
    let repoint = |entries: &mut Vec<Entry>, old: &str, new: Option<&str>| {
        let k = dn_key(old);
        for e in entries.iter_mut() {
            let members: Vec<Vec<u8>> = e
                .values("member")
                .filter_map(|v| {
                    let s = String::from_utf8_lossy(v);
                    if dn_key(&s) == k {
                        new.map(|n| n.as_bytes().to_vec())
                    } else {
                        Some(v.to_vec())
                    }
                })
                .collect();
            if e.has("member") {
                set(e, "member", members);
            }
        }
    };
    for g in plan.groups.iter().filter(|g| g.action.writes()) {
        writes += 1;
        usn += 1;
        match g.action {
            Action::Create => {
                let mut e = Entry::new(g.dn.clone().unwrap());
                e.push("objectClass", "top");
                e.push("objectClass", "group");
                e.push("cn", g.cn.clone().unwrap());
                e.push("objectGUID", uuid::Uuid::new_v4().as_bytes().to_vec());
                e.push("uSNChanged", usn.to_string());
                for (name, ch) in &g.attributes {
                    for v in ch.after.as_ref().unwrap().values() {
                        e.push(name, v);
                    }
                }
                entries.push(e);
            }
            Action::Rename | Action::Update => {
                let cur = g.current.as_ref().unwrap();
                let new_dn = g.dn.clone().unwrap();
                if g.action == Action::Rename {
                    let e = find(entries, &cur.dn).unwrap();
                    e.dn = new_dn.clone();
                    set(e, "cn", vec![g.cn.clone().unwrap().into_bytes()]);
                    let old = cur.dn.clone();
                    repoint(entries, &old, Some(&new_dn));
                }
                let e = find(entries, &new_dn).unwrap();
                for (name, ch) in &g.attributes {
                    let vals = ch
                        .after
                        .as_ref()
                        .map(|v| v.values().iter().map(|s| s.as_bytes().to_vec()).collect())
                        .unwrap_or_default();
                    set(e, name, vals);
                }
                set(e, "uSNChanged", vec![usn.to_string().into_bytes()]);
            }
            Action::Delete => {
                let cur = g.current.as_ref().unwrap();
                let k = dn_key(&cur.dn);
                entries.retain(|e| dn_key(&e.dn) != k);
                let old = cur.dn.clone();
                repoint(entries, &old, None);
                continue;
            }
            _ => unreachable!(),
        }
    }
    // Members after every group exists.
    for g in plan.groups.iter().filter(|g| g.action.writes()) {
        let Some(dn) = &g.dn else { continue };
        if g.members.add.is_empty() && g.members.remove.is_empty() {
            continue;
        }
        let e = find(entries, dn).unwrap();
        let remove: std::collections::HashSet<String> =
            g.members.remove.iter().map(|m| dn_key(m)).collect();
        let mut members: Vec<Vec<u8>> = e
            .values("member")
            .filter(|v| !remove.contains(&dn_key(&String::from_utf8_lossy(v))))
            .map(<[u8]>::to_vec)
            .collect();
        members.extend(g.members.add.iter().map(|m| m.as_bytes().to_vec()));
        set(e, "member", members);
    }
    writes
}

fn count(plan: &Plan, a: Action) -> usize {
    plan.groups.iter().filter(|g| g.action == a).count()
}

#[test]
fn applying_a_plan_makes_the_next_plan_all_noop() {
    let mut w = World::contoso();
    let first = w.plan(PlanPolicy::default());
    assert_eq!(first.summary.create, 25);
    assert_eq!(first.summary.update, 1);
    assert_eq!(first.summary.delete, 1);
    assert_eq!(first.format, "gwb-plan/1");
    let writes = apply_in_memory(&mut w.entries, &first);
    assert_eq!(writes, 27);
    w.rebuild();
    let second = w.plan(PlanPolicy::default());
    let changing: Vec<_> = second
        .changes()
        .map(|g| (&g.display_name, g.action))
        .collect();
    assert!(changing.is_empty(), "not converged: {changing:?}");
    assert!(second.summary.is_empty());
    assert_eq!(second.summary.noop, 26);
    // Every noop names the object it saw.
    for g in second.groups.iter().filter(|g| g.action == Action::Noop) {
        let c = g.current.as_ref().unwrap();
        assert_eq!(dn_key(&c.dn), dn_key(g.dn.as_ref().unwrap()));
        assert!(c.object_guid.is_some() && c.usn_changed.is_some());
    }
}

#[test]
fn one_changed_membership_gives_exactly_that_change() {
    let mut w = World::contoso();
    let first = w.plan(PlanPolicy::default());
    apply_in_memory(&mut w.entries, &first);
    w.rebuild();
    // Drop one member of "Marketing" in the cloud.
    let groups = w.snap.tenant.groups.as_mut().unwrap();
    let g = groups
        .iter_mut()
        .find(|g| g.display_name.as_deref() == Some("Marketing"))
        .unwrap();
    let members = g.members.as_mut().unwrap();
    let gone = members.remove(0);
    let plan = w.plan(PlanPolicy::default());
    let changes: Vec<&PlannedGroup> = plan.changes().collect();
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let c = changes[0];
    assert_eq!(
        (c.display_name.as_str(), c.action),
        ("Marketing", Action::Update)
    );
    assert!(c.attributes.is_empty());
    assert!(c.members.add.is_empty());
    assert_eq!(c.members.remove.len(), 1);
    assert!(
        c.members.remove[0].contains("Megan Bowen"),
        "{:?} (removed member {})",
        c.members.remove,
        gone.id
    );
    assert_eq!(plan.summary.member_removes, 1);
    assert_eq!(plan.summary.member_adds, 0);
    // The LDIF of that plan is one modify with one value.
    let ldif = gwb::plan::render::ldif(&plan);
    assert_eq!(ldif.matches("changetype:").count(), 1, "{ldif}");
    assert_eq!(ldif.matches("\ndelete: member\n").count(), 1, "{ldif}");
}

#[test]
fn switching_cn_format_renames_and_never_recreates() {
    let mut w = World::contoso();
    let first = w.plan(PlanPolicy::default());
    apply_in_memory(&mut w.entries, &first);
    w.rebuild();
    let guids_before: std::collections::HashMap<String, uuid::Uuid> = w
        .plan(PlanPolicy::default())
        .groups
        .iter()
        .filter_map(|g| Some((g.id.clone(), g.current.as_ref()?.object_guid?)))
        .collect();
    let display = PlanPolicy {
        cn_format: CnFormat::DisplayName,
        ..PlanPolicy::default()
    };
    let plan = w.plan(display);
    // Only a group that had no object before is created ("Name Clash" lost its CN to another
    // object under object-id and gets a free one now); nothing written earlier is re-created.
    let creates: Vec<_> = plan
        .groups
        .iter()
        .filter(|g| g.action == Action::Create)
        .map(|g| g.display_name.as_str())
        .collect();
    assert_eq!(creates, ["Name Clash"]);
    for g in plan.groups.iter().filter(|g| g.action == Action::Create) {
        assert!(!guids_before.contains_key(&g.id));
    }
    assert_eq!(count(&plan, Action::Delete), 0);
    assert_eq!(count(&plan, Action::Rename), 26);
    for g in plan.groups.iter().filter(|g| g.action == Action::Rename) {
        let c = g.current.as_ref().unwrap();
        assert!(c.dn.starts_with("CN=Group_"), "{}", c.dn);
        assert!(g.cn.as_ref().unwrap().ends_with(&g.id[24..]));
        assert_eq!(Some(&c.object_guid.unwrap()), guids_before.get(&g.id));
        // Nested groups that are renamed are not re-added as members: AD follows the rename.
        assert!(
            g.members.add.is_empty() && g.members.remove.is_empty(),
            "{g:#?}"
        );
    }
    let ldif = gwb::plan::render::ldif(&plan);
    assert_eq!(ldif.matches("changetype: modrdn").count(), 26);
    assert_eq!(
        ldif.matches("changetype: add").count(),
        1,
        "only Name Clash"
    );
    assert!(!ldif.contains("changetype: delete"));
    // Carried out, it converges under the new format.
    apply_in_memory(&mut w.entries, &plan);
    w.rebuild();
    assert!(w.plan(display).summary.is_empty());
}

#[test]
fn decoys_are_listed_and_never_touched() {
    let mut w = World::contoso();
    let ou = "OU=Cloud Groups,OU=Contoso,DC=contoso,DC=com";
    // A decoy named like a live group's object, and one named like a random group's.
    let live = w
        .snap
        .tenant
        .groups
        .as_ref()
        .unwrap()
        .iter()
        .find(|g| g.display_name.as_deref() == Some("Marketing"))
        .unwrap()
        .id
        .clone();
    for id in [live.as_str(), "77777777-7777-4777-8777-777777777777"] {
        let mut e = Entry::new(format!("CN=Group_{id},{ou}"));
        e.push("objectClass", "group");
        e.push("groupType", "-2147483640");
        e.push("adminDescription", "hand-made, not a stamp");
        e.push("objectGUID", uuid::Uuid::new_v4().as_bytes().to_vec());
        e.push("uSNChanged", "4242");
        w.entries.push(e);
    }
    w.rebuild();
    let plan = w.plan(PlanPolicy::default());
    let decoys: Vec<&UnownedObject> = plan.unowned.iter().filter(|u| u.why == "decoy").collect();
    assert!(decoys.len() >= 2, "{:?}", plan.unowned);
    for d in &decoys {
        let k = dn_key(&d.dn);
        for g in &plan.groups {
            assert_ne!(g.dn.as_deref().map(dn_key), Some(k.clone()), "{g:#?}");
            assert_ne!(
                g.current.as_ref().map(|c| dn_key(&c.dn)),
                Some(k.clone()),
                "{g:#?}"
            );
        }
    }
    // The live group whose CN is taken is skipped as a name collision, not written over.
    let m = plan.groups.iter().find(|g| g.id == live).unwrap();
    assert_eq!(
        (m.action, m.reason.code()),
        (Action::Skip, "name-collision")
    );
    // And the LDIF never names a decoy.
    let ldif = gwb::plan::render::ldif(&plan);
    assert!(!ldif.contains("77777777-7777-4777-8777-777777777777"));
    assert!(!ldif.contains(&format!("dn: CN=Group_{live}")));
}

#[test]
fn the_cli_plans_saves_and_shows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.json");
    let a = gwb()
        .args(["plan", "--snapshot"])
        .arg(fixture("contoso"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let table = String::from_utf8(a.stdout).unwrap();
    assert!(
        table
            .trim_end()
            .ends_with("Plan: 25 to create, 1 to update, 0 to rename, 1 to delete, 17 unchanged."),
        "{table}"
    );
    assert!(table.contains("  - delete  \"Quarterly Planning 2022\""));
    assert!(
        !table.contains(" noop "),
        "unchanged groups are hidden by default"
    );
    let saved = gwb::plan::load::read_plan(&out).unwrap();
    assert_eq!(saved.summary.create, 25);
    assert_eq!(saved.policy.max_deletes, 500);
    assert_eq!(saved.inputs.tenant.sha256.as_ref().unwrap().len(), 64);
    assert_eq!(
        saved.inputs.tenant.sha256,
        Some(gwb::plan::load::sha256_file(&fixture("contoso/tenant.json")).unwrap())
    );
    assert!(saved.target_ou.object_guid.is_some());
    assert_eq!(saved.target_ou.source, TargetOuSource::Bundle);
    for (fmt, needle) in [
        ("json", "\"format\": \"gwb-plan/1\""),
        ("markdown", "| Action | Group | Reason | DN | Changes |"),
        ("ldif", "changetype: add"),
        ("table", "Plan: 25 to create"),
    ] {
        let s = gwb()
            .arg("show")
            .arg(&out)
            .args(["--format", fmt, "--show-unchanged"])
            .output()
            .unwrap();
        assert!(s.status.success());
        let text = String::from_utf8(s.stdout).unwrap();
        assert!(text.contains(needle), "{fmt}: {text}");
        if fmt == "table" {
            assert!(text.contains("· skip"), "--show-unchanged lists skips");
        }
    }
    // JSON from show is the saved plan itself.
    let s = gwb()
        .arg("show")
        .arg(&out)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let shown = Plan::from_json(&String::from_utf8(s.stdout).unwrap(), "stdout").unwrap();
    assert_eq!(shown, saved);
    // A file that is not a plan is an input error naming it.
    let bad = dir.path().join("audit.json");
    std::fs::write(&bad, r#"{"format":"gwb-audit/1"}"#).unwrap();
    let s = gwb().arg("show").arg(&bad).output().unwrap();
    assert_eq!(s.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&s.stderr).contains("audit.json: plan format"));
}

/// The target OU as the plan names it.
pub fn contoso_ou() -> Dn {
    Dn::parse("OU=Cloud Groups,OU=Contoso,DC=contoso,DC=com").unwrap()
}
