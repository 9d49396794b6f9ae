//! `gwb apply`: carries out a `gwb-plan/1` plan against Active Directory over LDAP.
//!
//! Before the first write it honours the plan's safety decisions (refusals, the takeover
//! guard, the deletion threshold, the written attribute set) and re-reads every object it
//! will touch, refusing a stale plan (changed uSNChanged, a moved target OU, another tenant
//! snapshot, an object no longer owned). Then it writes in dependency order ([`steps`]):
//! creates, renames, attribute and member changes (batched), deletes; every write journalled
//! ([`journal`]) before and after, retried or confirmed as `ldap::write` classifies it.
//! It reports through [`Event`]s; printing is the renderer's ([`render`]).

pub mod args;
pub mod command;
pub mod journal;
pub mod render;
pub mod steps;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use uuid::Uuid;

use crate::ad::Dn;
use crate::ldap::conn::{self, Conn};
use crate::ldap::write::{Change, Done, KeyCache, ModKind, Retry, WriteOp, residual_changes_with};
use crate::plan::model::{Action, Plan};
use journal::{AttrRecord, BeginRecord, EndRecord, Journal, Outcome, RunRecord, SummaryRecord};
use steps::{Phase, Step};

/// A sent write: its journal sequence number, result and requests sent.
type Sent = (
    u64,
    Result<crate::ldap::write::Written, crate::ldap::write::WriteError>,
    u32,
);

/// Writes per journal group commit (see [`run`]).
const JOURNAL_WINDOW: usize = 64;

/// The attributes gwb ever writes (the core's list), besides `objectClass` on create and the
/// CN through the DN. A plan naming any other is refused.
pub use crate::core::desired::WRITTEN_ATTRIBUTES;

/// What the run may do beyond the plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--takeover`: run although Entra Connect writes back into the same OU.
    pub takeover: bool,
    /// `--max-deletes`, overriding the plan's threshold.
    pub max_deletes: Option<usize>,
    /// Where the journal goes.
    pub journal_dir: PathBuf,
    /// The plan file, for the journal.
    pub plan_path: Option<String>,
    /// SHA-256 of the tenant snapshot given now, compared with the plan's.
    pub tenant_sha256: Option<String>,
    pub retry: Retry,
    /// Member values per modify request.
    pub batch: usize,
    /// Writes per journal group commit (1: an fsync before and after every write).
    pub window: usize,
    /// Send a window's creates pipelined (several outstanding requests on the connection).
    pub pipeline: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            takeover: false,
            max_deletes: None,
            journal_dir: PathBuf::from(journal::DEFAULT_DIR),
            plan_path: None,
            tenant_sha256: None,
            retry: Retry::default(),
            batch: crate::ldap::write::MEMBER_BATCH,
            window: JOURNAL_WINDOW,
            pipeline: true,
        }
    }
}

/// Why apply refused to start (nothing was written). Input errors: exit 2.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("refusing to apply: {0}")]
    Safety(String),
    #[error(
        "refusing to apply: the plan deletes {deletes} objects, more than the threshold of {max} (--max-deletes); nothing was written"
    )]
    Threshold { deletes: usize, max: usize },
    #[error(
        "refusing to apply a stale plan (nothing was written; run gwb plan again):\n  {}",
        .0.join("\n  ")
    )]
    Stale(Vec<String>),
    #[error("refusing to apply: {0}")]
    Invalid(String),
}

/// How one object fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Every write for it succeeded.
    Applied,
    /// Its changes were already in the directory (confirmed by a re-read).
    AlreadyDone,
    /// A write for it failed (the message says which and why); later steps for it were skipped.
    Failed(String),
}

/// The outcome for one group of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectOutcome {
    pub group_id: String,
    pub display_name: String,
    pub action: Action,
    pub dn: String,
    pub status: Status,
    /// LDAP write requests sent for it.
    pub writes: u32,
}

