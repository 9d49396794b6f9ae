//! The saved plan, format `gwb-plan/1`: the serde types `gwb plan` writes, `gwb show` renders
//! and `gwb apply` / `gwb sync` carry out. This is stable, documented API (docs/executor.md):
//! fields are only ever added, never renamed or removed, within `gwb-plan/1`.
//!
//! A plan is the diff of the desired AD state (the decision core for target `gwb` under a
//! policy) against the AD state read at planning time. Besides the changes it records what
//! apply needs to refuse a stale plan: the objectGUID, uSNChanged and DN of every object it
//! touches, the target OU's DN and objectGUID, and fingerprints of the inputs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::core::{CnFormat, DeletionBehavior, GroupReason, MemberLimitBehavior, MemberReason};

/// The `format` value of every plan this version writes and reads.
pub const PLAN_FORMAT: &str = "gwb-plan/1";

/// Entra Connect's accidental-deletion default, and gwb's default `--max-deletes`.
pub const DEFAULT_MAX_DELETES: usize = 500;

/// A saved plan (`gwb plan --out plan.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Always [`PLAN_FORMAT`]; a reader refuses any other value.
    pub format: String,
    /// The gwb version that made the plan (`CARGO_PKG_VERSION`).
    pub gwb_version: String,
    /// When the plan was made (RFC 3339, UTC).
    pub created_at: String,
    /// The policy the desired state was computed under.
    pub policy: PlanPolicy,
    /// Where the inputs came from and their SHA-256 fingerprints.
    pub inputs: PlanInputs,
    /// The OU gwb writes into, as seen at planning time.
    pub target_ou: TargetOu,
    /// Planning-time safety decisions apply must honour before its first write.
    pub safety: Safety,
    /// Counts per action and of member changes.
    pub summary: Summary,
    /// One entry per cloud group and per owned AD object, sorted by display name then id.
    pub groups: Vec<PlannedGroup>,
    /// Objects in the target OU that gwb does not own and never touches (for review).
    #[serde(default)]
    pub unowned: Vec<UnownedObject>,
    /// SHA-256 of the parts outside the groups, by name (see [`super::seal`]): they name the
    /// part that differs when a plan was changed after it was made.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub section_sha256: BTreeMap<String, String>,
    /// SHA-256 of the plan's canonical serialisation (this field left out; see
    /// [`super::seal`]): the digest a change record approves and `gwb apply --expect-sha256`
    /// pins. Set by `gwb plan`; a plan without it is refused by `gwb show` and `gwb apply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// The admin's choices in force when the plan was made (the same flags as `gwb audit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanPolicy {
    /// `--deletion default|modified`.
    pub deletion: DeletionBehavior,
    /// `--member-limit default|raised`.
    pub member_limit: MemberLimitBehavior,
    /// `--cn-format object-id|display-name`.
    pub cn_format: CnFormat,
    /// `--max-deletes`: the deletion threshold apply checks before its first write.
    pub max_deletes: usize,
}

impl Default for PlanPolicy {
    fn default() -> Self {
        PlanPolicy {
            deletion: DeletionBehavior::Default,
            member_limit: MemberLimitBehavior::Default,
            cn_format: CnFormat::ObjectId,
            max_deletes: DEFAULT_MAX_DELETES,
        }
    }
}

/// Where an input came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum InputSource {
    /// A snapshot bundle's tenant.json (`--snapshot DIR`).
    Snapshot,
    /// Live Microsoft Graph.
    Graph,
    /// A snapshot bundle's ad.ldif.
    Ldif,
    /// Live LDAP discovery.
    Ldap,
    /// Not supplied.
    None,
}

/// One input's origin and fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fingerprint {
    pub source: InputSource,
    /// A path or URL without credentials (informational).
    pub location: Option<String>,
    /// Lower-case hex SHA-256 of the file as read (snapshot, ldif), or of its canonical
    /// serialization (live Graph: the tenant.json gwb would write; live LDAP: the LDIF of the
    /// entries read). `None` when the input was not supplied.
    pub sha256: Option<String>,
}

/// The inputs of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanInputs {
    /// The Entra tenant id, when the evidence names it.
    pub tenant_id: Option<String>,
    /// The cloud side (tenant.json or live Graph).
    pub tenant: Fingerprint,
    /// The AD side (ad.ldif or live LDAP).
    pub ad: Fingerprint,
}

/// Where the target OU came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TargetOuSource {
    /// `--target-ou`.
    Flag,
    /// The bundle's bundle.json `targetOu`.
    Bundle,
    /// The tenant's `writebackConfiguration.unifiedGroupContainer`.
    Tenant,
    /// The writeback container named in an Entra Connect export.
    Connect,
}

