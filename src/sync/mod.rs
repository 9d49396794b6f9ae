//! `gwb sync`: plan and apply in one step from live Graph and LDAP, with every safety rule of
//! `gwb apply` (it is the same plan builder and the same applier), and `gwb sync --watch`: a
//! loop that keeps the groups delta bookmark in a state directory, polls it every interval
//! (one Graph request when nothing changed), plans and applies only the groups that changed,
//! reconciles fully every `--full-every`, backs off on outages and stops cleanly on
//! SIGINT/SIGTERM after the current operation.

pub mod args;
pub mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Config;
use crate::graph::client::GraphClient;
use crate::graph::live;
use crate::graph::model::Collected;
use crate::plan::model::{Action, DeleteProof, Fingerprint, InputSource, Plan, PlanInputs};
use args::SyncArgs;

pub const SYNC_LONG: &str = "\
Plans and applies in one step, non-interactively, from live Microsoft Graph and live LDAP: the
same plan as `gwb plan` and the same applier as `gwb apply`, with every safety rule of apply
(the deletion threshold --max-deletes, the takeover guard --takeover, the stale-object check,
deletes only with proof: a complete groups section and a per-id GET answering 404). Every
write is journalled in --journal-dir (undo with gwb undo).

--watch keeps running: it keeps the groups delta bookmark in --state-dir, polls it every
--interval (one Graph request when nothing changed), and plans and applies only the groups that
changed, printing one line per applied change. A full reconciliation runs at start when there
is no bookmark and every --full-every, to catch changes made by hand in AD. Graph throttling
(429 with Retry-After) and outages of Graph or the DC are retried with a growing backoff, never
in a busy loop. SIGINT or SIGTERM (on Windows: Ctrl+C, Ctrl+Break or closing the console)
stops it after the current operation; a restart resumes from the bookmark without re-applying
anything.

--dry-run prints the plan (with --watch: each poll's plan) and writes nothing.

Examples:
  gwb sync --dry-run --config /etc/gwb/gwb.toml
  gwb sync --config /etc/gwb/gwb.toml                      # one reconciliation
  gwb sync --watch --interval 10s --full-every 24h --config /etc/gwb/gwb.toml

Exit codes: 0 done (or stopped by a signal), 1 some objects failed (the rest applied),
2 input error or a refused plan (nothing written).";

/// Default `--state-dir`.
pub const DEFAULT_STATE_DIR: &str = "gwb-sync-state";
/// The longest wait between two attempts after failures.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The state directory's `sync.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncMeta {
    pub format: String,
    /// When the last full reconciliation finished (RFC 3339).
    pub last_full: Option<String>,
    /// Unix seconds of the same, for the interval arithmetic.
    pub last_full_unix: Option<i64>,
    /// The Graph root the bookmark was taken from (`https://graph.microsoft.com`). A state
    /// saved against another root (another cloud, a test tenant's endpoint) is set aside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_root: Option<String>,
    /// The tenant the bookmark belongs to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

impl SyncMeta {
    /// Why a saved state cannot be resumed against `root` (and, when known, `tenant`), or
    /// `None` when it can. The state's own delta links must be on `root` too, so a state
    /// written before roots were recorded is judged by its links.
    pub fn mismatch(&self, c: &Collected, root: &str, tenant: Option<&str>) -> Option<String> {
        if let Some(saved) = &self.graph_root
            && crate::graph::client::origin_of(saved) != crate::graph::client::origin_of(root)
        {
            return Some(format!(
                "it was saved against Graph root {saved}, not {root}"
            ));
        }
        // Only ids compare: `--tenant` may name a domain (contoso.onmicrosoft.com).
        if let (Some(saved), Some(now)) = (&self.tenant_id, tenant)
            && let (Ok(a), Ok(b)) = (uuid::Uuid::parse_str(saved), uuid::Uuid::parse_str(now))
            && a != b
        {
            return Some(format!("it belongs to tenant {saved}, not {now}"));
        }
        for link in [&c.delta_link, &c.users_delta_link, &c.devices_delta_link]
            .into_iter()
            .flatten()
        {
            if !crate::graph::client::same_origin(root, link) {
                return Some(format!(
                    "its delta bookmark points at {}, not the Graph root {root}",
                    crate::graph::client::origin_of(link)
                        .unwrap_or_else(|| "another origin".into())
                ));
            }
        }
        None
    }
}

pub const STATE_FORMAT: &str = "gwb-sync-state/1";

/// The bookmark on disk: `tenant.json` (the collected tenant with its deltaLink) and `sync.json`.
pub struct State {
    dir: PathBuf,
}

impl State {
    pub fn new(dir: &Path) -> State {
        State {
            dir: dir.to_path_buf(),
        }
    }
    fn tenant_path(&self) -> PathBuf {
        self.dir.join("tenant.json")
    }
    fn meta_path(&self) -> PathBuf {
        self.dir.join("sync.json")
    }
    /// The saved tenant, if any.
    pub fn load(&self) -> anyhow::Result<Option<(Collected, SyncMeta)>> {
        let p = self.tenant_path();
        if !p.exists() {
            return Ok(None);
        }
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        let c = Collected::from_json_text(&text).map_err(|e| {
            crate::error::InputError::new(
                &p,
                format!("line {} column {}", e.line(), e.column()),
                format!("not a sync bookmark: {e} (delete the state directory to start over)"),
            )
        })?;
        let meta = match std::fs::read_to_string(self.meta_path()) {
            Ok(t) => serde_json::from_str(&t).unwrap_or_default(),
            Err(_) => SyncMeta::default(),
        };
        Ok(Some((c, meta)))
    }
    /// Move a state that belongs elsewhere out of the way (`*.set-aside-<unix seconds>`), so a
    /// full sync starts and the old files stay for whoever wants them. Returns the new names.
    pub fn set_aside(&self) -> anyhow::Result<Vec<PathBuf>> {
        let stamp = now_unix();
        let mut moved = Vec::new();
        for p in [self.tenant_path(), self.meta_path()] {
            if p.exists() {
                let mut to = p.clone().into_os_string();
                to.push(format!(".set-aside-{stamp}"));
                let to = PathBuf::from(to);
                std::fs::rename(&p, &to)
                    .with_context(|| format!("setting {} aside", p.display()))?;
                moved.push(to);
            }
        }
        Ok(moved)
    }

    /// Save atomically: tenant first, then the meta file.
    pub fn save(&self, c: &Collected, meta: &SyncMeta) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        crate::fsio::write_atomic_with(&self.tenant_path(), |mut w| Ok(c.write_json(&mut w)?))?;
        let mut m = meta.clone();
        m.format = STATE_FORMAT.to_string();
        crate::fsio::write_atomic(
            &self.meta_path(),
            serde_json::to_string_pretty(&m)?.as_bytes(),
        )?;
        Ok(())
    }
}

