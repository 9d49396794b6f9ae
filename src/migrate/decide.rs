//! The pure comparison of two writers' forecasts of the same groups, from the one decision
//! core (`core::forecast_targets_then`), and the consequences of moving each group from the
//! first writer to the second. Where the core's `cloud-sync` forecast does not yet model a
//! Cloud Sync behaviour the migration depends on, [`CloudSyncDefaults`] applies Microsoft's
//! documented default for it, so a configuration-driven forecast can replace it later.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::ad::{AdObject, Dn, ids};
use crate::bundle::tenant::{Group, GroupKind, MemberType};
use crate::core::overrides::Overrides;
use crate::core::{Forecast, GroupForecast, Inputs, Outcome, Policy, Target, ownership};

use super::model::*;

/// Cloud Sync's documented `adminDescription` / `msDS-ExternalDirectoryObjectId` and the `cn`
/// mapping that keeps Connect's names.
pub const KEEP_CONNECT_CN: &str = r#"Append("Group_",[objectId])"#;

/// Documented sources, quoted in consequences.
pub mod src {
    pub const CS_JOIN: &str = "Cloud Sync: \"On each cycle, the engine searches the target domain for an AD object whose msDS-ExternalDirectoryObjectId matches\"; match -> update in place, none -> create in the target container (how-provisioning-to-active-directory-works)";
    pub const CS_MIGRATE_COPY: &str = "Migrate group writeback v2 to Cloud Sync, step 1: copy adminDescription to msDS-ExternalDirectoryObjectId for the groups in the writeback OU (migrate-group-writeback)";
    pub const CS_CN: &str = "Cloud Sync default cn mapping Append(Append(Left(Trim([displayName]),51),\"_\"),Mid([objectId],25,12)); to keep Connect's names set cn to Append(\"Group_\",[objectId]), \"otherwise... the group is renamed to the new format\" (migrate-group-writeback)";
    pub const CS_SECURITY_ONLY: &str = "Cloud Sync provisions cloud security groups only: securityEnabled IS TRUE AND dirSyncEnabled IS FALSE AND mailEnabled IS FALSE; Microsoft 365 groups, mail-enabled security groups and distribution lists are excluded";
    pub const CS_NO_MAIL: &str = "Cloud Sync's group attribute mappings write cn, description, displayName, member and the anchors: no Exchange attributes (how-to-configure-entra-to-active-directory)";
    pub const CS_MEMBERSHIP: &str = "Cloud Sync: \"Provisioning membership to on-premises users is off by default and must be explicitly enabled\"; cloud-only members have no AD account (how-provisioning-to-active-directory-works)";
    pub const CS_CONTAINER: &str = "Cloud Sync's default target container parentDistinguishedName = CN=Users,DC=<selected AD domain> (how-to-configure-entra-to-active-directory)";
    pub const V2_REVERT: &str = "Disabling v2 \"is irreversible\"; after it \"all Microsoft 365 groups are written back to Active Directory, independently of the Writeback Enabled setting\" (migrate-group-writeback)";
    pub const V1_DISABLE: &str = "Disabling group writeback: \"all groups previously written back are deleted from AD\" on the next cycle (how-to-connect-group-writeback-disable; Cloud Sync FAQ)";
    pub const JOIN_NO_FLOW: &str = "Connect's outbound 'Out to AD - Group SOAinAAD coexistence with Cloud Sync' rule (LinkType JoinNoFlow) blocks adds, deletes and attribute updates of the groups it scopes (migrate-group-writeback)";
    pub const GWB_STAMP: &str = "gwb owns an AD group stamped Group_<objectId> in adminDescription or msDS-ExternalDirectoryObjectId in its target OU and updates it in place (docs/executor.md)";
    pub const GWB_RULES: &str = "gwb writes with Connect v2's rules: Microsoft 365 groups unless isEnabled is false, security groups when isEnabled is true (docs/codes.md)";
    pub const V1_RULES: &str =
        "Connect v1 writes back Microsoft 365 groups only, as distribution groups";
    pub const MEMBERS: &str = "each writer writes only the members it resolves to an AD object (docs/codes.md member reasons)";
    pub const SAME: &str = "both writers write the same object, name, members and mail attributes";
}

