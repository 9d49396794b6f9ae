//! What installing gwb brings: shell completions that a shell loads and completes with, man
//! pages man renders, and a --version line naming version, commit, target and features.

use crate::util::{gwb, repo, run_ok};

fn stdout_of(args: &[&str]) -> String {
    let out = run_ok(gwb().args(args));
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn version_names_version_commit_target_and_features() {
    let line = stdout_of(&["--version"]);
    let line = line.trim_end();
    assert!(
        line.starts_with(&format!("gwb {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
    assert!(line.contains(", features: "), "{line}");
    assert!(line.ends_with(')'), "{line}");
    // The commit is the checkout's HEAD when git is there to ask (a source archive says "unknown").
    if let Ok(out) = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(repo())
        .output()
        && out.status.success()
    {
        let head = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            line.contains(&format!("(commit {head},")),
            "{line} vs {head}"
        );
    }
    #[cfg(windows)]
    assert!(line.contains("windows"), "{line}");
    #[cfg(feature = "kerberos")]
    assert!(line.contains("features: kerberos"), "{line}");
    #[cfg(not(feature = "kerberos"))]
    assert!(line.contains("features: none"), "{line}");
}

#[test]
#[cfg_attr(windows, ignore = "runs Linux bash")]
fn bash_completion_completes_commands_and_flags() {
    let script = stdout_of(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gwb.bash");
    std::fs::write(&path, script).unwrap();
    // Load the script into a real bash and ask it what `gwb au<TAB>` and `gwb audit --snap<TAB>` give.
    let probe = r#"
source "$1"
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=(); _gwb gwb "${COMP_WORDS[$COMP_CWORD]}" "${COMP_WORDS[$COMP_CWORD-1]}"; printf '%s\n' "${COMPREPLY[@]}"; }
echo "== commands"; complete_words gwb au
echo "== flags"; complete_words gwb audit --snap
echo "== shells"; complete_words gwb completions p
"#;
    let out = std::process::Command::new("bash")
        .args(["-c", probe, "probe"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let section = |name: &str| -> Vec<String> {
        text.split("== ")
            .find(|s| s.starts_with(name))
            .map(|s| s.lines().skip(1).map(str::to_string).collect())
            .unwrap_or_default()
    };
    assert_eq!(section("commands"), vec!["audit"], "{text}");
    assert_eq!(section("flags"), vec!["--snapshot"], "{text}");
    assert_eq!(section("shells"), vec!["powershell"], "{text}");
}

#[test]
fn every_shell_gets_a_script_for_gwb() {
    // What each shell's loader looks for: a completion function or command bound to `gwb`.
    let expect = [
        ("bash", "complete -F _gwb"),
        ("zsh", "#compdef gwb"),
        ("fish", "complete -c gwb"),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'gwb'",
        ),
        ("elvish", "edit:completion:arg-completer[gwb]"),
    ];
    for (shell, marker) in expect {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for sub in ["audit", "apply", "undo", "sync", "man"] {
            assert!(script.contains(sub), "{shell}: no {sub}");
        }
    }
    let out = gwb().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn man_page_names_every_command_and_renders() {
    let page = stdout_of(&["man"]);
    assert!(
        page.starts_with(".ie") || page.contains(".TH gwb 1"),
        "{page}"
    );
    for sub in ["audit", "inspect", "apply", "undo", "completions"] {
        assert!(page.contains(sub), "no {sub}");
    }
    assert!(page.contains(env!("CARGO_PKG_VERSION")));
}

#[test]
#[cfg_attr(windows, ignore = "runs Linux man and groff")]
fn man_pages_per_command_render_with_man() {
    let dir = tempfile::tempdir().unwrap();
    let listed = stdout_of(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    let audit = dir.path().join("gwb-audit.1");
    assert!(
        listed.lines().any(|l| l.ends_with("gwb-audit.1")),
        "{listed}"
    );
    let out = std::process::Command::new("man")
        .arg("-l")
        .arg(&audit)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--snapshot"), "{text}");
    assert!(text.contains("gwb-audit"), "{text}");
}