/// Resolves when the process is asked to stop. Unix: SIGINT or SIGTERM. Windows: Ctrl+C or
/// Ctrl+Break in the console, the console window closing, or the system shutting down (a
/// scheduled task's "End" and a service manager's kill terminate the process outright; the
/// journal makes that safe, see docs/windows.md). Registered when called, inside a runtime.
type Stopped = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

#[cfg(unix)]
fn stop_signals() -> std::io::Result<Stopped> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(Box::pin(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    }))
}

#[cfg(windows)]
fn stop_signals() -> std::io::Result<Stopped> {
    use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, ctrl_shutdown};
    let mut c = ctrl_c()?;
    let mut brk = ctrl_break()?;
    let mut close = ctrl_close()?;
    let mut shutdown = ctrl_shutdown()?;
    Ok(Box::pin(async move {
        tokio::select! {
            _ = c.recv() => {}
            _ = brk.recv() => {}
            _ = close.recv() => {}
            _ = shutdown.recv() => {}
        }
    }))
}

#[cfg(not(any(unix, windows)))]
fn stop_signals() -> std::io::Result<Stopped> {
    Ok(Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    }))
}

/// SIGINT / SIGTERM (Ctrl+C / Ctrl+Break on Windows): a flag, and a sleep that wakes up when it is set.
#[derive(Clone)]
pub struct Stop {
    flag: Arc<AtomicBool>,
    pair: Arc<(std::sync::Mutex<()>, std::sync::Condvar)>,
}

