//! Evaluating a parsed expression against one object's attributes, optionally recording every
//! step (each function call, attribute and comparison with its value) the way Cloud Sync's
//! on-demand provisioning shows its steps.

use super::func;
use super::parse::{CmpOp, Expr, Kind};
use super::regex::RegexCache;
use super::value::{Stop, Value};

/// Largest value (in bytes) an evaluation may build: nested `Replace` calls could otherwise
/// multiply a string's size at every level.
pub const MAX_VALUE_BYTES: usize = 1 << 20;

/// The attributes of the object an expression is evaluated for, by the provisioning engine's
/// names (`objectId`, `displayName`, `dirSyncEnabled`, `extension_<appId>_GroupDN`, …).
pub trait Source {
    /// The attribute's value, `Value::Null` when the object does not have it.
    fn attribute(&self, name: &str) -> Value;
}

/// Evaluation state shared across objects: the compiled regular expressions.
#[derive(Default)]
pub struct Engine {
    pub(crate) regex: RegexCache,
}

/// One step of an evaluation: a sub-expression as written and what it gave.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// Nesting depth (0 = the whole expression).
    pub depth: usize,
    pub expression: String,
    pub result: String,
}

/// A parsed expression with its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub text: String,
    pub root: Expr,
}

impl Parsed {
    pub fn parse(text: &str) -> Result<Parsed, super::ParseError> {
        Ok(Parsed {
            text: text.to_string(),
            root: super::parse::parse(text)?,
        })
    }

    /// The expression uses this function somewhere (e.g. `Switch`, `IgnoreFlowIfNullOrEmpty`).
    pub fn uses(&self, function: &str) -> bool {
        fn walk(e: &Expr, f: &str) -> bool {
            match &e.kind {
                Kind::Call { name, args } => {
                    name.eq_ignore_ascii_case(f) || args.iter().flatten().any(|a| walk(a, f))
                }
                Kind::Cmp { left, right, .. } => walk(left, f) || walk(right, f),
                Kind::Concat(parts) => parts.iter().any(|p| walk(p, f)),
                _ => false,
            }
        }
        walk(&self.root, function)
    }