/// The target OU as seen at planning time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetOu {
    pub dn: String,
    /// `None` when the AD evidence lacks it (unknown: apply then checks the DN only).
    pub object_guid: Option<Uuid>,
    pub source: TargetOuSource,
    /// Whether the OU exists in the AD evidence (`None`: no AD evidence).
    pub exists: Option<bool>,
}

/// Planning-time safety decisions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Safety {
    /// Whether the evidence proves deletions: a complete groups section, no incomplete
    /// sections, not a partial `--evidence` export.
    pub delete_proof: DeleteProofState,
    /// Reasons apply refuses to run (each names the flag that overrides it, if any).
    #[serde(default)]
    pub refusals: Vec<Refusal>,
}

/// Whether deletes are proven for this plan as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteProofState {
    /// True when hard deletes may be planned at all.
    pub complete: bool,
    /// Why not, when `complete` is false (e.g. `incomplete sections: groups`).
    pub detail: Option<String>,
    /// True when each hard delete was confirmed by a Graph GET answering 404.
    pub graph_checked: bool,
}

/// A stable refusal code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalCode {
    /// Entra Connect writes back into the same OU (tenant writeback flags on and
    /// `unifiedGroupContainer` equal to the target OU). Overridden by `--takeover`.
    ConnectWritesTargetOu,
    /// The target OU is missing from the AD evidence. Not overridable.
    TargetOuMissing,
}

/// A reason apply refuses this plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    pub code: RefusalCode,
    pub detail: String,
    /// The flag that overrides the refusal (`--takeover`), if it can be overridden.
    pub override_flag: Option<String>,
}

/// What the plan does to one group's AD object: a closed set.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Add a new group object in the target OU.
    Create,
    /// Modify attributes and/or members of an owned object in place.
    Update,
    /// Change the CN (modrdn), or move an owned object back into the target OU; may also
    /// carry attribute and member changes applied after the rename.
    Rename,
    /// Delete an owned object (proof recorded in `deleteProof`).
    Delete,
    /// An owned object left frozen (default deletion behaviour, or deletion not proven).
    Keep,
    /// Nothing written: the group is not written back.
    Skip,
    /// Written back and already up to date.
    Noop,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Create,
        Action::Update,
        Action::Rename,
        Action::Delete,
        Action::Keep,
        Action::Skip,
        Action::Noop,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Rename => "rename",
            Action::Delete => "delete",
            Action::Keep => "keep",
            Action::Skip => "skip",
            Action::Noop => "noop",
        }
    }
    /// Whether apply writes anything for this action.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Action::Create | Action::Update | Action::Rename | Action::Delete
        )
    }
}

/// Which attribute(s) carry the ownership stamp `Group_<objectId>` (the core's type).
pub use crate::core::ownership::StampSource;

/// The AD object as it was at planning time (absent for `create` and `skip`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrentObject {
    /// The DN now (differs from the group's `dn` for `rename`).
    pub dn: String,
    /// `None` when the AD evidence lacks it (unknown).
    pub object_guid: Option<Uuid>,
    /// `None` when the AD evidence lacks it (unknown: apply then cannot detect a change).
    pub usn_changed: Option<u64>,
    pub stamp: StampSource,
}

/// An attribute value: one string, or several for multi-valued attributes (`proxyAddresses`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum AttrValue {
    One(String),
    Many(Vec<String>),
}

