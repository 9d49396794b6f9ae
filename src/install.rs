//! What installing gwb brings beside the binary: shell completions (`gwb completions`), the
//! man pages (`gwb man`) and the long version line (`gwb --version`: version, commit, target
//! and enabled features), all generated from the clap definitions so they never drift.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, CommandFactory, ValueEnum};

/// `gwb --version`: "gwb 0.1.0 (commit 0123456789ab, x86_64-unknown-linux-gnu, features: none)".
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("GWB_BUILD_COMMIT"),
    ", ",
    env!("GWB_BUILD_TARGET"),
    ", features: ",
    env!("GWB_BUILD_FEATURES"),
    ")"
);

/// The commit the binary was built from ("unknown" when built without git).
pub const COMMIT: &str = env!("GWB_BUILD_COMMIT");

/// Shells `gwb completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

pub const COMPLETIONS_LONG: &str = "\
Writes a completion script for SHELL to stdout.

Examples:
  gwb completions bash > /etc/bash_completion.d/gwb
  gwb completions zsh > \"${fpath[1]}/_gwb\"
  gwb completions fish > ~/.config/fish/completions/gwb.fish
  gwb completions powershell | Out-String | Invoke-Expression          # this session
  gwb completions powershell >> $PROFILE                                # every session";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub const MAN_LONG: &str = "\
Writes the man page gwb(1) to stdout, or with --out-dir one page per command (gwb.1,
gwb-audit.1, …) into a directory.

Examples:
  gwb man | man -l -
  gwb man --out-dir /usr/local/share/man/man1";

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write gwb.1 and one page per command into DIR (created if missing) instead of stdout.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// The completion script for `shell`.
pub fn completions(shell: Shell, out: &mut dyn Write) -> anyhow::Result<()> {
    use clap_complete::Shell as S;
    let s = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
        Shell::Elvish => S::Elvish,
    };
    let mut cmd = crate::cli::Cli::command();
    cmd.set_bin_name("gwb");
    cmd.build();
    // try_generate, not generate: a closed pipe (`gwb completions bash | head`) is an error
    // the caller handles, not a panic.
    clap_complete::Generator::try_generate(&s, &cmd, out)?;
    Ok(())
}

/// The man page of gwb to `out`.
pub fn man(out: &mut dyn Write) -> anyhow::Result<()> {
    let cmd = crate::cli::Cli::command();
    clap_mangen::Man::new(cmd)
        .render(out)
        .context("rendering the man page")
}

/// gwb.1 and one page per command (gwb-audit.1, …) into `dir`; the paths written, sorted.
pub fn man_pages(dir: &std::path::Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    clap_mangen::generate_to(crate::cli::Cli::command(), dir)
        .with_context(|| format!("writing man pages into {}", dir.display()))?;
    let mut written = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("gwb") && name.ends_with(".1") {
            written.push(path);
        }
    }
    written.sort();
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_the_package_version_commit_and_features() {
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")), "{VERSION}");
        assert!(VERSION.contains("commit "), "{VERSION}");
        assert!(VERSION.contains("features: "), "{VERSION}");
        assert!(!COMMIT.is_empty());
    }

    #[test]
    fn every_shell_gets_a_script_naming_every_command() {
        for shell in Shell::value_variants() {
            let mut out = Vec::new();
            completions(*shell, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            for sub in ["audit", "apply", "undo", "completions", "man"] {
                assert!(text.contains(sub), "{shell:?} lacks {sub}");
            }
        }
    }

    #[test]
    fn man_pages_cover_every_command() {
        let dir = tempfile::tempdir().unwrap();
        let pages = man_pages(dir.path()).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for n in [
            "gwb.1",
            "gwb-audit.1",
            "gwb-apply.1",
            "gwb-completions.1",
            "gwb-man.1",
        ] {
            assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
        }
        let audit = std::fs::read_to_string(dir.path().join("gwb-audit.1")).unwrap();
        assert!(
            audit.contains(".TH") && audit.contains("snapshot"),
            "{audit}"
        );
    }
}
