//! The AD half of a snapshot: objects and facts read from LDIF entries (a bundle's `ad.ldif`
//! or a live LDAP read), indexed by objectGUID, objectSid and DN for the decision core.
//!
//! Facts are derived from the entries themselves, so an `ad.ldif` written by hand and one
//! written by `gwb collect` mean the same thing (conventions in docs/bundle.md):
//! the domain head (`objectClass: domainDNS`), the schema (`CN=Schema,CN=Configuration,…`
//! container, `attributeSchema` entries), Exchange markers, the Recycle Bin feature object,
//! the target OU with its constructed `allowedChildClassesEffective`, and member objects.

pub mod dn;
pub mod ids;
pub mod ldif;

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

pub use dn::Dn;
use ldif::Entry;

/// Positions of objects by a key, hashed with a randomly seeded fast hasher (the keys come
/// from the input, so the seed keeps a crafted file from making them collide).
type Positions<K> = HashMap<K, usize, foldhash::fast::RandomState>;

/// Attribute on the target OU's entry in ad.ldif that records `--probe-rights` results
/// (`create=ok`, `modify=denied: …`, `delete=…`). Not an AD attribute: gwb's own.
pub const RIGHTS_PROBE_ATTR: &str = "x-gwb-rights-probe";

/// AD group scope from `groupType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupScope {
    Global,
    DomainLocal,
    Universal,
    BuiltinLocal,
    Unknown,
}

/// What an AD object is, as far as writeback cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum AdKind {
    User,
    Computer,
    Group { scope: GroupScope, security: bool },
    Device,
    OrganizationalUnit,
    Container,
    Other,
}

#[derive(Debug, Clone)]
pub struct AdObject {
    pub dn: Dn,
    /// The DN as AD wrote it; shared with every forecast that names this object.
    pub dn_text: std::sync::Arc<str>,
    pub guid: Option<Uuid>,
    pub sid: Option<String>,
    pub kind: AdKind,
    pub admin_description: Option<String>,
    pub external_directory_object_id: Option<String>,
    pub device_id: Option<Uuid>,
    pub sam_account_name: Option<String>,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub mail: Option<String>,
    pub mail_nickname: Option<String>,
    pub proxy_addresses: Vec<String>,
    /// `groupType` as written (signed 32-bit), for groups.
    pub group_type: Option<i32>,
    /// `uSNChanged`, when captured (apply refuses a plan whose objects changed since).
    pub usn_changed: Option<u64>,
    pub members: Vec<String>,
    /// `allowedAttributesEffective` when it was captured (on one written-back group per OU).
    pub allowed_attributes: Option<Vec<String>>,
}

impl AdObject {
    /// The Entra objectId this object was written back from (`adminDescription` or
    /// `msDS-ExternalDirectoryObjectId` = `Group_<objectId>`).
    pub fn cloud_anchor(&self) -> Option<Uuid> {
        self.stamp().map(|s| s.object_id)
    }

    /// The ownership stamp (the one test, in `core::ownership`).
    pub fn stamp(&self) -> Option<crate::core::ownership::Stamp> {
        crate::core::ownership::stamp(
            self.admin_description.as_deref(),
            self.external_directory_object_id.as_deref(),
        )
    }
}

/// Exchange preparation markers (active-directory-and-samba-facts.md §1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeFacts {
    pub schema_range_upper: Option<i64>,
    pub organization_object_version: Option<i64>,
    pub domain_object_version: Option<i64>,
    pub organization_dn: Option<String>,
}

/// Everything the audit and the core read from AD.
#[derive(Debug, Clone, Default)]
pub struct AdSnapshot {
    pub domain: Option<Dn>,
    pub domain_functional_level: Option<i64>,
    pub forest_functional_level: Option<i64>,
    /// `Some` when the schema container was captured; then absence of an attribute is meaningful.
    pub schema_captured: bool,
    pub schema_attributes: Vec<String>,
    pub exchange: ExchangeFacts,
    /// `None` when the Recycle Bin feature object was not captured.
    pub recycle_bin_enabled: Option<bool>,
    pub objects: Vec<AdObject>,
    /// Constructed attributes of OUs, keyed by DN key: `allowedChildClassesEffective`.
    pub ou_child_classes: HashMap<String, Vec<String>>,
    /// `--probe-rights` results per OU, keyed by DN key.
    pub ou_probe: HashMap<String, Vec<String>>,
    by_guid: Positions<Uuid>,
    by_sid: Positions<String>,
    by_dn: DnIndex,
    by_device_id: Positions<Uuid>,
}

