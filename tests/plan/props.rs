//! The property over generated tenants: the audit's forecast for target gwb and the plan never
//! disagree (writeback <=> create/update/rename/noop, skip <=> no change, delete <=> delete,
//! keep <=> untouched), and a plan carried out makes the next plan all noop.

use gwb::ad::ldif::Entry;
use gwb::ad::{AdSnapshot, ids};
use gwb::bundle::Snapshot;
use gwb::bundle::tenant::{Group, Member, TenantDoc, WritebackConfiguration};
use gwb::core::{CnFormat, DeletionBehavior, GroupReason, Outcome, Policy, Target};
use gwb::plan::model::*;
use proptest::prelude::*;

use super::convergence::{apply_in_memory, plan_of};

const OU: &str = "OU=WB,DC=lab,DC=test";
const PEOPLE: &str = "OU=People,DC=lab,DC=test";
const ELSEWHERE: &str = "OU=Elsewhere,DC=lab,DC=test";

#[derive(Debug, Clone)]
struct GenGroup {
    kind: u8, // 0 M365, 1 security, 2 distribution, 3 synced
    enabled: Option<bool>,
    name: String,
    users: Vec<usize>,  // indexes into the AD users (some cloud-only)
    nested: Vec<usize>, // indexes into the generated groups
    // 0 not in AD, 1 object-id CN, 2 display-name CN, 3 Cloud Sync stamp only; outside the
    // target OU: 4 gwb's stamps (moved out by hand), 5 Cloud Sync's stamp only, 6 in the OU
    // and a stamped copy outside too.
    in_ad: u8,
}

fn gen_group() -> impl Strategy<Value = GenGroup> {
    (
        0u8..4,
        prop_oneof![Just(None), Just(Some(true)), Just(Some(false))],
        "[A-Za-z ,+#=;<>\"\\\\]{1,60}",
        proptest::collection::vec(0usize..8, 0..5),
        proptest::collection::vec(0usize..10, 0..2),
        0u8..7,
    )
        .prop_map(|(kind, enabled, name, users, nested, in_ad)| GenGroup {
            kind,
            enabled,
            name,
            users,
            nested,
            in_ad,
        })
}

fn gid(i: usize) -> String {
    format!("0a000000-0000-4000-8000-{i:012}")
}

fn uid(i: usize) -> String {
    format!("0b000000-0000-4000-8000-{i:012}")
}

fn sid(i: usize) -> String {
    format!("S-1-5-21-1-2-3-{}", 1100 + i)
}

