//! `gwb tenant plan|apply`: the tenant-side changes to make before group writeback is enabled
//! (Group.Unified `NewUnifiedGroupWritebackDefault`, `writebackConfiguration` on existing
//! groups), as a reviewable plan (`gwb-tenant-plan/1`) with the forecast of every target before
//! and after, applied exactly with an undo file written first. Planning is pure (this module);
//! Graph I/O is in [`apply`], text and JSON output in [`render`].

pub mod apply;
pub mod args;
pub mod render;
pub mod scope;
pub mod soa;

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::bundle::Snapshot;
use crate::bundle::tenant::{
    DirectorySetting, Group, GroupKind, SettingValue, WritebackConfiguration,
};
use crate::core::{Outcome, Target};

pub const PLAN_FORMAT: &str = "gwb-tenant-plan/1";
pub const APPLY_FORMAT: &str = "gwb-tenant-apply/1";
pub const UNDO_FORMAT: &str = "gwb-tenant-undo/1";

/// The Group.Unified directory setting template.
pub const GROUP_UNIFIED_TEMPLATE: &str = "62375ab9-6b52-47ed-826b-58e47e0e304b";
pub const WRITEBACK_DEFAULT: &str = "NewUnifiedGroupWritebackDefault";
/// The permission that changing role-assignable groups needs on top of Group.ReadWrite.All.
pub const ROLE_PERMISSION: &str = "RoleManagement.ReadWrite.Directory";

/// The documented Group.Unified template defaults, used when a plan is made offline from a
/// bundle; `apply` re-reads the live template and refuses the plan if it differs.
pub const GROUP_UNIFIED_DEFAULTS: &[(&str, &str)] = &[
    ("CustomBlockedWordsList", ""),
    ("EnableMSStandardBlockedWords", "False"),
    ("ClassificationDescriptions", ""),
    ("DefaultClassification", ""),
    ("PrefixSuffixNamingRequirement", ""),
    ("AllowGuestsToBeGroupOwner", "False"),
    ("AllowGuestsToAccessGroups", "True"),
    ("GuestUsageGuidelinesUrl", ""),
    ("GroupCreationAllowedGroupId", ""),
    ("AllowToAddGuests", "True"),
    ("UsageGuidelinesUrl", ""),
    ("ClassificationList", ""),
    ("EnableGroupCreation", "True"),
    ("NewUnifiedGroupWritebackDefault", "True"),
    ("EnableMIPLabels", "False"),
];

/// The exact request a change sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Request {
    pub method: String,
    /// Relative to `/beta`, e.g. `/groups/{id}`.
    pub url: String,
    #[serde(default)]
    pub body: Option<Value>,
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The group's object id, or the setting's id (null when the setting is created).
    pub id: Option<String>,
    pub display_name: String,
    /// `group` or `setting`.
    pub kind: String,
    /// `writebackConfiguration` or `NewUnifiedGroupWritebackDefault`.
    pub property: String,
    pub before: Value,
    pub after: Value,
    /// Settings: the whole setting object before the change (null when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Value>,
    pub request: Request,
    /// Source-of-authority changes are written in waves, each after the one before has
    /// finished: the lowest groups of a nesting first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<u32>,
}

/// A change that was asked for and is not planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// A stable code (docs/tenant.md).
    pub reason: String,
    pub detail: String,
}

/// An explanation attached to the plan (the order guard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Note {
    pub code: String,
    pub message: String,
}

/// Groups per outcome for one target (the audit's forecast, counted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ForecastCounts {
    pub target: String,
    pub groups: usize,
    pub counts: BTreeMap<String, usize>,
}

/// A group whose outcome differs between the forecasts before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeChange {
    pub target: String,
    pub id: String,
    pub display_name: String,
    pub before: String,
    pub after: String,
    pub reason_after: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanSource {
    pub origin: String,
    pub tenant_id: Option<String>,
    pub collected_at: Option<String>,
}

