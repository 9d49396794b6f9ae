//! Scoping filters: clauses (`operatorName`, `sourceOperandName`, `targetOperand.values`)
//! ANDed within a filter group, groups ORed, and Cloud Sync's default security clause.
//! Operator semantics are Microsoft's (how-to-configure-entra-to-active-directory, 2026-08-19;
//! define-conditional-rules-for-provisioning-user-accounts, 2026-08-06): case-sensitive, and
//! "Scoping filters will return "false" if the value is null / empty", except the unary
//! null and Boolean tests, which exist to test exactly that.

use serde::{Deserialize, Serialize};

use super::eval::{Engine, Source};
use super::regex;
use super::value::{Stop, Value};

/// One clause of a scoping filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clause {
    pub attribute: String,
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

impl Clause {
    pub fn new(attribute: &str, operator: &str, values: &[&str]) -> Clause {
        Clause {
            attribute: attribute.into(),
            operator: operator.into(),
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The clause as the portal shows it: `displayName REGEX MATCH "^Sales"`.
    pub fn describe(&self) -> String {
        if self.values.is_empty() {
            format!("{} {}", self.attribute, self.operator)
        } else {
            let vals: Vec<String> = self.values.iter().map(|v| format!("{v:?}")).collect();
            format!("{} {} {}", self.attribute, self.operator, vals.join(" | "))
        }
    }
}

/// A filter group: every clause must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterGroup {
    pub name: String,
    pub clauses: Vec<Clause>,
}

/// "A default security clause is applied to groups on top of clauses that you create, by
/// using AND logic": `securityEnabled IS TRUE AND dirSyncEnabled IS FALSE AND mailEnabled IS
/// FALSE` (how-to-configure-entra-to-active-directory, 2026-08-19).
pub fn default_security_clause() -> FilterGroup {
    FilterGroup {
        name: "default security clause".into(),
        clauses: vec![
            Clause::new("securityEnabled", "IS TRUE", &[]),
            Clause::new("dirSyncEnabled", "IS FALSE", &[]),
            Clause::new("mailEnabled", "IS FALSE", &[]),
        ],
    }
}

/// Every operator gwb evaluates, as Graph spells them.
pub const OPERATORS: &[&str] = &[
    "EQUALS",
    "NOT EQUALS",
    "IS TRUE",
    "IS FALSE",
    "IS NULL",
    "IS NOT NULL",
    "REGEX MATCH",
    "NOT REGEX MATCH",
    "GREATER_THAN",
    "GREATER_THAN_OR_EQUALS",
    "INCLUDES",
    "ENDS_WITH",
];

/// Operators Microsoft lists without a usable definition; a clause with one of them makes the
/// outcome unknown rather than guessed.
const UNDEFINED: &[(&str, &str)] = &[
    ("&", "listed as \"exists in\" without a definition"),
    ("!&", "listed as \"does not exist in\" without a definition"),
    ("!&L", "listed without a description"),
    ("PRESENT", "listed without a description"),
    (
        "IS_MEMBER_OF",
        "\"The IsMemberOf filter is not supported currently\"",
    ),
    ("VALID CERT MATCH", "listed without a description"),
];

/// Evaluate one clause.
pub fn clause(engine: &Engine, c: &Clause, src: &dyn Source) -> Result<bool, Stop> {
    let op = c.operator.trim().to_ascii_uppercase().replace('_', " ");
    let v = src.attribute(&c.attribute);
    if let Value::Multi(vs) = &v
        && vs.len() > 1
    {
        // "Filtering is not supported for multi-valued attributes" (conditional rules page).
        return Err(Stop::Error(format!(
            "{} is multi-valued; Microsoft does not support scoping filters on multi-valued attributes",
            c.attribute
        )));
    }
    let text = v.text();
    let present = text.as_deref().is_some_and(|t| !t.is_empty());
    let first = || -> Result<&str, Stop> {
        c.values.first().map(String::as_str).ok_or_else(|| {
            Stop::Error(format!(
                "the clause {} has no value to compare with",
                c.describe()
            ))
        })
    };
    let boolean = || match &v {
        Value::Bool(b) => Some(*b),
        _ => text.as_deref().and_then(|t| {
            if t.eq_ignore_ascii_case("true") {
                Some(true)
            } else if t.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            }
        }),
    };
    let integer = |t: &str, what: &str| -> Result<i64, Stop> {
        t.trim().parse::<i64>().map_err(|_| {
            Stop::Error(format!(
                "{} compares integers, but the {what} {t:?} is not one",
                c.operator
            ))
        })
    };
    match op.as_str() {
        "IS TRUE" => Ok(boolean() == Some(true)),
        "IS FALSE" => Ok(boolean() == Some(false)),
        // "is empty" / "isn't empty".
        "IS NULL" => Ok(!present),
        "IS NOT NULL" => Ok(present),
        _ if !present => {
            // The binary operators return false on null or empty; a clause without a value
            // is still a configuration error.
            first()?;
            Ok(false)
        }
        "EQUALS" => Ok(text.as_deref() == Some(first()?)),
        "NOT EQUALS" => Ok(text.as_deref() != Some(first()?)),
        "INCLUDES" => {
            let f = first()?;
            Ok(text.as_deref().is_some_and(|t| t.contains(f)))
        }
        "ENDS WITH" => {
            let f = first()?;
            Ok(text.as_deref().is_some_and(|t| t.ends_with(f)))
        }
        // An unanchored search, as .NET's Regex.IsMatch: Microsoft's own example
        // `(?:^|\W)Sales|Marketing|Operations(?:$|\W)` only works that way.
        "REGEX MATCH" => regex::is_match(&engine.regex, first()?, text.as_deref().unwrap_or("")),
        "NOT REGEX MATCH" => Ok(!regex::is_match(
            &engine.regex,
            first()?,
            text.as_deref().unwrap_or(""),
        )?),
        "GREATER THAN" | "GREATER THAN OR EQUALS" => {
            let a = integer(text.as_deref().unwrap_or(""), "attribute value")?;
            let b = integer(first()?, "clause value")?;
            Ok(if op == "GREATER THAN" { a > b } else { a >= b })
        }
        _ => {
            let reason = UNDEFINED
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(c.operator.trim()))
                .map(|(_, r)| *r)
                .unwrap_or("not an operator Microsoft documents");
            Err(Stop::Unforecastable(format!(
                "the scoping operator {:?} is {reason}",
                c.operator
            )))
        }
    }
}

