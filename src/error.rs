//! Typed input errors that name the file and the place inside it (JSON path, LDIF line,
//! CSV record, XML element). Everything else travels as `anyhow::Error` with context.

use std::fmt;
use std::path::{Path, PathBuf};

/// A malformed input: which file, where in it, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: PathBuf,
    /// "line 12", "$.groups[3].securityEnabled", "record 4", "element <Obj> at byte 310".
    pub place: String,
    pub message: String,
}

impl InputError {
    pub fn new(
        file: impl AsRef<Path>,
        place: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        InputError {
            file: file.as_ref().to_path_buf(),
            place: bounded(place.into()),
            message: bounded(message.into()),
        }
    }
}

/// Longest message or place an input error carries, in characters: a value quoted by a
/// parser (serde quotes a wrong-typed string in full) never floods stderr.
pub const MAX_ERROR_CHARS: usize = 400;

fn bounded(s: String) -> String {
    match s.char_indices().nth(MAX_ERROR_CHARS) {
        None => s,
        Some((cut, _)) => format!("{}… (message cut; {} bytes in all)", &s[..cut], s.len()),
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.place.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}: {}: {}",
                self.file.display(),
                self.place,
                self.message
            )
        }
    }
}

impl std::error::Error for InputError {}

/// An error and its causes as one sentence for people, each cause once: a cause whose text
/// its message already carries (an error that quotes its source) is not repeated.
pub fn report(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// True when the error chain ends in a closed pipe (`gwb audit | head`): not an error for the user.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_are_bounded() {
        let e = super::InputError::new("f.json", "$.x", format!("bad {}", "y".repeat(1_000_000)));
        let s = e.to_string();
        assert!(
            s.len() < 600 && s.contains("1000004 bytes in all"),
            "{}",
            s.len()
        );
    }
}