/// The objects by [`Dn::key`], holding a 64-bit hash of each key rather than a copy of it
/// (about 100 bytes less per object: 12 MB for 120,000). A hit is checked against the
/// object's own key, and a key whose hash is already taken by another key is kept in full,
/// so the answers are those of a map keyed by the key text.
#[derive(Debug, Clone, Default)]
struct DnIndex<S = std::collections::hash_map::RandomState> {
    hasher: S,
    by_hash: HashMap<u64, usize, std::hash::BuildHasherDefault<HashIsKey>>,
    /// Keys whose hash another key had first.
    collided: HashMap<String, usize>,
}

/// The hasher of keys that are already hashes.
#[derive(Default)]
struct HashIsKey(u64);

impl std::hash::Hasher for HashIsKey {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl<S: std::hash::BuildHasher> DnIndex<S> {
    fn reserve(&mut self, n: usize) {
        self.by_hash.reserve(n);
    }

    /// Index `idx` under `key` (a later object with the same key takes its place);
    /// `key_of(i)` is the key of the object at `i`.
    fn insert(&mut self, key: &str, idx: usize, key_of: impl Fn(usize) -> String) {
        use std::collections::hash_map::Entry;
        match self.by_hash.entry(self.hasher.hash_one(key)) {
            Entry::Vacant(v) => {
                v.insert(idx);
            }
            Entry::Occupied(mut o) => {
                if key_of(*o.get()) == key {
                    o.insert(idx);
                } else {
                    self.collided.insert(key.to_string(), idx);
                }
            }
        }
    }

    fn get(&self, key: &str, key_of: impl Fn(usize) -> String) -> Option<usize> {
        match self.by_hash.get(&self.hasher.hash_one(key)) {
            Some(&i) if key_of(i) == key => Some(i),
            _ => self.collided.get(key).copied(),
        }
    }
}

/// Rights of the bind account on the target OU, from constructed attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OuRights {
    pub can_create_groups: bool,
    pub child_classes: Vec<String>,
}

fn int(e: &Entry, name: &str) -> Option<i64> {
    e.text(name).and_then(|s| s.trim().parse().ok())
}

impl AdSnapshot {
    /// Build from LDIF entries. Entries with unparseable DNs are an error naming the line.
    pub fn from_entries(entries: &[Entry]) -> Result<AdSnapshot, ldif::LdifError> {
        let mut snap = AdSnapshot::default();
        snap.reserve(entries.len());
        snap.add_entries(entries)?;
        Ok(snap)
    }

    /// Room for `n` more objects: sized once, as growing by doubling holds the old and the
    /// new table at the peak.
    pub fn reserve(&mut self, n: usize) {
        self.objects.reserve_exact(n);
        self.by_dn.reserve(n);
    }

    /// Add entries after those already read: the same snapshot as [`AdSnapshot::from_entries`]
    /// of all of them in order.
    pub fn add_entries(&mut self, entries: &[Entry]) -> Result<(), ldif::LdifError> {
        entries.iter().try_for_each(|e| self.add_entry(e))
    }

    /// [`AdSnapshot::from_entries`] of a compact entry list.
    pub fn from_entry_list(entries: &ldif::Entries) -> Result<AdSnapshot, ldif::LdifError> {
        let mut snap = AdSnapshot::default();
        snap.reserve(entries.len());
        snap.add_entry_list(entries)?;
        Ok(snap)
    }

    /// [`AdSnapshot::add_entries`] of a compact entry list (each entry decoded in turn).
    pub fn add_entry_list(&mut self, entries: &ldif::Entries) -> Result<(), ldif::LdifError> {
        entries.iter().try_for_each(|e| self.add_entry(&e))
    }

