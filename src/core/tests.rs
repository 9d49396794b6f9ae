//! Rule-by-rule tests of the decision core: every group and member reason code, and the
//! boundaries the guide states (50,000 / 50,001 members, null/false/true isEnabled, v1
//! ignoring isEnabled, names that need escaping or are longer than 51 characters).

use super::*;
use crate::ad::ldif::Entry;
use crate::bundle::tenant::WritebackConfiguration;

const OU: &str = "OU=Cloud Groups,DC=lab,DC=test";
const GID: &str = "3a5c3221-c465-48c0-95b8-e9305786a271";

fn m365(id: &str, enabled: Option<bool>) -> Group {
    Group {
        id: id.into(),
        display_name: Some("Team".into()),
        group_types: vec!["Unified".into()],
        mail_enabled: Some(true),
        security_enabled: Some(false),
        writeback_configuration: Some(WritebackConfiguration {
            is_enabled: enabled,
            on_premises_group_type: None,
        }),
        members: Some(vec![]),
        ..Group::default()
    }
}

fn security(id: &str, enabled: Option<bool>) -> Group {
    Group {
        id: id.into(),
        display_name: Some("Sec".into()),
        mail_enabled: Some(false),
        security_enabled: Some(true),
        writeback_configuration: Some(WritebackConfiguration {
            is_enabled: enabled,
            on_premises_group_type: None,
        }),
        members: Some(vec![]),
        ..Group::default()
    }
}

fn user(id: &str) -> Member {
    Member {
        odata_type: Some("#microsoft.graph.user".into()),
        id: id.into(),
        ..Member::default()
    }
}

fn tenant(groups: Vec<Group>) -> TenantDoc {
    TenantDoc {
        groups: Some(groups),
        deleted_groups: Some(vec![]),
        ..TenantDoc::default()
    }
}

fn ad(entries: Vec<Entry>) -> AdSnapshot {
    let mut all = vec![ou_entry()];
    all.extend(entries);
    AdSnapshot::from_entries(&all).unwrap()
}

fn ou_entry() -> Entry {
    let mut e = Entry::new(OU);
    e.push("objectClass", "organizationalUnit");
    e
}

fn ad_obj(
    dn: &str,
    class: &str,
    sid: Option<&str>,
    guid: Option<&str>,
    extra: &[(&str, &str)],
) -> Entry {
    let mut e = Entry::new(dn);
    e.push("objectClass", "top");
    e.push("objectClass", class);
    if let Some(s) = sid {
        e.push("objectSid", ids::sid_to_bytes(s).unwrap());
    }
    if let Some(g) = guid {
        e.push(
            "objectGUID",
            ids::guid_to_bytes(&ids::parse_guid(g).unwrap()).to_vec(),
        );
    }
    for (k, v) in extra {
        e.push(k, *v);
    }
    e
}

fn run(
    target: Target,
    t: &TenantDoc,
    ad: Option<&AdSnapshot>,
    flags: Flags,
    policy: Policy,
) -> Forecast {
    let ou = Dn::parse(OU).unwrap();
    let inputs = Inputs {
        tenant: t,
        ad,
        target_ou: Some(&ou),
        flags,
        exchange_prepared: Some(true),
        other_writer_containers: &[],
    };
    forecast(target, &inputs, &policy)
}

fn one(target: Target, g: Group) -> GroupForecast {
    let t = tenant(vec![g]);
    run(target, &t, None, Flags::default(), Policy::default())
        .groups
        .remove(0)
}

#[test]
fn m365_is_enabled_null_true_false_under_v2_and_gwb() {
    for target in [Target::ConnectV2, Target::Gwb] {
        let f = one(target, m365(GID, None));
        assert_eq!(
            (f.outcome, f.reason),
            (Outcome::Writeback, GroupReason::Eligible)
        );
        assert_eq!(
            f.on_premises_group_type,
            Some(OnPremGroupType::UniversalDistribution)
        );
        let f = one(target, m365(GID, Some(true)));
        assert_eq!(
            (f.outcome, f.reason),
            (Outcome::Writeback, GroupReason::Eligible)
        );
        let f = one(target, m365(GID, Some(false)));
        assert_eq!(
            (f.outcome, f.reason),
            (Outcome::Skip, GroupReason::WritebackDisabled)
        );
    }
}

