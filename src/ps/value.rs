//! The generic value tree every PowerShell reader produces (like `serde_json::Value`, plus
//! the type names and `ToString` text CLIXML carries), and its conversion to JSON for the
//! recognizers and for `gwb inspect`. Type names are data only: nothing here dispatches on them.

use base64::Engine;
use serde_json::{Map, Value};

/// One deserialized PowerShell value.
#[derive(Debug, Clone, PartialEq)]
pub enum PsValue {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    /// A primitive kept as text with its CLIXML tag (`DT`, `TS`, `G`, `Version`, `URI`, `D`, `SBK`, `XD`, …).
    Typed {
        tag: String,
        text: String,
    },
    Bytes(Vec<u8>),
    /// A `SecureString`: never decrypted, never shown.
    Redacted,
    List(Vec<PsValue>),
    Dict(Vec<(PsValue, PsValue)>),
    Object(PsObject),
}

/// A complex object (`<Obj>`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PsObject {
    /// Most-derived first, as written (`Deserialized.` prefixes kept).
    pub type_names: Vec<String>,
    pub to_string: Option<String>,
    /// Adapted (`Props`) then extended (`MS`) properties, in document order.
    pub props: Vec<(String, PsValue)>,
    /// The list, dictionary or primitive an object wraps (containers, enums).
    pub content: Option<Box<PsValue>>,
}

/// What SecureStrings become everywhere.
pub const REDACTED: &str = "[redacted]";

impl PsValue {
    /// JSON view: objects become maps of their properties, lists arrays, enums their name,
    /// bytes base64, typed primitives their text, SecureStrings `"[redacted]"`.
    pub fn to_json(&self) -> Value {
        match self {
            PsValue::Null => Value::Null,
            PsValue::Bool(b) => Value::Bool(*b),
            PsValue::Int(i) => Value::from(*i),
            PsValue::UInt(u) => Value::from(*u),
            PsValue::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(f.to_string())),
            PsValue::Str(s) => Value::String(s.clone()),
            PsValue::Typed { tag, text } => {
                if tag == "D" {
                    if let Ok(i) = text.trim().parse::<i64>() {
                        return Value::from(i);
                    }
                    if let Some(n) = text
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                    {
                        return Value::Number(n);
                    }
                }
                Value::String(text.clone())
            }
            PsValue::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
            PsValue::Redacted => Value::String(REDACTED.into()),
            PsValue::List(items) => Value::Array(items.iter().map(PsValue::to_json).collect()),
            PsValue::Dict(entries) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    m.insert(k.key_text(), v.to_json());
                }
                Value::Object(m)
            }
            PsValue::Object(o) => o.to_json(),
        }
    }

    /// Text used when this value is a dictionary key.
    pub fn key_text(&self) -> String {
        match self.to_json() {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    /// Number of nodes in the tree (for expansion budgets).
    pub fn size(&self) -> usize {
        match self {
            PsValue::List(items) => 1 + items.iter().map(PsValue::size).sum::<usize>(),
            PsValue::Dict(e) => 1 + e.iter().map(|(k, v)| k.size() + v.size()).sum::<usize>(),
            PsValue::Object(o) => {
                1 + o.props.iter().map(|(_, v)| v.size()).sum::<usize>()
                    + o.content.as_ref().map_or(0, |c| c.size())
            }
            _ => 1,
        }
    }
}

impl PsObject {
    pub fn to_json(&self) -> Value {
        // A collection's own properties (Count, IsReadOnly …) are not data: the items are.
        if let Some(c) = &self.content
            && matches!(**c, PsValue::List(_) | PsValue::Dict(_))
        {
            return c.to_json();
        }
        if self.props.is_empty() {
            return match (&self.content, &self.to_string) {
                // An enum: its name reads better than its number (like -EnumsAsStrings).
                (Some(c), Some(name)) if !matches!(**c, PsValue::List(_) | PsValue::Dict(_)) => {
                    Value::String(name.clone())
                }
                (Some(c), _) => c.to_json(),
                (None, Some(s)) => Value::String(s.clone()),
                (None, None) => Value::Object(Map::new()),
            };
        }
        let mut m = Map::new();
        for (k, v) in &self.props {
            m.insert(k.clone(), v.to_json());
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_objects_become_their_names_and_containers_their_items() {
        let e = PsObject {
            type_names: vec![
                "Microsoft.ActiveDirectory.Management.ADGroupScope".into(),
                "System.Enum".into(),
            ],
            to_string: Some("Universal".into()),
            props: vec![],
            content: Some(Box::new(PsValue::Int(2))),
        };
        assert_eq!(
            PsValue::Object(e).to_json(),
            Value::String("Universal".into())
        );
        let l = PsObject {
            content: Some(Box::new(PsValue::List(vec![
                PsValue::Int(1),
                PsValue::Null,
            ]))),
            ..Default::default()
        };
        assert_eq!(PsValue::Object(l).to_json(), serde_json::json!([1, null]));
        let with_count = PsObject {
            props: vec![("Count".into(), PsValue::Int(1))],
            content: Some(Box::new(PsValue::List(vec![PsValue::Str("a".into())]))),
            ..Default::default()
        };
        assert_eq!(
            PsValue::Object(with_count).to_json(),
            serde_json::json!(["a"])
        );
        assert_eq!(
            PsValue::Redacted.to_json(),
            Value::String("[redacted]".into())
        );
        assert_eq!(
            PsValue::Float(f64::INFINITY).to_json(),
            Value::String("inf".into())
        );
    }
}
