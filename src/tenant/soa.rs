//! `gwb tenant plan --convert-soa / --rollback-soa`: planning the source-of-authority PATCHes
//! (`/groups/{id}/onPremisesSyncBehavior`) with Microsoft's rules checked first: only groups
//! synced from AD are converted, the lowest groups of a nesting first (a parent whose AD-managed
//! children stay behind is refused), mail-enabled groups and distribution lists refused (they
//! become Exchange-managed and never come back to AD), the Connect floor, and the Universal
//! scope and GroupDN preparations Cloud Sync needs reported per group. Pure.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value, json};

use crate::bundle::Snapshot;
use crate::bundle::tenant::{Group, GroupKind, MemberType, SyncState};
use crate::core::soa::{CONNECT_FLOOR, SECTION};

use super::{Change, Note, PlanRequest, Refusal, Request};

/// Which groups a `--convert-soa` / `--rollback-soa` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// One object id.
    Id(String),
    /// A display-name pattern (`*` any run of characters, `?` one), case-insensitive.
    Pattern(String),
}

impl Selector {
    /// Parse one command-line value: object ids separated by commas, or a display-name
    /// pattern (a value that is not a list of GUIDs). Files of ids are read by the caller.
    pub fn parse_arg(s: &str) -> Vec<Selector> {
        let parts: Vec<&str> = s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if !parts.is_empty() && parts.iter().all(|p| uuid::Uuid::parse_str(p).is_ok()) {
            parts
                .into_iter()
                .map(|p| Selector::Id(p.to_ascii_lowercase()))
                .collect()
        } else {
            vec![Selector::Pattern(s.trim().to_string())]
        }
    }
}

/// `*` and `?` glob over characters, case-insensitive.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn behavior(managed: bool) -> Value {
    json!({ "isCloudManaged": managed })
}

fn refuse(g: Option<&Group>, id: &str, reason: &str, detail: String) -> Refusal {
    Refusal {
        id: id.to_string(),
        display_name: g.map(|g| g.name().to_string()),
        reason: reason.into(),
        detail,
    }
}

fn change(g: &Group, managed: bool, wave: u32) -> Change {
    let id = g.id.to_ascii_lowercase();
    Change {
        id: Some(id.clone()),
        display_name: g.name().to_string(),
        kind: "group".into(),
        property: SECTION.into(),
        before: behavior(!managed),
        after: behavior(managed),
        previous: None,
        request: Request {
            method: "PATCH".into(),
            url: format!("/groups/{id}/{SECTION}"),
            body: Some(behavior(managed)),
        },
        wave: Some(wave),
    }
}

/// Resolve selectors to groups (in the snapshot's order); unknown ids are refused.
fn select<'a>(
    groups: &[&'a Group],
    sel: &[Selector],
    refused: &mut Vec<Refusal>,
) -> Vec<&'a Group> {
    let mut out: Vec<&Group> = Vec::new();
    let mut seen = HashSet::new();
    for s in sel {
        let found: Vec<&Group> = match s {
            Selector::Id(id) => {
                let g = groups
                    .iter()
                    .copied()
                    .filter(|g| g.id.eq_ignore_ascii_case(id))
                    .collect::<Vec<_>>();
                if g.is_empty() {
                    refused.push(refuse(
                        None,
                        id,
                        "not-found",
                        "no group with this id in the snapshot".into(),
                    ));
                }
                g
            }
            Selector::Pattern(p) => {
                let g = groups
                    .iter()
                    .copied()
                    .filter(|g| glob_match(p, g.name()))
                    .collect::<Vec<_>>();
                if g.is_empty() {
                    refused.push(refuse(
                        None,
                        p,
                        "not-found",
                        format!("no group's display name matches {p:?}"),
                    ));
                }
                g
            }
        };
        for g in found {
            if seen.insert(g.id.to_ascii_lowercase()) {
                out.push(g);
            }
        }
    }
    out
}

/// The member groups of `g` (lower-case ids), `None` when its members were not collected.
fn member_groups(g: &Group) -> Option<Vec<String>> {
    Some(
        g.members
            .as_ref()?
            .iter()
            .filter(|m| m.member_type() == MemberType::Group)
            .map(|m| m.id.to_ascii_lowercase())
            .collect(),
    )
}

