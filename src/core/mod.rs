//! The decision core: pure functions, no I/O. Given a snapshot, a target and a policy it
//! answers for every cloud group what writeback would do with it and why, and for every
//! member whether it resolves to an AD object. The audit, the forecast and the executor
//! all call this one core, so they cannot disagree.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// What writes cloud groups into AD.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Entra Connect original writeback (v1), as if enabled.
    ConnectV1,
    /// Entra Connect new writeback (v2), as if enabled.
    ConnectV2,
    /// Entra Cloud Sync group provisioning to AD.
    CloudSync,
    /// gwb's own executor: connect-v2 semantics plus gwb's options.
    Gwb,
}

impl Target {
    pub const ALL: [Target; 4] = [
        Target::ConnectV1,
        Target::ConnectV2,
        Target::CloudSync,
        Target::Gwb,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Target::ConnectV1 => "connect-v1",
            Target::ConnectV2 => "connect-v2",
            Target::CloudSync => "cloud-sync",
            Target::Gwb => "gwb",
        }
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DeletionBehavior {
    /// Disabled or soft-deleted groups stay in AD, untouched, until hard-deleted.
    #[default]
    Default,
    /// Disabled, soft-deleted or hard-deleted groups are deleted from AD.
    Modified,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum MemberLimitBehavior {
    /// Microsoft 365 groups up to 50,000 members, security groups up to 250,000.
    #[default]
    Default,
    /// Microsoft 365 groups up to 250,000 members (member-limit rule disabled).
    Raised,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CnFormat {
    /// `Group_<objectId>`.
    #[default]
    ObjectId,
    /// `<first 51 chars of the trimmed display name>_<last 12 chars of the objectId>`.
    DisplayName,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureState {
    /// Forecast each target as if it were enabled now.
    #[default]
    AsIfEnabled,
    /// Honour the tenant's current feature flags.
    Current,
}

pub mod desired;
pub mod exchange;
pub mod index;
pub mod inputs;
pub mod naming;
pub mod overrides;
pub mod ownership;
pub mod reason;
pub mod soa;

use std::collections::{BTreeMap, HashMap, HashSet};

/// Maps on the forecast's hot paths: keys are the run's own values, and the hasher is seeded
/// at random.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

use uuid::Uuid;

use crate::ad::{AdKind, AdObject, AdSnapshot, Dn, GroupScope, ids};
use crate::bundle::tenant::{Group, GroupKind, Member, MemberType, SyncState, TenantDoc};
pub use reason::{GroupReason, MemberReason, Outcome};

/// Direct-member limits (the guide's defaults and the raised Microsoft 365 limit).
pub const M365_LIMIT_DEFAULT: usize = 50_000;
pub const M365_LIMIT_RAISED: usize = 250_000;
pub const SECURITY_LIMIT: usize = 250_000;
pub const CLOUD_SYNC_LIMIT: usize = 50_000;

/// The admin's choices that change outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub deletion: DeletionBehavior,
    pub member_limit: MemberLimitBehavior,
    pub cn_format: CnFormat,
    pub feature_state: FeatureState,
}

/// Tenant feature flags as the audit resolved them from Graph and the Connect export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Flags {
    /// UnifiedGroupWriteback / unifiedGroupWritebackEnabled (original writeback).
    pub v1: Option<bool>,
    /// GroupWritebackV2 / groupWriteBackEnabled (new writeback).
    pub v2: Option<bool>,
    /// DeviceWriteback / deviceWritebackEnabled.
    pub device_writeback: Option<bool>,
}

/// Everything the core reads. Pure data: building it is the caller's job.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub tenant: &'a TenantDoc,
    pub ad: Option<&'a AdSnapshot>,
    pub target_ou: Option<&'a Dn>,
    pub flags: Flags,
    /// `Some(true)` when AD is prepared for Exchange, `None` when unknown.
    pub exchange_prepared: Option<bool>,
    /// Other writers' configured writeback containers (Entra Connect's), not the target OU:
    /// target gwb never takes a stamped group out of one.
    pub other_writer_containers: &'a [Dn],
}

/// The AD group type a group is written back as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum OnPremGroupType {
    #[serde(rename = "universalDistributionGroup")]
    UniversalDistribution,
    #[serde(rename = "universalSecurityGroup")]
    UniversalSecurity,
    #[serde(rename = "universalMailEnabledSecurityGroup")]
    UniversalMailEnabledSecurity,
}

impl OnPremGroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            OnPremGroupType::UniversalDistribution => "universalDistributionGroup",
            OnPremGroupType::UniversalSecurity => "universalSecurityGroup",
            OnPremGroupType::UniversalMailEnabledSecurity => "universalMailEnabledSecurityGroup",
        }
    }
    pub fn parse(s: &str) -> Option<OnPremGroupType> {
        [
            Self::UniversalDistribution,
            Self::UniversalSecurity,
            Self::UniversalMailEnabledSecurity,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }
    /// AD `groupType` (signed 32-bit): universal, with the security bit when security-enabled.
    pub fn ad_group_type(self) -> i32 {
        match self {
            OnPremGroupType::UniversalDistribution => desired::GROUP_TYPE_UNIVERSAL_DISTRIBUTION,
            _ => desired::GROUP_TYPE_UNIVERSAL_SECURITY,
        }
    }
    pub fn carries_mail(self) -> bool {
        !matches!(self, OnPremGroupType::UniversalSecurity)
    }
}

/// A member that will be written into the AD group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedMember {
    pub id: std::sync::Arc<str>,
    /// DN of the AD object (for a nested cloud group: the DN it will get).
    pub dn: std::sync::Arc<str>,
    pub guid: Option<Uuid>,
    /// `member-resolved`, or `member-unverified` when no AD evidence was given.
    pub reason: MemberReason,
}

/// A member that will not be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkippedMember {
    pub id: std::sync::Arc<str>,
    pub display_name: Option<String>,
    pub reason: MemberReason,
    /// Most details are fixed sentences: borrowed, so a million skipped members stay cheap.
    pub detail: std::borrow::Cow<'static, str>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberForecast {
    /// False when the group's members were not collected (or not evaluated for this outcome).
    pub collected: bool,
    pub total: usize,
    /// Shared with every group that has the same member (a million memberships of fifty
    /// thousand users hold fifty thousand resolutions).
    pub resolved: Vec<std::sync::Arc<ResolvedMember>>,
    pub skipped: Vec<std::sync::Arc<SkippedMember>>,
}