#[test]
fn security_is_enabled_null_false_true() {
    let f = one(Target::ConnectV2, security(GID, None));
    assert_eq!(
        (f.outcome, f.reason),
        (Outcome::Skip, GroupReason::SecurityNotEnabled)
    );
    let f = one(Target::ConnectV2, security(GID, Some(false)));
    assert_eq!(
        (f.outcome, f.reason),
        (Outcome::Skip, GroupReason::SecurityNotEnabled)
    );
    let mut g = security(GID, Some(true));
    g.writeback_configuration
        .as_mut()
        .unwrap()
        .on_premises_group_type = Some("universalDistributionGroup".into());
    let f = one(Target::ConnectV2, g);
    assert_eq!(
        (f.outcome, f.reason),
        (Outcome::Writeback, GroupReason::Eligible)
    );
    assert_eq!(
        f.on_premises_group_type,
        Some(OnPremGroupType::UniversalSecurity),
        "security groups are always universalSecurityGroup"
    );
}

#[test]
fn v1_ignores_is_enabled_and_writes_distribution_groups() {
    for enabled in [None, Some(true), Some(false)] {
        let mut g = m365(GID, enabled);
        g.writeback_configuration
            .as_mut()
            .unwrap()
            .on_premises_group_type = Some("universalSecurityGroup".into());
        let f = one(Target::ConnectV1, g);
        assert_eq!(
            (f.outcome, f.reason),
            (Outcome::Writeback, GroupReason::Eligible),
            "isEnabled {enabled:?}"
        );
        assert_eq!(
            f.on_premises_group_type,
            Some(OnPremGroupType::UniversalDistribution)
        );
    }
    let f = one(Target::ConnectV1, security(GID, Some(true)));
    assert_eq!(
        (f.outcome, f.reason),
        (Outcome::Skip, GroupReason::NotSupportedByTarget)
    );
}

#[test]
fn m365_group_types_from_writeback_configuration() {
    for (t, want) in [
        ("universalSecurityGroup", OnPremGroupType::UniversalSecurity),
        (
            "universalMailEnabledSecurityGroup",
            OnPremGroupType::UniversalMailEnabledSecurity,
        ),
        (
            "UNIVERSALDISTRIBUTIONGROUP",
            OnPremGroupType::UniversalDistribution,
        ),
        (
            "globalDistributionGroup",
            OnPremGroupType::UniversalDistribution,
        ),
    ] {
        let mut g = m365(GID, Some(true));
        g.writeback_configuration
            .as_mut()
            .unwrap()
            .on_premises_group_type = Some(t.into());
        assert_eq!(
            one(Target::Gwb, g).on_premises_group_type,
            Some(want),
            "{t}"
        );
    }
}

#[test]
fn cloud_sync_provisions_security_groups_only_and_ignores_is_enabled() {
    let f = one(Target::CloudSync, security(GID, None));
    assert_eq!(
        (f.outcome, f.reason),
        (Outcome::Writeback, GroupReason::Eligible)
    );
    assert_eq!(
        f.cn.as_deref(),
        Some("Sec_e9305786a271"),
        "Cloud Sync uses the display-name CN"
    );
    let f = one(Target::CloudSync, m365(GID, Some(true)));
    assert_eq!(
        (f.outcome, f.reason),
        (Outcome::Skip, GroupReason::NotSupportedByTarget)
    );
}

#[test]
fn unsupported_kinds_and_synced_groups() {
    let mut dl = m365(GID, None);
    dl.group_types.clear();
    dl.security_enabled = Some(false);
    let mut mes = security(GID, Some(true));
    mes.mail_enabled = Some(true);
    let mut synced = security(GID, Some(true));
    synced.on_premises_sync_enabled = Some(true);
    for t in Target::ALL {
        assert_eq!(
            one(t, dl.clone()).reason,
            GroupReason::UnsupportedDistributionList
        );
        assert_eq!(
            one(t, mes.clone()).reason,
            GroupReason::UnsupportedMailEnabledSecurity
        );
        assert_eq!(one(t, synced.clone()).reason, GroupReason::SourceOnPremises);
    }
}

fn with_members(mut g: Group, n: usize) -> Group {
    g.members = Some((0..n).map(|i| user(&format!("u{i}")).into()).collect());
    g
}

