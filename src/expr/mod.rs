//! Microsoft's expression language for provisioning attribute mappings (the language of Cloud
//! Sync's `cn`, `parentDistinguishedName` and other mappings) and its scoping filters: a
//! parser for the documented grammar, an evaluator with every documented function and its
//! null rules, .NET regular expressions with a bounded backtracking budget, and values that
//! cannot be forecast (Now, Guid, RandomString, SelectUniqueValue, `%Tokens%`) reported as such
//! with the reason instead of guessed.

mod diacritics;
mod eval;
mod func;
mod parse;
mod regex;
pub mod scope;
mod value;

pub use eval::{Engine, MAX_VALUE_BYTES, Parsed, Source, Step};
pub use func::names as function_names;
pub use parse::{CmpOp, Expr, Kind, MAX_DEPTH, MAX_EXPRESSION_CHARS, ParseError, parse};
pub use regex::BACKTRACK_BUDGET;
pub use value::{Stop, Value};

/// Attributes from a list of pairs (tests, `mappings test` inputs).
impl Source for std::collections::BTreeMap<String, Value> {
    fn attribute(&self, name: &str) -> Value {
        self.get(name).cloned().unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests;