/// The core's answer for one group under one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupForecast {
    pub id: String,
    pub display_name: String,
    /// `None` for AD objects whose cloud group no longer exists.
    pub kind: Option<GroupKind>,
    pub dynamic: bool,
    pub outcome: Outcome,
    pub reason: GroupReason,
    pub detail: String,
    pub on_premises_group_type: Option<OnPremGroupType>,
    pub cn: Option<String>,
    pub dn: Option<String>,
    /// The AD object already written back for this group, if any.
    pub existing_dn: Option<String>,
    /// Whether mail attributes are written (AD prepared for Exchange); `None` when not applicable or unknown.
    pub mail_attributes: Option<bool>,
    /// The sAMAccountName a create writes (target `gwb` with `policy.sam-account-name`; never
    /// for a group already in AD: the template is create-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sam_account_name: Option<String>,
    #[serde(serialize_with = "member_summary")]
    #[schemars(with = "MemberSummary")]
    pub members: MemberForecast,
}

/// The shape [`member_summary`] writes (for the report's JSON Schema).
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct MemberSummary {
    collected: bool,
    total: usize,
    resolved: usize,
    unverified: usize,
    skipped: Vec<SkippedMember>,
}

/// Reports carry member counts and the skipped members, not every resolved DN.
fn member_summary<S: serde::Serializer>(m: &MemberForecast, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let unverified = m
        .resolved
        .iter()
        .filter(|r| r.reason == MemberReason::MemberUnverified)
        .count();
    let mut st = s.serialize_struct("Members", 5)?;
    st.serialize_field("collected", &m.collected)?;
    st.serialize_field("total", &m.total)?;
    st.serialize_field("resolved", &(m.resolved.len() - unverified))?;
    st.serialize_field("unverified", &unverified)?;
    st.serialize_field("skipped", &m.skipped)?;
    st.end()
}

/// The forecast of one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Forecast {
    pub target: Target,
    /// Rendered on several cores in a JSON report (crate::par_json), at depth 4: report,
    /// forecast array, forecast, groups.
    #[serde(serialize_with = "crate::par_json::seq::<4, _, _>")]
    pub groups: Vec<GroupForecast>,
}

impl Forecast {
    /// Count groups per outcome.
    pub fn counts(&self) -> BTreeMap<Outcome, usize> {
        let mut m = BTreeMap::new();
        for g in &self.groups {
            *m.entry(g.outcome).or_insert(0) += 1;
        }
        m
    }
    pub fn group(&self, id: &str) -> Option<&GroupForecast> {
        self.groups.iter().find(|g| g.id.eq_ignore_ascii_case(id))
    }
}

/// Owned AD objects (written back earlier) in the target OU, by cloud objectId, as the target
/// matches them: Cloud Sync joins on `msDS-ExternalDirectoryObjectId` only, so a group stamped
/// only in `adminDescription` (written by Entra Connect) is not its own.
fn owned_objects<'a>(target: Target, inputs: &Inputs<'a>) -> HashMap<Uuid, &'a AdObject> {
    let mut map = HashMap::new();
    if let (Some(ad), Some(ou)) = (inputs.ad, inputs.target_ou) {
        for o in ad
            .objects
            .iter()
            .filter(|o| o.dn.is_child_of(ou) && matches!(o.kind, AdKind::Group { .. }))
        {
            if let Some(st) = o.stamp()
                && (target != Target::CloudSync || st.source.cloud_sync_matches())
            {
                map.insert(st.object_id, o);
            }
        }
    }
    map
}

/// Stamped groups of the domain that are not directly in the target OU (moved out by hand, or
/// written by another writer into its own container), by cloud objectId, each list sorted by
/// DN. Only target gwb reads them: it moves its own back into the OU.
fn stamped_outside<'a>(inputs: &Inputs<'a>) -> HashMap<Uuid, Vec<&'a AdObject>> {
    let mut map: HashMap<Uuid, Vec<&AdObject>> = HashMap::new();
    if let (Some(ad), Some(ou)) = (inputs.ad, inputs.target_ou) {
        for o in ad.objects.iter().filter(|o| {
            matches!(o.kind, AdKind::Group { .. })
                && !o.dn.is_child_of(ou)
                && ad.domain.as_ref().is_none_or(|d| o.dn.is_within(d))
        }) {
            if let Some(st) = o.stamp() {
                map.entry(st.object_id).or_default().push(o);
            }
        }
    }
    for v in map.values_mut() {
        v.sort_by_key(|o| o.dn.key());
    }
    map
}

/// What target gwb does with a group's stamped AD objects outside the target OU when none is
/// in it.
enum Outside<'a> {
    /// The one copy, gwb's (stamped in adminDescription): moved back into the OU.
    MoveBack(&'a AdObject),
    /// Another writer's object: left alone, and no second copy is created.
    OtherWriter(&'a AdObject, String),
    /// More than one copy: none is moved.
    Several,
}

fn outside_decision<'a>(copies: &[&'a AdObject], inputs: &Inputs<'a>) -> Outside<'a> {
    let [o] = copies else {
        return Outside::Several;
    };
    if let Some(c) = inputs
        .other_writer_containers
        .iter()
        .find(|c| o.dn.is_within(c))
    {
        return Outside::OtherWriter(
            o,
            format!("is in {c}, Entra Connect's configured writeback container"),
        );
    }
    if o.stamp()
        .is_some_and(|s| s.source == ownership::StampSource::ExternalDirectoryObjectId)
    {
        return Outside::OtherWriter(
            o,
            "is stamped by Cloud Sync alone (msDS-ExternalDirectoryObjectId, no adminDescription): Cloud Sync's group in its own OU".to_string(),
        );
    }
    Outside::MoveBack(o)
}

/// Why target gwb leaves a converted group's original AD group to another writer, if it does:
/// it carries another cloud group's stamp, Cloud Sync's stamp alone (Cloud Sync provisions it),
/// or it sits in Entra Connect's configured writeback container.
fn soa_other_writer(o: &AdObject, id: Option<Uuid>, inputs: &Inputs) -> Option<String> {
    if let Some(st) = o.stamp() {
        if Some(st.object_id) != id {
            return Some(format!(
                "carries the stamp of another cloud group (Group_{})",
                st.object_id
            ));
        }
        if st.source == ownership::StampSource::ExternalDirectoryObjectId {
            return Some(
                "is stamped by Cloud Sync alone (msDS-ExternalDirectoryObjectId): Cloud Sync provisions it".into(),
            );
        }
    }
    inputs
        .other_writer_containers
        .iter()
        .find(|c| o.dn.is_within(c))
        .map(|c| format!("is in {c}, Entra Connect's configured writeback container"))
}

