//! Dispatch ("high" arguments): turns parsed arguments into work, runs it, and says whether
//! the gate passed. Exit codes themselves live in `main.rs`.

use std::io::Write;

use crate::audit::Severity;
use crate::bundle::Snapshot;
use crate::cli::{AuditArgs, Cli, Command, FailOn, Shape};
use crate::core::Policy;
use crate::report::output::{Dest, Output};

pub use crate::outcome::RunOutcome;

/// Whether colour may be used on a stream: a terminal, and NO_COLOR unset or empty.
pub fn color_allowed(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The one message sink: every log line, warning and progress note goes through `tracing` to
/// stderr (ANSI only on a terminal, never with NO_COLOR); reports go to stdout or files.
pub fn init_logging(verbose: u8, quiet: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let level = if quiet {
        "error"
    } else {
        match verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("gwb={level},warn")));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(color_allowed(std::io::stderr().is_terminal()))
        .without_time()
        .try_init();
}

pub fn run(cli: Cli) -> anyhow::Result<RunOutcome> {
    let quiet = cli.quiet;
    if let Some(n) = cli.max_input_size {
        crate::fsio::set_max_input_bytes(n);
    }
    match cli.command {
        Command::Audit(mut args) => {
            let cfg = crate::config::load_into_audit(&mut args)?;
            audit(&args, &cfg, quiet)
        }
        Command::Collect(mut args) => {
            crate::config::load_into_collect(&mut args)?;
            let complete = crate::collect::run(&args)?;
            Ok(if complete {
                RunOutcome::Pass
            } else {
                RunOutcome::Incomplete
            })
        }
        Command::Inspect(args) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let ok = crate::ps::inspect(&args, &mut out)?;
            out.flush()?;
            if ok {
                Ok(RunOutcome::Pass)
            } else {
                anyhow::bail!("some files could not be read")
            }
        }
        Command::Codes(args) => {
            let text = crate::report::codes::render(args.code.as_deref(), args.format)?;
            write_stdout(text.as_bytes())?;
            Ok(RunOutcome::Pass)
        }
        Command::Plan(args) => crate::plan::run_plan(&args).map(|plan| {
            // The process ends next: a plan of a large tenant is not freed one allocation at
            // a time.
            std::mem::forget(plan);
            RunOutcome::Pass
        }),
        Command::Show(args) => crate::plan::run_show(&args).map(|_| RunOutcome::Pass),
        Command::GraphSim(args) => {
            crate::sim::run(&args)?;
            Ok(RunOutcome::Pass)
        }
        Command::Sync(args) => Ok(match crate::sync::run(*args)? {
            crate::sync::SyncOutcome::Done => RunOutcome::Pass,
            crate::sync::SyncOutcome::SomeFailed => RunOutcome::SomeFailed,
        }),
        Command::Undo(args) => {
            use crate::plan::args::PlanFormat;
            let plan = crate::undo::plan_from_args(&args)?;
            if let Some(path) = &args.out {
                let json = crate::plan::render::render(&plan, PlanFormat::Json, true)?;
                crate::fsio::write_atomic(path, json.as_bytes())?;
            }
            let format = args.format.unwrap_or(PlanFormat::Table);
            let text = crate::plan::render::render(&plan, format, args.show_unchanged)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(text.as_bytes())?;
            if let Some(path) = &args.out {
                writeln!(
                    out,
                    "Undo plan saved to {}; apply it with: gwb apply {}",
                    path.display(),
                    path.display()
                )?;
            }
            out.flush()?;
            Ok(RunOutcome::Pass)
        }
        Command::Init(args) => {
            let text = crate::config::init(&args)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            writeln!(out, "{}", text.trim_end())?;
            out.flush()?;
            Ok(RunOutcome::Pass)
        }
        Command::Apply(mut args) => {
            crate::config::load_into_apply(&mut args)?;
            Ok(if crate::apply::command::run(&args, quiet)? {
                RunOutcome::Pass
            } else {
                RunOutcome::SomeFailed
            })
        }
        Command::Tenant(mut args) => {
            crate::config::load_into_tenant(&mut args)?;
            crate::tenant::run(&args)
        }
        Command::Mappings(args) => {
            let text = crate::cloudsync::run(&args)?;
            write_stdout(text.as_bytes())?;
            Ok(RunOutcome::Pass)
        }
        Command::Migrate(args) => Ok(if crate::migrate::run(&args)? {
            RunOutcome::Pass
        } else {
            RunOutcome::ConsequencesNotAccepted
        }),
        Command::Completions(args) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            crate::install::completions(args.shell, &mut out)?;
            out.flush()?;
            Ok(RunOutcome::Pass)
        }
        Command::Man(args) => {
            match &args.out_dir {
                Some(dir) => {
                    let pages = crate::install::man_pages(dir)?;
                    let stdout = std::io::stdout();
                    let mut out = stdout.lock();
                    for p in pages {
                        writeln!(out, "{}", p.display())?;
                    }
                    out.flush()?;
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut out = stdout.lock();
                    crate::install::man(&mut out)?;
                    out.flush()?;
                }
            }
            Ok(RunOutcome::Pass)
        }
    }
}