/// Plan the conversions and rollbacks of `req` (pure); changes are appended in the order they
/// must be written (children before parents for conversions, parents first for rollbacks),
/// each nesting level its own wave.
pub fn plan(
    snap: &Snapshot,
    req: &PlanRequest,
    changes: &mut Vec<Change>,
    refused: &mut Vec<Refusal>,
    notes: &mut Vec<Note>,
    unchanged: &mut usize,
) {
    if req.convert_soa.is_empty() && req.rollback_soa.is_empty() {
        return;
    }
    let groups: Vec<&Group> = snap.tenant.groups.iter().flatten().collect();
    let by_id: HashMap<String, &Group> = groups
        .iter()
        .map(|g| (g.id.to_ascii_lowercase(), *g))
        .collect();
    let connect = crate::audit::connect_version(snap)
        .and_then(|(v, _)| crate::audit::version::Version::parse(&v).map(|p| (v, p)));
    let floor = crate::audit::version::Version(vec![2, 5, 76, 0]);
    let base_wave = changes
        .iter()
        .filter_map(|c| c.wave)
        .max()
        .map_or(0, |w| w + 1);

    // --- conversions -------------------------------------------------------------------------
    let wanted = select(&groups, &req.convert_soa, refused);
    let below_floor = connect.as_ref().filter(|(_, v)| *v < floor);
    if !wanted.is_empty() {
        match &connect {
            None => notes.push(Note {
                code: "soa-connect-unknown".into(),
                message: format!(
                    "the Entra Connect version is unknown: Connect must be {CONNECT_FLOOR} or later to honour the conversion (older versions keep writing AD values over the converted groups)"
                ),
            }),
            Some((v, _)) if below_floor.is_some() => notes.push(Note {
                code: "soa-connect-below-floor".into(),
                message: format!(
                    "Entra Connect {v} does not honour the conversion (it needs {CONNECT_FLOOR} or later): {}",
                    if req.force {
                        "--force was given, so the conversions are planned anyway"
                    } else {
                        "conversions are refused until every Connect server is upgraded (--force plans them anyway)"
                    }
                ),
            }),
            Some(_) => {}
        }
    }
    let mut plannable: Vec<&Group> = Vec::new();
    for g in wanted {
        let id = g.id.to_ascii_lowercase();
        let state = g.sync_state();
        if state == SyncState::Converted {
            *unchanged += 1;
            continue;
        }
        let why = match state {
            SyncState::CloudNative => Some((
                "not-from-ad",
                "created in the cloud: only groups synchronised from AD can have their source of authority converted".to_string(),
            )),
            SyncState::Unknown => Some((
                "soa-state-unknown",
                format!(
                    "its onPremisesSyncBehavior was not collected (needs {})",
                    crate::core::soa::PERMISSION
                ),
            )),
            _ => None,
        };
        if let Some((code, detail)) = why {
            refused.push(refuse(Some(g), &id, code, detail));
            continue;
        }
        if matches!(
            g.kind(),
            GroupKind::MailEnabledSecurity | GroupKind::Distribution
        ) && !req.force
        {
            refused.push(refuse(
                Some(g),
                &id,
                "exchange-managed",
                "a mail-enabled group or distribution list becomes managed in Exchange Online once converted (read-only in Entra and Graph) and can never be provisioned back to AD (--force plans it anyway)".into(),
            ));
            continue;
        }
        if below_floor.is_some() && !req.force {
            refused.push(refuse(
                Some(g),
                &id,
                "connect-below-floor",
                format!(
                    "Entra Connect {} does not honour the conversion; upgrade to {CONNECT_FLOOR} or later first",
                    below_floor.map(|(v, _)| v.as_str()).unwrap_or("?")
                ),
            ));
            continue;
        }
        plannable.push(g);
    }
    // Children first: a group is converted after every member group of the set; a parent whose
    // member groups stay AD-managed is refused (Microsoft: start with the lowest group).
    let set: HashSet<String> = plannable
        .iter()
        .map(|g| g.id.to_ascii_lowercase())
        .collect();
    let mut blocked: HashSet<String> = HashSet::new();
    for g in &plannable {
        let id = g.id.to_ascii_lowercase();
        match member_groups(g) {
            None => notes.push(Note {
                code: "soa-nesting-unknown".into(),
                message: format!(
                    "{:?}: its members were not collected, so whether it nests AD-managed groups cannot be checked (gwb collect --all-members collects them)",
                    g.name()
                ),
            }),
            Some(children) => {
                let behind: Vec<String> = children
                    .iter()
                    .filter(|c| !set.contains(*c))
                    .filter(|c| {
                        by_id
                            .get(*c)
                            .is_some_and(|m| m.sync_state() == SyncState::SyncedFromAd)
                    })
                    .map(|c| {
                        by_id
                            .get(c)
                            .map_or(c.clone(), |m| format!("{:?} ({c})", m.name()))
                    })
                    .collect();
                if !behind.is_empty() && !req.force {
                    refused.push(refuse(
                        Some(g),
                        &id,
                        "children-not-converted",
                        format!(
                            "it nests groups that stay AD-managed ({}): convert the lowest groups of a nesting first (add them to the selection), or --force",
                            behind.join(", ")
                        ),
                    ));
                    blocked.insert(id);
                }
            }
        }
    }
    // A parent of a refused child is refused too (its child stays AD-managed).
    loop {
        let mut more = Vec::new();
        for g in plannable
            .iter()
            .filter(|g| !blocked.contains(&g.id.to_ascii_lowercase()))
        {
            if let Some(c) = member_groups(g)
                .unwrap_or_default()
                .into_iter()
                .find(|c| blocked.contains(c))
            {
                more.push((g.id.to_ascii_lowercase(), *g, c));
            }
        }
        if more.is_empty() || req.force {
            break;
        }
        for (id, g, c) in more {
            refused.push(refuse(
                Some(g),
                &id,
                "children-not-converted",
                format!("its member group {c} is refused, so it would stay AD-managed"),
            ));
            blocked.insert(id);
        }
    }
    let ready: Vec<&Group> = plannable
        .into_iter()
        .filter(|g| !blocked.contains(&g.id.to_ascii_lowercase()))
        .collect();
    for (wave, level) in levels(&ready, true).into_iter().enumerate() {
        for g in level {
            changes.push(change(g, true, base_wave + wave as u32));
            prepare_notes(snap, g, notes);
        }
    }

    // --- rollbacks ---------------------------------------------------------------------------
    let back = select(&groups, &req.rollback_soa, refused);
    let mut rolling: Vec<&Group> = Vec::new();
    for g in back {
        let id = g.id.to_ascii_lowercase();
        match g.sync_state() {
            SyncState::Converted => rolling.push(g),
            SyncState::RollbackPending | SyncState::SyncedFromAd => *unchanged += 1,
            SyncState::CloudNative => refused.push(refuse(
                Some(g),
                &id,
                "not-from-ad",
                "created in the cloud: a rollback works only when the group's source of authority was AD".into(),
            )),
            SyncState::Unknown => refused.push(refuse(
                Some(g),
                &id,
                "soa-state-unknown",
                format!(
                    "its onPremisesSyncBehavior was not collected (needs {})",
                    crate::core::soa::PERMISSION
                ),
            )),
        }
    }
    if !rolling.is_empty() {
        notes.push(Note {
            code: "soa-rollback-steps".into(),
            message: "before rolling back, remove cloud-only members and access-package assignments; the rollback is finished only after the next Entra Connect sync cycle takes the groups over, and cloud edits are then overwritten from AD".into(),
        });
        let next = changes
            .iter()
            .filter_map(|c| c.wave)
            .max()
            .map_or(base_wave, |w| w + 1);
        for (wave, level) in levels(&rolling, false).into_iter().enumerate() {
            for g in level {
                changes.push(change(g, false, next + wave as u32));
                if let (Some(ad), Some(sid)) = (&snap.ad, g.on_premises_sid())
                    && let Some(o) = ad.by_sid(sid)
                    && o.stamp().is_some()
                {
                    notes.push(Note {
                        code: "soa-rollback-stamped".into(),
                        message: format!(
                            "{:?}: its AD group {} carries a writeback stamp (adminDescription Group_…), which Entra Connect's default filter skips: run gwb undo for the run that adopted it (or clear the stamp) before the rollback, or AD never takes the group back",
                            g.name(),
                            o.dn_text
                        ),
                    });
                }
            }
        }
    }
}

