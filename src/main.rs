//! The `gwb` binary: install the TLS provider, start logging, run, map the outcome to an exit code.
//! The exit codes are one table, in `gwb::outcome` (documented in README.md).

use std::process::ExitCode;

use clap::Parser;
use gwb::app;
use gwb::cli::Cli;
use gwb::outcome::RunOutcome;

fn main() -> ExitCode {
    // A panic never prints its payload (it may hold bytes a server sent).
    gwb::redact::install_panic_hook();
    // One crypto provider for both reqwest and ldap3 (rustls panics if it has to guess).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                gwb::outcome::EXIT_ERROR
            } else {
                RunOutcome::Pass.exit_code()
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    app::init_logging(cli.verbose, cli.quiet);
    match app::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(err) => {
            if gwb::error::is_broken_pipe(&err) {
                return ExitCode::from(RunOutcome::Pass.exit_code());
            }
            eprintln!("gwb: error: {}", gwb::error::report(&err));
            ExitCode::from(gwb::outcome::EXIT_ERROR)
        }
    }
}
