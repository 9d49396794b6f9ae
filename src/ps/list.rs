//! `Format-List` text (what an admin copies from the console or `Out-File`s):
//! `Name<padding> : Value` lines, one block per object, blank lines between objects,
//! wrapped values continued on indented lines.

use serde_json::{Map, Value};

/// Is most of this text `Name : Value` lines?
pub fn looks_like(text: &str) -> bool {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(50)
        .collect();
    if lines.is_empty() {
        return false;
    }
    let kv = lines.iter().filter(|l| split(l).is_some()).count();
    kv * 10 >= lines.len() * 7 && split(lines[0]).is_some()
}

fn split(line: &str) -> Option<(&str, &str)> {
    if line.starts_with(char::is_whitespace) {
        return None;
    }
    let idx = line
        .find(" : ")
        .map(|i| (i, 3))
        .or_else(|| line.strip_suffix(" :").map(|s| (s.len(), 2)))?;
    let key = line[..idx.0].trim_end();
    if key.is_empty() || key.contains('"') || key.contains(',') {
        return None;
    }
    Some((key, line.get(idx.0 + idx.1..).unwrap_or("").trim()))
}

/// Parse into one object per block. Values stay strings (`True`, `{a, b}` …) except that
/// an empty value is null.
pub fn parse(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cur = Map::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(Value::Object(std::mem::take(&mut cur)));
            }
            last = None;
            continue;
        }
        if let Some((k, v)) = split(line) {
            let v = if v.is_empty() {
                Value::Null
            } else {
                Value::String(v.to_string())
            };
            cur.insert(k.to_string(), v);
            last = Some(k.to_string());
        } else if let Some(k) = &last
            && let Some(slot) = cur.get_mut(k)
        {
            let more = line.trim();
            *slot = match slot.take() {
                Value::String(s) => Value::String(format!("{s}{more}")),
                _ => Value::String(more.to_string()),
            };
        }
    }
    if !cur.is_empty() {
        out.push(Value::Object(cur));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn company_feature_list() {
        let t = "\n\nPasswordHashSync           : True\nUnifiedGroupWriteback      : False\nNote                       : a very long\n                             value\nEmpty                      :\n\n\nOther : 1\n";
        assert!(looks_like(t));
        let v = parse(t);
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[0],
            json!({"PasswordHashSync": "True", "UnifiedGroupWriteback": "False", "Note": "a very longvalue", "Empty": null})
        );
        assert!(!looks_like("\"A\",\"B\"\n\"1\",\"2\""));
    }
}
