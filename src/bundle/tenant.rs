//! `tenant.json` (format `gwb-tenant/1`): Graph objects kept in Graph's own JSON shape, read
//! into typed views. Unknown properties are ignored so Graph Explorer and
//! `Invoke-MgGraphRequest` output can be pasted in verbatim; wrong types are errors that
//! name the JSON path.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};

pub const TENANT_FORMAT: &str = "gwb-tenant/1";

/// The whole tenant document. Every section is optional: `None` means "not collected",
/// which the audit reports as unknown evidence rather than assuming anything.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantDoc {
    pub format: Option<String>,
    pub tenant_id: Option<String>,
    pub collected_at: Option<String>,
    pub on_premises_synchronization: Option<OnPremSync>,
    pub settings: Option<Vec<DirectorySetting>>,
    pub subscribed_skus: Option<Vec<SubscribedSku>>,
    #[serde(default, deserialize_with = "groups_interned")]
    pub groups: Option<Vec<Group>>,
    #[serde(default, deserialize_with = "groups_interned")]
    pub deleted_groups: Option<Vec<Group>>,
    /// Sections a collector could not finish (e.g. `"groups"` after a failed page).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete_sections: Vec<String>,
    /// `@odata.deltaLink` of the groups delta query, for incremental collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_delta_link: Option<String>,
}

/// `GET /beta/directory/onPremisesSynchronization/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnPremSync {
    pub id: Option<String>,
    pub features: Option<BTreeMap<String, Option<bool>>>,
    pub configuration: Option<SyncConfiguration>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncConfiguration {
    pub synchronization_client_version: Option<String>,
    pub writeback_configuration: Option<OnPremWritebackConfiguration>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnPremWritebackConfiguration {
    pub unified_group_container: Option<String>,
    pub user_container: Option<String>,
}

impl OnPremSync {
    pub fn feature(&self, name: &str) -> Option<bool> {
        self.features.as_ref()?.get(name).copied().flatten()
    }
}

/// A `directorySetting` (`GET /beta/settings`). Values are strings in any case.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySetting {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub template_id: Option<String>,
    #[serde(default)]
    pub values: Vec<SettingValue>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingValue {
    pub name: String,
    pub value: Option<String>,
}

/// A `subscribedSku` (`GET /v1.0/subscribedSkus`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    pub sku_id: Option<String>,
    pub sku_part_number: Option<String>,
    pub capability_status: Option<String>,
    #[serde(default)]
    pub service_plans: Vec<ServicePlan>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlan {
    pub service_plan_id: Option<String>,
    pub service_plan_name: Option<String>,
    pub provisioning_status: Option<String>,
}

/// A group in Graph beta shape plus gwb's added `members` array.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub group_types: Vec<String>,
    pub mail_enabled: Option<bool>,
    pub security_enabled: Option<bool>,
    pub mail: Option<String>,
    pub mail_nickname: Option<String>,
    #[serde(default)]
    pub proxy_addresses: Vec<String>,
    pub membership_rule: Option<String>,
    pub on_premises_sync_enabled: Option<bool>,
    pub on_premises_security_identifier: Option<String>,
    pub is_assignable_to_role: Option<bool>,
    pub created_date_time: Option<String>,
    pub deleted_date_time: Option<String>,
    pub writeback_configuration: Option<WritebackConfiguration>,
    /// Direct members; `None` when members were not collected for this group. A member that
    /// appears in many groups with the same properties is one shared value (see
    /// [`groups_interned`]): a million memberships of fifty thousand users hold fifty thousand
    /// members, not a million.
    #[serde(default, deserialize_with = "members_interned")]
    pub members: Option<Vec<Arc<Member>>>,
}

/// `groupWritebackConfiguration`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WritebackConfiguration {
    pub is_enabled: Option<bool>,
    pub on_premises_group_type: Option<String>,
}

