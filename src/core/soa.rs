//! Groups whose source of authority moved from AD to the cloud (SOA conversion): what each
//! target does with a converted, rolled-back or not-yet-known group, and how a converted group
//! finds its original AD object (by `objectSid` = `onPremisesSecurityIdentifier`, anywhere in
//! the domain). Pure; the forecast in `core` calls it.

use std::collections::HashMap;

use crate::ad::{AdKind, AdObject, AdSnapshot, Dn, GroupScope, ids};
use crate::bundle::tenant::{Group, GroupKind, SyncState};

use super::{GroupReason as R, OnPremGroupType, Outcome, Target};

/// The only permission Microsoft documents for reading `onPremisesSyncBehavior`.
pub const PERMISSION: &str = "Group-OnPremisesSyncBehavior.ReadWrite.All";

/// The tenant.json section name a collector marks incomplete when it could not read the state.
pub const SECTION: &str = "onPremisesSyncBehavior";

/// Connect Sync honours the conversion from this version on.
pub const CONNECT_FLOOR: &str = "2.5.76.0";

/// First pass for a group that is not plainly synced or cloud-native.
pub(super) fn classify(
    target: Target,
    g: &Group,
    state: SyncState,
) -> (Outcome, R, Option<OnPremGroupType>, String) {
    let sid = g.on_premises_sid().unwrap_or("?");
    match state {
        SyncState::RollbackPending => (
            Outcome::Skip,
            R::SoaRollbackPending,
            None,
            format!(
                "rolled back to AD (isCloudManaged false, onPremisesSyncEnabled not yet true): AD's sync client takes its original AD group (objectSid {sid}) back on its next cycle; no target writes it"
            ),
        ),
        SyncState::Unknown => (
            Outcome::Skip,
            R::SoaStateUnknown,
            None,
            format!(
                "carries on-premises SID {sid} and is not synced, but onPremisesSyncBehavior was not collected (needs {PERMISSION}): it may have been converted to the cloud or be rolling back, so it is not written"
            ),
        ),
        _ => match (target, g.kind()) {
            (Target::ConnectV1 | Target::ConnectV2, _) => (
                Outcome::Skip,
                R::SoaConvertedNotWritten,
                None,
                "its source of authority was converted to the cloud; Entra Connect does not write converted groups back (Cloud Sync provisions them to their original AD group)".into(),
            ),
            (_, GroupKind::MailEnabledSecurity | GroupKind::Distribution) => (
                Outcome::Skip,
                R::SoaExchangeManaged,
                None,
                "converted mail-enabled group: managed in Exchange Online and never provisioned back to AD".into(),
            ),
            (_, GroupKind::Microsoft365) => (
                Outcome::Skip,
                R::NotSupportedByTarget,
                None,
                "Microsoft 365 groups are not provisioned to an original AD group".into(),
            ),
            (Target::Gwb, _)
                if g.writeback_configuration.as_ref().and_then(|w| w.is_enabled)
                    != Some(true) =>
            {
                (
                    Outcome::Skip,
                    R::SecurityNotEnabled,
                    None,
                    format!(
                        "converted to the cloud; gwb writes it into its original AD group {sid} only when writebackConfiguration.isEnabled is true"
                    ),
                )
            }
            _ => (
                Outcome::Writeback,
                R::SoaConverted,
                Some(OnPremGroupType::UniversalSecurity),
                "converted to the cloud: the cloud is now its source of authority".into(),
            ),
        },
    }
}

/// AD groups by canonical SID (upper case), with every object that carries the SID: more than
/// one is a finding, never a guess.
pub struct SidIndex<'a> {
    by_sid: HashMap<String, Vec<&'a AdObject>>,
}

