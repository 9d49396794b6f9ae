//! Integration tests of operating gwb: the configuration file (`gwb init`, `--config`, the
//! merge with flags and environment, strict errors, secrets by reference, per-group overrides).

use std::path::Path;

use serde_json::Value;

use crate::util::{AUDIT_JSON_ARGS, audit_json, fixture, gwb, repo};

const ALL_COMPANY: &str = "0f4dd137-411b-572f-95ff-d2a16c4cf9c4";
const APP_OWNERS: &str = "be0ecda8-9b60-51a7-9f69-8751e55b2898";
const LEGACY_TEAM: &str = "3bda8981-6a26-565a-a0f8-77830d9a5c78";
const QUARTERLY_2022: &str = "36a2a41c-317d-5919-9807-a1492f4e72e4";
const NEWSLETTER: &str = "d17987c8-2f56-5a91-a0d1-fffdbb35fd1f";

/// `gwb audit --snapshot fixtures/contoso` in `dir`, with extra arguments; the JSON report.
fn audit_in(dir: &Path, extra: &[&str]) -> Value {
    audit_json(dir, &fixture("contoso"), extra)
}

fn group<'a>(report: &'a Value, target: &str, id: &str) -> &'a Value {
    report["forecast"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"] == target)
        .unwrap()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == id)
        .unwrap_or_else(|| panic!("no group {id}"))
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn init_writes_a_template_that_parses() {
    let dir = tempfile::tempdir().unwrap();
    gwb()
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .success()
        .stdout(predicates::str::contains("wrote gwb.toml"));
    let text = std::fs::read_to_string(dir.path().join("gwb.toml")).unwrap();
    assert_eq!(text, gwb::config::TEMPLATE);
    let cfg = gwb::config::parse(Path::new("gwb.toml"), &text).unwrap();
    assert_eq!(cfg.file.policy.max_deletes, Some(500));
    assert_eq!(cfg.journal_dir(), Path::new("gwb-journal"));
    // A second init refuses to overwrite (the admin's edits are not lost); --force does.
    write(dir.path(), "gwb.toml", "# edited\n");
    gwb()
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("gwb.toml")).unwrap(),
        "# edited\n"
    );
    gwb()
        .current_dir(dir.path())
        .args(["init", "--force"])
        .assert()
        .success();
    // The template as written is a valid configuration for the audit: same report as without it.
    let with = audit_in(dir.path(), &["-t", "gwb"]);
    let without = audit_in(&repo(), &["-t", "gwb"]);
    assert_eq!(with["forecast"], without["forecast"]);
    // `--out -` prints it.
    let out = gwb().args(["init", "--out", "-"]).output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim_end(),
        text.trim_end()
    );
}

#[test]
fn docs_config_documents_every_template_key() {
    let doc = std::fs::read_to_string(repo().join("docs/config.md")).unwrap();
    let keys = gwb::config::template_keys();
    assert!(keys.len() >= 29, "{keys:?}");
    for key in &keys {
        let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key));
        assert!(
            doc.contains(&format!("| `{leaf}` |")),
            "docs/config.md has no row for `{key}`"
        );
        if !table.is_empty() {
            assert!(
                doc.contains(&format!("### `[{table}")),
                "docs/config.md has no section [{table}] for `{key}`"
            );
        }
    }
    // And every key the docs list is in the template.
    for line in doc.lines().filter(|l| l.starts_with("| `")) {
        let leaf = line.trim_start_matches("| `").split('`').next().unwrap();
        assert!(
            keys.iter()
                .any(|k| k == leaf || k.ends_with(&format!(".{leaf}"))),
            "docs/config.md documents `{leaf}`, which the template lacks"
        );
    }
}

