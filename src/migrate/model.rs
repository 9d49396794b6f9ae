//! The migration report's format, `gwb-migration/1`: the serde types `gwb migrate plan`
//! writes, and the closed set of consequences with their documented reasons. Stable API
//! (docs/migration.md): fields are only ever added within `gwb-migration/1`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::bundle::tenant::GroupKind;
use crate::core::{GroupReason, Outcome, Target};
use crate::plan::Plan;

/// The `format` value of every migration report.
pub const MIGRATION_FORMAT: &str = "gwb-migration/1";

/// What moving a group from one writer to another does to it: a closed set.
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
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Consequence {
    /// The same object, name, place, members and mail attributes as before.
    Unchanged,
    /// The group's CN changes.
    Renamed,
    /// The group's object moves to another container.
    Moved,
    /// The new writer creates a second object; the old one stays in AD.
    Duplicated,
    /// The new writer takes over the existing object in place (objectGUID and SID kept).
    Adopted,
    /// The object stays in AD and no writer maintains it any more.
    Orphaned,
    /// The object is deleted from AD.
    Deleted,
    /// Members the old writer wrote are not written by the new one.
    MembersDropped,
    /// Exchange attributes the old writer wrote are no longer written.
    MailAttributesDropped,
    /// The old writer writes the group back; the new one does not.
    NoLongerWritten,
    /// The new writer writes a group the old one did not.
    Created,
    /// The group's AD group type changes (for example from security to distribution).
    Retyped,
}

impl Consequence {
    pub const ALL: [Consequence; 12] = [
        Consequence::Unchanged,
        Consequence::Renamed,
        Consequence::Moved,
        Consequence::Duplicated,
        Consequence::Adopted,
        Consequence::Orphaned,
        Consequence::Deleted,
        Consequence::MembersDropped,
        Consequence::MailAttributesDropped,
        Consequence::NoLongerWritten,
        Consequence::Created,
        Consequence::Retyped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Consequence::Unchanged => "unchanged",
            Consequence::Renamed => "renamed",
            Consequence::Moved => "moved",
            Consequence::Duplicated => "duplicated",
            Consequence::Adopted => "adopted",
            Consequence::Orphaned => "orphaned",
            Consequence::Deleted => "deleted",
            Consequence::MembersDropped => "members-dropped",
            Consequence::MailAttributesDropped => "mail-attributes-dropped",
            Consequence::NoLongerWritten => "no-longer-written",
            Consequence::Created => "created",
            Consequence::Retyped => "retyped",
        }
    }

    /// Whether this consequence fails the migration's gate (exit 1) unless `--accept`ed:
    /// the ones that leave AD with a second object, an unmaintained one, none, or fewer
    /// members.
    pub fn gates(self) -> bool {
        matches!(
            self,
            Consequence::Duplicated
                | Consequence::Orphaned
                | Consequence::Deleted
                | Consequence::MembersDropped
        )
    }

    /// One line for `gwb codes`-style listings and the docs.
    pub fn meaning(self) -> &'static str {
        match self {
            Consequence::Unchanged => {
                "the group keeps its object, name, place, members and mail attributes"
            }
            Consequence::Renamed => "the group's CN changes (the object is renamed in place)",
            Consequence::Moved => "the group's object ends up in another container",
            Consequence::Duplicated => {
                "the new writer creates a second AD group; the old one stays"
            }
            Consequence::Adopted => {
                "the new writer takes over the existing AD group in place (objectGUID and SID kept)"
            }
            Consequence::Orphaned => "the AD group stays and no writer maintains it any more",
            Consequence::Deleted => "the AD group is deleted",
            Consequence::MembersDropped => "members the old writer wrote are no longer written",
            Consequence::MailAttributesDropped => {
                "mail attributes the old writer wrote are no longer written"
            }
            Consequence::NoLongerWritten => {
                "the old writer writes the group back, the new one does not"
            }
            Consequence::Created => "the new writer writes back a group the old one did not",
            Consequence::Retyped => "the AD group type changes",
        }
    }
}

/// A consequence of one group, with the documented reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupConsequence {
    pub code: Consequence,
    /// Why, for this group (a sentence for people).
    pub detail: String,
    /// The documented behaviour it rests on (Microsoft's sentence, or gwb's documented rule).
    pub source: &'static str,
}