/// Nesting levels of `set`: with `children_first`, groups whose member groups (within the set)
/// are all in earlier levels; otherwise the reverse. Cycles end up in the last level.
fn levels<'a>(set: &[&'a Group], children_first: bool) -> Vec<Vec<&'a Group>> {
    let ids: HashSet<String> = set.iter().map(|g| g.id.to_ascii_lowercase()).collect();
    let kids: BTreeMap<String, Vec<String>> = set
        .iter()
        .map(|g| {
            (
                g.id.to_ascii_lowercase(),
                member_groups(g)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| ids.contains(c) && !c.eq_ignore_ascii_case(&g.id))
                    .collect(),
            )
        })
        .collect();
    let mut placed: HashSet<String> = HashSet::new();
    let mut out: Vec<Vec<&Group>> = Vec::new();
    let mut rest: Vec<&Group> = set.to_vec();
    while !rest.is_empty() {
        let (now, later): (Vec<&Group>, Vec<&Group>) = rest.into_iter().partition(|g| {
            kids.get(&g.id.to_ascii_lowercase())
                .is_none_or(|k| k.iter().all(|c| placed.contains(c)))
        });
        if now.is_empty() {
            out.push(later);
            break;
        }
        for g in &now {
            placed.insert(g.id.to_ascii_lowercase());
        }
        out.push(now);
        rest = later;
    }
    if !children_first {
        out.reverse();
    }
    out
}

