//! Hostile and careless input files: devices, FIFOs and oversized files at the one read
//! boundary, directory loops, huge values in error messages, CR-only line endings, invalid
//! ids and DNs, NULs, and stdout discipline when a command fails.

use std::path::{Path, PathBuf};

use crate::util::{fixture, gwb};

/// A copy of the contoso bundle to damage.
fn bundle() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    std::fs::create_dir_all(b.join("connect")).unwrap();
    for f in ["tenant.json", "ad.ldif", "bundle.json"] {
        std::fs::copy(fixture("contoso").join(f), b.join(f)).unwrap();
    }
    for e in std::fs::read_dir(fixture("contoso").join("connect")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), b.join("connect").join(e.file_name())).unwrap();
    }
    (dir, b)
}

fn audit(b: &Path) -> (i32, String, Vec<u8>) {
    let out = gwb()
        .args(["audit", "--snapshot"])
        .arg(b)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.stdout,
    )
}

fn expect_input_error(b: &Path, must: &[&str]) -> String {
    let (code, err, stdout) = audit(b);
    assert_eq!(code, 2, "{err}");
    assert!(
        stdout.is_empty(),
        "stdout after a failure: {}",
        String::from_utf8_lossy(&stdout)
    );
    for m in must {
        assert!(err.contains(m), "expected {m:?} in {err}");
    }
    assert!(err.len() < 4000, "{} bytes on stderr", err.len());
    err
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let t = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(t)).unwrap();
}

#[cfg(unix)]
#[test]
fn devices_fifos_and_oversized_files_are_refused_without_reading_them() {
    let (_d, b) = bundle();
    let t = b.join("tenant.json");
    std::fs::remove_file(&t).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &t).unwrap();
    expect_input_error(&b, &["tenant.json", "character device"]);
    std::fs::remove_file(&t).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&t)
            .status()
            .unwrap()
            .success()
    );
    // Nobody ever writes to the FIFO: a reader that opened it would hang here.
    expect_input_error(&b, &["tenant.json", "FIFO"]);
    std::fs::remove_file(&t).unwrap();
    std::fs::copy(fixture("contoso/tenant.json"), &t).unwrap();
    let out = gwb()
        .args(["audit", "--max-input-size", "2K", "--snapshot"])
        .arg(&b)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--max-input-size") && err.contains("2048-byte"),
        "{err}"
    );
    // The same bundle passes with the default cap.
    assert_ne!(audit(&b).0, 2);
}

#[cfg(unix)]
#[test]
fn a_folder_with_symlinks_to_itself_is_walked_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("exports");
    std::fs::create_dir(&root).unwrap();
    std::fs::copy(
        fixture("contoso/connect").join(
            std::fs::read_dir(fixture("contoso/connect"))
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .file_name(),
        ),
        root.join("feature.json"),
    )
    .unwrap();
    // Eight links back to the folder itself: 8^8 paths without loop detection.
    for i in 0..8 {
        std::os::unix::fs::symlink(&root, root.join(format!("loop{i}"))).unwrap();
    }
    let out = gwb()
        .args(["inspect", "--format", "json"])
        .arg(&root)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let v = crate::util::json_ok(&out);
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
}

#[test]
fn a_failed_inspect_prints_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"id\": [").unwrap();
    for format in ["json", "table"] {
        let out = gwb()
            .args(["inspect", "--format", format])
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            out.stdout.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
    }
}

#[test]
fn a_ten_megabyte_id_is_quoted_as_an_excerpt_with_its_length() {
    let (_d, b) = bundle();
    let huge = "A".repeat(10 * 1024 * 1024);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.join("tenant.json")).unwrap()).unwrap();
    v["groups"][0]["id"] = serde_json::Value::String(huge.clone());
    std::fs::write(b.join("tenant.json"), v.to_string()).unwrap();
    let err = expect_input_error(&b, &["$.groups[0].id", "10485760 bytes", "not a GUID"]);
    assert!(!err.contains(&"A".repeat(100)));
    // A wrong-typed huge string that serde quotes is bounded too.
    v["groups"][0]["id"] = serde_json::json!("0f8e9a1c-1111-4222-8333-944455556666");
    v["groups"][0]["securityEnabled"] = serde_json::Value::String(huge);
    std::fs::write(b.join("tenant.json"), v.to_string()).unwrap();
    expect_input_error(&b, &["tenant.json", "bytes in all"]);
}

