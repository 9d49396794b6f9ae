//! Tests of the readiness checks: each finding is raised exactly when its rule says.

use super::*;
use crate::bundle::tenant::{
    DirectorySetting, Group, OnPremSync, ServicePlan, SettingValue, SubscribedSku,
    SyncConfiguration, TenantDoc, WritebackConfiguration,
};
use crate::bundle::{ConnectEvidence, Snapshot};

fn opts() -> Options {
    Options {
        generated_at: "2026-12-01T09:00:00Z".into(),
        ..Options::default()
    }
}

fn snap(t: TenantDoc) -> Snapshot {
    Snapshot {
        origin: "test".into(),
        tenant: t,
        ..Snapshot::default()
    }
}

fn codes(r: &Report) -> Vec<Code> {
    r.findings.iter().map(|f| f.code).collect()
}

fn find(r: &Report, c: Code) -> &Finding {
    r.findings
        .iter()
        .find(|f| f.code == c)
        .unwrap_or_else(|| panic!("no {}", c.as_str()))
}

fn sync(v1: Option<bool>, v2: Option<bool>, version: Option<&str>) -> OnPremSync {
    let mut features = std::collections::BTreeMap::new();
    features.insert("unifiedGroupWritebackEnabled".to_string(), v1);
    features.insert("groupWriteBackEnabled".to_string(), v2);
    OnPremSync {
        id: None,
        features: Some(features),
        configuration: Some(SyncConfiguration {
            synchronization_client_version: version.map(str::to_string),
            writeback_configuration: None,
        }),
    }
}

fn setting(value: Option<&str>) -> DirectorySetting {
    DirectorySetting {
        id: Some("s".into()),
        display_name: Some("Group.Unified".into()),
        template_id: Some(GROUP_UNIFIED_TEMPLATE.into()),
        values: value
            .map(|v| {
                vec![SettingValue {
                    name: "NewUnifiedGroupWritebackDefault".into(),
                    value: Some(v.into()),
                }]
            })
            .unwrap_or_default(),
    }
}

#[test]
fn new_group_default_absent_means_true_and_values_are_case_insensitive_strings() {
    for (settings, expect) in [
        (vec![], "written back automatically"),
        (vec![setting(None)], "written back automatically"),
        (vec![setting(Some("False"))], "not enabled for writeback"),
        (vec![setting(Some("FALSE"))], "not enabled for writeback"),
        (vec![setting(Some("true"))], "written back automatically"),
    ] {
        let r = audit(
            &snap(TenantDoc {
                settings: Some(settings.clone()),
                ..TenantDoc::default()
            }),
            &opts(),
        )
        .unwrap();
        assert!(
            find(&r, Code::NewGroupWritebackDefault)
                .message
                .contains(expect),
            "{settings:?}"
        );
    }
    let r = audit(
        &snap(TenantDoc {
            settings: Some(vec![setting(Some("maybe"))]),
            ..TenantDoc::default()
        }),
        &opts(),
    )
    .unwrap();
    assert!(codes(&r).contains(&Code::SettingValueInvalid));
}

fn sku(status: &str, plan: &str, prov: &str) -> SubscribedSku {
    SubscribedSku {
        sku_id: None,
        sku_part_number: Some("X".into()),
        capability_status: Some(status.into()),
        service_plans: vec![ServicePlan {
            service_plan_id: Some(plan.into()),
            service_plan_name: None,
            provisioning_status: Some(prov.into()),
        }],
    }
}

#[test]
fn licence_by_service_plan_in_an_enabled_sku() {
    let check = |skus: Vec<SubscribedSku>| {
        let r = audit(
            &snap(TenantDoc {
                subscribed_skus: Some(skus),
                ..TenantDoc::default()
            }),
            &opts(),
        )
        .unwrap();
        codes(&r)
    };
    assert!(check(vec![sku("Enabled", P1_PLAN, "Success")]).contains(&Code::LicensePresent));
    assert!(
        check(vec![sku("Warning", &P2_PLAN.to_uppercase(), "Success")])
            .contains(&Code::LicensePresent)
    );
    assert!(check(vec![sku("Suspended", P1_PLAN, "Success")]).contains(&Code::LicenseMissing));
    assert!(check(vec![sku("Enabled", P1_PLAN, "Disabled")]).contains(&Code::LicenseMissing));
    assert!(
        check(vec![sku(
            "Enabled",
            "00000000-0000-0000-0000-000000000000",
            "Success"
        )])
        .contains(&Code::LicenseMissing)
    );
    let r = audit(&snap(TenantDoc::default()), &opts()).unwrap();
    assert!(
        codes(&r).contains(&Code::LicenseUnknown) && !codes(&r).contains(&Code::LicenseMissing)
    );
}

