//! Running `gwb tenant plan|apply`: loading the snapshot or the live tenant, re-reading every
//! planned object before writing (stale plans are refused, changes already in place skipped),
//! the undo file (written and flushed before the first write, merged on re-runs), the writes
//! through `graph::write`, and undo plans built from an undo file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::args::{ApplyArgs, PlanArgs, TenantFormat};
use super::{Change, Plan, PlanRequest, Refusal, Request};
use crate::bundle::Snapshot;
use crate::graph::client::{GraphClient, GraphError};
use crate::graph::write::{self as gw, WriteRequest};
use crate::outcome::RunOutcome;

/// The result of one planned change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemResult {
    pub id: Option<String>,
    pub display_name: String,
    pub kind: String,
    pub property: String,
    /// `changed`, `already` (in the planned state before the run), `failed`, or `planned` (--dry-run).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What `gwb tenant apply` did (`gwb-tenant-apply/1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    pub format: String,
    pub plan: String,
    pub undo_file: Option<String>,
    pub dry_run: bool,
    pub results: Vec<ItemResult>,
    pub changed: usize,
    pub already: usize,
    pub failed: usize,
}

/// One touched group in an undo file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UndoGroup {
    pub id: String,
    pub display_name: String,
    /// writebackConfiguration before the apply (explicit nulls).
    pub previous: Value,
    /// What the apply wrote.
    pub written: Value,
    /// The property changed: `writebackConfiguration` when absent, or `onPremisesSyncBehavior`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
}

fn is_soa(c: &Change) -> bool {
    c.property == crate::core::soa::SECTION
}

/// `onPremisesSyncBehavior` of groups by id (`Ok(None)`: the group is gone), 20 per `$batch`.
async fn read_sync_behaviors(
    client: &Arc<GraphClient>,
    ids: &[String],
) -> Vec<Result<Option<Value>, GraphError>> {
    let urls: Vec<String> = ids
        .iter()
        .map(|id| format!("/groups/{id}/{}", crate::core::soa::SECTION))
        .collect();
    client
        .batch_get("v1.0", &urls, &[])
        .await
        .into_iter()
        .map(|r| match r {
            Ok(raw) => {
                let v = crate::graph::client::raw_to_value(&raw);
                Ok(Some(json!({
                    "isCloudManaged": v.get("isCloudManaged").and_then(Value::as_bool).unwrap_or(false)
                })))
            }
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        })
        .collect()
}

/// The app role assignments of every service principal a scope change names, by id (lower
/// case): `Ok(None)` when the service principal does not exist.
async fn read_scope<'a>(
    client: &Arc<GraphClient>,
    changes: impl Iterator<Item = &'a Change>,
) -> BTreeMap<String, Result<Option<Vec<Value>>, GraphError>> {
    let sps: std::collections::BTreeSet<String> = changes
        .filter(|c| c.kind == super::scope::KIND)
        .filter_map(|c| {
            let v = if c.after.is_null() {
                &c.before
            } else {
                &c.after
            };
            super::scope::target_of(v).map(|(sp, _)| sp.to_ascii_lowercase())
        })
        .collect();
    let mut out = BTreeMap::new();
    for sp in sps {
        let r = match client
            .get_all(
                &format!("/v1.0/servicePrincipals/{sp}/appRoleAssignedTo"),
                &[],
            )
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        };
        out.insert(sp, r);
    }
    out
}

/// Whether a scope change is still to be made, made already, or planned against a tenant that
/// has changed since.
fn scope_state(
    c: &Change,
    now: &BTreeMap<String, Result<Option<Vec<Value>>, GraphError>>,
) -> State {
    let group = c.id.clone().unwrap_or_default();
    let v = if c.after.is_null() {
        &c.before
    } else {
        &c.after
    };
    let Some((sp, role)) = super::scope::target_of(v) else {
        return State::Stale(format!(
            "group {:?} ({group}): the scope change names no service principal and app role",
            c.display_name
        ));
    };
    let list = match now.get(&sp.to_ascii_lowercase()) {
        Some(Ok(Some(l))) => l,
        Some(Ok(None)) => {
            return State::Stale(format!(
                "the Cloud Sync configuration's service principal {sp} no longer exists"
            ));
        }
        Some(Err(e)) => return State::Unreadable(e.clone()),
        None => return State::Stale(format!("service principal {sp} was not read")),
    };
    let found = super::scope::find(list, &group, role);
    match (c.request.method.as_str(), found) {
        ("POST", Some(_)) => State::Done,
        ("POST", None) => State::Pending,
        ("DELETE", None) => State::Done,
        ("DELETE", Some(a)) => {
            let planned = c.previous.as_ref().and_then(|p| p.get("id"));
            if planned.is_some() && a.get("id") != planned {
                State::Stale(format!(
                    "group {:?} ({group}): its assignment on {sp} was made again since planning",
                    c.display_name
                ))
            } else {
                State::Pending
            }
        }
        _ => State::Stale(format!(
            "group {:?} ({group}): a scope change is a POST or a DELETE, not {}",
            c.display_name, c.request.method
        )),
    }
}

/// The touched setting in an undo file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UndoSetting {
    pub template_id: String,
    /// The setting's id (null when the apply created it).
    pub id: Option<String>,
    /// The whole setting object before the apply, or null when there was none.
    pub previous: Value,
    /// The `values` the apply wrote.
    pub written: Value,
}