#[test]
fn invalid_ids_are_refused_by_one_rule() {
    type Damage = fn(&mut serde_json::Value);
    let cases: [(&str, Damage); 4] = [
        ("braces", |v| {
            let id = v["groups"][0]["id"].as_str().unwrap().to_string();
            v["groups"][0]["id"] = format!("{{{id}}}").into();
        }),
        ("newline", |v| {
            let id = v["groups"][0]["id"].as_str().unwrap().to_string();
            v["groups"][0]["id"] = format!("{id}\n").into();
        }),
        ("member path", |v| {
            let g = v["groups"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|g| g["members"].as_array().is_some_and(|m| !m.is_empty()))
                .unwrap();
            g["members"][0]["id"] = "../../etc/passwd".into();
        }),
        ("member braces", |v| {
            let g = v["groups"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|g| g["members"].as_array().is_some_and(|m| !m.is_empty()))
                .unwrap();
            let id = g["members"][0]["id"].as_str().unwrap().to_string();
            g["members"][0]["id"] = format!("{{{id}}}").into();
        }),
    ];
    for (what, f) in cases {
        let (_d, b) = bundle();
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(b.join("tenant.json")).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(b.join("tenant.json"), v.to_string()).unwrap();
        let err = expect_input_error(&b, &["tenant.json", "not a GUID"]);
        assert!(err.contains(".id"), "{what}: {err}");
    }
}

#[test]
fn ldif_with_invalid_escapes_nuls_or_cr_only_line_ends() {
    // An invalid RFC 4514 escape in a DN.
    let (_d, b) = bundle();
    edit(&b.join("ad.ldif"), |t| {
        t.replacen("dn: CN=Partitions,", "dn: CN=Parti\\zztions,", 1)
    });
    expect_input_error(&b, &["ad.ldif", "invalid escape"]);
    let (_d, b) = bundle();
    edit(&b.join("ad.ldif"), |t| {
        t.replacen("dn: CN=Partitions,", "dn: CN=Parti\\4,", 1)
    });
    expect_input_error(&b, &["ad.ldif", "invalid escape"]);
    // A raw NUL in a value.
    let (_d, b) = bundle();
    edit(&b.join("ad.ldif"), |t| {
        t.replacen(
            "dn: CN=Partitions,CN=Configuration,DC=contoso,DC=com\n",
            "dn: CN=Partitions,CN=Configuration,DC=contoso,DC=com\ndescription: a\0b\n",
            1,
        )
    });
    expect_input_error(&b, &["ad.ldif", "NUL"]);
    // CR-only line ends read like LF ones: the same audit.
    let (_d, b) = bundle();
    let (code_lf, _, out_lf) = audit(&b);
    edit(&b.join("ad.ldif"), |t| t.replace('\n', "\r"));
    let (code_cr, err, out_cr) = audit(&b);
    assert_eq!(code_cr, code_lf, "{err}");
    let stable = |o: &[u8]| -> String {
        String::from_utf8_lossy(o)
            .lines()
            .filter(|l| !l.contains("generatedAt") && !l.contains("\"asOf\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(stable(&out_cr), stable(&out_lf));
    // And an error in a CR-only file names its line, not "the whole file as one dn".
    edit(&b.join("ad.ldif"), |t| {
        t.replacen("\r\r", "\rno colon here\r", 1)
    });
    let err = expect_input_error(&b, &["ad.ldif", "line "]);
    assert!(err.len() < 1000, "{err}");
}
