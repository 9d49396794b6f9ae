//! The one confirmation rule of every command that writes (`gwb apply` with or without a saved
//! plan, `gwb tenant apply`, `gwb tenant apply --undo`, and so applied undo plans): the changes
//! are shown, a terminal is asked, and off a terminal nothing is written without `--yes`.
//! Nothing to change needs no answer; `--dry-run` writes nothing and asks nothing.

use std::io::{BufRead, IsTerminal, Write};

/// Why a write did not start: the user's answer, or no terminal to ask on. Reported as a
/// refusal (exit 2) before any connection writes.
#[derive(Debug, thiserror::Error)]
pub enum NotConfirmed {
    #[error(
        "refusing to {verb} without --yes: stdin is not a terminal to ask on (review first: {review})"
    )]
    NoTerminal { verb: String, review: String },
    #[error("nothing written: the answer was not 'yes'")]
    Declined,
}

/// What a writing command asks.
pub struct Question<'a> {
    /// What will change, as the human format shows it (written to stderr before asking; made
    /// only when asked, so `--yes` on a large plan renders nothing).
    pub changes: &'a dyn Fn() -> String,
    /// "apply these changes to OU=…", without the question mark.
    pub prompt: &'a str,
    /// The verb of the refusal off a terminal: "apply the plan".
    pub verb: &'a str,
    /// How to review instead, named in the refusal: "gwb show plan.json".
    pub review: &'a str,
}

/// Apply the rule: `Ok(())` when the write may start. `yes` is the command's `--yes`;
/// `nothing_to_do` skips the question (there is nothing to confirm).
pub fn confirm(q: &Question<'_>, yes: bool, nothing_to_do: bool) -> Result<(), ConfirmError> {
    if yes || nothing_to_do {
        return Ok(());
    }
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    decide(
        q,
        terminal,
        &mut std::io::stdin().lock(),
        &mut std::io::stderr(),
    )
}

/// The rule itself, over any reader and writer (tests drive it without a terminal).
fn decide(
    q: &Question<'_>,
    terminal: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), ConfirmError> {
    if !terminal {
        return Err(NotConfirmed::NoTerminal {
            verb: q.verb.to_string(),
            review: q.review.to_string(),
        }
        .into());
    }
    let changes = (q.changes)();
    out.write_all(changes.as_bytes())?;
    if !changes.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    write!(out, "\n{}? Only 'yes' is accepted: ", capitalise(q.prompt))?;
    out.flush()?;
    let mut answer = String::new();
    input.read_line(&mut answer)?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(NotConfirmed::Declined.into())
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A refusal, or the terminal failing while asking.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error(transparent)]
    NotConfirmed(#[from] NotConfirmed),
    #[error("asking for confirmation: {0}")]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> Question<'static> {
        Question {
            changes: &|| "create 2 groups".to_string(),
            prompt: "apply these changes to OU=Cloud",
            verb: "apply the plan",
            review: "gwb show plan.json",
        }
    }

    #[test]
    fn off_a_terminal_the_write_is_refused_without_reading_an_answer() {
        let mut input: &[u8] = b"yes\n";
        let mut out = Vec::new();
        let e = decide(&q(), false, &mut input, &mut out).unwrap_err();
        assert!(
            e.to_string()
                .contains("refusing to apply the plan without --yes")
                && e.to_string().contains("gwb show plan.json"),
            "{e}"
        );
        assert!(out.is_empty(), "nothing is asked off a terminal");
        assert_eq!(input, b"yes\n", "no answer is read off a terminal");
    }

    #[test]
    fn on_a_terminal_the_changes_are_shown_and_only_yes_proceeds() {
        for (answer, ok) in [
            ("yes\n", true),
            ("  yes \r\n", true),
            ("y\n", false),
            ("YES\n", false),
            ("", false),
            ("no\n", false),
        ] {
            let mut input = answer.as_bytes();
            let mut out = Vec::new();
            let r = decide(&q(), true, &mut input, &mut out);
            assert_eq!(r.is_ok(), ok, "answer {answer:?}");
            let shown = String::from_utf8(out).unwrap();
            assert!(
                shown.starts_with("create 2 groups\n")
                    && shown.contains("Apply these changes to OU=Cloud? Only 'yes' is accepted"),
                "{shown}"
            );
        }
    }

    #[test]
    fn yes_or_nothing_to_do_asks_nothing() {
        assert!(confirm(&q(), true, false).is_ok());
        assert!(confirm(&q(), false, true).is_ok());
    }
}