/// Cloud Sync's documented defaults the migration needs, named so a configuration-driven
/// forecast can replace them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudSyncDefaults {
    /// `cn` mapped to `Append("Group_",[objectId])` instead of the default displayName_id12.
    pub keep_connect_cn: bool,
    /// The target container (default `CN=Users,<domain>`).
    pub container: Option<Dn>,
    /// "Provision membership to on-premises users" (off by default).
    pub membership_to_on_premises_users: bool,
}

/// Everything the comparison reads.
pub struct Request<'a> {
    pub from: Target,
    pub to: Target,
    pub inputs: &'a Inputs<'a>,
    pub policy: &'a Policy,
    pub overrides: &'a Overrides,
    pub cloud_sync: &'a CloudSyncDefaults,
}

/// Cloud Sync's default container: `CN=Users` under the domain (the AD evidence's, else the
/// DC components of the Connect container).
pub fn default_cloud_sync_container(inputs: &Inputs) -> Option<Dn> {
    let domain = inputs.ad.and_then(|a| a.domain.clone()).or_else(|| {
        let ou = inputs.target_ou?;
        let text = ou.to_string();
        let dcs: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|p| p.len() > 3 && p[..3].eq_ignore_ascii_case("dc="))
            .collect();
        (!dcs.is_empty()).then(|| Dn::parse(&dcs.join(",")).ok())?
    })?;
    Dn::parse(&format!("CN=Users,{domain}")).ok()
}

/// The writers the comparison forecasts: `from`, `to`, and Connect v1 when `connect-v2 →
/// cloud-sync` (Microsoft 365 groups revert to v1 behaviour).
pub fn targets(from: Target, to: Target) -> Vec<Target> {
    let mut t = vec![from];
    if to != from {
        t.push(to);
    }
    if from == Target::ConnectV2 && to == Target::CloudSync {
        t.push(Target::ConnectV1);
    }
    t
}

/// The writer that maintains a group after the migration: for `connect-v2 → cloud-sync`,
/// Microsoft 365 groups stay with Connect, reverted to v1.
pub fn after_writer(from: Target, to: Target, kind: Option<GroupKind>) -> Target {
    if from == Target::ConnectV2 && to == Target::CloudSync && kind == Some(GroupKind::Microsoft365)
    {
        Target::ConnectV1
    } else {
        to
    }
}

fn parent_key(s: &str) -> Option<String> {
    Dn::parse(s).ok().and_then(|d| d.parent().map(|p| p.key()))
}

fn cn_of(s: &str) -> Option<String> {
    Dn::parse(s)
        .ok()
        .and_then(|d| d.rdn_value().map(str::to_string))
}

/// AD groups whose `msDS-ExternalDirectoryObjectId` is `Group_<objectId>`, anywhere in the
/// domain: Cloud Sync's join.
fn cloud_sync_joined<'a>(inputs: &Inputs<'a>) -> HashMap<Uuid, &'a AdObject> {
    let mut m = HashMap::new();
    if let Some(ad) = inputs.ad {
        for o in &ad.objects {
            if let Some(id) = o
                .external_directory_object_id
                .as_deref()
                .and_then(ownership::parse_value)
            {
                m.entry(id).or_insert(o);
            }
        }
    }
    m
}

fn side(f: &GroupForecast, writer: Target, ad_obj: Option<&AdObject>) -> Side {
    let existing_dn = f.existing_dn.clone();
    let dn = existing_dn.clone().or_else(|| f.dn.clone());
    let written = f.outcome == Outcome::Writeback;
    let cn = if written {
        f.cn.clone()
    } else {
        dn.as_deref().and_then(cn_of)
    };
    let dn = match (&existing_dn, written, &f.cn) {
        // A written group carries the CN this writer gives it, where the object is (a planned
        // DN already does).
        (Some(d), true, Some(c)) if cn_of(d).as_deref() != Some(c.as_str()) => {
            Some(replace_cn(d, c))
        }
        _ => dn,
    };
    Side {
        writer,
        outcome: f.outcome,
        reason: f.reason,
        detail: f.detail.clone(),
        dn,
        cn,
        group_type: if written {
            f.on_premises_group_type.map(|t| t.as_str())
        } else {
            None
        },
        existing: existing_dn.is_some(),
        members_written: (written && f.members.collected).then_some(f.members.resolved.len()),
        mail_attributes: written
            && (f.mail_attributes == Some(true)
                || (f.mail_attributes.is_none() && ad_obj.is_some_and(|o| o.mail.is_some()))),
        member_ids: if written {
            f.members.resolved.iter().map(|m| m.id.clone()).collect()
        } else {
            Vec::new()
        },
    }
}