/// Groups in the target OU that Entra Connect wrote (stamped in `adminDescription` only),
/// which Cloud Sync's join does not match: Cloud Sync creates a second group next to each and
/// never deletes the old one. Sorted by DN.
pub fn unmatched_by_cloud_sync<'a>(inputs: &Inputs<'a>) -> Vec<&'a AdObject> {
    let mut v: Vec<&AdObject> = match (inputs.ad, inputs.target_ou) {
        (Some(ad), Some(ou)) => ad
            .children(ou)
            .filter(|o| matches!(o.kind, AdKind::Group { .. }))
            .filter(|o| o.stamp().is_some_and(|s| !s.source.cloud_sync_matches()))
            .collect(),
        _ => Vec::new(),
    };
    v.sort_by_key(|o| o.dn.key());
    v
}

/// The group's own writeback setting as the rules read it: `None` when it does not apply (the
/// group is synced from AD, or is a kind that is never written back: distribution lists and
/// mail-enabled security groups); otherwise `writebackConfiguration.isEnabled` (null, true or
/// false). The one place that says which groups the setting governs.
pub fn writeback_setting(g: &Group) -> Option<Option<bool>> {
    if g.on_premises_sync_enabled == Some(true)
        || matches!(
            g.kind(),
            GroupKind::Distribution | GroupKind::MailEnabledSecurity
        )
    {
        return None;
    }
    Some(
        g.writeback_configuration
            .as_ref()
            .and_then(|w| w.is_enabled),
    )
}

fn member_limit(target: Target, kind: GroupKind, policy: &Policy) -> usize {
    match (target, kind) {
        (Target::CloudSync, _) => CLOUD_SYNC_LIMIT,
        (_, GroupKind::Microsoft365) => match policy.member_limit {
            MemberLimitBehavior::Default => M365_LIMIT_DEFAULT,
            MemberLimitBehavior::Raised => M365_LIMIT_RAISED,
        },
        _ => SECURITY_LIMIT,
    }
}

/// The one eligibility rule every part of gwb asks (the forecast of every target, and tenant
/// changes through [`crate::tenant`]): why no writer writes this group back whatever its
/// writeback settings say. A group synchronised from AD (AD is its source of authority), and,
/// among cloud-native groups, the kinds writeback does not support. Converted groups are not
/// decided here: [`soa::classify`] decides them per target.
pub fn never_written(g: &Group) -> Option<(GroupReason, &'static str)> {
    use GroupReason as R;
    match g.sync_state() {
        SyncState::SyncedFromAd => Some((
            R::SourceOnPremises,
            "synchronised from AD; AD is the source of authority",
        )),
        SyncState::CloudNative => match g.kind() {
            GroupKind::Distribution => Some((
                R::UnsupportedDistributionList,
                "cloud distribution lists are not supported; use a Microsoft 365 group",
            )),
            GroupKind::MailEnabledSecurity => Some((
                R::UnsupportedMailEnabledSecurity,
                "mail-enabled security groups are not supported; use a Microsoft 365 group",
            )),
            _ => None,
        },
        _ => None,
    }
}

/// First pass: outcome of a live (not deleted) cloud group, before names and members.
fn classify(
    target: Target,
    g: &Group,
    inputs: &Inputs,
    policy: &Policy,
) -> (Outcome, GroupReason, Option<OnPremGroupType>, String) {
    use GroupReason as R;
    let kind = g.kind();
    if let Some((reason, detail)) = never_written(g) {
        return (Outcome::Skip, reason, None, detail.into());
    }
    match g.sync_state() {
        SyncState::CloudNative => {}
        state => return soa::classify(target, g, state),
    }
    let wb = g.writeback_configuration.clone().unwrap_or_default();
    // Under --feature-state current, the tenant's flags decide which semantics apply.
    let mut target = target;
    if policy.feature_state == FeatureState::Current {
        match target {
            Target::ConnectV1 | Target::ConnectV2 => {
                if inputs.flags.v2 == Some(true) {
                    target = Target::ConnectV2;
                } else if inputs.flags.v1 == Some(true) {
                    target = Target::ConnectV1;
                } else {
                    let state = match (inputs.flags.v1, inputs.flags.v2) {
                        (None, None) => "unknown (no feature evidence)",
                        _ => "off",
                    };
                    return (
                        Outcome::Skip,
                        R::FeatureDisabled,
                        None,
                        format!("group writeback is {state} in the tenant"),
                    );
                }
            }
            Target::CloudSync | Target::Gwb => {}
        }
    }
    let (outcome, reason, gtype, detail) = match (target, kind) {
        (Target::ConnectV1, GroupKind::Microsoft365) => {
            let note = match wb.is_enabled {
                Some(false) => {
                    "written back although isEnabled is false: the original writeback ignores it"
                }
                _ => "written back as a distribution group",
            };
            (
                Outcome::Writeback,
                R::Eligible,
                Some(OnPremGroupType::UniversalDistribution),
                note.to_string(),
            )
        }
        (Target::ConnectV1, _) => (
            Outcome::Skip,
            R::NotSupportedByTarget,
            None,
            "the original writeback writes Microsoft 365 groups only".into(),
        ),
        (Target::CloudSync, GroupKind::Security) => (
            Outcome::Writeback,
            R::Eligible,
            Some(OnPremGroupType::UniversalSecurity),
            "in scope of Cloud Sync group provisioning (writebackConfiguration is not used)".into(),
        ),
        (Target::CloudSync, _) => (
            Outcome::Skip,
            R::NotSupportedByTarget,
            None,
            "Cloud Sync provisions security groups only".into(),
        ),
        (_, GroupKind::Microsoft365) => match wb.is_enabled {
            Some(false) => (
                Outcome::Skip,
                R::WritebackDisabled,
                None,
                "isEnabled is false".into(),
            ),
            enabled => {
                let (t, note) = match wb.on_premises_group_type.as_deref() {
                    None => (
                        OnPremGroupType::UniversalDistribution,
                        "onPremisesGroupType unset: the default".to_string(),
                    ),
                    Some(s) => match OnPremGroupType::parse(s) {
                        Some(t) => (t, format!("onPremisesGroupType {}", t.as_str())),
                        None => (
                            OnPremGroupType::UniversalDistribution,
                            format!("unknown onPremisesGroupType {s:?}; the default applies"),
                        ),
                    },
                };
                let why = if enabled == Some(true) {
                    "isEnabled is true"
                } else {
                    "isEnabled is null (Microsoft 365 default)"
                };
                (
                    Outcome::Writeback,
                    R::Eligible,
                    Some(t),
                    format!("{why}; {note}"),
                )
            }
        },
        (_, _) => match wb.is_enabled {
            Some(true) => {
                let note = match wb
                    .on_premises_group_type
                    .as_deref()
                    .and_then(OnPremGroupType::parse)
                {
                    Some(t) if t != OnPremGroupType::UniversalSecurity => {
                        format!(
                            "isEnabled is true; onPremisesGroupType {} is ignored: security groups are always universalSecurityGroup",
                            t.as_str()
                        )
                    }
                    _ => "isEnabled is true".to_string(),
                };
                (
                    Outcome::Writeback,
                    R::Eligible,
                    Some(OnPremGroupType::UniversalSecurity),
                    note,
                )
            }
            other => (
                Outcome::Skip,
                R::SecurityNotEnabled,
                None,
                format!(
                    "isEnabled is {}; security groups are written back only when it is true",
                    if other.is_none() { "null" } else { "false" }
                ),
            ),
        },
    };
    if outcome == Outcome::Writeback
        && let Some(members) = &g.members
    {
        let limit = member_limit(target, kind, policy);
        if members.len() > limit {
            return (
                Outcome::Skip,
                R::MemberLimitExceeded,
                gtype,
                format!(
                    "{} direct members, over the {} limit of {limit}",
                    members.len(),
                    target.as_str()
                ),
            );
        }
    }
    (outcome, reason, gtype, detail)
}

