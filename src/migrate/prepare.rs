//! The migration's preparation as an ordinary `gwb-plan/1` plan that `gwb apply` carries out
//! (journal, undo, stale-plan refusal, deletion threshold): for `connect-v2 → cloud-sync`, the
//! copy of Connect's stamp into `msDS-ExternalDirectoryObjectId` on exactly the groups gwb can
//! prove Connect wrote; for `connect-v1/v2 → gwb`, gwb's adoption of those groups in place.

use std::collections::{BTreeMap, HashSet};

use uuid::Uuid;

use crate::ad::{AdKind, AdObject, AdSnapshot, Dn};
use crate::bundle::Snapshot;
use crate::core::inputs::Prepared;
use crate::core::naming;
use crate::core::ownership::{self, EXTERNAL_DIRECTORY_OBJECT_ID, StampSource};
use crate::core::{CnFormat, GroupForecast, Outcome, Target};
use crate::plan::model::*;

use super::model::MigratedGroup;

/// An AD group gwb can prove Entra Connect wrote for cloud group `f`: directly in Connect's
/// container, a group, stamped `Group_<objectId>` in `adminDescription` for this very group,
/// named the way Connect names it (`Group_<objectId>` or `<displayName>_<last 12 of id>`), and
/// the object Connect's forecast maintains. A group named like one but without the stamp (a
/// decoy), or stamped for another id, is not.
pub fn connect_wrote<'a>(
    ad: &'a AdSnapshot,
    container: &Dn,
    f: &GroupForecast,
) -> Option<&'a AdObject> {
    let dn = Dn::parse(f.existing_dn.as_deref()?).ok()?;
    let o = ad.by_dn(&dn)?;
    if !o.dn.is_child_of(container) || !matches!(o.kind, AdKind::Group { .. }) {
        return None;
    }
    let stamped = o
        .admin_description
        .as_deref()
        .and_then(ownership::parse_value)?;
    if stamped.to_string() != f.id.to_ascii_lowercase() {
        return None;
    }
    let cn = o.dn.rdn_value()?;
    let named = [CnFormat::ObjectId, CnFormat::DisplayName]
        .iter()
        .any(|&fmt| naming::group_cn(fmt, &f.id, &f.display_name).eq_ignore_ascii_case(cn))
        || cn.eq_ignore_ascii_case(&ownership::stamp_value(&f.id));
    named.then_some(o)
}

fn current(o: &AdObject) -> CurrentObject {
    CurrentObject {
        dn: o.dn_text.to_string(),
        object_guid: o.guid,
        usn_changed: o.usn_changed,
        stamp: o
            .stamp()
            .map_or(StampSource::AdminDescription, |s| s.source),
    }
}

/// The plan's envelope around `groups`, for the target OU `ou`.
fn envelope(
    ad: &AdSnapshot,
    ou: &Dn,
    source: TargetOuSource,
    inputs: PlanInputs,
    policy: PlanPolicy,
    created_at: String,
    groups: Vec<PlannedGroup>,
) -> Plan {
    let ou_obj = ad.by_dn(ou);
    let mut refusals = Vec::new();
    if ou_obj.is_none() {
        refusals.push(Refusal {
            code: RefusalCode::TargetOuMissing,
            detail: format!("Entra Connect's container {ou} does not exist in AD"),
            override_flag: None,
        });
    }
    let mut plan = Plan {
        format: PLAN_FORMAT.to_string(),
        gwb_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at,
        policy,
        inputs,
        target_ou: TargetOu {
            dn: ou_obj.map_or_else(|| ou.to_string(), |o| o.dn_text.to_string()),
            object_guid: ou_obj.and_then(|o| o.guid),
            source,
            exists: Some(ou_obj.is_some()),
        },
        safety: Safety {
            delete_proof: DeleteProofState {
                complete: false,
                detail: Some("a migration's preparation deletes nothing".to_string()),
                graph_checked: false,
            },
            refusals,
        },
        summary: Summary::of(&groups),
        groups,
        unowned: Vec::new(),
        section_sha256: Default::default(),
        sha256: None,
    };
    // Sealed like every plan: gwb show and gwb apply refuse it if it is changed.
    plan.seal();
    plan
}

/// Inputs of a preparation besides the snapshot.
pub struct PrepareOptions<'a> {
    pub prepared: &'a Prepared,
    pub plan_inputs: PlanInputs,
    pub policy: PlanPolicy,
    pub created_at: String,
    pub overrides: &'a crate::core::overrides::Overrides,
}