/// A tenant plan (`gwb-tenant-plan/1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub format: String,
    pub gwb_version: String,
    pub generated_at: String,
    pub source: PlanSource,
    /// The feature flags the order guard read (`unifiedGroupWritebackEnabled`, `groupWriteBackEnabled`).
    pub flags: BTreeMap<String, Option<bool>>,
    pub changes: Vec<Change>,
    pub refused: Vec<Refusal>,
    /// Groups asked for that are already in the wanted state.
    pub unchanged: usize,
    pub notes: Vec<Note>,
    pub forecast_before: Vec<ForecastCounts>,
    pub forecast_after: Vec<ForecastCounts>,
    pub outcome_changes: Vec<OutcomeChange>,
    /// Set on a plan built from an undo file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo_of: Option<String>,
    /// SHA-256 of each part (`changes[0]`, `flags`, …), naming the part that differs when a
    /// plan was changed after it was made (see `crate::plan::seal`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub section_sha256: BTreeMap<String, String>,
    /// SHA-256 of the plan's canonical serialisation (this field left out): the digest a
    /// change record approves and `gwb tenant apply --expect-sha256` pins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Plan {
    /// Compute and store the plan's digests (over its JSON as written, see
    /// `crate::plan::seal::seal_value`).
    pub fn seal(&mut self) {
        self.sha256 = None;
        self.section_sha256 = BTreeMap::new();
        let Ok(mut v) = serde_json::to_value(&*self) else {
            return;
        };
        crate::plan::seal::seal_value(&mut v);
        if let Some(o) = v.as_object() {
            self.section_sha256 = o
                .get("sectionSha256")
                .and_then(|s| serde_json::from_value(s.clone()).ok())
                .unwrap_or_default();
            self.sha256 = o.get("sha256").and_then(Value::as_str).map(str::to_string);
        }
    }
}

/// What `plan` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    pub new_m365_default: Option<bool>,
    pub disable_existing_m365: bool,
    pub except: HashSet<String>,
    pub enable: Vec<String>,
    pub disable: Vec<String>,
    pub group_type: Option<String>,
    pub role_management: bool,
    pub force: bool,
    /// Groups whose source of authority is converted to the cloud (`--convert-soa`).
    pub convert_soa: Vec<soa::Selector>,
    /// Groups whose conversion is rolled back (`--rollback-soa`).
    pub rollback_soa: Vec<soa::Selector>,
}

/// `writebackConfiguration` as a plan writes it: both properties, explicit nulls.
pub fn wb_value(wb: Option<&WritebackConfiguration>) -> Value {
    let wb = wb.cloned().unwrap_or_default();
    json!({"isEnabled": wb.is_enabled, "onPremisesGroupType": wb.on_premises_group_type})
}

/// The PATCH body for a writebackConfiguration change: only the properties that change (as
/// Microsoft's own example sends `isEnabled` alone), explicit nulls included.
pub fn wb_patch(before: &Value, after: &Value) -> Value {
    let mut m = serde_json::Map::new();
    for k in ["isEnabled", "onPremisesGroupType"] {
        let a = after.get(k).cloned().unwrap_or(Value::Null);
        if before.get(k).cloned().unwrap_or(Value::Null) != a {
            m.insert(k.into(), a);
        }
    }
    json!({"writebackConfiguration": m})
}

/// Normalise a `writebackConfiguration` read from Graph (absent = null).
pub fn wb_from_graph(v: Option<&Value>) -> Value {
    let get = |k: &str| v.and_then(|o| o.get(k)).cloned().unwrap_or(Value::Null);
    json!({"isEnabled": get("isEnabled"), "onPremisesGroupType": get("onPremisesGroupType")})
}

/// Read an --except file: object ids, one a line, `#` comments, blank lines ignored.
pub fn parse_id_list(
    path: &std::path::Path,
    text: &str,
) -> Result<HashSet<String>, crate::error::InputError> {
    let mut out = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        if uuid::Uuid::parse_str(l).is_err() {
            return Err(crate::error::InputError::new(
                path,
                format!("line {}", n + 1),
                format!("{l:?} is not an object id (a GUID)"),
            ));
        }
        out.insert(l.to_ascii_lowercase());
    }
    Ok(out)
}