fn replace_cn(dn: &str, cn: &str) -> String {
    match Dn::parse(dn)
        .ok()
        .and_then(|d| d.parent().map(|p| p.to_string()))
    {
        Some(parent) => format!("CN={},{parent}", crate::ad::dn::escape_value(cn)),
        None => dn.to_string(),
    }
}

/// Cloud Sync's documented defaults laid over the core's `cloud-sync` forecast: its domain-wide
/// join, its `cn` mapping, its container, and on-premises user membership off by default.
fn cloud_sync_side(
    f: &GroupForecast,
    g: Option<&Group>,
    joined: &HashMap<Uuid, &AdObject>,
    cs: &CloudSyncDefaults,
) -> Side {
    let mut s = side(f, Target::CloudSync, None);
    if f.outcome != Outcome::Writeback {
        return s;
    }
    let cn = if cs.keep_connect_cn {
        ownership::stamp_value(&f.id)
    } else {
        f.cn.clone().unwrap_or_default()
    };
    let obj = ids::parse_guid(&f.id).and_then(|u| joined.get(&u).copied());
    s.existing = obj.is_some();
    s.dn = match obj {
        Some(o) => Some(replace_cn(&o.dn_text, &cn)),
        None => cs
            .container
            .as_ref()
            .map(|c| format!("CN={},{c}", crate::ad::dn::escape_value(&cn))),
    };
    s.cn = Some(cn);
    s.mail_attributes = false;
    if !cs.membership_to_on_premises_users
        && let Some(g) = g
    {
        // Resolved ids are the tenant's member ids themselves (shared, same spelling).
        let users: HashSet<&str> = g
            .members
            .iter()
            .flatten()
            .filter(|m| m.member_type() == MemberType::User)
            .map(|m| &*m.id)
            .collect();
        if !users.is_empty() {
            s.member_ids.retain(|m| !users.contains(&**m));
        }
        if s.members_written.is_some() {
            s.members_written = Some(s.member_ids.len());
        }
    }
    s
}

/// A group that neither writer touches is left out.
fn touched(s: &Side) -> bool {
    s.outcome != Outcome::Skip || s.existing
}

fn c(code: Consequence, detail: impl Into<String>, source: &'static str) -> GroupConsequence {
    GroupConsequence {
        code,
        detail: detail.into(),
        source,
    }
}

fn is_connect(t: Target) -> bool {
    matches!(t, Target::ConnectV1 | Target::ConnectV2)
}

/// Members written before and not after. Both writers resolve a group's members in the
/// group's order, from the same shared ids: equal lists are compared without hashing.
fn dropped_members(before: &[std::sync::Arc<str>], after: &[std::sync::Arc<str>]) -> usize {
    let same = |x: &std::sync::Arc<str>, y: &std::sync::Arc<str>| {
        std::sync::Arc::ptr_eq(x, y) || x.eq_ignore_ascii_case(y)
    };
    if before.len() == after.len() && before.iter().zip(after).all(|(x, y)| same(x, y)) {
        return 0;
    }
    let kept: HashSet<String> = after.iter().map(|m| m.to_ascii_lowercase()).collect();
    before
        .iter()
        .filter(|m| !kept.contains(&m.to_ascii_lowercase()))
        .count()
}