#[test]
fn connect_version_thresholds() {
    let check = |v: &str| {
        let t = TenantDoc {
            on_premises_synchronization: Some(sync(Some(false), Some(false), Some(v))),
            ..TenantDoc::default()
        };
        codes(&audit(&snap(t), &opts()).unwrap())
    };
    assert!(check("2.0.88.0").contains(&Code::ConnectVersionTooOld));
    assert!(!check("2.0.89.0").contains(&Code::ConnectVersionTooOld));
    assert!(!check("2.3.1.0").contains(&Code::ConnectVersionV2Cutoff));
    assert!(check("2.3.2.0").contains(&Code::ConnectVersionV2Cutoff));
    assert!(check("2.6.83.0").contains(&Code::ConnectVersionBelowFloor));
    assert!(!check("2.6.84.0").contains(&Code::ConnectVersionBelowFloor));
    assert!(check("2.2.7.0").contains(&Code::ConnectVersionNoObjectIdentifier));
    assert!(check("not.a.version").contains(&Code::ConnectVersionUnknown));
}

#[test]
fn feature_flags_from_graph_or_connect_and_conflicts() {
    // From the Connect export alone.
    let mut s = snap(TenantDoc::default());
    s.connect = ConnectEvidence {
        features: [("UnifiedGroupWriteback".to_string(), true)]
            .into_iter()
            .collect(),
        ..ConnectEvidence::default()
    };
    let r = audit(&s, &opts()).unwrap();
    assert_eq!(r.flags.v1, Some(true));
    assert!(codes(&r).contains(&Code::WritebackV1Enabled));
    // Graph wins on conflict, with a finding.
    s.tenant.on_premises_synchronization = Some(sync(Some(false), Some(false), None));
    let r = audit(&s, &opts()).unwrap();
    assert_eq!(r.flags.v1, Some(false));
    assert!(codes(&r).contains(&Code::FeatureFlagsConflict));
    // Nothing at all: unknown.
    assert!(
        codes(&audit(&snap(TenantDoc::default()), &opts()).unwrap())
            .contains(&Code::FeatureFlagsUnknown)
    );
}