#[test]
fn malformed_config_exits_2_naming_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    for (text, expect) in [
        (
            "[policy]\ndeletion = \"modified\"\nmax-delete = 3\n",
            "bad.toml: line 3, key `policy.max-delete`: unknown key `max-delete`",
        ),
        (
            "[ldap]\n\ntimeout = \"soon\"\n",
            "bad.toml: line 3, key `ldap.timeout`",
        ),
        (
            "[policy]\ncn-format = \"guid\"\n",
            "bad.toml: line 2, key `policy.cn-format`: unknown value \"guid\"; expected one of: object-id, display-name",
        ),
        (
            "[sync]\ninterval = \"often\"\n",
            "bad.toml: line 2, key `sync.interval`",
        ),
        (
            "[group.\"Sales\"]\nexclude = true\n",
            "bad.toml: line 1, key `group.Sales`: \"Sales\" is not a group object id",
        ),
        ("[ldap\nurl = 1\n", "bad.toml: line 1: not valid TOML"),
    ] {
        let p = write(dir.path(), "bad.toml", text);
        let out = gwb()
            .args(["audit", "--snapshot"])
            .arg(fixture("contoso"))
            .arg("--config")
            .arg(&p)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{text}\n{err}");
    }
}

#[test]
fn each_policy_key_changes_the_forecast_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let base = audit_in(dir.path(), &[]);
    assert_eq!(
        group(&base, "gwb", ALL_COMPANY)["cn"],
        format!("Group_{ALL_COMPANY}")
    );
    assert_eq!(group(&base, "gwb", LEGACY_TEAM)["outcome"], "keep");
    assert_eq!(
        group(&base, "gwb", NEWSLETTER)["reason"],
        "member-limit-exceeded"
    );
    assert_eq!(group(&base, "gwb", QUARTERLY_2022)["outcome"], "delete");
    let cfg = write(
        dir.path(),
        "gwb.toml",
        &format!(
            r#"target-ou = "OU=Elsewhere,DC=contoso,DC=com"
[policy]
cn-format = "display-name"
deletion = "modified"
member-limit = "raised"
feature-state = "current"
protected = ["{QUARTERLY_2022}"]

[group."{ALL_COMPANY}"]
exclude = true

[group."{}"]
cn = "App Owners (cloud)"
"#,
            APP_OWNERS.to_uppercase()
        ),
    );
    // ./gwb.toml is read without --config.
    let r = audit_in(dir.path(), &[]);
    assert_eq!(r["targetOu"], "OU=Elsewhere,DC=contoso,DC=com");
    assert_eq!(r["policy"]["cnFormat"], "display-name");
    let g = group(&r, "gwb", "9909f2c3-3190-54c2-b7cf-624c27187c82");
    assert_eq!(g["cn"], "Benefits Questions_624c27187c82");
    assert_eq!(
        g["dn"],
        "CN=Benefits Questions_624c27187c82,OU=Elsewhere,DC=contoso,DC=com"
    );
    assert_eq!(group(&r, "gwb", NEWSLETTER)["outcome"], "writeback");
    // feature-state = "current": Entra Connect v1's writeback is off in Contoso's tenant.
    let benefits = "9909f2c3-3190-54c2-b7cf-624c27187c82";
    assert_eq!(group(&base, "connect-v1", benefits)["reason"], "eligible");
    assert_eq!(
        group(&r, "connect-v1", benefits)["reason"],
        "feature-disabled"
    );
    // Per-group overrides, keyed by object id in any case.
    assert_eq!(group(&r, "gwb", ALL_COMPANY)["reason"], "excluded");
    assert_eq!(group(&r, "gwb", ALL_COMPANY)["outcome"], "skip");
    assert_eq!(group(&r, "gwb", APP_OWNERS)["cn"], "App Owners (cloud)");
    // The same file through --config and GWB_CONFIG from another directory.
    let elsewhere = tempfile::tempdir().unwrap();
    let r2 = audit_in(elsewhere.path(), &["--config", cfg.to_str().unwrap()]);
    assert_eq!(r2["forecast"], r["forecast"]);
    let out = gwb()
        .current_dir(elsewhere.path())
        .env("GWB_CONFIG", &cfg)
        .args(["audit", "--snapshot"])
        .arg(fixture("contoso"))
        .args(AUDIT_JSON_ARGS)
        .output()
        .unwrap();
    let r3: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r3["forecast"], r["forecast"]);
    // Flags override the file.
    let r = audit_in(
        dir.path(),
        &["--cn-format", "object-id", "--deletion", "default"],
    );
    assert_eq!(
        group(&r, "gwb", "9909f2c3-3190-54c2-b7cf-624c27187c82")["cn"],
        "Group_9909f2c3-3190-54c2-b7cf-624c27187c82"
    );
    assert_eq!(r["policy"]["deletion"], "default");
    assert_eq!(r["policy"]["memberLimit"], "raised");
}