/// The consequences of one group's move from `b` to `a`.
pub fn consequences(
    from: Target,
    b: &Side,
    a: &Side,
    b_obj: Option<&AdObject>,
) -> Vec<GroupConsequence> {
    let mut out = Vec::new();
    let b_writes = b.outcome == Outcome::Writeback;
    let a_writes = a.outcome == Outcome::Writeback;
    let continues = is_connect(a.writer) && is_connect(from);
    let b_dn = b_obj.map(|o| o.dn_text.to_string());
    let a_source = match a.writer {
        Target::CloudSync => src::CS_JOIN,
        Target::Gwb => src::GWB_STAMP,
        _ => src::V2_REVERT,
    };
    if a_writes {
        let same_object = a.existing
            && match (&b_dn, &a.dn) {
                (Some(old), Some(new)) => {
                    old.eq_ignore_ascii_case(new) || parent_key(old) == parent_key(new)
                }
                _ => false,
            };
        match &b_dn {
            Some(old) if !same_object && a.existing => out.push(c(
                Consequence::Duplicated,
                format!(
                    "{} already maintains another AD group for it ({}); {old} stays next to it",
                    a.writer.as_str(),
                    a.dn.as_deref().unwrap_or("?")
                ),
                a_source,
            )),
            Some(old) if !a.existing => out.push(c(
                Consequence::Duplicated,
                format!(
                    "{} does not match {old} ({}) and creates {} next to it; the old group stays, maintained by no writer",
                    a.writer.as_str(),
                    match a.writer {
                        Target::CloudSync => "Cloud Sync joins on msDS-ExternalDirectoryObjectId, which Connect never wrote; the preparation copies it",
                        _ => "it carries no stamp this writer owns",
                    },
                    a.dn.as_deref().unwrap_or("a new group")
                ),
                if a.writer == Target::CloudSync {
                    src::CS_MIGRATE_COPY
                } else {
                    a_source
                },
            )),
            Some(old) if !continues => out.push(c(
                Consequence::Adopted,
                format!(
                    "{} takes over {old} in place (objectGUID and SID kept)",
                    a.writer.as_str()
                ),
                a_source,
            )),
            None if !b_writes => out.push(c(
                Consequence::Created,
                format!(
                    "{} writes it back ({}); {} does not",
                    a.writer.as_str(),
                    a.detail,
                    from.as_str()
                ),
                match a.writer {
                    Target::ConnectV1 => src::V2_REVERT,
                    Target::CloudSync => src::CS_JOIN,
                    _ => src::GWB_RULES,
                },
            )),
            _ => {}
        }
        // Name and place, compared with the object as it is (or as the old writer plans it).
        let before_dn = b_dn.clone().or_else(|| b.dn.clone());
        if let (Some(old), Some(new)) = (&before_dn, &a.dn)
            && (b_writes || b_obj.is_some())
            && !out.iter().any(|x| x.code == Consequence::Duplicated)
            // The same text is the same name and place (most groups): no DN to parse.
            && !old.eq_ignore_ascii_case(new)
        {
            if cn_of(old).map(|s| s.to_lowercase()) != cn_of(new).map(|s| s.to_lowercase()) {
                out.push(c(
                    Consequence::Renamed,
                    format!(
                        "CN {} becomes {}",
                        cn_of(old).unwrap_or_default(),
                        cn_of(new).unwrap_or_default()
                    ),
                    match a.writer {
                        Target::CloudSync => src::CS_CN,
                        _ => src::GWB_STAMP,
                    },
                ));
            }
            if parent_key(old) != parent_key(new) {
                out.push(c(
                    Consequence::Moved,
                    format!("from {old} to {new}"),
                    match a.writer {
                        Target::CloudSync => src::CS_CONTAINER,
                        _ => src::GWB_STAMP,
                    },
                ));
            }
        }
        let old_type = b_obj
            .and_then(|o| o.group_type)
            .map(|t| t == crate::core::desired::GROUP_TYPE_UNIVERSAL_SECURITY)
            .or_else(|| b.group_type.map(|t| t != "universalDistributionGroup"));
        let new_type = a.group_type.map(|t| t != "universalDistributionGroup");
        if let (Some(o), Some(n)) = (old_type, new_type)
            && o != n
            && !out.iter().any(|x| x.code == Consequence::Duplicated)
        {
            out.push(c(
                Consequence::Retyped,
                format!(
                    "{} becomes a {}: its security principal {}",
                    if o {
                        "security group"
                    } else {
                        "distribution group"
                    },
                    a.group_type.unwrap_or_default(),
                    if o {
                        "is lost (ACLs and group policy naming it stop applying)"
                    } else {
                        "is added"
                    }
                ),
                match a.writer {
                    Target::ConnectV1 => src::V2_REVERT,
                    _ => src::GWB_RULES,
                },
            ));
        }
        if b_writes {
            let dropped = dropped_members(&b.member_ids, &a.member_ids);
            if dropped > 0 {
                out.push(c(
                    Consequence::MembersDropped,
                    format!(
                        "{dropped} of the {} member(s) {} writes are not written by {}",
                        b.member_ids.len(),
                        from.as_str(),
                        a.writer.as_str()
                    ),
                    if a.writer == Target::CloudSync {
                        src::CS_MEMBERSHIP
                    } else {
                        src::MEMBERS
                    },
                ));
            }
        }
        if (b.mail_attributes || b_obj.is_some_and(|o| o.mail.is_some())) && !a.mail_attributes {
            out.push(c(
                Consequence::MailAttributesDropped,
                format!(
                    "{} writes no Exchange attributes (mail, mailNickname, proxyAddresses) for it",
                    a.writer.as_str()
                ),
                if a.writer == Target::CloudSync {
                    src::CS_NO_MAIL
                } else {
                    src::GWB_RULES
                },
            ));
        }
    } else if a.outcome == b.outcome && a.outcome != Outcome::Skip {
        // Both writers keep, or both delete, the object: the migration changes nothing.
        out.push(c(
            Consequence::Unchanged,
            format!(
                "{} and {} both {} it: {}",
                from.as_str(),
                a.writer.as_str(),
                a.outcome.as_str(),
                a.detail
            ),
            src::SAME,
        ));
    } else {
        if b_writes {
            out.push(c(
                Consequence::NoLongerWritten,
                format!("{}: {}", a.writer.as_str(), a.detail),
                match a.writer {
                    Target::CloudSync => src::CS_SECURITY_ONLY,
                    Target::ConnectV1 => src::V1_RULES,
                    _ => src::GWB_RULES,
                },
            ));
        }
        if let Some(old) = &b_dn {
            if a.outcome == Outcome::Delete {
                out.push(c(
                    Consequence::Deleted,
                    format!("{} deletes {old}: {}", a.writer.as_str(), a.detail),
                    src::GWB_RULES,
                ));
            } else if b_writes && from == Target::ConnectV1 && a.writer == Target::CloudSync {
                out.push(c(
                    Consequence::Deleted,
                    format!(
                        "turning Connect's group writeback off deletes {old} on the next cycle, and Cloud Sync does not provision it"
                    ),
                    src::V1_DISABLE,
                ));
            } else if b_writes && a.reason != crate::core::GroupReason::OtherWriterContainer {
                out.push(c(
                    Consequence::Orphaned,
                    format!(
                        "{old} stays in AD (Connect's coexistence rule blocks its deletion) and no writer maintains it"
                    ),
                    src::JOIN_NO_FLOW,
                ));
            }
        }
    }
    if out.is_empty() {
        out.push(c(
            Consequence::Unchanged,
            if a_writes {
                format!("{} writes it as {} did", a.writer.as_str(), from.as_str())
            } else {
                "neither writer maintains it; its AD object stays as it is".to_string()
            },
            src::SAME,
        ));
    }
    out
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// Where another writer's forecast of the `from` writer's i-th group is: the same position when
/// the two forecasts line up (the usual case), else a map by id.
enum Lookup<'a> {
    Aligned(&'a [GroupForecast]),
    ById(FastMap<&'a str, &'a GroupForecast>),
}

impl<'a> Lookup<'a> {
    fn new(from: &[GroupForecast], other: &'a [GroupForecast]) -> Self {
        if from.len() == other.len() && from.iter().zip(other).all(|(a, b)| a.id == b.id) {
            Lookup::Aligned(other)
        } else {
            Lookup::ById(other.iter().map(|g| (g.id.as_str(), g)).collect())
        }
    }

    fn get(&self, i: usize, id: &str) -> Option<&'a GroupForecast> {
        match self {
            Lookup::Aligned(v) => v.get(i).filter(|g| g.id == id),
            Lookup::ById(m) => m.get(id).copied(),
        }
    }
}

