//! The property over generated tenants with groups in every source-of-authority state: no plan
//! of target gwb creates an AD object for a group whose SID names an existing AD object, and a
//! converted group is only ever written into the one AD group that carries its SID.

use gwb::ad::ldif::Entry;
use gwb::ad::{AdSnapshot, ids};
use gwb::bundle::Snapshot;
use gwb::bundle::tenant::{
    Group, Member, OnPremisesSyncBehavior, SyncState, TenantDoc, WritebackConfiguration,
};
use gwb::core::GroupReason;
use gwb::plan::diff::{PlanOptions, build, dn_key};
use gwb::plan::model::*;
use proptest::prelude::*;

const OU: &str = "OU=WB,DC=lab,DC=test";
const GROUPS: &str = "OU=Groups,DC=lab,DC=test";

#[derive(Debug, Clone)]
struct GenGroup {
    /// 0 cloud-native, 1 converted, 2 rolling back, 3 synced, 4 state not collected.
    state: u8,
    /// 0 security, 1 Microsoft 365, 2 mail-enabled security.
    kind: u8,
    enabled: Option<bool>,
    /// Which SID it carries (SIDs 0..3 are one AD group each, 4 is on two objects, 5 on none).
    sid: usize,
    /// A stamped object for it in the target OU already.
    stamped: bool,
    nested: Vec<usize>,
}

fn gen_group() -> impl Strategy<Value = GenGroup> {
    (
        0u8..5,
        0u8..3,
        prop_oneof![Just(None), Just(Some(true)), Just(Some(false))],
        0usize..6,
        any::<bool>(),
        proptest::collection::vec(0usize..8, 0..3),
    )
        .prop_map(|(state, kind, enabled, sid, stamped, nested)| GenGroup {
            state,
            kind,
            enabled,
            sid,
            stamped,
            nested,
        })
}

fn gid(i: usize) -> String {
    format!("0c000000-0000-4000-8000-{i:012}")
}

fn sid(i: usize) -> String {
    format!("S-1-5-21-7-8-9-{}", 3000 + i)
}

fn group_entry(dn: String, sid: Option<&str>, scope: i32) -> Entry {
    let mut e = Entry::new(dn);
    e.push("objectClass", "group");
    e.push("groupType", scope.to_string());
    e.push("objectGUID", uuid::Uuid::new_v4().as_bytes().to_vec());
    e.push("uSNChanged", "100");
    if let Some(s) = sid {
        e.push("objectSid", ids::sid_to_bytes(s).unwrap());
    }
    e
}