fn world(groups: &[GenGroup], orphans: usize, soft: usize) -> (Snapshot, Vec<Entry>) {
    let mut entries = Vec::new();
    let mut e = Entry::new("DC=lab,DC=test");
    e.push("objectClass", "domainDNS");
    entries.push(e);
    for dn in [OU, PEOPLE, ELSEWHERE] {
        let mut e = Entry::new(dn);
        e.push("objectClass", "organizationalUnit");
        e.push("objectGUID", uuid::Uuid::new_v4().as_bytes().to_vec());
        entries.push(e);
    }
    // Users 0..6 exist in AD; 6 and 7 are cloud-only.
    for u in 0..6 {
        let mut e = Entry::new(format!("CN=user{u},{PEOPLE}"));
        e.push("objectClass", "user");
        e.push("objectSid", ids::sid_to_bytes(&sid(u)).unwrap());
        e.push("objectGUID", uuid::Uuid::new_v4().as_bytes().to_vec());
        entries.push(e);
    }
    let mut tgroups = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let (types, mail, sec, synced) = match g.kind {
            0 => (vec!["Unified".to_string()], true, false, None),
            1 => (vec![], false, true, None),
            2 => (vec![], true, false, None),
            _ => (vec![], false, true, Some(true)),
        };
        let mut members: Vec<Member> = g
            .users
            .iter()
            .map(|&u| Member {
                odata_type: Some("#microsoft.graph.user".into()),
                id: uid(u).into(),
                on_premises_security_identifier: (u < 6).then(|| sid(u)),
                on_premises_sync_enabled: Some(u < 6),
                ..Member::default()
            })
            .collect();
        members.extend(
            g.nested
                .iter()
                .filter(|&&n| n < groups.len() && n != i)
                .map(|&n| Member {
                    odata_type: Some("#microsoft.graph.group".into()),
                    id: gid(n).into(),
                    ..Member::default()
                }),
        );
        members.sort_by(|a, b| a.id.cmp(&b.id));
        members.dedup_by(|a, b| a.id == b.id);
        tgroups.push(Group {
            id: gid(i),
            display_name: Some(g.name.clone()),
            description: Some(format!("about {}", g.name)),
            group_types: types,
            mail_enabled: Some(mail),
            security_enabled: Some(sec),
            on_premises_sync_enabled: synced,
            writeback_configuration: Some(WritebackConfiguration {
                is_enabled: g.enabled,
                on_premises_group_type: None,
            }),
            members: Some(members.into_iter().map(Into::into).collect()),
            ..Group::default()
        });
        if g.in_ad > 0 {
            let id = gid(i);
            let cn = match g.in_ad {
                2 => gwb::core::naming::group_cn(CnFormat::DisplayName, &id, &g.name),
                _ => format!("Group_{id}"),
            };
            let parent = if matches!(g.in_ad, 4 | 5) {
                ELSEWHERE
            } else {
                OU
            };
            let dn = gwb::ad::Dn::parse(parent)
                .unwrap()
                .child("CN", &cn)
                .to_string();
            let mut e = Entry::new(dn);
            e.push("objectClass", "group");
            e.push("groupType", "-2147483640");
            e.push("objectGUID", uuid::Uuid::new_v4().as_bytes().to_vec());
            e.push("uSNChanged", "100");
            e.push("displayName", "stale name");
            match g.in_ad {
                3 | 5 => e.push("msDS-ExternalDirectoryObjectId", format!("Group_{id}")),
                4 => {
                    e.push("adminDescription", format!("Group_{id}"));
                    e.push("msDS-ExternalDirectoryObjectId", format!("Group_{id}"));
                }
                _ => e.push("adminDescription", format!("Group_{id}")),
            }
            e.push("member", format!("CN=user0,{PEOPLE}"));
            entries.push(e);
            if g.in_ad == 6 {
                let mut e = Entry::new(format!("CN=copy {i},{ELSEWHERE}"));
                e.push("objectClass", "group");
                e.push("groupType", "-2147483640");
                e.push("objectGUID", uuid::Uuid::new_v4().as_bytes().to_vec());
                e.push("adminDescription", format!("Group_{id}"));
                entries.push(e);
            }
        }
    }
    let mut deleted = Vec::new();
    for k in 0..orphans + soft {
        let id = format!("0d000000-0000-4000-8000-{k:012}");
        let mut e = Entry::new(format!("CN=Group_{id},{OU}"));
        e.push("objectClass", "group");
        e.push("groupType", "8");
        e.push("adminDescription", format!("Group_{id}"));
        e.push("objectGUID", uuid::Uuid::new_v4().as_bytes().to_vec());
        entries.push(e);
        if k >= orphans {
            deleted.push(Group {
                id,
                display_name: Some(format!("soft {k}")),
                group_types: vec!["Unified".into()],
                ..Group::default()
            });
        }
    }
    let snap = Snapshot {
        origin: "generated".into(),
        tenant: TenantDoc {
            groups: Some(tgroups),
            deleted_groups: Some(deleted),
            ..TenantDoc::default()
        },
        ad: Some(AdSnapshot::from_entries(&entries).unwrap()),
        manifest: gwb::bundle::Manifest {
            target_ou: Some(OU.into()),
            ..Default::default()
        },
        ..Snapshot::default()
    };
    (snap, entries)
}