/// What the renderer hears about, as it happens.
#[derive(Debug)]
pub enum Event<'a> {
    /// The journal file of this run.
    Journal(&'a std::path::Path),
    /// Writes are about to start: `total` steps.
    Start { total: usize },
    /// One step finished.
    Step { done: usize, total: usize },
    /// One object is finished.
    Object(&'a ObjectOutcome),
}

/// The whole run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub outcomes: Vec<ObjectOutcome>,
    pub journal: Option<PathBuf>,
    /// LDAP write requests sent (retries included).
    pub writes: usize,
    pub reconnects: usize,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, Status::Failed(_)))
            .count()
    }
    pub fn count(&self, action: Action) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.action == action && !matches!(o.status, Status::Failed(_)))
            .count()
    }
    pub fn already_done(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.status == Status::AlreadyDone)
            .count()
    }
}

pub use crate::plan::load::sha256_hex;

/// The checks that need no directory: refusals, the takeover guard, the deletion threshold,
/// the written attribute set, a sound plan.
pub fn preflight(plan: &Plan, opts: &Options) -> Result<(), Refused> {
    let overrides: Vec<&str> = if opts.takeover {
        vec!["--takeover"]
    } else {
        vec![]
    };
    if let Some(r) = plan.refusal(&overrides) {
        let how = r
            .override_flag
            .as_deref()
            .map(|f| format!(" ({f} overrides this)"))
            .unwrap_or_default();
        return Err(Refused::Safety(format!("{}{how}", r.detail)));
    }
    let deletes = plan
        .groups
        .iter()
        .filter(|g| g.action == Action::Delete)
        .count();
    let max = opts.max_deletes.unwrap_or(plan.policy.max_deletes);
    if deletes > max {
        return Err(Refused::Threshold { deletes, max });
    }
    if deletes > 0 && !plan.safety.delete_proof.complete {
        return Err(Refused::Safety(format!(
            "the plan deletes {deletes} objects but its evidence does not prove deletions ({})",
            plan.safety
                .delete_proof
                .detail
                .as_deref()
                .unwrap_or("incomplete groups section")
        )));
    }
    if let (Some(now), Some(then)) = (&opts.tenant_sha256, &plan.inputs.tenant.sha256)
        && now != then
    {
        return Err(Refused::Stale(vec![format!(
            "the tenant snapshot is not the one the plan was made from (tenant.json SHA-256 {now}, planned from {then})"
        )]));
    }
    Dn::parse(&plan.target_ou.dn).map_err(|e| {
        Refused::Invalid(format!(
            "target OU {:?} is not a DN: {e}",
            plan.target_ou.dn
        ))
    })?;
    for g in plan.changes() {
        for name in g.attributes.keys() {
            if !WRITTEN_ATTRIBUTES
                .iter()
                .any(|a| a.eq_ignore_ascii_case(name))
                || name.eq_ignore_ascii_case("member")
            {
                return Err(Refused::Invalid(format!(
                    "group {} ({}): attribute {name:?} is not one gwb writes",
                    g.id, g.display_name
                )));
            }
        }
        // Unknown is never empty: a group whose members are unknown gets no member change.
        if g.members.unknown && !(g.members.add.is_empty() && g.members.remove.is_empty()) {
            return Err(Refused::Invalid(format!(
                "group {} ({}): its members are unknown, yet the plan changes them",
                g.id, g.display_name
            )));
        }
        let needs_current = matches!(g.action, Action::Update | Action::Rename | Action::Delete);
        if needs_current && g.current.is_none() {
            return Err(Refused::Invalid(format!(
                "group {} ({}): a {} without the object's current state",
                g.id,
                g.display_name,
                g.action.as_str()
            )));
        }
        if matches!(g.action, Action::Create | Action::Rename) && g.dn.is_none() {
            return Err(Refused::Invalid(format!(
                "group {} ({}): a {} without a DN",
                g.id,
                g.display_name,
                g.action.as_str()
            )));
        }
        if let Some(dn) = &g.dn {
            Dn::parse(dn).map_err(|e| {
                Refused::Invalid(format!(
                    "group {} ({}): DN {dn:?}: {e}",
                    g.id, g.display_name
                ))
            })?;
        }
    }
    Ok(())
}

/// The stamp gwb writes and recognises: `Group_<objectId>`.
pub fn stamp(id: &str) -> String {
    crate::core::ownership::stamp_value(id)
}