impl Stop {
    /// Install the signal handlers (on a thread of their own).
    pub fn install() -> anyhow::Result<Stop> {
        let stop = Stop {
            flag: Arc::new(AtomicBool::new(false)),
            pair: Arc::new((std::sync::Mutex::new(()), std::sync::Condvar::new())),
        };
        let s = stop.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the signal runtime")?;
        // Register before returning, so a signal right after start is not lost.
        let stopped = rt.block_on(async { stop_signals() })?;
        std::thread::spawn(move || {
            rt.block_on(stopped);
            s.set();
        });
        Ok(stop)
    }
    pub fn set(&self) {
        self.flag.store(true, Ordering::SeqCst);
        let (m, c) = &*self.pair;
        let _g = m.lock();
        c.notify_all();
    }
    pub fn stopped(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
    /// Sleep up to `d`; true when stopped.
    pub fn sleep(&self, d: Duration) -> bool {
        let (m, c) = &*self.pair;
        let deadline = Instant::now() + d;
        let Ok(mut g) = m.lock() else {
            return self.stopped();
        };
        while !self.stopped() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match c.wait_timeout(g, deadline - now) {
                Ok((ng, _)) => g = ng,
                Err(_) => return self.stopped(),
            }
        }
        self.stopped()
    }
}

/// The wait after `failures` consecutive failures: the interval doubled each time, at most
/// [`MAX_BACKOFF`] (never a busy loop: at least one second).
pub fn backoff(interval: Duration, failures: u32) -> Duration {
    let base = interval.max(Duration::from_secs(1));
    let f = 1u32 << failures.min(10);
    (base * f).min(MAX_BACKOFF.max(base))
}

/// Merge the configuration into the arguments (flags and environment win).
pub fn merge_config(args: &mut SyncArgs) -> anyhow::Result<Config> {
    let cfg = crate::config::load_into_plan(&mut args.input)?;
    if cfg.path.is_some() {
        let ex = crate::config::Explicit::from_process();
        if !ex.has("interval")
            && let Some(d) = cfg.file.sync.interval
        {
            args.interval = d;
        }
        if !ex.has("full_every")
            && let Some(d) = cfg.file.sync.full_every
        {
            args.full_every = d;
        }
        if !ex.has("state_dir")
            && let Some(d) = &cfg.file.sync.state_dir
        {
            args.state_dir = d.clone();
        }
        if !ex.has("journal_dir") && cfg.file.journal.dir.is_some() {
            args.journal_dir = cfg.journal_dir();
        }
    }
    Ok(cfg)
}

/// How a run of `gwb sync` ended, for `main`'s exit code.
pub enum SyncOutcome {
    /// Everything applied (or nothing to do, or a dry run).
    Done,
    /// Some objects failed; the rest applied.
    SomeFailed,
}

/// `gwb sync` (one shot) or `gwb sync --watch`.
pub fn run(mut args: SyncArgs) -> anyhow::Result<SyncOutcome> {
    let cfg = merge_config(&mut args)?;
    if args.watch {
        if !args.input.graph.is_live() {
            anyhow::bail!(
                "gwb sync --watch reads live Graph: give --tenant/--client-id or --graph-url (or [graph] in gwb.toml)"
            );
        }
        if args.input.ldap.ldap_url.is_none() {
            anyhow::bail!(
                "gwb sync --watch writes over LDAP: give --ldap-url (or [ldap] url in gwb.toml)"
            );
        }
        return watch(&args, &cfg);
    }
    if args.input.ldap.ldap_url.is_none() {
        anyhow::bail!(
            "gwb sync applies over LDAP: give --ldap-url (or [ldap] url in gwb.toml); --dry-run also reads AD live"
        );
    }
    let plan = crate::plan::load::make_plan_with(&args.input, &cfg.overrides)?;
    once(&args, &plan)
}

fn apply_options(args: &SyncArgs) -> crate::apply::Options {
    crate::apply::Options {
        takeover: args.takeover,
        max_deletes: Some(args.input.max_deletes),
        journal_dir: args.journal_dir.clone(),
        plan_path: None,
        ..crate::apply::Options::default()
    }
}

/// Render or apply one plan.
fn once(args: &SyncArgs, plan: &Plan) -> anyhow::Result<SyncOutcome> {
    if args.dry_run {
        render::dry_run(plan, args.format)?;
        return Ok(SyncOutcome::Done);
    }
    let report = apply(args, plan)?;
    render::summary(plan, &report)?;
    Ok(if report.failed() == 0 {
        SyncOutcome::Done
    } else {
        SyncOutcome::SomeFailed
    })
}

