//! The writeback plan: the diff of the desired AD state (the decision core for target `gwb`)
//! against the AD state read at planning time, and the planning-time safety decisions that
//! apply and sync reuse (delete proof, the takeover guard, duplicate ids, the deletion
//! threshold). [`model`] holds the saved format `gwb-plan/1`, [`diff`] the pure builder,
//! [`load`] the inputs, [`render`] the formats.

pub mod args;
pub mod dedupe;
pub mod diff;
pub mod load;
pub mod model;
pub mod render;
pub mod seal;

pub use diff::{PlanError, PlanOptions, ThresholdExceeded, build, check_delete_threshold};
pub use model::{Action, Plan, PlannedGroup};

use std::io::Write;

use args::{PlanArgs, PlanFormat, ShowArgs};

/// Human output by default, on a terminal and through a pipe alike; JSON and the rest only
/// by `--format`.
fn default_format() -> PlanFormat {
    PlanFormat::Table
}

fn emit(text: &str) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `gwb plan`: make the plan, save it with `--out`, render it on stdout.
pub fn run_plan(args: &PlanArgs) -> anyhow::Result<Plan> {
    let plan = load::make_plan(&args.input)?;
    let format = args.format.unwrap_or_else(default_format);
    if let Some(path) = &args.out {
        // Streamed into the file (the same bytes as `render` gives): a plan of a million
        // member changes is never held twice in memory.
        crate::fsio::write_atomic_with(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &plan)?;
            w.write_all(b"\n")?;
            Ok(())
        })?;
        // On stderr: stdout stays the rendered plan (JSON stays parseable).
        eprintln!(
            "Saved plan to {} (sha256 {}). Apply it with: gwb apply {}",
            path.display(),
            plan.sha256.as_deref().unwrap_or("-"),
            crate::text::shell_word(&path.display().to_string())
        );
    }
    // With --out and no explicit format, stdout shows the review table, not the JSON again.
    let format = if args.out.is_some() && args.format.is_none() {
        PlanFormat::Table
    } else {
        format
    };
    emit(&render::render_with(
        &plan,
        format,
        args.show_unchanged,
        colour(),
    )?)?;
    Ok(plan)
}

/// Colour on stdout: a terminal, NO_COLOR unset.
fn colour() -> bool {
    use std::io::IsTerminal;
    crate::app::color_allowed(std::io::stdout().is_terminal())
}

/// `gwb show`: render a saved plan.
pub fn run_show(args: &ShowArgs) -> anyhow::Result<Plan> {
    let plan = load::read_plan(&args.plan)?;
    let format = args.format.unwrap_or_else(default_format);
    emit(&render::render_with(
        &plan,
        format,
        args.show_unchanged,
        colour(),
    )?)?;
    Ok(plan)
}