/// One writer's handling of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Side {
    /// The writer (for `connect-v2 → cloud-sync`, Microsoft 365 groups stay with Connect,
    /// which reverts to `connect-v1`).
    pub writer: Target,
    pub outcome: Outcome,
    pub reason: GroupReason,
    pub detail: String,
    /// The object's DN after this writer has run (the existing object's, or the one it creates).
    pub dn: Option<String>,
    pub cn: Option<String>,
    /// The AD group type written (`universalSecurityGroup`, …).
    pub group_type: Option<&'static str>,
    /// Whether the AD object exists already and this writer matches it (its join).
    pub existing: bool,
    /// Members written (resolved), `None` when the members were not collected.
    pub members_written: Option<usize>,
    /// Whether Exchange attributes (mail, mailNickname, proxyAddresses) are written.
    pub mail_attributes: bool,
    /// Member ids written (not serialised; compared between the two sides).
    #[serde(skip)]
    pub member_ids: Vec<std::sync::Arc<str>>,
}

/// One group's migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MigratedGroup {
    pub id: String,
    pub display_name: String,
    pub kind: Option<GroupKind>,
    pub before: Side,
    pub after: Side,
    pub consequences: Vec<GroupConsequence>,
    /// True when the preparation (`--out-preparation`) acts on this group.
    pub prepared: bool,
}

impl MigratedGroup {
    pub fn has(&self, c: Consequence) -> bool {
        self.consequences.iter().any(|x| x.code == c)
    }
    /// Whether anything changes for the group.
    pub fn changes(&self) -> bool {
        !self
            .consequences
            .iter()
            .all(|c| c.code == Consequence::Unchanged)
    }
}

/// The Cloud Sync configuration the migration assumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudSyncAssumed {
    /// The `cn` mapping: `default` (displayName_last12) or `connect` (`Append("Group_",[objectId])`).
    pub cn_mapping: &'static str,
    /// The target container groups are created in.
    pub container: String,
    /// "Provision membership to on-premises users" (off by default).
    pub membership_to_on_premises_users: bool,
    /// Where these values come from.
    pub source: &'static str,
}

/// One step of the Connect-side checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChecklistStep {
    pub step: usize,
    pub title: String,
    /// The PowerShell to run (empty for portal steps).
    pub powershell: String,
    pub irreversible: bool,
    pub source: &'static str,
}

/// The whole migration report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Migration {
    pub format: &'static str,
    pub gwb_version: &'static str,
    pub created_at: String,
    pub from: Target,
    pub to: Target,
    /// Entra Connect's writeback container (the OU the old writer writes into).
    pub connect_container: Option<String>,
    /// Present when `to` is `cloud-sync`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_sync: Option<CloudSyncAssumed>,
    /// Groups per consequence (every consequence listed, zero included).
    pub summary: BTreeMap<Consequence, usize>,
    /// Consequences that fail the gate, not accepted.
    pub gate: Vec<Consequence>,
    /// Every group either writer touches, in report order. Rendered on several cores in JSON
    /// (crate::par_json), at depth 2: report, groups.
    #[serde(serialize_with = "crate::par_json::seq::<2, _, _>")]
    pub groups: Vec<MigratedGroup>,
    /// Groups to add to Cloud Sync's scope (ids), when `to` is `cloud-sync`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scope_additions: Vec<String>,
    /// The `cn` mapping expression that keeps Connect's names (when `to` is `cloud-sync`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cn_mapping_to_keep_names: Option<&'static str>,
    /// The Connect-side steps, in order.
    pub checklist: Vec<ChecklistStep>,
    /// The preparation: an ordinary gwb plan (`gwb-plan/1`), or `None` when nothing is to be
    /// prepared (or the AD side is not known).
    pub preparation: Option<Plan>,
    /// Why there is no preparation, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preparation_note: Option<String>,
}

impl Migration {
    /// Count groups per consequence.
    pub fn count(groups: &[MigratedGroup]) -> BTreeMap<Consequence, usize> {
        let mut m: BTreeMap<Consequence, usize> =
            Consequence::ALL.iter().map(|c| (*c, 0)).collect();
        for g in groups {
            let mut seen = Vec::new();
            for c in &g.consequences {
                if !seen.contains(&c.code) {
                    seen.push(c.code);
                    *m.entry(c.code).or_insert(0) += 1;
                }
            }
        }
        m
    }
}
