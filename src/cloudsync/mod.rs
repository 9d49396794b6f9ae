//! Cloud Sync's "Microsoft Entra ID to AD" configurations as Graph gives them, read from a
//! bundle's `cloud-sync/<domain>/` (`servicePrincipal.json`, `jobs.json`, `schema.json`,
//! `appRoleAssignedTo.json`): the group job, its scope (selected groups or all groups with
//! filters, under the default security clause), its attribute mappings as parsed expressions,
//! and its status. [`test`] evaluates a configuration for groups step by step.

pub mod args;
pub mod forecast;
pub mod source;
pub mod test;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::expr::scope::{Clause, FilterGroup};
use crate::expr::{Engine, Parsed, Source};

/// The bundle directory that holds one sub-directory per configuration.
pub const BUNDLE_DIR: &str = "cloud-sync";

/// The job template of Cloud Sync's group provisioning to AD.
pub const GROUP_JOB_TEMPLATE: &str = "AAD2ADGroupProvisioning";

/// The app role that selects a group for a configuration, per cloud
/// (concept-deployment-options-provision-to-active-directory, 2026-08-10).
pub const SELECTED_GROUP_APP_ROLES: &[(&str, &str)] = &[
    ("1a0abf4d-b9fa-4512-a3a2-51ee82c6fd9f", "public cloud"),
    ("15af7fd5-1a3f-4034-8ea1-1afa3d5ecf63", "AzureChinaCloud"),
    ("d8fa317e-0713-4930-91d8-1dbeb150978f", "AzureUSGovernment"),
    ("50a55e47-aae2-425c-8dcb-ed711147a39f", "AzureUSNatCloud"),
    ("52e862b9-0b95-43fe-9340-54f51248314f", "AzureUSSecCloud"),
];

pub const FILES: [&str; 4] = [
    "servicePrincipal.json",
    "jobs.json",
    "schema.json",
    "appRoleAssignedTo.json",
];

/// One configuration (one AD domain).
#[derive(Debug, Clone)]
pub struct Configuration {
    /// The directory name under `cloud-sync/` (the AD domain).
    pub domain: String,
    pub dir: PathBuf,
    pub service_principal: ServicePrincipal,
    pub job: Job,
    pub scope: Scope,
    /// `scope.groups` of the group object mapping: ORed filter groups.
    pub filters: Vec<FilterGroup>,
    /// `scope.inputFilterGroups` (experimental in Graph): also ORed, and ANDed with `filters`.
    pub input_filters: Vec<FilterGroup>,
    /// The object mapping's name and whether it is enabled.
    pub object_mapping: String,
    pub object_mapping_enabled: bool,
    pub mappings: Vec<Mapping>,
    /// What could not be read or looks wrong, for the configuration as a whole.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    #[serde(default)]
    pub id: String,
    pub app_id: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    pub template_id: String,
    /// `schedule.interval` (ISO 8601 duration) and `schedule.state`.
    pub interval: Option<String>,
    pub schedule_state: Option<String>,
    /// `status.code`: NotConfigured | NotRun | Active | Paused | Quarantine.
    pub status_code: Option<String>,
    pub quarantine: Option<Quarantine>,
    pub last_execution: Option<Execution>,
    /// `synchronizationJobSettings` in order.
    pub settings: Vec<(String, String)>,
}

impl Job {
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quarantine {
    pub reason: Option<String>,
    pub current_began: Option<String>,
    pub series_count: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub state: Option<String>,
    pub error: Option<String>,
    pub time_ended: Option<String>,
}

/// Which groups the configuration selects before its filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// "Selected security groups": the groups with the Cloud Sync app role on the service
    /// principal.
    Selected(BTreeSet<String>),
    /// "All security groups" (the configuration has attribute filters and no group
    /// assignments).
    All,
    /// No group assignment and no filter: "Selected" with nothing selected and "All" without a
    /// filter look the same in Graph, or the assignments were not collected.
    Undetermined(String),
}