/// Whether an entry read from AD is the object gwb owns for group `id` (the core's ownership
/// test on its `adminDescription` and `msDS-ExternalDirectoryObjectId`).
fn carries_stamp(e: &crate::ad::ldif::Entry, id: &str) -> bool {
    use crate::core::ownership::{ADMIN_DESCRIPTION, EXTERNAL_DIRECTORY_OBJECT_ID};
    let Some(want) = crate::ad::ids::parse_guid(id) else {
        return false;
    };
    crate::core::ownership::stamp(
        e.text(ADMIN_DESCRIPTION),
        e.text(EXTERNAL_DIRECTORY_OBJECT_ID),
    )
    .is_some_and(|s| s.object_id == want)
}

/// What is read of every object in the target OU before the first write.
fn reread_attrs() -> Vec<&'static str> {
    let mut v = vec!["objectGUID", "uSNChanged", "cn"];
    v.extend(WRITTEN_ATTRIBUTES.iter().copied());
    v
}

/// The directory as read just before the first write.
#[derive(Debug, Default)]
struct Before {
    /// Objects directly in the target OU, by DN key (every value of every written attribute).
    by_dn: HashMap<String, crate::ad::ldif::Entry>,
    /// Objects the plan deletes, by group id (for the journal).
    deleted: HashMap<String, crate::ad::ldif::Entry>,
}

/// An entry with its `member` values complete (ranged reads where the DC cut them).
async fn complete_members(
    c: &mut Conn,
    e: crate::ad::ldif::Entry,
) -> anyhow::Result<crate::ad::ldif::Entry> {
    let ranged = e
        .attrs
        .iter()
        .any(|(n, _)| crate::ldap::conn::parse_range(n, "member").is_some());
    if !ranged {
        return Ok(e);
    }
    let members = c.ranged_values(&e.dn, "member", &e).await?;
    let mut full = crate::ad::ldif::Entry::new(e.dn.clone());
    for (n, v) in &e.attrs {
        if n.split(';')
            .next()
            .is_some_and(|b| b.eq_ignore_ascii_case("member"))
        {
            continue;
        }
        for x in v {
            full.push(n, x.clone());
        }
    }
    for m in members {
        full.push("member", m);
    }
    Ok(full)
}