/// The result of a set of filter groups for one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupsVerdict {
    /// `Some(true)`: in scope; `Some(false)`: out; `None`: cannot tell (see `unknown`).
    pub in_scope: Option<bool>,
    /// The first filter group all of whose clauses hold.
    pub matched: Option<String>,
    /// For each failing group, its first clause that does not hold.
    pub failed: Vec<String>,
    /// Why the outcome cannot be told, when it cannot.
    pub unknown: Option<String>,
}

/// Filter groups ORed ("An object is considered in scope if ANY of the groups in the
/// collection is evaluated to true"), clauses ANDed ("All clauses in a group must be
/// satisfied"). No groups at all put every object in scope.
pub fn groups(engine: &Engine, gs: &[FilterGroup], src: &dyn Source) -> GroupsVerdict {
    let mut v = GroupsVerdict {
        in_scope: Some(gs.is_empty()),
        matched: None,
        failed: Vec::new(),
        unknown: None,
    };
    for g in gs {
        let mut all = true;
        for c in &g.clauses {
            match clause(engine, c, src) {
                Ok(true) => {}
                Ok(false) => {
                    v.failed.push(format!("{}: {}", g.name, c.describe()));
                    all = false;
                    break;
                }
                Err(stop) => {
                    if v.unknown.is_none() {
                        v.unknown = Some(format!("{}: {}: {stop}", g.name, c.describe()));
                    }
                    all = false;
                    break;
                }
            }
        }
        if all {
            v.in_scope = Some(true);
            v.matched = Some(g.name.clone());
            v.unknown = None;
            return v;
        }
    }
    if v.unknown.is_some() {
        v.in_scope = None;
    }
    v
}