/// An undo file (`gwb-tenant-undo/1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UndoFile {
    pub format: String,
    pub created_at: String,
    pub plan: String,
    /// SHA-256 of the plan the apply ran, so re-runs extend the same undo file.
    pub plan_digest: String,
    pub tenant_id: Option<String>,
    pub groups: Vec<UndoGroup>,
    pub setting: Option<UndoSetting>,
}

/// Human output by default, also through a pipe; JSON only by `--format json`.
fn format_of(f: Option<TenantFormat>) -> TenantFormat {
    f.unwrap_or(TenantFormat::Table)
}

fn print(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

use crate::digest::sha256_hex as digest;

/// Write a file atomically and durably (fsynced file and directory) before returning.
fn write_durable(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    crate::fsio::write_atomic(path, bytes)
}

fn live_snapshot(graph: &crate::graph::args::GraphArgs) -> anyhow::Result<Snapshot> {
    let value = crate::graph::collect(graph)?;
    let tenant = serde_json::from_value(value).map_err(|e| {
        anyhow::anyhow!("the tenant collected from Graph has an unexpected shape: {e}")
    })?;
    Ok(Snapshot {
        origin: "live".into(),
        tenant,
        ..Snapshot::default()
    })
}

/// `gwb tenant plan`.
pub fn run_plan(a: &PlanArgs) -> anyhow::Result<RunOutcome> {
    let except = match &a.except {
        Some(p) => {
            let text = crate::text::read_file(p)?.text;
            super::parse_id_list(p, &text)?
        }
        None => Default::default(),
    };
    for id in a.enable.iter().chain(&a.disable) {
        if uuid::Uuid::parse_str(id.trim()).is_err() {
            anyhow::bail!("{id:?} is not a group object id (a GUID)");
        }
    }
    let selectors = |args: &[String]| -> anyhow::Result<Vec<super::soa::Selector>> {
        let mut out = Vec::new();
        for a in args {
            match a.strip_prefix('@') {
                Some(file) => {
                    let p = Path::new(file);
                    let text = crate::text::read_file(p)?.text;
                    let mut ids: Vec<String> =
                        super::parse_id_list(p, &text)?.into_iter().collect();
                    ids.sort();
                    out.extend(ids.into_iter().map(super::soa::Selector::Id));
                }
                None => out.extend(super::soa::Selector::parse_arg(a)),
            }
        }
        Ok(out)
    };
    let req = PlanRequest {
        convert_soa: selectors(&a.convert_soa)?,
        rollback_soa: selectors(&a.rollback_soa)?,
        new_m365_default: a.new_m365_default,
        disable_existing_m365: a.disable_existing_m365,
        except,
        enable: a.enable.clone(),
        disable: a.disable.clone(),
        group_type: a.group_type.map(|t| t.as_str().to_string()),
        role_management: a.role_management,
        force: a.force,
    };
    if req.new_m365_default.is_none()
        && !req.disable_existing_m365
        && req.enable.is_empty()
        && req.disable.is_empty()
        && req.convert_soa.is_empty()
        && req.rollback_soa.is_empty()
    {
        anyhow::bail!(
            "nothing to plan: give --new-m365-default true|false, --disable-existing-m365, --enable ID, --disable ID, --convert-soa SELECTOR or --rollback-soa SELECTOR"
        );
    }
    if a.snapshot.is_none() && !a.graph.is_live() {
        anyhow::bail!(
            "nothing to plan from: give --snapshot DIR (a bundle directory or an evidence zip, e.g. --snapshot fixtures/contoso) or live Graph options (--tenant/--client-id or --graph-url)"
        );
    }
    // The one input loader: a bundle directory, an evidence zip or live Graph.
    let snap = crate::input::load(&crate::input::Sources {
        snapshot: a.snapshot.as_deref(),
        evidence: &[],
        graph: &a.graph,
        ldap: &crate::ldap::args::LdapArgs::default(),
        target_ou: None,
        fingerprints: false,
        purpose: crate::input::Purpose::Plan,
    })?
    .snap;
    let plan = super::plan(&snap, &req, &crate::collect::now_rfc3339())?;
    if let Some(out) = &a.out {
        let text = serde_json::to_string_pretty(&plan)?;
        crate::collect::write_atomic(out, text.as_bytes())?;
        eprintln!(
            "Saved plan to {} (sha256 {}). Apply it with: gwb tenant apply {}",
            out.display(),
            plan.sha256.as_deref().unwrap_or("-"),
            crate::text::shell_word(&out.display().to_string())
        );
    }
    let text = match format_of(a.format) {
        TenantFormat::Json => format!("{}\n", serde_json::to_string_pretty(&plan)?),
        TenantFormat::Table => super::render::plan_text(&plan, a.out.as_deref()),
    };
    print(&text)?;
    Ok(RunOutcome::Pass)
}

fn read_plan(path: &Path) -> anyhow::Result<(Plan, String)> {
    let text = crate::text::read_file(path)?.text;
    let v: Value = crate::bundle::parse_json(path, &text)?;
    match v.get("format").and_then(Value::as_str) {
        Some(super::PLAN_FORMAT) => {}
        Some(super::UNDO_FORMAT) => anyhow::bail!(
            "{}: this is an undo file: use gwb tenant apply --undo {}",
            path.display(),
            path.display()
        ),
        other => anyhow::bail!(
            "{}: $.format: expected \"{}\", found {}",
            path.display(),
            super::PLAN_FORMAT,
            other
                .map(|s| format!("{s:?}"))
                .unwrap_or_else(|| "nothing".into())
        ),
    }
    if let Some(d) = crate::plan::seal::first_value_difference(&v, "gwb tenant plan --out FILE") {
        return Err(crate::plan::load::PlanRefused {
            path: path.display().to_string(),
            why: d,
        }
        .into());
    }
    let plan: Plan = crate::bundle::parse_json(path, &text)?;
    check_requests(&plan).map_err(|(i, why)| {
        crate::error::InputError::new(path, format!("$.changes[{i}].request"), why)
    })?;
    Ok((plan, digest(text.as_bytes())))
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// A plan file only ever holds the writes `plan` makes: writebackConfiguration PATCHes whose
/// body turns `before` into `after`, and Group.Unified creation, change or deletion. Anything
/// else (a feature flag, another property, another resource) is refused before any request.
pub fn check_requests(plan: &Plan) -> Result<(), (usize, String)> {
    for (i, c) in plan.changes.iter().enumerate() {
        let r = &c.request;
        let segs: Vec<&str> = r.url.trim_matches('/').split('/').collect();
        let ok = match (c.kind.as_str(), r.method.as_str(), segs.as_slice()) {
            ("group", "PATCH", ["groups", id, prop])
                if is_guid(id) && *prop == crate::core::soa::SECTION =>
            {
                // Exactly {"isCloudManaged": b}, turning before (!b) into after (b).
                let id_matches = c.id.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(id));
                let b = r
                    .body
                    .as_ref()
                    .and_then(Value::as_object)
                    .filter(|o| o.len() == 1)
                    .and_then(|o| o.get("isCloudManaged"))
                    .and_then(Value::as_bool);
                id_matches
                    && c.property == crate::core::soa::SECTION
                    && b.is_some_and(|b| {
                        c.after == json!({"isCloudManaged": b})
                            && c.before == json!({"isCloudManaged": !b})
                    })
            }
            ("group", "PATCH", ["groups", id]) if is_guid(id) => {
                let id_matches = c.id.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(id));
                let body = r.body.as_ref().and_then(Value::as_object);
                let wb = body
                    .filter(|b| b.len() == 1)
                    .and_then(|b| b.get("writebackConfiguration"))
                    .and_then(Value::as_object);
                let keys_ok = wb.is_some_and(|w| {
                    w.keys()
                        .all(|k| k == "isEnabled" || k == "onPremisesGroupType")
                });
                // Applying the body to `before` must give `after`.
                let mut result = c.before.clone();
                if let (Some(w), Some(obj)) = (wb, result.as_object_mut()) {
                    for (k, v) in w {
                        obj.insert(k.clone(), v.clone());
                    }
                }
                id_matches && keys_ok && result == c.after
            }
            ("setting", "POST", ["settings"]) => r
                .body
                .as_ref()
                .and_then(|b| b.get("templateId"))
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(super::GROUP_UNIFIED_TEMPLATE)),
            ("setting", "PATCH", ["settings", id]) => {
                is_guid(id)
                    && r.body.as_ref().and_then(Value::as_object).is_some_and(|b| {
                        b.len() == 1 && b.get("values").is_some_and(Value::is_array)
                    })
            }
            ("setting", "DELETE", ["settings", id]) => is_guid(id) && r.body.is_none(),
            // A Cloud Sync scope addition: exactly {principalId, resourceId, appRoleId}, the
            // group's own id, the service principal posted to, and `after` saying so.
            (super::scope::KIND, "POST", ["servicePrincipals", sp, "appRoleAssignedTo"])
                if is_guid(sp) =>
            {
                let b = r.body.as_ref().and_then(Value::as_object);
                let field = |k: &str| b.and_then(|b| b.get(k)).and_then(Value::as_str);
                let group_ok = field("principalId").is_some_and(|p| {
                    is_guid(p) && c.id.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(p))
                });
                c.property == super::scope::PROPERTY
                    && b.is_some_and(|b| b.len() == 3)
                    && group_ok
                    && field("resourceId").is_some_and(|x| x.eq_ignore_ascii_case(sp))
                    && field("appRoleId").is_some_and(is_guid)
                    && c.before.is_null()
                    && c.after == super::scope::assigned(sp, field("appRoleId").unwrap_or_default())
            }
            // Its undo: the DELETE of one assignment on the service principal `before` names.
            (super::scope::KIND, "DELETE", ["servicePrincipals", sp, "appRoleAssignedTo", _])
                if is_guid(sp) =>
            {
                c.property == super::scope::PROPERTY
                    && r.body.is_none()
                    && c.after.is_null()
                    && super::scope::target_of(&c.before)
                        .is_some_and(|(b_sp, _)| b_sp.eq_ignore_ascii_case(sp))
            }
            _ => false,
        };
        if !ok {
            return Err((
                i,
                format!(
                    "{} {} is not a change gwb tenant plan makes (or does not match before/after): the plan was edited; plan again",
                    r.method, r.url
                ),
            ));
        }
    }
    Ok(())
}

