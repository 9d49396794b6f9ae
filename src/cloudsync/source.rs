//! A group's attributes under the provisioning engine's names, read from a bundle's
//! `tenant.json` as Graph wrote it (so directory extensions such as
//! `extension_<appId>_GroupDN` are kept): `objectId` is Graph's `id`, `dirSyncEnabled` is
//! `onPremisesSyncEnabled` being true, every other property keeps its Graph name.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use crate::error::InputError;
use crate::expr::{Source, Value};

/// One group as Graph gave it.
#[derive(Debug, Clone, Default)]
pub struct GroupAttributes {
    pub props: serde_json::Map<String, serde_json::Value>,
}

impl GroupAttributes {
    pub fn id(&self) -> &str {
        self.props.get("id").and_then(|v| v.as_str()).unwrap_or("")
    }
    pub fn display_name(&self) -> &str {
        self.props
            .get("displayName")
            .and_then(|v| v.as_str())
            .unwrap_or("")
    }
}

/// Engine attribute names that are not Graph property names.
pub const DERIVED: &[(&str, &str)] = &[
    ("objectId", "id"),
    ("dirSyncEnabled", "onPremisesSyncEnabled"),
];

impl Source for GroupAttributes {
    fn attribute(&self, name: &str) -> Value {
        match name {
            "objectId" => self
                .props
                .get("id")
                .and_then(|v| v.as_str())
                .map(|s| Value::Str(s.to_string()))
                .unwrap_or(Value::Null),
            // A cloud group reads onPremisesSyncEnabled null; only true means synced from AD.
            "dirSyncEnabled" => Value::Bool(
                self.props
                    .get("onPremisesSyncEnabled")
                    .and_then(|v| v.as_bool())
                    == Some(true),
            ),
            // A reference, resolved against AD; never a value an expression compares.
            "members" => Value::Null,
            _ => json_value(self.props.get(name)),
        }
    }
}

/// A Graph property value as the expression engine sees it.
pub fn json_value(v: Option<&serde_json::Value>) -> Value {
    match v {
        None | Some(serde_json::Value::Null) => Value::Null,
        Some(serde_json::Value::String(s)) => Value::Str(s.clone()),
        Some(serde_json::Value::Bool(b)) => Value::Bool(*b),
        Some(serde_json::Value::Number(n)) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Str(n.to_string()),
        },
        Some(serde_json::Value::Array(a)) => Value::Multi(
            a.iter()
                .filter_map(|v| match v {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Null | serde_json::Value::Object(_) => None,
                    other => Some(other.to_string()),
                })
                .collect(),
        ),
        Some(serde_json::Value::Object(_)) => Value::Null,
    }
}

#[derive(Deserialize)]
struct TenantGroups {
    #[serde(default)]
    groups: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
}

/// The groups of a bundle's tenant.json, and every property name any of them carries.
pub fn load_groups(bundle: &Path) -> Result<(Vec<GroupAttributes>, BTreeSet<String>), InputError> {
    let path = bundle.join("tenant.json");
    let text = crate::text::read_file(&path)?.text;
    let t: TenantGroups = crate::bundle::parse_json(&path, &text)?;
    let groups: Vec<GroupAttributes> = t
        .groups
        .unwrap_or_default()
        .into_iter()
        .map(|mut props| {
            props.remove("members");
            GroupAttributes { props }
        })
        .collect();
    let mut names: BTreeSet<String> = groups
        .iter()
        .flat_map(|g| g.props.keys().cloned())
        .collect();
    names.extend(DERIVED.iter().map(|(n, _)| n.to_string()));
    Ok((groups, names))
}