/// One group's before and after, or `None` when neither writer touches it.
fn compare_group(
    req: &Request,
    bf: &GroupForecast,
    af: &GroupForecast,
    aw: Target,
    g: Option<&Group>,
    joined: &HashMap<Uuid, &AdObject>,
) -> Option<MigratedGroup> {
    let ad = req.inputs.ad;
    let f = bf;
    let b_obj = bf
        .existing_dn
        .as_deref()
        .and_then(|d| Dn::parse(d).ok())
        .and_then(|d| ad.and_then(|a| a.by_dn(&d)));
    let before = side(bf, req.from, b_obj);
    let mut after = if aw == Target::CloudSync {
        cloud_sync_side(af, g, joined, req.cloud_sync)
    } else {
        side(af, aw, b_obj)
    };
    // gwb never takes over a group another writer still maintains: Cloud Sync's (stamped
    // in msDS-ExternalDirectoryObjectId alone), unless Cloud Sync is the writer removed.
    if aw == Target::Gwb && req.from != Target::CloudSync {
        let theirs = af
            .existing_dn
            .as_deref()
            .and_then(|d| Dn::parse(d).ok())
            .and_then(|d| ad.and_then(|a| a.by_dn(&d)))
            .filter(|o| {
                o.stamp()
                    .is_some_and(|s| s.source == ownership::StampSource::ExternalDirectoryObjectId)
            });
        if let Some(o) = theirs {
            after.outcome = Outcome::Skip;
            after.reason = crate::core::GroupReason::OtherWriterContainer;
            after.detail = format!(
                "{} is Cloud Sync's (msDS-ExternalDirectoryObjectId alone), and Cloud Sync is not the writer being removed: gwb refuses to take it over",
                o.dn_text
            );
            after.member_ids.clear();
            after.members_written = None;
            after.mail_attributes = false;
            after.group_type = None;
        }
    }
    if !touched(&before) && !touched(&after) {
        return None;
    }
    let consequences = consequences(req.from, &before, &after, b_obj);
    Some(MigratedGroup {
        id: f.id.clone(),
        display_name: f.display_name.clone(),
        kind: f.kind,
        before,
        after,
        consequences,
        prepared: false,
    })
}
/// Compare the two writers' forecasts, group by group.
/// Also gives back the forecasts compared and the position of the `from` writer's (the
/// preparation reads it); the caller decides when to free them.
///
/// Every forecast lists the same groups in the same order (one core, one index), so a group's
/// forecast by another writer is found at the same position; a map is built only for a
/// forecast that does not line up. The groups are compared on two threads, halves in order.
pub fn compare(req: &Request) -> (Vec<MigratedGroup>, Vec<Forecast>, usize) {
    let ts = targets(req.from, req.to);
    let started = std::time::Instant::now();
    let forecasts =
        crate::core::forecast_targets_then(&ts, req.inputs, req.policy, req.overrides, |_| ());
    tracing::debug!("forecasts in {:.2?}", started.elapsed());
    // `targets` always includes `from`.
    let from_i = forecasts
        .iter()
        .position(|(f, _)| f.target == req.from)
        .unwrap_or(0);
    let from_groups = &forecasts[from_i].0.groups;
    let lookups: Vec<(Target, Lookup)> = forecasts
        .iter()
        .map(|(f, _)| (f.target, Lookup::new(from_groups, &f.groups)))
        .collect();
    let find = |t: Target, i: usize, id: &str| -> Option<&GroupForecast> {
        lookups
            .iter()
            .find(|(lt, _)| *lt == t)
            .and_then(|(_, l)| l.get(i, id))
    };
    let groups: FastMap<&str, &Group> = req
        .inputs
        .tenant
        .groups
        .iter()
        .flatten()
        .map(|g| (g.id.as_str(), g))
        .collect();
    let group_of = |id: &str| {
        groups.get(id).copied().or_else(|| {
            req.inputs
                .tenant
                .groups
                .iter()
                .flatten()
                .find(|g| g.id.eq_ignore_ascii_case(id))
        })
    };
    let joined = if ts.contains(&Target::CloudSync) {
        cloud_sync_joined(req.inputs)
    } else {
        HashMap::new()
    };
    // Each group once, in the `from` writer's order.
    let mut seen: FastSet<&str> = FastSet::default();
    let order: Vec<(usize, &GroupForecast)> = from_groups
        .iter()
        .enumerate()
        .filter(|(_, f)| seen.insert(f.id.as_str()))
        .collect();
    let one = |&(i, bf): &(usize, &GroupForecast)| -> Option<MigratedGroup> {
        let aw = after_writer(req.from, req.to, bf.kind);
        let af = find(aw, i, &bf.id)?;
        compare_group(req, bf, af, aw, group_of(&bf.id), &joined)
    };
    let (left, right) = order.split_at(order.len() / 2);
    let run = |part: &[(usize, &GroupForecast)]| part.iter().filter_map(one).collect::<Vec<_>>();
    let (mut out, rest) = crate::par::join_if(order.len() >= 2048, || run(left), || run(right));
    out.extend(rest);
    drop(lookups);
    let forecasts = forecasts.into_iter().map(|(f, _)| f).collect();
    (out, forecasts, from_i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::GroupReason;

    fn side(writer: Target, outcome: Outcome, dn: Option<&str>, existing: bool) -> Side {
        Side {
            writer,
            outcome,
            reason: GroupReason::Eligible,
            detail: "d".into(),
            dn: dn.map(str::to_string),
            cn: dn.and_then(cn_of),
            group_type: (outcome == Outcome::Writeback).then_some("universalSecurityGroup"),
            existing,
            members_written: Some(0),
            mail_attributes: false,
            member_ids: Vec::new(),
        }
    }

    fn codes(v: &[GroupConsequence]) -> Vec<&'static str> {
        v.iter().map(|c| c.code.as_str()).collect()
    }

    const OLD: &str = "CN=Group_5a1e5a1e-0000-4000-8000-00000000a001,OU=Connect,DC=x";

    #[test]
    fn mail_attributes_the_old_writer_wrote_are_dropped_by_cloud_sync() {
        // Cloud Sync's mappings write no Exchange attribute (how-to-configure-entra-to-active-
        // directory: cn, description, displayName, member and the anchors).
        let mut b = side(Target::ConnectV2, Outcome::Writeback, Some(OLD), true);
        b.mail_attributes = true;
        let a = side(Target::CloudSync, Outcome::Writeback, Some(OLD), true);
        let v = consequences(Target::ConnectV2, &b, &a, None);
        assert_eq!(codes(&v), ["mail-attributes-dropped"]);
        assert_eq!(v[0].source, src::CS_NO_MAIL);
    }

    #[test]
    fn members_the_new_writer_does_not_resolve_are_dropped() {
        let mut b = side(Target::ConnectV2, Outcome::Writeback, Some(OLD), true);
        b.member_ids = vec!["u1".into(), "U2".into()];
        let mut a = side(Target::Gwb, Outcome::Writeback, Some(OLD), true);
        a.member_ids = vec!["U1".into()];
        let v = consequences(Target::ConnectV2, &b, &a, None);
        assert_eq!(codes(&v), ["members-dropped"]);
        assert!(
            v[0].detail.starts_with("1 of the 2 member(s)"),
            "{}",
            v[0].detail
        );
    }

    #[test]
    fn a_group_cloud_sync_still_maintains_is_not_orphaned_when_gwb_refuses_it() {
        let b = side(Target::ConnectV2, Outcome::Writeback, Some(OLD), true);
        let mut a = side(Target::Gwb, Outcome::Skip, None, false);
        a.reason = GroupReason::OtherWriterContainer;
        let v = consequences(Target::ConnectV2, &b, &a, None);
        assert_eq!(codes(&v), ["no-longer-written"]);
    }

    #[test]
    fn both_writers_deleting_a_group_is_no_consequence_of_the_move() {
        let b = side(Target::ConnectV2, Outcome::Delete, Some(OLD), true);
        let a = side(Target::Gwb, Outcome::Delete, Some(OLD), true);
        assert_eq!(
            codes(&consequences(Target::ConnectV2, &b, &a, None)),
            ["unchanged"]
        );
    }

    #[test]
    fn connect_v2_to_cloud_sync_keeps_microsoft_365_groups_on_connect_v1() {
        // "after it all Microsoft 365 groups are written back ... independently of the Writeback
        // Enabled setting" (migrate-group-writeback): v1 behaviour.
        assert_eq!(
            after_writer(
                Target::ConnectV2,
                Target::CloudSync,
                Some(GroupKind::Microsoft365)
            ),
            Target::ConnectV1
        );
        assert_eq!(
            after_writer(
                Target::ConnectV2,
                Target::CloudSync,
                Some(GroupKind::Security)
            ),
            Target::CloudSync
        );
        assert_eq!(
            after_writer(
                Target::ConnectV1,
                Target::Gwb,
                Some(GroupKind::Microsoft365)
            ),
            Target::Gwb
        );
        assert_eq!(
            targets(Target::ConnectV2, Target::CloudSync),
            [Target::ConnectV2, Target::CloudSync, Target::ConnectV1]
        );
    }

    #[test]
    fn gated_consequences_are_the_four_the_gate_names() {
        let gated: Vec<&str> = Consequence::ALL
            .iter()
            .filter(|c| c.gates())
            .map(|c| c.as_str())
            .collect();
        assert_eq!(
            gated,
            ["duplicated", "orphaned", "deleted", "members-dropped"]
        );
        for c in Consequence::ALL {
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::Value::from(c.as_str())
            );
        }
    }
}
