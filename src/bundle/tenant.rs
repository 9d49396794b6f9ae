//! `tenant.json` (format `gwb-tenant/1`): Graph objects kept in Graph's own JSON shape, read
//! into typed views. Unknown properties are ignored so Graph Explorer and
//! `Invoke-MgGraphRequest` output can be pasted in verbatim; wrong types are errors that
//! name the JSON path.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};

pub const TENANT_FORMAT: &str = "gwb-tenant/1";

/// The whole tenant document. Every section is optional: `None` means "not collected",
/// which the audit reports as unknown evidence rather than assuming anything.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnPremSync {
    pub id: Option<String>,
    pub features: Option<BTreeMap<String, Option<bool>>>,
    pub configuration: Option<SyncConfiguration>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncConfiguration {
    pub synchronization_client_version: Option<String>,
    pub writeback_configuration: Option<OnPremWritebackConfiguration>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySetting {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub template_id: Option<String>,
    #[serde(default)]
    pub values: Vec<SettingValue>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingValue {
    pub name: String,
    pub value: Option<String>,
}

/// A `subscribedSku` (`GET /v1.0/subscribedSkus`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    pub sku_id: Option<String>,
    pub sku_part_number: Option<String>,
    pub capability_status: Option<String>,
    #[serde(default)]
    pub service_plans: Vec<ServicePlan>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlan {
    pub service_plan_id: Option<String>,
    pub service_plan_name: Option<String>,
    pub provisioning_status: Option<String>,
}

/// A group in Graph beta shape plus gwb's added `members` array.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// On-premises identity a group keeps after its source of authority moved to the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_premises_sam_account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_premises_domain_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_premises_distinguished_name: Option<String>,
    /// `GET /groups/{id}/onPremisesSyncBehavior` as Graph shapes it; `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_premises_sync_behavior: Option<OnPremisesSyncBehavior>,
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
    /// Written properties whose cloud value is unknown, by Graph name (a PowerShell export that
    /// did not carry them): unknown is never empty, so gwb leaves those AD attributes as they
    /// are. Graph never sends it; `None` of a property listed here means "not known".
    #[serde(
        default,
        rename = "@gwb.unknownProperties",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unknown_properties: Vec<String>,
}

/// `onPremisesSyncBehavior` of a group (source of authority).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnPremisesSyncBehavior {
    /// `true`: the group's source of authority is the cloud (AD updates are blocked).
    pub is_cloud_managed: Option<bool>,
}

/// Where a group's source of authority is (the four states of Microsoft's attribute table,
/// plus `Unknown` when the group could have been converted but its state was not collected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncState {
    /// `onPremisesSyncEnabled` true: AD is the source of authority.
    SyncedFromAd,
    /// `isCloudManaged` true: converted from AD; the cloud is the source of authority and the
    /// original AD group (same SID) still exists.
    Converted,
    /// `isCloudManaged` false on a group with an on-premises SID that is not synced: rolled back,
    /// AD's sync client takes it over on its next cycle.
    RollbackPending,
    /// Created in the cloud (no on-premises SID, not synced).
    CloudNative,
    /// It carries an on-premises SID and is not synced, but `onPremisesSyncBehavior` was not
    /// collected: converted, rolled back or neither cannot be told apart.
    Unknown,
}

/// `groupWritebackConfiguration`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WritebackConfiguration {
    pub is_enabled: Option<bool>,
    pub on_premises_group_type: Option<String>,
}

/// A direct member (`directoryObject` with its `@odata.type`).
#[derive(
    Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, Hash, schemars::JsonSchema,
)]
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
    static INTERNER: RefCell<Option<Interner>> = const { RefCell::new(None) };
}

/// Distinct members by the hash of their properties. The hasher is seeded at random, so a
/// crafted document cannot make its members collide.
#[derive(Default)]
struct Interner {
    table: hashbrown::HashTable<Arc<Member>>,
    /// Members by their JSON text, inside [`by_json_text`]: a repeat written the same way
    /// (as a collector writes every copy of a member) is found without being parsed again.
    by_text: hashbrown::HashTable<(Box<str>, Arc<Member>)>,
    text_hits: usize,
    state: foldhash::quality::RandomState,
}