fn setting_value(s: &DirectorySetting, name: &str) -> Option<String> {
    s.values
        .iter()
        .find(|v| v.name.eq_ignore_ascii_case(name))
        .and_then(|v| v.value.clone())
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// The Group.Unified setting of a tenant, if any.
pub fn group_unified(settings: &[DirectorySetting]) -> Option<&DirectorySetting> {
    settings.iter().find(|s| {
        s.template_id
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(GROUP_UNIFIED_TEMPLATE))
            || s.display_name.as_deref() == Some("Group.Unified")
    })
}

/// The body that creates Group.Unified: every template default, one value overridden.
pub fn create_body(defaults: &[(String, String)], value: bool) -> Value {
    let values: Vec<Value> = defaults
        .iter()
        .map(|(n, d)| {
            let v = if n.eq_ignore_ascii_case(WRITEBACK_DEFAULT) {
                bool_text(value).to_string()
            } else {
                d.clone()
            };
            json!({"name": n, "value": v})
        })
        .collect();
    json!({"templateId": GROUP_UNIFIED_TEMPLATE, "values": values})
}

fn builtin_defaults() -> Vec<(String, String)> {
    GROUP_UNIFIED_DEFAULTS
        .iter()
        .map(|(n, d)| (n.to_string(), d.to_string()))
        .collect()
}

/// The setting change, if one is needed.
fn setting_change(settings: Option<&[DirectorySetting]>, value: bool) -> Option<Change> {
    let existing = settings.and_then(group_unified);
    match existing {
        Some(s) => {
            let cur = setting_value(s, WRITEBACK_DEFAULT);
            // Already the wanted value, in any case: nothing to do.
            if cur.as_deref().and_then(parse_bool) == Some(value) {
                return None;
            }
            let mut values: Vec<Value> = s
                .values
                .iter()
                .map(|v| json!({"name": v.name, "value": v.value}))
                .collect();
            match values.iter_mut().find(|v| {
                v.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(WRITEBACK_DEFAULT))
            }) {
                Some(v) => v["value"] = json!(bool_text(value)),
                None => values.push(json!({"name": WRITEBACK_DEFAULT, "value": bool_text(value)})),
            }
            let id = s.id.clone().unwrap_or_default();
            Some(Change {
                id: Some(id.clone()),
                display_name: s
                    .display_name
                    .clone()
                    .unwrap_or_else(|| "Group.Unified".into()),
                kind: "setting".into(),
                property: WRITEBACK_DEFAULT.into(),
                before: cur.map(Value::String).unwrap_or(Value::Null),
                after: json!(bool_text(value)),
                previous: Some(serde_json::to_value(s).unwrap_or(Value::Null)),
                wave: None,
                request: Request {
                    method: "PATCH".into(),
                    url: format!("/settings/{id}"),
                    body: Some(json!({"values": values})),
                },
            })
        }
        None => {
            // No setting: the template default (true) applies.
            if value {
                return None;
            }
            Some(Change {
                id: None,
                display_name: "Group.Unified".into(),
                kind: "setting".into(),
                property: WRITEBACK_DEFAULT.into(),
                before: Value::Null,
                after: json!(bool_text(value)),
                previous: Some(Value::Null),
                wave: None,
                request: Request {
                    method: "POST".into(),
                    url: "/settings".into(),
                    body: Some(create_body(&builtin_defaults(), value)),
                },
            })
        }
    }
}

fn refuse(g: Option<&Group>, id: &str, reason: &str, detail: String) -> Refusal {
    Refusal {
        id: id.to_string(),
        display_name: g.map(|g| g.name().to_string()),
        reason: reason.into(),
        detail,
    }
}

