//! Mixed line endings: one rule for every reader (docs/bundle.md, "Line ends"). CRLF, a lone
//! CR and LF each end a line, also when a file mixes them, in LDIF, JSON and CSV alike.

use std::path::{Path, PathBuf};

use crate::util::{fixture, gwb, json_ok};

fn copy_bundle() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    std::fs::create_dir_all(&b).unwrap();
    for f in ["tenant.json", "ad.ldif", "bundle.json"] {
        std::fs::copy(fixture("contoso").join(f), b.join(f)).unwrap();
    }
    (dir, b)
}

fn audit_json(b: &Path) -> (i32, String, String) {
    let out = gwb()
        .args([
            "audit",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--snapshot",
        ])
        .arg(b)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stable = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.contains("generatedAt") && !l.contains("\"asOf\""))
        .collect::<Vec<_>>()
        .join("\n");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        stable,
    )
}

/// Every third line end a bare CR and every fifth a CRLF; the rest stay LF. A bare CR is
/// never put right before an empty line's LF (CR LF is one CRLF line end, not two).
fn mix(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (i, line) in lines.iter().enumerate() {
        let next_empty = lines.get(i + 1).is_some_and(|n| *n == "\n");
        match (line.strip_suffix('\n'), i % 15) {
            (Some(body), k) if k % 3 == 1 && !next_empty => {
                out.push_str(body);
                out.push('\r');
            }
            (Some(body), k) if k % 5 == 2 => {
                out.push_str(body);
                out.push_str("\r\n");
            }
            _ => out.push_str(line),
        }
    }
    out
}

#[test]
fn a_bundle_with_mixed_line_ends_audits_like_the_lf_one() {
    let (_d, b) = copy_bundle();
    let (code_lf, err_lf, lf) = audit_json(&b);
    // Exit 3 (incomplete evidence) is the fixture's own verdict; 2 would be an input error.
    assert_ne!(code_lf, 2, "{err_lf}");
    assert!(lf.contains("\"forecast\""), "{err_lf}");
    for f in ["ad.ldif", "tenant.json"] {
        let p = b.join(f);
        let text = std::fs::read_to_string(&p).unwrap();
        let mixed = mix(&text);
        assert!(mixed.contains("\r\n") && mixed.contains("\r") && mixed.matches('\r').count() > 10);
        std::fs::write(&p, mixed).unwrap();
    }
    let (code, err, mixed) = audit_json(&b);
    assert_eq!(code, code_lf, "{err}");
    // A lone CR kept as data would change objectClass, adminDescription and member values,
    // and with them the findings and the forecast.
    assert_eq!(mixed, lf);
}

#[test]
fn a_lone_cr_in_an_ldif_value_ends_the_line() {
    let (_d, b) = copy_bundle();
    let p = b.join("ad.ldif");
    let text = std::fs::read_to_string(&p).unwrap();
    // A record whose attributes are separated by bare CRs in an LF file: a second "dn:" after
    // a bare CR is a second dn line, named with its line number.
    let bad = text.replacen(
        "dn: CN=Partitions,CN=Configuration,DC=contoso,DC=com\n",
        "dn: CN=Partitions,CN=Configuration,DC=contoso,DC=com\rdn: CN=x\n",
        1,
    );
    assert_ne!(bad, text);
    std::fs::write(&p, &bad).unwrap();
    let line = bad[..bad.find("dn: CN=x").unwrap()]
        .bytes()
        .filter(|&c| c == b'\n' || c == b'\r')
        .count()
        + 1;
    let (code, err, stdout) = audit_json(&b);
    assert_eq!(code, 2, "{err}");
    assert!(stdout.is_empty());
    assert!(err.contains("ad.ldif"), "{err}");
    assert!(err.contains(&format!("line {line}")), "{err}");
    assert!(err.contains("second dn"), "{err}");
}

#[test]
fn json_errors_count_a_lone_cr_as_a_line() {
    let (_d, b) = copy_bundle();
    let p = b.join("tenant.json");
    let text = std::fs::read_to_string(&p).unwrap();
    // All line ends bare CRs up to a syntax error on a known line.
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len() / 2;
    let mut damaged = lines[..n].join("\r");
    damaged.push_str("\r  @@@\n");
    damaged.push_str(&lines[n..].join("\n"));
    std::fs::write(&p, damaged).unwrap();
    let (code, err, _) = audit_json(&b);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("tenant.json"), "{err}");
    assert!(err.contains(&format!("line {} ", n + 1)), "{err}");
}

#[test]
fn a_lone_cr_in_a_quoted_csv_value_reads_as_a_line_break() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ou-groups.csv");
    let text = std::fs::read_to_string(fixture("powershell/ou-groups.csv")).unwrap();
    // Export-Csv quotes a value with a line break in it; here the break is a bare CR, and the
    // file's own line ends are LF.
    let text =
        text.replace("\r\n", "\n")
            .replacen("\"Sales_944455556666\"", "\"Sales\r944455556666\"", 1);
    std::fs::write(&f, text).unwrap();
    let out = gwb()
        .args(["inspect", "--format", "json"])
        .arg(&f)
        .output()
        .unwrap();
    let v = json_ok(&out);
    let objs = v[0]["objects"].as_array().unwrap();
    assert_eq!(objs.len(), 3);
    assert_eq!(objs[0]["Name"], "Sales\n944455556666");
    assert_eq!(objs[1]["Name"], "Finance-Sec_a55566667777");
}
