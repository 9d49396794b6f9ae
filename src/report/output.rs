//! Where each report goes: `--format` (repeatable), `--output [FORMAT=]FILE` (repeatable),
//! `--output-dir DIR`. Pure planning: every ambiguous or unsupported combination is a usage
//! error naming the flags, never a silent fallback.

use std::path::{Path, PathBuf};

use crate::cli::Format;

/// Where one rendered report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    Stdout,
    File(PathBuf),
}

/// One report to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub format: Format,
    pub dest: Dest,
    /// CSV into --output-dir: also the findings CSV beside it.
    pub findings_csv: Option<PathBuf>,
}

/// The fixed file name of a format in --output-dir.
pub fn file_name(f: Format) -> &'static str {
    match f {
        Format::Table => "audit.txt",
        Format::Json => "audit.json",
        Format::Csv => "audit.csv",
        Format::Markdown => "audit.md",
        Format::Clixml => "audit.clixml",
        Format::Html => "audit.html",
        Format::Junit => "audit.junit.xml",
        Format::Sarif => "audit.sarif",
    }
}

pub const FINDINGS_CSV: &str = "audit-findings.csv";

/// The formats --output-dir writes when no --format is given.
pub const DIR_DEFAULT: &[Format] = &[
    Format::Json,
    Format::Html,
    Format::Junit,
    Format::Sarif,
    Format::Markdown,
    Format::Csv,
];

/// Plan the outputs. Without a format or an output, the human table goes to stdout, on a
/// terminal and through a pipe alike (JSON and the rest only by `--format`/`--output`).
pub fn plan(
    formats: &[Format],
    outputs: &[String],
    output_dir: Option<&Path>,
) -> Result<Vec<Output>, String> {
    let mut formats: Vec<Format> = formats.to_vec();
    dedup(&mut formats);
    let mut out = Vec::new();
    let mut plain: Vec<PathBuf> = Vec::new();
    for o in outputs {
        match o.split_once('=') {
            Some((f, path)) if Format::parse(f).is_some() => {
                if path.is_empty() {
                    return Err(format!("--output {o}: no file after {f}="));
                }
                let format = Format::parse(f).expect("checked above");
                out.push(Output {
                    format,
                    dest: Dest::File(PathBuf::from(path)),
                    findings_csv: None,
                });
            }
            Some((f, _)) if !f.contains(['/', '\\', '.']) => {
                return Err(format!(
                    "--output {o}: unknown format {f:?} (table, json, csv, markdown, clixml, html, junit, sarif)"
                ));
            }
            _ => plain.push(PathBuf::from(o)),
        }
    }
    if let Some(dir) = output_dir {
        if !plain.is_empty() {
            return Err("--output FILE and --output-dir DIR: give FORMAT=FILE outputs with --output-dir, or one of them".into());
        }
        let list: Vec<Format> = if formats.is_empty() {
            DIR_DEFAULT.to_vec()
        } else {
            formats.clone()
        };
        for f in list {
            out.push(Output {
                format: f,
                dest: Dest::File(dir.join(file_name(f))),
                findings_csv: (f == Format::Csv).then(|| dir.join(FINDINGS_CSV)),
            });
        }
        return Ok(out);
    }
    match plain.len() {
        0 => {}
        1 => {
            let path = plain.remove(0);
            let format = match formats.as_slice() {
                [f] => *f,
                [] => Format::from_extension(&path).ok_or_else(|| {
                    format!(
                        "--output {}: cannot tell the format from the extension; add --format, name it (json=FILE), or use .json, .html, .sarif, .junit.xml, .md, .csv, .txt, .clixml",
                        path.display()
                    )
                })?,
                _ => {
                    return Err(format!(
                        "{} formats but one --output file: use --output-dir DIR, or FORMAT=FILE for each",
                        formats.len()
                    ));
                }
            };
            if let Some(ext) = Format::from_extension(&path)
                && ext != format
                && !(format == Format::Table && ext == Format::Table)
            {
                return Err(format!(
                    "--output {} names {} by its extension but the format is {}; rename the file or use {}={}",
                    path.display(),
                    ext.name(),
                    format.name(),
                    format.name(),
                    path.display()
                ));
            }
            out.push(Output {
                format,
                dest: Dest::File(path),
                findings_csv: None,
            });
            return Ok(out);
        }
        _ => {
            return Err(
                "--output given more than once without FORMAT=: write --output json=a.json --output html=a.html, or use --output-dir".into(),
            );
        }
    }
    // Formats not sent to a file go to stdout: at most one.
    let to_files: Vec<Format> = out.iter().map(|o| o.format).collect();
    let rest: Vec<Format> = formats
        .iter()
        .copied()
        .filter(|f| !to_files.contains(f))
        .collect();
    match rest.as_slice() {
        [] if out.is_empty() => out.push(Output {
            format: Format::Table,
            dest: Dest::Stdout,
            findings_csv: None,
        }),
        [] => {}
        [f] => out.push(Output {
            format: *f,
            dest: Dest::Stdout,
            findings_csv: None,
        }),
        many => {
            let names: Vec<&str> = many.iter().map(|f| f.name()).collect();
            return Err(format!(
                "only one format can go to stdout, got {}: add --output-dir DIR or --output FORMAT=FILE",
                names.join(", ")
            ));
        }
    }
    Ok(out)
}

fn dedup(v: &mut Vec<Format>) {
    let mut seen = Vec::new();
    v.retain(|f| {
        if seen.contains(f) {
            false
        } else {
            seen.push(*f);
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn defaults_and_inference() {
        // Human output by default, whatever stdout is.
        let o = plan(&[], &[], None).unwrap();
        assert_eq!((o[0].format, &o[0].dest), (Format::Table, &Dest::Stdout));
        let o = plan(&[], &s(&["r.html"]), None).unwrap();
        assert_eq!(o[0].format, Format::Html);
        let o = plan(&[], &s(&["gwb.sarif"]), None).unwrap();
        assert_eq!(o[0].format, Format::Sarif);
        let o = plan(&[], &s(&["sarif=x.json", "html=r.html"]), None).unwrap();
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].format, Format::Sarif);
        let o = plan(&[Format::Json], &s(&["html=r.html"]), None).unwrap();
        assert_eq!(o[1].dest, Dest::Stdout);
        let o = plan(&[Format::Sarif, Format::Csv], &[], Some(Path::new("d"))).unwrap();
        assert_eq!(o[0].dest, Dest::File(PathBuf::from("d/audit.sarif")));
        assert_eq!(
            o[1].findings_csv,
            Some(PathBuf::from("d/audit-findings.csv"))
        );
    }

    #[test]
    fn ambiguous_combinations_are_usage_errors() {
        assert!(plan(&[], &s(&["report.out"]), None).is_err());
        assert!(plan(&[Format::Json, Format::Html], &[], None).is_err());
        assert!(plan(&[Format::Json, Format::Html], &s(&["a.json"]), None).is_err());
        assert!(plan(&[Format::Json], &s(&["r.html"]), None).is_err());
        assert!(plan(&[], &s(&["a.json", "b.json"]), None).is_err());
        assert!(plan(&[], &s(&["pdf=a.pdf"]), None).is_err());
        assert!(plan(&[], &s(&["a.json"]), Some(Path::new("d"))).is_err());
    }
}