#[test]
fn deletion_and_protection_keys_against_the_bundle_ou() {
    // The bundle's own OU, so owned AD objects exist: deletion and protection have effect.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "gwb.toml",
        &format!(
            "[policy]\ndeletion = \"modified\"\nprotected = [\"{QUARTERLY_2022}\"]\n[group.\"{LEGACY_TEAM}\"]\nprotected = true\n"
        ),
    );
    let r = audit_in(dir.path(), &[]);
    // Protected: a delete becomes keep.
    let q = group(&r, "gwb", QUARTERLY_2022);
    assert_eq!(q["outcome"], "keep", "{q}");
    assert!(q["detail"].as_str().unwrap().contains("protected"));
    assert_eq!(group(&r, "gwb", LEGACY_TEAM)["outcome"], "keep");
    // Without protection, modified deletion deletes the disabled group.
    write(
        dir.path(),
        "gwb.toml",
        "[policy]\ndeletion = \"modified\"\n",
    );
    let r = audit_in(dir.path(), &[]);
    assert_eq!(group(&r, "gwb", LEGACY_TEAM)["outcome"], "delete");
    assert_eq!(group(&r, "gwb", QUARTERLY_2022)["outcome"], "delete");
    // Excluding a group that has an AD object leaves it untouched.
    write(
        dir.path(),
        "gwb.toml",
        &format!("[group.\"{QUARTERLY_2022}\"]\nexclude = true\n"),
    );
    let r = audit_in(dir.path(), &[]);
    assert_eq!(group(&r, "gwb", QUARTERLY_2022)["outcome"], "keep");
}

#[test]
fn secrets_only_by_reference() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "gwb.toml",
        "[ldap]\nurl = \"ldaps://dc1.example.com\"\npassword = \"Hunter2-secret\"\n",
    );
    let out = gwb()
        .args(["audit", "--snapshot"])
        .arg(fixture("contoso"))
        .arg("--config")
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3, key `ldap.password`"), "{err}");
    assert!(err.contains("password-env") && err.contains("password-file"));
    assert!(!err.contains("Hunter2"), "{err}");
    // A referenced secret file readable by others is warned about.
    let secret = write(dir.path(), "client-secret", "s3cr3t-value\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let p = write(
        dir.path(),
        "gwb.toml",
        &format!(
            "[graph]\nclient-secret-file = {:?}\n",
            secret.to_str().unwrap()
        ),
    );
    // The Contoso audit under this config.
    let audit = || {
        gwb()
            .args(["audit", "--snapshot"])
            .arg(fixture("contoso"))
            .args(["--fail-on", "never", "--allow-incomplete"])
            .args(["--format", "json", "--config"])
            .arg(&p)
            .output()
            .unwrap()
    };
    let out = audit();
    assert_ne!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    if cfg!(unix) {
        assert!(
            err.contains("graph.client-secret-file") && err.contains("readable by other users"),
            "{err}"
        );
    } else {
        // Windows: ACLs, not mode bits, say who reads a file; gwb does not guess (docs/windows.md).
        assert!(!err.contains("readable by other users"), "{err}");
    }
    assert!(!err.contains("s3cr3t"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let out = audit();
        assert!(!String::from_utf8_lossy(&out.stderr).contains("readable by other users"));
    }
}