/// Forecast every group for one target. Pure: same inputs, same answer.
pub fn forecast(target: Target, inputs: &Inputs, policy: &Policy) -> Forecast {
    forecast_with(target, inputs, policy, &overrides::Overrides::default())
}

/// [`forecast`] with the configuration's per-group overrides (exclude, CN, protected).
pub fn forecast_with(
    target: Target,
    inputs: &Inputs,
    policy: &Policy,
    overrides: &overrides::Overrides,
) -> Forecast {
    forecast_indexed(
        target,
        inputs,
        policy,
        overrides,
        &index::GroupIndex::new(inputs.tenant),
    )
}

/// [`forecast_with`] for several targets over one index of the groups, in `targets` order,
/// with `then` applied to each forecast on the core that made it (the audit reads its findings
/// there). Targets are forecast side by side on the machine's cores (each forecast is pure and
/// reads the same inputs), so the answer is the same as one after the other.
pub fn forecast_targets_then<R: Send>(
    targets: &[Target],
    inputs: &Inputs,
    policy: &Policy,
    overrides: &overrides::Overrides,
    then: impl Fn(&Forecast) -> R + Sync,
) -> Vec<(Forecast, R)> {
    let index = index::GroupIndex::new(inputs.tenant);
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(targets.len());
    let run = |t: Target| {
        let started = std::time::Instant::now();
        let f = forecast_indexed(t, inputs, policy, overrides, &index);
        tracing::debug!("{} forecast in {:.2?}", t.as_str(), started.elapsed());
        let r = then(&f);
        (f, r)
    };
    if workers <= 1 {
        return targets.iter().map(|&t| run(t)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: std::sync::Mutex<Vec<Option<(Forecast, R)>>> =
        std::sync::Mutex::new(targets.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            // A worker that cannot start leaves its targets to the others (or to the
            // fallback below).
            let _ = std::thread::Builder::new().spawn_scoped(scope, || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&t) = targets.get(i) else { break };
                    let f = run(t);
                    if let Ok(mut d) = done.lock() {
                        d[i] = Some(f);
                    }
                }
            });
        }
    });
    done.into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .zip(targets)
        // A forecast lost to a panicking worker (a bug) is computed again here, where a panic
        // reaches the caller as usual.
        .map(|(f, &t)| f.unwrap_or_else(|| run(t)))
        .collect()
}