    /// Add one entry (a reader can fold entries in as it parses them, never holding them all).
    pub fn add_entry(&mut self, e: &Entry) -> Result<(), ldif::LdifError> {
        let snap = self;
        {
            // The object classes, looked up once (each is tested below).
            let classes: Vec<&[u8]> = e.values("objectClass").collect();
            let is = |class: &str| {
                classes
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(class.as_bytes()))
            };
            let dn = Dn::parse(&e.dn).map_err(|d| ldif::LdifError {
                line: e.line,
                message: format!("dn {:?}: {d}", e.dn),
            })?;
            let lower_dn = dn.key();
            if is("domainDNS") {
                snap.domain = Some(dn.clone());
                snap.domain_functional_level = int(e, "msDS-Behavior-Version");
            }
            if is("crossRefContainer") {
                snap.forest_functional_level = int(e, "msDS-Behavior-Version");
            }
            if is("dMD") {
                snap.schema_captured = true;
            }
            if is("attributeSchema") {
                if let Some(n) = e.text("lDAPDisplayName") {
                    snap.schema_attributes.push(n.to_string());
                }
                if dn
                    .rdn_value()
                    .is_some_and(|v| v.eq_ignore_ascii_case("ms-Exch-Schema-Version-Pt"))
                {
                    snap.exchange.schema_range_upper = int(e, "rangeUpper");
                }
            }
            if is("msExchOrganizationContainer") {
                snap.exchange.organization_object_version = int(e, "objectVersion");
                snap.exchange.organization_dn = Some(e.dn.clone());
            }
            if is("msExchSystemObjectsContainer") {
                snap.exchange.domain_object_version = int(e, "objectVersion");
            }
            if lower_dn.starts_with("cn=recycle bin feature,cn=optional features,") {
                snap.recycle_bin_enabled = Some(e.has("msDS-EnabledFeatureBL"));
            }
            let probe = e.texts(RIGHTS_PROBE_ATTR);
            if !probe.is_empty() {
                snap.ou_probe.insert(
                    lower_dn.clone(),
                    probe.iter().map(|s| s.to_string()).collect(),
                );
            }
            let child_classes = e.texts("allowedChildClassesEffective");
            if !child_classes.is_empty() || e.has("allowedChildClassesEffective") {
                snap.ou_child_classes.insert(
                    lower_dn.clone(),
                    child_classes.iter().map(|s| s.to_string()).collect(),
                );
            }
            let kind = if is("computer") {
                AdKind::Computer
            } else if is("user") {
                AdKind::User
            } else if is("group") {
                let gt = int(e, "groupType").unwrap_or(-2147483646) as i32 as u32;
                let scope = if gt & 0x8 != 0 {
                    GroupScope::Universal
                } else if gt & 0x4 != 0 {
                    GroupScope::DomainLocal
                } else if gt & 0x2 != 0 {
                    GroupScope::Global
                } else if gt & 0x1 != 0 {
                    GroupScope::BuiltinLocal
                } else {
                    GroupScope::Unknown
                };
                AdKind::Group {
                    scope,
                    security: gt & 0x8000_0000 != 0,
                }
            } else if is("msDS-Device") {
                AdKind::Device
            } else if is("organizationalUnit") {
                AdKind::OrganizationalUnit
            } else if is("container") {
                AdKind::Container
            } else {
                AdKind::Other
            };
            let obj = AdObject {
                dn_text: e.dn.as_str().into(),
                dn,
                guid: e.first("objectGUID").and_then(ids::guid_from_bytes),
                sid: e.first("objectSid").and_then(ids::sid_from_bytes),
                kind,
                admin_description: e.text("adminDescription").map(str::to_string),
                external_directory_object_id: e
                    .text("msDS-ExternalDirectoryObjectId")
                    .map(str::to_string),
                device_id: e.first("msDS-DeviceID").and_then(|b| {
                    ids::guid_from_bytes(b)
                        .or_else(|| std::str::from_utf8(b).ok().and_then(ids::parse_guid))
                }),
                sam_account_name: e.text("sAMAccountName").map(str::to_string),
                display_name: e.text("displayName").map(str::to_string),
                description: e.text("description").map(str::to_string),
                mail: e.text("mail").map(str::to_string),
                mail_nickname: e.text("mailNickname").map(str::to_string),
                proxy_addresses: e
                    .texts("proxyAddresses")
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                group_type: int(e, "groupType").map(|v| v as i32),
                usn_changed: e.text("uSNChanged").and_then(|s| s.trim().parse().ok()),
                members: e.texts("member").into_iter().map(str::to_string).collect(),
                allowed_attributes: e.has("allowedAttributesEffective").then(|| {
                    e.texts("allowedAttributesEffective")
                        .into_iter()
                        .filter(|a| !a.is_empty())
                        .map(str::to_string)
                        .collect()
                }),
            };
            snap.insert(obj);
        }
        Ok(())
    }

    fn insert(&mut self, obj: AdObject) {
        let idx = self.objects.len();
        if let Some(g) = obj.guid {
            self.by_guid.insert(g, idx);
        }
        if let Some(s) = &obj.sid {
            self.by_sid.insert(s.clone(), idx);
        }
        if let Some(d) = obj.device_id {
            self.by_device_id.insert(d, idx);
        }
        let key = obj.dn.key();
        self.objects.push(obj);
        let objects = &self.objects;
        self.by_dn.insert(&key, idx, |i| {
            objects.get(i).map(|o| o.dn.key()).unwrap_or_default()
        });
    }

    pub fn by_guid(&self, g: &Uuid) -> Option<&AdObject> {
        self.by_guid.get(g).map(|&i| &self.objects[i])
    }
    pub fn by_sid(&self, sid: &str) -> Option<&AdObject> {
        // Graph returns canonical SIDs: look them up without allocating first.
        if let Some(&i) = self.by_sid.get(sid) {
            return Some(&self.objects[i]);
        }
        let norm = ids::normalize_sid(sid)?;
        self.by_sid
            .get(&norm.to_ascii_uppercase())
            .map(|&i| &self.objects[i])
    }
    pub fn by_dn(&self, dn: &Dn) -> Option<&AdObject> {
        self.by_dn_key(&dn.key())
    }
    /// [`AdSnapshot::by_dn`] for a key the caller already has ([`Dn::key`]).
    pub fn by_dn_key(&self, key: &str) -> Option<&AdObject> {
        let objects = &self.objects;
        self.by_dn
            .get(key, |i| {
                objects.get(i).map(|o| o.dn.key()).unwrap_or_default()
            })
            .map(|i| &self.objects[i])
    }
    pub fn by_device_id(&self, g: &Uuid) -> Option<&AdObject> {
        self.by_device_id.get(g).map(|&i| &self.objects[i])
    }

    /// Direct children of a container.
    pub fn children<'a>(&'a self, parent: &'a Dn) -> impl Iterator<Item = &'a AdObject> + 'a {
        self.objects
            .iter()
            .filter(move |o| o.dn.is_child_of(parent))
    }

    pub fn has_schema_attribute(&self, name: &str) -> Option<bool> {
        if !self.schema_captured {
            return None;
        }
        Some(
            self.schema_attributes
                .iter()
                .any(|a| a.eq_ignore_ascii_case(name)),
        )
    }

    /// Rights on an OU, if the constructed attributes were captured.
    pub fn ou_rights(&self, ou: &Dn) -> Option<OuRights> {
        let classes = self.ou_child_classes.get(&ou.key())?;
        Some(OuRights {
            can_create_groups: classes.iter().any(|c| c.eq_ignore_ascii_case("group")),
            child_classes: classes.clone(),
        })
    }
}

