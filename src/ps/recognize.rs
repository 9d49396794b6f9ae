//! Recognizers: turn the records of one export (whatever format it came in) into snapshot
//! evidence. Each recognizer keys on the properties a cmdlet's objects carry, never on the
//! file name or on type names. Values that were lost in export are reported and left out,
//! so nothing downstream ever sees a made-up value.

use std::borrow::Cow;
use std::path::Path;

use serde_json::{Map, Value};

use super::csv::Table;
use super::json::is_lost_marker;
use crate::ad::dn::Dn;
use crate::ad::ids;
use crate::ad::ldif::Entry;
use crate::bundle::tenant::{DirectorySetting, Group, OnPremSync, SubscribedSku};
use crate::bundle::{ConnectEvidence, DataQuality, Evidence};

/// `Get-ADSyncAADCompanyFeature` properties.
pub const COMPANY_FEATURES: [&str; 6] = [
    "PasswordHashSync",
    "ForcePasswordChangeOnLogOn",
    "UserWriteback",
    "DeviceWriteback",
    "UnifiedGroupWriteback",
    "GroupWritebackV2",
];

pub const UNRECOGNIZED: &str = "unrecognized";

/// Case-insensitive property lookup (PowerShell properties are case-insensitive).
pub fn get<'v>(m: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    m.get(name).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// `True`/`False` in any of the shapes exports use.
pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "$true" => Some(true),
            "false" | "$false" => Some(false),
            _ => None,
        },
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Everything one file (or folder) told us.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    pub recognized_as: String,
    pub connect: ConnectEvidence,
    pub tenant: crate::bundle::TenantDoc,
    pub ad_entries: crate::ad::ldif::Entries,
    pub quality: Vec<DataQuality>,
}

impl Findings {
    pub fn into_evidence(self, source: &Path) -> Evidence {
        Evidence {
            source: source.to_path_buf(),
            recognized_as: self.recognized_as,
            connect: self.connect,
            tenant: self.tenant,
            ad_entries: self.ad_entries,
            quality: self.quality,
        }
    }
}

struct Ctx<'a> {
    file: &'a Path,
    quality: Vec<DataQuality>,
    /// The code for values the export did not carry: `depth-truncated` (JSON, CLIXML) or
    /// `lost-data` (CSV and console text).
    lost: &'static str,
}

impl Ctx<'_> {
    fn note(&mut self, code: &str, place: impl Into<String>, message: impl Into<String>) {
        self.quality.push(DataQuality {
            code: code.into(),
            file: self.file.display().to_string(),
            place: place.into(),
            message: message.into(),
        });
    }
}