fn read_undo(path: &Path) -> anyhow::Result<(UndoFile, String)> {
    let text = crate::text::read_file(path)?.text;
    let u: UndoFile = crate::bundle::parse_json(path, &text)?;
    if u.format != super::UNDO_FORMAT {
        anyhow::bail!(
            "{}: $.format: expected \"{}\", found {:?}",
            path.display(),
            super::UNDO_FORMAT,
            u.format
        );
    }
    Ok((u, digest(text.as_bytes())))
}

/// `gwb tenant apply`.
pub fn run_apply(a: &ApplyArgs) -> anyhow::Result<RunOutcome> {
    if !a.graph.is_live() {
        anyhow::bail!(
            "apply writes to the tenant: give the Graph options (--tenant/--client-id, or --graph-url)"
        );
    }
    let rt = crate::graph::runtime()?;
    let format = format_of(a.format);
    let (plan, plan_name, plan_digest, undo_path, client) = match (&a.plan, &a.undo) {
        (_, Some(undo)) => {
            let (u, undo_digest) = read_undo(undo)?;
            let snap = live_snapshot(&a.graph)?;
            let (client, _) = rt.block_on(crate::graph::connect(&a.graph))?;
            let plan = rt.block_on(undo_plan(&client, &u, &snap, undo, a.force))?;
            // The undo plan is shown before anything is written.
            let text = match format {
                TenantFormat::Json => format!("{}\n", serde_json::to_string_pretty(&plan)?),
                TenantFormat::Table => super::render::plan_text(&plan, None),
            };
            print(&text)?;
            let redo = a
                .undo_file
                .clone()
                .unwrap_or_else(|| sibling(undo, "redo.json"));
            // Re-running the same undo extends the same redo file.
            (plan, undo.display().to_string(), undo_digest, redo, client)
        }
        (Some(p), None) => {
            let (plan, d) = read_plan(p)?;
            if let Some(want) = &a.expect_sha256 {
                crate::plan::load::check_expected_digest(plan.sha256.as_deref(), p, want)?;
            }
            let u = a
                .undo_file
                .clone()
                .unwrap_or_else(|| sibling(p, "undo.json"));
            let (client, _) = rt.block_on(crate::graph::connect(&a.graph))?;
            (plan, p.display().to_string(), d, u, client)
        }
        (None, None) => anyhow::bail!("give the PLAN file to apply, or --undo FILE"),
    };
    // The one confirmation rule: the changes shown, a terminal asked, --yes off one. An undo
    // plan was printed above already.
    let (verb, review) = if a.undo.is_some() {
        (
            "undo the apply",
            format!("gwb tenant apply --undo {plan_name} --dry-run"),
        )
    } else {
        (
            "apply the tenant plan",
            format!("gwb tenant apply {plan_name} --dry-run"),
        )
    };
    let undoing = a.undo.is_some();
    crate::confirm::confirm(
        &crate::confirm::Question {
            changes: &|| {
                if undoing {
                    String::new()
                } else {
                    super::render::plan_text(&plan, None)
                }
            },
            prompt: &format!("make these {} change(s) to the tenant", plan.changes.len()),
            verb,
            review: &review,
        },
        a.yes,
        a.dry_run || plan.changes.is_empty(),
    )?;
    let report = rt.block_on(execute(
        &client,
        &plan,
        &plan_name,
        &plan_digest,
        &undo_path,
        a.dry_run,
    ))?;
    let text = match format {
        TenantFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        TenantFormat::Table => super::render::apply_text(&report),
    };
    print(&text)?;
    Ok(if report.failed > 0 {
        RunOutcome::SomeFailed
    } else {
        RunOutcome::Pass
    })
}