#[cfg(test)]
mod dn_index_tests {
    use super::*;

    /// Every key hashes alike: each key after the first goes the collision way.
    #[derive(Default)]
    struct Same;

    impl std::hash::Hasher for Same {
        fn finish(&self) -> u64 {
            7
        }

        fn write(&mut self, _: &[u8]) {}
    }

    fn answers<S: std::hash::BuildHasher>(mut ix: DnIndex<S>) {
        // Keys by position, with repeats: a later object with the same key wins.
        let keys = ["cn=a", "cn=b", "cn=a", "cn=c", "cn=b", "", "cn=c"];
        let key_of = |i: usize| keys[i].to_string();
        let mut want: HashMap<&str, usize> = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            ix.insert(k, i, key_of);
            want.insert(k, i);
            for probe in ["cn=a", "cn=b", "cn=c", "", "cn=d"] {
                assert_eq!(
                    ix.get(probe, key_of),
                    want.get(probe).copied(),
                    "{probe} after {i}"
                );
            }
        }
    }

    #[test]
    fn the_dn_index_answers_as_a_map_of_keys() {
        answers(DnIndex::<std::collections::hash_map::RandomState>::default());
        answers(DnIndex {
            hasher: std::hash::BuildHasherDefault::<Same>::default(),
            by_hash: HashMap::default(),
            collided: HashMap::new(),
        });
    }
}
