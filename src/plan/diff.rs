//! The pure diff of the desired AD state (`core::desired`) against the AD state read at
//! planning time, giving a [`Plan`]. No I/O: the loader (`plan::load`) supplies the snapshot,
//! the fingerprints and, with live Graph, the ids a GET confirmed absent.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::ad::{AdKind, AdObject, AdSnapshot, Dn};
use crate::bundle::Snapshot;
use crate::core::desired::{self, COMPARED_ATTRIBUTES, Desired, DesiredGroup};
use crate::core::inputs::{OuSource, Prepared, unified_group_container};
use crate::core::ownership::{self, EXTERNAL_DIRECTORY_OBJECT_ID};
use crate::core::{FeatureState, GroupForecast, GroupReason, Outcome, Policy};

use super::model::*;

/// What the loader knows besides the snapshot.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub policy: PlanPolicy,
    pub inputs: PlanInputs,
    pub created_at: String,
    /// Why the groups section cannot prove deletions, beyond what the snapshot says (e.g.
    /// groups read from a partial `--evidence` export).
    pub partial_evidence: Option<String>,
    /// Live Graph: the ids a per-id GET answered 404 for. `None` for a snapshot.
    pub graph_absent: Option<HashSet<String>>,
}

/// The core's policy for a plan (feature state does not apply to target `gwb`).
pub fn core_policy(p: &PlanPolicy) -> Policy {
    Policy {
        deletion: p.deletion,
        member_limit: p.member_limit,
        cn_format: p.cn_format,
        feature_state: FeatureState::AsIfEnabled,
    }
}

fn ou_source(s: OuSource) -> TargetOuSource {
    match s {
        OuSource::Flag => TargetOuSource::Flag,
        OuSource::Bundle => TargetOuSource::Bundle,
        OuSource::Tenant => TargetOuSource::Tenant,
        OuSource::Connect => TargetOuSource::Connect,
    }
}

/// A comparison key for a DN value (AD's `member` values and planned DNs).
pub fn dn_key(s: &str) -> String {
    match Dn::parse(s) {
        Ok(d) => d.key(),
        Err(_) => s.to_ascii_lowercase(),
    }
}

/// The current values of one compared attribute on an AD object (`None`: absent).
pub fn current_values(o: &AdObject, attr: &str) -> Option<Vec<String>> {
    let one = |v: &Option<String>| v.as_ref().map(|s| vec![s.clone()]);
    match attr {
        "groupType" => o.group_type.map(|t| vec![t.to_string()]),
        "displayName" => one(&o.display_name),
        "description" => one(&o.description),
        "adminDescription" => one(&o.admin_description),
        EXTERNAL_DIRECTORY_OBJECT_ID => one(&o.external_directory_object_id),
        "mail" => one(&o.mail),
        "mailNickname" => one(&o.mail_nickname),
        "proxyAddresses" => (!o.proxy_addresses.is_empty()).then(|| o.proxy_addresses.clone()),
        _ => None,
    }
}

fn value_of(attr: &str, v: Vec<String>) -> AttrValue {
    if desired::is_multi_valued(attr) {
        AttrValue::Many(v)
    } else {
        AttrValue::One(v.into_iter().next().unwrap_or_default())
    }
}

fn attribute_changes(
    d: &DesiredGroup,
    f: &GroupForecast,
    current: Option<&AdObject>,
    ad: &AdSnapshot,
) -> BTreeMap<String, AttrChange> {
    let mut out = BTreeMap::new();
    for &attr in COMPARED_ATTRIBUTES {
        let after = d.attributes.get(attr).cloned();
        let before = current.and_then(|o| current_values(o, attr));
        if current.is_some() && !desired::manages(attr, f, ad) {
            continue;
        }
        // Unknown is never empty: an attribute whose cloud value is unknown is left as it is.
        if current.is_some() && d.unknown_attributes.contains(&attr) {
            continue;
        }
        let same = match (&before, &after) {
            (Some(b), Some(a)) => {
                let (mut b, mut a) = (b.clone(), a.clone());
                b.sort();
                a.sort();
                a == b
            }
            (None, None) => true,
            _ => false,
        };
        if !same {
            out.insert(
                attr.to_string(),
                AttrChange {
                    before: before.map(|v| value_of(attr, v)),
                    after: after.map(|v| value_of(attr, v)),
                },
            );
        }
    }
    out
}

