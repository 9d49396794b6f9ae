//! What people see on a terminal or through a pipe: tables sized to the terminal (or
//! `COLUMNS`), never wider; names in natural order ("Group 2" before "Group 10").

use serde_json::json;

use crate::util::{fixture, gwb, json_ok};

/// Display width of a line (box drawing, accents and `…` are one column each here).
fn width(line: &str) -> usize {
    line.chars().count()
}

fn assert_fits(what: &str, out: &[u8], cols: usize) {
    let text = String::from_utf8_lossy(out);
    assert!(
        text.lines().count() > 3,
        "{what}: too little output:\n{text}"
    );
    for l in text.lines() {
        assert!(
            width(l) <= cols,
            "{what}: {} columns > {cols}:\n{l}",
            width(l)
        );
    }
}

#[test]
fn tables_fit_columns_when_piped() {
    for cols in [80usize, 100] {
        let c = cols.to_string();
        let out = gwb().env("COLUMNS", &c).arg("codes").output().unwrap();
        assert!(out.status.success());
        assert_fits("gwb codes", &out.stdout, cols);
        // At 120 and wider the codes table has room to be wider than 80: it is sized, not fixed.
        let mut inspect = gwb();
        inspect.env("COLUMNS", &c).arg("inspect");
        for f in std::fs::read_dir(fixture("powershell")).unwrap() {
            let p = f.unwrap().path();
            if p.is_file() && p.extension().is_some_and(|e| e != "md" && e != "py") {
                inspect.arg(p);
            }
        }
        let out = inspect.output().unwrap();
        assert_fits("gwb inspect", &out.stdout, cols);
        let out = gwb()
            .env("COLUMNS", &c)
            .args(["audit", "--snapshot"])
            .arg(fixture("contoso"))
            .args(["--format", "table", "--fail-on", "never"])
            .output()
            .unwrap();
        assert_fits("gwb audit", &out.stdout, cols);
    }
    let wide = gwb().env("COLUMNS", "160").arg("codes").output().unwrap();
    let max = String::from_utf8_lossy(&wide.stdout)
        .lines()
        .map(width)
        .max()
        .unwrap();
    assert!(max > 100, "a wide terminal gets a wide table ({max})");
}

#[test]
fn groups_are_reported_in_natural_order() {
    let dir = tempfile::tempdir().unwrap();
    let group = |n: u32| {
        json!({
            "id": format!("00000000-0000-4000-8000-{n:012}"),
            "displayName": format!("Group {n}"),
            "groupTypes": [],
            "securityEnabled": true,
            "mailEnabled": false,
            "writebackConfiguration": {"isEnabled": true},
            "members": [],
        })
    };
    let doc = json!({
        "format": "gwb-tenant/1",
        "tenantId": "11111111-1111-1111-1111-111111111111",
        "groups": [group(10), group(2), group(1), group(0), group(21), group(3)],
    });
    std::fs::write(dir.path().join("tenant.json"), doc.to_string()).unwrap();
    let out = gwb()
        .args(["audit", "--snapshot"])
        .arg(dir.path())
        .args([
            "--format",
            "json",
            "--fail-on",
            "never",
            "--allow-incomplete",
            "--target",
            "gwb",
        ])
        .output()
        .unwrap();
    let report = json_ok(&out);
    let names: Vec<&str> = report["forecast"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Group 0", "Group 1", "Group 2", "Group 3", "Group 10", "Group 21"
        ]
    );
}

/// Every command that writes a file says what it wrote (stderr when stdout may carry a report).
#[test]
fn commands_say_what_they_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("audit.html");
    let sarif = dir.path().join("gwb.sarif");
    let zip = dir.path().join("CHG-1.zip");
    let out = gwb()
        .args(["audit", "--snapshot"])
        .arg(fixture("contoso"))
        .arg("-o")
        .arg(&html)
        .arg("-o")
        .arg(format!("sarif={}", sarif.display()))
        .arg("--bundle")
        .arg(&zip)
        .args(["--fail-on", "never", "--allow-incomplete"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    for p in [&html, &sarif] {
        assert!(err.contains(&format!("Wrote {}", p.display())), "{err}");
        assert!(p.is_file());
    }
    assert!(
        err.contains(&format!("Wrote {} (evidence bundle)", zip.display())),
        "{err}"
    );
    // Quiet means quiet.
    let out = gwb()
        .args(["-q", "audit", "--snapshot"])
        .arg(fixture("contoso"))
        .arg("-o")
        .arg(&html)
        .args(["--fail-on", "never", "--allow-incomplete"])
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