/// A direct member (`directoryObject` with its `@odata.type`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    /// Shared, so forecasts of every target can point at it without copying.
    pub id: std::sync::Arc<str>,
    pub display_name: Option<String>,
    pub on_premises_sync_enabled: Option<bool>,
    pub on_premises_security_identifier: Option<String>,
    pub on_premises_object_identifier: Option<String>,
    pub on_premises_immutable_id: Option<String>,
    pub on_premises_distinguished_name: Option<String>,
    pub device_id: Option<String>,
    pub trust_type: Option<String>,
    #[serde(default)]
    pub group_types: Vec<String>,
    pub security_enabled: Option<bool>,
    pub mail_enabled: Option<bool>,
}

thread_local! {
    /// Distinct members seen while a groups section is being read (see [`groups_interned`]).
    static INTERNER: RefCell<Option<HashSet<Arc<Member>>>> = const { RefCell::new(None) };
}

/// Share one value per distinct member. Two members are the same value only when every
/// property is equal, so nothing a reader could see is lost.
fn intern(m: Member) -> Arc<Member> {
    INTERNER.with(|cell| match cell.borrow_mut().as_mut() {
        Some(set) => {
            if let Some(found) = set.get(&m) {
                return Arc::clone(found);
            }
            let shared = Arc::new(m);
            set.insert(Arc::clone(&shared));
            shared
        }
        None => Arc::new(m),
    })
}

/// A groups section, read with one member interner for all of its groups.
fn groups_interned<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Group>>, D::Error> {
    struct Scope(bool);
    impl Drop for Scope {
        fn drop(&mut self) {
            if self.0 {
                INTERNER.with(|cell| cell.borrow_mut().take());
            }
        }
    }
    // The outermost section owns the interner (sections are not nested, but be safe).
    let owner = INTERNER.with(|cell| {
        let mut c = cell.borrow_mut();
        if c.is_none() {
            *c = Some(HashSet::new());
            true
        } else {
            false
        }
    });
    let _scope = Scope(owner);
    Option::<Vec<Group>>::deserialize(d)
}

/// One group's `members`, each member shared with its equals in other groups.
fn members_interned<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Arc<Member>>>, D::Error> {
    struct Seq;
    impl<'de> serde::de::Visitor<'de> for Seq {
        type Value = Option<Vec<Arc<Member>>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of members or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_seq(self)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(m) = seq.next_element::<Member>()? {
                out.push(intern(m));
            }
            out.shrink_to_fit();
            Ok(Some(out))
        }
    }
    d.deserialize_option(Seq)
}

/// What a member is, from `@odata.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberType {
    User,
    Group,
    Device,
    Other,
}

impl Member {
    pub fn member_type(&self) -> MemberType {
        let t = self
            .odata_type
            .as_deref()
            .unwrap_or("")
            .trim_start_matches('#');
        if t.eq_ignore_ascii_case("microsoft.graph.user") {
            MemberType::User
        } else if t.eq_ignore_ascii_case("microsoft.graph.group") {
            MemberType::Group
        } else if t.eq_ignore_ascii_case("microsoft.graph.device") {
            MemberType::Device
        } else {
            MemberType::Other
        }
    }
}

/// The kind of a cloud group, per Graph's classification table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupKind {
    Microsoft365,
    Security,
    MailEnabledSecurity,
    Distribution,
}

impl Group {
    pub fn is_unified(&self) -> bool {
        self.group_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case("Unified"))
    }
    pub fn is_dynamic(&self) -> bool {
        self.group_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case("DynamicMembership"))
    }
    pub fn kind(&self) -> GroupKind {
        if self.is_unified() {
            GroupKind::Microsoft365
        } else if self.security_enabled == Some(true) {
            if self.mail_enabled == Some(true) {
                GroupKind::MailEnabledSecurity
            } else {
                GroupKind::Security
            }
        } else {
            GroupKind::Distribution
        }
    }
    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or("")
    }
}
