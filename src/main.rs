//! The `gwb` binary: install the TLS provider, start logging, run, map the outcome to an exit code.
//! Exit codes (documented in README.md): 0 gate passes, 1 gate fails, 2 usage or input error,
//! 3 evidence incomplete (a blocking check could not run; `--allow-incomplete` accepts it).

use std::process::ExitCode;

use clap::Parser;
use gwb::app;
use gwb::cli::Cli;

fn main() -> ExitCode {
    // A panic never prints its payload (it may hold bytes a server sent).
    gwb::redact::install_panic_hook();
    // One crypto provider for both reqwest and ldap3 (rustls panics if it has to guess).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    app::init_logging(cli.verbose, cli.quiet);
    match app::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(err) => {
            if gwb::error::is_broken_pipe(&err) {
                return ExitCode::from(0);
            }
            eprintln!("gwb: error: {}", gwb::error::report(&err));
            ExitCode::from(2)
        }
    }
}