/// `plan.json` -> `plan.undo.json`.
fn sibling(p: &Path, suffix: &str) -> PathBuf {
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tenant-plan".into());
    p.with_file_name(format!("{stem}.{suffix}"))
}

fn values_map(v: Option<&Value>) -> BTreeMap<String, Option<String>> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| {
                    let n = x.get("name")?.as_str()?.to_ascii_lowercase();
                    Some((
                        n,
                        x.get("value").and_then(Value::as_str).map(str::to_string),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn find_setting<'a>(settings: &'a [Value], id: Option<&str>) -> Option<&'a Value> {
    settings.iter().find(|s| match id {
        Some(id) => s
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|x| x.eq_ignore_ascii_case(id)),
        None => s
            .get("templateId")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(super::GROUP_UNIFIED_TEMPLATE)),
    })
}

enum State {
    Pending,
    Done,
    Stale(String),
    Unreadable(GraphError),
}

fn error_result(c: &Change, e: &GraphError) -> ItemResult {
    ItemResult {
        id: c.id.clone(),
        display_name: c.display_name.clone(),
        kind: c.kind.clone(),
        property: c.property.clone(),
        status: "failed".into(),
        http_status: e.status,
        code: e.code.clone(),
        message: Some(super::render::graph_message(&e.message)),
    }
}