/// Why a group's writebackConfiguration cannot be changed, if it cannot.
fn writable(
    g: &Group,
    enable_type: Option<&str>,
    enabling: bool,
    req: &PlanRequest,
) -> Option<(&'static str, String)> {
    // Which groups no writer writes back is the core's rule; the tenant says it in its own words.
    if let Some((reason, _)) = crate::core::never_written(g) {
        use crate::core::reason::GroupReason as R;
        let detail = match reason {
            R::SourceOnPremises => {
                "synchronised from AD: its writeback settings cannot be changed in the cloud"
            }
            R::UnsupportedDistributionList => "cloud distribution lists cannot be written back",
            R::UnsupportedMailEnabledSecurity => {
                "mail-enabled security groups cannot be written back"
            }
            _ => "no writer writes this group back",
        };
        return Some((reason.code(), detail.into()));
    }
    match g.kind() {
        GroupKind::Security if enabling => {
            let current = g
                .writeback_configuration
                .as_ref()
                .and_then(|w| w.on_premises_group_type.as_deref());
            let wanted = enable_type.or(current);
            if let Some(t) = wanted
                && t != "universalSecurityGroup"
            {
                return Some((
                    "security-group-type",
                    format!(
                        "security groups are written back only as universalSecurityGroup, not {t}{}",
                        if enable_type.is_none() {
                            " (its current onPremisesGroupType): pass --group-type universalSecurityGroup"
                        } else {
                            ""
                        }
                    ),
                ));
            }
        }
        _ => {}
    }
    if g.is_assignable_to_role == Some(true) && !req.role_management {
        return Some((
            "role-assignable-needs-permission",
            format!(
                "role-assignable group: changing it needs {ROLE_PERMISSION} besides Group.ReadWrite.All (pass --role-management once the app holds it)"
            ),
        ));
    }
    None
}

