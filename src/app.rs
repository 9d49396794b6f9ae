//! Dispatch ("high" arguments): turns parsed arguments into work, runs it, and says whether
//! the gate passed. Exit codes themselves live in `main.rs`.

use std::io::Write;

use crate::audit::Severity;
use crate::bundle::Snapshot;
use crate::cli::{AuditArgs, Cli, Command, FailOn, Format, Shape};
use crate::core::Policy;

/// How a successful run ended; `main` maps this to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    Pass,
    GateFailed,
    Incomplete,
}

pub fn init_logging(verbose: u8, quiet: bool) {
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
            audit(&args, &cfg)
        }
        Command::Collect(args) => {
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
            let text = crate::report::codes(args.format)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(RunOutcome::Pass)
        }
        Command::Plan(args) => crate::plan::run_plan(&args).map(|_| RunOutcome::Pass),
        Command::Show(args) => crate::plan::run_show(&args).map(|_| RunOutcome::Pass),
        Command::GraphSim(args) => {
            crate::sim::run(&args)?;
            Ok(RunOutcome::Pass)
        }
        Command::Sync(args) => Ok(match crate::sync::run(*args)? {
            crate::sync::SyncOutcome::Done => RunOutcome::Pass,
            crate::sync::SyncOutcome::SomeFailed => RunOutcome::GateFailed,
        }),
        Command::Undo(args) => {
            use crate::plan::args::PlanFormat;
            use std::io::IsTerminal;
            let plan = crate::undo::plan_from_args(&args)?;
            if let Some(path) = &args.out {
                let json = crate::plan::render::render(&plan, PlanFormat::Json, true)?;
                crate::fsio::write_atomic(path, json.as_bytes())?;
            }
            let format =
                args.format
                    .unwrap_or(if args.out.is_some() || std::io::stdout().is_terminal() {
                        PlanFormat::Table
                    } else {
                        PlanFormat::Json
                    });
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
                RunOutcome::GateFailed
            })
        }
        Command::Tenant(args) => crate::tenant::run(&args),
    }
}

/// Load the snapshot an audit (or plan) reads: a bundle directory, or live collection.
pub fn load_snapshot(
    snapshot: Option<&std::path::Path>,
    evidence: &[std::path::PathBuf],
    graph: &crate::graph::args::GraphArgs,
    ldap: &crate::ldap::args::LdapArgs,
    target_ou: Option<&str>,
) -> anyhow::Result<Snapshot> {
    if let Some(dir) = snapshot {
        if graph.is_live() || ldap.ldap_url.is_some() {
            anyhow::bail!(
                "give either --snapshot DIR or live options (Graph / --ldap-url), not both"
            );
        }
        return Ok(crate::snapshot::load_dir(dir, evidence)?);
    }
    if !graph.is_live() && ldap.ldap_url.is_none() && evidence.is_empty() {
        anyhow::bail!(
            "nothing to audit: give --snapshot DIR (e.g. --snapshot fixtures/contoso), live options (--tenant/--client-id or --graph-url, --ldap-url), or --evidence FILE"
        );
    }
    let mut snap = Snapshot {
        origin: "live".into(),
        ..Snapshot::default()
    };
    if graph.is_live() {
        let value = crate::graph::collect(graph)?;
        snap.tenant = serde_json::from_value(value).map_err(|e| {
            anyhow::anyhow!("the tenant collected from Graph has an unexpected shape: {e}")
        })?;
    }
    let mut entries = Vec::new();
    if ldap.ldap_url.is_some() {
        let refs = crate::collect::member_refs(&snap.tenant);
        entries = crate::ldap::collect(ldap, target_ou, &refs)?;
        snap.manifest.target_ou = target_ou.map(str::to_string);
    }
    for f in evidence {
        for ev in crate::ps::load_evidence_path(f)? {
            crate::bundle::merge_evidence(&mut snap, &mut entries, ev);
        }
    }
    if ldap.ldap_url.is_some() || !entries.is_empty() {
        snap.ad = Some(
            crate::ad::AdSnapshot::from_entries(&entries)
                .map_err(|e| anyhow::anyhow!("AD data: line {}: {}", e.line, e.message))?,
        );
    }
    Ok(snap)
}

fn default_format(output: Option<&std::path::Path>) -> Format {
    use std::io::IsTerminal;
    if let Some(ext) = output.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
        match ext.to_ascii_lowercase().as_str() {
            "csv" => return Format::Csv,
            "md" | "markdown" => return Format::Markdown,
            "xml" | "clixml" => return Format::Clixml,
            "txt" => return Format::Table,
            _ => return Format::Json,
        }
    }
    if output.is_none() && std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Json
    }
}

fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
}

fn audit(args: &AuditArgs, cfg: &crate::config::Config) -> anyhow::Result<RunOutcome> {
    let snap = load_snapshot(
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
    };
    let report = crate::audit::audit_with(&snap, &opts, &cfg.overrides)?;
    let format = args
        .format
        .unwrap_or_else(|| default_format(args.output.as_deref()));
    let render = |out: &mut dyn Write| -> anyhow::Result<()> {
        match args.shape {
            Some(Shape::Msidentitytools) => {
                out.write_all(&crate::report::shape::render(&snap, &report, format)?)?
            }
            None => crate::report::write(&report, format, terminal_width(), out)?,
        }
        Ok(())
    };
    match &args.output {
        Some(path) => crate::collect::write_atomic_with(path, render)?,
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            render(&mut out)?;
            out.flush()?;
        }
    }
    if args.require_complete && !report.evidence.complete {
        tracing::warn!(
            "evidence is incomplete: missing {:?}, incomplete {:?}",
            report.evidence.missing,
            report.evidence.incomplete
        );
        return Ok(RunOutcome::Incomplete);
    }
    let min = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    Ok(if report.gate_fails(min) {
        RunOutcome::GateFailed
    } else {
        RunOutcome::Pass
    })
}