thread_local! {
    /// Set inside [`by_json_text`].
    static BY_TEXT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Texts remembered before the text table must pay for itself: past this many, a new text is
/// remembered only while repeats are at least as many as the texts (a tenant whose members
/// are each in one group gains nothing from them).
const TEXT_TABLE_FREE: usize = 1 << 16;

/// Run `f`, a `serde_json` read of the whole document `text`, with members matched on their
/// JSON text first. The result is the same as without; a read that fails is read again
/// without it to name the place (bundle::parse_json), as members read this way name no path.
///
/// A large document's members are matched on a second thread while this one reads the rest
/// (see [`Pipe`]); `text` must be the text `f` reads, as the members are found in it.
pub fn by_json_text<R>(text: &str, f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            BY_TEXT.set(self.0);
        }
    }
    let _restore = Restore(BY_TEXT.replace(true));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if text.len() < PIPE_MIN || cores < 2 || PIPE.with(|p| p.borrow().is_some()) {
        return f();
    }
    std::thread::scope(|scope| {
        let (work, inbox) = std::sync::mpsc::channel::<Work>();
        let (done, results) = std::sync::mpsc::channel::<Done>();
        let matching = std::thread::Builder::new()
            .spawn_scoped(scope, move || match_members(text, &inbox, &done));
        if matching.is_err() {
            // No second thread: the members are matched on this one.
            return f();
        }
        PIPE.with(|p| {
            *p.borrow_mut() = Some(Pipe {
                base: text.as_ptr() as usize,
                len: text.len(),
                work,
                results,
                open: false,
                spans: Vec::new(),
                lens: Vec::new(),
            })
        });
        // The pipe (and with it the work channel) is dropped when `f` returns or unwinds,
        // so the matching thread ends before the scope joins it.
        struct Close;
        impl Drop for Close {
            fn drop(&mut self) {
                PIPE.with(|p| p.borrow_mut().take());
            }
        }
        let _close = Close;
        f()
    })
}

/// Documents at least this long have their members matched on a second thread (in unit
/// tests every document, so the tests of the readers cover both ways).
const PIPE_MIN: usize = if cfg!(test) { 1 } else { 1 << 20 };

/// Members per batch sent to the matching thread.
const PIPE_BATCH: usize = 8192;

thread_local! {
    /// Set inside [`by_json_text`] for a large document.
    static PIPE: RefCell<Option<Pipe>> = const { RefCell::new(None) };
}

/// The reading thread's end of the member pipeline. While a groups section is read, each
/// group's `members` array is only delimited: the byte span of each member in the document
/// goes to the matching thread, and the group gets an empty placeholder. At the end of the
/// section the matching thread hands back every array's shared members, in the order the
/// arrays were read, and they replace the placeholders (see [`groups_interned`]).
struct Pipe {
    base: usize,
    len: usize,
    work: std::sync::mpsc::Sender<Work>,
    results: std::sync::mpsc::Receiver<Done>,
    /// Inside a groups section.
    open: bool,
    /// Spans (start, end) of the members not yet sent, and the length of each array.
    spans: Vec<(usize, usize)>,
    lens: Vec<usize>,
}

enum Work {
    Begin,
    Arrays {
        spans: Vec<(usize, usize)>,
        lens: Vec<usize>,
    },
    End,
}

/// A section's member arrays in order, or why one member could not be read.
type Done = Result<Vec<Vec<Arc<Member>>>, String>;

impl Pipe {
    fn send(&mut self) -> Result<(), String> {
        if self.lens.is_empty() {
            return Ok(());
        }
        let spans = std::mem::replace(&mut self.spans, Vec::with_capacity(PIPE_BATCH));
        let lens = std::mem::take(&mut self.lens);
        self.work
            .send(Work::Arrays { spans, lens })
            .map_err(|_| "the member matching thread stopped".to_string())
    }
}