/// [`forecast_with`] over an index of `inputs.tenant`'s groups.
pub fn forecast_indexed(
    target: Target,
    inputs: &Inputs,
    policy: &Policy,
    overrides: &overrides::Overrides,
    index: &index::GroupIndex,
) -> Forecast {
    let owned = owned_objects(target, inputs);
    let unmatched: HashMap<Uuid, &AdObject> = if target == Target::CloudSync {
        unmatched_by_cloud_sync(inputs)
            .into_iter()
            .filter_map(|o| o.cloud_anchor().map(|a| (a, o)))
            .collect()
    } else {
        HashMap::new()
    };
    let outside = if target == Target::Gwb {
        stamped_outside(inputs)
    } else {
        HashMap::new()
    };
    let entries = index.entries();
    let sid_index = inputs.ad.map(|ad| {
        soa::SidIndex::of(
            ad,
            entries
                .iter()
                .filter(|e| e.group.sync_state() == SyncState::Converted)
                .filter_map(|e| e.group.on_premises_sid()),
        )
    });
    let mut out: Vec<GroupForecast> = Vec::with_capacity(
        entries.len() + inputs.tenant.deleted_groups.as_ref().map_or(0, Vec::len),
    );
    let mut taken: FastMap<String, &str> = FastMap::default(); // DN key -> group id
    // Every sAMAccountName in AD, indexed only once a group has a templated one to check.
    let mut sams: Option<overrides::SamIndex> = None;
    // The target OU's text and key, once: every planned DN is a child of it.
    let ou_names = inputs.target_ou.map(crate::ad::dn::ChildNames::of);
    // In id order, so name-collision tie breaks are stable.
    for e in entries {
        let (g, id) = (e.group, &e.id);
        let (mut outcome, mut reason, gtype, mut detail) = classify(target, g, inputs, policy);
        let mut existing = e.uuid.and_then(|u| owned.get(&u).copied());
        // A converted group's AD object is its original group, found by SID in the whole
        // domain: gwb writes into it (never a second object), Cloud Sync matches it.
        let converted = g.sync_state() == SyncState::Converted;
        let mut soa_place: Option<(String, String)> = None;
        if reason == GroupReason::SoaConverted
            && let (Some(ad), Some(sids)) = (inputs.ad, &sid_index)
        {
            let sid = g.on_premises_sid().unwrap_or_default();
            match soa::original(sids, sid) {
                soa::Original::Found(o) => match target {
                    Target::CloudSync if !soa::is_universal(o) => {
                        outcome = Outcome::Skip;
                        reason = GroupReason::SoaScopeNotUniversal;
                        detail = format!(
                            "its original AD group {} is {}: Cloud Sync provisions Universal groups only (HybridSynchronizationActiveDirectoryInvalidGroupType); change its scope to Universal",
                            o.dn_text,
                            soa::scope_name(o)
                        );
                    }
                    Target::CloudSync => {
                        existing = Some(o);
                        let cn = naming::group_cn(CnFormat::DisplayName, id, g.name());
                        match soa::cloud_sync_default_container(ad) {
                            Some(c) => {
                                let dn = c.child("CN", &cn).to_string();
                                detail = format!(
                                    "{detail}; Cloud Sync matches its original AD group {} by SID and updates it in place, renaming it to CN={cn} and moving it to {c} (the default container; ACLs inherited from its OU are lost) unless the GroupDN container and CN expressions are configured",
                                    o.dn_text
                                );
                                soa_place = Some((cn, dn));
                            }
                            None => {
                                detail = format!(
                                    "{detail}; Cloud Sync matches its original AD group {} by SID and updates it in place (the domain is not in the AD evidence, so its new container is unknown)",
                                    o.dn_text
                                );
                            }
                        }
                    }
                    _ if soa_other_writer(o, e.uuid, inputs).is_some() => {
                        outcome = Outcome::Skip;
                        reason = GroupReason::OtherWriterContainer;
                        detail = format!(
                            "converted to the cloud; its original AD group {} {}: gwb does not take it over",
                            o.dn_text,
                            soa_other_writer(o, e.uuid, inputs).unwrap_or_default()
                        );
                    }
                    _ => {
                        existing = Some(o);
                        let cn = o.dn.rdn_value().unwrap_or_default().to_string();
                        detail = format!(
                            "{detail}; written into its original AD group {} (same DN, objectGUID and objectSid): members and attributes come from the cloud from now on, and gwb stamps the group as its own",
                            o.dn_text
                        );
                        soa_place = Some((cn, o.dn_text.to_string()));
                    }
                },
                soa::Original::Missing(why) => {
                    if target == Target::CloudSync {
                        detail = format!(
                            "{detail}; {why}: Cloud Sync creates a new AD group with a new SID, which ACLs and applications do not know"
                        );
                        let cn = naming::group_cn(CnFormat::DisplayName, id, g.name());
                        soa_place = soa::cloud_sync_default_container(ad)
                            .map(|c| (cn.clone(), c.child("CN", &cn).to_string()));
                    } else {
                        outcome = Outcome::Skip;
                        detail = format!(
                            "converted to the cloud, but {why}: gwb does not create a second group for it"
                        );
                    }
                    reason = GroupReason::SoaOriginalMissing;
                }
                soa::Original::Duplicate(why) => {
                    outcome = Outcome::Skip;
                    reason = GroupReason::SoaOriginalDuplicate;
                    detail = format!(
                        "converted to the cloud, but {why}: nothing is written until only one remains"
                    );
                }
            }
        }
        if overrides.is_excluded(id) {
            (outcome, reason) = match existing {
                Some(_) => (Outcome::Keep, GroupReason::Excluded),
                None => (Outcome::Skip, GroupReason::Excluded),
            };
            detail = match existing {
                Some(o) => format!(
                    "excluded by the configuration; its AD group {} is left untouched",
                    o.dn_text
                ),
                None => "excluded by the configuration".into(),
            };
        }
        // Target gwb: stamped copies outside the target OU. gwb moves its own one back when
        // none is in the OU; it changes and deletes nothing else outside the OU.
        if let Some(copies) = e.uuid.and_then(|u| outside.get(&u)).filter(|_| !converted) {
            let list = copies
                .iter()
                .map(|o| o.dn_text.as_ref())
                .collect::<Vec<_>>()
                .join("; ");
            match (existing, outcome) {
                (Some(_), _) => {
                    detail = format!(
                        "{detail}; another AD group stamped for it outside the target OU ({list}) is left untouched"
                    );
                }
                (None, Outcome::Writeback) => match outside_decision(copies, inputs) {
                    Outside::MoveBack(o) => {
                        existing = Some(o);
                        reason = GroupReason::MovedOutOfTargetOu;
                        detail = format!(
                            "{detail}; its AD group {} is outside the target OU and is moved back into it",
                            o.dn_text
                        );
                    }
                    Outside::OtherWriter(o, why) => {
                        outcome = Outcome::Skip;
                        reason = GroupReason::OtherWriterContainer;
                        detail = format!(
                            "its AD group {} {why}: gwb does not take it over and creates no second copy (point --target-ou at that OU to adopt it in place)",
                            o.dn_text
                        );
                    }
                    Outside::Several => {
                        outcome = Outcome::Skip;
                        reason = GroupReason::StampedCopiesOutsideTargetOu;
                        detail = format!(
                            "{} AD groups outside the target OU carry its stamp ({list}): none is moved and no copy is created; remove the extra copies",
                            copies.len()
                        );
                    }
                },
                (None, _) => {
                    detail = format!(
                        "{detail}; its AD group {list} is outside the target OU and left untouched (gwb changes and deletes only inside the target OU)"
                    );
                }
            }
        }
        if outcome == Outcome::Writeback
            && let Some(old) = e.uuid.and_then(|u| unmatched.get(&u))
        {
            detail = format!(
                "{detail}; Cloud Sync does not match {} (stamped in adminDescription only) and creates a second group next to it",
                old.dn_text
            );
        }
        let cn_format = if target == Target::CloudSync {
            CnFormat::DisplayName
        } else {
            policy.cn_format
        };
        let mut cn = None;
        let mut dn = None;
        // The sAMAccountName template applies to creates only (an existing group keeps its own).
        let mut sam =
            if outcome == Outcome::Writeback && target == Target::Gwb && existing.is_none() {
                overrides.sam_for(id, g.mail_nickname.as_deref())
            } else {
                None
            };
        if let Some((c, text)) = soa_place.filter(|_| outcome == Outcome::Writeback) {
            // In place (gwb) or where Cloud Sync moves it: no second object, and no other group
            // may take the name.
            let key = crate::ad::dn::Dn::parse(&text)
                .map(|d| d.key())
                .unwrap_or_default();
            if let Some(other) = taken.get(&key) {
                outcome = Outcome::Skip;
                reason = GroupReason::NameCollision;
                detail = format!("group {other} gets the same name {c:?}");
            } else {
                taken.insert(key, id.as_str());
                dn = Some(text);
            }
            cn = Some(c);
        } else if outcome == Outcome::Writeback {
            let c = overrides
                .cn_for(id)
                .map(str::to_string)
                .unwrap_or_else(|| naming::group_cn(cn_format, id, g.name()));
            if let Some(ou) = &ou_names {
                let (text, key) = ou.child("CN", &c);
                let clash = inputs.ad.and_then(|ad| ad.by_dn_key(&key)).filter(|o| {
                    o.cloud_anchor().map(|a| a.to_string()).as_deref() != Some(id.as_str())
                });
                if let Some(o) = clash {
                    outcome = Outcome::Skip;
                    reason = GroupReason::NameCollision;
                    detail = format!(
                        "{} already exists and is not this group's object",
                        o.dn_text
                    );
                } else if let Some(other) = taken.get(&key) {
                    outcome = Outcome::Skip;
                    reason = GroupReason::NameCollision;
                    detail = format!("group {other} gets the same name {c:?}");
                } else if let Some(why) = sam.as_deref().and_then(|s| {
                    sams.get_or_insert_with(|| overrides::SamIndex::of(inputs.ad))
                        .clash(s)
                }) {
                    outcome = Outcome::Skip;
                    reason = GroupReason::NameCollision;
                    detail = why;
                    sam = None;
                } else {
                    taken.insert(key, id.as_str());
                    if let Some(s) = &sam {
                        sams.get_or_insert_with(|| overrides::SamIndex::of(inputs.ad))
                            .take(s, id);
                    }
                    dn = Some(text);
                }
            }
            cn = Some(c);
        }
        // Disabled groups that were written back earlier: kept (default) or deleted (modified).
        // A converted group's AD object is its original group (adopted, not created by a
        // writer): disabling writeback leaves it alone, never deletes it.
        if matches!(
            reason,
            GroupReason::WritebackDisabled | GroupReason::SecurityNotEnabled
        ) && !converted
            && let Some(o) = existing
        {
            match policy.deletion {
                DeletionBehavior::Default => {
                    outcome = Outcome::Keep;
                    detail = format!(
                        "{detail}; its AD group {} stays untouched until the cloud group is hard-deleted",
                        o.dn_text
                    );
                }
                DeletionBehavior::Modified => {
                    outcome = Outcome::Delete;
                    detail = format!(
                        "{detail}; its AD group {} is deleted (modified deletion behaviour)",
                        o.dn_text
                    );
                }
            }
        }
        let mail_attributes = match gtype {
            Some(t)
                if outcome == Outcome::Writeback
                    && t.carries_mail()
                    && target != Target::CloudSync =>
            {
                inputs.exchange_prepared
            }
            _ => None,
        };
        out.push(GroupForecast {
            id: id.clone(),
            display_name: g.name().to_string(),
            kind: Some(g.kind()),
            dynamic: g.is_dynamic(),
            outcome,
            reason,
            detail,
            on_premises_group_type: gtype,
            cn,
            dn,
            existing_dn: existing.map(|o| o.dn_text.to_string()),
            mail_attributes,
            sam_account_name: if outcome == Outcome::Writeback {
                sam
            } else {
                None
            },
            members: MemberForecast {
                collected: g.members.is_some(),
                total: g.members.as_ref().map_or(0, Vec::len),
                ..Default::default()
            },
        });
    }
    // Working maps are freed as soon as their pass is done (they add up on 100,000 groups).
    drop(taken);
    // Second pass: members, now that every group's outcome and DN are known. `out` holds the
    // index's groups first, in the index's order.
    let written: FastMap<&str, &str> = entries
        .iter()
        .zip(&out)
        .filter(|(_, f)| f.outcome == Outcome::Writeback)
        .map(|(e, f)| (e.id.as_str(), f.dn.as_deref().unwrap_or_default()))
        .collect();
    // A member's resolution depends only on the member and this target's inputs, and equal
    // members are one shared value (bundle::tenant): resolve each once.
    let mut memo: FastMap<*const Member, Shared> = FastMap::default();
    let shared = |r: Result<ResolvedMember, SkippedMember>| -> Shared {
        r.map(std::sync::Arc::new).map_err(std::sync::Arc::new)
    };
    let mut members: Vec<(usize, MemberForecast)> = Vec::new();
    for (i, (f, e)) in out
        .iter()
        .zip(entries)
        .enumerate()
        .filter(|(_, (f, _))| f.outcome == Outcome::Writeback)
    {
        let g = e.group;
        let mut m_out = MemberForecast {
            collected: f.members.collected,
            total: f.members.total,
            // Sized once: a million members must not leave a million slots of slack.
            resolved: Vec::with_capacity(g.members.as_ref().map_or(0, Vec::len)),
            skipped: Vec::new(),
        };
        for m in g.members.iter().flatten() {
            // By address: equal members are one value. One held by a single group is
            // remembered too (reading its count would touch every membership).
            let r = memo
                .entry(std::sync::Arc::as_ptr(m))
                .or_insert_with(|| shared(resolve_member(target, m, inputs, &written, index)))
                .clone();
            match r {
                Ok(r) => m_out.resolved.push(r),
                Err(s) => m_out.skipped.push(s),
            }
        }
        m_out.resolved.shrink_to_fit();
        m_out.skipped.shrink_to_fit();
        members.push((i, m_out));
    }
    drop(memo);
    drop(written);
    for (i, m) in members {
        out[i].members = m;
    }
    // Deleted groups: soft-deleted ones in deletedGroups, hard-deleted ones left in AD.
    let mut deleted_ids: HashSet<String> = HashSet::new();
    for g in inputs.tenant.deleted_groups.iter().flatten() {
        let id = g.id.to_ascii_lowercase();
        deleted_ids.insert(id.clone());
        let existing = ids::parse_guid(&id).and_then(|u| owned.get(&u).copied());
        let (outcome, detail) = soft_deleted_outcome(
            target,
            existing,
            inputs.ad.is_some() && inputs.target_ou.is_some(),
            policy,
        );
        out.push(GroupForecast {
            id: id.clone(),
            display_name: g.name().to_string(),
            kind: Some(g.kind()),
            dynamic: g.is_dynamic(),
            outcome,
            reason: GroupReason::SoftDeleted,
            detail,
            on_premises_group_type: None,
            cn: None,
            dn: None,
            existing_dn: existing.map(|o| o.dn_text.to_string()),
            mail_attributes: None,
            sam_account_name: None,
            members: MemberForecast::default(),
        });
    }
    if inputs.tenant.groups.is_some()
        && !inputs
            .tenant
            .incomplete_sections
            .iter()
            .any(|s| s == "groups")
    {
        let deleted_known = inputs.tenant.deleted_groups.is_some()
            && !inputs
                .tenant
                .incomplete_sections
                .iter()
                .any(|s| s == "deletedGroups");
        let mut orphans: Vec<(&Uuid, &&AdObject)> = owned
            .iter()
            .filter(|(id, _)| {
                let id = id.to_string();
                !index.contains(&id) && !deleted_ids.contains(&id)
            })
            .collect();
        orphans.sort_by_key(|(id, _)| **id);
        for (id, o) in orphans {
            let (outcome, detail) = if deleted_known {
                (
                    Outcome::Delete,
                    "its cloud group no longer exists (hard-deleted): the AD group is deleted"
                        .to_string(),
                )
            } else {
                (Outcome::Keep, "its cloud group is not among the groups; deletedGroups was not collected, so soft- and hard-deletion cannot be told apart: left untouched".to_string())
            };
            out.push(GroupForecast {
                id: id.to_string(),
                display_name: o.display_name.clone().unwrap_or_default(),
                kind: None,
                dynamic: false,
                outcome,
                reason: GroupReason::HardDeleted,
                detail,
                on_premises_group_type: None,
                cn: o.dn.rdn_value().map(str::to_string),
                dn: None,
                existing_dn: Some(o.dn_text.to_string()),
                mail_attributes: None,
                sam_account_name: None,
                members: MemberForecast::default(),
            });
        }
    }
    for g in out.iter_mut().filter(|g| g.outcome == Outcome::Delete) {
        if overrides.is_protected(&g.id) {
            g.outcome = Outcome::Keep;
            g.detail = format!(
                "{}; protected by the configuration: never deleted, left untouched",
                g.detail
            );
        } else if overrides.is_excluded(&g.id) {
            g.outcome = Outcome::Keep;
            g.detail = format!(
                "{}; excluded by the configuration: left untouched",
                g.detail
            );
        }
    }
    Forecast {
        target,
        groups: report_order(out, index),
    }
}