fn current_object(o: &AdObject) -> CurrentObject {
    CurrentObject {
        dn: o.dn_text.to_string(),
        object_guid: o.guid,
        usn_changed: o.usn_changed,
        stamp: o
            .stamp()
            .map_or(StampSource::AdminDescription, |s| s.source),
    }
}

/// Whether the evidence proves deletions for the plan as a whole.
pub fn delete_proof_state(s: &Snapshot, opts: &PlanOptions) -> DeleteProofState {
    let t = &s.tenant;
    let mut incomplete: Vec<String> = t.incomplete_sections.clone();
    for sec in &s.manifest.incomplete_sections {
        if !incomplete.contains(sec) {
            incomplete.push(sec.clone());
        }
    }
    let why = if t.groups.is_none() {
        Some("the groups section was not collected".to_string())
    } else if !incomplete.is_empty() {
        Some(format!("incomplete sections: {}", incomplete.join(", ")))
    } else if t.deleted_groups.is_none() {
        Some(
            "deletedGroups was not collected, so soft- and hard-deletion cannot be told apart"
                .to_string(),
        )
    } else {
        opts.partial_evidence.clone()
    };
    DeleteProofState {
        complete: why.is_none(),
        detail: why,
        graph_checked: opts.graph_absent.is_some(),
    }
}

/// The takeover guard: Entra Connect writes back into the target OU (a writeback feature on
/// and its container equal to the target OU).
pub fn takeover_refusal(s: &Snapshot, prepared: &Prepared, ou: &Dn) -> Option<Refusal> {
    let on = prepared.flags.v1 == Some(true) || prepared.flags.v2 == Some(true);
    if !on {
        return None;
    }
    let containers = [
        unified_group_container(s).map(|c| (c, "unifiedGroupContainer")),
        s.connect
            .writeback_container
            .clone()
            .map(|c| (c, "the Connect export's writeback container")),
    ];
    containers.into_iter().flatten().find_map(|(c, what)| {
        let same = Dn::parse(c.trim()).is_ok_and(|d| d == *ou);
        same.then(|| Refusal {
            code: RefusalCode::ConnectWritesTargetOu,
            detail: format!(
                "Entra Connect group writeback is on and writes into {ou} ({what}): two writers would fight over the same groups. Turn Connect's group writeback off first, or pass --takeover to let gwb adopt its groups"
            ),
            override_flag: Some("--takeover".to_string()),
        })
    })
}

/// Build the plan. Pure: same snapshot and options, same plan.
pub fn build(s: &Snapshot, prepared: &Prepared, opts: &PlanOptions) -> Result<Plan, PlanError> {
    build_with(
        s,
        prepared,
        opts,
        &crate::core::overrides::Overrides::default(),
    )
}

/// [`build`] with the configuration's per-group overrides (exclude, CN, protected).
pub fn build_with(
    s: &Snapshot,
    prepared: &Prepared,
    opts: &PlanOptions,
    overrides: &crate::core::overrides::Overrides,
) -> Result<Plan, PlanError> {
    let Some(ad) = s.ad.as_ref() else {
        return Err(PlanError::NoAd);
    };
    let Some((ou, ou_src)) = prepared.target_ou.as_ref() else {
        return Err(PlanError::NoTargetOu);
    };
    let inputs = prepared.inputs(s);
    let policy = core_policy(&opts.policy);
    let desired = desired::desired_with(&inputs, &policy, overrides);
    let proof = delete_proof_state(s, opts);
    let ou_obj = ad.by_dn(ou);
    let mut refusals = Vec::new();
    if ou_obj.is_none() {
        refusals.push(Refusal {
            code: RefusalCode::TargetOuMissing,
            detail: format!("the target OU {ou} does not exist in AD: create it first"),
            override_flag: None,
        });
    }
    refusals.extend(takeover_refusal(s, prepared, ou));
    let groups = diff(&desired, ad, &proof, opts);
    // The desired state of a large tenant is millions of allocations: freed alongside.
    crate::background::drop_later(desired);
    let unowned = unowned_objects(ad, ou);
    let mut plan = Plan {
        format: PLAN_FORMAT.to_string(),
        gwb_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: opts.created_at.clone(),
        policy: opts.policy,
        inputs: opts.inputs.clone(),
        target_ou: TargetOu {
            dn: ou_obj.map_or_else(|| ou.to_string(), |o| o.dn_text.to_string()),
            object_guid: ou_obj.and_then(|o| o.guid),
            source: ou_source(*ou_src),
            exists: Some(ou_obj.is_some()),
        },
        safety: Safety {
            delete_proof: proof,
            refusals,
        },
        summary: Summary::of(&groups),
        groups,
        unowned,
        section_sha256: Default::default(),
        sha256: None,
    };
    plan.seal();
    Ok(plan)
}