fn result(c: &Change, status: &str) -> ItemResult {
    ItemResult {
        id: c.id.clone(),
        display_name: c.display_name.clone(),
        kind: c.kind.clone(),
        property: c.property.clone(),
        status: status.into(),
        http_status: None,
        code: None,
        message: None,
    }
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Re-read every planned object, refuse a stale plan, write the undo file, then write.
pub async fn execute(
    client: &Arc<GraphClient>,
    plan: &Plan,
    plan_name: &str,
    plan_digest: &str,
    undo_path: &Path,
    dry_run: bool,
) -> anyhow::Result<ApplyReport> {
    let group_ids: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.kind == "group" && !is_soa(c))
        .filter_map(|c| c.id.clone())
        .collect();
    let current = gw::read_groups(client, &group_ids).await;
    let mut by_id: BTreeMap<String, Result<Option<Value>, GraphError>> = BTreeMap::new();
    for (id, r) in group_ids.iter().zip(current) {
        by_id.insert(id.to_ascii_lowercase(), r);
    }
    // Source-of-authority changes are checked against the resource itself.
    let soa_ids: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| is_soa(c))
        .filter_map(|c| c.id.clone())
        .collect();
    let mut soa_now: BTreeMap<String, Result<Option<Value>, GraphError>> = BTreeMap::new();
    if !soa_ids.is_empty() {
        for (id, r) in soa_ids
            .iter()
            .zip(read_sync_behaviors(client, &soa_ids).await)
        {
            soa_now.insert(id.to_ascii_lowercase(), r);
        }
    }
    // Cloud Sync scope changes are checked against each service principal's assignments.
    let scope_now = read_scope(client, plan.changes.iter()).await;
    let needs_settings = plan.changes.iter().any(|c| c.kind == "setting");
    let settings = if needs_settings {
        Some(gw::read_settings(client).await)
    } else {
        None
    };
    let mut template: Option<Result<Value, GraphError>> = None;
    if plan
        .changes
        .iter()
        .any(|c| c.kind == "setting" && c.request.method == "POST")
    {
        template = Some(gw::read_template(client, super::GROUP_UNIFIED_TEMPLATE).await);
    }

    let mut states = Vec::new();
    for c in &plan.changes {
        let st = match c.kind.as_str() {
            "group" if is_soa(c) => {
                let key = c.id.clone().unwrap_or_default().to_ascii_lowercase();
                match soa_now.get(&key) {
                    Some(Ok(Some(now))) if *now == c.after => State::Done,
                    Some(Ok(Some(now))) if *now == c.before => State::Pending,
                    Some(Ok(Some(now))) => State::Stale(format!(
                        "group {:?} ({key}): onPremisesSyncBehavior is now {}, the plan expected {}",
                        c.display_name,
                        compact(now),
                        compact(&c.before)
                    )),
                    Some(Ok(None)) => State::Stale(format!(
                        "group {:?} ({key}) no longer exists",
                        c.display_name
                    )),
                    Some(Err(e)) => State::Unreadable(e.clone()),
                    None => State::Stale(format!("group {key} was not read")),
                }
            }
            "group" => {
                let key = c.id.clone().unwrap_or_default().to_ascii_lowercase();
                match by_id.get(&key) {
                    Some(Ok(Some(g))) => {
                        let now = super::wb_from_graph(g.get("writebackConfiguration"));
                        if now == c.after {
                            State::Done
                        } else if now == c.before {
                            State::Pending
                        } else {
                            State::Stale(format!(
                                "group {:?} ({key}): writebackConfiguration is now {}, the plan expected {}",
                                c.display_name,
                                compact(&now),
                                compact(&c.before)
                            ))
                        }
                    }
                    Some(Ok(None)) => State::Stale(format!(
                        "group {:?} ({key}) no longer exists",
                        c.display_name
                    )),
                    Some(Err(e)) => State::Unreadable(e.clone()),
                    None => State::Stale(format!("group {key} was not read")),
                }
            }
            super::scope::KIND => scope_state(c, &scope_now),
            _ => match &settings {
                Some(Ok(all)) => setting_state(c, all, template.as_ref()),
                Some(Err(e)) => State::Unreadable(e.clone()),
                None => State::Stale("the settings were not read".into()),
            },
        };
        states.push(st);
    }
    let stale: Vec<&String> = states
        .iter()
        .filter_map(|s| match s {
            State::Stale(m) => Some(m),
            _ => None,
        })
        .collect();
    if !stale.is_empty() {
        anyhow::bail!(
            "{plan_name}: the plan is stale, nothing was written:\n  {}\nrun gwb tenant plan again and review the new plan",
            stale
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }

    // The undo file: every object about to change, with its previous value.
    let pending: Vec<usize> = states
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, State::Pending))
        .map(|(i, _)| i)
        .collect();
    let mut undo_written = None;
    if !pending.is_empty() && !dry_run {
        let mut undo = match undo_path.exists() {
            true => {
                let (u, _) = read_undo(undo_path)?;
                if u.plan_digest != plan_digest {
                    anyhow::bail!(
                        "{} holds the undo of another plan ({}); keep it and pass --undo-file NEW",
                        undo_path.display(),
                        u.plan
                    );
                }
                u
            }
            false => UndoFile {
                format: super::UNDO_FORMAT.into(),
                created_at: crate::collect::now_rfc3339(),
                plan: plan_name.into(),
                plan_digest: plan_digest.into(),
                tenant_id: plan.source.tenant_id.clone(),
                groups: Vec::new(),
                setting: None,
            },
        };
        for &i in &pending {
            let Some(c) = plan.changes.get(i) else {
                continue;
            };
            if c.kind == "group" || c.kind == super::scope::KIND {
                let id = c.id.clone().unwrap_or_default();
                let property =
                    (is_soa(c) || c.kind == super::scope::KIND).then(|| c.property.clone());
                if !undo
                    .groups
                    .iter()
                    .any(|g| g.id.eq_ignore_ascii_case(&id) && g.property == property)
                {
                    undo.groups.push(UndoGroup {
                        id,
                        display_name: c.display_name.clone(),
                        previous: c.before.clone(),
                        written: c.after.clone(),
                        property,
                    });
                }
            } else if undo.setting.is_none() {
                let previous = match &settings {
                    Some(Ok(all)) if c.request.method != "POST" => {
                        find_setting(all, c.id.as_deref())
                            .cloned()
                            .unwrap_or(Value::Null)
                    }
                    _ => Value::Null,
                };
                undo.setting = Some(UndoSetting {
                    template_id: super::GROUP_UNIFIED_TEMPLATE.into(),
                    id: c.id.clone(),
                    previous,
                    written: c
                        .request
                        .body
                        .as_ref()
                        .and_then(|b| b.get("values"))
                        .cloned()
                        .unwrap_or(Value::Null),
                });
            }
        }
        write_durable(undo_path, serde_json::to_string_pretty(&undo)?.as_bytes())?;
        undo_written = Some(undo_path.display().to_string());
    }

    let mut results: Vec<Option<ItemResult>> = vec![None; plan.changes.len()];
    for (i, (c, s)) in plan.changes.iter().zip(&states).enumerate() {
        let r = match s {
            State::Done => Some(result(c, "already")),
            State::Unreadable(e) => Some(error_result(c, e)),
            State::Pending if dry_run => Some(result(c, "planned")),
            _ => None,
        };
        if let Some(slot) = results.get_mut(i) {
            *slot = r;
        }
    }
    if !dry_run {
        // The setting first (the default for new groups), then the groups in plan order.
        let order: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|&i| plan.changes.get(i).is_some_and(|c| c.kind == "setting"))
            .chain(
                pending
                    .iter()
                    .copied()
                    .filter(|&i| plan.changes.get(i).is_some_and(|c| c.kind != "setting")),
            )
            .collect();
        // Then the source-of-authority waves, each after the one before has finished (the
        // lowest groups of a nesting first).
        let wave_of = |i: usize| plan.changes.get(i).and_then(|c| c.wave);
        let mut passes: Vec<Vec<usize>> = vec![
            order
                .iter()
                .copied()
                .filter(|&i| wave_of(i).is_none())
                .collect(),
        ];
        let mut waves: Vec<u32> = order.iter().filter_map(|&i| wave_of(i)).collect();
        waves.sort_unstable();
        waves.dedup();
        for w in waves {
            passes.push(
                order
                    .iter()
                    .copied()
                    .filter(|&i| wave_of(i) == Some(w))
                    .collect(),
            );
        }
        let order: Vec<usize> = passes.concat();
        let bar = super::render::progress(order.len() as u64);
        let done = |n: usize| bar.inc(n as u64);
        let mut answers = Vec::with_capacity(order.len());
        for pass in passes.iter().filter(|p| !p.is_empty()) {
            let writes: Vec<WriteRequest> = pass
                .iter()
                .filter_map(|&i| plan.changes.get(i))
                .map(|c| WriteRequest {
                    method: c.request.method.clone(),
                    url: c.request.url.clone(),
                    body: c.request.body.clone(),
                })
                .collect();
            answers.extend(gw::batch_write(client, "beta", &writes, &done).await);
        }
        bar.finish_and_clear();
        for (&i, ans) in order.iter().zip(answers) {
            let Some(c) = plan.changes.get(i) else {
                continue;
            };
            let r = match ans {
                Ok(_) => result(c, "changed"),
                Err(e) => error_result(c, &e),
            };
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(r);
            }
        }
    }
    let results: Vec<ItemResult> = results.into_iter().flatten().collect();
    let n = |s: &str| results.iter().filter(|r| r.status == s).count();
    Ok(ApplyReport {
        format: super::APPLY_FORMAT.into(),
        plan: plan_name.into(),
        undo_file: undo_written,
        dry_run,
        changed: n("changed"),
        already: n("already"),
        failed: n("failed"),
        results,
    })
}