impl<'a> SidIndex<'a> {
    /// Index the objects whose SID is one of `sids` (the converted groups').
    pub fn of<'s>(ad: &'a AdSnapshot, sids: impl IntoIterator<Item = &'s str>) -> SidIndex<'a> {
        let mut by_sid: HashMap<String, Vec<&'a AdObject>> = sids
            .into_iter()
            .filter_map(ids::normalize_sid)
            .map(|s| (s.to_ascii_uppercase(), Vec::new()))
            .collect();
        if !by_sid.is_empty() {
            for o in &ad.objects {
                let Some(s) = o.sid.as_deref().and_then(ids::normalize_sid) else {
                    continue;
                };
                if let Some(v) = by_sid.get_mut(&s.to_ascii_uppercase()) {
                    v.push(o);
                }
            }
        }
        SidIndex { by_sid }
    }

    /// Every AD object that carries `sid`.
    pub fn get(&self, sid: &str) -> &[&'a AdObject] {
        ids::normalize_sid(sid)
            .and_then(|s| self.by_sid.get(&s.to_ascii_uppercase()))
            .map_or(&[], Vec::as_slice)
    }
}

/// What the original AD object of a converted group is.
pub enum Original<'a> {
    /// Exactly one AD group with the SID.
    Found(&'a AdObject),
    /// No AD object with the SID, or one that is not a group.
    Missing(String),
    /// Several AD objects with the SID.
    Duplicate(String),
}