impl AttrValue {
    /// The values, as an LDAP modify carries them.
    pub fn values(&self) -> Vec<&str> {
        match self {
            AttrValue::One(s) => vec![s.as_str()],
            AttrValue::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// One attribute's change. `before: null` adds it, `after: null` removes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttrChange {
    pub before: Option<AttrValue>,
    pub after: Option<AttrValue>,
}

/// A member that is not written, with the core's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkippedRef {
    pub id: String,
    pub reason: MemberReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Member changes of one group (DNs as the desired state names them: for a nested group
/// created in the same plan, the DN it will get).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberChanges {
    pub add: Vec<String>,
    pub remove: Vec<String>,
    pub skipped: Vec<SkippedRef>,
    /// Members already present and kept.
    #[serde(default)]
    pub unchanged: usize,
    /// True when the cloud group's members are unknown (not collected, `null`, a partial
    /// export, an unreadable members page): the AD membership is left exactly as it is, so
    /// `add` and `remove` are empty. Absent (false) otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
}

/// The sentence every plan format shows for a group whose members are unknown.
pub const MEMBERS_UNKNOWN: &str = "members unknown: membership left as it is";

/// Why a delete is proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeleteProof {
    /// Absent from a complete groups and deletedGroups snapshot (hard-deleted).
    CompleteSnapshot,
    /// Absent from live Graph and a GET of its id answered 404.
    GraphNotFound,
    /// Soft-deleted or disabled, and `--deletion modified` deletes it.
    ModifiedDeletion,
}

/// One group in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlannedGroup {
    /// The Entra objectId (lower case).
    pub id: String,
    pub display_name: String,
    pub action: Action,
    /// The core's reason code (docs/codes.md).
    pub reason: GroupReason,
    /// A sentence for people.
    pub detail: String,
    /// The DN the object has after the plan (`None` for skip, and for delete and keep,
    /// whose DN is `current.dn`).
    pub dn: Option<String>,
    /// The CN (unescaped) after the plan.
    pub cn: Option<String>,
    /// AD `groupType` written (signed 32-bit: -2147483640 universal security, 8 universal
    /// distribution).
    pub group_type: Option<i32>,
    /// The object at planning time, for actions on an existing object.
    pub current: Option<CurrentObject>,
    /// Attribute changes (only changed attributes; every attribute on `create`).
    /// Never `member`: members are in `members`.
    pub attributes: BTreeMap<String, AttrChange>,
    pub members: MemberChanges,
    /// Set on `delete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_proof: Option<DeleteProof>,
    /// SHA-256 of this group's canonical serialisation (this field left out), set when the
    /// plan is sealed: names the group when a plan was changed after it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// An object in the target OU that gwb does not own (no stamp): never modified or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnownedObject {
    pub dn: String,
    pub object_guid: Option<Uuid>,
    pub usn_changed: Option<u64>,
    /// Why it is listed: `decoy` (CN like `Group_<id>` without a stamp) or `name-taken`
    /// (holds a CN a group would get).
    pub why: String,
}

/// Counts for the closing line and for change tickets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub rename: usize,
    pub delete: usize,
    pub keep: usize,
    pub skip: usize,
    pub noop: usize,
    pub member_adds: usize,
    pub member_removes: usize,
    pub attribute_changes: usize,
}

impl Summary {
    /// Count a plan's groups.
    pub fn of(groups: &[PlannedGroup]) -> Summary {
        let mut s = Summary::default();
        for g in groups {
            *match g.action {
                Action::Create => &mut s.create,
                Action::Update => &mut s.update,
                Action::Rename => &mut s.rename,
                Action::Delete => &mut s.delete,
                Action::Keep => &mut s.keep,
                Action::Skip => &mut s.skip,
                Action::Noop => &mut s.noop,
            } += 1;
            s.member_adds += g.members.add.len();
            s.member_removes += g.members.remove.len();
            s.attribute_changes += g.attributes.len();
        }
        s
    }
    /// Groups that change nothing (keep, skip, noop).
    pub fn unchanged(&self) -> usize {
        self.keep + self.skip + self.noop
    }
    /// True when applying the plan writes nothing.
    pub fn is_empty(&self) -> bool {
        self.create + self.update + self.rename + self.delete == 0
    }
}

/// A plan file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanLoadError {
    #[error("{path}: not a gwb plan: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: the file is empty: expected a gwb plan (gwb plan --out FILE writes one)")]
    Empty { path: String },
    #[error("{path}: plan format {found:?} is not supported (this gwb reads {PLAN_FORMAT:?})")]
    Format { path: String, found: String },
}

impl Plan {
    /// Parse a saved plan; `path` names the file in errors.
    pub fn from_json(text: &str, path: &str) -> Result<Plan, PlanLoadError> {
        if text.trim().is_empty() {
            return Err(PlanLoadError::Empty {
                path: path.to_string(),
            });
        }
        #[derive(Deserialize)]
        struct Head {
            format: Option<String>,
        }
        let head: Head = serde_json::from_str(text).map_err(|source| PlanLoadError::Json {
            path: path.to_string(),
            source,
        })?;
        let found = head.format.unwrap_or_default();
        if found != PLAN_FORMAT {
            return Err(PlanLoadError::Format {
                path: path.to_string(),
                found,
            });
        }
        serde_json::from_str(text).map_err(|source| PlanLoadError::Json {
            path: path.to_string(),
            source,
        })
    }

    /// Groups apply writes, in plan order.
    pub fn changes(&self) -> impl Iterator<Item = &PlannedGroup> {
        self.groups.iter().filter(|g| g.action.writes())
    }