#[test]
fn member_limit_boundaries() {
    let f = one(Target::ConnectV2, with_members(m365(GID, None), 50_000));
    assert_eq!(
        f.outcome,
        Outcome::Writeback,
        "exactly 50,000 is written back"
    );
    let f = one(Target::ConnectV2, with_members(m365(GID, None), 50_001));
    assert_eq!(
        (f.outcome, f.reason),
        (Outcome::Skip, GroupReason::MemberLimitExceeded)
    );
    let raised = Policy {
        member_limit: MemberLimitBehavior::Raised,
        ..Policy::default()
    };
    let t = tenant(vec![with_members(m365(GID, None), 50_001)]);
    assert_eq!(
        run(Target::ConnectV2, &t, None, Flags::default(), raised).groups[0].outcome,
        Outcome::Writeback
    );
    let t = tenant(vec![with_members(m365(GID, None), 250_001)]);
    assert_eq!(
        run(Target::ConnectV2, &t, None, Flags::default(), raised).groups[0].reason,
        GroupReason::MemberLimitExceeded
    );
    // Security groups: 250,000 under Connect, 50,000 under Cloud Sync.
    assert_eq!(
        one(
            Target::Gwb,
            with_members(security(GID, Some(true)), 250_000)
        )
        .outcome,
        Outcome::Writeback
    );
    assert_eq!(
        one(
            Target::Gwb,
            with_members(security(GID, Some(true)), 250_001)
        )
        .reason,
        GroupReason::MemberLimitExceeded
    );
    assert_eq!(
        one(Target::CloudSync, with_members(security(GID, None), 50_000)).outcome,
        Outcome::Writeback
    );
    assert_eq!(
        one(Target::CloudSync, with_members(security(GID, None), 50_001)).reason,
        GroupReason::MemberLimitExceeded
    );
}

#[test]
fn feature_disabled_under_current_feature_state() {
    let current = Policy {
        feature_state: FeatureState::Current,
        ..Policy::default()
    };
    let t = tenant(vec![m365(GID, None)]);
    let off = Flags {
        v1: Some(false),
        v2: Some(false),
        device_writeback: None,
    };
    let f = run(Target::ConnectV1, &t, None, off, current);
    assert_eq!(
        (f.groups[0].outcome, f.groups[0].reason),
        (Outcome::Skip, GroupReason::FeatureDisabled)
    );
    // v1 on: the original semantics apply even to the connect-v2 hypothesis.
    let t = tenant(vec![m365(GID, Some(false))]);
    let v1 = Flags {
        v1: Some(true),
        v2: Some(false),
        device_writeback: None,
    };
    assert_eq!(
        run(Target::ConnectV2, &t, None, v1, current).groups[0].outcome,
        Outcome::Writeback
    );
    // gwb does not depend on Connect's flags.
    assert_eq!(
        run(
            Target::Gwb,
            &tenant(vec![m365(GID, None)]),
            None,
            off,
            current
        )
        .groups[0]
            .outcome,
        Outcome::Writeback
    );
}