/// Build the plan's changes and refusals from a snapshot (pure).
pub fn plan_changes(
    snap: &Snapshot,
    req: &PlanRequest,
) -> (Vec<Change>, Vec<Refusal>, usize, Vec<Note>) {
    let t = &snap.tenant;
    let groups: Vec<&Group> = t.groups.iter().flatten().collect();
    let find = |id: &str| {
        groups
            .iter()
            .copied()
            .find(|g| g.id.eq_ignore_ascii_case(id))
    };
    let flags = crate::core::inputs::resolve_flags(snap).0;
    let v1_only = flags.v1 == Some(true) && flags.v2 != Some(true);
    let mut changes = Vec::new();
    let mut refused = Vec::new();
    let mut notes = Vec::new();
    let mut unchanged = 0usize;

    if let Some(v) = req.new_m365_default {
        if t.settings.is_none() {
            notes.push(Note {
                code: "settings-unknown".into(),
                message: "the snapshot has no settings section: the plan assumes no Group.Unified setting exists; apply re-reads the tenant and refuses the plan if one does".into(),
            });
        }
        if let Some(c) = setting_change(t.settings.as_deref(), v) {
            if !v && v1_only && !req.force {
                refused.push(Refusal {
                    id: c.id.clone().unwrap_or_else(|| "Group.Unified".into()),
                    display_name: Some("Group.Unified".into()),
                    reason: "v1-ignores-is-enabled".into(),
                    detail: "only the original writeback (v1) is enabled, and it writes back every Microsoft 365 group whatever isEnabled says: NewUnifiedGroupWritebackDefault = false has no effect on it (--force plans it anyway)".into(),
                });
            } else {
                changes.push(c);
            }
        }
    }

    // Wanted state per group id: (isEnabled, Some(type) to set it).
    let mut wanted: Vec<(String, bool, Option<String>)> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let enable: HashSet<String> = req
        .enable
        .iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    for id in &req.enable {
        let k = id.trim().to_ascii_lowercase();
        if req
            .disable
            .iter()
            .any(|d| d.trim().eq_ignore_ascii_case(&k))
        {
            if seen.insert(k.clone()) {
                refused.push(refuse(
                    find(&k),
                    &k,
                    "conflicting-request",
                    "given to both --enable and --disable".into(),
                ));
            }
            continue;
        }
        if seen.insert(k.clone()) {
            wanted.push((k, true, req.group_type.clone()));
        }
    }
    for id in &req.disable {
        let k = id.trim().to_ascii_lowercase();
        if seen.insert(k.clone()) {
            wanted.push((k, false, None));
        }
    }
    if req.disable_existing_m365 {
        let mut m365: Vec<&&Group> = groups
            .iter()
            .filter(|g| g.kind() == GroupKind::Microsoft365)
            .collect();
        m365.sort_by_key(|g| g.id.to_ascii_lowercase());
        for g in m365 {
            let k = g.id.to_ascii_lowercase();
            if req.except.contains(&k) || enable.contains(&k) || seen.contains(&k) {
                continue;
            }
            if g.writeback_configuration
                .as_ref()
                .and_then(|w| w.is_enabled)
                == Some(false)
            {
                unchanged += 1;
                continue;
            }
            seen.insert(k.clone());
            wanted.push((k, false, None));
        }
    }

    let mut v1_refusals = 0usize;
    for (id, enabled, gtype) in wanted {
        let Some(g) = find(&id) else {
            let deleted = t
                .deleted_groups
                .iter()
                .flatten()
                .any(|d| d.id.eq_ignore_ascii_case(&id));
            refused.push(if deleted {
                refuse(
                    None,
                    &id,
                    "soft-deleted",
                    "the group is soft-deleted: restore it first".into(),
                )
            } else {
                refuse(
                    None,
                    &id,
                    "not-found",
                    "no group with this object id in the tenant".into(),
                )
            });
            continue;
        };
        if let Some((code, detail)) = writable(g, gtype.as_deref(), enabled, req) {
            refused.push(refuse(Some(g), &id, code, detail));
            continue;
        }
        let before = wb_value(g.writeback_configuration.as_ref());
        let mut after_cfg = g.writeback_configuration.clone().unwrap_or_default();
        after_cfg.is_enabled = Some(enabled);
        if let Some(t) = &gtype {
            after_cfg.on_premises_group_type = Some(t.clone());
        }
        let after = wb_value(Some(&after_cfg));
        if before == after {
            unchanged += 1;
            continue;
        }
        if !enabled && g.kind() == GroupKind::Microsoft365 && v1_only && !req.force {
            v1_refusals += 1;
            refused.push(refuse(
                Some(g),
                &id,
                "v1-ignores-is-enabled",
                "only the original writeback (v1) is enabled and it ignores isEnabled = false: this group would still be written back (--force plans it anyway)".into(),
            ));
            continue;
        }
        let body = wb_patch(&before, &after);
        changes.push(Change {
            id: Some(id.clone()),
            display_name: g.name().to_string(),
            kind: "group".into(),
            property: "writebackConfiguration".into(),
            before,
            after,
            previous: None,
            wave: None,
            request: Request {
                method: "PATCH".into(),
                url: format!("/groups/{id}"),
                body: Some(body),
            },
        });
    }

    let touches_is_enabled = changes.iter().any(|c| c.kind == "group")
        || v1_refusals > 0
        || req.new_m365_default == Some(false);
    if touches_is_enabled {
        if v1_only {
            notes.push(Note {
                code: "v1-ignores-is-enabled".into(),
                message: format!(
                    "only the original writeback (v1) is enabled: it writes back every Microsoft 365 group and ignores isEnabled{}",
                    if req.force {
                        "; --force was given, so these changes are planned although connect-v1 ignores them"
                    } else if v1_refusals > 0 {
                        "; the isEnabled = false changes are refused (--force plans them anyway)"
                    } else {
                        ""
                    }
                ),
            });
        } else if flags.v2 != Some(true) {
            notes.push(Note {
                code: "enable-order".into(),
                message: "make these changes before group writeback is enabled: the original writeback (connect-v1) ignores isEnabled, so only connect-v2 (where it is still on) and gwb honour them".into(),
            });
        }
        notes.push(Note {
            code: "v2-cannot-be-enabled".into(),
            message: "gwb never writes features.groupWriteBackEnabled or any other feature flag: the new writeback (v2) was retired on June 30, 2024 and cannot be enabled on Entra Connect 2.3.2.0 or later".into(),
        });
    }
    soa::plan(
        snap,
        req,
        &mut changes,
        &mut refused,
        &mut notes,
        &mut unchanged,
    );
    (changes, refused, unchanged, notes)
}

