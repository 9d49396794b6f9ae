//! What a run came to, and the one table of exit codes (README.md, "Exit codes"). `main` exits
//! with [`RunOutcome::exit_code`] or, for an error, [`EXIT_ERROR`]; the audit's JSON gate
//! object reports the same number.

/// How a command that did not fail with an error ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Done: the gate passed, the plan was written, every change was applied.
    Pass,
    /// The audit gate failed (a finding at or above `--fail-on`).
    GateFailed,
    /// Evidence incomplete: a blocking check could not run (`--allow-incomplete` accepts it).
    Incomplete,
    /// `apply`, `sync` or `tenant apply` ran, and some objects failed (each is named and
    /// journalled; a re-run retries them).
    SomeFailed,
    /// `migrate plan`: a group would be duplicated, orphaned or deleted, or lose members, and
    /// `--accept` does not list that consequence.
    ConsequencesNotAccepted,
}

/// Usage or input errors, refusals (stale or edited plans, thresholds), and everything that
/// stopped a command before it finished.
pub const EXIT_ERROR: u8 = 2;

impl RunOutcome {
    /// The exit code: the one table.
    pub fn exit_code(self) -> u8 {
        match self {
            RunOutcome::Pass => 0,
            RunOutcome::GateFailed
            | RunOutcome::SomeFailed
            | RunOutcome::ConsequencesNotAccepted => 1,
            RunOutcome::Incomplete => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        assert_eq!(RunOutcome::Pass.exit_code(), 0);
        assert_eq!(RunOutcome::GateFailed.exit_code(), 1);
        assert_eq!(RunOutcome::SomeFailed.exit_code(), 1);
        assert_eq!(RunOutcome::ConsequencesNotAccepted.exit_code(), 1);
        assert_eq!(EXIT_ERROR, 2);
        assert_eq!(RunOutcome::Incomplete.exit_code(), 3);
    }
}