fn world(groups: &[GenGroup], scopes: &[i32]) -> Snapshot {
    let mut entries = Vec::new();
    let mut e = Entry::new("DC=lab,DC=test");
    e.push("objectClass", "domainDNS");
    entries.push(e);
    for dn in [OU, GROUPS] {
        let mut e = Entry::new(dn);
        e.push("objectClass", "organizationalUnit");
        e.push("objectGUID", uuid::Uuid::new_v4().as_bytes().to_vec());
        entries.push(e);
    }
    for s in 0..4 {
        entries.push(group_entry(
            format!("CN=Original {s},{GROUPS}"),
            Some(&sid(s)),
            scopes[s % scopes.len()],
        ));
    }
    // Two objects with one SID (a restore gone wrong): never guessed between.
    for copy in 0..2 {
        entries.push(group_entry(
            format!("CN=Twin {copy},{GROUPS}"),
            Some(&sid(4)),
            -2147483640,
        ));
    }
    let mut tgroups = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let id = gid(i);
        let (types, mail, sec) = match g.kind {
            0 => (vec![], false, true),
            1 => (vec!["Unified".to_string()], true, false),
            _ => (vec![], true, true),
        };
        let (synced, behavior, on_prem) = match g.state {
            0 => (None, None, false),
            1 => (None, Some(true), true),
            2 => (None, Some(false), true),
            3 => (Some(true), None, true),
            _ => (None, None, true),
        };
        let members: Vec<Member> = g
            .nested
            .iter()
            .filter(|&&n| n < groups.len() && n != i)
            .map(|&n| Member {
                odata_type: Some("#microsoft.graph.group".into()),
                id: gid(n).into(),
                ..Member::default()
            })
            .collect();
        tgroups.push(Group {
            id: id.clone(),
            display_name: Some(format!("Group {i}")),
            group_types: types,
            mail_enabled: Some(mail),
            security_enabled: Some(sec),
            on_premises_sync_enabled: synced,
            on_premises_security_identifier: on_prem.then(|| sid(g.sid)),
            on_premises_sync_behavior: behavior.map(|b| OnPremisesSyncBehavior {
                is_cloud_managed: Some(b),
            }),
            writeback_configuration: Some(WritebackConfiguration {
                is_enabled: g.enabled,
                on_premises_group_type: None,
            }),
            members: Some(members.into_iter().map(Into::into).collect()),
            ..Group::default()
        });
        if g.stamped {
            let mut e = group_entry(format!("CN=Group_{id},{OU}"), None, -2147483640);
            e.push("adminDescription", format!("Group_{id}"));
            entries.push(e);
        }
    }
    Snapshot {
        origin: "generated".into(),
        tenant: TenantDoc {
            groups: Some(tgroups),
            deleted_groups: Some(vec![]),
            ..TenantDoc::default()
        },
        ad: Some(AdSnapshot::from_entries(&entries).unwrap()),
        manifest: gwb::bundle::Manifest {
            target_ou: Some(OU.into()),
            ..Default::default()
        },
        ..Snapshot::default()
    }
}

fn plan_of(snap: &Snapshot) -> Plan {
    let prepared = gwb::core::inputs::prepare(snap, None).unwrap();
    let opts = PlanOptions {
        policy: PlanPolicy::default(),
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
    };
    build(snap, &prepared, &opts).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    #[test]
    fn no_gwb_plan_creates_a_second_object_for_a_sid_already_in_ad(
        groups in proptest::collection::vec(gen_group(), 1..9),
        scopes in proptest::collection::vec(prop_oneof![Just(-2147483640i32), Just(-2147483646i32), Just(-2147483644i32)], 1..4),
    ) {
        let snap = world(&groups, &scopes);
        let ad = snap.ad.as_ref().unwrap();
        let plan = plan_of(&snap);
        let by_id = |id: &str| snap.tenant.groups.iter().flatten().find(|g| g.id == id);
        for p in &plan.groups {
            let Some(g) = by_id(&p.id) else { continue };
            let sid_holders: Vec<&gwb::ad::AdObject> = g
                .on_premises_sid()
                .map(|s| ad.objects.iter().filter(|o| o.sid.as_deref() == Some(s)).collect())
                .unwrap_or_default();
            if !sid_holders.is_empty() {
                prop_assert!(p.action != Action::Create, "{}: {:?} {}", p.id, p.reason, p.detail);
            }
            // A group that carries an on-premises SID is written only when it is converted,
            // and then into the one AD group with its SID, in place.
            if matches!(p.action, Action::Create | Action::Update | Action::Rename | Action::Noop)
                && g.on_premises_sid().is_some()
            {
                prop_assert_eq!(g.sync_state(), SyncState::Converted);
                prop_assert_eq!(p.reason, GroupReason::SoaConverted);
                prop_assert_eq!(sid_holders.len(), 1);
                let cur = p.current.as_ref().expect("the original object");
                prop_assert_eq!(dn_key(&cur.dn), sid_holders[0].dn.key());
                prop_assert_eq!(p.dn.as_deref().map(dn_key), Some(sid_holders[0].dn.key()));
                prop_assert!(p.action != Action::Rename);
            }
            if matches!(g.sync_state(), SyncState::RollbackPending | SyncState::Unknown | SyncState::SyncedFromAd) {
                prop_assert!(p.attributes.is_empty() && p.members.add.is_empty() && p.members.remove.is_empty(), "{}: {:?}", p.id, p.action);
            }
        }
    }
}