/// The matching thread: members by their spans in `text`, interned one section at a time.
fn match_members(
    text: &str,
    inbox: &std::sync::mpsc::Receiver<Work>,
    done: &std::sync::mpsc::Sender<Done>,
) {
    let mut arrays: Vec<Vec<Arc<Member>>> = Vec::new();
    let mut failed: Option<String> = None;
    for w in inbox.iter() {
        match w {
            Work::Begin => {
                INTERNER.with(|cell| *cell.borrow_mut() = Some(Interner::default()));
                arrays = Vec::new();
                failed = None;
            }
            Work::Arrays { spans, lens } => {
                if failed.is_some() {
                    continue;
                }
                let mut spans = spans.into_iter();
                for n in lens {
                    let mut members = Vec::with_capacity(n);
                    for (a, b) in spans.by_ref().take(n) {
                        let one = text
                            .get(a..b)
                            .ok_or_else(|| "a member outside the document".to_string())
                            .and_then(|t| {
                                intern_text::<serde_json::Error>(t).map_err(|e| e.to_string())
                            });
                        match one {
                            Ok(m) => members.push(m),
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    if failed.is_some() {
                        break;
                    }
                    arrays.push(members);
                }
            }
            Work::End => {
                let interner = INTERNER.with(|cell| cell.borrow_mut().take());
                let result = match failed.take() {
                    Some(e) => Err(e),
                    None => Ok(std::mem::take(&mut arrays)),
                };
                if done.send(result).is_err() {
                    return;
                }
                // Freed after the reader has its members, while it goes on.
                drop(interner);
            }
        }
    }
}

/// One member given as its JSON text: the shared value of an earlier member with the same
/// text, or the member parsed and interned by its properties.
fn intern_text<E: serde::de::Error>(text: &str) -> Result<Arc<Member>, E> {
    INTERNER.with(|cell| {
        let mut c = cell.borrow_mut();
        let Some(ix) = c.as_mut() else {
            let m: MemberIn = serde_json::from_str(text).map_err(E::custom)?;
            return Ok(Arc::new(m.into_member()));
        };
        let hash = std::hash::BuildHasher::hash_one(&ix.state, text);
        if let Some((_, m)) = ix.by_text.find(hash, |(t, _)| **t == *text) {
            ix.text_hits += 1;
            return Ok(Arc::clone(m));
        }
        let m: MemberIn = serde_json::from_str(text).map_err(E::custom)?;
        let shared = ix.intern(m);
        if ix.by_text.len() < TEXT_TABLE_FREE || ix.text_hits >= ix.by_text.len() {
            let state = &ix.state;
            ix.by_text
                .insert_unique(hash, (text.into(), Arc::clone(&shared)), |(t, _)| {
                    std::hash::BuildHasher::hash_one(state, &**t)
                });
        }
        Ok(shared)
    })
}

/// A string of the input: borrowed from the document when it holds no escapes.
struct Text<'a>(std::borrow::Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Text(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// A member as read, before it is shared: the same fields and rules as [`Member`], with
/// strings borrowed from the document, so the many repeats of a member allocate nothing.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MemberIn<'a> {
    #[serde(rename = "@odata.type", borrow)]
    odata_type: Option<Text<'a>>,
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(borrow)]
    display_name: Option<Text<'a>>,
    on_premises_sync_enabled: Option<bool>,
    #[serde(borrow)]
    on_premises_security_identifier: Option<Text<'a>>,
    #[serde(borrow)]
    on_premises_object_identifier: Option<Text<'a>>,
    #[serde(borrow)]
    on_premises_immutable_id: Option<Text<'a>>,
    #[serde(borrow)]
    on_premises_distinguished_name: Option<Text<'a>>,
    #[serde(borrow)]
    device_id: Option<Text<'a>>,
    #[serde(borrow)]
    trust_type: Option<Text<'a>>,
    #[serde(default, borrow)]
    group_types: Vec<Text<'a>>,
    security_enabled: Option<bool>,
    mail_enabled: Option<bool>,
}