/// Re-read the target OU (one paged search) and every object the plan touches outside it (by
/// objectGUID); refuse a stale plan naming each object.
async fn check_stale(c: &mut Conn, plan: &Plan) -> anyhow::Result<Result<Before, Refused>> {
    let mut stale = Vec::new();
    let ou = &plan.target_ou;
    let ou_dn = Dn::parse(&ou.dn)?;
    let found = match &ou.object_guid {
        Some(g) => c.read_guid(g, &["objectGUID"]).await?,
        None => c.read(&ou.dn, &["objectGUID"]).await?,
    };
    let mut before = Before::default();
    let mut by_guid: HashMap<Uuid, String> = HashMap::new();
    match found {
        None => stale.push(format!("the target OU {} no longer exists", ou.dn)),
        Some(e) if Dn::parse(&e.dn).map(|d| d.key()).ok() != Some(ou_dn.key()) => {
            stale.push(format!("the target OU {} has moved to {}", ou.dn, e.dn))
        }
        Some(_) => {
            let attrs = reread_attrs();
            let entries = c
                .search(&ou.dn, ldap3::Scope::OneLevel, "(objectClass=*)", &attrs)
                .await?;
            for e in entries {
                let e = complete_members(c, e).await?;
                let Ok(k) = Dn::parse(&e.dn).map(|d| d.key()) else {
                    continue;
                };
                if let Some(g) = e
                    .first("objectGUID")
                    .and_then(crate::ad::ids::guid_from_bytes)
                {
                    by_guid.insert(g, k.clone());
                }
                before.by_dn.insert(k, e);
            }
        }
    }
    for g in plan.changes() {
        let Some(cur) = &g.current else { continue };
        let in_ou = match &cur.object_guid {
            Some(guid) => by_guid.get(guid).and_then(|k| before.by_dn.get(k)).cloned(),
            None => Dn::parse(&cur.dn)
                .ok()
                .and_then(|d| before.by_dn.get(&d.key()))
                .cloned(),
        };
        let e = match in_ou {
            Some(e) => Some(e),
            None => {
                let attrs = reread_attrs();
                let e = match &cur.object_guid {
                    Some(guid) => c.read_guid(guid, &attrs).await?,
                    None => c.read(&cur.dn, &attrs).await?,
                };
                match e {
                    Some(e) => Some(complete_members(c, e).await?),
                    None => None,
                }
            }
        };
        let name = format!("{} ({}, {})", g.display_name, g.id, cur.dn);
        let Some(e) = e else {
            stale.push(format!("{name}: the object no longer exists"));
            continue;
        };
        if let Some(want) = cur.usn_changed {
            let have = e
                .text("uSNChanged")
                .and_then(|s| s.trim().parse::<u64>().ok());
            if have != Some(want) {
                stale.push(format!(
                    "{name}: changed since planning (uSNChanged {} now, {want} in the plan)",
                    have.map_or("unknown".to_string(), |h| h.to_string())
                ));
                continue;
            }
        }
        let now = Dn::parse(&e.dn)?;
        if now.key() != Dn::parse(&cur.dn)?.key() {
            stale.push(format!("{name}: now at {}", e.dn));
            continue;
        }
        // A converted group's original AD object (read back by its objectGUID above): gwb
        // adopts it in place when it carries no stamp, or its own.
        let adopt = g.reason == crate::core::GroupReason::SoaConverted
            && cur.object_guid.is_some()
            && g.action == Action::Update;
        let unstamped = crate::core::ownership::stamp(
            e.text(crate::core::ownership::ADMIN_DESCRIPTION),
            e.text(crate::core::ownership::EXTERNAL_DIRECTORY_OBJECT_ID),
        )
        .is_none();
        let owned = carries_stamp(&e, &g.id) || (adopt && unstamped);
        if !owned {
            stale.push(format!(
                "{name}: does not carry gwb's stamp {}; gwb never changes objects it does not own",
                stamp(&g.id)
            ));
            continue;
        }
        // Only objects directly in the target OU; a rename may bring an owned object back.
        if g.action != Action::Rename && !adopt && !now.is_child_of(&ou_dn) {
            stale.push(format!(
                "{name}: not directly in the target OU {}; gwb never changes objects elsewhere",
                ou.dn
            ));
            continue;
        }
        if g.action == Action::Delete {
            before.deleted.insert(g.id.clone(), e);
        }
    }
    Ok(if stale.is_empty() {
        Ok(before)
    } else {
        Err(Refused::Stale(stale))
    })
}

/// What of a step is still to do given the directory as read before the first write:
/// `Ok(None)` when it is already there (no request is sent), `Err` when the step cannot be
/// done (a create whose DN holds an object gwb does not own).
fn pending_part(
    before: &Before,
    plan: &Plan,
    step: &Step,
    keys: &mut KeyCache,
) -> Result<Option<WriteOp>, String> {
    let Ok(k) = Dn::parse(step.op.dn()).map(|d| d.key()) else {
        return Ok(Some(step.op.clone()));
    };
    let Some(e) = before.by_dn.get(&k) else {
        return Ok(Some(step.op.clone()));
    };
    let now = |a: &str| e.values(a).map(<[u8]>::to_vec).collect::<Vec<_>>();
    match &step.op {
        WriteOp::Add { dn, attrs } => {
            let g = &plan.groups[step.group];
            if !carries_stamp(e, &g.id) {
                return Err(format!(
                    "add {dn}: an object gwb did not create already has this name (it carries no stamp {}); it is left untouched",
                    stamp(&g.id)
                ));
            }
            // Created earlier (an interrupted run): only missing members remain.
            let changes: Vec<Change> = attrs
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("member"))
                .map(|(n, v)| Change::new(ModKind::Add, n, v.clone()))
                .collect();
            let rest = residual_changes_with(&changes, now, keys);
            Ok((!rest.is_empty()).then(|| WriteOp::Modify {
                dn: dn.clone(),
                changes: rest,
            }))
        }
        WriteOp::Modify { dn, changes } => {
            let rest = residual_changes_with(changes, now, keys);
            Ok((!rest.is_empty()).then(|| WriteOp::Modify {
                dn: dn.clone(),
                changes: rest,
            }))
        }
        _ => Ok(Some(step.op.clone())),
    }
}