impl Scope {
    pub fn describe(&self) -> String {
        match self {
            Scope::Selected(s) => format!("selected security groups ({})", s.len()),
            Scope::All => "all security groups, with attribute filters".into(),
            Scope::Undetermined(why) => format!("undetermined: {why}"),
        }
    }
}

/// How an attribute mapping flows (`flowType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub target: String,
    /// The expression as written (for a Constant, the constant quoted; for an Attribute,
    /// `[name]`).
    pub text: String,
    pub source: MappingSource,
    /// "Default value if null": only provisioned when the object is created.
    pub default_value: Option<String>,
    /// `Always` (default), `ObjectAddOnly` ("Only during object creation"), …
    pub flow_type: String,
    pub flow_behavior: String,
    pub matching_priority: i64,
}

impl Mapping {
    pub fn create_only(&self) -> bool {
        self.flow_type.eq_ignore_ascii_case("ObjectAddOnly")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum MappingSource {
    Expression(Parsed),
    /// The source is the members reference (`member = members`): resolved against AD, not a
    /// value an expression gives.
    Members,
    /// No source: the default value only.
    DefaultOnly,
    /// The expression does not parse.
    Invalid(String),
}

impl Eq for MappingSource {}

// ---- Graph's JSON shapes (only what gwb reads; unknown fields are ignored) ----

#[derive(Deserialize)]
struct ValueList<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct JobJson {
    id: String,
    template_id: String,
    schedule: Option<ScheduleJson>,
    status: Option<StatusJson>,
    synchronization_job_settings: Vec<KeyValue>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ScheduleJson {
    interval: Option<String>,
    state: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct StatusJson {
    code: Option<String>,
    quarantine: Option<QuarantineJson>,
    last_execution: Option<ExecutionJson>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct QuarantineJson {
    reason: Option<String>,
    current_began: Option<String>,
    series_count: Option<i64>,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ExecutionJson {
    state: Option<String>,
    error: Option<serde_json::Value>,
    time_ended: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KeyValue {
    name: Option<String>,
    key: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SchemaJson {
    synchronization_rules: Vec<RuleJson>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RuleJson {
    object_mappings: Vec<ObjectMappingJson>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ObjectMappingJson {
    name: Option<String>,
    enabled: Option<bool>,
    source_object_name: Option<String>,
    target_object_name: Option<String>,
    scope: Option<FilterJson>,
    attribute_mappings: Vec<AttributeMappingJson>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct FilterJson {
    groups: Vec<FilterGroupJson>,
    input_filter_groups: Vec<FilterGroupJson>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct FilterGroupJson {
    name: Option<String>,
    clauses: Vec<ClauseJson>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ClauseJson {
    operator_name: String,
    source_operand_name: String,
    target_operand: Option<OperandJson>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OperandJson {
    values: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AttributeMappingJson {
    target_attribute_name: String,
    default_value: Option<String>,
    flow_type: Option<String>,
    flow_behavior: Option<String>,
    matching_priority: Option<i64>,
    source: Option<SourceJson>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SourceJson {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    expression: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AssignmentJson {
    app_role_id: Option<String>,
    principal_id: Option<String>,
    principal_type: Option<String>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, InputError> {
    let text = crate::text::read_file(path)?.text;
    crate::bundle::parse_json(path, &text)
}

fn error_text(v: &Option<serde_json::Value>) -> Option<String> {
    match v {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Object(o)) => {
            let code = o.get("code").and_then(|c| c.as_str());
            let msg = o.get("message").and_then(|c| c.as_str());
            Some(match (code, msg) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_string(),
                (None, Some(m)) => m.to_string(),
                (None, None) => serde_json::Value::Object(o.clone()).to_string(),
            })
        }
        Some(other) => Some(other.to_string()),
    }
}

/// Every configuration in a bundle's `cloud-sync/` directory, by domain. No directory: none.
pub fn load_bundle(bundle: &Path) -> Result<Vec<Configuration>, InputError> {
    let root = bundle.join(BUNDLE_DIR);
    if !root.is_dir() {
        return Ok(Vec::new());
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map_err(|e| InputError::new(&root, "", format!("cannot list: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.iter().map(|d| load(d)).collect()
}

/// One configuration directory.
pub fn load(dir: &Path) -> Result<Configuration, InputError> {
    let domain = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut problems = Vec::new();
    for f in &FILES[..3] {
        if !dir.join(f).is_file() {
            return Err(InputError::new(
                dir.join(f),
                "",
                format!(
                    "missing: a Cloud Sync configuration directory holds {} (see docs/cloud-sync.md)",
                    FILES.join(", ")
                ),
            ));
        }
    }
    let sp_path = dir.join("servicePrincipal.json");
    let service_principal: ServicePrincipal = read_json(&sp_path)?;
    let jobs_path = dir.join("jobs.json");
    let jobs: ValueList<JobJson> = read_json(&jobs_path)?;
    let mut group_jobs = jobs
        .value
        .into_iter()
        .filter(|j| j.template_id == GROUP_JOB_TEMPLATE);
    let Some(job) = group_jobs.next() else {
        return Err(InputError::new(
            &jobs_path,
            "$.value",
            format!(
                "no job has templateId {GROUP_JOB_TEMPLATE:?}: this is not a Cloud Sync configuration that provisions groups to AD"
            ),
        ));
    };
    if group_jobs.next().is_some() {
        problems.push(format!(
            "more than one {GROUP_JOB_TEMPLATE} job; gwb reads the first, {}",
            job.id
        ));
    }
    let status = job.status.unwrap_or_default();
    let schedule = job.schedule.unwrap_or_default();
    let job = Job {
        id: job.id,
        template_id: job.template_id,
        interval: schedule.interval,
        schedule_state: schedule.state,
        status_code: status.code,
        quarantine: status.quarantine.map(|q| Quarantine {
            reason: q.reason,
            current_began: q.current_began,
            series_count: q.series_count,
            error: error_text(&q.error),
        }),
        last_execution: status.last_execution.map(|e| Execution {
            state: e.state,
            error: error_text(&e.error),
            time_ended: e.time_ended,
        }),
        settings: job
            .synchronization_job_settings
            .into_iter()
            .filter_map(|kv| Some((kv.name.or(kv.key)?, kv.value.unwrap_or_default())))
            .collect(),
    };

    let schema_path = dir.join("schema.json");
    let schema: SchemaJson = read_json(&schema_path)?;
    let all: Vec<(usize, usize, &ObjectMappingJson)> = schema
        .synchronization_rules
        .iter()
        .enumerate()
        .flat_map(|(r, rule)| {
            rule.object_mappings
                .iter()
                .enumerate()
                .map(move |(m, om)| (r, m, om))
        })
        .collect();
    let is_group = |s: &Option<String>| {
        s.as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case("group"))
    };
    let groupish: Vec<_> = all
        .iter()
        .filter(|(_, _, om)| is_group(&om.target_object_name) || is_group(&om.source_object_name))
        .collect();
    let chosen = match (groupish.as_slice(), all.as_slice()) {
        ([one], _) => **one,
        ([], [only]) => *only,
        ([first, ..], _) => {
            let enabled: Vec<_> = groupish
                .iter()
                .filter(|(_, _, om)| om.enabled != Some(false))
                .collect();
            let pick = enabled.first().map(|x| ***x).unwrap_or(**first);
            problems.push(format!(
                "{} object mappings are for groups; gwb reads {:?}",
                groupish.len(),
                pick.2.name.as_deref().unwrap_or("")
            ));
            pick
        }
        ([], _) => {
            return Err(InputError::new(
                &schema_path,
                "$.synchronizationRules",
                format!(
                    "no object mapping for groups among {} (gwb looks for sourceObjectName or targetObjectName \"group\")",
                    all.len()
                ),
            ));
        }
    };
    let (ri, mi, om) = chosen;
    let place = format!("$.synchronizationRules[{ri}].objectMappings[{mi}]");
    let to_groups = |gs: &[FilterGroupJson]| -> Vec<FilterGroup> {
        gs.iter()
            .enumerate()
            .map(|(i, g)| FilterGroup {
                name: g
                    .name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("filter {}", i + 1)),
                clauses: g
                    .clauses
                    .iter()
                    .map(|c| Clause {
                        attribute: c.source_operand_name.clone(),
                        operator: c.operator_name.clone(),
                        values: c
                            .target_operand
                            .as_ref()
                            .map(|o| o.values.clone())
                            .unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect()
    };
    let (filters, input_filters) = match &om.scope {
        Some(f) => (to_groups(&f.groups), to_groups(&f.input_filter_groups)),
        None => (Vec::new(), Vec::new()),
    };
    let mut mappings = Vec::new();
    for (i, am) in om.attribute_mappings.iter().enumerate() {
        let (text, source) = mapping_source(am);
        if let MappingSource::Invalid(e) = &source {
            problems.push(format!(
                "{place}.attributeMappings[{i}] ({}): the expression does not parse: {e}",
                am.target_attribute_name
            ));
        }
        mappings.push(Mapping {
            target: am.target_attribute_name.clone(),
            text,
            source,
            default_value: am.default_value.clone().filter(|d| !d.is_empty()),
            flow_type: am.flow_type.clone().unwrap_or_else(|| "Always".into()),
            flow_behavior: am
                .flow_behavior
                .clone()
                .unwrap_or_else(|| "FlowWhenChanged".into()),
            matching_priority: am.matching_priority.unwrap_or(0),
        });
    }

    let ara_path = dir.join("appRoleAssignedTo.json");
    let scope = if ara_path.is_file() {
        let list: ValueList<AssignmentJson> = read_json(&ara_path)?;
        let selected: BTreeSet<String> = list
            .value
            .iter()
            .filter(|a| {
                a.principal_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case("Group"))
                    && a.app_role_id.as_deref().is_some_and(|r| {
                        SELECTED_GROUP_APP_ROLES
                            .iter()
                            .any(|(id, _)| id.eq_ignore_ascii_case(r))
                    })
            })
            .filter_map(|a| a.principal_id.as_ref().map(|p| p.to_ascii_lowercase()))
            .collect();
        if !selected.is_empty() {
            Scope::Selected(selected)
        } else if !filters.is_empty() || !input_filters.is_empty() {
            Scope::All
        } else {
            Scope::Undetermined(
                "no group is selected and no attribute filter is set (\"Selected\" with nothing selected, or \"All\" without the filter Microsoft asks for)".into(),
            )
        }
    } else {
        problems
            .push("appRoleAssignedTo.json is missing: which groups are selected is unknown".into());
        Scope::Undetermined("the app role assignments were not collected".into())
    };
    if let Scope::Selected(_) = &scope
        && (!filters.is_empty() || !input_filters.is_empty())
    {
        problems.push("selected groups with attribute filters: Microsoft calls filters on selected groups \"pure overhead\"; both must hold".into());
    }
    Ok(Configuration {
        domain,
        dir: dir.to_path_buf(),
        service_principal,
        job,
        scope,
        filters,
        input_filters,
        object_mapping: om.name.clone().unwrap_or_default(),
        object_mapping_enabled: om.enabled != Some(false),
        mappings,
        problems,
    })
}

fn mapping_source(am: &AttributeMappingJson) -> (String, MappingSource) {
    let Some(src) = &am.source else {
        return (String::new(), MappingSource::DefaultOnly);
    };
    let kind = src.kind.as_deref().unwrap_or("Attribute");
    let name = src.name.clone().unwrap_or_default();
    if kind.eq_ignore_ascii_case("Constant") {
        // The constant is its name; quoting it keeps commas and quotes literal.
        let text = format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""));
        return match Parsed::parse(&text) {
            Ok(p) => (name, MappingSource::Expression(p)),
            Err(e) => (name, MappingSource::Invalid(e.to_string())),
        };
    }
    if kind.eq_ignore_ascii_case("Attribute") {
        if name == "members" || am.target_attribute_name.eq_ignore_ascii_case("member") {
            return (name, MappingSource::Members);
        }
        let text = format!("[{name}]");
        return match Parsed::parse(&text) {
            Ok(p) => (text, MappingSource::Expression(p)),
            Err(e) => (text, MappingSource::Invalid(e.to_string())),
        };
    }
    let text = src.expression.clone().unwrap_or_default();
    if text.trim().is_empty() {
        return (
            text,
            MappingSource::Invalid("a Function source without an expression".into()),
        );
    }
    match Parsed::parse(&text) {
        Ok(p) => (text, MappingSource::Expression(p)),
        Err(e) => (text, MappingSource::Invalid(e.to_string())),
    }
}

/// Why a group is or is not in a configuration's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeResult {
    /// `None`: cannot be told (see `steps`).
    pub in_scope: Option<bool>,
    pub steps: Vec<ScopeStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeStep {
    pub check: String,
    /// `pass`, `fail` or `unknown`.
    pub result: String,
    pub detail: String,
}

impl Configuration {
    /// The mapping for one target attribute (case-insensitive).
    pub fn mapping(&self, target: &str) -> Option<&Mapping> {
        self.mappings
            .iter()
            .find(|m| m.target.eq_ignore_ascii_case(target))
    }

    /// Scope: the default security clause AND (selected, in "Selected" mode) AND (any filter
    /// group, when there are any) AND (any input filter group, when there are any).
    pub fn scope_of(&self, engine: &Engine, group_id: &str, src: &dyn Source) -> ScopeResult {
        use crate::expr::scope;
        let mut steps = Vec::new();
        let mut push = |check: &str, v: Option<bool>, detail: String| {
            steps.push(ScopeStep {
                check: check.into(),
                result: match v {
                    Some(true) => "pass",
                    Some(false) => "fail",
                    None => "unknown",
                }
                .into(),
                detail,
            });
            v
        };
        let mut all = Vec::new();
        let d = scope::groups(engine, &[scope::default_security_clause()], src);
        all.push(push(
            "default security clause",
            d.in_scope,
            match d.in_scope {
                Some(true) => {
                    "securityEnabled IS TRUE AND dirSyncEnabled IS FALSE AND mailEnabled IS FALSE"
                        .into()
                }
                Some(false) => format!("fails {}", clause_of(&d.failed)),
                None => d.unknown.unwrap_or_default(),
            },
        ));
        all.push(match &self.scope {
            Scope::Selected(ids) => {
                let sel = ids.contains(&group_id.to_ascii_lowercase());
                push(
                    "selected groups",
                    Some(sel),
                    if sel {
                        "assigned to the configuration".into()
                    } else {
                        format!("not among the {} selected groups", ids.len())
                    },
                )
            }
            Scope::All => push("all security groups", Some(true), "no selection".into()),
            Scope::Undetermined(why) => push("selected groups", None, why.clone()),
        });
        for (what, gs) in [
            ("scoping filters", &self.filters),
            ("input filters", &self.input_filters),
        ] {
            if gs.is_empty() {
                continue;
            }
            let v = scope::groups(engine, gs, src);
            let detail = match v.in_scope {
                Some(true) => format!("{} holds", v.matched.unwrap_or_default()),
                Some(false) => format!("no filter holds: {}", v.failed.join("; ")),
                None => v.unknown.unwrap_or_default(),
            };
            all.push(push(what, v.in_scope, detail));
        }
        let in_scope = if all.contains(&Some(false)) {
            Some(false)
        } else if all.contains(&None) {
            None
        } else {
            Some(true)
        };
        ScopeResult { in_scope, steps }
    }

    /// The configuration's `parentDistinguishedName` routes with `Switch` and does not wrap it
    /// in `IgnoreFlowIfNullOrEmpty`: Microsoft documents that such a Switch "incorrectly set an
    /// attribute value to null in the target system" on updates when Entra ID is the source.
    pub fn switch_container_caveat(&self) -> bool {
        self.mapping("parentDistinguishedName")
            .is_some_and(|m| match &m.source {
                MappingSource::Expression(p) => {
                    p.uses("Switch") && !p.uses("IgnoreFlowIfNullOrEmpty")
                }
                _ => false,
            })
    }
}

fn clause_of(failed: &[String]) -> String {
    failed
        .first()
        .and_then(|f| f.split_once(": ").map(|(_, c)| c.to_string()))
        .unwrap_or_default()
}

/// `gwb mappings …`: the report text on success.
pub fn run(args: &args::MappingsArgs) -> anyhow::Result<String> {
    match &args.command {
        args::MappingsCommand::Test(t) => run_test(t),
    }
}

fn run_test(t: &args::TestArgs) -> anyhow::Result<String> {
    let mut configs = load_bundle(&t.snapshot)?;
    if configs.is_empty() {
        anyhow::bail!(
            "{}: no Cloud Sync configuration (a {BUNDLE_DIR}/<domain>/ directory with {}; see docs/cloud-sync.md)",
            t.snapshot.display(),
            FILES.join(", ")
        );
    }
    if let Some(d) = &t.domain {
        configs.retain(|c| c.domain.eq_ignore_ascii_case(d));
        if configs.is_empty() {
            anyhow::bail!("no Cloud Sync configuration for the domain {d:?} in the bundle");
        }
    }
    let (groups, known) = source::load_groups(&t.snapshot)?;
    let chosen: Vec<&source::GroupAttributes> = match &t.group {
        None => groups.iter().collect(),
        Some(sel) => {
            let by_id: Vec<_> = groups
                .iter()
                .filter(|g| g.id().eq_ignore_ascii_case(sel))
                .collect();
            let found = if by_id.is_empty() {
                groups.iter().filter(|g| g.display_name() == sel).collect()
            } else {
                by_id
            };
            if found.is_empty() {
                anyhow::bail!("no group with the id or display name {sel:?} in the bundle");
            }
            found
        }
    };
    let engine = Engine::new();
    let report = test::Report {
        format: test::FORMAT,
        configurations: configs
            .iter()
            .map(|c| test::run_config(c, &chosen, &known, &engine))
            .collect(),
    };
    Ok(match t.format {
        args::TestFormat::Text => test::render_text(&report),
        args::TestFormat::Json => {
            let mut s = serde_json::to_string_pretty(&report)?;
            s.push('\n');
            s
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, v: serde_json::Value) {
        std::fs::write(dir.join(name), serde_json::to_string(&v).unwrap()).unwrap();
    }

    fn minimal(dir: &Path, mappings: serde_json::Value, scope: serde_json::Value) {
        write(
            dir,
            "servicePrincipal.json",
            serde_json::json!({"id": "sp1", "displayName": "corp.example.com"}),
        );
        write(
            dir,
            "jobs.json",
            serde_json::json!({"value": [
                {"id": "AD2AADProvisioning.x", "templateId": "AD2AADProvisioning"},
                {"id": "AAD2ADGroupProvisioning.y", "templateId": "AAD2ADGroupProvisioning",
                 "schedule": {"interval": "PT2M", "state": "Paused"},
                 "status": {"code": "Paused", "lastExecution": {"state": "EntryLevelErrors", "error": "one group failed"}}}
            ]}),
        );
        write(
            dir,
            "schema.json",
            serde_json::json!({"synchronizationRules": [{"objectMappings": [
                {"name": "Groups", "sourceObjectName": "Group", "targetObjectName": "group",
                 "scope": scope, "attributeMappings": mappings}
            ]}]}),
        );
    }

    #[test]
    fn reads_the_group_job_and_mapping_sources() {
        let d = tempfile::tempdir().unwrap();
        minimal(
            d.path(),
            serde_json::json!([
                {"targetAttributeName": "parentDistinguishedName",
                 "source": {"type": "Constant", "name": "OU=A \"q\",DC=corp,DC=example,DC=com"}},
                {"targetAttributeName": "displayName", "source": {"type": "Attribute", "name": "displayName"}},
                {"targetAttributeName": "cn", "source": {"type": "Function", "name": "Left", "expression": "Left([displayName], "}},
                {"targetAttributeName": "info", "source": null, "defaultValue": "fixed", "flowType": "ObjectAddOnly"}
            ]),
            serde_json::json!(null),
        );
        write(
            d.path(),
            "appRoleAssignedTo.json",
            serde_json::json!({"value": []}),
        );
        let c = load(d.path()).unwrap();
        // The job is picked by templateId, not by position.
        assert_eq!(c.job.id, "AAD2ADGroupProvisioning.y");
        assert_eq!(c.job.interval.as_deref(), Some("PT2M"));
        assert_eq!(c.job.status_code.as_deref(), Some("Paused"));
        assert_eq!(
            c.job
                .last_execution
                .as_ref()
                .and_then(|e| e.error.as_deref()),
            Some("one group failed")
        );
        // A constant is taken literally, quotes and commas included.
        let parent = c.mapping("parentdistinguishedname").unwrap();
        let MappingSource::Expression(p) = &parent.source else {
            panic!("{parent:?}")
        };
        let v = Engine::new().evaluate(p, &std::collections::BTreeMap::new());
        assert_eq!(
            v,
            Ok(crate::expr::Value::Str(
                "OU=A \"q\",DC=corp,DC=example,DC=com".into()
            ))
        );
        // An expression that does not parse is a problem of the configuration, not a crash.
        assert!(matches!(
            c.mapping("cn").unwrap().source,
            MappingSource::Invalid(_)
        ));
        assert!(
            c.problems
                .iter()
                .any(|p| p.contains("(cn): the expression does not parse"))
        );
        let info = c.mapping("info").unwrap();
        assert_eq!(info.source, MappingSource::DefaultOnly);
        assert!(info.create_only());
        // No selection and no filter: the scope cannot be told.
        assert!(matches!(c.scope, Scope::Undetermined(_)));
    }

    #[test]
    fn scope_mode_from_assignments_and_filters() {
        let d = tempfile::tempdir().unwrap();
        let filter = serde_json::json!({"groups": [{"name": "f", "clauses": [
            {"operatorName": "EQUALS", "sourceOperandName": "displayName", "targetOperand": {"values": ["X"]}}]}]});
        minimal(d.path(), serde_json::json!([]), filter);
        // Missing appRoleAssignedTo.json: undetermined, said as a problem.
        let c = load(d.path()).unwrap();
        assert!(matches!(c.scope, Scope::Undetermined(_)));
        assert!(
            c.problems
                .iter()
                .any(|p| p.contains("appRoleAssignedTo.json is missing"))
        );
        // Filters and no group assignment: all security groups.
        write(
            d.path(),
            "appRoleAssignedTo.json",
            serde_json::json!({"value": [
            {"appRoleId": "1a0abf4d-b9fa-4512-a3a2-51ee82c6fd9f", "principalId": "U1", "principalType": "User"}]}),
        );
        let c = load(d.path()).unwrap();
        assert_eq!(c.scope, Scope::All);
        assert_eq!(
            c.filters[0].clauses[0].describe(),
            "displayName EQUALS \"X\""
        );
        // A US Government cloud assignment selects the group (ids compared without case).
        write(
            d.path(),
            "appRoleAssignedTo.json",
            serde_json::json!({"value": [
            {"appRoleId": "D8FA317E-0713-4930-91D8-1DBEB150978F", "principalId": "AB-CD", "principalType": "Group"}]}),
        );
        let c = load(d.path()).unwrap();
        assert_eq!(
            c.scope,
            Scope::Selected(["ab-cd".to_string()].into_iter().collect())
        );
        // jobs.json without the group job is not a group provisioning configuration.
        write(
            d.path(),
            "jobs.json",
            serde_json::json!({"value": [{"id": "a", "templateId": "AD2AADProvisioning"}]}),
        );
        let e = load(d.path()).unwrap_err();
        assert!(e.to_string().contains("AAD2ADGroupProvisioning"), "{e}");
    }
}