/// The snapshot as it would be once `changes` are applied.
pub fn apply_to_snapshot(snap: &Snapshot, changes: &[Change]) -> Snapshot {
    let mut s = snap.clone();
    for c in changes {
        match c.kind.as_str() {
            "group" if c.property == crate::core::soa::SECTION => {
                let managed = c.after.get("isCloudManaged").and_then(Value::as_bool);
                if let Some(g) = s.tenant.groups.iter_mut().flatten().find(|g| {
                    c.id.as_deref()
                        .is_some_and(|id| g.id.eq_ignore_ascii_case(id))
                }) {
                    g.on_premises_sync_behavior =
                        Some(crate::bundle::tenant::OnPremisesSyncBehavior {
                            is_cloud_managed: managed,
                        });
                    // Graph: a converted group reads onPremisesSyncEnabled null, and stays null
                    // after a rollback until AD's sync client takes it over.
                    g.on_premises_sync_enabled = None;
                }
            }
            "group" => {
                let cfg: WritebackConfiguration =
                    serde_json::from_value(c.after.clone()).unwrap_or_default();
                if let Some(g) = s.tenant.groups.iter_mut().flatten().find(|g| {
                    c.id.as_deref()
                        .is_some_and(|id| g.id.eq_ignore_ascii_case(id))
                }) {
                    g.writeback_configuration = Some(cfg);
                }
            }
            "setting" => {
                let settings = s.tenant.settings.get_or_insert_with(Vec::new);
                let pos = settings.iter().position(|x| {
                    x.template_id
                        .as_deref()
                        .is_some_and(|t| t.eq_ignore_ascii_case(GROUP_UNIFIED_TEMPLATE))
                        || x.display_name.as_deref() == Some("Group.Unified")
                });
                match c.request.method.as_str() {
                    "DELETE" => {
                        if let Some(p) = pos {
                            settings.remove(p);
                        }
                    }
                    _ => {
                        let values: Vec<SettingValue> = c
                            .request
                            .body
                            .as_ref()
                            .and_then(|b| b.get("values"))
                            .and_then(|v| serde_json::from_value(v.clone()).ok())
                            .unwrap_or_default();
                        match pos.and_then(|p| settings.get_mut(p)) {
                            Some(x) => x.values = values,
                            None => settings.push(DirectorySetting {
                                id: c.id.clone(),
                                display_name: Some("Group.Unified".into()),
                                template_id: Some(GROUP_UNIFIED_TEMPLATE.into()),
                                values,
                            }),
                        }
                    }
                }
            }
            _ => {}
        }
    }
    s
}

/// The decision core's forecast of every target for a snapshot (the same inputs and core as
/// `gwb audit`, default policy).
fn forecasts(snap: &Snapshot) -> anyhow::Result<Vec<crate::core::Forecast>> {
    let prepared = crate::core::inputs::prepare(snap, None)?;
    let inputs = prepared.inputs(snap);
    let policy = crate::core::Policy::default();
    Ok(Target::ALL
        .iter()
        .map(|&t| crate::core::forecast(t, &inputs, &policy))
        .collect())
}

fn count(f: &crate::core::Forecast) -> ForecastCounts {
    ForecastCounts {
        target: f.target.as_str().into(),
        groups: f.groups.len(),
        counts: f
            .counts()
            .into_iter()
            .map(|(o, n)| (o.as_str().to_string(), n))
            .collect(),
    }
}

/// Forecast before and after, and the groups whose outcome changes.
pub fn forecast_diff(
    before: &Snapshot,
    after: &Snapshot,
) -> anyhow::Result<(Vec<ForecastCounts>, Vec<ForecastCounts>, Vec<OutcomeChange>)> {
    let fb = forecasts(before)?;
    let fa = forecasts(after)?;
    let mut moved = Vec::new();
    for (b, a) in fb.iter().zip(&fa) {
        for g in &a.groups {
            let Some(old) = b.group(&g.id) else { continue };
            if old.outcome != g.outcome {
                moved.push(OutcomeChange {
                    target: a.target.as_str().into(),
                    id: g.id.clone(),
                    display_name: g.display_name.clone(),
                    before: old.outcome.as_str().into(),
                    after: g.outcome.as_str().into(),
                    reason_after: g.reason.code().into(),
                });
            }
        }
    }
    Ok((
        fb.iter().map(count).collect(),
        fa.iter().map(count).collect(),
        moved,
    ))
}

