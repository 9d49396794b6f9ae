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
    pub fn new(file: impl AsRef<Path>, place: impl Into<String>, message: impl Into<String>) -> Self {
        InputError { file: file.as_ref().to_path_buf(), place: place.into(), message: message.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.place.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}: {}: {}", self.file.display(), self.place, self.message)
        }
    }
}

impl std::error::Error for InputError {}

/// True when the error chain ends in a closed pipe (`gwb audit | head`): not an error for the user.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