fn text_values(v: &[Vec<u8>]) -> Vec<String> {
    v.iter()
        .map(|x| String::from_utf8_lossy(x).into_owned())
        .collect()
}

/// The journal's description of a step.
fn begin_record(
    plan: &Plan,
    step: &Step,
    deleted: &HashMap<String, crate::ad::ldif::Entry>,
) -> BeginRecord {
    let g = &plan.groups[step.group];
    let mut changes = Vec::new();
    let (guid, new_dn) = match &step.op {
        WriteOp::Add { attrs, .. } => {
            for (n, v) in attrs {
                let member = n.eq_ignore_ascii_case("member");
                changes.push(AttrRecord {
                    attr: n.clone(),
                    kind: "add".into(),
                    before: None,
                    after: (!member).then(|| text_values(v)),
                    values: if member { text_values(v) } else { vec![] },
                });
            }
            (None, None)
        }
        WriteOp::Modify { changes: cs, .. } => {
            for c in cs {
                let member = c.attr.eq_ignore_ascii_case("member");
                let planned = g
                    .attributes
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&c.attr));
                let vals = |v: &Option<crate::plan::model::AttrValue>| {
                    v.as_ref()
                        .map(|v| v.values().iter().map(|s| s.to_string()).collect())
                        .or(Some(vec![]))
                };
                changes.push(AttrRecord {
                    attr: c.attr.clone(),
                    kind: c.kind.as_str().into(),
                    before: if member {
                        None
                    } else {
                        planned.and_then(|(_, p)| vals(&p.before))
                    },
                    after: if member {
                        None
                    } else {
                        Some(text_values(&c.values))
                    },
                    values: if member {
                        text_values(&c.values)
                    } else {
                        vec![]
                    },
                });
            }
            (g.current.as_ref().and_then(|c| c.object_guid), None)
        }
        WriteOp::ModRdn { guid, .. } => {
            let cn_before = g
                .current
                .as_ref()
                .and_then(|c| Dn::parse(&c.dn).ok())
                .and_then(|d| d.rdn_value().map(str::to_string));
            changes.push(AttrRecord {
                attr: "cn".into(),
                kind: "replace".into(),
                before: cn_before.map(|c| vec![c]),
                after: g.cn.clone().map(|c| vec![c]),
                values: vec![],
            });
            (*guid, step.op.dn_after())
        }
        WriteOp::Delete { guid, .. } => {
            if let Some(e) = deleted.get(&g.id) {
                for (n, v) in &e.attrs {
                    if n.eq_ignore_ascii_case("objectGUID") || n.eq_ignore_ascii_case("uSNChanged")
                    {
                        continue;
                    }
                    let member = n.eq_ignore_ascii_case("member");
                    changes.push(AttrRecord {
                        attr: n.clone(),
                        kind: "delete".into(),
                        before: (!member).then(|| text_values(v)),
                        after: None,
                        values: if member { text_values(v) } else { vec![] },
                    });
                }
            }
            (*guid, None)
        }
    };
    BeginRecord {
        seq: 0,
        at: String::new(),
        op: step.op.name().into(),
        group_id: g.id.clone(),
        dn: step.op.dn().to_string(),
        new_dn,
        object_guid: guid,
        changes,
        adopted: g.reason == crate::core::GroupReason::SoaConverted,
    }
}