/// `connect-v2 → cloud-sync`: copy `adminDescription` into `msDS-ExternalDirectoryObjectId`
/// on every group Cloud Sync should adopt that Connect provably wrote and that lacks it.
pub fn copy_stamp(
    s: &Snapshot,
    opts: &PrepareOptions,
    from_forecast: &[GroupForecast],
    migrated: &mut [MigratedGroup],
) -> Result<Plan, String> {
    let ad =
        s.ad.as_ref()
            .ok_or("no AD evidence: the preparation needs the AD side")?;
    let (ou, src) = opts
        .prepared
        .target_ou
        .as_ref()
        .ok_or("Entra Connect's writeback container is not known: pass --target-ou")?;
    if ad.has_schema_attribute(EXTERNAL_DIRECTORY_OBJECT_ID) == Some(false) {
        return Err("the AD schema has no msDS-ExternalDirectoryObjectId (Windows Server 2016 schema or later): Cloud Sync cannot join, and there is nothing to copy into".into());
    }
    let adopt: HashSet<&str> = migrated
        .iter()
        .filter(|g| g.after.writer == Target::CloudSync && g.after.outcome == Outcome::Writeback)
        .map(|g| g.id.as_str())
        .collect();
    let mut groups = Vec::new();
    let mut done: HashSet<String> = HashSet::new();
    for f in from_forecast {
        if !adopt.contains(f.id.as_str()) || f.outcome != Outcome::Writeback {
            continue;
        }
        let Some(o) = connect_wrote(ad, ou, f) else {
            continue;
        };
        if o.external_directory_object_id.is_some() {
            continue;
        }
        let value = ownership::stamp_value(&f.id);
        let mut attributes = BTreeMap::new();
        attributes.insert(
            EXTERNAL_DIRECTORY_OBJECT_ID.to_string(),
            AttrChange {
                before: None,
                after: Some(AttrValue::One(value.clone())),
            },
        );
        groups.push(PlannedGroup {
            id: f.id.clone(),
            display_name: f.display_name.clone(),
            action: Action::Update,
            reason: f.reason,
            detail: format!(
                "copies adminDescription {value} to msDS-ExternalDirectoryObjectId, Cloud Sync's join, so Cloud Sync updates this group in place instead of creating a second one (Microsoft's migration step 1)"
            ),
            dn: Some(o.dn_text.to_string()),
            cn: o.dn.rdn_value().map(str::to_string),
            group_type: o.group_type,
            current: Some(current(o)),
            attributes,
            members: MemberChanges::default(),
            delete_proof: None,
            sha256: None,
        });
        done.insert(f.id.clone());
    }
    for g in migrated.iter_mut() {
        g.prepared = done.contains(&g.id);
    }
    Ok(envelope(
        ad,
        ou,
        super::ou_source(*src),
        opts.plan_inputs.clone(),
        opts.policy,
        opts.created_at.clone(),
        groups,
    ))
}

/// `connect-v1/v2 → gwb`: gwb's plan over Connect's container, kept to the groups Connect
/// provably wrote (updated in place: objectGUID, SID and, with the matching `--cn-format`, CN
/// kept). Creates and deletes are left to the ordinary `gwb plan` after the cut-over.
pub fn adopt(
    s: &Snapshot,
    opts: &PrepareOptions,
    from_forecast: &[GroupForecast],
    migrated: &mut [MigratedGroup],
) -> Result<Plan, String> {
    let ad =
        s.ad.as_ref()
            .ok_or("no AD evidence: the preparation needs the AD side")?;
    let (ou, _) = opts
        .prepared
        .target_ou
        .as_ref()
        .ok_or("Entra Connect's writeback container is not known: pass --target-ou")?;
    let connect: HashSet<Uuid> = from_forecast
        .iter()
        .filter_map(|f| connect_wrote(ad, ou, f))
        .filter_map(|o| o.guid)
        .collect();
    if connect.is_empty() {
        // Nothing to adopt: no need for gwb's plan of the whole tenant.
        for g in migrated.iter_mut() {
            g.prepared = false;
        }
        let (ou, src) = opts
            .prepared
            .target_ou
            .as_ref()
            .ok_or("Entra Connect's writeback container is not known: pass --target-ou")?;
        return Ok(envelope(
            ad,
            ou,
            super::ou_source(*src),
            opts.plan_inputs.clone(),
            opts.policy,
            opts.created_at.clone(),
            Vec::new(),
        ));
    }
    let plan_opts = crate::plan::PlanOptions {
        policy: opts.policy,
        inputs: opts.plan_inputs.clone(),
        created_at: opts.created_at.clone(),
        partial_evidence: None,
        graph_absent: None,
    };
    let mut plan = crate::plan::diff::build_with(s, opts.prepared, &plan_opts, opts.overrides)
        .map_err(|e| e.to_string())?;
    plan.groups.retain(|g| {
        matches!(g.action, Action::Update | Action::Rename | Action::Noop)
            && g.current
                .as_ref()
                .and_then(|c| c.object_guid)
                .is_some_and(|u| connect.contains(&u))
    });
    for g in &mut plan.groups {
        g.detail = format!("{}; adopted in place from Entra Connect", g.detail);
    }
    // Sealed again after the groups were chosen: gwb show and gwb apply check the digests.
    plan.seal();
    let ids: HashSet<&str> = plan.groups.iter().map(|g| g.id.as_str()).collect();
    for g in migrated.iter_mut() {
        g.prepared = ids.contains(g.id.as_str());
    }
    Ok(plan)
}