    /// A refusal not overridden by the given flags (e.g. `["--takeover"]`).
    pub fn refusal(&self, overrides: &[&str]) -> Option<&Refusal> {
        self.safety.refusals.iter().find(|r| {
            r.override_flag
                .as_deref()
                .is_none_or(|f| !overrides.contains(&f))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Plan {
        let mut attributes = BTreeMap::new();
        attributes.insert(
            "displayName".to_string(),
            AttrChange {
                before: Some(AttrValue::One("Old".into())),
                after: Some(AttrValue::One("New".into())),
            },
        );
        attributes.insert(
            "proxyAddresses".to_string(),
            AttrChange {
                before: None,
                after: Some(AttrValue::Many(vec!["SMTP:a@contoso.com".into()])),
            },
        );
        let groups = vec![PlannedGroup {
            id: "3a5c3221-c465-48c0-95b8-e9305786a271".into(),
            display_name: "New".into(),
            action: Action::Update,
            reason: GroupReason::Eligible,
            detail: "isEnabled is true".into(),
            dn: Some("CN=Group_3a5c3221-c465-48c0-95b8-e9305786a271,OU=WB,DC=lab".into()),
            cn: Some("Group_3a5c3221-c465-48c0-95b8-e9305786a271".into()),
            group_type: Some(i32::MIN | 8),
            current: Some(CurrentObject {
                dn: "CN=Group_3a5c3221-c465-48c0-95b8-e9305786a271,OU=WB,DC=lab".into(),
                object_guid: Some(Uuid::nil()),
                usn_changed: Some(4711),
                stamp: StampSource::Both,
            }),
            attributes,
            members: MemberChanges {
                add: vec!["CN=u1,DC=lab".into()],
                remove: vec![],
                skipped: vec![SkippedRef {
                    id: "u2".into(),
                    reason: MemberReason::MemberCloudOnly,
                    detail: None,
                }],
                unchanged: 3,
                unknown: false,
            },
            delete_proof: None,
            sha256: None,
        }];
        Plan {
            format: PLAN_FORMAT.into(),
            gwb_version: "0.1.0".into(),
            created_at: "2026-12-01T09:00:00Z".into(),
            policy: PlanPolicy::default(),
            inputs: PlanInputs {
                tenant_id: None,
                tenant: Fingerprint {
                    source: InputSource::Snapshot,
                    location: Some("fixtures/contoso".into()),
                    sha256: Some("00".into()),
                },
                ad: Fingerprint {
                    source: InputSource::Ldif,
                    location: None,
                    sha256: None,
                },
            },
            target_ou: TargetOu {
                dn: "OU=WB,DC=lab".into(),
                object_guid: None,
                source: TargetOuSource::Flag,
                exists: Some(true),
            },
            safety: Safety {
                delete_proof: DeleteProofState {
                    complete: true,
                    detail: None,
                    graph_checked: false,
                },
                refusals: vec![Refusal {
                    code: RefusalCode::ConnectWritesTargetOu,
                    detail: "x".into(),
                    override_flag: Some("--takeover".into()),
                }],
            },
            summary: Summary::of(&groups),
            groups,
            unowned: vec![],
            section_sha256: BTreeMap::new(),
            sha256: None,
        }
    }

    #[test]
    fn a_plan_round_trips_through_json() {
        let p = sample();
        let text = serde_json::to_string_pretty(&p).unwrap();
        assert!(text.contains("\"format\": \"gwb-plan/1\""));
        assert!(text.contains("\"action\": \"update\""));
        assert!(text.contains("\"reason\": \"eligible\""));
        assert!(text.contains("\"before\": \"Old\""));
        assert!(text.contains("\"usnChanged\": 4711"));
        assert_eq!(Plan::from_json(&text, "p.json").unwrap(), p);
        assert_eq!(p.summary.update, 1);
        assert_eq!(p.summary.member_adds, 1);
        assert!(!p.summary.is_empty());
    }

    #[test]
    fn other_formats_and_garbage_are_refused_naming_the_file() {
        let e = Plan::from_json(r#"{"format":"gwb-audit/1"}"#, "x.json").unwrap_err();
        assert!(e.to_string().starts_with("x.json: plan format"), "{e}");
        let e = Plan::from_json("{", "y.json").unwrap_err();
        assert!(e.to_string().starts_with("y.json: not a gwb plan"), "{e}");
    }

    #[test]
    fn refusals_honour_their_override_flag() {
        let p = sample();
        assert!(p.refusal(&[]).is_some());
        assert!(p.refusal(&["--takeover"]).is_none());
    }

    #[test]
    fn action_names_are_stable() {
        let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            names,
            [
                "create", "update", "rename", "delete", "keep", "skip", "noop"
            ]
        );
        for a in Action::ALL {
            assert_eq!(
                serde_json::to_value(a).unwrap(),
                serde_json::Value::from(a.as_str())
            );
        }
    }
}
