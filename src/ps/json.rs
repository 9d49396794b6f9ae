//! `ConvertTo-Json` output from Windows PowerShell 5.1 and PowerShell 7: one object or an
//! array (or nothing at all for an empty pipeline), `\/Date(ms)\/` dates, 5.1's wrapped
//! arrays and dates, and the marker strings depth truncation leaves behind.

use std::path::Path;

use serde_json::{Map, Value};

use super::tree::{Node, Tree};
use crate::bundle::DataQuality;
use crate::error::InputError;

/// Parse exported JSON into top-level records. An empty file is an empty pipeline.
pub fn parse(file: &Path, text: &str) -> Result<Vec<Value>, InputError> {
    let t = text.trim_start_matches('\u{feff}').trim();
    if t.is_empty() {
        return Ok(Vec::new());
    }
    let mut v: Value = crate::bundle::parse_json(file, t)?;
    normalize_dates(&mut v);
    Ok(match v {
        // PowerShell 7 writes `null` for `$null | ConvertTo-Json`: an empty pipeline.
        Value::Null => Vec::new(),
        Value::Array(items) => items,
        // Windows PowerShell 5.1 wraps a PSObject-wrapped array as {"value": [...], "Count": n};
        // a Graph response page is {"@odata.context": ..., "value": [...]}.
        Value::Object(mut m) if is_wrapped_array(&m) => match m.remove("value") {
            Some(Value::Array(items)) => items,
            Some(other) => vec![other],
            None => Vec::new(),
        },
        other => vec![other],
    })
}

/// [`parse`] into a compact [`Tree`]: the same records (dates normalised, wrapped arrays
/// unwrapped, the same errors), without a `Value` tree of the whole file.
pub fn parse_tree(file: &Path, text: &str) -> Result<Tree, InputError> {
    let t = text.trim_start_matches('\u{feff}').trim();
    let mut tree = Tree::default();
    if t.is_empty() {
        return Ok(tree);
    }
    let mut root = match tree.parse_node(t) {
        Ok(n) => n,
        // The error with its place, as the `Value` reader names it.
        Err(_) => {
            let v: Value = crate::bundle::parse_json(file, t)?;
            tree.node_of(v)
        }
    };
    normalize_node_dates(&tree, &mut root);
    match root {
        Node::Null => {}
        Node::Array(items) => tree.set_records(items.into_vec()),
        Node::Object(props) if is_wrapped_node(&tree, &props) => {
            if let Some((_, Node::Array(items))) = props
                .into_vec()
                .into_iter()
                .find(|(k, _)| tree.name(*k) == "value")
            {
                tree.set_records(items.into_vec());
            }
        }
        other => tree.push(other),
    }
    Ok(tree)
}

/// [`is_wrapped_array`] of an object node.
fn is_wrapped_node(tree: &Tree, props: &[(u32, Node)]) -> bool {
    let value = props.iter().find(|(k, _)| tree.name(*k) == "value");
    if !matches!(value, Some((_, Node::Array(_)))) {
        return false;
    }
    props.iter().all(|(k, _)| {
        let k = tree.name(*k);
        k == "value" || k == "Count" || k.starts_with("@odata.")
    })
}

/// [`normalize_dates`] of a node.
fn normalize_node_dates(tree: &Tree, n: &mut Node) {
    match n {
        Node::Str(s) => {
            if let Some(iso) = ms_date(s) {
                *s = iso.into_boxed_str();
            }
        }
        Node::Array(items) => items.iter_mut().for_each(|i| normalize_node_dates(tree, i)),
        Node::Object(props) => {
            let has = |name: &str| props.iter().any(|(k, _)| tree.name(*k) == name);
            let date = if props.len() == 3 && has("DisplayHint") && has("DateTime") {
                match props.iter().find(|(k, _)| tree.name(*k) == "value") {
                    Some((_, Node::Str(s))) => ms_date(s),
                    _ => None,
                }
            } else {
                None
            };
            match date {
                Some(iso) => *n = Node::Str(iso.into_boxed_str()),
                None => props
                    .iter_mut()
                    .for_each(|(_, v)| normalize_node_dates(tree, v)),
            }
        }
        _ => {}
    }
}

fn is_wrapped_array(m: &Map<String, Value>) -> bool {
    if !matches!(m.get("value"), Some(Value::Array(_))) {
        return false;
    }
    m.keys()
        .all(|k| k == "value" || k == "Count" || k.starts_with("@odata."))
}

