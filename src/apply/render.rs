//! Rendering an apply as it happens: one outcome line per object on stdout, a progress bar on
//! stderr when it is a terminal (hidden otherwise), and the closing summary line.

use std::io::Write;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Event, ObjectOutcome, Report, Status};
use crate::plan::model::Action;

/// Renders [`Event`]s.
pub struct Renderer<W: Write> {
    out: W,
    bar: ProgressBar,
}

fn verb(a: Action) -> &'static str {
    match a {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Rename => "renamed",
        Action::Delete => "deleted",
        Action::Keep => "kept",
        Action::Skip => "skipped",
        Action::Noop => "unchanged",
    }
}

/// One object's outcome line.
pub fn outcome_line(o: &ObjectOutcome) -> String {
    match &o.status {
        Status::Applied => format!("{:<9} {}  ({})", verb(o.action), o.dn, o.display_name),
        Status::AlreadyDone => format!(
            "{:<9} {}  ({}; already done)",
            verb(o.action),
            o.dn,
            o.display_name
        ),
        Status::Failed(msg) => format!(
            "FAILED    {} {}  ({}): {msg}",
            o.action.as_str(),
            o.dn,
            o.display_name
        ),
    }
}

/// The closing line.
pub fn summary_line(r: &Report) -> String {
    let mut s = format!(
        "Apply: {} created, {} updated, {} renamed, {} deleted, {} failed",
        r.count(Action::Create),
        r.count(Action::Update),
        r.count(Action::Rename),
        r.count(Action::Delete),
        r.failed()
    );
    let already = r.already_done();
    if already > 0 {
        s.push_str(&format!(" ({already} already done)"));
    }
    s.push_str(&format!("; {} LDAP writes", r.writes));
    if r.reconnects > 0 {
        s.push_str(&format!(", {} reconnects", r.reconnects));
    }
    match &r.journal {
        Some(j) => s.push_str(&format!("; journal {}", j.display())),
        None => s.push_str("; nothing to do"),
    }
    s.push('.');
    s
}

impl<W: Write> Renderer<W> {
    /// `progress`: draw a bar on stderr (a terminal, not --quiet).
    pub fn new(out: W, progress: bool) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(0),
            if progress {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:40} {pos}/{len} writes  {elapsed_precise} ({eta} left)",
        ) {
            bar.set_style(style);
        }
        Renderer { out, bar }
    }

    pub fn event(&mut self, e: Event<'_>) -> std::io::Result<()> {
        match e {
            Event::Journal(p) => {
                tracing::info!("journal: {}", p.display());
            }
            Event::Start { total } => self.bar.set_length(total as u64),
            Event::Step { done, .. } => self.bar.set_position(done as u64),
            Event::Object(o) => {
                let line = outcome_line(o);
                self.bar.suspend(|| writeln!(self.out, "{line}"))?;
            }
        }
        Ok(())
    }

    pub fn finish(&mut self, r: &Report) -> std::io::Result<()> {
        self.bar.finish_and_clear();
        writeln!(self.out, "{}", summary_line(r))?;
        self.out.flush()
    }
}