/// Apply `plan` on a connection opened from `settings`. `Err(Refused)` inside `Ok` when the
/// plan is refused before any write; `Err` for everything else that stops the run (the
/// journal records what happened up to then).
pub fn apply(
    plan: &Plan,
    settings: conn::Settings,
    opts: &Options,
    on: &mut (dyn FnMut(Event<'_>) + Send),
) -> anyhow::Result<Result<Report, Refused>> {
    if let Err(r) = preflight(plan, opts) {
        return Ok(Err(r));
    }
    conn::block_on(async move {
        let mut c = Conn::open(settings).await?;
        run(&mut c, plan, opts, on).await
    })?
}

/// [`apply`] on an open connection.
/// The objects of the plan (by objectGUID) as they are now in the target OU, for the journal's
/// summary: one search for objectGUID and uSNChanged. Empty when the search fails (undo then
/// has no uSNChanged to check, as after a crash).
async fn after_states(
    c: &mut Conn,
    plan: &Plan,
    created: &HashMap<usize, Uuid>,
) -> Vec<crate::apply::journal::AfterState> {
    let touched: std::collections::HashSet<Uuid> = plan
        .changes()
        .filter_map(|g| g.current.as_ref().and_then(|c| c.object_guid))
        .chain(created.values().copied())
        .collect();
    if touched.is_empty() {
        return Vec::new();
    }
    let Ok(found) = c
        .search(
            &plan.target_ou.dn,
            ldap3::Scope::OneLevel,
            "(objectClass=group)",
            &["objectGUID", "uSNChanged"],
        )
        .await
    else {
        return Vec::new();
    };
    let mut out: Vec<crate::apply::journal::AfterState> = found
        .iter()
        .filter_map(|e| {
            let g = e
                .first("objectGUID")
                .and_then(crate::ad::ids::guid_from_bytes)?;
            let usn = e.text("uSNChanged")?.trim().parse().ok()?;
            touched
                .contains(&g)
                .then(|| crate::apply::journal::AfterState {
                    object_guid: g,
                    dn: e.dn.clone(),
                    usn_changed: usn,
                })
        })
        .collect();
    out.sort_by_key(|a| a.object_guid);
    out
}

pub async fn run(
    c: &mut Conn,
    plan: &Plan,
    opts: &Options,
    on: &mut (dyn FnMut(Event<'_>) + Send),
) -> anyhow::Result<Result<Report, Refused>> {
    if let Err(r) = preflight(plan, opts) {
        return Ok(Err(r));
    }
    let before = match check_stale(c, plan).await? {
        Ok(d) => d,
        Err(r) => return Ok(Err(r)),
    };
    let steps = steps::steps(plan, opts.batch);
    let writes_before = c.stats.writes;
    let reconnects_before = c.stats.reconnects;
    let plan_json = serde_json::to_vec(plan)?;
    let mut report = Report::default();
    let mut journal: Option<Journal> = None;
    let run_record = || RunRecord {
        format: String::new(),
        gwb_version: env!("CARGO_PKG_VERSION").into(),
        started_at: crate::collect::now_rfc3339(),
        plan_path: opts.plan_path.clone(),
        // The digest the change record approved; a plan made in this run is sealed too.
        plan_sha256: plan
            .sha256
            .clone()
            .unwrap_or_else(|| sha256_hex(&plan_json)),
        target_ou: plan.target_ou.dn.clone(),
        dc: c.url().to_string(),
    };
    let run_record = run_record();
    // Per group: status so far, writes, and how many steps remain.
    let mut state: BTreeMap<usize, (Status, u32, usize)> = BTreeMap::new();
    for s in &steps {
        state
            .entry(s.group)
            .or_insert((Status::AlreadyDone, 0, 0))
            .2 += 1;
    }
    let total = steps.len();
    on(Event::Start { total });
    let mut guids: HashMap<usize, Uuid> = HashMap::new();
    let mut down: Option<String> = None;
    let mut done_steps = 0usize;
    // DN keys of member values, computed once for the whole run.
    let mut keys = KeyCache::default();
    // Windows of independent writes of one phase: their `begin` records are fsynced together
    // before the first of them is sent, their `end` records together after the last returned
    // (group commit: the journal costs two fsyncs per window, not per write).
    let mut start = 0usize;
    while start < steps.len() {
        let phase = steps[start].phase;
        let mut end = start;
        while end < steps.len() && end - start < opts.window.max(1) && steps[end].phase == phase {
            end += 1;
        }
        let window = &steps[start..end];
        start = end;
        // What each step of the window sends (None: nothing).
        let mut sends: Vec<Option<(u64, WriteOp)>> = Vec::with_capacity(window.len());
        for step in window {
            let entry = state
                .get_mut(&step.group)
                .expect("every step's group has a state");
            let op = if let Some(why) = &down {
                if !matches!(entry.0, Status::Failed(_)) {
                    entry.0 = Status::Failed(format!("not attempted: {why}"));
                }
                None
            } else if matches!(entry.0, Status::Failed(_)) {
                None
            } else {
                // Only what the directory does not hold yet is sent.
                match pending_part(&before, plan, step, &mut keys) {
                    Err(msg) => {
                        entry.0 = Status::Failed(msg);
                        None
                    }
                    Ok(op) => op,
                }
            };
            let Some(op) = op else {
                sends.push(None);
                continue;
            };
            if journal.is_none() {
                let j = Journal::create(&opts.journal_dir, run_record.clone()).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot write the journal in {} ({e}); nothing was written to AD",
                        opts.journal_dir.display()
                    )
                })?;
                on(Event::Journal(j.path()));
                report.journal = Some(j.path().to_path_buf());
                journal = Some(j);
            }
            let j = journal.as_mut().expect("the journal was just created");
            let s = Step {
                group: step.group,
                phase: step.phase,
                op,
            };
            let seq = j.begin_unsynced(begin_record(plan, &s, &before.deleted))?;
            sends.push(Some((seq, s.op)));
        }
        if let Some(j) = journal.as_mut()
            && sends.iter().any(Option::is_some)
        {
            j.sync()?;
        }
        // Creates are independent of each other (members naming groups this plan creates are
        // written later, as modifies): the window's adds go out pipelined.
        let mut pipelined: Vec<
            Option<(
                Result<crate::ldap::write::Written, crate::ldap::write::WriteError>,
                u32,
            )>,
        > = Vec::new();
        let pipeline = phase == Phase::Create && opts.pipeline && down.is_none();
        if pipeline {
            let ops: Vec<&WriteOp> = sends.iter().flatten().map(|(_, op)| op).collect();
            pipelined = c.write_many(&ops, &opts.retry).await;
            pipelined.reverse();
        }
        // Send (or take the pipelined answers), in order.
        let mut results: Vec<Option<Sent>> = Vec::with_capacity(window.len());
        for (step, send) in window.iter().zip(sends) {
            let Some((seq, op)) = send else {
                results.push(None);
                continue;
            };
            let failed_before = matches!(
                state.get(&step.group).map(|e| &e.0),
                Some(Status::Failed(_))
            );
            // A pipelined write has its answer already, whatever happened after it.
            let pre = if pipeline {
                Some(pipelined.pop().flatten())
            } else {
                None
            };
            let res = if let Some(Some(_)) = &pre {
                Ok(())
            } else if let Some(why) = &down {
                Err(crate::ldap::write::WriteError {
                    rc: None,
                    class: crate::ldap::write::Class::Terminal,
                    message: format!("not attempted: {why}"),
                })
            } else if failed_before {
                Err(crate::ldap::write::WriteError {
                    rc: None,
                    class: crate::ldap::write::Class::Terminal,
                    message: "not attempted: an earlier write for this group failed".into(),
                })
            } else if let Some(None) = &pre {
                Err(crate::ldap::write::WriteError {
                    rc: None,
                    class: crate::ldap::write::Class::Terminal,
                    message: "not attempted: the DC could not be reached again".into(),
                })
            } else {
                Ok(())
            };
            if let Err(e) = res {
                results.push(Some((seq, Err(e), 0)));
                continue;
            }
            {
                let (r, sent) = match pre {
                    Some(Some(x)) => x,
                    _ => {
                        let before_writes = c.stats.writes;
                        let r = c.write(&op, &opts.retry).await;
                        (r, (c.stats.writes - before_writes) as u32)
                    }
                };
                let entry = state
                    .get_mut(&step.group)
                    .expect("every step's group has a state");
                entry.1 += sent;
                match &r {
                    Ok(w) if w.done == Done::Applied => entry.0 = Status::Applied,
                    Ok(_) => {}
                    Err(e) => {
                        // Attempts ran out without an answer from the DC: the connection is
                        // gone for good; the remaining steps are not attempted.
                        if e.class == crate::ldap::write::Class::Transient && e.rc.is_none() {
                            down =
                                Some(format!("the DC could not be reached again ({})", e.message));
                        }
                        entry.0 = Status::Failed(e.message.clone())
                    }
                }
                results.push(Some((seq, r, sent)));
            }
        }
        // The objectGUIDs of the objects this window created: one search.
        if phase == Phase::Create && down.is_none() {
            let created: Vec<(usize, &str)> = window
                .iter()
                .zip(&results)
                .filter(|(_, r)| matches!(r, Some((_, Ok(_), _))))
                .map(|(s, _)| (s.group, s.op.dn()))
                .collect();
            if !created.is_empty() {
                let filter = format!(
                    "(|{})",
                    created
                        .iter()
                        .map(|(_, dn)| format!(
                            "(distinguishedName={})",
                            crate::ldap::discover::escape_filter_str(dn)
                        ))
                        .collect::<String>()
                );
                if let Ok(found) = c
                    .search(
                        &plan.target_ou.dn,
                        ldap3::Scope::OneLevel,
                        &filter,
                        &["objectGUID"],
                    )
                    .await
                {
                    let by_dn: HashMap<String, Uuid> = found
                        .iter()
                        .filter_map(|e| {
                            Some((
                                Dn::parse(&e.dn).ok()?.key(),
                                e.first("objectGUID")
                                    .and_then(crate::ad::ids::guid_from_bytes)?,
                            ))
                        })
                        .collect();
                    for (g, dn) in created {
                        if let Some(u) = Dn::parse(dn).ok().and_then(|d| by_dn.get(&d.key())) {
                            guids.insert(g, *u);
                        }
                    }
                }
            }
        }
        // The end records.
        for (step, r) in window.iter().zip(results) {
            if let Some((seq, res, sent)) = r {
                let guid = if step.phase == Phase::Create {
                    guids.get(&step.group).copied()
                } else {
                    plan.groups[step.group]
                        .current
                        .as_ref()
                        .and_then(|c| c.object_guid)
                        .or_else(|| guids.get(&step.group).copied())
                };
                let rec = match res {
                    Ok(w) => EndRecord {
                        seq,
                        at: String::new(),
                        outcome: match w.done {
                            Done::Applied => Outcome::Applied,
                            Done::AlreadyDone => Outcome::AlreadyDone,
                        },
                        object_guid: guid,
                        rc: None,
                        error: None,
                        attempts: w.attempts,
                    },
                    Err(e) => EndRecord {
                        seq,
                        at: String::new(),
                        outcome: Outcome::Failed,
                        object_guid: guid,
                        rc: e.rc,
                        error: Some(e.message),
                        attempts: sent,
                    },
                };
                journal
                    .as_mut()
                    .expect("a begin record opened the journal")
                    .end_unsynced(rec)?;
            }
        }
        // The end records are fsynced with the next window's begin records, before any of its
        // writes is sent (or by the summary at the end): every write's end is durable before a
        // later write goes out, at one fsync per window instead of two.
        for step in window {
            done_steps += 1;
            on(Event::Step {
                done: done_steps,
                total,
            });
            let entry = state
                .get_mut(&step.group)
                .expect("every step's group has a state");
            entry.2 -= 1;
            if entry.2 == 0 {
                let g = &plan.groups[step.group];
                let o = ObjectOutcome {
                    group_id: g.id.clone(),
                    display_name: g.display_name.clone(),
                    action: g.action,
                    dn: g
                        .dn
                        .clone()
                        .or_else(|| g.current.as_ref().map(|c| c.dn.clone()))
                        .unwrap_or_default(),
                    status: entry.0.clone(),
                    writes: entry.1,
                };
                on(Event::Object(&o));
                report.outcomes.push(o);
            }
        }
    }
    report.writes = c.stats.writes - writes_before;
    report.reconnects = c.stats.reconnects - reconnects_before;
    if let Some(j) = journal.as_mut() {
        let after = if down.is_none() {
            after_states(c, plan, &guids).await
        } else {
            Vec::new()
        };
        j.finish(SummaryRecord {
            after,
            finished_at: String::new(),
            applied: report
                .outcomes
                .iter()
                .filter(|o| o.status == Status::Applied)
                .count(),
            already_done: report.already_done(),
            failed: report.failed(),
        })?;
    }
    Ok(Ok(report))
}
