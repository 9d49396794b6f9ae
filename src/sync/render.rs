//! What `gwb sync` prints: one line per applied change (UTC time, action, DN, what changed),
//! the start and stop lines of `--watch`, a line per poll that applied something (how long the
//! delta, plan and apply took), the closing summary, and dry-run plans through the plan
//! renderers.

use std::io::Write;

use crate::apply::{ObjectOutcome, Report, Status};
use crate::plan::args::PlanFormat;
use crate::plan::model::Plan;

fn out() -> std::io::StdoutLock<'static> {
    std::io::stdout().lock()
}

fn now() -> String {
    crate::collect::now_rfc3339()
}

/// One line per object: `2026-12-01T10:00:00Z update CN=…: applied (1 write)`.
pub fn change_line(o: &ObjectOutcome) -> std::io::Result<()> {
    let status = match &o.status {
        Status::Applied => "applied".to_string(),
        Status::AlreadyDone => "already done".to_string(),
        Status::Failed(why) => format!("FAILED: {why}"),
    };
    let mut w = out();
    writeln!(
        w,
        "{} {} {} ({}): {status} ({} write{})",
        now(),
        o.action.as_str(),
        o.dn,
        o.display_name,
        o.writes,
        if o.writes == 1 { "" } else { "s" }
    )?;
    w.flush()
}

/// A plan that `--dry-run` would have applied.
pub fn dry_run(plan: &Plan, format: Option<PlanFormat>) -> anyhow::Result<()> {
    let f = format.unwrap_or(PlanFormat::Table);
    let text = crate::plan::render::render(plan, f, false)?;
    let mut w = out();
    w.write_all(text.as_bytes())?;
    w.flush()?;
    Ok(())
}

/// The closing line of a one-shot sync.
pub fn summary(plan: &Plan, r: &Report) -> anyhow::Result<()> {
    let mut w = out();
    if plan.changes().next().is_none() {
        writeln!(
            w,
            "Sync: nothing to do; AD is up to date ({} unchanged).",
            plan.summary.unchanged()
        )?;
    } else {
        writeln!(
            w,
            "Sync: {} created, {} updated, {} renamed, {} deleted, {} already done, {} failed ({} LDAP writes){}.",
            r.count(crate::plan::Action::Create),
            r.count(crate::plan::Action::Update),
            r.count(crate::plan::Action::Rename),
            r.count(crate::plan::Action::Delete),
            r.already_done(),
            r.failed(),
            r.writes,
            r.journal
                .as_ref()
                .map(|j| format!("; journal {}", j.display()))
                .unwrap_or_default()
        )?;
    }
    w.flush()?;
    Ok(())
}

/// `--watch` started.
pub fn started(args: &super::args::SyncArgs, resumed: bool) -> anyhow::Result<()> {
    let mut w = out();
    writeln!(
        w,
        "{} watching: every {}s, full reconciliation every {}s, state in {}{}",
        now(),
        args.interval.as_secs_f64(),
        args.full_every.as_secs(),
        args.state_dir.display(),
        if resumed {
            " (resuming from the saved bookmark)"
        } else {
            " (no bookmark yet: a full reconciliation first)"
        }
    )?;
    w.flush()?;
    Ok(())
}

/// A full reconciliation's plan counts.
pub fn cycle(what: &str, plan: &Plan) -> anyhow::Result<()> {
    let mut w = out();
    writeln!(
        w,
        "{} {what}: {}",
        now(),
        crate::plan::render::summary_line(&plan.summary)
    )?;
    w.flush()?;
    Ok(())
}

/// A `--watch` poll that applied changes: how many groups and how long the poll took, from
/// the delta request to the last write (`… poll: 1 group(s) changed, applied in 0.42s`).
pub fn poll_applied(groups: usize, took: std::time::Duration) -> anyhow::Result<()> {
    let mut w = out();
    writeln!(
        w,
        "{} poll: {groups} group(s) changed, applied in {:.2}s",
        now(),
        took.as_secs_f64()
    )?;
    w.flush()?;
    Ok(())
}

/// `--watch` stopped on a signal.
pub fn stopped() -> anyhow::Result<()> {
    let mut w = out();
    writeln!(w, "{} stopped on signal; the bookmark is saved", now())?;
    w.flush()?;
    Ok(())
}
