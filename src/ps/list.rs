//! Console text (what an admin copies from the console or `Out-File`s): `Format-List`
//! (`Name<padding> : Value` lines, one block per object, blank lines between objects,
//! wrapped values continued on indented lines) and `Format-Table` (a header row, a row of
//! dashes marking the columns, one row per object).

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

/// Is this `Format-Table` output (header, dashes, rows)?
pub fn looks_like_table(text: &str) -> bool {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let (Some(header), Some(rule)) = (lines.next(), lines.next()) else {
        return false;
    };
    is_rule(rule)
        && !header.trim().is_empty()
        && column_spans(rule).len() == header.split_whitespace().count()
}

fn is_rule(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && t.chars().all(|c| c == '-' || c == ' ') && t.contains('-')
}

/// Character spans of each dash run; each column runs to the start of the next.
fn column_spans(rule: &str) -> Vec<(usize, usize)> {
    let chars: Vec<char> = rule.chars().collect();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '-' {
            let start = i;
            while i < chars.len() && chars[i] == '-' {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

/// Parse `Format-Table` text into one object per row (values are strings, empty is null),
/// plus `(place, message)` notes for cells PowerShell cut short with `...`, which are left
/// null. Cells are cut at the column boundaries the dash row marks; a row whose text
/// overruns a boundary but splits into exactly one word per column is split on whitespace.
pub fn parse_table(text: &str) -> (Vec<Value>, Vec<(String, String)>) {
    let mut notes = Vec::new();
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (Some((_, header)), Some((_, rule))) = (lines.next(), lines.next()) else {
        return (Vec::new(), notes);
    };
    let spans = column_spans(rule);
    let cut = |line: &str| -> Vec<String> {
        let chars: Vec<char> = line.chars().collect();
        let straddles = spans.iter().skip(1).any(|(start, _)| {
            *start > 0
                && chars.get(start - 1).is_some_and(|c| !c.is_whitespace())
                && chars.get(*start).is_some_and(|c| !c.is_whitespace())
        });
        let words: Vec<&str> = line.split_whitespace().collect();
        if straddles && words.len() == spans.len() {
            return words.into_iter().map(str::to_string).collect();
        }
        spans
            .iter()
            .enumerate()
            .map(|(i, (start, _))| {
                let from = (*start).min(chars.len());
                let to = spans
                    .get(i + 1)
                    .map_or(chars.len(), |n| n.0)
                    .min(chars.len())
                    .max(from);
                chars[from..to]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string()
            })
            .collect()
    };
    let names = cut(header);
    let mut rows = Vec::new();
    for (idx, l) in lines.filter(|(_, l)| !is_rule(l)) {
        let cells = cut(l);
        let mut m = Map::new();
        for (n, c) in names.iter().zip(cells) {
            let v = if c.is_empty() {
                Value::Null
            } else if c.ends_with("...") || c.ends_with('\u{2026}') {
                notes.push((
                    format!("line {} column {n}", idx + 1),
                    format!("value {c:?} was cut short by Format-Table; export with ConvertTo-Json or Format-List instead"),
                ));
                Value::Null
            } else {
                Value::String(c)
            };
            m.insert(n.clone(), v);
        }
        rows.push(Value::Object(m));
    }
    (rows, notes)
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

    #[test]
    fn format_table_text() {
        let t = "\nName                                         Value\n----                                         -----\nMicrosoft.Synchronize.ServerConfigurationVersion 2.4.18.0\nMicrosoft.OptionalFeature.GroupWriteBack     True\nEmpty\nMicrosoft.OptionalFeature.Hybri...            False\n";
        assert!(looks_like_table(t));
        let (v, notes) = parse_table(t);
        assert_eq!(v.len(), 4);
        assert_eq!(
            v[1],
            json!({"Name": "Microsoft.OptionalFeature.GroupWriteBack", "Value": "True"})
        );
        assert_eq!(v[2], json!({"Name": "Empty", "Value": null}));
        // A value overrunning its column, one word per column: split on whitespace.
        assert_eq!(
            v[0],
            json!({"Name": "Microsoft.Synchronize.ServerConfigurationVersion", "Value": "2.4.18.0"})
        );
        // Truncated by Format-Table: lost, and said so.
        assert_eq!(v[3], json!({"Name": null, "Value": "False"}));
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].0, "line 7 column Name");
        assert!(!looks_like_table("a : b\nc : d"));
        assert_eq!(parse_table("x\n--\né").0.len(), 1);
    }
}