fn setting_state(c: &Change, all: &[Value], template: Option<&Result<Value, GraphError>>) -> State {
    let body_values = c.request.body.as_ref().and_then(|b| b.get("values"));
    match c.request.method.as_str() {
        "POST" => {
            if let Some(now) = find_setting(all, None) {
                return if values_map(now.get("values")) == values_map(body_values) {
                    State::Done
                } else {
                    State::Stale(
                        "Group.Unified was created since planning (with other values)".into(),
                    )
                };
            }
            match template {
                Some(Ok(t)) => {
                    let defaults: Vec<(String, String)> = t
                        .get("values")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|d| {
                                    Some((
                                        d.get("name")?.as_str()?.to_string(),
                                        d.get("defaultValue")
                                            .and_then(Value::as_str)
                                            .unwrap_or("")
                                            .to_string(),
                                    ))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let want = c
                        .after
                        .as_str()
                        .and_then(|v| v.parse::<bool>().ok())
                        .unwrap_or(false);
                    let expected = super::create_body(&defaults, want);
                    if values_map(expected.get("values")) == values_map(body_values) {
                        State::Pending
                    } else {
                        State::Stale(
                            "the Group.Unified template's defaults differ from the ones the plan copies; plan again from the live tenant".into(),
                        )
                    }
                }
                Some(Err(e)) => State::Unreadable(e.clone()),
                None => State::Stale("the Group.Unified template was not read".into()),
            }
        }
        "DELETE" => match find_setting(all, c.id.as_deref()) {
            None => State::Done,
            Some(now) => {
                let prev = c.previous.as_ref().and_then(|p| p.get("values"));
                if values_map(now.get("values")) == values_map(prev) {
                    State::Pending
                } else {
                    State::Stale("Group.Unified was changed since planning".into())
                }
            }
        },
        _ => match find_setting(all, c.id.as_deref()) {
            None => State::Stale(format!(
                "setting {} ({}) no longer exists",
                c.display_name,
                c.id.as_deref().unwrap_or("")
            )),
            Some(now) => {
                let now_v = values_map(now.get("values"));
                let prev = c.previous.as_ref().and_then(|p| p.get("values"));
                if now_v == values_map(body_values) {
                    State::Done
                } else if now_v == values_map(prev) {
                    State::Pending
                } else {
                    State::Stale(format!(
                        "setting {}: its values changed since planning",
                        c.display_name
                    ))
                }
            }
        },
    }
}

fn wb_text(v: &Value) -> String {
    compact(v)
}

/// Turn an undo file into a plan that restores every touched object (explicit nulls).
pub async fn undo_plan(
    client: &Arc<GraphClient>,
    u: &UndoFile,
    snap: &Snapshot,
    undo_path: &Path,
    force: bool,
) -> anyhow::Result<Plan> {
    let wb_groups: Vec<&UndoGroup> = u.groups.iter().filter(|g| g.property.is_none()).collect();
    let soa_groups: Vec<&UndoGroup> = u
        .groups
        .iter()
        .filter(|g| g.property.as_deref() == Some(crate::core::soa::SECTION))
        .collect();
    let ids: Vec<String> = wb_groups.iter().map(|g| g.id.clone()).collect();
    let current = gw::read_groups(client, &ids).await;
    let mut changes = Vec::new();
    let mut refused = Vec::new();
    let mut unchanged = 0usize;
    let scope_groups: Vec<&UndoGroup> = u
        .groups
        .iter()
        .filter(|g| g.property.as_deref() == Some(super::scope::PROPERTY))
        .collect();
    if u.groups.len() != wb_groups.len() + soa_groups.len() + scope_groups.len() {
        anyhow::bail!(
            "{}: a group entry changes a property gwb tenant does not write",
            undo_path.display()
        );
    }
    // Conversions are undone in the reverse order (parents first), one wave each.
    let soa_ids: Vec<String> = soa_groups.iter().map(|g| g.id.clone()).collect();
    let soa_now = read_sync_behaviors(client, &soa_ids).await;
    let n = soa_groups.len();
    for g in &soa_groups {
        let shaped = |v: &Value| {
            v.as_object().is_some_and(|o| {
                o.len() == 1 && o.get("isCloudManaged").is_some_and(Value::is_boolean)
            })
        };
        if !shaped(&g.previous) || !shaped(&g.written) {
            anyhow::bail!(
                "{}: group {}: onPremisesSyncBehavior values must be {{\"isCloudManaged\": true|false}}",
                undo_path.display(),
                g.id
            );
        }
    }
    for (i, (g, cur)) in soa_groups.iter().zip(soa_now).enumerate().rev() {
        let now = match cur {
            Ok(Some(v)) => v,
            Ok(None) => {
                refused.push(Refusal {
                    id: g.id.clone(),
                    display_name: Some(g.display_name.clone()),
                    reason: "not-found".into(),
                    detail: "the group no longer exists".into(),
                });
                continue;
            }
            Err(e) => anyhow::bail!(
                "reading onPremisesSyncBehavior of {} ({}): {}",
                g.display_name,
                g.id,
                super::render::graph_message(&e.to_string())
            ),
        };
        if now == g.previous {
            unchanged += 1;
            continue;
        }
        if now != g.written && !force {
            refused.push(Refusal {
                id: g.id.clone(),
                display_name: Some(g.display_name.clone()),
                reason: "changed-since-apply".into(),
                detail: format!(
                    "onPremisesSyncBehavior is now {}, not what the apply wrote ({}); --force restores it anyway",
                    compact(&now),
                    compact(&g.written)
                ),
            });
            continue;
        }
        changes.push(Change {
            id: Some(g.id.clone()),
            display_name: g.display_name.clone(),
            kind: "group".into(),
            property: crate::core::soa::SECTION.into(),
            request: Request {
                method: "PATCH".into(),
                url: format!("/groups/{}/{}", g.id, crate::core::soa::SECTION),
                body: Some(g.previous.clone()),
            },
            before: now,
            after: g.previous.clone(),
            previous: None,
            wave: Some((n - 1 - i) as u32),
        });
    }
    // Scope changes: an assignment the apply added is deleted again, one it deleted is added.
    let scope_changes: Vec<Change> = scope_groups
        .iter()
        .map(|g| {
            let mut c = super::scope::add(&g.id, &g.display_name, "", "");
            c.before = g.previous.clone();
            c.after = g.written.clone();
            c
        })
        .collect();
    let scope_now = read_scope(client, scope_changes.iter()).await;
    for g in &scope_groups {
        let v = if g.written.is_null() {
            &g.previous
        } else {
            &g.written
        };
        let Some((sp, role)) = super::scope::target_of(v) else {
            anyhow::bail!(
                "{}: group {}: an appRoleAssignedTo entry names no resourceId and appRoleId",
                undo_path.display(),
                g.id
            );
        };
        let list = match scope_now.get(&sp.to_ascii_lowercase()) {
            Some(Ok(Some(l))) => l.clone(),
            Some(Ok(None)) | None => {
                refused.push(Refusal {
                    id: g.id.clone(),
                    display_name: Some(g.display_name.clone()),
                    reason: "not-found".into(),
                    detail: format!(
                        "the Cloud Sync configuration's service principal {sp} no longer exists"
                    ),
                });
                continue;
            }
            Some(Err(e)) => anyhow::bail!(
                "reading the app role assignments of {sp}: {}",
                super::render::graph_message(&e.to_string())
            ),
        };
        let found = super::scope::find(&list, &g.id, role);
        let now = match found {
            Some(_) => super::scope::assigned(sp, role),
            None => Value::Null,
        };
        if now == g.previous {
            unchanged += 1;
            continue;
        }
        if now != g.written && !force {
            refused.push(Refusal {
                id: g.id.clone(),
                display_name: Some(g.display_name.clone()),
                reason: "changed-since-apply".into(),
                detail: format!(
                    "its assignment on {sp} is now {}, not what the apply left ({}); --force restores it anyway",
                    compact(&now),
                    compact(&g.written)
                ),
            });
            continue;
        }
        match found {
            Some(a) => {
                if let Some(c) = super::scope::remove(&g.id, &g.display_name, a) {
                    changes.push(c);
                }
            }
            None => changes.push(super::scope::add(&g.id, &g.display_name, sp, role)),
        }
    }
    for (g, cur) in wb_groups.into_iter().zip(current) {
        let now = match cur {
            Ok(Some(v)) => super::wb_from_graph(v.get("writebackConfiguration")),
            Ok(None) => {
                refused.push(Refusal {
                    id: g.id.clone(),
                    display_name: Some(g.display_name.clone()),
                    reason: "not-found".into(),
                    detail: "the group no longer exists".into(),
                });
                continue;
            }
            Err(e) => anyhow::bail!(
                "reading group {} ({}): {}",
                g.display_name,
                g.id,
                super::render::graph_message(&e.to_string())
            ),
        };
        if now == g.previous {
            unchanged += 1;
            continue;
        }
        if now != g.written && !force {
            refused.push(Refusal {
                id: g.id.clone(),
                display_name: Some(g.display_name.clone()),
                reason: "changed-since-apply".into(),
                detail: format!(
                    "writebackConfiguration is now {}, not what the apply wrote ({}); --force restores it anyway",
                    wb_text(&now),
                    wb_text(&g.written)
                ),
            });
            continue;
        }
        changes.push(Change {
            id: Some(g.id.clone()),
            display_name: g.display_name.clone(),
            kind: "group".into(),
            property: "writebackConfiguration".into(),
            request: Request {
                method: "PATCH".into(),
                url: format!("/groups/{}", g.id),
                body: Some(super::wb_patch(&now, &g.previous)),
            },
            before: now,
            after: g.previous.clone(),
            previous: None,
            wave: None,
        });
    }
    if let Some(s) = &u.setting {
        let all = gw::read_settings(client).await.map_err(|e| {
            anyhow::anyhow!(
                "reading the settings: {}",
                super::render::graph_message(&e.to_string())
            )
        })?;
        let now = find_setting(&all, None).cloned();
        let now_default = |v: &Value| {
            v.get("values")
                .and_then(Value::as_array)
                .and_then(|a| {
                    a.iter().find(|x| {
                        x.get("name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| n.eq_ignore_ascii_case(super::WRITEBACK_DEFAULT))
                    })
                })
                .and_then(|x| x.get("value").cloned())
                .unwrap_or(Value::Null)
        };
        // The undo of the Group.Unified setting as it is now: `method` on it, giving `after`.
        let setting_change = |now: &Value, after: Value, method: &str, body: Option<Value>| {
            let id = now.get("id").and_then(Value::as_str).unwrap_or("");
            Change {
                id: Some(id.to_string()),
                display_name: "Group.Unified".into(),
                kind: "setting".into(),
                property: super::WRITEBACK_DEFAULT.into(),
                before: now_default(now),
                after,
                previous: Some(now.clone()),
                wave: None,
                request: Request {
                    method: method.into(),
                    url: format!("/settings/{id}"),
                    body,
                },
            }
        };
        match (&s.previous, now) {
            (Value::Null, None) => unchanged += 1,
            (Value::Null, Some(now)) => {
                if values_map(now.get("values")) != values_map(Some(&s.written)) && !force {
                    refused.push(Refusal {
                        id: now.get("id").and_then(Value::as_str).unwrap_or("").into(),
                        display_name: Some("Group.Unified".into()),
                        reason: "changed-since-apply".into(),
                        detail: "Group.Unified was changed after the apply created it; --force deletes it anyway".into(),
                    });
                } else {
                    changes.push(setting_change(&now, Value::Null, "DELETE", None));
                }
            }
            (prev, None) => refused.push(Refusal {
                id: s.id.clone().unwrap_or_default(),
                display_name: Some("Group.Unified".into()),
                reason: "not-found".into(),
                detail: format!(
                    "Group.Unified was deleted since the apply; recreate it with these values: {}",
                    compact(prev.get("values").unwrap_or(&Value::Null))
                ),
            }),
            (prev, Some(now)) => {
                let now_v = values_map(now.get("values"));
                if now_v == values_map(prev.get("values")) {
                    unchanged += 1;
                } else if now_v != values_map(Some(&s.written)) && !force {
                    refused.push(Refusal {
                        id: s.id.clone().unwrap_or_default(),
                        display_name: Some("Group.Unified".into()),
                        reason: "changed-since-apply".into(),
                        detail: "Group.Unified was changed again after the apply; --force restores it anyway".into(),
                    });
                } else {
                    let body = json!({"values": prev.get("values").cloned().unwrap_or(json!([]))});
                    changes.push(setting_change(&now, now_default(prev), "PATCH", Some(body)));
                }
            }
        }
    }
    super::assemble(
        snap,
        &crate::collect::now_rfc3339(),
        changes,
        refused,
        unchanged,
        Vec::new(),
        Some(undo_path.display().to_string()),
    )
}