/// The interner's hash of a member's properties, the same for a [`MemberIn`] and the
/// [`Member`] made from it.
fn interner_hash<'s>(
    state: &foldhash::quality::RandomState,
    strs: [Option<&str>; 8],
    trust_type: Option<&str>,
    bools: [Option<bool>; 3],
    group_types: impl ExactSizeIterator<Item = &'s str>,
) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = state.build_hasher();
    strs.hash(&mut h);
    trust_type.hash(&mut h);
    bools.hash(&mut h);
    h.write_usize(group_types.len());
    for t in group_types {
        t.hash(&mut h);
    }
    h.finish()
}

fn opt<'s>(t: &'s Option<Text<'_>>) -> Option<&'s str> {
    t.as_ref().map(|t| t.0.as_ref())
}

impl MemberIn<'_> {
    fn strs(&self) -> [Option<&str>; 8] {
        [
            opt(&self.odata_type),
            Some(self.id.0.as_ref()),
            opt(&self.display_name),
            opt(&self.on_premises_security_identifier),
            opt(&self.on_premises_object_identifier),
            opt(&self.on_premises_immutable_id),
            opt(&self.on_premises_distinguished_name),
            opt(&self.device_id),
        ]
    }
    fn bools(&self) -> [Option<bool>; 3] {
        [
            self.on_premises_sync_enabled,
            self.security_enabled,
            self.mail_enabled,
        ]
    }
    fn same_as(&self, m: &Member) -> bool {
        self.strs() == m.strs()
            && opt(&self.trust_type) == m.trust_type.as_deref()
            && self.bools() == m.bools()
            && self.group_types.len() == m.group_types.len()
            && self
                .group_types
                .iter()
                .zip(&m.group_types)
                .all(|(a, b)| a.0 == b.as_str())
    }
    fn hash(&self, state: &foldhash::quality::RandomState) -> u64 {
        interner_hash(
            state,
            self.strs(),
            opt(&self.trust_type),
            self.bools(),
            self.group_types.iter().map(|t| t.0.as_ref()),
        )
    }
    fn into_member(self) -> Member {
        let own = |t: Option<Text<'_>>| t.map(|t| t.0.into_owned());
        Member {
            odata_type: own(self.odata_type),
            id: Arc::from(self.id.0.as_ref()),
            display_name: own(self.display_name),
            on_premises_sync_enabled: self.on_premises_sync_enabled,
            on_premises_security_identifier: own(self.on_premises_security_identifier),
            on_premises_object_identifier: own(self.on_premises_object_identifier),
            on_premises_immutable_id: own(self.on_premises_immutable_id),
            on_premises_distinguished_name: own(self.on_premises_distinguished_name),
            device_id: own(self.device_id),
            trust_type: own(self.trust_type),
            group_types: self
                .group_types
                .into_iter()
                .map(|t| t.0.into_owned())
                .collect(),
            security_enabled: self.security_enabled,
            mail_enabled: self.mail_enabled,
        }
    }
}

impl Member {
    fn strs(&self) -> [Option<&str>; 8] {
        [
            self.odata_type.as_deref(),
            Some(self.id.as_ref()),
            self.display_name.as_deref(),
            self.on_premises_security_identifier.as_deref(),
            self.on_premises_object_identifier.as_deref(),
            self.on_premises_immutable_id.as_deref(),
            self.on_premises_distinguished_name.as_deref(),
            self.device_id.as_deref(),
        ]
    }
    fn bools(&self) -> [Option<bool>; 3] {
        [
            self.on_premises_sync_enabled,
            self.security_enabled,
            self.mail_enabled,
        ]
    }
    fn interner_hash(&self, state: &foldhash::quality::RandomState) -> u64 {
        interner_hash(
            state,
            self.strs(),
            self.trust_type.as_deref(),
            self.bools(),
            self.group_types.iter().map(String::as_str),
        )
    }
}