/// A member's resolution, shared by every group that has the member.
type Shared = Result<std::sync::Arc<ResolvedMember>, std::sync::Arc<SkippedMember>>;

/// Forecasts in report order: by folded display name, then id (stable). The index's groups
/// (the first entries of `out`, in the index's order) are already sorted once for every
/// target; only the few others (deleted groups, AD groups left behind) are sorted here.
fn report_order(out: Vec<GroupForecast>, index: &index::GroupIndex) -> Vec<GroupForecast> {
    let n = index.entries().len();
    let extra_keys: Vec<(String, String)> = out[n..]
        .iter()
        .map(|g| (g.display_name.to_lowercase(), g.id.clone()))
        .collect();
    let mut extras: Vec<usize> = (0..extra_keys.len()).collect();
    let by_key = |a: (&str, &str), b: (&str, &str)| {
        crate::text::natural_cmp(a.0, b.0).then_with(|| a.1.cmp(b.1))
    };
    extras.sort_by(|&a, &b| {
        by_key(
            (&extra_keys[a].0, &extra_keys[a].1),
            (&extra_keys[b].0, &extra_keys[b].1),
        )
    });
    let mut sorted = Vec::with_capacity(out.len());
    let mut slots: Vec<Option<GroupForecast>> = out.into_iter().map(Some).collect();
    let mut take = |i: usize| slots[i].take().expect("each forecast is placed once");
    let (mut a, mut b) = (
        index.report_order().iter().peekable(),
        extras.iter().peekable(),
    );
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(&&i), Some(&&j)) => {
                let (name, id) = index.entries()[i].order_key();
                // Equal keys: the index's group first, as a stable sort of `out` would.
                if by_key((name, id), (&extra_keys[j].0, &extra_keys[j].1)).is_le() {
                    a.next();
                    i
                } else {
                    b.next();
                    n + j
                }
            }
            (Some(&&i), None) => {
                a.next();
                i
            }
            (None, Some(&&j)) => {
                b.next();
                n + j
            }
            (None, None) => break,
        };
        sorted.push(take(next));
    }
    sorted
}

