//! Dispatch ("high" arguments): turns parsed arguments into work, runs it, and says whether
//! the gate passed. Exit codes themselves live in `main.rs`.

use std::io::Write;

use crate::cli::{Cli, Command};

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
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(format!("gwb={level},warn")));
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).with_target(false).try_init();
}

pub fn run(cli: Cli) -> anyhow::Result<RunOutcome> {
    match cli.command {
        Command::Audit(_args) => anyhow::bail!("audit: not wired yet"),
        Command::Collect(args) => {
            let complete = crate::collect::run(&args)?;
            Ok(if complete { RunOutcome::Pass } else { RunOutcome::Incomplete })
        }
        Command::Inspect(args) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let ok = crate::ps::inspect(&args, &mut out)?;
            out.flush()?;
            if ok { Ok(RunOutcome::Pass) } else { anyhow::bail!("some files could not be read") }
        }
        Command::Codes(_args) => anyhow::bail!("codes: not wired yet"),
        Command::GraphSim(args) => {
            crate::sim::run(&args)?;
            Ok(RunOutcome::Pass)
        }
    }
}