/// Share one value per distinct member. Two members are the same value only when every
/// property is equal, so nothing a reader could see is lost.
fn intern(m: MemberIn<'_>) -> Arc<Member> {
    INTERNER.with(|cell| match cell.borrow_mut().as_mut() {
        Some(ix) => ix.intern(m),
        None => Arc::new(m.into_member()),
    })
}

impl Interner {
    fn intern(&mut self, m: MemberIn<'_>) -> Arc<Member> {
        let Interner { table, state, .. } = self;
        let hash = m.hash(state);
        if let Some(found) = table.find(hash, |x| m.same_as(x)) {
            return Arc::clone(found);
        }
        let shared = Arc::new(m.into_member());
        table.insert_unique(hash, Arc::clone(&shared), |x| x.interner_hash(state));
        shared
    }
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
    if let Some(begun) = PIPE.with(|p| {
        let mut p = p.borrow_mut();
        let pipe = p.as_mut().filter(|pipe| !pipe.open)?;
        pipe.open = true;
        Some(pipe.work.send(Work::Begin).is_ok())
    }) {
        return groups_piped(d, begun);
    }
    // The outermost section owns the interner (sections are not nested, but be safe).
    let owner = INTERNER.with(|cell| {
        let mut c = cell.borrow_mut();
        if c.is_none() {
            *c = Some(Interner::default());
            true
        } else {
            false
        }
    });
    let _scope = Scope(owner);
    Option::<Vec<Group>>::deserialize(d)
}

/// A groups section read with its members matched on the [`Pipe`]'s thread.
fn groups_piped<'de, D: Deserializer<'de>>(
    d: D,
    begun: bool,
) -> Result<Option<Vec<Group>>, D::Error> {
    use serde::de::Error;
    let read = Option::<Vec<Group>>::deserialize(d);
    // Always close the section, so the matching thread is ready for the next one.
    let closed = PIPE.with(|p| -> Result<Done, String> {
        let mut p = p.borrow_mut();
        let pipe = p.as_mut().ok_or("the member pipeline closed")?;
        pipe.open = false;
        if !begun {
            return Err("the member matching thread stopped".into());
        }
        pipe.send()?;
        pipe.work
            .send(Work::End)
            .map_err(|_| "the member matching thread stopped")?;
        pipe.results
            .recv()
            .map_err(|_| "the member matching thread stopped".to_string())
    });
    let mut groups = read?;
    let mut arrays = closed
        .and_then(|done| done)
        .map_err(D::Error::custom)?
        .into_iter();
    for g in groups.iter_mut().flatten() {
        if let Some(members) = g.members.as_mut() {
            *members = arrays
                .next()
                .ok_or_else(|| D::Error::custom("a group's members were lost"))?;
        }
    }
    if arrays.next().is_some() {
        return Err(D::Error::custom("members without a group"));
    }
    Ok(groups)
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
            if let Some(piped) = PIPE.with(|p| {
                let mut p = p.borrow_mut();
                p.as_mut()
                    .filter(|pipe| pipe.open)
                    .map(|pipe| pipe_array(pipe, &mut seq))
            }) {
                // An empty placeholder, replaced at the end of the section.
                return piped.map(|()| Some(Vec::new()));
            }
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            if BY_TEXT.get() {
                while let Some(raw) = seq.next_element::<&'de serde_json::value::RawValue>()? {
                    out.push(intern_text(raw.get())?);
                }
            } else {
                while let Some(m) = seq.next_element::<MemberIn<'de>>()? {
                    out.push(intern(m));
                }
            }
            out.shrink_to_fit();
            Ok(Some(out))
        }
    }
    d.deserialize_option(Seq)
}