fn soft_deleted_outcome(
    target: Target,
    existing: Option<&AdObject>,
    ad_known: bool,
    policy: &Policy,
) -> (Outcome, String) {
    match existing {
        None if ad_known => (
            Outcome::Skip,
            "soft-deleted; it has no AD group in the target OU".into(),
        ),
        _ => {
            let what = existing.map_or("any AD group written back for it".to_string(), |o| {
                o.dn_text.to_string()
            });
            if policy.deletion == DeletionBehavior::Modified && target != Target::CloudSync {
                (
                    Outcome::Delete,
                    format!("soft-deleted; {what} is deleted (modified deletion behaviour)"),
                )
            } else {
                (
                    Outcome::Keep,
                    format!(
                        "soft-deleted; {what} stays untouched until the group is hard-deleted or restored"
                    ),
                )
            }
        }
    }
}

fn skipped(
    m: &Member,
    reason: MemberReason,
    detail: impl Into<std::borrow::Cow<'static, str>>,
) -> Result<ResolvedMember, SkippedMember> {
    Err(SkippedMember {
        id: m.id.clone(),
        display_name: m.display_name.clone(),
        reason,
        detail: detail.into(),
    })
}

fn resolved(m: &Member, o: &AdObject) -> Result<ResolvedMember, SkippedMember> {
    if let AdKind::Group {
        scope: GroupScope::DomainLocal,
        ..
    } = o.kind
    {
        return skipped(
            m,
            MemberReason::MemberDomainLocalGroup,
            format!(
                "{} is a domain-local group: A universal group cannot have a local group as a member.",
                o.dn_text
            ),
        );
    }
    Ok(ResolvedMember {
        id: m.id.clone(),
        dn: o.dn_text.clone(),
        guid: o.guid,
        reason: MemberReason::MemberResolved,
    })
}

fn unverified(m: &Member) -> Result<ResolvedMember, SkippedMember> {
    Ok(ResolvedMember {
        id: m.id.clone(),
        dn: m
            .on_premises_distinguished_name
            .as_deref()
            .unwrap_or_default()
            .into(),
        guid: None,
        reason: MemberReason::MemberUnverified,
    })
}

