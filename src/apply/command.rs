//! The `gwb apply` command: load (or make) the plan, confirm, apply, render. Input errors and
//! refusals come back as errors (exit 2); `Ok(false)` when some objects failed (exit 1).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;

use super::args::ApplyArgs;
use super::render::Renderer;
use super::{Options, Refused};
use crate::ldap::conn::Settings;
use crate::plan::model::Plan;

/// Why apply stopped before writing: an input error for `main` (exit 2).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApplyRefused(#[from] pub Refused);

fn load_plan(path: &std::path::Path) -> anyhow::Result<Plan> {
    let text = crate::text::read_file(path)?;
    Ok(Plan::from_json(&text.text, &path.display().to_string())?)
}

/// Ask on the terminal; true only for "yes".
pub fn confirm(plan: &Plan) -> anyhow::Result<bool> {
    let s = &plan.summary;
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    writeln!(
        err,
        "Plan: {} to create, {} to update, {} to rename, {} to delete, {} unchanged (target OU {}).",
        s.create,
        s.update,
        s.rename,
        s.delete,
        s.unchanged(),
        plan.target_ou.dn
    )?;
    for g in plan.changes() {
        writeln!(
            err,
            "  {:<7} {}  ({})",
            g.action.as_str(),
            g.dn.as_deref()
                .or(g.current.as_ref().map(|c| c.dn.as_str()))
                .unwrap_or(""),
            g.display_name
        )?;
    }
    write!(
        err,
        "Apply these changes to Active Directory? Only 'yes' is accepted: "
    )?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// Run `gwb apply`. `Ok(true)`: everything applied; `Ok(false)`: some objects failed.
pub fn run(args: &ApplyArgs, quiet: bool) -> anyhow::Result<bool> {
    let Some(path) = &args.plan else {
        anyhow::bail!(
            "give the saved plan to apply (gwb plan --out plan.json, then gwb apply plan.json)"
        );
    };
    let plan = load_plan(path)?;
    let tenant_sha256 = match &args.snapshot {
        Some(dir) => {
            let file = dir.join("tenant.json");
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            Some(super::sha256_hex(&bytes))
        }
        None => None,
    };
    let opts = Options {
        takeover: args.takeover,
        max_deletes: args.max_deletes,
        journal_dir: args.journal_dir.clone(),
        plan_path: Some(path.display().to_string()),
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
    let settings = Settings::from_args(&args.ldap)?;
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
