//! .NET-dialect regular expressions for `Replace` and the `REGEX MATCH` scoping operators:
//! compiled once per pattern (a configuration is evaluated for every group), run with a
//! bounded backtracking budget, and `.NET` substitutions (`${name}`, `$1`, `$$`, `$&`, …).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::value::Stop;

/// Backtracking steps one match attempt may take. A pattern that needs more (catastrophic
/// backtracking such as `(a+)+$`) is an error for the object being evaluated, never a hang.
pub const BACKTRACK_BUDGET: usize = 100_000;

/// Size bound of the compiled automata of one pattern.
const COMPILED_SIZE_LIMIT: usize = 2 << 20;

/// Patterns kept compiled; the cache is emptied when it grows past this.
const CACHE_ENTRIES: usize = 512;

type Compiled = Result<Arc<fancy_regex::Regex>, String>;

/// Compiled patterns shared by every evaluation that uses one [`super::Engine`].
#[derive(Default)]
pub struct RegexCache {
    map: Mutex<HashMap<String, Compiled>>,
}

impl RegexCache {
    pub fn get(&self, pattern: &str) -> Result<Arc<fancy_regex::Regex>, Stop> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = map.get(pattern) {
            return c.clone().map_err(Stop::Error);
        }
        if map.len() >= CACHE_ENTRIES {
            map.clear();
        }
        let compiled: Compiled = fancy_regex::RegexBuilder::new(pattern)
            .backtrack_limit(BACKTRACK_BUDGET)
            .delegate_size_limit(COMPILED_SIZE_LIMIT)
            .delegate_dfa_size_limit(COMPILED_SIZE_LIMIT)
            .build()
            .map(Arc::new)
            .map_err(|e| format!("the regular expression {pattern:?} is not valid: {e}"));
        map.insert(pattern.to_string(), compiled.clone());
        compiled.map_err(Stop::Error)
    }
}

pub fn run_error(pattern: &str, e: fancy_regex::Error) -> Stop {
    match e {
        fancy_regex::Error::RuntimeError(fancy_regex::RuntimeError::BacktrackLimitExceeded) => {
            Stop::Error(format!(
                "the regular expression {pattern:?} needed more than {BACKTRACK_BUDGET} backtracking steps (catastrophic backtracking); gwb stops it rather than hang"
            ))
        }
        other => Stop::Error(format!(
            "the regular expression {pattern:?} failed: {other}"
        )),
    }
}

/// Unanchored search, as .NET's `Regex.IsMatch`.
pub fn is_match(cache: &RegexCache, pattern: &str, text: &str) -> Result<bool, Stop> {
    let re = cache.get(pattern)?;
    re.is_match(text).map_err(|e| run_error(pattern, e))
}

/// Expand a .NET substitution pattern for one match: `$number`, `${name}`, `$$`, `$&`,
/// `` $` ``, `$'`, `$+`, `$_`. A reference to a group the pattern does not have stays as
/// written, as in .NET.
pub fn expand(
    re: &fancy_regex::Regex,
    caps: &fancy_regex::Captures<'_, str>,
    input: &str,
    replacement: &str,
    out: &mut String,
) {
    let group_text = |key: &str| -> Option<String> {
        if let Ok(n) = key.parse::<usize>() {
            if n < caps.len() {
                return Some(
                    caps.get(n)
                        .map(|m| m.as_str().to_string())
                        .unwrap_or_default(),
                );
            }
            return None;
        }
        if re.capture_names().any(|n| n == Some(key)) {
            return Some(
                caps.name(key)
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default(),
            );
        }
        None
    };
    let whole = caps.get(0);
    let mut rest = replacement;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let mut consumed = 0;
        match after.chars().next() {
            Some('$') => {
                out.push('$');
                consumed = 1;
            }
            Some('&') => {
                out.push_str(whole.as_ref().map(|m| m.as_str()).unwrap_or(""));
                consumed = 1;
            }
            Some('`') => {
                out.push_str(&input[..whole.as_ref().map(|m| m.start()).unwrap_or(0)]);
                consumed = 1;
            }
            Some('\'') => {
                out.push_str(&input[whole.as_ref().map(|m| m.end()).unwrap_or(input.len())..]);
                consumed = 1;
            }
            Some('_') => {
                out.push_str(input);
                consumed = 1;
            }
            Some('+') => {
                let last = (1..caps.len()).rev().find_map(|n| caps.get(n));
                out.push_str(last.map(|m| m.as_str()).unwrap_or(""));
                consumed = 1;
            }
            Some('{') => {
                if let Some(close) = after.find('}')
                    && let Some(t) = group_text(&after[1..close])
                {
                    out.push_str(&t);
                    consumed = close + 1;
                }
            }
            Some(c) if c.is_ascii_digit() => {
                let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                // The longest prefix of the digits that names a group, as .NET does.
                for len in (1..=digits).rev() {
                    if let Some(t) = group_text(&after[..len]) {
                        out.push_str(&t);
                        consumed = len;
                        break;
                    }
                }
            }
            _ => {}
        }
        if consumed == 0 {
            out.push('$');
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
}