/// Apply through `gwb apply`'s applier: same refusals, same journal, same retries.
fn apply(args: &SyncArgs, plan: &Plan) -> anyhow::Result<crate::apply::Report> {
    if plan.changes().next().is_none() {
        crate::apply::preflight(plan, &apply_options(args))
            .map_err(crate::apply::command::ApplyRefused)?;
        return Ok(crate::apply::Report::default());
    }
    let settings = crate::ldap::conn::Settings::from_args(&args.input.ldap)?;
    let mut err: Option<std::io::Error> = None;
    let mut on = |e: crate::apply::Event<'_>| {
        if let crate::apply::Event::Object(o) = e
            && let Err(x) = render::change_line(o)
            && err.is_none()
        {
            err = Some(x);
        }
    };
    let res = crate::apply::apply(plan, settings, &apply_options(args), &mut on)?;
    let report = res.map_err(crate::apply::command::ApplyRefused)?;
    if let Some(e) = err {
        return Err(e.into());
    }
    Ok(report)
}

/// A stable text of each group in a collected tenant, to tell which groups a delta changed.
fn group_prints(c: &Collected) -> BTreeMap<String, String> {
    let v = c.to_value();
    v.get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| {
            let id = g.get("id")?.as_str()?.to_ascii_lowercase();
            let mut g = g.clone();
            if let Some(ms) = g.get_mut("members").and_then(Value::as_array_mut) {
                ms.sort_by_key(|m| {
                    m.get("id")
                        .and_then(Value::as_str)
                        .map(str::to_ascii_lowercase)
                });
            }
            Some((id, g.to_string()))
        })
        .collect()
}

fn changed_ids(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (id, p) in after {
        if before.get(id) != Some(p) {
            out.insert(id.clone());
        }
    }
    for id in before.keys() {
        if !after.contains_key(id) {
            out.insert(id.clone());
        }
    }
    out
}

/// The plan for a collected tenant against live LDAP (the same builder as `gwb plan`), with
/// the per-id GET that proves a hard delete.
fn plan_for(
    args: &SyncArgs,
    cfg: &Config,
    rt: &tokio::runtime::Runtime,
    client: &Arc<GraphClient>,
    c: &Collected,
) -> anyhow::Result<Plan> {
    let value = c.to_value();
    let tenant_sha = crate::plan::load::sha256_hex(&serde_json::to_vec(&value)?);
    let mut snap = crate::bundle::Snapshot {
        origin: "live".into(),
        ..crate::bundle::Snapshot::default()
    };
    snap.tenant = serde_json::from_value(value).map_err(|e| {
        anyhow::anyhow!("the tenant collected from Graph has an unexpected shape: {e}")
    })?;
    let flag = args.input.policy.target_ou.as_deref();
    let ou = crate::core::inputs::target_ou(&snap, flag).map(|(t, _)| t);
    let refs = crate::collect::member_refs(&snap.tenant);
    let entries = crate::ldap::collect(&args.input.ldap, ou.as_deref(), &refs)?;
    snap.manifest.target_ou = ou;
    let ad_sha = crate::plan::load::sha256_hex(crate::ad::ldif::write(&entries).as_bytes());
    snap.ad = Some(
        crate::ad::AdSnapshot::from_entries(&entries)
            .map_err(|e| anyhow::anyhow!("AD data: line {}: {}", e.line, e.message))?,
    );
    let inputs = PlanInputs {
        tenant_id: snap.tenant.tenant_id.clone(),
        tenant: Fingerprint {
            source: InputSource::Graph,
            location: None,
            sha256: Some(tenant_sha),
        },
        ad: Fingerprint {
            source: InputSource::Ldap,
            location: None,
            sha256: Some(ad_sha),
        },
    };
    let prepared = crate::core::inputs::prepare(&snap, flag)?;
    let mut opts = crate::plan::PlanOptions {
        policy: crate::plan::model::PlanPolicy {
            deletion: args.input.policy.deletion,
            member_limit: args.input.policy.member_limit,
            cn_format: args.input.policy.cn_format,
            max_deletes: args.input.max_deletes,
        },
        inputs,
        created_at: crate::collect::now_rfc3339(),
        partial_evidence: None,
        graph_absent: None,
    };
    let plan = crate::plan::diff::build_with(&snap, &prepared, &opts, &cfg.overrides)?;
    let candidates: Vec<String> = plan
        .groups
        .iter()
        .filter(|g| g.delete_proof == Some(DeleteProof::CompleteSnapshot))
        .map(|g| g.id.clone())
        .collect();
    let absent = rt.block_on(crate::plan::load::absent_ids(client, &candidates))?;
    opts.graph_absent = Some(absent);
    Ok(crate::plan::diff::build_with(
        &snap,
        &prepared,
        &opts,
        &cfg.overrides,
    )?)
}

