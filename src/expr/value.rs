//! Values an expression works on and produces, and the ways evaluation can stop short of one.

use std::fmt;

/// A value. `Null` is an absent attribute ("For an attribute, a Null is expressed by the
/// absence of the attribute", IsNull), which is not the empty string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Str(String),
    Int(i64),
    Bool(bool),
    /// A multi-valued attribute or the result of `Split`.
    Multi(Vec<String>),
    /// A binary attribute (a SID for `StringFromSid`).
    Bin(Vec<u8>),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// Null, or a multi-valued attribute without values.
    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Multi(v) => v.is_empty(),
            _ => false,
        }
    }

    /// Null or the empty string (IsNullOrEmpty).
    pub fn is_null_or_empty(&self) -> bool {
        match self {
            Value::Str(s) => s.is_empty(),
            Value::Bin(b) => b.is_empty(),
            other => other.is_null(),
        }
    }

    /// The value as one string, the way CStr would give it; `None` for Null, for a binary value
    /// and for several values.
    pub fn text(&self) -> Option<String> {
        match self {
            Value::Null | Value::Bin(_) => None,
            Value::Str(s) => Some(s.clone()),
            Value::Int(n) => Some(n.to_string()),
            Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
            Value::Multi(v) if v.len() == 1 => Some(v[0].clone()),
            Value::Multi(_) => None,
        }
    }

    /// How a step shows the value: strings quoted, Null as `null`.
    pub fn render(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Str(s) => quote(s),
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => if *b { "True" } else { "False" }.into(),
            Value::Multi(v) => {
                let parts: Vec<String> = v.iter().map(|s| quote(s)).collect();
                format!("[{}]", parts.join(", "))
            }
            Value::Bin(b) => format!("<{} bytes>", b.len()),
        }
    }

    /// Bytes the value holds (for the size bound).
    pub fn size(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            Value::Multi(v) => v.iter().map(String::len).sum(),
            Value::Bin(b) => b.len(),
            _ => 8,
        }
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Why an evaluation gave no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The value depends on the moment, on chance or on data gwb does not have (Now, Guid,
    /// RandomString, SelectUniqueValue, DefaultDomain, `%DomainFQDN%`): it cannot be forecast.
    Unforecastable(String),
    /// `IgnoreFlowIfNullOrEmpty` met null or empty: the attribute is not sent at all and the
    /// value already in AD stays.
    IgnoreFlow,
    /// The expression fails for this object (`Error()`, an index out of bounds, a regular
    /// expression over its budget, a wrong argument): Cloud Sync reports an error for it.
    Error(String),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Unforecastable(r) => write!(f, "cannot be forecast: {r}"),
            Stop::IgnoreFlow => write!(
                f,
                "not sent (IgnoreFlowIfNullOrEmpty met null or empty; the value in AD stays)"
            ),
            Stop::Error(m) => write!(f, "error: {m}"),
        }
    }
}
