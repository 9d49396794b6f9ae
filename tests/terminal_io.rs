//! Who may talk to the terminal: printing (`println!`, `eprintln!`, `print!`, `eprint!`),
//! stdout and stdin belong to the command layer (the code that runs one command) and the
//! renderers; exit codes belong to `main` and the outcome table. Everything else returns values
//! and errors. A new print anywhere else fails here, naming the file and line; a file that
//! legitimately joins the command layer is added to the table with its reason.

use std::path::{Path, PathBuf};

use crate::util::repo;

/// Files of the command layer, besides the renderers (`render.rs`, `src/report/`, `term.rs`).
const COMMAND_LAYER: &[(&str, &str)] = &[
    ("src/main.rs", "the entry point prints the last error"),
    (
        "src/app.rs",
        "dispatch: runs the commands and writes their output",
    ),
    (
        "src/confirm.rs",
        "the one confirmation rule asks on the terminal",
    ),
    ("src/apply/command.rs", "gwb apply"),
    ("src/plan/mod.rs", "gwb plan"),
    ("src/migrate/mod.rs", "gwb migrate plan"),
    ("src/tenant/apply.rs", "gwb tenant plan and apply"),
    ("src/collect.rs", "gwb collect"),
    (
        "src/sim/mod.rs",
        "gwb graph-sim announces its port on stdout",
    ),
    (
        "src/redact.rs",
        "the panic hook prints where a bug is, never its payload",
    ),
];

const TERMINAL: &[&str] = &[
    "println!(",
    "eprintln!(",
    "print!(",
    "eprint!(",
    "io::stdout()",
    "io::stdin()",
];
const EXIT: &[&str] = &["process::exit(", "ExitCode::from("];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's code without its unit tests (`#[cfg(test)] mod …` to the end of the file, as
/// every module here keeps them) and without line comments.
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, l)) = lines.next() {
        if l.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|(_, n)| n.trim_start().starts_with("mod "))
        {
            break;
        }
        let code = l.split("//").next().unwrap_or("");
        out.push((i + 1, code));
    }
    out
}

fn is_renderer(rel: &str) -> bool {
    rel.ends_with("/render.rs") || rel.starts_with("src/report/") || rel == "src/term.rs"
}

/// Every place in `src/` where one of `needles` appears, outside the files `allowed` accepts.
fn offenders(needles: &[&str], allowed: impl Fn(&str) -> bool) -> Vec<String> {
    let root = repo();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut found = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if allowed(&rel) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, l) in code_lines(&text) {
            if needles.iter().any(|x| l.contains(x)) {
                found.push(format!("{rel}:{n}: {}", l.trim()));
            }
        }
    }
    found
}

#[test]
fn only_the_command_layer_and_the_renderers_use_the_terminal() {
    let found = offenders(TERMINAL, |rel| {
        is_renderer(rel) || COMMAND_LAYER.iter().any(|(f, _)| *f == rel)
    });
    assert!(
        found.is_empty(),
        "terminal I/O outside the command layer and the renderers (return the text, or add the file to COMMAND_LAYER with its reason):\n{}",
        found.join("\n")
    );
    // The table names files that exist and still need it.
    for (f, why) in COMMAND_LAYER {
        let text =
            std::fs::read_to_string(repo().join(f)).unwrap_or_else(|e| panic!("{f} ({why}): {e}"));
        assert!(
            code_lines(&text)
                .iter()
                .any(|(_, l)| TERMINAL.iter().any(|x| l.contains(x))),
            "{f} ({why}) no longer uses the terminal: take it out of COMMAND_LAYER"
        );
    }
}

#[test]
fn exit_codes_are_decided_in_one_place() {
    let found = offenders(EXIT, |rel| rel == "src/main.rs" || rel == "src/outcome.rs");
    assert!(
        found.is_empty(),
        "an exit code outside main and the outcome table (return a RunOutcome instead):\n{}",
        found.join("\n")
    );
}

/// The checker itself: a print in an ordinary module is found, one in its unit tests is not.
#[test]
fn the_checker_finds_prints_in_code_and_not_in_unit_tests() {
    let text = "fn f() {\n    println!(\"x\"); // shown\n}\n// println!(\"comment\")\n#[cfg(test)]\nmod tests {\n    fn g() { println!(\"y\"); }\n}\n";
    let hits: Vec<usize> = code_lines(text)
        .iter()
        .filter(|(_, l)| TERMINAL.iter().any(|x| l.contains(x)))
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(hits, vec![2]);
}