/// Keep only the groups of `ids` (what a delta changed).
fn restrict(mut plan: Plan, ids: &BTreeSet<String>) -> Plan {
    plan.groups
        .retain(|g| ids.contains(&g.id.to_ascii_lowercase()));
    // The plan this run applies: its summary and digests are of the groups it keeps.
    plan.seal();
    plan
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// What one turn of the loop did.
enum Turn {
    Idle,
    Applied,
}

struct Watcher<'a> {
    args: &'a SyncArgs,
    cfg: &'a Config,
    rt: tokio::runtime::Runtime,
    client: Option<Arc<GraphClient>>,
    state: State,
    current: Option<(Collected, SyncMeta)>,
}

impl Watcher<'_> {
    fn client(&mut self) -> anyhow::Result<Arc<GraphClient>> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let (c, _) = self
            .rt
            .block_on(crate::graph::connect(&self.args.input.graph))?;
        self.client = Some(c.clone());
        self.check_origin(&c)?;
        Ok(c)
    }

    /// A saved state from another Graph root or tenant is set aside with a warning, and the
    /// next turn is a full sync: its links are never followed.
    fn check_origin(&mut self, client: &GraphClient) -> anyhow::Result<()> {
        let tenant = self.args.input.graph.tenant.as_deref();
        let why = match &self.current {
            Some((c, meta)) => meta.mismatch(c, &client.root, tenant),
            None => None,
        };
        if let Some(why) = why {
            let moved = self.state.set_aside()?;
            tracing::warn!(
                "the sync state in {} is not for this tenant: {why}; set aside ({}) and starting with a full sync",
                self.args.state_dir.display(),
                moved
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            self.current = None;
        }
        Ok(())
    }

    fn full_due(&self) -> bool {
        match &self.current {
            None => true,
            Some((_, m)) => m.last_full_unix.is_none_or(|t| {
                now_unix().saturating_sub(t)
                    >= i64::try_from(self.args.full_every.as_secs()).unwrap_or(i64::MAX)
            }),
        }
    }

    /// Collect everything, plan everything, apply.
    fn full(&mut self) -> anyhow::Result<Turn> {
        let client = self.client()?;
        let a = &self.args.input.graph;
        let c = self.rt.block_on(live::full(
            &client,
            a.tenant.clone(),
            a.concurrency.max(1),
            a.all_members,
        ));
        if !c.incomplete.is_empty() {
            anyhow::bail!(
                "Graph collection incomplete ({}); nothing applied, retrying",
                c.incomplete.join(", ")
            );
        }
        let plan = plan_for(self.args, self.cfg, &self.rt, &client, &c)?;
        render::cycle("full reconciliation", &plan)?;
        if self.args.dry_run {
            render::dry_run(&plan, self.args.format)?;
        } else {
            let r = apply(self.args, &plan)?;
            if r.failed() > 0 {
                tracing::warn!(
                    "{} object(s) failed; they are retried at the next full reconciliation",
                    r.failed()
                );
            }
        }
        let meta = SyncMeta {
            format: STATE_FORMAT.into(),
            last_full: Some(crate::collect::now_rfc3339()),
            last_full_unix: Some(now_unix()),
            graph_root: Some(client.root.clone()),
            tenant_id: c.tenant_id.clone().or_else(|| a.tenant.clone()),
        };
        if !self.args.dry_run {
            self.state.save(&c, &meta)?;
        }
        self.current = Some((c, meta));
        Ok(Turn::Applied)
    }

    /// One delta round trip; plan and apply only when it brought changes.
    fn poll(&mut self) -> anyhow::Result<Turn> {
        let started = std::time::Instant::now();
        let client = self.client()?;
        let Some((c, meta)) = self.current.take() else {
            return self.full();
        };
        let Some(link) = c.delta_link.clone() else {
            self.current = Some((c, meta));
            return self.full();
        };
        let page = match self.rt.block_on(client.get(&link, &[])) {
            Ok(p) => p,
            Err(e)
                if e.status == Some(410)
                    || e.code.as_deref() == Some("syncStateNotFound")
                    || (e.status == Some(400) && e.message.contains("sync state")) =>
            {
                tracing::warn!("the delta bookmark has expired ({e}); reconciling fully");
                self.current = Some((c, meta));
                return self.full();
            }
            Err(e) => {
                self.current = Some((c, meta));
                return Err(anyhow::anyhow!("{}", live::explain("groups", &e)));
            }
        };
        let empty = page
            .get("value")
            .and_then(Value::as_array)
            .is_none_or(|v| v.is_empty())
            && page.get("@odata.nextLink").is_none();
        if empty {
            let mut c = c;
            if let Some(next) = page.get("@odata.deltaLink").and_then(Value::as_str) {
                c.delta_link = Some(next.to_string());
                if !self.args.dry_run {
                    self.state.save(&c, &meta)?;
                }
            }
            self.current = Some((c, meta));
            return Ok(Turn::Idle);
        }
        // Changes: replay the delta from the same bookmark into the collected tenant.
        let before = group_prints(&c);
        let next = match self.rt.block_on(live::incremental(&client, c)) {
            live::Incremental::Done(n) => *n,
            live::Incremental::Expired(why) => {
                tracing::warn!("incremental collection not possible ({why}); reconciling fully");
                self.current = self.state.load()?;
                return self.full();
            }
        };
        if !next.incomplete.is_empty() {
            // Nothing merged or applied: back to the saved bookmark, retried after a backoff.
            self.current = self.state.load()?;
            anyhow::bail!(
                "Graph collection incomplete ({}); nothing applied, retrying",
                next.incomplete.join(", ")
            );
        }
        let ids = changed_ids(&before, &group_prints(&next));
        if !ids.is_empty() {
            let plan = restrict(
                plan_for(self.args, self.cfg, &self.rt, &client, &next)?,
                &ids,
            );
            if self.args.dry_run {
                render::dry_run(&plan, self.args.format)?;
            } else {
                let r = apply(self.args, &plan)?;
                if r.failed() > 0 {
                    // Keep the old bookmark: the same changes come back at the next poll.
                    self.current = self.state.load()?;
                    anyhow::bail!("{} object(s) failed to apply; retrying", r.failed());
                }
                render::poll_applied(ids.len(), started.elapsed())?;
            }
        }
        if !self.args.dry_run {
            self.state.save(&next, &meta)?;
        }
        self.current = Some((next, meta));
        Ok(if ids.is_empty() {
            Turn::Idle
        } else {
            Turn::Applied
        })
    }
}

