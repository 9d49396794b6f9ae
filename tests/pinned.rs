//! Snapshot tests of gwb's stable, documented output: the plan JSON of the contoso fixture,
//! `gwb codes`, and the `--help` text of every command. A change to any of them is a change to
//! gwb's API or its teaching text and shows up here as a reviewable diff (`cargo insta review`,
//! or `INSTA_UPDATE=always cargo test --test integration pinned::` after an intended change).

use serde_json::Value;

use crate::util::{fixture, gwb};

/// gwb with no configuration or credential from the environment, at a fixed width.
fn clean_gwb() -> assert_cmd::Command {
    let mut c = gwb();
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("GWB_") || k.starts_with("AZURE_") || k == "NO_COLOR" {
            c.env_remove(&k);
        }
    }
    c.env("COLUMNS", "100");
    c
}

fn stdout_of(args: &[&str]) -> String {
    let out = clean_gwb().args(args).output().expect("gwb runs");
    assert!(
        out.status.success(),
        "gwb {args:?}: exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    // The binary's name is gwb.exe on Windows; the text is otherwise the same.
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .replace("gwb.exe", "gwb")
}

#[test]
fn plan_json_of_the_contoso_fixture() {
    let out = clean_gwb()
        .args(["plan", "--snapshot"])
        .arg(fixture("contoso"))
        .args(["--format", "json"])
        .output()
        .expect("gwb runs");
    assert_eq!(out.status.code(), Some(0));
    let plan: Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    // What legitimately differs between runs and machines: the time, the version, where the
    // inputs were read from, and the digests that cover them. Every other section digest is
    // pinned, so a change to what a digest covers shows here too.
    insta::assert_json_snapshot!(plan, {
        ".createdAt" => "[createdAt]",
        ".gwbVersion" => "[gwbVersion]",
        ".inputs.*.location" => "[location]",
        ".sectionSha256.inputs" => "[covers locations]",
        ".sectionSha256[\"format, gwbVersion, createdAt\"]" => "[covers createdAt]",
        ".sha256" => "[covers createdAt]",
    });
}

#[test]
fn codes_list() {
    insta::assert_snapshot!(stdout_of(&["codes"]));
}

#[test]
fn codes_json() {
    let codes: Value =
        serde_json::from_str(&stdout_of(&["codes", "--format", "json"])).expect("codes JSON");
    insta::assert_json_snapshot!(codes);
}

/// Every command and subcommand `gwb --help` lists, and their own subcommands.
fn commands() -> Vec<Vec<String>> {
    fn listed(help: &str) -> Vec<String> {
        help.lines()
            .skip_while(|l| l.trim() != "Commands:")
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            // Command names start at column 2; wrapped descriptions start further in.
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .filter(|c| c != "help")
            .collect()
    }
    let mut all = vec![vec![]];
    for c in listed(&stdout_of(&["--help"])) {
        let subs = listed(&stdout_of(&[&c, "--help"]));
        all.push(vec![c.clone()]);
        for s in subs {
            all.push(vec![c.clone(), s]);
        }
    }
    all
}

#[test]
fn help_of_every_command() {
    let cmds = commands();
    assert!(
        cmds.len() > 15,
        "the command list was not read from --help: {cmds:?}"
    );
    for cmd in cmds {
        let mut args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        args.push("--help");
        let name = if cmd.is_empty() {
            "gwb".to_string()
        } else {
            format!("gwb-{}", cmd.join("-"))
        };
        insta::assert_snapshot!(name, stdout_of(&args));
    }
}
