//! The OData query forms the simulator understands: `$select`, `$top`, `$filter` (the `eq`,
//! `ne`, `in` and `any()` forms gwb and Graph's documentation use), opaque paging tokens.

use base64::Engine;
use serde_json::{Map, Value};

/// Parsed query options of one request (`$` prefix optional, as on Graph).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: &str) -> Query {
        Query {
            pairs: url::form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.trim_start_matches('$').eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// `$select` as a list, `None` when absent.
    pub fn select(&self) -> Option<Vec<String>> {
        self.get("select").map(|s| {
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()
        })
    }
    /// The query string without the given options, re-encoded.
    pub fn encode_without(&self, drop: &[&str]) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            if !drop
                .iter()
                .any(|d| k.trim_start_matches('$').eq_ignore_ascii_case(d))
            {
                ser.append_pair(k, v);
            }
        }
        ser.finish()
    }
}

/// Keep `$select`ed properties (in the object's own order) plus the ones always returned.
pub fn project(obj: &Map<String, Value>, select: Option<&[String]>, always: &[&str]) -> Value {
    match select {
        None => Value::Object(obj.clone()),
        Some(sel) => {
            let mut out = Map::new();
            for (k, v) in obj {
                if always.contains(&k.as_str()) || sel.iter().any(|s| s.eq_ignore_ascii_case(k)) {
                    out.insert(k.clone(), v.clone());
                }
            }
            Value::Object(out)
        }
    }
}

/// Opaque paging tokens: base64url of a small JSON object.
pub fn encode_token(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

pub fn decode_token(s: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim())
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A `$filter` expression: terms joined by `and`/`or` (no parentheses beyond `any()`/`in`).
#[derive(Debug, Clone)]
pub struct Filter {
    /// Disjunction of conjunctions.
    any_of: Vec<Vec<Term>>,
}

#[derive(Debug, Clone)]
enum Term {
    Cmp {
        prop: String,
        negate: bool,
        value: Value,
    },
    In {
        prop: String,
        values: Vec<Value>,
    },
    AnyEq {
        prop: String,
        value: Value,
    },
}

fn literal(s: &str) -> Option<Value> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Some(Value::String(inner.replace("''", "'")));
    }
    match s {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        "null" => Some(Value::Null),
        _ => s.parse::<i64>().ok().map(Value::from),
    }
}

fn parse_term(t: &str) -> Option<Term> {
    let t = t.trim();
    if let Some(open) = t.find("/any(") {
        let prop = t.get(..open)?.trim().to_string();
        let inner = t.get(open + 5..)?.strip_suffix(')')?;
        let (_, cond) = inner.split_once(':')?;
        let (_, val) = cond.split_once(" eq ")?;
        return Some(Term::AnyEq {
            prop,
            value: literal(val)?,
        });
    }
    if let Some((prop, rest)) = t.split_once(" in ") {
        let list = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
        let values = list.split(',').map(literal).collect::<Option<Vec<_>>>()?;
        return Some(Term::In {
            prop: prop.trim().to_string(),
            values,
        });
    }
    for (op, negate) in [(" eq ", false), (" ne ", true)] {
        if let Some((prop, val)) = t.split_once(op) {
            return Some(Term::Cmp {
                prop: prop.trim().to_string(),
                negate,
                value: literal(val)?,
            });
        }
    }
    None
}

fn get_ci<'a>(obj: &'a Map<String, Value>, prop: &str) -> &'a Value {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(prop))
        .map(|(_, v)| v)
        .unwrap_or(&Value::Null)
}

fn eq_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

impl Filter {
    pub fn parse(expr: &str) -> Option<Filter> {
        let mut any_of = Vec::new();
        for disj in expr.split(" or ") {
            let mut all = Vec::new();
            for conj in disj.split(" and ") {
                all.push(parse_term(conj)?);
            }
            any_of.push(all);
        }
        Some(Filter { any_of })
    }
    pub fn matches(&self, obj: &Map<String, Value>) -> bool {
        self.any_of.iter().any(|all| {
            all.iter().all(|t| match t {
                Term::Cmp {
                    prop,
                    negate,
                    value,
                } => eq_value(get_ci(obj, prop), value) != *negate,
                Term::In { prop, values } => values.iter().any(|v| eq_value(get_ci(obj, prop), v)),
                Term::AnyEq { prop, value } => get_ci(obj, prop)
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| eq_value(x, value))),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filter_forms() {
        let g =
            json!({"id": "A", "groupTypes": ["Unified"], "securityEnabled": false, "mail": null});
        let o = g.as_object().unwrap();
        assert!(
            Filter::parse("groupTypes/any(c:c eq 'Unified')")
                .unwrap()
                .matches(o)
        );
        assert!(Filter::parse("id eq 'a'").unwrap().matches(o));
        assert!(!Filter::parse("securityEnabled eq true").unwrap().matches(o));
        assert!(
            Filter::parse("securityEnabled eq true or id in ('x','a')")
                .unwrap()
                .matches(o)
        );
        assert!(
            Filter::parse("mail eq null and securityEnabled ne true")
                .unwrap()
                .matches(o)
        );
        assert!(Filter::parse("startswith(displayName,'x')").is_none());
    }

    #[test]
    fn select_keeps_order_and_always_fields() {
        let g = json!({"@odata.type": "#microsoft.graph.user", "id": "1", "b": 2, "a": 1});
        let p = project(
            g.as_object().unwrap(),
            Some(&["a".to_string(), "B".to_string()]),
            &["@odata.type", "id"],
        );
        assert_eq!(
            p.to_string(),
            r##"{"@odata.type":"#microsoft.graph.user","id":"1","b":2,"a":1}"##
        );
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let t = encode_token(&json!({"o": 5}));
        assert_eq!(decode_token(&t), Some(json!({"o": 5})));
        assert_eq!(decode_token("!!"), None);
    }
}