fn watch(args: &SyncArgs, cfg: &Config) -> anyhow::Result<SyncOutcome> {
    let stop = Stop::install()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let state = State::new(&args.state_dir);
    let current = state.load()?;
    let resumed = current.is_some();
    let mut w = Watcher {
        args,
        cfg,
        rt,
        client: None,
        state,
        current,
    };
    render::started(args, resumed)?;
    let mut failures: u32 = 0;
    while !stop.stopped() {
        let res = if w.full_due() { w.full() } else { w.poll() };
        let wait = match res {
            Ok(_) => {
                failures = 0;
                args.interval
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let d = backoff(args.interval, failures);
                tracing::warn!("{e:#}; next attempt in {}s", d.as_secs());
                if w.client.is_some() && failures >= 3 {
                    // A fresh client (and token) after repeated failures.
                    w.client = None;
                }
                d
            }
        };
        if stop.sleep(wait) {
            break;
        }
    }
    render::stopped()?;
    let _ = Action::Noop;
    Ok(SyncOutcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_bounded() {
        let i = Duration::from_secs(2);
        assert_eq!(backoff(i, 1), Duration::from_secs(4));
        assert_eq!(backoff(i, 2), Duration::from_secs(8));
        assert_eq!(backoff(i, 30), MAX_BACKOFF);
        assert_eq!(backoff(Duration::ZERO, 1), Duration::from_secs(2));
    }

    #[test]
    fn changed_ids_see_adds_removes_and_changes() {
        let a: BTreeMap<String, String> =
            [("x".into(), "1".into()), ("y".into(), "1".into())].into();
        let b: BTreeMap<String, String> =
            [("x".into(), "2".into()), ("z".into(), "1".into())].into();
        let ids: Vec<String> = changed_ids(&a, &b).into_iter().collect();
        assert_eq!(ids, ["x", "y", "z"]);
    }

    #[test]
    fn stop_wakes_a_sleep() {
        let s = Stop {
            flag: Arc::new(AtomicBool::new(false)),
            pair: Arc::new((std::sync::Mutex::new(()), std::sync::Condvar::new())),
        };
        let s2 = s.clone();
        let t = std::thread::spawn(move || s2.sleep(Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(50));
        s.set();
        assert!(t.join().unwrap());
    }
}