/// `\/Date(1745531629000)\/` (serde has already turned `\/` into `/`) to RFC 3339 UTC, and
/// 5.1's `{"value": "\/Date(…)\/", "DisplayHint": 2, "DateTime": "…"}` to that string.
pub fn normalize_dates(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Some(iso) = ms_date(s) {
                *s = iso;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_dates),
        Value::Object(m) => {
            if m.len() == 3
                && m.contains_key("DisplayHint")
                && m.contains_key("DateTime")
                && let Some(Value::String(s)) = m.get("value")
                && let Some(iso) = ms_date(s)
            {
                *v = Value::String(iso);
                return;
            }
            m.values_mut().for_each(normalize_dates);
        }
        _ => {}
    }
}

/// `/Date(ms)/` or `/Date(ms+hhmm)/` to RFC 3339 (UTC; the offset is display-only).
pub fn ms_date(s: &str) -> Option<String> {
    let inner = s.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let digits_end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(i, _)| i);
    let ms: i64 = inner.get(..digits_end)?.parse().ok()?;
    let rest = inner.get(digits_end..)?;
    let offset_ok = rest.len() == 5 && rest[1..].bytes().all(|b| b.is_ascii_digit());
    if !rest.is_empty() && !offset_ok {
        return None;
    }
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Is this string what ConvertTo-Json (or Export-Csv / Export-Clixml) writes in place of an
/// object or array it did not serialise?
pub fn is_lost_marker(s: &str) -> bool {
    let s = s.trim();
    if s.len() < 4 {
        return false;
    }
    if s.starts_with("@{") && s.ends_with('}') {
        return true;
    }
    for prefix in [
        "Microsoft.Graph.PowerShell.Models.",
        "Microsoft.ActiveDirectory.Management.",
        "Deserialized.",
        "Selected.",
    ] {
        if s.starts_with(prefix) && !s.contains(' ') {
            return true;
        }
    }
    if let Some(rest) = s.strip_prefix("System.") {
        let type_like = !rest.is_empty()
            && rest.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && rest.chars().all(|c| {
                c.is_alphanumeric() || matches!(c, '_' | '.' | '`' | '[' | ']' | ',' | ' ' | '+')
            });
        // A .NET type name, not a display name that happens to start with "System.":
        // generic or array syntax, a namespace path, or one of the common single-segment types.
        let dotnet = rest.contains(['[', '`'])
            || (rest.matches('.').count() >= 1 && !rest.contains(' '))
            || matches!(
                rest,
                "Object"
                    | "String"
                    | "Int32"
                    | "Int64"
                    | "Boolean"
                    | "DateTime"
                    | "Guid"
                    | "Byte"
                    | "Char"
            );
        return type_like && dotnet;
    }
    false
}

/// Walk records and report every marker string as lost data (`code`: `depth-truncated` for
/// JSON/CLIXML, `lost-data` for CSV). At most `limit` notes, then one summary note.
pub fn find_lost(records: &[Value], file: &Path, code: &str, limit: usize) -> Vec<DataQuality> {
    let mut hits = Vec::new();
    for (i, r) in records.iter().enumerate() {
        walk(r, &mut format!("[{i}]"), &mut hits, 0);
    }
    lost_notes(hits, file, code, limit)
}

/// [`find_lost`] over a tree's records (each made into a `Value` in turn).
pub fn find_lost_tree(tree: &Tree, file: &Path, code: &str, limit: usize) -> Vec<DataQuality> {
    let mut hits = Vec::new();
    for i in 0..tree.len() {
        if let Some(r) = tree.value(i) {
            walk(&r, &mut format!("[{i}]"), &mut hits, 0);
        }
    }
    lost_notes(hits, file, code, limit)
}

/// [`find_lost`] over a CSV table's rows, cell by cell (the same places and messages as
/// for the rows made into JSON objects).
pub fn find_lost_table(
    table: &super::csv::Table,
    file: &Path,
    code: &str,
    limit: usize,
) -> Vec<DataQuality> {
    let mut hits = Vec::new();
    for i in 0..table.len() {
        for (k, v) in table.row(i) {
            if let Some(s) = v
                && is_lost_marker(s)
                && !IGNORED.iter().any(|n| n.eq_ignore_ascii_case(k))
            {
                hits.push((format!("$[{i}].{k}"), s.to_string()));
            }
        }
    }
    lost_notes(hits, file, code, limit)
}