/// What Cloud Sync needs before a group is converted, reported per group from the AD evidence.
fn prepare_notes(snap: &Snapshot, g: &Group, notes: &mut Vec<Note>) {
    let Some(ad) = &snap.ad else {
        notes.push(Note {
            code: "soa-prepare".into(),
            message: format!(
                "{:?}: no AD evidence, so its AD group's scope cannot be checked; Cloud Sync provisions converted groups back only when they are Universal, and keeps their OU only when GroupDN was captured before conversion (docs/soa.md)",
                g.name()
            ),
        });
        return;
    };
    let Some(o) = g.on_premises_sid().and_then(|s| ad.by_sid(s)) else {
        notes.push(Note {
            code: "soa-original-missing".into(),
            message: format!(
                "{:?}: no AD object carries its SID {}: gwb will not write it back, and Cloud Sync would create a new group with a new SID",
                g.name(),
                g.on_premises_sid().unwrap_or("?")
            ),
        });
        return;
    };
    if !crate::core::soa::is_universal(o) {
        notes.push(Note {
            code: "soa-prepare-universal".into(),
            message: format!(
                "{:?}: its AD group {} is {}: change it to Universal before converting if Cloud Sync is to provision it back (Global and Domain Local are not supported)",
                g.name(),
                o.dn_text,
                crate::core::soa::scope_name(o)
            ),
        });
    }
    notes.push(Note {
        code: "soa-prepare-groupdn".into(),
        message: format!(
            "{:?}: capture {} in the GroupDN directory extension (AD-to-Entra Cloud Sync mapping of distinguishedName) before converting, or Cloud Sync renames it and moves it out of its OU (its inherited ACLs are lost)",
            g.name(),
            o.dn_text
        ),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_selectors() {
        assert!(glob_match("fin*", "Finance"));
        assert!(glob_match("*ance", "FINANCE"));
        assert!(glob_match("f?nance", "Finance"));
        assert!(!glob_match("fin", "Finance"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "acbd"));
        let ids = Selector::parse_arg(
            "2A000000-0000-4000-8000-000000003001, 2a000000-0000-4000-8000-000000003002",
        );
        assert_eq!(
            ids,
            [
                Selector::Id("2a000000-0000-4000-8000-000000003001".into()),
                Selector::Id("2a000000-0000-4000-8000-000000003002".into())
            ]
        );
        assert_eq!(
            Selector::parse_arg("Sales, EMEA*"),
            [Selector::Pattern("Sales, EMEA*".into())]
        );
    }

    fn group(id: &str, sync: Option<bool>, sid: bool, managed: Option<bool>) -> Group {
        Group {
            id: id.into(),
            display_name: Some(format!("G {id}")),
            security_enabled: Some(true),
            mail_enabled: Some(false),
            on_premises_sync_enabled: sync,
            on_premises_security_identifier: sid.then(|| format!("S-1-5-21-1-2-3-{}", id.len())),
            on_premises_sync_behavior: managed.map(|b| {
                crate::bundle::tenant::OnPremisesSyncBehavior {
                    is_cloud_managed: Some(b),
                }
            }),
            members: Some(vec![]),
            ..Group::default()
        }
    }

    fn snap(version: &str, groups: Vec<Group>) -> Snapshot {
        Snapshot {
            tenant: crate::bundle::tenant::TenantDoc {
                on_premises_synchronization: Some(crate::bundle::tenant::OnPremSync {
                    configuration: Some(crate::bundle::tenant::SyncConfiguration {
                        synchronization_client_version: Some(version.into()),
                        writeback_configuration: None,
                    }),
                    ..Default::default()
                }),
                groups: Some(groups),
                ..Default::default()
            },
            ..Snapshot::default()
        }
    }

    fn run(s: &Snapshot, req: &PlanRequest) -> (Vec<Change>, Vec<Refusal>, Vec<Note>, usize) {
        let (mut c, mut r, mut n, mut u) = (Vec::new(), Vec::new(), Vec::new(), 0);
        plan(s, req, &mut c, &mut r, &mut n, &mut u);
        (c, r, n, u)
    }

    #[test]
    fn states_and_the_connect_floor_decide_what_is_planned() {
        let groups = vec![
            group("synced", Some(true), true, None),
            group("cloud", None, false, None),
            group("converted", None, true, Some(true)),
            group("unknown", None, true, None),
            group("rolling", None, true, Some(false)),
        ];
        let all = vec![Selector::Pattern("*".into())];
        let req = PlanRequest {
            convert_soa: all.clone(),
            ..PlanRequest::default()
        };
        let (c, r, _, u) = run(&snap("2.5.79.0", groups.clone()), &req);
        let planned: Vec<&str> = c.iter().filter_map(|c| c.id.as_deref()).collect();
        assert_eq!(planned, ["synced", "rolling"]);
        assert_eq!(u, 1, "the converted group is unchanged");
        let why: Vec<(&str, &str)> = r
            .iter()
            .map(|r| (r.id.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(
            why,
            [("cloud", "not-from-ad"), ("unknown", "soa-state-unknown")]
        );
        // Connect below 2.5.76.0 does not honour the conversion: refused unless forced.
        let (c, r, n, _) = run(&snap("2.5.3.0", groups.clone()), &req);
        assert!(c.is_empty());
        assert!(
            r.iter()
                .any(|r| r.id == "synced" && r.reason == "connect-below-floor")
        );
        assert!(n.iter().any(|n| n.code == "soa-connect-below-floor"));
        let forced = PlanRequest { force: true, ..req };
        assert_eq!(run(&snap("2.5.3.0", groups.clone()), &forced).0.len(), 2);
        // Rollback: only converted groups change; rolling and synced ones are unchanged.
        let back = PlanRequest {
            rollback_soa: all,
            ..PlanRequest::default()
        };
        let (c, r, n, u) = run(&snap("2.5.79.0", groups), &back);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].id.as_deref(), Some("converted"));
        assert_eq!(c[0].after, json!({"isCloudManaged": false}));
        assert_eq!(u, 2);
        assert_eq!(r.len(), 2);
        assert!(n.iter().any(|n| n.code == "soa-rollback-steps"));
    }
}