/// Plan the requested changes against a snapshot.
pub fn plan(snap: &Snapshot, req: &PlanRequest, generated_at: &str) -> anyhow::Result<Plan> {
    let (changes, refused, unchanged, notes) = plan_changes(snap, req);
    assemble(snap, generated_at, changes, refused, unchanged, notes, None)
}

/// A plan of these changes over a snapshot, with the forecasts before and after them: the one
/// place a tenant plan (forward or undo) is put together.
pub(crate) fn assemble(
    snap: &Snapshot,
    generated_at: &str,
    changes: Vec<Change>,
    refused: Vec<Refusal>,
    unchanged: usize,
    notes: Vec<Note>,
    undo_of: Option<String>,
) -> anyhow::Result<Plan> {
    let after = apply_to_snapshot(snap, &changes);
    let (forecast_before, forecast_after, outcome_changes) = forecast_diff(snap, &after)?;
    let flags = crate::core::inputs::resolve_flags(snap).0;
    let mut plan = Plan {
        format: PLAN_FORMAT.into(),
        gwb_version: env!("CARGO_PKG_VERSION").into(),
        generated_at: generated_at.into(),
        source: PlanSource {
            origin: snap.origin.clone(),
            tenant_id: snap.tenant.tenant_id.clone(),
            collected_at: snap.tenant.collected_at.clone(),
        },
        flags: [
            ("unifiedGroupWritebackEnabled".to_string(), flags.v1),
            ("groupWriteBackEnabled".to_string(), flags.v2),
        ]
        .into_iter()
        .collect(),
        changes,
        refused,
        unchanged,
        notes,
        forecast_before,
        forecast_after,
        outcome_changes,
        undo_of,
        section_sha256: BTreeMap::new(),
        sha256: None,
    };
    plan.seal();
    Ok(plan)
}

/// Groups a target writes back, from counted forecasts.
pub fn written_back(f: &[ForecastCounts], target: &str) -> usize {
    f.iter()
        .find(|c| c.target == target)
        .and_then(|c| c.counts.get(Outcome::Writeback.as_str()))
        .copied()
        .unwrap_or(0)
}