fn m365(id: &str, enabled: Option<bool>) -> Group {
    Group {
        id: id.into(),
        display_name: Some(id.into()),
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

#[test]
fn enablement_order_hazard_counts_disabled_groups_and_v2_verdicts() {
    let t = TenantDoc {
        on_premises_synchronization: Some(sync(Some(false), Some(false), Some("2.6.84.0"))),
        groups: Some(vec![
            m365("00000000-0000-0000-0000-000000000001", None),
            m365("00000000-0000-0000-0000-000000000002", Some(false)),
        ]),
        ..TenantDoc::default()
    };
    let r = audit(&snap(t.clone()), &opts()).unwrap();
    let f = find(&r, Code::EnablementOrderHazard);
    assert!(
        f.message.contains("all 2 existing")
            && f.message.contains("1 of them with isEnabled = false"),
        "{}",
        f.message
    );
    assert!(codes(&r).contains(&Code::IsEnabledIgnoredByV1));
    let v2 = r
        .verdicts
        .iter()
        .find(|v| v.target == Target::ConnectV2)
        .unwrap();
    assert_eq!(
        v2.verdict,
        Verdict::Unavailable,
        "v2 off can no longer be enabled"
    );
    // v1 already on: no hazard; v2 on: the deprecation warning instead of unavailability.
    let mut t2 = t;
    t2.on_premises_synchronization = Some(sync(Some(true), Some(true), Some("2.6.84.0")));
    let r = audit(&snap(t2), &opts()).unwrap();
    assert!(!codes(&r).contains(&Code::EnablementOrderHazard));
    assert!(
        codes(&r).contains(&Code::WritebackV2Enabled)
            && !codes(&r).contains(&Code::WritebackV2Unavailable)
    );
}

fn ad_with(ldif_text: &str) -> crate::ad::AdSnapshot {
    crate::ad::AdSnapshot::from_entries(&crate::ad::ldif::parse(ldif_text).unwrap()).unwrap()
}

const SCHEMA: &str = "dn: CN=Schema,CN=Configuration,DC=lab\nobjectClass: dMD\n\n";

#[test]
fn exchange_preparation_and_mail_attributes() {
    let mut g = m365("00000000-0000-0000-0000-000000000001", Some(true));
    g.display_name = Some("Team".into());
    let t = TenantDoc {
        groups: Some(vec![g]),
        ..TenantDoc::default()
    };
    let mut s = snap(t);
    s.ad = Some(ad_with(&format!(
        "{SCHEMA}dn: OU=WB,DC=lab\nobjectClass: organizationalUnit\n"
    )));
    s.manifest.target_ou = Some("OU=WB,DC=lab".into());
    let r = audit(&s, &opts()).unwrap();
    assert!(codes(&r).contains(&Code::ExchangeNotPrepared));
    let gwb = r.forecast.iter().find(|f| f.target == Target::Gwb).unwrap();
    assert_eq!(
        gwb.groups[0].mail_attributes,
        Some(false),
        "mail attributes are written only on Exchange-prepared AD"
    );
    s.ad = Some(ad_with(&format!(
        "{SCHEMA}dn: CN=ms-Exch-Schema-Version-Pt,CN=Schema,CN=Configuration,DC=lab\nobjectClass: attributeSchema\nrangeUpper: 15332\n\n\
         dn: CN=Org,CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=lab\nobjectClass: msExchOrganizationContainer\nobjectVersion: 16217\n\n\
         dn: CN=Microsoft Exchange System Objects,DC=lab\nobjectClass: msExchSystemObjectsContainer\nobjectVersion: 13237\n\n\
         dn: OU=WB,DC=lab\nobjectClass: organizationalUnit\n"
    )));
    let r = audit(&s, &opts()).unwrap();
    assert!(
        find(&r, Code::ExchangePrepared)
            .message
            .contains("2016 CU13–CU17")
    );
    assert!(!codes(&r).contains(&Code::ExchangeBelowRecommended));
    assert_eq!(
        r.forecast
            .iter()
            .find(|f| f.target == Target::Gwb)
            .unwrap()
            .groups[0]
            .mail_attributes,
        Some(true)
    );
}

#[test]
fn target_ou_rights_schema_and_recycle_bin() {
    let mut s = snap(TenantDoc::default());
    s.manifest.target_ou = Some("OU=WB,DC=lab".into());
    s.ad = Some(ad_with(&format!(
        "{SCHEMA}dn: OU=WB,DC=lab\nobjectClass: organizationalUnit\nallowedChildClassesEffective: contact\n\n\
         dn: CN=Recycle Bin Feature,CN=Optional Features,CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,DC=lab\nobjectClass: msDS-OptionalFeature\n"
    )));
    let r = audit(&s, &opts()).unwrap();
    let c = codes(&r);
    assert!(c.contains(&Code::TargetOuPresent) && c.contains(&Code::TargetOuRightsInsufficient));
    assert!(c.contains(&Code::SchemaExternalIdMissing) && c.contains(&Code::RecycleBinDisabled));
    assert_eq!(
        find(&r, Code::SchemaExternalIdMissing).targets,
        vec![Target::CloudSync]
    );
    // A different OU: missing.
    let r = audit(
        &s,
        &Options {
            target_ou: Some("OU=Other,DC=lab".into()),
            ..opts()
        },
    )
    .unwrap();
    assert!(codes(&r).contains(&Code::TargetOuMissing));
    // No OU anywhere: unknown.
    s.manifest.target_ou = None;
    assert!(codes(&audit(&s, &opts()).unwrap()).contains(&Code::TargetOuUnknown));
}

#[test]
fn truncated_evidence_makes_the_verdict_incomplete() {
    let mut s = snap(TenantDoc::default());
    s.quality.push(crate::bundle::DataQuality {
        code: "depth-truncated".into(),
        file: "groups.json".into(),
        place: "$[0].writebackConfiguration".into(),
        message: "ConvertTo-Json truncated this value".into(),
    });
    let r = audit(&s, &opts()).unwrap();
    assert!(!r.evidence.complete);
    assert!(codes(&r).contains(&Code::EvidenceTruncated));
    assert!(
        r.verdicts
            .iter()
            .all(|v| v.verdict == Verdict::Incomplete || v.verdict == Verdict::Blocked)
    );
    assert!(r.verdicts.iter().any(|v| v.verdict == Verdict::Incomplete));
}

#[test]
fn connect_v2_is_unavailable_while_v2_is_off_and_gated_like_the_others_when_on() {
    let off = TenantDoc {
        on_premises_synchronization: Some(sync(Some(false), Some(false), Some("2.6.84.0"))),
        ..TenantDoc::default()
    };
    let r = audit(&snap(off.clone()), &opts()).unwrap();
    let v2 = r
        .verdicts
        .iter()
        .find(|v| v.target == Target::ConnectV2)
        .unwrap();
    assert_eq!(v2.verdict, Verdict::Unavailable);
    assert!(!v2.gated);
    assert!(!r.gate.targets.contains(&Target::ConnectV2));
    assert!(
        r.gate.line.contains("connect-v2 not gated"),
        "{}",
        r.gate.line
    );
    // Asked for explicitly, an unavailable target fails the gate.
    let asked = audit(
        &snap(off),
        &Options {
            gate: GatePolicy {
                targets: vec![Target::ConnectV2],
                ..GatePolicy::default()
            },
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(asked.gate.result, gate::GateResult::Failed);
    assert_eq!(asked.gate.targets, [Target::ConnectV2]);
    let on = TenantDoc {
        on_premises_synchronization: Some(sync(Some(false), Some(true), Some("2.6.84.0"))),
        ..TenantDoc::default()
    };
    let r = audit(&snap(on), &opts()).unwrap();
    let v2 = r
        .verdicts
        .iter()
        .find(|v| v.target == Target::ConnectV2)
        .unwrap();
    assert_ne!(v2.verdict, Verdict::Unavailable);
    assert!(v2.gated);
}

#[test]
fn a_bundle_without_evidence_fails_closed() {
    let r = audit(&snap(TenantDoc::default()), &opts()).unwrap();
    for v in r.verdicts.iter().filter(|v| v.gated) {
        assert_eq!(v.verdict, Verdict::Incomplete, "{}", v.target.as_str());
        assert!(v.missing.contains(&"ad".to_string()), "{:?}", v.missing);
    }
    assert_eq!(r.gate.result, gate::GateResult::Incomplete);
    assert_eq!(r.gate.exit_code, 3);
    let allowed = audit(
        &snap(TenantDoc::default()),
        &Options {
            gate: GatePolicy {
                allow_incomplete: true,
                ..GatePolicy::default()
            },
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(allowed.gate.result, gate::GateResult::Passed);
}

#[test]
fn overrides_apply_before_verdicts_and_the_floor_deadline_has_passed() {
    let t = TenantDoc {
        on_premises_synchronization: Some(sync(Some(true), Some(false), Some("2.4.27.0"))),
        ..TenantDoc::default()
    };
    let before = audit(
        &snap(t.clone()),
        &Options {
            as_of: Some("2026-09-01T00:00:00Z".into()),
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(
        find(&before, Code::ConnectVersionBelowFloor).severity,
        Severity::Warning
    );
    let after = audit(&snap(t.clone()), &opts()).unwrap();
    assert_eq!(
        find(&after, Code::ConnectVersionBelowFloor).severity,
        Severity::Error
    );
    let v1 = |r: &Report| {
        r.verdicts
            .iter()
            .find(|v| v.target == Target::ConnectV1)
            .unwrap()
            .verdict
    };
    assert_eq!(v1(&after), Verdict::Blocked);
    let warned = audit(
        &snap(t),
        &Options {
            overrides: Overrides {
                warn: vec![Code::ConnectVersionBelowFloor],
                ..Overrides::default()
            },
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(
        find(&warned, Code::ConnectVersionBelowFloor).severity,
        Severity::Warning
    );
    assert_ne!(v1(&warned), Verdict::Blocked);
}

#[test]
fn members_of_groups_no_target_writes_back_need_not_be_collected() {
    let mut dl = m365("00000000-0000-0000-0000-000000000001", None);
    dl.group_types.clear();
    dl.members = None;
    let mut synced = m365("00000000-0000-0000-0000-000000000002", None);
    synced.group_types.clear();
    synced.mail_enabled = Some(false);
    synced.security_enabled = Some(true);
    synced.on_premises_sync_enabled = Some(true);
    synced.members = None;
    let t = TenantDoc {
        groups: Some(vec![dl, synced]),
        ..TenantDoc::default()
    };
    let r = audit(&snap(t), &opts()).unwrap();
    assert!(!codes(&r).contains(&Code::MembersNotCollected));
    let mut m = m365("00000000-0000-0000-0000-000000000003", None);
    m.members = None;
    let r = audit(
        &snap(TenantDoc {
            groups: Some(vec![m]),
            ..TenantDoc::default()
        }),
        &opts(),
    )
    .unwrap();
    assert!(codes(&r).contains(&Code::MembersNotCollected));
}

#[test]
fn change_rights_are_read_on_a_written_back_group() {
    let mut s = snap(TenantDoc::default());
    s.manifest.target_ou = Some("OU=WB,DC=lab".into());
    let base = format!(
        "{SCHEMA}dn: OU=WB,DC=lab\nobjectClass: organizationalUnit\nallowedChildClassesEffective: group\n\n\
         dn: CN=Group_3a5c3221-c465-48c0-95b8-e9305786a271,OU=WB,DC=lab\nobjectClass: group\nadminDescription: Group_3a5c3221-c465-48c0-95b8-e9305786a271\n"
    );
    s.ad = Some(ad_with(&format!(
        "{base}allowedAttributesEffective: description\n"
    )));
    let r = audit(&s, &opts()).unwrap();
    let f = find(&r, Code::TargetOuRightsInsufficient);
    assert!(
        f.message.contains("cannot change the members"),
        "{}",
        f.message
    );
    s.ad = Some(ad_with(&format!(
        "{base}allowedAttributesEffective: member\nallowedAttributesEffective: description\n"
    )));
    assert!(!codes(&audit(&s, &opts()).unwrap()).contains(&Code::TargetOuRightsInsufficient));
    // Not captured: no claim either way.
    s.ad = Some(ad_with(&base));
    assert!(!codes(&audit(&s, &opts()).unwrap()).contains(&Code::TargetOuRightsInsufficient));
}

#[test]
fn rights_probe_results_become_findings() {
    let mut s = snap(TenantDoc::default());
    s.manifest.target_ou = Some("OU=WB,DC=lab".into());
    let ou =
        "dn: OU=WB,DC=lab\nobjectClass: organizationalUnit\nallowedChildClassesEffective: group\n";
    s.ad = Some(ad_with(&format!(
        "{SCHEMA}{ou}x-gwb-rights-probe: create=ok\nx-gwb-rights-probe: modify=ok\nx-gwb-rights-probe: delete=ok\n"
    )));
    assert!(!codes(&audit(&s, &opts()).unwrap()).contains(&Code::TargetOuRightsInsufficient));
    s.ad = Some(ad_with(&format!(
        "{SCHEMA}{ou}x-gwb-rights-probe: create=ok\nx-gwb-rights-probe: modify=ok\nx-gwb-rights-probe: delete=denied: LDAP 50 insufficient rights\n"
    )));
    let r = audit(&s, &opts()).unwrap();
    let f = find(&r, Code::TargetOuRightsInsufficient);
    assert!(f.message.contains("could not delete"), "{}", f.message);
    assert!(f.evidence.contains("LDAP 50"));
}