/// Objects in the target OU without gwb's stamp: never touched, listed for review.
fn unowned_objects(ad: &AdSnapshot, ou: &Dn) -> Vec<UnownedObject> {
    let mut v: Vec<UnownedObject> = ad
        .children(ou)
        .filter(|o| matches!(o.kind, AdKind::Group { .. }) && o.stamp().is_none())
        .map(|o| UnownedObject {
            dn: o.dn_text.to_string(),
            object_guid: o.guid,
            usn_changed: o.usn_changed,
            why: if o.dn.rdn_value().is_some_and(ownership::looks_stamped_cn) {
                "decoy".to_string()
            } else {
                "not-stamped".to_string()
            },
        })
        .collect();
    v.sort_by_key(|u| dn_key(&u.dn));
    v
}

/// Diff every forecast group against AD.
pub fn diff(
    desired: &Desired,
    ad: &AdSnapshot,
    proof: &DeleteProofState,
    opts: &PlanOptions,
) -> Vec<PlannedGroup> {
    // Owned groups that are renamed: AD rewrites member values that point at them, so the
    // member diff compares against their new DN.
    let mut renamed: HashMap<String, Arc<str>> = HashMap::new();
    for f in &desired.forecast.groups {
        if let (Some(d), Some(old)) = (desired.groups.get(&f.id), &f.existing_dn) {
            let new_key = d.dn.key();
            let old_key = dn_key(old);
            if new_key != old_key {
                renamed.insert(old_key, d.dn.to_string().into());
            }
        }
    }
    desired
        .forecast
        .groups
        .iter()
        .map(|f| plan_group(f, desired.groups.get(&f.id), ad, &renamed, proof, opts))
        .collect()
}

fn skipped_refs(f: &GroupForecast) -> Vec<SkippedRef> {
    f.members
        .skipped
        .iter()
        .map(|m| SkippedRef {
            id: m.id.to_string(),
            reason: m.reason,
            detail: Some(m.detail.to_string()),
        })
        .collect()
}

