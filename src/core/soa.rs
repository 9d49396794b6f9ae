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
                "rolled back to AD (isCloudManaged false, onPremisesSyncEnabled not yet true): AD's sync client takes over its original group {sid} on its next cycle; no target writes it"
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