fn lost_notes(
    hits: Vec<(String, String)>,
    file: &Path,
    code: &str,
    limit: usize,
) -> Vec<DataQuality> {
    let total = hits.len();
    let mut out: Vec<DataQuality> = hits
        .into_iter()
        .take(limit)
        .map(|(place, val)| DataQuality {
            code: code.to_string(),
            file: file.display().to_string(),
            place: place.clone(),
            message: lost_message(code, &val),
        })
        .collect();
    if total > limit {
        out.push(DataQuality {
            code: code.to_string(),
            file: file.display().to_string(),
            place: String::new(),
            message: format!("{} more values were lost the same way", total - limit),
        });
    }
    out
}

fn lost_message(code: &str, val: &str) -> String {
    let shown: String = val.chars().take(80).collect();
    if code == "lost-data" {
        format!(
            "value {shown:?} is what Export-Csv writes for a list or object: the data is not in the file \
             (export with ConvertTo-Json -Depth 10, or expand the property with -join ';')"
        )
    } else {
        format!(
            "value {shown:?} stands in for an object or list the export did not serialise (the export was \
             truncated by -Depth); re-export with ConvertTo-Json -Depth 10 (or Export-Clixml -Depth 10)"
        )
    }
}

const IGNORED: [&str; 4] = [
    "PropertyNames",
    "AddedProperties",
    "RemovedProperties",
    "ModifiedProperties",
];

fn walk(v: &Value, path: &mut String, hits: &mut Vec<(String, String)>, depth: usize) {
    if depth > 200 {
        return;
    }
    match v {
        Value::String(s) if is_lost_marker(s) => hits.push((format!("${path}"), s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, hits, depth + 1);
                path.truncate(len);
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                // The AD module's bookkeeping properties: always type names in Export-Csv, never data.
                if depth == 0 && IGNORED.iter().any(|i| i.eq_ignore_ascii_case(k)) {
                    continue;
                }
                let len = path.len();
                path.push('.');
                path.push_str(k);
                walk(item, path, hits, depth + 1);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_object_array_empty_and_wrapped() {
        let f = Path::new("x.json");
        assert_eq!(parse(f, "").unwrap(), Vec::<Value>::new());
        assert_eq!(parse(f, "null").unwrap(), Vec::<Value>::new());
        assert_eq!(parse(f, "{\"a\":  1}").unwrap(), vec![json!({"a": 1})]);
        assert_eq!(parse(f, "[{\"a\":1},{\"a\":2}]").unwrap().len(), 2);
        assert_eq!(
            parse(f, "{\"value\": [{\"a\":1}], \"Count\": 1}").unwrap(),
            vec![json!({"a": 1})]
        );
        assert_eq!(
            parse(f, "{\"@odata.context\": \"x\", \"value\": []}").unwrap(),
            Vec::<Value>::new()
        );
        let e = parse(f, "{\"a\": 1e10000}").unwrap_err();
        assert!(e.place.starts_with("line 1"), "{e}");
        assert!(parse(f, &"[".repeat(100_000)).is_err());
    }

    #[test]
    fn dates_from_windows_powershell() {
        assert_eq!(
            ms_date("/Date(1745531629000)/").as_deref(),
            Some("2025-04-24T21:53:49Z")
        );
        assert_eq!(
            ms_date("/Date(0+0100)/").as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
        assert_eq!(
            ms_date("/Date(-1000)/").as_deref(),
            Some("1969-12-31T23:59:59Z")
        );
        assert_eq!(ms_date("/Date(x)/"), None);
        assert_eq!(ms_date("/Date(99999999999999999999)/"), None);
        let v = parse(
            Path::new("x"),
            r#"{"When": "\/Date(1745531629000)\/", "W2": {"value": "\/Date(0)\/", "DisplayHint": 2, "DateTime": "Thursday"}}"#,
        )
        .unwrap();
        assert_eq!(
            v[0],
            json!({"When": "2025-04-24T21:53:49Z", "W2": "1970-01-01T00:00:00Z"})
        );
    }

    #[test]
    fn truncation_markers() {
        for s in [
            "System.Collections.Hashtable",
            "System.Object[]",
            "@{IsEnabled=True; OnPremisesGroupType=}",
            "System.Collections.Generic.Dictionary`2[System.String,System.Object]",
            "Microsoft.Graph.PowerShell.Models.MicrosoftGraphGroupWritebackConfiguration",
        ] {
            assert!(is_lost_marker(s), "{s}");
        }
        for s in [
            "Sales",
            "System",
            "system.admins are great",
            "",
            "@{",
            "Systems Team",
        ] {
            assert!(!is_lost_marker(s), "{s}");
        }
        let q = find_lost(
            &[json!({"a": {"b": "System.Object[]"}})],
            Path::new("f"),
            "depth-truncated",
            10,
        );
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].place, "$[0].a.b");
        assert!(q[0].message.contains("-Depth"));
    }
}