/// Run `gwb tenant …`.
pub fn run(args: &args::TenantArgs) -> anyhow::Result<crate::outcome::RunOutcome> {
    match &args.command {
        args::TenantCommand::Plan(a) => apply::run_plan(a),
        args::TenantCommand::Apply(a) => apply::run_apply(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contoso() -> Snapshot {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/contoso");
        crate::snapshot::load_dir(&dir, &[]).unwrap()
    }

    #[test]
    fn disable_existing_m365_plans_every_m365_group_not_already_false() {
        let snap = contoso();
        let req = PlanRequest {
            new_m365_default: Some(false),
            disable_existing_m365: true,
            ..PlanRequest::default()
        };
        let (changes, refused, unchanged, _) = plan_changes(&snap, &req);
        let expected: Vec<String> = snap
            .tenant
            .groups
            .iter()
            .flatten()
            .filter(|g| g.is_unified())
            .filter(|g| {
                g.writeback_configuration
                    .as_ref()
                    .and_then(|w| w.is_enabled)
                    != Some(false)
            })
            .map(|g| g.id.to_ascii_lowercase())
            .collect();
        let mut planned: Vec<String> = changes.iter().filter_map(|c| c.id.clone()).collect();
        planned.sort();
        let mut exp = expected.clone();
        exp.sort();
        assert_eq!(
            planned, exp,
            "no setting change: Group.Unified is already \"False\""
        );
        assert!(refused.is_empty(), "{refused:?}");
        assert_eq!(unchanged, 2);
        for c in &changes {
            assert_eq!(c.after["isEnabled"], false);
            assert_eq!(
                c.after["onPremisesGroupType"],
                c.before["onPremisesGroupType"]
            );
        }
    }

    #[test]
    fn refusals_name_their_reason() {
        let snap = contoso();
        let req = PlanRequest {
            enable: vec![
                "1b84af7a-ef53-5626-a318-9c76edb73df6".into(), // mail-enabled security
                "299dd30f-4e0e-57a3-afd6-e82343330644".into(), // distribution list
                "a3b8cf25-693e-5be3-bebe-106ceefca4f6".into(), // synced
                "6efeba2e-8490-5a30-8c40-45441a11211c".into(), // role-assignable
                "01d796ba-c643-5238-b904-a89132c39881".into(), // security, type universalDistributionGroup
                "00000000-0000-0000-0000-000000000001".into(),
            ],
            ..PlanRequest::default()
        };
        let (changes, refused, _, _) = plan_changes(&snap, &req);
        assert!(changes.is_empty());
        let reasons: Vec<&str> = refused.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "unsupported-mail-enabled-security",
                "unsupported-distribution-list",
                "source-on-premises",
                "role-assignable-needs-permission",
                "security-group-type",
                "not-found"
            ]
        );
        assert!(refused[3].detail.contains(ROLE_PERMISSION));
    }

    #[test]
    fn v1_only_refuses_is_enabled_false_unless_forced() {
        let mut snap = contoso();
        if let Some(s) = snap.tenant.on_premises_synchronization.as_mut()
            && let Some(f) = s.features.as_mut()
        {
            f.insert("unifiedGroupWritebackEnabled".into(), Some(true));
        }
        let req = PlanRequest {
            disable: vec!["0f4dd137-411b-572f-95ff-d2a16c4cf9c4".into()],
            ..PlanRequest::default()
        };
        let (changes, refused, _, notes) = plan_changes(&snap, &req);
        assert!(changes.is_empty());
        assert_eq!(refused[0].reason, "v1-ignores-is-enabled");
        assert!(notes.iter().any(|n| n.code == "v2-cannot-be-enabled"));
        let forced = PlanRequest { force: true, ..req };
        let (changes, refused, _, _) = plan_changes(&snap, &forced);
        assert_eq!(changes.len(), 1);
        assert!(refused.is_empty());
    }

    #[test]
    fn setting_update_keeps_every_other_value_and_create_copies_defaults() {
        let s = DirectorySetting {
            id: Some("s1".into()),
            display_name: Some("Group.Unified".into()),
            template_id: Some(GROUP_UNIFIED_TEMPLATE.into()),
            values: vec![
                SettingValue {
                    name: "EnableGroupCreation".into(),
                    value: Some("false".into()),
                },
                SettingValue {
                    name: "NewUnifiedGroupWritebackDefault".into(),
                    value: Some("True".into()),
                },
                SettingValue {
                    name: "UsageGuidelinesUrl".into(),
                    value: Some("https://x/y".into()),
                },
            ],
        };
        let c = setting_change(Some(std::slice::from_ref(&s)), false).unwrap();
        assert_eq!(c.request.method, "PATCH");
        assert_eq!(
            c.request.body.unwrap(),
            json!({"values": [
                {"name": "EnableGroupCreation", "value": "false"},
                {"name": "NewUnifiedGroupWritebackDefault", "value": "false"},
                {"name": "UsageGuidelinesUrl", "value": "https://x/y"}
            ]})
        );
        // Already false in another case: nothing to do.
        let mut f = s.clone();
        f.values[1].value = Some("FALSE".into());
        assert!(setting_change(Some(std::slice::from_ref(&f)), false).is_none());
        let c = setting_change(Some(&[]), false).unwrap();
        assert_eq!(c.request.method, "POST");
        let values = c.request.body.unwrap()["values"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(values.len(), GROUP_UNIFIED_DEFAULTS.len());
        assert!(values.contains(&json!({"name": "AllowToAddGuests", "value": "True"})));
        assert!(values.contains(&json!({"name": WRITEBACK_DEFAULT, "value": "false"})));
    }

    #[test]
    fn except_file_takes_comments() {
        let p = std::path::Path::new("keep.txt");
        let ids = parse_id_list(
            p,
            "# keep these\n0F4DD137-411B-572F-95FF-D2A16C4CF9C4  # All Company\n\n",
        )
        .unwrap();
        assert!(ids.contains("0f4dd137-411b-572f-95ff-d2a16c4cf9c4"));
        let e = parse_id_list(p, "ok\n").unwrap_err();
        assert_eq!(e.place, "line 1");
    }
}