fn agrees(outcome: Outcome, action: Action) -> bool {
    match outcome {
        Outcome::Writeback => matches!(
            action,
            Action::Create | Action::Update | Action::Rename | Action::Noop
        ),
        Outcome::Skip => action == Action::Skip,
        Outcome::Delete => action == Action::Delete,
        Outcome::Keep => action == Action::Keep,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn the_audit_forecast_and_the_plan_never_disagree(
        groups in proptest::collection::vec(gen_group(), 1..10),
        orphans in 0usize..3,
        soft in 0usize..2,
        modified in any::<bool>(),
        display in any::<bool>(),
    ) {
        let (mut snap, mut entries) = world(&groups, orphans, soft);
        let policy = PlanPolicy {
            deletion: if modified { DeletionBehavior::Modified } else { DeletionBehavior::Default },
            cn_format: if display { CnFormat::DisplayName } else { CnFormat::ObjectId },
            ..PlanPolicy::default()
        };
        let core_policy = Policy {
            deletion: policy.deletion,
            member_limit: policy.member_limit,
            cn_format: policy.cn_format,
            ..Policy::default()
        };
        let report = gwb::audit::audit(&snap, &gwb::audit::Options {
            targets: vec![Target::Gwb],
            policy: core_policy,
            target_ou: None,
            generated_at: String::new(),
            ..Default::default()
        }).unwrap();
        let forecast = &report.forecast[0];
        let plan = plan_of(&snap, policy);
        prop_assert_eq!(forecast.groups.len(), plan.groups.len());
        for (f, p) in forecast.groups.iter().zip(&plan.groups) {
            prop_assert_eq!(&f.id, &p.id);
            prop_assert!(agrees(f.outcome, p.action), "{} {:?} vs {:?}: {}", f.id, f.outcome, p.action, p.detail);
            prop_assert_eq!(f.reason, p.reason);
            if f.outcome == Outcome::Writeback {
                prop_assert_eq!(f.dn.as_deref(), p.dn.as_deref());
                prop_assert_eq!(f.members.resolved.len(), p.members.add.len() + p.members.unchanged);
            } else {
                prop_assert!(p.attributes.is_empty() && p.members.add.is_empty() && p.members.remove.is_empty());
            }
        }
        // Stamped groups outside the target OU: gwb's own one is moved back when the group is
        // written, Cloud Sync's is neither moved nor duplicated, and nothing outside the OU is
        // deleted, nor the copy outside when one is in the OU.
        for (i, g) in groups.iter().enumerate() {
            let Some(p) = plan.groups.iter().find(|p| p.id == gid(i)) else { continue };
            let outside = p.current.as_ref().is_some_and(|c| c.dn.ends_with(ELSEWHERE));
            prop_assert!(!(outside && p.action == Action::Delete), "{}: {}", p.id, p.detail);
            match g.in_ad {
                4 if p.action != Action::Skip => {
                    prop_assert_eq!(p.action, Action::Rename);
                    prop_assert_eq!(p.reason, GroupReason::MovedOutOfTargetOu);
                    prop_assert!(outside);
                }
                5 => {
                    prop_assert!(!matches!(p.action, Action::Create | Action::Rename), "{}: {:?}", p.id, p.action);
                    prop_assert!(p.action == Action::Skip);
                }
                6 => prop_assert!(!outside, "{}: {}", p.id, p.detail),
                _ => {}
            }
        }
        // Carried out, the plan converges: the next plan changes nothing.
        apply_in_memory(&mut entries, &plan);
        snap.ad = Some(AdSnapshot::from_entries(&entries).unwrap());
        let again = plan_of(&snap, policy);
        let changes: Vec<_> = again.changes().map(|g| (g.id.clone(), g.action, g.detail.clone())).collect();
        prop_assert!(changes.is_empty(), "not converged: {:?}", changes);
    }
}

/// The stamp of an AD group entry, either attribute.
fn stamp_of(e: &Entry) -> Option<String> {
    e.first("adminDescription")
        .or_else(|| e.first("msDS-ExternalDirectoryObjectId"))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// An entry's member values, sorted.
fn members_of(e: &Entry) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = e.values("member").map(<[u8]>::to_vec).collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    /// Unknown is never empty: whenever a group's members are unknown (not collected), the
    /// plan adds and removes none of its members, says so, and carried out leaves the AD
    /// group's members exactly as they were.
    #[test]
    fn a_group_whose_members_are_unknown_loses_no_member(
        groups in proptest::collection::vec(gen_group(), 1..10),
        unknown in proptest::collection::vec(any::<bool>(), 10),
        display in any::<bool>(),
    ) {
        let (mut snap, mut entries) = world(&groups, 0, 0);
        let mut unknown_ids = Vec::new();
        for (i, g) in snap.tenant.groups.iter_mut().flatten().enumerate() {
            if unknown[i] {
                g.members = None;
                unknown_ids.push(g.id.clone());
            }
        }
        let policy = PlanPolicy {
            cn_format: if display { CnFormat::DisplayName } else { CnFormat::ObjectId },
            ..PlanPolicy::default()
        };
        let plan = plan_of(&snap, policy);
        // By objectGUID: a rename keeps it, and a stamp may be on two objects.
        let before: std::collections::HashMap<Vec<u8>, Vec<Vec<u8>>> = entries
            .iter()
            .filter_map(|e| Some((e.first("objectGUID")?.to_vec(), members_of(e))))
            .collect();
        for p in plan.groups.iter().filter(|p| unknown_ids.contains(&p.id)) {
            prop_assert!(p.members.remove.is_empty(), "{}: removes {:?}", p.id, p.members.remove);
            prop_assert!(p.members.add.is_empty(), "{}: adds {:?}", p.id, p.members.add);
            if matches!(p.action, Action::Create | Action::Update | Action::Rename | Action::Noop) {
                prop_assert!(p.members.unknown, "{}: not marked unknown", p.id);
            }
        }
        for p in plan.groups.iter().filter(|p| !unknown_ids.contains(&p.id)) {
            prop_assert!(!p.members.unknown, "{}: marked unknown", p.id);
        }
        let json = gwb::plan::render::render(&plan, gwb::plan::args::PlanFormat::Json, false).unwrap();
        let back = Plan::from_json(&json, "p.json").unwrap();
        prop_assert_eq!(&back.groups, &plan.groups);
        apply_in_memory(&mut entries, &plan);
        for e in &entries {
            let Some(stamp) = stamp_of(e) else { continue };
            let Some(id) = stamp.strip_prefix("Group_") else { continue };
            if unknown_ids.iter().any(|u| u == id)
                && let Some(was) = e.first("objectGUID").and_then(|g| before.get(g))
            {
                prop_assert_eq!(was, &members_of(e), "{}: members changed", id);
            }
        }
    }
}