/// Look an on-premises principal up: SID first, then objectGUID from onPremisesObjectIdentifier
/// or onPremisesImmutableId. Cloud Sync matches on onPremisesObjectIdentifier only.
fn resolve_principal(
    target: Target,
    m: &Member,
    inputs: &Inputs,
    what: &str,
) -> Result<ResolvedMember, SkippedMember> {
    let sid = m
        .on_premises_security_identifier
        .as_deref()
        .filter(|s| !s.trim().is_empty());
    let oid = m
        .on_premises_object_identifier
        .as_deref()
        .and_then(ids::parse_guid);
    let imm = m
        .on_premises_immutable_id
        .as_deref()
        .and_then(ids::guid_from_immutable_id);
    if target == Target::CloudSync {
        let Some(guid) = oid else {
            if sid.is_none() && imm.is_none() && m.on_premises_sync_enabled != Some(true) {
                return skipped(
                    m,
                    MemberReason::MemberCloudOnly,
                    format!("cloud-only {what}"),
                );
            }
            return skipped(
                m,
                MemberReason::MemberNotFoundInAd,
                "Cloud Sync matches members on onPremisesObjectIdentifier (objectGUID), which this member lacks (Entra Connect 2.2.8.0 or later syncs it)",
            );
        };
        let Some(ad) = inputs.ad else {
            return unverified(m);
        };
        return match ad.by_guid(&guid) {
            Some(o) => resolved(m, o),
            None => skipped(
                m,
                MemberReason::MemberNotFoundInAd,
                format!("no AD object with objectGUID {guid}"),
            ),
        };
    }
    if sid.is_none() && oid.is_none() && imm.is_none() {
        if m.on_premises_sync_enabled == Some(true) {
            return skipped(
                m,
                MemberReason::MemberNotFoundInAd,
                format!("synced {what} without on-premises identifiers in the evidence"),
            );
        }
        return skipped(
            m,
            MemberReason::MemberCloudOnly,
            format!("cloud-only {what}: no AD account"),
        );
    }
    let Some(ad) = inputs.ad else {
        return unverified(m);
    };
    if let Some(o) = sid.and_then(|s| ad.by_sid(s)) {
        return resolved(m, o);
    }
    for g in [oid, imm].into_iter().flatten() {
        if let Some(o) = ad.by_guid(&g) {
            return resolved(m, o);
        }
    }
    let mut keys = Vec::new();
    if let Some(s) = sid {
        keys.push(format!("objectSid {s}"));
    }
    if let Some(g) = oid.or(imm) {
        keys.push(format!("objectGUID {g}"));
    }
    skipped(
        m,
        MemberReason::MemberNotFoundInAd,
        format!("no AD object with {}", keys.join(" or ")),
    )
}

fn resolve_member(
    target: Target,
    m: &Member,
    inputs: &Inputs,
    written: &FastMap<&str, &str>,
    groups: &index::GroupIndex,
) -> Result<ResolvedMember, SkippedMember> {
    match m.member_type() {
        MemberType::User => resolve_principal(target, m, inputs, "user"),
        MemberType::Group => {
            let id = m.id.to_ascii_lowercase();
            // A converted member group is its original AD group (found by SID) for every
            // target: that object keeps its SID and ACLs whether or not it is rewritten.
            if let Some(g) = groups
                .get(&id)
                .map(|e| e.group)
                .filter(|g| g.sync_state() == SyncState::Converted)
            {
                let Some(ad) = inputs.ad else {
                    return unverified(m);
                };
                let sid = g.on_premises_sid().unwrap_or_default();
                return match ad.by_sid(sid) {
                    Some(o) => resolved(m, o),
                    None => skipped(
                        m,
                        MemberReason::MemberNotFoundInAd,
                        format!("converted group without its original AD group (objectSid {sid})"),
                    ),
                };
            }
            let synced = groups
                .get(&id)
                .map(|e| e.group.on_premises_sync_enabled)
                .unwrap_or(m.on_premises_sync_enabled)
                == Some(true);
            if synced {
                if target == Target::CloudSync {
                    return skipped(
                        m,
                        MemberReason::MemberUnsupportedType,
                        "Cloud Sync does not provision groups synced from AD as members",
                    );
                }
                let mut m2 = m.clone();
                if m2.on_premises_security_identifier.is_none() {
                    m2.on_premises_security_identifier = groups
                        .get(&id)
                        .and_then(|e| e.group.on_premises_security_identifier.clone());
                }
                return resolve_principal(target, &m2, inputs, "group");
            }
            match written.get(id.as_str()) {
                Some(dn) => Ok(ResolvedMember {
                    id: m.id.clone(),
                    dn: (*dn).into(),
                    guid: None,
                    reason: MemberReason::MemberResolved,
                }),
                None => skipped(
                    m,
                    MemberReason::MemberGroupNotWrittenBack,
                    "nested cloud group is not written back by this target, so the nesting is not written",
                ),
            }
        }
        MemberType::Device => {
            if target == Target::CloudSync {
                return skipped(
                    m,
                    MemberReason::MemberUnsupportedType,
                    "Cloud Sync does not provision devices as members",
                );
            }
            let hybrid = m
                .trust_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("ServerAd"));
            if hybrid {
                return resolve_principal(target, m, inputs, "device");
            }
            if inputs.flags.device_writeback != Some(true) {
                let state = if inputs.flags.device_writeback.is_none() {
                    "unknown"
                } else {
                    "off"
                };
                return skipped(
                    m,
                    MemberReason::MemberDeviceRequiresDeviceWriteback,
                    format!(
                        "{} device: needs device writeback, which is {state}",
                        m.trust_type
                            .as_deref()
                            .unwrap_or("Entra registered or joined")
                    ),
                );
            }
            let Some(dev) = m.device_id.as_deref().and_then(ids::parse_guid) else {
                return skipped(
                    m,
                    MemberReason::MemberNotFoundInAd,
                    "device has no deviceId in the evidence",
                );
            };
            let Some(ad) = inputs.ad else {
                return unverified(m);
            };
            match ad.by_device_id(&dev) {
                Some(o) => resolved(m, o),
                None => skipped(
                    m,
                    MemberReason::MemberNotFoundInAd,
                    format!("no msDS-Device with msDS-DeviceID {dev}"),
                ),
            }
        }
        MemberType::Other => skipped(
            m,
            MemberReason::MemberUnsupportedType,
            format!(
                "{} members are not written back",
                m.odata_type
                    .as_deref()
                    .unwrap_or("untyped")
                    .trim_start_matches("#microsoft.graph.")
            ),
        ),
    }
}

#[cfg(test)]
mod tests;
