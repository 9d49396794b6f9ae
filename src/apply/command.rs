//! The `gwb apply` command: load (or make) the plan, confirm, apply, render. Input errors and
//! refusals come back as errors (exit 2); `Ok(false)` when some objects failed (exit 1).

use std::io::{IsTerminal, Write};

use super::args::ApplyArgs;
use super::render::Renderer;
use super::{Options, Refused};
use crate::ldap::conn::Settings;
use crate::plan::model::Plan;

/// Why apply stopped before writing: an input error for `main` (exit 2).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApplyRefused(#[from] pub Refused);

/// Run `gwb apply`. `Ok(true)`: everything applied; `Ok(false)`: some objects failed.
pub fn run(args: &ApplyArgs, quiet: bool) -> anyhow::Result<bool> {
    let default_max = crate::plan::model::DEFAULT_MAX_DELETES;
    let (plan, path, tenant_sha256) = match &args.plan {
        Some(path) => {
            let plan = crate::plan::load::read_plan(path)?;
            if let Some(want) = &args.expect_sha256 {
                crate::plan::load::check_expected(&plan, path, want)?;
            }
            let sha = match &args.input.snapshot {
                Some(snapshot) => crate::input::tenant_sha256(snapshot)?,
                None => None,
            };
            (plan, Some(path.display().to_string()), sha)
        }
        None if args.expect_sha256.is_some() => {
            anyhow::bail!(
                "--expect-sha256 pins a saved plan: give the approved PLAN file (gwb apply PLAN --expect-sha256 HEX)"
            );
        }
        None => {
            // Planned against AD as it is now: the LDAP flags that write also read (a bundle's
            // ad.ldif is not used), so the plan is never stale on arrival.
            let plan = crate::plan::load::make_plan(&args.input)?;
            (plan, None, None)
        }
    };
    // The one confirmation rule: the changes shown, a terminal asked, --yes off one.
    let review = match &path {
        Some(p) => format!("gwb show {p}"),
        None => "gwb plan --out plan.json, then gwb apply plan.json --yes".to_string(),
    };
    crate::confirm::confirm(
        &crate::confirm::Question {
            changes: &|| crate::plan::render::table(&plan, false),
            prompt: &format!("apply these changes to {}", plan.target_ou.dn),
            verb: "apply the plan",
            review: &review,
        },
        args.yes,
        plan.summary.is_empty(),
    )?;
    // --max-deletes on apply overrides a saved plan's threshold; left at its default, the
    // plan's own threshold holds.
    let max_deletes = if args.plan.is_none() || args.input.max_deletes != default_max {
        Some(args.input.max_deletes)
    } else {
        None
    };
    let opts = Options {
        takeover: args.takeover,
        max_deletes,
        journal_dir: args.journal_dir.clone(),
        plan_path: path,
        tenant_sha256,
        batch: args.batch.max(1),
        ..Options::default()
    };
    apply_plan(&plan, &opts, args, quiet)
}
/// Apply a loaded plan and render the run.
pub fn apply_plan(
    plan: &Plan,
    opts: &Options,
    args: &ApplyArgs,
    quiet: bool,
) -> anyhow::Result<bool> {
    // Refusals that need no directory come before any connection or password.
    super::preflight(plan, opts).map_err(ApplyRefused)?;
    if plan.summary.is_empty() && plan.changes().next().is_none() {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        writeln!(
            out,
            "Apply: nothing to do; the plan changes nothing ({} unchanged).",
            plan.summary.unchanged()
        )?;
        return Ok(true);
    }
    let settings = Settings::from_args(&args.input.ldap)?;
    let progress = !quiet && std::io::stderr().is_terminal();
    let mut r = Renderer::new(std::io::stdout(), progress);
    let mut io_err: Option<std::io::Error> = None;
    let res = {
        let mut on = |e: super::Event<'_>| {
            if let Err(e) = r.event(e)
                && io_err.is_none()
            {
                io_err = Some(e);
            }
        };
        super::apply(plan, settings, opts, &mut on)?
    };
    let report = res.map_err(ApplyRefused)?;
    r.finish(&report)?;
    if let Some(e) = io_err {
        return Err(e.into());
    }
    Ok(report.failed() == 0)
}