fn written_back(id: &str, extra: &[(&str, &str)]) -> Entry {
    let mut pairs = vec![
        ("adminDescription", format!("Group_{id}")),
        ("groupType", "-2147483640".to_string()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ad_obj(&format!("CN=Group_{id},{OU}"), "group", None, None, &refs)
}

#[test]
fn default_and_modified_deletion_behaviour() {
    let ad = ad(vec![written_back(GID, &[])]);
    let t = tenant(vec![security(GID, Some(false))]);
    let f = run(
        Target::ConnectV2,
        &t,
        Some(&ad),
        Flags::default(),
        Policy::default(),
    );
    assert_eq!(
        (f.groups[0].outcome, f.groups[0].reason),
        (Outcome::Keep, GroupReason::SecurityNotEnabled)
    );
    let modified = Policy {
        deletion: DeletionBehavior::Modified,
        ..Policy::default()
    };
    let f = run(Target::ConnectV2, &t, Some(&ad), Flags::default(), modified);
    assert_eq!(f.groups[0].outcome, Outcome::Delete);
    // Soft-deleted
    let mut t = tenant(vec![]);
    t.deleted_groups = Some(vec![m365(GID, None)]);
    let f = run(
        Target::Gwb,
        &t,
        Some(&ad),
        Flags::default(),
        Policy::default(),
    );
    assert_eq!(
        (f.groups[0].outcome, f.groups[0].reason),
        (Outcome::Keep, GroupReason::SoftDeleted)
    );
    let f = run(Target::Gwb, &t, Some(&ad), Flags::default(), modified);
    assert_eq!(
        (f.groups[0].outcome, f.groups[0].reason),
        (Outcome::Delete, GroupReason::SoftDeleted)
    );
    // Soft-deleted without an AD object: nothing to do.
    let empty = self::ad(vec![]);
    assert_eq!(
        run(Target::Gwb, &t, Some(&empty), Flags::default(), modified).groups[0].outcome,
        Outcome::Skip
    );
}

#[test]
fn hard_deleted_groups_are_deleted_only_with_complete_evidence() {
    let ad = ad(vec![written_back(GID, &[("displayName", "Gone")])]);
    let t = tenant(vec![]);
    let f = run(
        Target::Gwb,
        &t,
        Some(&ad),
        Flags::default(),
        Policy::default(),
    );
    assert_eq!(
        (f.groups[0].outcome, f.groups[0].reason),
        (Outcome::Delete, GroupReason::HardDeleted)
    );
    let mut t2 = tenant(vec![]);
    t2.deleted_groups = None;
    assert_eq!(
        run(
            Target::Gwb,
            &t2,
            Some(&ad),
            Flags::default(),
            Policy::default()
        )
        .groups[0]
            .outcome,
        Outcome::Keep
    );
    let mut t3 = tenant(vec![]);
    t3.incomplete_sections = vec!["groups".into()];
    assert!(
        run(
            Target::Gwb,
            &t3,
            Some(&ad),
            Flags::default(),
            Policy::default()
        )
        .groups
        .is_empty(),
        "never delete on a partial group list"
    );
}

#[test]
fn name_collision_with_objects_gwb_does_not_own() {
    let foreign = ad_obj(
        &format!("CN=Group_{GID},{OU}"),
        "group",
        None,
        None,
        &[("groupType", "-2147483646")],
    );
    let ad1 = ad(vec![foreign]);
    let t = tenant(vec![security(GID, Some(true))]);
    let f = run(
        Target::Gwb,
        &t,
        Some(&ad1),
        Flags::default(),
        Policy::default(),
    );
    assert_eq!(
        (f.groups[0].outcome, f.groups[0].reason),
        (Outcome::Skip, GroupReason::NameCollision)
    );
    // Its own earlier object is not a collision: it is updated.
    let ad2 = ad(vec![written_back(GID, &[])]);
    let f = run(
        Target::Gwb,
        &t,
        Some(&ad2),
        Flags::default(),
        Policy::default(),
    );
    assert_eq!(f.groups[0].outcome, Outcome::Writeback);
    assert!(f.groups[0].existing_dn.is_some());
    // Two cloud groups with the same display-name CN: the second collides.
    let dn_policy = Policy {
        cn_format: CnFormat::DisplayName,
        ..Policy::default()
    };
    let mut a = security("00000000-0000-0000-0000-aaaaaaaaaaaa", Some(true));
    let mut b = security("11111111-1111-1111-1111-aaaaaaaaaaaa", Some(true));
    a.display_name = Some("Same".into());
    b.display_name = Some("same".into());
    let f = run(
        Target::Gwb,
        &tenant(vec![a, b]),
        None,
        Flags::default(),
        dn_policy,
    );
    let reasons: Vec<GroupReason> = f.groups.iter().map(|g| g.reason).collect();
    assert!(
        reasons.contains(&GroupReason::Eligible) && reasons.contains(&GroupReason::NameCollision),
        "{reasons:?}"
    );
}

#[test]
fn display_name_cns_escape_and_truncate() {
    let p = Policy {
        cn_format: CnFormat::DisplayName,
        ..Policy::default()
    };
    let mut g = security(GID, Some(true));
    g.display_name = Some(format!("  R&D, \"Labs\" + #1 <EU>; {}", "x".repeat(60)));
    let f = run(Target::Gwb, &tenant(vec![g]), None, Flags::default(), p);
    let cn = f.groups[0].cn.clone().unwrap();
    assert_eq!(naming::cn_len(&cn), 64);
    assert!(cn.starts_with("R&D, \"Labs\" + #1 <EU>; "));
    let dn = Dn::parse(f.groups[0].dn.as_deref().unwrap()).unwrap();
    assert_eq!(
        dn.rdn_value(),
        Some(cn.as_str()),
        "the DN round-trips through escaping"
    );
    assert!(
        f.groups[0]
            .dn
            .as_deref()
            .unwrap()
            .starts_with(r#"CN=R&D\, \"Labs\" \+ #1 \<EU\>\; "#)
    );
}

const SID_U: &str = "S-1-5-21-1-2-3-1001";
const SID_DL: &str = "S-1-5-21-1-2-3-1002";
const GUID_U: &str = "6b29fc40-ca47-1067-b31d-00dd010662da";

fn member_ad() -> AdSnapshot {
    ad(vec![
        ad_obj(
            "CN=Alice,OU=Users,DC=lab,DC=test",
            "user",
            Some(SID_U),
            Some(GUID_U),
            &[],
        ),
        ad_obj(
            "CN=DL,OU=Groups,DC=lab,DC=test",
            "group",
            Some(SID_DL),
            None,
            &[("groupType", "-2147483644")],
        ),
        ad_obj(
            "CN=PC1,OU=Computers,DC=lab,DC=test",
            "computer",
            Some("S-1-5-21-1-2-3-1003"),
            None,
            &[],
        ),
    ])
}

fn member_outcome(
    target: Target,
    m: Member,
    ad: Option<&AdSnapshot>,
    flags: Flags,
) -> Result<ResolvedMember, SkippedMember> {
    let mut g = security(GID, Some(true));
    g.members = Some(vec![m.into()]);
    let t = tenant(vec![g]);
    let mut f = run(target, &t, ad, flags, Policy::default())
        .groups
        .remove(0);
    if let Some(r) = f.members.resolved.pop() {
        Ok((*r).clone())
    } else {
        Err((*f.members.skipped.remove(0)).clone())
    }
}

#[test]
fn members_resolve_by_sid_then_guid_then_immutable_id() {
    let ad = member_ad();
    let mut m = user("m1");
    m.on_premises_security_identifier = Some(SID_U.into());
    assert_eq!(
        member_outcome(Target::Gwb, m, Some(&ad), Flags::default())
            .unwrap()
            .reason,
        MemberReason::MemberResolved
    );
    let mut m = user("m2");
    m.on_premises_object_identifier = Some(GUID_U.into());
    assert_eq!(
        member_outcome(Target::Gwb, m, Some(&ad), Flags::default())
            .unwrap()
            .dn,
        "CN=Alice,OU=Users,DC=lab,DC=test".into()
    );
    let mut m = user("m3");
    use base64::Engine;
    m.on_premises_immutable_id = Some(
        base64::engine::general_purpose::STANDARD
            .encode(ids::guid_to_bytes(&ids::parse_guid(GUID_U).unwrap())),
    );
    assert_eq!(
        member_outcome(Target::Gwb, m, Some(&ad), Flags::default())
            .unwrap()
            .reason,
        MemberReason::MemberResolved
    );
    // A stale SID but a good GUID still resolves: SID first, then GUID.
    let mut m = user("m4");
    m.on_premises_security_identifier = Some("S-1-5-21-9-9-9-9".into());
    m.on_premises_object_identifier = Some(GUID_U.into());
    assert_eq!(
        member_outcome(Target::Gwb, m, Some(&ad), Flags::default())
            .unwrap()
            .reason,
        MemberReason::MemberResolved
    );
}

#[test]
fn member_skip_reasons() {
    let ad = member_ad();
    let e = member_outcome(Target::Gwb, user("cloud"), Some(&ad), Flags::default()).unwrap_err();
    assert_eq!(e.reason, MemberReason::MemberCloudOnly);
    let mut m = user("gone");
    m.on_premises_security_identifier = Some("S-1-5-21-9-9-9-9".into());
    assert_eq!(
        member_outcome(Target::Gwb, m.clone(), Some(&ad), Flags::default())
            .unwrap_err()
            .reason,
        MemberReason::MemberNotFoundInAd
    );
    assert_eq!(
        member_outcome(Target::Gwb, m, None, Flags::default())
            .unwrap()
            .reason,
        MemberReason::MemberUnverified
    );
    let dl = Member {
        odata_type: Some("#microsoft.graph.group".into()),
        id: "dl".into(),
        on_premises_sync_enabled: Some(true),
        on_premises_security_identifier: Some(SID_DL.into()),
        ..Member::default()
    };
    let e = member_outcome(Target::ConnectV2, dl, Some(&ad), Flags::default()).unwrap_err();
    assert_eq!(e.reason, MemberReason::MemberDomainLocalGroup);
    assert!(
        e.detail
            .contains("A universal group cannot have a local group as a member.")
    );
    let sp = Member {
        odata_type: Some("#microsoft.graph.servicePrincipal".into()),
        id: "sp".into(),
        ..Member::default()
    };
    assert_eq!(
        member_outcome(Target::Gwb, sp, Some(&ad), Flags::default())
            .unwrap_err()
            .reason,
        MemberReason::MemberUnsupportedType
    );
}

#[test]
fn devices_need_device_writeback_unless_hybrid_joined() {
    let ad = member_ad();
    let hybrid = Member {
        odata_type: Some("#microsoft.graph.device".into()),
        id: "d1".into(),
        trust_type: Some("ServerAd".into()),
        on_premises_security_identifier: Some("S-1-5-21-1-2-3-1003".into()),
        ..Member::default()
    };
    assert_eq!(
        member_outcome(Target::Gwb, hybrid.clone(), Some(&ad), Flags::default())
            .unwrap()
            .dn,
        "CN=PC1,OU=Computers,DC=lab,DC=test".into()
    );
    let registered = Member {
        odata_type: Some("#microsoft.graph.device".into()),
        id: "d2".into(),
        trust_type: Some("Workplace".into()),
        device_id: Some("0f0f0f0f-0000-1111-2222-333344445555".into()),
        ..Member::default()
    };
    let e =
        member_outcome(Target::Gwb, registered.clone(), Some(&ad), Flags::default()).unwrap_err();
    assert_eq!(e.reason, MemberReason::MemberDeviceRequiresDeviceWriteback);
    let on = Flags {
        device_writeback: Some(true),
        ..Flags::default()
    };
    assert_eq!(
        member_outcome(Target::Gwb, registered.clone(), Some(&ad), on)
            .unwrap_err()
            .reason,
        MemberReason::MemberNotFoundInAd
    );
    let mut dev = ad_obj(
        "CN=dev,CN=RegisteredDevices,DC=lab,DC=test",
        "msDS-Device",
        None,
        None,
        &[],
    );
    dev.push(
        "msDS-DeviceID",
        ids::guid_to_bytes(&ids::parse_guid("0f0f0f0f-0000-1111-2222-333344445555").unwrap())
            .to_vec(),
    );
    let ad2 = self::ad(vec![dev]);
    assert_eq!(
        member_outcome(Target::Gwb, registered, Some(&ad2), on)
            .unwrap()
            .reason,
        MemberReason::MemberResolved
    );
    assert_eq!(
        member_outcome(Target::CloudSync, hybrid, Some(&ad), Flags::default())
            .unwrap_err()
            .reason,
        MemberReason::MemberUnsupportedType
    );
}

#[test]
fn nested_cloud_groups_must_themselves_be_written_back() {
    let child_on = security("00000000-0000-0000-0000-00000000000a", Some(true));
    let child_off = security("00000000-0000-0000-0000-00000000000b", None);
    let mut parent = security(GID, Some(true));
    parent.members = Some(vec![
        Member {
            odata_type: Some("#microsoft.graph.group".into()),
            id: child_on.id.as_str().into(),
            ..Member::default()
        }
        .into(),
        Member {
            odata_type: Some("#microsoft.graph.group".into()),
            id: child_off.id.as_str().into(),
            ..Member::default()
        }
        .into(),
    ]);
    let t = tenant(vec![parent, child_on, child_off]);
    let f = run(Target::Gwb, &t, None, Flags::default(), Policy::default());
    let p = f.group(GID).unwrap();
    assert_eq!(p.members.resolved.len(), 1);
    assert_eq!(
        p.members.resolved[0].dn.to_string(),
        format!("CN=Group_00000000-0000-0000-0000-00000000000a,{OU}")
    );
    assert_eq!(
        p.members.skipped[0].reason,
        MemberReason::MemberGroupNotWrittenBack
    );
}

#[test]
fn cloud_sync_matches_members_on_object_identifier_only() {
    let ad = member_ad();
    let mut m = user("sid-only");
    m.on_premises_security_identifier = Some(SID_U.into());
    m.on_premises_sync_enabled = Some(true);
    assert_eq!(
        member_outcome(Target::CloudSync, m, Some(&ad), Flags::default())
            .unwrap_err()
            .reason,
        MemberReason::MemberNotFoundInAd
    );
    let mut m = user("oid");
    m.on_premises_object_identifier = Some(GUID_U.into());
    assert_eq!(
        member_outcome(Target::CloudSync, m, Some(&ad), Flags::default())
            .unwrap()
            .reason,
        MemberReason::MemberResolved
    );
}

#[test]
fn forecast_is_deterministic() {
    let t = tenant(vec![
        m365(GID, None),
        security("00000000-0000-0000-0000-00000000000a", Some(true)),
    ]);
    let ad = member_ad();
    let a = run(
        Target::Gwb,
        &t,
        Some(&ad),
        Flags::default(),
        Policy::default(),
    );
    let b = run(
        Target::Gwb,
        &t,
        Some(&ad),
        Flags::default(),
        Policy::default(),
    );
    assert_eq!(a, b);
}

/// Issue 9 item 7: Cloud Sync joins on msDS-ExternalDirectoryObjectId only.
#[test]
fn cloud_sync_does_not_match_groups_stamped_only_in_admin_description() {
    let other = "00000000-0000-4000-8000-0000000000aa";
    let ad = ad(vec![
        written_back(GID, &[("displayName", "Sec")]),
        written_back(other, &[("displayName", "Gone")]),
    ]);
    let t = tenant(vec![security(GID, Some(true))]);
    let cs = run(
        Target::CloudSync,
        &t,
        Some(&ad),
        Flags::default(),
        Policy::default(),
    );
    // The live group: a second group is created, the old one is not its own.
    let g = cs.group(GID).unwrap();
    assert_eq!(g.outcome, Outcome::Writeback);
    assert_eq!(g.existing_dn, None);
    assert!(g.detail.contains("creates a second group"), "{}", g.detail);
    // The orphan: Cloud Sync never deletes it.
    assert!(cs.group(other).is_none());
    // Entra Connect (and gwb) adopt both.
    let v2 = run(
        Target::Gwb,
        &t,
        Some(&ad),
        Flags::default(),
        Policy::default(),
    );
    assert!(v2.group(GID).unwrap().existing_dn.is_some());
    assert_eq!(v2.group(other).unwrap().outcome, Outcome::Delete);
    // Once msDS-ExternalDirectoryObjectId carries the stamp, Cloud Sync matches it.
    let stamp = format!("Group_{GID}");
    let migrated = ad_with_external_id(&stamp);
    let cs2 = run(
        Target::CloudSync,
        &t,
        Some(&migrated),
        Flags::default(),
        Policy::default(),
    );
    assert!(cs2.group(GID).unwrap().existing_dn.is_some());
    let ou = Dn::parse(OU).unwrap();
    let inputs = Inputs {
        tenant: &t,
        ad: Some(&ad),
        target_ou: Some(&ou),
        flags: Flags::default(),
        exchange_prepared: None,
        other_writer_containers: &[],
    };
    assert_eq!(unmatched_by_cloud_sync(&inputs).len(), 2);
}

fn ad_with_external_id(stamp: &str) -> AdSnapshot {
    ad(vec![written_back(
        GID,
        &[("msDS-ExternalDirectoryObjectId", stamp)],
    )])
}

#[test]
fn target_gwb_moves_its_group_back_into_the_ou_and_leaves_other_copies_alone() {
    let stamp = format!("Group_{GID}");
    let moved_dn = "CN=Moved,OU=Elsewhere,DC=lab,DC=test";
    let moved = |extra: &[(&str, &str)]| {
        let mut pairs = vec![("groupType", "-2147483640")];
        pairs.extend_from_slice(extra);
        ad_obj(moved_dn, "group", None, None, &pairs)
    };
    let t = tenant(vec![security(GID, Some(true))]);
    let gwb_of = |ad: &AdSnapshot, t: &TenantDoc, policy: Policy| {
        run(Target::Gwb, t, Some(ad), Flags::default(), policy)
    };

    // gwb's own group, moved out by hand: moved back.
    let one = ad(vec![moved(&[("adminDescription", &stamp)])]);
    let f = gwb_of(&one, &t, Policy::default());
    let g = f.group(GID).unwrap();
    assert_eq!(
        (g.outcome, g.reason),
        (Outcome::Writeback, GroupReason::MovedOutOfTargetOu)
    );
    assert_eq!(g.existing_dn.as_deref(), Some(moved_dn));
    assert_eq!(g.dn.as_deref(), Some(&*format!("CN=Group_{GID},{OU}")));
    // The other targets only ever look into the OU.
    let v2 = run(
        Target::ConnectV2,
        &t,
        Some(&one),
        Flags::default(),
        Policy::default(),
    );
    assert_eq!(v2.group(GID).unwrap().existing_dn, None);
    assert_eq!(v2.group(GID).unwrap().reason, GroupReason::Eligible);

    // In Entra Connect's configured writeback container: not taken, no second copy.
    let ou = Dn::parse(OU).unwrap();
    let connect = [Dn::parse("OU=Elsewhere,DC=lab,DC=test").unwrap()];
    let inputs = Inputs {
        tenant: &t,
        ad: Some(&one),
        target_ou: Some(&ou),
        flags: Flags::default(),
        exchange_prepared: Some(true),
        other_writer_containers: &connect,
    };
    let f = forecast(Target::Gwb, &inputs, &Policy::default());
    let g = f.group(GID).unwrap();
    assert_eq!(
        (g.outcome, g.reason),
        (Outcome::Skip, GroupReason::OtherWriterContainer)
    );
    assert!(g.detail.contains("OU=Elsewhere"), "{}", g.detail);

    // Stamped by Cloud Sync alone: Cloud Sync's group in its own OU.
    let cs = ad(vec![moved(&[("msDS-ExternalDirectoryObjectId", &stamp)])]);
    let g = gwb_of(&cs, &t, Policy::default())
        .group(GID)
        .unwrap()
        .clone();
    assert_eq!(
        (g.outcome, g.reason),
        (Outcome::Skip, GroupReason::OtherWriterContainer)
    );

    // Two copies outside: neither is moved.
    let mut second = moved(&[("adminDescription", &stamp)]);
    second.dn = "CN=Second,OU=Other,DC=lab,DC=test".into();
    let two = ad(vec![moved(&[("adminDescription", &stamp)]), second]);
    let g = gwb_of(&two, &t, Policy::default())
        .group(GID)
        .unwrap()
        .clone();
    assert_eq!(
        (g.outcome, g.reason),
        (Outcome::Skip, GroupReason::StampedCopiesOutsideTargetOu)
    );

    // A copy in the OU too: the one in the OU is the group's; the other is named, untouched.
    let both = ad(vec![
        written_back(GID, &[]),
        moved(&[("adminDescription", &stamp)]),
    ]);
    let g = gwb_of(&both, &t, Policy::default())
        .group(GID)
        .unwrap()
        .clone();
    assert_eq!(
        (g.outcome, g.reason),
        (Outcome::Writeback, GroupReason::Eligible)
    );
    assert_eq!(
        g.existing_dn.as_deref(),
        Some(&*format!("CN=Group_{GID},{OU}"))
    );
    assert!(g.detail.contains(moved_dn), "{}", g.detail);

    // No longer in scope: never deleted outside the OU, even with modified deletion.
    let modified = Policy {
        deletion: DeletionBehavior::Modified,
        ..Policy::default()
    };
    let disabled = tenant(vec![security(GID, Some(false))]);
    let g = gwb_of(&one, &disabled, modified)
        .group(GID)
        .unwrap()
        .clone();
    assert_eq!(g.outcome, Outcome::Skip);
    assert!(g.detail.contains("left untouched"), "{}", g.detail);
    // A stamped group outside the OU whose cloud group is not in the tenant is not this
    // plan's: not listed, never deleted.
    let gone = tenant(vec![]);
    assert!(gwb_of(&one, &gone, modified).group(GID).is_none());
}

#[test]
fn sam_account_name_template_is_create_only_and_collisions_skip() {
    let ou = Dn::parse(OU).unwrap();
    let a = "00000000-0000-0000-0000-00000000000a";
    let b = "00000000-0000-0000-0000-00000000000b";
    let c = "00000000-0000-0000-0000-00000000000c";
    let d = "00000000-0000-0000-0000-00000000000d";
    let mut groups = Vec::new();
    for (id, nick) in [(a, "sales"), (b, "dup"), (c, "DUP"), (d, "taken")] {
        let mut g = security(id, Some(true));
        g.mail_nickname = Some(nick.into());
        groups.push(g);
    }
    let t = tenant(groups);
    // `a` is already written back (with its own sAMAccountName); "taken" belongs to a user.
    let snap = ad(vec![
        written_back(a, &[("sAMAccountName", "old-a")]),
        ad_obj(
            &format!("CN=u,{OU}"),
            "user",
            None,
            None,
            &[("sAMAccountName", "Taken")],
        ),
    ]);
    let inputs = Inputs {
        tenant: &t,
        ad: Some(&snap),
        target_ou: Some(&ou),
        flags: Flags::default(),
        exchange_prepared: Some(true),
        other_writer_containers: &[],
    };
    let o = overrides::Overrides {
        sam_account_name: Some("{mailNickname}".into()),
        ..Default::default()
    };
    let f = forecast_with(Target::Gwb, &inputs, &Policy::default(), &o);
    let g = |id: &str| f.groups.iter().find(|g| g.id == id).unwrap();
    // Existing group: create-only, so no sAMAccountName in the desired state.
    assert_eq!(g(a).outcome, Outcome::Writeback);
    assert_eq!(g(a).sam_account_name, None);
    // Two groups render the same name (ignoring case): the lower id gets it.
    assert_eq!(g(b).sam_account_name.as_deref(), Some("dup"));
    assert_eq!(
        (g(c).outcome, g(c).reason),
        (Outcome::Skip, GroupReason::NameCollision)
    );
    assert!(g(c).detail.contains(b), "{}", g(c).detail);
    // A name an AD object holds: skipped, naming it.
    assert_eq!(g(d).reason, GroupReason::NameCollision);
    assert!(g(d).detail.contains("CN=u,"), "{}", g(d).detail);
    // The desired state carries it for the create only.
    let des = desired::desired_with(&inputs, &Policy::default(), &o);
    assert_eq!(
        des.groups[b].attributes.get("sAMAccountName"),
        Some(&vec!["dup".to_string()])
    );
    assert!(!des.groups[a].attributes.contains_key("sAMAccountName"));
    // Other targets never render it.
    let v2 = forecast_with(Target::ConnectV2, &inputs, &Policy::default(), &o);
    assert!(v2.groups.iter().all(|g| g.sam_account_name.is_none()));
}