/// A snapshot an audit reads, and the entries a live LDAP collection gave (empty otherwise),
/// which an evidence bundle keeps as `ad.ldif` so that it replays offline.
pub struct Loaded {
    pub snap: Snapshot,
    pub live_ad: Vec<crate::ad::ldif::Entry>,
}

/// Load the snapshot an audit reads, through the one input loader ([`crate::input`]).
pub fn load_snapshot(
    snapshot: Option<&std::path::Path>,
    evidence: &[std::path::PathBuf],
    graph: &crate::graph::args::GraphArgs,
    ldap: &crate::ldap::args::LdapArgs,
    target_ou: Option<&str>,
) -> anyhow::Result<Loaded> {
    let l = crate::input::load(&crate::input::Sources {
        snapshot,
        evidence,
        graph,
        ldap,
        target_ou,
        fingerprints: false,
        purpose: crate::input::Purpose::Audit,
    })?;
    Ok(Loaded {
        snap: l.snap,
        live_ad: l.live_ad,
    })
}

/// A closed pipe on stdout (`| head`), however the writer wrapped it.
fn pipe_closed(e: &anyhow::Error) -> bool {
    crate::error::is_broken_pipe(e)
        || e.chain().any(|x| {
            x.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                == Some(std::io::ErrorKind::BrokenPipe)
        })
}

/// Write to stdout; a closed pipe (`| head`) ends the output quietly.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn audit(args: &AuditArgs, cfg: &crate::config::Config, quiet: bool) -> anyhow::Result<RunOutcome> {
    use std::io::IsTerminal;
    let terminal = std::io::stdout().is_terminal();
    // Usage errors first, before any work.
    let outputs =
        crate::report::output::plan(&args.format, &args.output, args.output_dir.as_deref())
            .map_err(anyhow::Error::msg)?;
    if let Some(Shape::Msidentitytools) = args.shape {
        for o in &outputs {
            if !matches!(
                o.format,
                crate::cli::Format::Json | crate::cli::Format::Csv | crate::cli::Format::Clixml
            ) {
                anyhow::bail!(
                    "--shape msidentitytools gives records in json, csv or clixml, not {}",
                    o.format.name()
                );
            }
        }
    }
    let overrides = crate::audit::severity::Overrides {
        deny: args.deny.clone(),
        warn: args.warn.clone(),
        allow: args.allow.clone(),
    };
    overrides.validate().map_err(anyhow::Error::msg)?;
    if let Some(t) = &args.as_of
        && crate::audit::severity::parse_time(t).is_none()
    {
        anyhow::bail!("--as-of {t}: not an RFC 3339 time (e.g. 2026-12-01T09:00:00Z)");
    }
    let waivers = match &args.waivers {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("--waivers {}: {e}", path.display()))?;
            crate::audit::waiver::parse(&path.display().to_string(), &text)
                .map_err(anyhow::Error::msg)?
        }
        None => Vec::new(),
    };
    let started = std::time::Instant::now();
    let Loaded { snap, live_ad } = load_snapshot(
        args.snapshot.as_deref(),
        &args.evidence,
        &args.graph,
        &args.ldap,
        args.policy.target_ou.as_deref(),
    )?;
    let policy = Policy {
        deletion: args.policy.deletion,
        member_limit: args.policy.member_limit,
        cn_format: args.policy.cn_format,
        feature_state: args.policy.feature_state,
    };
    let mut targets = args.target.clone();
    targets.dedup();
    let opts = crate::audit::Options {
        targets,
        policy,
        target_ou: args.policy.target_ou.clone(),
        generated_at: crate::collect::now_rfc3339(),
        as_of: args.as_of.clone(),
        overrides,
        waivers,
        gate: crate::audit::gate::GatePolicy {
            targets: args.gate.clone(),
            fail_on: match args.fail_on {
                FailOn::Error => Some(Severity::Error),
                FailOn::Warning => Some(Severity::Warning),
                FailOn::Never => None,
            },
            allow_incomplete: args.allow_incomplete,
            require_complete: args.require_complete,
        },
        cloud_sync: match args.snapshot.as_deref() {
            Some(dir) if dir.is_dir() => crate::cloudsync::forecast::load_input(
                dir,
                args.cloud_sync_membership == crate::audit::args::Toggle::On,
            )?
            .map(std::sync::Arc::new),
            _ => None,
        },
    };
    tracing::info!("snapshot read in {:.2?}", started.elapsed());
    let started = std::time::Instant::now();
    let report = crate::audit::audit_with(&snap, &opts, &cfg.overrides)?;
    tracing::info!("audited in {:.2?}", started.elapsed());
    let started = std::time::Instant::now();
    let actions = if outputs.iter().any(|o| o.format == crate::cli::Format::Csv) {
        plan_actions(&snap, args, cfg)
    } else {
        None
    };
    let mut wrote = Vec::new();
    for o in &outputs {
        write_output(&snap, &report, args, o, terminal, &actions)?;
        if let Dest::File(path) = &o.dest {
            wrote.push(format!("Wrote {}", path.display()));
            if let Some(f) = &o.findings_csv {
                wrote.push(format!("Wrote {}", f.display()));
            }
        }
    }
    tracing::info!("reports written in {:.2?}", started.elapsed());
    if let Some(zip) = &args.bundle {
        crate::report::evidence::write_bundle(
            zip,
            &snap,
            &live_ad,
            &report,
            &args.evidence,
            args.waivers.as_deref(),
        )?;
        wrote.push(format!("Wrote {} (evidence bundle)", zip.display()));
    }
    if !quiet {
        // Files written, on stderr: stdout may carry a report of its own.
        let stderr = std::io::stderr();
        let mut e = stderr.lock();
        for line in &wrote {
            writeln!(e, "{line}")?;
        }
    }
    if !quiet {
        let line = &report.gate.line;
        let stderr = std::io::stderr();
        let mut e = stderr.lock();
        let painted = if color_allowed(e.is_terminal()) {
            let code = match report.gate.result {
                crate::audit::gate::GateResult::Passed => "32",
                crate::audit::gate::GateResult::Failed => "31",
                crate::audit::gate::GateResult::Incomplete => "33",
            };
            format!("\x1b[1;{code}m{line}\x1b[0m")
        } else {
            line.clone()
        };
        let _ = writeln!(e, "{painted}");
    }
    let outcome = RunOutcome::from(report.gate.result);
    // The process ends next: freeing millions of small allocations one by one would cost
    // about a second on a large tenant, for memory the OS takes back anyway.
    std::mem::forget(report);
    std::mem::forget(snap);
    Ok(outcome)
}