    /// The attribute names the expression reads, in order of first use.
    pub fn attributes(&self) -> Vec<String> {
        fn walk(e: &Expr, out: &mut Vec<String>) {
            match &e.kind {
                Kind::Attr(a) if !out.contains(a) => out.push(a.clone()),
                Kind::Call { args, .. } => args.iter().flatten().for_each(|a| walk(a, out)),
                Kind::Cmp { left, right, .. } => {
                    walk(left, out);
                    walk(right, out);
                }
                Kind::Concat(parts) => parts.iter().for_each(|p| walk(p, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }
}

impl Engine {
    pub fn new() -> Engine {
        Engine::default()
    }

    pub fn evaluate(&self, parsed: &Parsed, src: &dyn Source) -> Result<Value, Stop> {
        let mut ev = Eval {
            engine: self,
            src,
            text: &parsed.text,
            trace: None,
        };
        ev.eval(&parsed.root, 0)
    }

    /// Evaluate and record every step, innermost first.
    pub fn evaluate_traced(
        &self,
        parsed: &Parsed,
        src: &dyn Source,
    ) -> (Result<Value, Stop>, Vec<Step>) {
        let mut steps = Vec::new();
        let mut ev = Eval {
            engine: self,
            src,
            text: &parsed.text,
            trace: Some(&mut steps),
        };
        let r = ev.eval(&parsed.root, 0);
        (r, steps)
    }
}

pub(crate) struct Eval<'a> {
    pub(crate) engine: &'a Engine,
    src: &'a dyn Source,
    text: &'a str,
    trace: Option<&'a mut Vec<Step>>,
}

impl Eval<'_> {
    pub(crate) fn eval(&mut self, e: &Expr, depth: usize) -> Result<Value, Stop> {
        let (r, record) = match &e.kind {
            Kind::Str(s) => (Ok(Value::Str(s.clone())), false),
            Kind::Int(n) => (Ok(Value::Int(*n)), false),
            Kind::Decimal(d) => (Ok(Value::Str(d.clone())), false),
            Kind::Word(w) => (Ok(word(w)), false),
            Kind::Attr(a) => (Ok(self.src.attribute(a)), true),
            Kind::Token(t) => (
                Err(Stop::Unforecastable(format!(
                    "%{t}% is filled in by the provisioning service from its own configuration, which Microsoft does not document"
                ))),
                true,
            ),
            Kind::Call { name, args } => (func::call(self, name, args, depth), true),
            Kind::Cmp { op, left, right } => (self.compare(*op, left, right, depth), true),
            Kind::Concat(parts) => {
                let mut out = String::new();
                let mut r = Ok(());
                for p in parts {
                    match self.eval(p, depth + 1) {
                        Ok(v) => out.push_str(&v.text().unwrap_or_default()),
                        Err(s) => {
                            r = Err(s);
                            break;
                        }
                    }
                }
                (r.map(|()| Value::Str(out)), true)
            }
        };
        let r = r.and_then(|v| {
            if v.size() > MAX_VALUE_BYTES {
                Err(Stop::Error(format!(
                    "a value grew past {MAX_VALUE_BYTES} bytes"
                )))
            } else {
                Ok(v)
            }
        });
        if record && let Some(trace) = self.trace.as_deref_mut() {
            let text = self.text.get(e.span.0..e.span.1).unwrap_or_default();
            trace.push(Step {
                depth,
                expression: text.to_string(),
                result: match &r {
                    Ok(v) => v.render(),
                    Err(s) => s.to_string(),
                },
            });
        }
        r
    }

    /// Evaluate an argument slot: `None` when the slot is empty or absent.
    pub(crate) fn arg(
        &mut self,
        args: &[Option<Expr>],
        i: usize,
        depth: usize,
    ) -> Result<Option<Value>, Stop> {
        match args.get(i) {
            Some(Some(e)) => self.eval(e, depth + 1).map(Some),
            _ => Ok(None),
        }
    }

    /// A required argument; an empty slot is an error.
    pub(crate) fn req(
        &mut self,
        f: &str,
        args: &[Option<Expr>],
        i: usize,
        depth: usize,
    ) -> Result<Value, Stop> {
        self.arg(args, i, depth)?
            .ok_or_else(|| Stop::Error(format!("argument {} of {f} is required", i + 1)))
    }

    fn compare(&mut self, op: CmpOp, l: &Expr, r: &Expr, depth: usize) -> Result<Value, Stop> {
        let a = self.eval(l, depth + 1)?;
        let b = self.eval(r, depth + 1)?;
        // "If the source attribute used within the IIF function is empty or null, the
        // condition check fails." (functions reference, IIF): a comparison with null is false.
        let (Some(x), Some(y)) = (a.text(), b.text()) else {
            return Ok(Value::Bool(false));
        };
        let ord = match (x.trim().parse::<i64>(), y.trim().parse::<i64>()) {
            (Ok(p), Ok(q)) => p.cmp(&q),
            _ => x.cmp(&y),
        };
        use std::cmp::Ordering::*;
        Ok(Value::Bool(match op {
            CmpOp::Eq => ord == Equal,
            CmpOp::Ne => ord != Equal,
            CmpOp::Gt => ord == Greater,
            CmpOp::Ge => ord != Less,
            CmpOp::Lt => ord == Less,
            CmpOp::Le => ord != Greater,
        }))
    }
}

/// A bare word: `True`/`False` are Booleans, anything else (`vbTextCompare`, `UTF8`) is its
/// own name as a string.
fn word(w: &str) -> Value {
    if w.eq_ignore_ascii_case("true") {
        Value::Bool(true)
    } else if w.eq_ignore_ascii_case("false") {
        Value::Bool(false)
    } else {
        Value::Str(w.to_string())
    }
}