fn plan_group(
    f: &GroupForecast,
    d: Option<&DesiredGroup>,
    ad: &AdSnapshot,
    renamed: &HashMap<String, Arc<str>>,
    proof: &DeleteProofState,
    opts: &PlanOptions,
) -> PlannedGroup {
    let existing = f
        .existing_dn
        .as_deref()
        .and_then(|t| Dn::parse(t).ok())
        .and_then(|dn| ad.by_dn(&dn));
    let mut g = PlannedGroup {
        id: f.id.clone(),
        display_name: f.display_name.clone(),
        action: Action::Skip,
        reason: f.reason,
        detail: f.detail.clone(),
        dn: None,
        cn: None,
        group_type: None,
        current: existing.map(current_object),
        attributes: BTreeMap::new(),
        members: MemberChanges::default(),
        delete_proof: None,
        sha256: None,
    };
    match (f.outcome, d) {
        (Outcome::Writeback, Some(d)) => {
            g.dn = Some(d.dn.to_string());
            g.cn = Some(d.cn.clone());
            g.group_type = Some(d.group_type);
            g.attributes = attribute_changes(d, f, existing, ad);
            g.members = member_changes(d, existing, renamed);
            if existing.is_some() && !d.unknown_attributes.is_empty() {
                g.detail = format!(
                    "{}; {} unknown in the cloud data: left as it is",
                    g.detail,
                    d.unknown_attributes.join(", ")
                );
            }
            g.members.skipped = skipped_refs(f);
            g.action = match existing {
                None => Action::Create,
                Some(o) => {
                    let same_cn = o.dn.rdn_value() == Some(d.cn.as_str())
                        && o.dn.parent().is_some_and(|p| d.dn.parent() == Some(p));
                    if !same_cn {
                        g.detail = format!("{}; renamed from {}", g.detail, o.dn_text);
                        Action::Rename
                    } else if g.attributes.is_empty()
                        && g.members.add.is_empty()
                        && g.members.remove.is_empty()
                    {
                        Action::Noop
                    } else {
                        Action::Update
                    }
                }
            };
        }
        (Outcome::Writeback, None) | (Outcome::Skip, _) => {
            g.action = Action::Skip;
            g.members.skipped = skipped_refs(f);
        }
        (Outcome::Keep, _) => g.action = Action::Keep,
        (Outcome::Delete, _) => {
            let modified = matches!(
                f.reason,
                GroupReason::SoftDeleted
                    | GroupReason::WritebackDisabled
                    | GroupReason::SecurityNotEnabled
            );
            if existing.is_none() {
                g.action = Action::Keep;
                g.detail = format!("{}; its AD object is not in the AD evidence", g.detail);
            } else if modified {
                g.action = Action::Delete;
                g.delete_proof = Some(DeleteProof::ModifiedDeletion);
            } else if !proof.complete {
                g.action = Action::Keep;
                g.detail = format!(
                    "{}; not deleted without proof: {}",
                    f.detail,
                    proof
                        .detail
                        .as_deref()
                        .unwrap_or("the evidence is incomplete")
                );
            } else {
                match &opts.graph_absent {
                    None => {
                        g.action = Action::Delete;
                        g.delete_proof = Some(DeleteProof::CompleteSnapshot);
                    }
                    Some(absent) if absent.contains(&f.id) => {
                        g.action = Action::Delete;
                        g.delete_proof = Some(DeleteProof::GraphNotFound);
                    }
                    Some(_) => {
                        g.action = Action::Keep;
                        g.detail = format!(
                            "{}; not deleted: a GET of the group in Graph did not answer 404",
                            f.detail
                        );
                    }
                }
            }
        }
    }
    g
}

fn member_changes(
    d: &DesiredGroup,
    existing: Option<&AdObject>,
    renamed: &HashMap<String, Arc<str>>,
) -> MemberChanges {
    let mut out = MemberChanges::default();
    // Unknown is never empty: no member is added or removed.
    let Some(members) = &d.members else {
        out.unknown = true;
        out.unchanged = existing.map_or(0, |o| o.members.len());
        return out;
    };
    let Some(o) = existing else {
        out.add = members.iter().map(|m| m.to_string()).collect();
        return out;
    };
    // Current members by key, as they will read after the renames of this plan.
    let mut current: HashMap<String, &str> = HashMap::with_capacity(o.members.len());
    for m in &o.members {
        let k = dn_key(m);
        let k = renamed.get(&k).map_or(k, |new| dn_key(new));
        current.insert(k, m.as_str());
    }
    let mut wanted: HashSet<String> = HashSet::with_capacity(members.len());
    for m in members {
        let k = dn_key(m);
        if current.contains_key(&k) {
            out.unchanged += 1;
        } else if !wanted.contains(&k) {
            out.add.push(m.to_string());
        }
        wanted.insert(k);
    }
    let mut remove: Vec<String> = current
        .iter()
        .filter(|(k, _)| !wanted.contains(*k))
        .map(|(_, v)| v.to_string())
        .collect();
    remove.sort_by_key(|r| dn_key(r));
    out.remove = remove;
    out
}

/// A plan that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "gwb plan needs the AD side: give --snapshot DIR with an ad.ldif, or --ldap-url for live LDAP"
    )]
    NoAd,
    #[error(
        "no target OU is known: pass --target-ou \"OU=…\" (or set bundle.json targetOu / unifiedGroupContainer)"
    )]
    NoTargetOu,
}

/// The deletion threshold (`--max-deletes`), checked before apply's first write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the plan deletes {deletes} group(s), more than --max-deletes {max}: nothing was written. Review the deletions, then raise --max-deletes if they are intended"
)]
pub struct ThresholdExceeded {
    pub deletes: usize,
    pub max: usize,
}

/// Refuse a plan that deletes more than `max` groups.
pub fn check_delete_threshold(plan: &Plan, max: usize) -> Result<(), ThresholdExceeded> {
    let deletes = plan
        .groups
        .iter()
        .filter(|g| g.action == Action::Delete)
        .count();
    if deletes > max {
        Err(ThresholdExceeded { deletes, max })
    } else {
        Ok(())
    }
}