/// The records of one export, as the recognizers read them.
#[derive(Debug, Clone, Copy)]
pub enum Records<'a> {
    /// JSON, CLIXML and console text: the objects among the values are the records.
    Values(&'a [Value]),
    /// An Export-Csv table: every row is a record with the header's properties, made into
    /// a JSON object only while a recognizer looks at it.
    Table(&'a Table),
    /// A compact tree (JSON and CLIXML exports): the records that are objects, each made
    /// into a JSON object only while a recognizer looks at it.
    Tree(&'a super::tree::Tree),
}

/// The object records the recognizers walk: borrowed JSON objects, a table's rows, or a
/// compact tree's object records.
struct Objects<'a> {
    table: Option<&'a Table>,
    tree: Option<&'a super::tree::Tree>,
    /// The tree's records that are objects.
    tree_objects: Vec<usize>,
    json: Vec<&'a Map<String, Value>>,
}

impl<'a> Objects<'a> {
    fn new(records: Records<'a>) -> Objects<'a> {
        match records {
            Records::Values(v) => Objects {
                table: None,
                tree: None,
                tree_objects: Vec::new(),
                json: v.iter().filter_map(Value::as_object).collect(),
            },
            Records::Table(t) => Objects {
                table: Some(t),
                tree: None,
                tree_objects: Vec::new(),
                json: Vec::new(),
            },
            Records::Tree(t) => Objects {
                table: None,
                tree: Some(t),
                tree_objects: (t.records().iter().enumerate())
                    .filter(|(_, n)| matches!(n, super::tree::Node::Object(_)))
                    .map(|(i, _)| i)
                    .collect(),
                json: Vec::new(),
            },
        }
    }

    fn len(&self) -> usize {
        match (self.table, self.tree) {
            (Some(t), _) => t.len(),
            (None, Some(_)) => self.tree_objects.len(),
            (None, None) => self.json.len(),
        }
    }

    fn get(&self, i: usize) -> Cow<'a, Map<String, Value>> {
        match (self.table, self.tree) {
            (Some(t), _) => Cow::Owned(t.row_object(i)),
            (None, Some(t)) => Cow::Owned(
                self.tree_objects
                    .get(i)
                    .and_then(|&r| t.object(r))
                    .unwrap_or_default(),
            ),
            (None, None) => Cow::Borrowed(self.json[i]),
        }
    }

    fn iter(&self) -> impl Iterator<Item = Cow<'a, Map<String, Value>>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// False when no record can have this property (case-insensitive, as [`get`]): a
    /// table whose header lacks it, or a tree where no object at any depth has it. Lets a
    /// recognizer skip records it cannot match without making each into an object.
    fn may_have(&self, name: &str) -> bool {
        match (self.table, self.tree) {
            (Some(t), _) => t.keys().any(|k| k.eq_ignore_ascii_case(name)),
            (None, Some(t)) => t.names().any(|k| k.eq_ignore_ascii_case(name)),
            (None, None) => true,
        }
    }

    /// How many of a table's properties match (for a tree: of the property names of all
    /// its objects, at least as many as any one record has); `None` for JSON records.
    fn table_keys_matching(&self, pred: impl Fn(&str) -> bool) -> Option<usize> {
        match (self.table, self.tree) {
            (Some(t), _) => Some(t.keys().filter(|k| pred(k)).count()),
            (None, Some(t)) => Some(t.names().filter(|k| pred(k)).count()),
            (None, None) => None,
        }
    }
}

/// Recognise a list of exported records (from JSON or CLIXML).
pub fn recognize(file: &Path, records: &[Value]) -> Findings {
    recognize_with(file, records, "depth-truncated")
}

/// Recognise records, naming lost values with `lost_code` (`lost-data` for CSV and text).
pub fn recognize_with(file: &Path, records: &[Value], lost_code: &'static str) -> Findings {
    recognize_records(file, Records::Values(records), lost_code)
}

/// [`recognize_with`] for any [`Records`] (a CSV table without making its rows into values).
pub fn recognize_records(file: &Path, records: Records<'_>, lost_code: &'static str) -> Findings {
    let mut cx = Ctx {
        file,
        quality: Vec::new(),
        lost: lost_code,
    };
    let mut f = Findings {
        recognized_as: UNRECOGNIZED.into(),
        ..Findings::default()
    };
    let objects = Objects::new(records);
    let no_records = match records {
        Records::Values(v) => v.is_empty(),
        Records::Table(t) => t.is_empty(),
        Records::Tree(t) => t.is_empty(),
    };
    if no_records {
        cx.note(
            UNRECOGNIZED,
            "",
            "the file holds no objects (ConvertTo-Json writes nothing for an empty pipeline); check the command that produced it",
        );
        f.quality = cx.quality;
        return f;
    }
    if let Some(connect) = company_features(&mut cx, &objects) {
        f.connect = connect;
        f.recognized_as = "Get-ADSyncAADCompanyFeature".into();
    } else if let Some(connect) = global_settings(&mut cx, &objects) {
        f.connect = connect;
        f.recognized_as = "Get-ADSyncGlobalSettings".into();
    } else if objects.may_have("DistinguishedName")
        && objects
            .iter()
            .any(|o| get(&o, "DistinguishedName").is_some())
    {
        let (entries, is_group) = ad_objects(&mut cx, &objects);
        f.ad_entries = entries;
        f.recognized_as = if is_group {
            "Get-ADGroup"
        } else {
            "Get-ADObject"
        }
        .into();
    } else if let Some(sync) = dirsync_features(&objects) {
        f.tenant.on_premises_synchronization = Some(sync);
        f.recognized_as = "Get-EntraDirSyncFeature".into();
    } else if let Some(setting) = group_unified_values(&mut cx, &objects) {
        f.tenant.settings = Some(vec![setting]);
        f.recognized_as = "Get-MgBetaDirectorySetting".into();
    } else {
        graph(&mut cx, &objects, &mut f);
    }
    if f.recognized_as == UNRECOGNIZED {
        let keys: Vec<String> = if objects.len() > 0 {
            objects.get(0).keys().take(8).cloned().collect()
        } else {
            Vec::new()
        };
        cx.note(
            UNRECOGNIZED,
            "",
            format!(
                "not an export gwb knows (first object's properties: {}); see docs/powershell.md for the supported cmdlets",
                if keys.is_empty() { "none".to_string() } else { keys.join(", ") }
            ),
        );
    }
    f.quality.extend(cx.quality);
    f
}

fn company_features(cx: &mut Ctx<'_>, objects: &Objects<'_>) -> Option<ConnectEvidence> {
    let file = cx.file;
    if COMPANY_FEATURES
        .iter()
        .filter(|k| objects.may_have(k))
        .count()
        < 2
    {
        return None;
    }
    let o = objects.iter().find(|o| {
        COMPANY_FEATURES
            .iter()
            .filter(|k| get(o, k).is_some())
            .count()
            >= 2
    })?;
    let mut c = ConnectEvidence {
        sources: vec![file.display().to_string()],
        ..ConnectEvidence::default()
    };
    for name in COMPANY_FEATURES {
        match get(&o, name) {
            None | Some(Value::Null) => {}
            Some(v) => match as_bool(v) {
                Some(b) => {
                    c.features.insert(name.to_string(), b);
                }
                None => cx.note(
                    "invalid-value",
                    format!("$.{name}"),
                    format!("{name} is {v}, not True or False; the feature is left unknown"),
                ),
            },
        }
    }
    Some(c)
}

/// `Get-ADSyncGlobalSettings` (its `.Parameters`), `Get-ADSyncGlobalSettingsParameter`, or
/// a server-configuration `GlobalSettings.json`. Parameters arrive as a list of
/// `{Name, Value}` objects, as a dictionary keyed by name, or (console text of
/// `$settings.Parameters`) as one object whose property names are the parameter names.
fn global_settings(cx: &mut Ctx<'_>, objects: &Objects<'_>) -> Option<ConnectEvidence> {
    let mut params: Vec<(String, Value)> = Vec::new();
    let mut found = false;
    let is_param_name = |k: &str| k.starts_with("Microsoft.") && k.matches('.').count() >= 2;
    let from_list = |items: &[Value], params: &mut Vec<(String, Value)>| {
        for p in items.iter().filter_map(Value::as_object) {
            if let Some(name) = get(p, "Name").and_then(Value::as_str) {
                params.push((
                    name.to_string(),
                    get(p, "Value").cloned().unwrap_or(Value::Null),
                ));
            }
        }
    };
    for o in objects.iter().take(if objects.may_have("Parameters") {
        usize::MAX
    } else {
        0
    }) {
        match get(&o, "Parameters") {
            Some(Value::Array(items)) => {
                found = true;
                from_list(items, &mut params);
            }
            Some(Value::Object(m)) => {
                found = true;
                for (k, v) in m {
                    match v {
                        Value::Object(inner) if get(inner, "Name").is_some() => {
                            from_list(std::slice::from_ref(v), &mut params);
                        }
                        other => params.push((k.clone(), other.clone())),
                    }
                }
            }
            Some(Value::String(s)) if is_lost_marker(s) => {
                found = true;
                cx.note(
                    cx.lost,
                    "$.Parameters",
                    "the Parameters list was not serialised; export (Get-ADSyncGlobalSettings).Parameters | ConvertTo-Json -Depth 5",
                );
            }
            _ => {}
        }
    }
    // A table without a Name column or two parameter-named columns has no parameters.
    let may_list = objects.may_have("Name")
        || objects
            .table_keys_matching(is_param_name)
            .is_none_or(|n| n >= 2);
    if !found {
        for o in objects.iter().take(if may_list { usize::MAX } else { 0 }) {
            match get(&o, "Name").and_then(Value::as_str) {
                Some(n) if is_param_name(n) && get(&o, "Value").is_some() => {
                    params.push((
                        n.to_string(),
                        get(&o, "Value").cloned().unwrap_or(Value::Null),
                    ));
                }
                _ => {
                    let keyed: Vec<(String, Value)> = o
                        .iter()
                        .filter(|(k, _)| is_param_name(k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    if keyed.len() >= 2 {
                        params.extend(keyed);
                    }
                }
            }
        }
        if params.is_empty() {
            return None;
        }
    }
    let mut c = ConnectEvidence {
        sources: vec![cx.file.display().to_string()],
        ..ConnectEvidence::default()
    };
    for (name, value) in &params {
        if let Value::String(s) = value
            && is_lost_marker(s)
        {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if lower == "microsoft.synchronize.serverconfigurationversion" {
            c.server_version = scalar_text(value).filter(|s| !s.trim().is_empty());
        } else if lower == "microsoft.optionalfeature.groupwriteback" {
            c.group_writeback_optional_feature = as_bool(value);
            if c.group_writeback_optional_feature.is_none() && !value.is_null() {
                cx.note(
                    "invalid-value",
                    format!("Parameters[{name}]"),
                    format!("{name} is {value}, not True or False"),
                );
            }
        } else if lower.contains("groupwriteback")
            && !lower.contains("optionalfeature")
            && let Some(v) = scalar_text(value)
            && looks_like_dn(&v)
        {
            c.writeback_container = Some(v);
        }
    }
    Some(c)
}

/// `Get-EntraDirSyncFeature` / `Get-MsolDirSyncFeatures`: `{DirSyncFeature, Enabled}` rows,
/// the tenant's view of the sync features, as Graph's `onPremisesSynchronization.features`.
fn dirsync_features(objects: &Objects<'_>) -> Option<OnPremSync> {
    if !(objects.may_have("DirSyncFeature") && objects.may_have("Enabled")) {
        return None;
    }
    let rows: Vec<(String, bool)> = objects
        .iter()
        .filter_map(|o| {
            Some((
                get(&o, "DirSyncFeature")?.as_str()?.to_string(),
                as_bool(get(&o, "Enabled")?)?,
            ))
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let mut features = std::collections::BTreeMap::new();
    for (name, enabled) in rows {
        let graph_name = match name.to_ascii_lowercase().as_str() {
            "duplicateproxyaddressresiliency" => {
                "quarantineUponProxyAddressesConflictEnabled".to_string()
            }
            "duplicateupnresiliency" => "quarantineUponUpnConflictEnabled".to_string(),
            "enablesoftmatchonupn" => "softMatchOnUpnEnabled".to_string(),
            "groupwriteback" | "groupwritebackv2" => "groupWriteBackEnabled".to_string(),
            _ => camel(&name) + "Enabled",
        };
        features.insert(graph_name, Some(enabled));
    }
    Some(OnPremSync {
        id: None,
        features: Some(features),
        configuration: None,
    })
}

/// `Get-MgBetaDirectorySetting | Select -ExpandProperty Values`: the `{Name, Value}` rows of
/// one setting without the setting around them. `NewUnifiedGroupWritebackDefault` exists only
/// on the Group.Unified template, so such rows are that setting.
fn group_unified_values(cx: &mut Ctx<'_>, objects: &Objects<'_>) -> Option<DirectorySetting> {
    if !objects.may_have("Name") {
        return None;
    }
    let all_pairs = objects
        .iter()
        .all(|o| get(&o, "Name").is_some_and(Value::is_string) && o.len() <= 3);
    let marker = objects.iter().any(|o| {
        get(&o, "Name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case("NewUnifiedGroupWritebackDefault"))
    });
    if !all_pairs || !marker {
        return None;
    }
    cx.note(
        "assumed",
        "",
        "setting values without their setting: read as the Group.Unified directory setting (the only template with \
         NewUnifiedGroupWritebackDefault)",
    );
    let values = objects
        .iter()
        .filter_map(|o| {
            Some(crate::bundle::tenant::SettingValue {
                name: get(&o, "Name")?.as_str()?.to_string(),
                value: get(&o, "Value").and_then(scalar_text),
            })
        })
        .collect();
    Some(DirectorySetting {
        id: None,
        display_name: Some("Group.Unified".into()),
        template_id: Some("62375ab9-6b52-47ed-826b-58e47e0e304b".into()),
        values,
    })
}

fn looks_like_dn(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    (l.contains("dc=") || l.contains("ou=")) && Dn::parse(s).is_ok()
}

/// Graph PowerShell SDK objects (PascalCase + AdditionalProperties) to Graph's camelCase.
pub fn graph_shape(v: &Value) -> Value {
    graph_shape_depth(v, 0)
}

fn graph_shape_depth(v: &Value, depth: usize) -> Value {
    if depth > 64 {
        return Value::Null;
    }
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            let mut extra = Map::new();
            for (k, val) in m {
                if k.eq_ignore_ascii_case("AdditionalProperties") {
                    if let Value::Object(ap) = val {
                        for (ak, av) in ap {
                            extra.insert(ak.clone(), graph_shape_depth(av, depth + 1));
                        }
                    } else if !val.is_null() {
                        // Kept as-is so a truncation marker stays visible to the checks.
                        out.insert("additionalProperties".into(), val.clone());
                    }
                    continue;
                }
                out.insert(camel(k), graph_shape_depth(val, depth + 1));
            }
            for (k, val) in extra {
                match out.get(&k) {
                    Some(existing) if !existing.is_null() => {}
                    _ => {
                        out.insert(k, val);
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| graph_shape_depth(i, depth + 1))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn camel(k: &str) -> String {
    if k.starts_with('@') {
        return k.to_string();
    }
    let mut c = k.chars();
    match c.next() {
        Some(f) if f.is_ascii_uppercase() => f.to_ascii_lowercase().to_string() + c.as_str(),
        _ => k.to_string(),
    }
}

const GROUP_BOOLS: [&str; 5] = [
    "mailEnabled",
    "securityEnabled",
    "onPremisesSyncEnabled",
    "isAssignableToRole",
    "isEnabled",
];

/// CSV and Format-List carry booleans as `True`/`False` and lists as text: coerce what the
/// typed views expect.
fn coerce(m: &mut Map<String, Value>) {
    for (k, v) in m.iter_mut() {
        if GROUP_BOOLS.contains(&k.as_str()) || k.ends_with("Enabled") {
            if let Value::String(s) = v {
                let new = if s.trim().is_empty() {
                    Value::Null
                } else {
                    as_bool(v).map(Value::Bool).unwrap_or_else(|| v.clone())
                };
                *v = new;
            }
        } else if let Value::Object(inner) = v {
            coerce(inner);
        } else if let Value::Array(items) = v {
            for i in items.iter_mut() {
                if let Value::Object(inner) = i {
                    coerce(inner);
                }
            }
        }
    }
}

fn graph(cx: &mut Ctx<'_>, objects: &Objects<'_>, f: &mut Findings) {
    let mut groups = Vec::new();
    let mut settings = Vec::new();
    let mut skus = Vec::new();
    let mut incomplete = false;
    let mut without_wb = 0usize;
    let mut behaviors: Vec<Group> = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        let sdk_shape = o.contains_key("Id") || o.contains_key("AdditionalProperties");
        let Value::Object(mut m) = graph_shape(&Value::Object(o.into_owned())) else {
            continue;
        };
        coerce(&mut m);
        let place = format!("$[{i}]");
        if m.get("features").is_some_and(Value::is_object)
            && (m.get("configuration").is_some()
                || m.get("features")
                    .and_then(|x| x.get("groupWriteBackEnabled"))
                    .is_some())
        {
            match serde_json::from_value::<OnPremSync>(Value::Object(m)) {
                Ok(s) => {
                    f.tenant.on_premises_synchronization = Some(s);
                    f.recognized_as = "Get-MgBetaDirectoryOnPremiseSynchronization".into();
                }
                Err(e) => cx.note(
                    "invalid-record",
                    place,
                    format!("onPremisesSynchronization object skipped: {e}"),
                ),
            }
        } else if m.contains_key("templateId") && m.contains_key("values") {
            if let Some(Value::String(s)) = m.get("values")
                && is_lost_marker(s)
            {
                cx.note(cx.lost, format!("{place}.values"), "setting values were not serialised; setting skipped (re-export with -Depth 10)");
                incomplete = true;
                continue;
            }
            if let Some(Value::Array(vals)) = m.get_mut("values") {
                for v in vals.iter_mut() {
                    if let Some(val) = v.get_mut("value")
                        && !val.is_string()
                        && !val.is_null()
                    {
                        *val = Value::String(scalar_text(val).unwrap_or_else(|| val.to_string()));
                    }
                }
            }
            match serde_json::from_value::<DirectorySetting>(Value::Object(m)) {
                Ok(s) => settings.push(s),
                Err(e) => cx.note(
                    "invalid-record",
                    place,
                    format!("directory setting skipped: {e}"),
                ),
            }
        } else if m.contains_key("skuId") || m.contains_key("skuPartNumber") {
            if let Some(Value::String(s)) = m.get("servicePlans")
                && is_lost_marker(s)
            {
                cx.note(
                    cx.lost,
                    format!("{place}.servicePlans"),
                    "service plans were not serialised; SKU skipped (re-export with -Depth 10)",
                );
                incomplete = true;
                continue;
            }
            match serde_json::from_value::<SubscribedSku>(Value::Object(m)) {
                Ok(s) => skus.push(s),
                Err(e) => cx.note("invalid-record", place, format!("SKU skipped: {e}")),
            }
        } else if m.contains_key("id")
            && m.contains_key("isCloudManaged")
            && ![
                "groupTypes",
                "securityEnabled",
                "mailEnabled",
                "displayName",
            ]
            .iter()
            .any(|k| m.contains_key(*k))
        {
            // Get-MgGroupOnPremiseSyncBehavior (v1.0 or beta): the group's id and its state.
            let id = m
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let managed = m.get("isCloudManaged").and_then(as_bool);
            match (ids::parse_guid(&id), managed) {
                (Some(_), Some(b)) => behaviors.push(Group {
                    id: id.to_ascii_lowercase(),
                    on_premises_sync_behavior: Some(
                        crate::bundle::tenant::OnPremisesSyncBehavior {
                            is_cloud_managed: Some(b),
                        },
                    ),
                    ..Group::default()
                }),
                (None, _) => cx.note(
                    "invalid-record",
                    format!("{place}.id"),
                    format!(
                        "onPremisesSyncBehavior record: id {}; skipped",
                        ids::guid_problem(&id).unwrap_or_default()
                    ),
                ),
                (Some(_), None) => cx.note(
                    cx.lost,
                    format!("{place}.isCloudManaged"),
                    format!(
                        "group {id}: isCloudManaged is not true or false; its state is left unknown"
                    ),
                ),
            }
        } else if m.contains_key("id")
            && [
                "groupTypes",
                "securityEnabled",
                "mailEnabled",
                "writebackConfiguration",
            ]
            .iter()
            .any(|k| m.contains_key(*k))
        {
            if !m.contains_key("writebackConfiguration") {
                without_wb += 1;
            }
            match group(cx, &place, m, sdk_shape) {
                Some(g) => groups.push(g),
                None => incomplete = true,
            }
        }
    }
    if !behaviors.is_empty() && groups.is_empty() && settings.is_empty() && skus.is_empty() {
        f.tenant.groups = Some(behaviors);
        f.recognized_as = crate::bundle::SYNC_BEHAVIOR_EXPORT.into();
        return;
    }
    let mut names = Vec::new();
    if !groups.is_empty() || (incomplete && settings.is_empty() && skus.is_empty()) {
        names.push("Get-MgBetaGroup");
        f.tenant.groups = Some(groups);
    }
    if !settings.is_empty() {
        names.push("Get-MgBetaDirectorySetting");
        f.tenant.settings = Some(settings);
    }
    if !skus.is_empty() {
        names.push("Get-MgSubscribedSku");
        f.tenant.subscribed_skus = Some(skus);
    }
    if without_wb > 0 {
        cx.note(
            "missing-property",
            "",
            format!(
                "{without_wb} group(s) have no writebackConfiguration property (v1.0 / Get-MgGroup exports do not carry it), so \
                 their writeback state is unknown; re-export with Get-MgBetaGroup -Property id,displayName,groupTypes,\
                 mailEnabled,securityEnabled,writebackConfiguration"
            ),
        );
        incomplete = true;
    }
    if incomplete {
        f.tenant.incomplete_sections.push("groups".into());
    }
    if !names.is_empty() {
        f.recognized_as = names.join("+");
    }
}

/// `sdk_shape`: the record came from a Graph PowerShell SDK object, whose navigation
/// collections read `[]` when they were never requested.
fn group(
    cx: &mut Ctx<'_>,
    place: &str,
    mut m: Map<String, Value>,
    sdk_shape: bool,
) -> Option<Group> {
    let id = m
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if ids::parse_guid(&id).is_none() {
        cx.note(
            "invalid-record",
            format!("{place}.id"),
            format!(
                "group id {}; group skipped",
                ids::guid_problem(&id).unwrap_or_default()
            ),
        );
        return None;
    }
    if !m.contains_key("groupTypes") {
        // Without groupTypes a Microsoft 365 group looks like a distribution group.
        cx.note(
            "missing-property",
            format!("{place}.groupTypes"),
            format!("group {id}: the export has no groupTypes, so the kind of group is unknown; group left out (add groupTypes to -Property / $select)"),
        );
        return None;
    }
    for key in ["writebackConfiguration", "groupTypes", "proxyAddresses"] {
        if let Some(Value::String(s)) = m.get(key)
            && is_lost_marker(s)
        {
            cx.note(
                cx.lost,
                format!("{place}.{key}"),
                format!("group {id}: {key} was not serialised ({s:?}); the group is left out rather than guessed — re-export with ConvertTo-Json -Depth 10"),
            );
            return None;
        }
    }
    if let Some(Value::Object(wb)) = m.get("writebackConfiguration")
        && wb.values().any(|v| v.as_str().is_some_and(is_lost_marker))
    {
        cx.note(
            cx.lost,
            format!("{place}.writebackConfiguration"),
            format!("group {id}: writebackConfiguration was truncated; group left out"),
        );
        return None;
    }
    // Written properties the export did not carry are unknown, not empty.
    let unknown: Vec<Value> = crate::core::desired::WRITTEN_PROPERTIES
        .iter()
        .filter(|(k, _)| !m.contains_key(*k))
        .map(|(k, _)| Value::String((*k).into()))
        .collect();
    if !unknown.is_empty() {
        m.insert("@gwb.unknownProperties".into(), Value::Array(unknown));
    }
    // Lists that arrive as text (CSV, Format-List, depth-joined arrays).
    for key in ["groupTypes", "proxyAddresses"] {
        if let Some(Value::String(s)) = m.get(key) {
            let text = s.trim().trim_start_matches('{').trim_end_matches('}');
            let items: Vec<Value> = text
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|x| !x.is_empty())
                .map(|x| Value::String(x.into()))
                .collect();
            m.insert(key.into(), Value::Array(items));
        } else if m.get(key).is_some_and(Value::is_null) {
            m.insert(key.into(), Value::Array(Vec::new()));
        }
    }
    let mut members_lost = false;
    if sdk_shape
        && m.get("members")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
    {
        // Cannot tell "no members" from "members not requested": treat as not collected.
        m.insert("members".into(), Value::Null);
    }
    match m.get("members") {
        Some(Value::String(s)) => {
            members_lost = true;
            if !is_lost_marker(s) {
                cx.note(
                    "lost-data",
                    format!("{place}.members"),
                    format!(
                        "group {id}: members is text, not a list; members treated as not collected"
                    ),
                );
            } else {
                cx.note(
                    cx.lost,
                    format!("{place}.members"),
                    format!("group {id}: members were not serialised; members treated as not collected (re-export with -Depth 10)"),
                );
            }
        }
        Some(Value::Array(items)) => {
            let mut bad = items.iter().any(|i| !i.is_object());
            for it in items.iter().filter_map(Value::as_object) {
                if it.values().any(|v| v.as_str().is_some_and(is_lost_marker))
                    && !it.contains_key("@odata.type")
                {
                    bad = true;
                }
            }
            if bad {
                members_lost = true;
                cx.note(
                    cx.lost,
                    format!("{place}.members"),
                    format!("group {id}: member objects were truncated; members treated as not collected (re-export with -Depth 10)"),
                );
            }
        }
        _ => {}
    }
    if members_lost {
        m.insert("members".into(), Value::Null);
    }
    let member_without_id = m
        .get("members")
        .and_then(Value::as_array)
        .is_some_and(|items| {
            items.iter().any(|i| {
                // The same id rule as tenant.json (ids::parse_guid).
                i.get("id")
                    .and_then(Value::as_str)
                    .is_none_or(|s| ids::parse_guid(s).is_none())
            })
        });
    if member_without_id {
        cx.note(
            "invalid-record",
            format!("{place}.members"),
            format!(
                "group {id}: a member has no valid id (a GUID); members treated as not collected"
            ),
        );
        m.insert("members".into(), Value::Null);
    }
    match serde_json::from_value::<Group>(Value::Object(m)) {
        Ok(g) => Some(g),
        Err(e) => {
            cx.note(
                "invalid-record",
                place.to_string(),
                format!("group {id} skipped: {e}"),
            );
            None
        }
    }
}

/// `GroupScope`/`GroupCategory` (names or enum numbers) to AD's `groupType`.
pub fn group_type(scope: &Value, category: Option<&Value>) -> Option<i32> {
    let scope_bits: u32 = match scope {
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "domainlocal" => 0x4,
            "global" => 0x2,
            "universal" => 0x8,
            _ => return None,
        },
        Value::Number(n) => match n.as_i64()? {
            0 => 0x4,
            1 => 0x2,
            2 => 0x8,
            _ => return None,
        },
        _ => return None,
    };
    let security = match category? {
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "security" => true,
            "distribution" => false,
            _ => return None,
        },
        Value::Number(n) => match n.as_i64()? {
            1 => true,
            0 => false,
            _ => return None,
        },
        _ => return None,
    };
    Some((scope_bits | if security { 0x8000_0000 } else { 0 }) as i32)
}

/// Get-ADDomain's `DomainMode` (name or enum number) to `msDS-Behavior-Version`.
pub fn domain_mode(v: &Value) -> Option<i64> {
    const MODES: [(&str, i64); 9] = [
        ("Windows2000Domain", 0),
        ("Windows2003InterimDomain", 1),
        ("Windows2003Domain", 2),
        ("Windows2008Domain", 3),
        ("Windows2008R2Domain", 4),
        ("Windows2012Domain", 5),
        ("Windows2012R2Domain", 6),
        ("Windows2016Domain", 7),
        ("Windows2025Domain", 10),
    ];
    match v {
        Value::String(s) => MODES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s.trim()))
            .map(|(_, l)| *l),
        Value::Number(n) => n.as_i64().filter(|l| MODES.iter().any(|(_, m)| m == l)),
        _ => None,
    }
}

const SKIP_AD: [&str; 11] = [
    "domainmode",
    "distinguishedname",
    "objectclass",
    "propertynames",
    "addedproperties",
    "removedproperties",
    "modifiedproperties",
    "propertycount",
    "groupscope",
    "groupcategory",
    "pscomputername",
];

fn ad_name(k: &str) -> String {
    match k.to_ascii_lowercase().as_str() {
        "samaccountname" => "sAMAccountName".into(),
        "members" | "member" => "member".into(),
        "memberof" => "memberOf".into(),
        "sid" | "objectsid" => "objectSid".into(),
        "objectguid" => "objectGUID".into(),
        // Get-ADOptionalFeature shows msDS-EnabledFeatureBL as EnabledScopes.
        "enabledscopes" => "msDS-EnabledFeatureBL".into(),
        _ if k.chars().all(|c| !c.is_ascii_lowercase()) => k.to_ascii_lowercase(),
        _ => camel(k),
    }
}

/// Get-ADObject / Get-ADGroup records to LDIF-shaped entries.
fn ad_objects(cx: &mut Ctx<'_>, objects: &Objects<'_>) -> (crate::ad::ldif::Entries, bool) {
    let mut entries = crate::ad::ldif::Entries::default();
    let mut all_groups = true;
    for (i, o) in objects.iter().enumerate() {
        let place = format!("$[{i}]");
        let Some(dn) = get(&o, "DistinguishedName").and_then(Value::as_str) else {
            cx.note(
                "invalid-record",
                place,
                "object without a DistinguishedName skipped",
            );
            continue;
        };
        if let Err(e) = Dn::parse(dn) {
            cx.note(
                "invalid-record",
                format!("{place}.DistinguishedName"),
                format!("{dn:?} is not a DN ({e}); object skipped"),
            );
            continue;
        }
        let mut e = Entry::new(dn);
        e.line = i + 1;
        let scope = get(&o, "GroupScope");
        let mut classes: Vec<String> = match get(&o, "ObjectClass") {
            Some(Value::String(s)) if !is_lost_marker(s) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        if classes.is_empty() && scope.is_some() {
            classes.push("group".into());
        }
        if !classes.iter().any(|c| c.eq_ignore_ascii_case("top")) && !classes.is_empty() {
            classes.insert(0, "top".into());
        }
        for c in &classes {
            e.push("objectClass", c.as_bytes().to_vec());
        }
        let is_group = classes.iter().any(|c| c.eq_ignore_ascii_case("group"));
        all_groups &= is_group;
        let mut lost: Vec<String> = Vec::new();
        for (k, v) in o.iter() {
            let lk = k.to_ascii_lowercase();
            if SKIP_AD.contains(&lk.as_str()) || lk == "runspaceid" || lk == "psshowcomputername" {
                continue;
            }
            let name = ad_name(k);
            let values: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                Value::Null => continue,
                other => vec![other],
            };
            for val in values {
                let bytes: Option<Vec<u8>> = match (name.as_str(), val) {
                    ("objectGUID", v) => {
                        let s = v
                            .as_str()
                            .map(str::to_string)
                            .or_else(|| v.get("Guid").and_then(Value::as_str).map(str::to_string));
                        match s.as_deref().and_then(ids::parse_guid) {
                            Some(g) => Some(ids::guid_to_bytes(&g).to_vec()),
                            None => {
                                cx.note(
                                    "invalid-value",
                                    format!("{place}.{k}"),
                                    format!("{v} is not a GUID; objectGUID left out"),
                                );
                                None
                            }
                        }
                    }
                    ("objectSid", v) => {
                        let s = match v {
                            Value::String(s) => Some(s.clone()),
                            Value::Object(m) => {
                                get(m, "Value").and_then(Value::as_str).map(str::to_string)
                            }
                            _ => None,
                        };
                        match s.as_deref().and_then(ids::sid_to_bytes) {
                            Some(b) => Some(b),
                            None => {
                                cx.note(
                                    "invalid-value",
                                    format!("{place}.{k}"),
                                    "not a SID; objectSid left out".to_string(),
                                );
                                None
                            }
                        }
                    }
                    (_, Value::String(s)) if is_lost_marker(s) => {
                        lost.push(name.clone());
                        None
                    }
                    (_, Value::Bool(b)) => Some(if *b {
                        b"TRUE".to_vec()
                    } else {
                        b"FALSE".to_vec()
                    }),
                    (_, Value::Number(n)) => Some(n.to_string().into_bytes()),
                    (_, Value::String(s)) => Some(s.clone().into_bytes()),
                    _ => None,
                };
                if let Some(b) = bytes {
                    e.push(&name, b);
                }
            }
        }
        let is_domain = classes.iter().any(|c| c.eq_ignore_ascii_case("domainDNS"));
        if is_domain
            && !e.has("msDS-Behavior-Version")
            && let Some(mode) = get(&o, "DomainMode")
        {
            match domain_mode(mode) {
                Some(level) => e.push("msDS-Behavior-Version", level.to_string().into_bytes()),
                None => cx.note(
                    "invalid-value",
                    format!("{place}.DomainMode"),
                    format!("DomainMode {mode} is not a known domain functional level"),
                ),
            }
        }
        if is_group && !e.has("groupType") {
            match scope.and_then(|s| group_type(s, get(&o, "GroupCategory"))) {
                Some(gt) => e.push("groupType", gt.to_string().into_bytes()),
                None => cx.note(
                    "lost-data",
                    place.clone(),
                    format!("group {dn}: GroupScope/GroupCategory missing or unknown, so its groupType is unknown"),
                ),
            }
        }
        // The Recycle Bin fact is read from the presence of its back-link: if the export lost
        // the value, leaving the object in would claim "disabled".
        if dn
            .to_ascii_lowercase()
            .starts_with("cn=recycle bin feature,")
            && lost.iter().any(|l| l == "msDS-EnabledFeatureBL")
        {
            cx.note(
                "lost-data",
                format!("{place}.EnabledScopes"),
                "the Recycle Bin feature's EnabledScopes were not exported as values; the feature state is left unknown \
                 (export with ConvertTo-Json -Depth 4)",
            );
            continue;
        }
        entries.push(&e);
    }
    entries.shrink_to_fit();
    let any = !entries.is_empty();
    (entries, all_groups && any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn group_type_numbers() {
        let s = |x: &str| Value::String(x.into());
        assert_eq!(
            group_type(&s("Universal"), Some(&s("Security"))),
            Some(-2147483640)
        );
        assert_eq!(
            group_type(&s("Universal"), Some(&s("Distribution"))),
            Some(8)
        );
        assert_eq!(
            group_type(&s("Global"), Some(&s("Security"))),
            Some(-2147483646)
        );
        assert_eq!(
            group_type(&s("DomainLocal"), Some(&s("Security"))),
            Some(-2147483644)
        );
        assert_eq!(group_type(&json!(2), Some(&json!(1))), Some(-2147483640));
        assert_eq!(group_type(&json!(1), Some(&json!(0))), Some(2));
        assert_eq!(group_type(&s("Universal"), None), None);
    }

    #[test]
    fn domain_and_recycle_bin_from_ad_module_cmdlets() {
        let dom = json!({"DistinguishedName": "DC=contoso,DC=com", "ObjectClass": "domainDNS", "DomainMode": "Windows2016Domain",
                         "DNSRoot": "contoso.com", "ObjectGUID": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"});
        let rb = json!({"DistinguishedName": "CN=Recycle Bin Feature,CN=Optional Features,CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,DC=contoso,DC=com",
                        "ObjectClass": "msDS-OptionalFeature", "Name": "Recycle Bin Feature",
                        "EnabledScopes": ["CN=Partitions,CN=Configuration,DC=contoso,DC=com", "CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=contoso,DC=com"]});
        let f = recognize(Path::new("ad.json"), &[dom, rb]);
        assert_eq!(f.recognized_as, "Get-ADObject");
        let snap = crate::ad::AdSnapshot::from_entry_list(&f.ad_entries).unwrap();
        assert_eq!(snap.domain_functional_level, Some(7));
        assert!(snap.domain.is_some());
        assert_eq!(snap.recycle_bin_enabled, Some(true));
        assert_eq!(domain_mode(&json!(10)), Some(10));
        let lost = json!({"DistinguishedName": "CN=Recycle Bin Feature,CN=Optional Features,CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,DC=contoso,DC=com",
                          "ObjectClass": "msDS-OptionalFeature", "EnabledScopes": "Microsoft.ActiveDirectory.Management.ADPropertyValueCollection"});
        let f = recognize(Path::new("rb.csv"), &[lost]);
        let snap = crate::ad::AdSnapshot::from_entry_list(&f.ad_entries).unwrap();
        assert_eq!(snap.recycle_bin_enabled, None);
        assert!(f.quality.iter().any(|q| q.code == "lost-data"));
        assert_eq!(domain_mode(&json!("Windows9000Domain")), None);
    }

    #[test]
    fn sdk_groups_become_graph_groups() {
        let rec = json!({
            "Id": "0f8e9a1c-1111-4222-8333-944455556666", "DisplayName": "Sales", "GroupTypes": ["Unified"],
            "MailEnabled": true, "SecurityEnabled": false,
            "WritebackConfiguration": {"IsEnabled": null, "OnPremisesGroupType": "universalDistributionGroup"},
            "Members": [{"Id": "5d2b7c1e-2222-4333-8444-955566667777", "AdditionalProperties": {"@odata.type": "#microsoft.graph.user", "onPremisesSyncEnabled": true}}],
            "AdditionalProperties": {"extra": 1}
        });
        let f = recognize(Path::new("g.json"), &[rec]);
        assert_eq!(f.recognized_as, "Get-MgBetaGroup");
        let g = &f.tenant.groups.as_ref().unwrap()[0];
        assert!(g.is_unified());
        assert_eq!(
            g.writeback_configuration
                .as_ref()
                .unwrap()
                .on_premises_group_type
                .as_deref(),
            Some("universalDistributionGroup")
        );
        let m = &g.members.as_ref().unwrap()[0];
        assert_eq!(m.member_type(), crate::bundle::tenant::MemberType::User);
        assert_eq!(m.on_premises_sync_enabled, Some(true));
    }

    #[test]
    fn joined_lists_from_csv_are_split() {
        let rec = json!({"Id": "0f8e9a1c-1111-4222-8333-944455556666", "GroupTypes": "Unified;DynamicMembership", "SecurityEnabled": "False",
                         "MailEnabled": "True", "ProxyAddresses": "SMTP:a@contoso.com;smtp:b@contoso.com", "WritebackConfiguration": null});
        let f = recognize_with(Path::new("g.csv"), &[rec], "lost-data");
        let g = &f.tenant.groups.as_ref().unwrap()[0];
        assert!(g.is_unified() && g.is_dynamic());
        assert_eq!(
            g.proxy_addresses,
            ["SMTP:a@contoso.com", "smtp:b@contoso.com"]
        );
        assert_eq!(g.security_enabled, Some(false));
    }

    #[test]
    fn groups_without_group_types_or_member_ids_are_not_guessed() {
        let no_types = json!({"id": "0f8e9a1c-1111-4222-8333-944455556666", "mailEnabled": true, "securityEnabled": false,
                              "writebackConfiguration": {"isEnabled": null}});
        let f = recognize(Path::new("g.json"), &[no_types]);
        assert_eq!(f.tenant.groups.as_ref().map(Vec::len), Some(0));
        assert!(
            f.quality
                .iter()
                .any(|q| q.code == "missing-property" && q.place == "$[0].groupTypes")
        );
        let bad_member = json!({"id": "0f8e9a1c-1111-4222-8333-944455556666", "groupTypes": [], "securityEnabled": true,
                                "writebackConfiguration": {"isEnabled": true}, "members": [{"id": "u1"}, {"displayName": "no id"}]});
        let f = recognize(Path::new("g.json"), &[bad_member]);
        assert!(f.tenant.groups.as_ref().unwrap()[0].members.is_none());
    }

    #[test]
    fn truncated_writeback_configuration_drops_the_group() {
        let rec = json!({"id": "0f8e9a1c-1111-4222-8333-944455556666", "groupTypes": ["Unified"],
                         "writebackConfiguration": "Microsoft.Graph.PowerShell.Models.MicrosoftGraphGroupWritebackConfiguration"});
        let f = recognize(Path::new("g.json"), &[rec]);
        assert_eq!(f.tenant.groups.as_ref().map(Vec::len), Some(0));
        assert!(f.quality.iter().any(|q| q.code == "depth-truncated"));
        assert_eq!(f.tenant.incomplete_sections, ["groups"]);
    }

    #[test]
    fn groups_without_writeback_configuration_are_flagged() {
        let rec = json!({"id": "0f8e9a1c-1111-4222-8333-944455556666", "groupTypes": ["Unified"], "securityEnabled": false});
        let f = recognize(Path::new("v1.json"), &[rec]);
        assert_eq!(f.tenant.groups.as_ref().map(Vec::len), Some(1));
        assert_eq!(f.tenant.incomplete_sections, ["groups"]);
        assert!(
            f.quality
                .iter()
                .any(|q| q.code == "missing-property" && q.message.contains("Get-MgBetaGroup"))
        );
    }

    #[test]
    fn global_settings_in_every_shape() {
        let list = json!({"Parameters": [{"Name": "Microsoft.Synchronize.ServerConfigurationVersion", "Value": "2.4.18.0"},
                                         {"Name": "Microsoft.OptionalFeature.GroupWriteBack", "Value": "True"},
                                         {"Name": "Microsoft.DeviceWriteBack.Container", "Value": "OU=Devices,DC=contoso,DC=com"},
                                         {"Name": "Microsoft.GroupWriteBack.Container", "Value": "OU=GWB,DC=contoso,DC=com"}]});
        let dict = json!({"Parameters": {"Microsoft.Synchronize.ServerConfigurationVersion": {"Name": "Microsoft.Synchronize.ServerConfigurationVersion", "Value": "2.4.18.0"},
                                         "Microsoft.OptionalFeature.GroupWriteBack": "True",
                                         "Microsoft.GroupWriteBack.Container": "OU=GWB,DC=contoso,DC=com"}});
        let keyed = json!({"Microsoft.Synchronize.ServerConfigurationVersion": "2.4.18.0", "Microsoft.OptionalFeature.GroupWriteBack": "True",
                           "Microsoft.DeviceWriteBack.Container": null, "Microsoft.GroupWriteBack.Container": "OU=GWB,DC=contoso,DC=com"});
        for rec in [list, dict, keyed] {
            let f = recognize(Path::new("gs"), &[rec]);
            assert_eq!(f.recognized_as, "Get-ADSyncGlobalSettings");
            assert_eq!(f.connect.server_version.as_deref(), Some("2.4.18.0"));
            assert_eq!(f.connect.group_writeback_optional_feature, Some(true));
            assert_eq!(
                f.connect.writeback_container.as_deref(),
                Some("OU=GWB,DC=contoso,DC=com")
            );
        }
        let lost = recognize(
            Path::new("gs"),
            &[
                json!({"SqlSchemaVersion": "616", "Parameters": "@{Microsoft.Synchronize....}", "Version": "22102"}),
            ],
        );
        assert_eq!(lost.recognized_as, "Get-ADSyncGlobalSettings");
        assert!(lost.connect.is_empty());
        assert!(lost.quality.iter().any(|q| q.code == "depth-truncated"));
    }

    #[test]
    fn dirsync_features_and_bare_setting_values() {
        let rows = [
            json!({"Enabled": "True", "DirSyncFeature": "UnifiedGroupWriteback"}),
            json!({"Enabled": "False", "DirSyncFeature": "DuplicateUPNResiliency"}),
            json!({"Enabled": false, "DirSyncFeature": "DeviceWriteback"}),
        ];
        let f = recognize(Path::new("t.txt"), &rows);
        assert_eq!(f.recognized_as, "Get-EntraDirSyncFeature");
        let s = f.tenant.on_premises_synchronization.unwrap();
        assert_eq!(s.feature("unifiedGroupWritebackEnabled"), Some(true));
        assert_eq!(s.feature("quarantineUponUpnConflictEnabled"), Some(false));
        assert_eq!(s.feature("deviceWritebackEnabled"), Some(false));

        let rows = [
            json!({"Name": "NewUnifiedGroupWritebackDefault", "Value": "false"}),
            json!({"Name": "EnableMIPLabels", "Value": null}),
        ];
        let f = recognize(Path::new("t.txt"), &rows);
        assert_eq!(f.recognized_as, "Get-MgBetaDirectorySetting");
        let set = &f.tenant.settings.unwrap()[0];
        assert_eq!(
            set.template_id.as_deref(),
            Some("62375ab9-6b52-47ed-826b-58e47e0e304b")
        );
        assert_eq!(set.values[0].value.as_deref(), Some("false"));
        assert!(f.quality.iter().any(|q| q.code == "assumed"));
    }

    #[test]
    fn company_features_from_strings() {
        let f = recognize(
            Path::new("f.txt"),
            &[json!({"UnifiedGroupWriteback": "True", "GroupWritebackV2": "False", "Other": "x"})],
        );
        assert_eq!(f.recognized_as, "Get-ADSyncAADCompanyFeature");
        assert_eq!(f.connect.feature("unifiedgroupwriteback"), Some(true));
        assert_eq!(f.connect.feature("GroupWritebackV2"), Some(false));
        let f = recognize(
            Path::new("f.json"),
            &[json!({"UnifiedGroupWriteback": "System.Object[]", "GroupWritebackV2": true})],
        );
        assert_eq!(f.connect.feature("UnifiedGroupWriteback"), None);
        assert!(
            f.quality
                .iter()
                .any(|q| q.code == "invalid-value" && q.place == "$.UnifiedGroupWriteback")
        );
    }

    #[test]
    fn ad_group_record_becomes_an_ldif_entry() {
        let rec = json!({"DistinguishedName": "CN=Sales,OU=GWB,DC=contoso,DC=com", "GroupScope": "Universal", "GroupCategory": "Security",
                         "ObjectClass": "group", "ObjectGUID": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
                         "SID": {"BinaryLength": 28, "Value": "S-1-5-21-1-2-3-1105"}, "SamAccountName": "Sales",
                         "adminDescription": "Group_0f8e9a1c-1111-4222-8333-944455556666", "PropertyNames": ["x"]});
        let f = recognize(Path::new("g.json"), &[rec]);
        assert_eq!(f.recognized_as, "Get-ADGroup");
        let e = &f.ad_entries.get(0).unwrap();
        assert_eq!(e.texts("objectClass"), ["top", "group"]);
        assert_eq!(e.text("groupType"), Some("-2147483640"));
        assert_eq!(e.text("sAMAccountName"), Some("Sales"));
        assert_eq!(e.first("objectGUID").map(<[u8]>::len), Some(16));
        assert_eq!(
            e.first("objectSid")
                .and_then(ids::sid_from_bytes)
                .as_deref(),
            Some("S-1-5-21-1-2-3-1105")
        );
        assert!(!e.has("PropertyNames") && !e.has("propertyNames"));
        let snap = crate::ad::AdSnapshot::from_entry_list(&f.ad_entries).unwrap();
        assert!(snap.objects[0].cloud_anchor().is_some());
    }
}