/// The original AD object of a converted group.
pub fn original<'a>(index: &SidIndex<'a>, sid: &str) -> Original<'a> {
    match index.get(sid) {
        [] => Original::Missing(format!(
            "no AD object has objectSid {sid} (its original AD group was deleted, or is in another domain)"
        )),
        [o] if matches!(o.kind, AdKind::Group { .. }) => Original::Found(o),
        [o] => Original::Missing(format!(
            "objectSid {sid} names {}, which is not a group",
            o.dn_text
        )),
        many => Original::Duplicate(format!(
            "{} AD objects carry objectSid {sid} ({})",
            many.len(),
            many.iter()
                .map(|o| o.dn_text.as_ref())
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

/// Whether an AD group is Universal.
pub fn is_universal(o: &AdObject) -> bool {
    matches!(
        o.kind,
        AdKind::Group {
            scope: GroupScope::Universal,
            ..
        }
    )
}

/// Cloud Sync's default container for groups: `CN=Users,<domain>`.
pub fn cloud_sync_default_container(ad: &AdSnapshot) -> Option<Dn> {
    let d = ad.domain.as_ref()?;
    Dn::parse(&format!("CN=Users,{d}")).ok()
}

/// The scope's name as AD administrators say it.
pub fn scope_name(o: &AdObject) -> &'static str {
    match o.kind {
        AdKind::Group {
            scope: GroupScope::Global,
            ..
        } => "Global",
        AdKind::Group {
            scope: GroupScope::DomainLocal,
            ..
        } => "Domain Local",
        AdKind::Group {
            scope: GroupScope::Universal,
            ..
        } => "Universal",
        _ => "of another scope",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ad::ldif::Entry;
    use crate::bundle::tenant::{OnPremisesSyncBehavior, TenantDoc, WritebackConfiguration};
    use crate::core::{DeletionBehavior, Flags, Inputs, Policy, forecast};

    const OU: &str = "OU=WB,DC=lab,DC=test";
    const SID: &str = "S-1-5-21-9-9-9-4001";
    const ID: &str = "6e000000-0000-4000-8000-000000000001";

    fn ad(in_ou: bool) -> AdSnapshot {
        let mut d = Entry::new("DC=lab,DC=test");
        d.push("objectClass", "domainDNS");
        let mut ou = Entry::new(OU);
        ou.push("objectClass", "organizationalUnit");
        let parent = if in_ou {
            OU
        } else {
            "OU=Groups,DC=lab,DC=test"
        };
        let mut g = Entry::new(format!("CN=Original,{parent}"));
        g.push("objectClass", "group");
        g.push("groupType", "-2147483646");
        g.push("objectSid", ids::sid_to_bytes(SID).unwrap());
        g.push("objectGUID", uuid::Uuid::new_v4().as_bytes().to_vec());
        // Adopted by an earlier run: gwb's stamp.
        g.push("adminDescription", format!("Group_{ID}"));
        AdSnapshot::from_entries(&[d, ou, g]).unwrap()
    }

    fn tenant(enabled: Option<bool>) -> TenantDoc {
        TenantDoc {
            groups: Some(vec![Group {
                id: ID.into(),
                display_name: Some("Finance".into()),
                security_enabled: Some(true),
                mail_enabled: Some(false),
                on_premises_security_identifier: Some(SID.into()),
                on_premises_sync_behavior: Some(OnPremisesSyncBehavior {
                    is_cloud_managed: Some(true),
                }),
                writeback_configuration: Some(WritebackConfiguration {
                    is_enabled: enabled,
                    on_premises_group_type: None,
                }),
                members: Some(vec![]),
                ..Group::default()
            }]),
            deleted_groups: Some(vec![]),
            ..TenantDoc::default()
        }
    }

    #[test]
    fn an_adopted_original_is_never_deleted_nor_moved_and_keeps_its_scope_for_gwb() {
        let ou = Dn::parse(OU).unwrap();
        for in_ou in [true, false] {
            let ad = ad(in_ou);
            for enabled in [Some(true), Some(false), None] {
                let t = tenant(enabled);
                let inputs = Inputs {
                    tenant: &t,
                    ad: Some(&ad),
                    target_ou: Some(&ou),
                    flags: Flags::default(),
                    exchange_prepared: None,
                    other_writer_containers: &[],
                };
                let policy = Policy {
                    deletion: DeletionBehavior::Modified,
                    ..Policy::default()
                };
                let f = forecast(Target::Gwb, &inputs, &policy);
                assert_eq!(f.groups.len(), 1);
                let g = &f.groups[0];
                assert_ne!(g.outcome, Outcome::Delete, "in OU {in_ou}, {enabled:?}");
                if enabled == Some(true) {
                    assert_eq!((g.outcome, g.reason), (Outcome::Writeback, R::SoaConverted));
                    // In place, wherever it is: never moved into the target OU.
                    assert_eq!(g.dn, g.existing_dn);
                    let d = crate::core::desired::desired_with(
                        &inputs,
                        &policy,
                        &crate::core::overrides::Overrides::default(),
                    );
                    // The Global scope is kept, not rewritten to Universal.
                    assert_eq!(d.groups[ID].group_type, -2147483646);
                } else {
                    assert_eq!(g.outcome, Outcome::Skip, "in OU {in_ou}, {enabled:?}");
                }
            }
        }
    }

    #[test]
    fn an_original_another_writer_holds_is_not_taken_over() {
        let ou = Dn::parse(OU).unwrap();
        let other = "6e000000-0000-4000-8000-0000000000ff";
        for (attr, value, why) in [
            (
                "msDS-ExternalDirectoryObjectId",
                format!("Group_{ID}"),
                "Cloud Sync",
            ),
            (
                "adminDescription",
                format!("Group_{other}"),
                "another cloud group",
            ),
        ] {
            let mut d = Entry::new("DC=lab,DC=test");
            d.push("objectClass", "domainDNS");
            let mut g = Entry::new("CN=Original,OU=Groups,DC=lab,DC=test");
            g.push("objectClass", "group");
            g.push("groupType", "-2147483640");
            g.push("objectSid", ids::sid_to_bytes(SID).unwrap());
            g.push("objectGUID", uuid::Uuid::new_v4().as_bytes().to_vec());
            g.push(attr, value.as_str());
            let ad = AdSnapshot::from_entries(&[d, g]).unwrap();
            let t = tenant(Some(true));
            let inputs = Inputs {
                tenant: &t,
                ad: Some(&ad),
                target_ou: Some(&ou),
                flags: Flags::default(),
                exchange_prepared: None,
                other_writer_containers: &[],
            };
            let f = forecast(Target::Gwb, &inputs, &Policy::default());
            let g = f.group(ID).unwrap();
            assert_eq!(
                (g.outcome, g.reason),
                (Outcome::Skip, R::OtherWriterContainer),
                "{why}"
            );
            assert!(g.detail.contains(why), "{}", g.detail);
            assert!(g.dn.is_none() && g.existing_dn.is_none());
        }
    }
}