/// What `gwb plan` would do per group (for the CSV's `action`); `None` when no plan can be made
/// from this snapshot (no AD, no target OU), so the column stays empty.
fn plan_actions(
    snap: &Snapshot,
    args: &AuditArgs,
    cfg: &crate::config::Config,
) -> Option<std::sync::Arc<std::collections::HashMap<String, &'static str>>> {
    use crate::plan::model::{Fingerprint, InputSource, PlanInputs, PlanPolicy};
    let prepared = crate::core::inputs::prepare(snap, args.policy.target_ou.as_deref()).ok()?;
    let none = || Fingerprint {
        source: InputSource::None,
        location: None,
        sha256: None,
    };
    let opts = crate::plan::diff::PlanOptions {
        policy: PlanPolicy {
            deletion: args.policy.deletion,
            member_limit: args.policy.member_limit,
            cn_format: args.policy.cn_format,
            ..PlanPolicy::default()
        },
        inputs: PlanInputs {
            tenant_id: snap.tenant.tenant_id.clone(),
            tenant: none(),
            ad: none(),
        },
        created_at: String::new(),
        partial_evidence: None,
        graph_absent: None,
    };
    let plan = crate::plan::diff::build_with(snap, &prepared, &opts, &cfg.overrides).ok()?;
    Some(std::sync::Arc::new(
        plan.groups
            .iter()
            .map(|g| (g.id.to_ascii_lowercase(), g.action.as_str()))
            .collect(),
    ))
}

fn write_output(
    snap: &Snapshot,
    report: &crate::audit::Report,
    args: &AuditArgs,
    o: &Output,
    terminal: bool,
    plan_actions: &Option<std::sync::Arc<std::collections::HashMap<String, &'static str>>>,
) -> anyhow::Result<()> {
    let to_terminal = terminal && o.dest == Dest::Stdout;
    let opts = crate::report::RenderOptions {
        width: crate::term::width(to_terminal),
        color: o.dest == Dest::Stdout && color_allowed(terminal),
        all: args.all,
        plan_actions: plan_actions.clone(),
    };
    let format = o.format;
    let render = |out: &mut dyn Write| -> anyhow::Result<()> {
        match args.shape {
            Some(Shape::Msidentitytools) => {
                out.write_all(&crate::report::shape::render(snap, report, format)?)?
            }
            None => crate::report::write(report, format, &opts, out)?,
        }
        Ok(())
    };
    match &o.dest {
        Dest::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
            }
            crate::collect::write_atomic_with(path, render)?;
            if let Some(f) = &o.findings_csv {
                crate::collect::write_atomic_with(f, |out| {
                    out.write_all(&crate::report::findings_csv(report)?)?;
                    Ok(())
                })?;
            }
        }
        Dest::Stdout => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            let r = render(&mut out).and_then(|()| out.flush().map_err(anyhow::Error::from));
            match r {
                Err(e) if pipe_closed(&e) => {}
                other => other?,
            }
        }
    }
    Ok(())
}