/// One `members` array delimited for the [`Pipe`]: each member's span in the document.
fn pipe_array<'de, A: serde::de::SeqAccess<'de>>(
    pipe: &mut Pipe,
    seq: &mut A,
) -> Result<(), A::Error> {
    use serde::de::Error;
    let mut n = 0;
    while let Some(raw) = seq.next_element::<&'de serde_json::value::RawValue>()? {
        let t = raw.get();
        let start = (t.as_ptr() as usize)
            .checked_sub(pipe.base)
            .filter(|s| s.saturating_add(t.len()) <= pipe.len)
            .ok_or_else(|| A::Error::custom("a member outside the document"))?;
        pipe.spans.push((start, start + t.len()));
        n += 1;
    }
    pipe.lens.push(n);
    #[cfg(test)]
    tests::PIPED.set(tests::PIPED.get() + 1);
    if pipe.spans.len() >= PIPE_BATCH {
        pipe.send().map_err(A::Error::custom)?;
    }
    Ok(())
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// The on-premises SID, when it is not blank.
    pub fn on_premises_sid(&self) -> Option<&str> {
        self.on_premises_security_identifier
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
    /// Whether the group could have been converted to cloud-managed: it carries an
    /// on-premises SID and is not currently synced. Only these need `onPremisesSyncBehavior`.
    pub fn soa_candidate(&self) -> bool {
        self.on_premises_sync_enabled != Some(true) && self.on_premises_sid().is_some()
    }
    /// Where the group's source of authority is. `isCloudManaged` true wins over a stale
    /// `onPremisesSyncEnabled`.
    pub fn sync_state(&self) -> SyncState {
        let managed = self
            .on_premises_sync_behavior
            .as_ref()
            .map(|b| b.is_cloud_managed);
        if managed == Some(Some(true)) {
            return SyncState::Converted;
        }
        if self.on_premises_sync_enabled == Some(true) {
            return SyncState::SyncedFromAd;
        }
        if !self.soa_candidate() {
            return SyncState::CloudNative;
        }
        match managed {
            Some(Some(false)) => SyncState::RollbackPending,
            _ => SyncState::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// Member arrays this thread handed to the pipe.
        pub(super) static PIPED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn groups(json: &str) -> Vec<Group> {
        let doc: TenantDoc = serde_json::from_str(json).expect("parses");
        let by_text: TenantDoc =
            by_json_text(json, || serde_json::from_str(json)).expect("parses by text");
        // Members matched on their text first are the same values, shared the same way.
        let (a, b) = (doc.groups.expect("groups"), by_text.groups.expect("groups"));
        assert_eq!(a.len(), b.len());
        let all = |gs: &[Group]| -> Vec<Arc<Member>> {
            gs.iter()
                .flat_map(|g| g.members.iter().flatten().cloned())
                .collect()
        };
        let (ma, mb) = (all(&a), all(&b));
        assert_eq!(ma, mb);
        for (i, x) in ma.iter().enumerate() {
            for (j, y) in ma.iter().enumerate() {
                assert_eq!(Arc::ptr_eq(x, y), Arc::ptr_eq(&mb[i], &mb[j]), "{i} {j}");
            }
        }
        assert!(!BY_TEXT.get());
        a
    }

    #[test]
    fn equal_members_are_one_value_and_any_difference_keeps_them_apart() {
        let u = r##"{"@odata.type":"#microsoft.graph.user","id":"11111111-1111-1111-1111-111111111111","onPremisesSecurityIdentifier":"S-1-5-21-1-2-3-1000","onPremisesSyncEnabled":true}"##;
        // The same member again, with its keys in another order and one string escaped.
        let same = r##"{"onPremisesSyncEnabled":true,"id":"11111111-1111-1111-1111-11111111111\u0031","onPremisesSecurityIdentifier":"S-1-5-21-1-2-3-1000","@odata.type":"#microsoft.graph.user"}"##;
        let other_sid = u.replace("1000", "1001");
        let other_flag = u.replace("true", "false");
        let with_types = u.replace(r#""id""#, r#""groupTypes":["Unified"],"id""#);
        let json = format!(
            r#"{{"groups":[{{"id":"a","members":[{u},{same}]}},{{"id":"b","members":[{u},{other_sid},{other_flag},{with_types},{with_types}]}}]}}"#
        );
        let g = groups(&json);
        let a = g[0].members.as_ref().expect("members");
        let b = g[1].members.as_ref().expect("members");
        assert!(
            Arc::ptr_eq(&a[0], &a[1]),
            "escaped and reordered copy is shared"
        );
        assert!(Arc::ptr_eq(&a[0], &b[0]), "shared across groups");
        for i in 1..4 {
            assert!(
                !Arc::ptr_eq(&b[0], &b[i]),
                "member {i} differs in one property"
            );
            assert_ne!(*b[0], *b[i]);
        }
        assert!(Arc::ptr_eq(&b[3], &b[4]));
        assert_eq!(b[3].group_types, vec!["Unified".to_string()]);
        assert_eq!(&*a[1].id, "11111111-1111-1111-1111-111111111111");
        assert_eq!(
            a[0].on_premises_security_identifier.as_deref(),
            Some("S-1-5-21-1-2-3-1000")
        );
        // deletedGroups has an interner of its own, and the same rules.
        let json = format!(r#"{{"deletedGroups":[{{"id":"c","members":[{u},{same}]}}]}}"#);
        let doc: TenantDoc = serde_json::from_str(&json).expect("parses");
        let d = doc.deleted_groups.expect("deleted");
        let m = d[0].members.as_ref().expect("members");
        assert!(Arc::ptr_eq(&m[0], &m[1]));
    }

    #[test]
    fn members_keep_the_type_rules_of_a_plain_read() {
        for (member, want) in [
            (r#"{"id":null}"#, "invalid type: null, expected a string"),
            (
                r#"{"id":5}"#,
                "invalid type: integer `5`, expected a string",
            ),
            (r#"{}"#, "missing field `id`"),
            (r#"{"id":"x","id":"y"}"#, "duplicate field `id`"),
            (
                r#"{"id":"x","displayName":true}"#,
                "invalid type: boolean `true`, expected a string",
            ),
            (
                r#"{"id":"x","groupTypes":null}"#,
                "invalid type: null, expected a sequence",
            ),
        ] {
            let json = format!(r#"{{"groups":[{{"id":"a","members":[{member}]}}]}}"#);
            let err = serde_json::from_str::<TenantDoc>(&json)
                .expect_err(member)
                .to_string();
            assert!(err.starts_with(want), "{member}: {err}");
            // The same member read on its own, as the plain type, fails the same way.
            let plain = serde_json::from_str::<Member>(member)
                .expect_err(member)
                .to_string();
            assert!(plain.starts_with(want), "{member}: {plain}");
        }
        // Unknown properties are ignored, as everywhere in tenant.json.
        let g = groups(r#"{"groups":[{"id":"a","members":[{"id":"x","foo":{"bar":[1]}}]}]}"#);
        assert_eq!(&*g[0].members.as_ref().expect("members")[0].id, "x");
    }

    /// A document with `n` groups of which some have no `members`, a null or an empty array,
    /// and the others members drawn from `users` distinct users; `deletedGroups` first.
    fn large_doc(n: usize, users: usize, bad: Option<(usize, usize)>) -> String {
        let member = |u: usize| {
            format!(
                r##"{{"@odata.type":"#microsoft.graph.user","id":"{:08x}-0000-4000-8000-000000000000","onPremisesSyncEnabled":true,"onPremisesSecurityIdentifier":"S-1-5-21-1-2-3-{u}"}}"##,
                u
            )
        };
        let group = |i: usize| {
            let members = match i % 7 {
                0 => String::new(),
                1 => r#","members":null"#.to_string(),
                2 => r#","members":[]"#.to_string(),
                _ => {
                    let ms: Vec<String> = (0..(i % 13) + 1)
                        .map(|j| match bad {
                            Some((g, m)) if (g, m) == (i, j) => r#"{"id":5}"#.to_string(),
                            _ => member((i * 31 + j * 17) % users),
                        })
                        .collect();
                    format!(r#","members":[{}]"#, ms.join(","))
                }
            };
            format!(r#"{{"id":"{i:08x}-1111-4000-8000-000000000000"{members}}}"#)
        };
        let deleted: Vec<String> = (0..50).map(group).collect();
        let live: Vec<String> = (0..n).map(group).collect();
        format!(
            r#"{{"format":"gwb-tenant/1","deletedGroups":[{}],"groups":[{}]}}"#,
            deleted.join(","),
            live.join(",")
        )
    }

    #[test]
    fn members_matched_on_a_second_thread_are_the_members_of_a_plain_read() {
        // More members than one batch, so several batches cross to the matching thread, and
        // a section before `groups` that has its own arrays.
        let json = large_doc(4000, 900, None);
        assert!(json.len() > PIPE_MIN);
        let plain: TenantDoc = serde_json::from_str(&json).expect("plain");
        PIPED.set(0);
        let piped: TenantDoc = by_json_text(&json, || serde_json::from_str(&json)).expect("piped");
        let arrays = |d: &TenantDoc| {
            [&d.groups, &d.deleted_groups]
                .into_iter()
                .flatten()
                .flatten()
                .filter(|g| g.members.is_some())
                .count()
        };
        assert_eq!(
            PIPED.get(),
            arrays(&plain),
            "every array went through the pipe"
        );
        assert!(PIPE.with(|p| p.borrow().is_none()), "the pipe is closed");
        let total: usize = piped
            .groups
            .iter()
            .flatten()
            .map(|g| g.members.as_ref().map_or(0, Vec::len))
            .sum();
        assert!(total > PIPE_BATCH, "{total} members");
        assert_eq!(
            serde_json::to_value(&piped).expect("value"),
            serde_json::to_value(&plain).expect("value")
        );
        for (a, b) in [
            (&plain.groups, &piped.groups),
            (&plain.deleted_groups, &piped.deleted_groups),
        ] {
            let (a, b) = (a.as_ref().expect("groups"), b.as_ref().expect("groups"));
            for (x, y) in a.iter().zip(b) {
                // None stays None, an empty array stays an empty array.
                assert_eq!(x.members.is_some(), y.members.is_some(), "{}", x.id);
            }
            // Members are shared the same way: one value per distinct member in a section.
            let distinct = |gs: &[Group]| {
                gs.iter()
                    .flat_map(|g| g.members.iter().flatten())
                    .map(|m| Arc::as_ptr(m) as usize)
                    .collect::<std::collections::HashSet<_>>()
                    .len()
            };
            assert_eq!(distinct(a), distinct(b));
        }
    }

    #[test]
    fn a_bad_member_fails_the_read_on_the_second_thread_and_is_named_by_path() {
        let json = large_doc(3000, 500, Some((2903, 4)));
        let piped: Result<TenantDoc, _> = by_json_text(&json, || serde_json::from_str(&json));
        let Err(e) = piped else {
            panic!("a member id that is a number was read");
        };
        assert!(e.to_string().contains("invalid type: integer"), "{e}");
        assert!(PIPE.with(|p| p.borrow().is_none()), "the pipe is closed");
        // The read that names the place is the one without the pipe (bundle::parse_json).
        let Err(e) =
            crate::bundle::parse_json::<TenantDoc>(std::path::Path::new("tenant.json"), &json)
        else {
            panic!("a member id that is a number was read");
        };
        assert!(
            e.to_string().contains("$.groups[2903].members[4].id"),
            "{e}"
        );
        // Afterwards a good document reads on the same thread as before.
        let good = large_doc(100, 10, None);
        let doc: TenantDoc = by_json_text(&good, || serde_json::from_str(&good)).expect("good");
        assert_eq!(doc.groups.map(|g| g.len()), Some(100));
    }
}
