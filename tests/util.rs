//! Shared helpers for integration tests: the gwb binary, fixture paths, temp dirs, the
//! audit report of a bundle, a successful command's output and JSON, and hand-built plans.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use gwb::plan::model::*;
use serde_json::Value;
use uuid::Uuid;

pub fn gwb() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("gwb").expect("gwb binary");
    c.env_remove("RUST_LOG");
    c
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    repo().join("fixtures").join(rel)
}

/// Fail, naming the exit code and stderr, unless the command succeeded.
fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run a command that must succeed; its output.
pub fn run_ok(cmd: &mut assert_cmd::Command) -> std::process::Output {
    let out = cmd.output().expect("gwb runs");
    assert_success(&out);
    out
}

/// The JSON on stdout of a command that must have succeeded (its stderr otherwise).
pub fn json_ok(out: &std::process::Output) -> Value {
    assert_success(out);
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// The arguments of an audit that reports whatever the gate says.
pub const AUDIT_JSON_ARGS: [&str; 5] = [
    "--format",
    "json",
    "--fail-on",
    "never",
    "--allow-incomplete",
];

/// `gwb audit --snapshot DIR --format json --fail-on never --allow-incomplete` plus `extra`,
/// run in `cwd` (no `GWB_CONFIG`); the JSON report. Exits 2 (an input error) fail the test;
/// the gate's verdict does not matter.
pub fn audit_json(cwd: &Path, bundle: &Path, extra: &[&str]) -> Value {
    let out = gwb()
        .current_dir(cwd)
        .env_remove("GWB_CONFIG")
        .args(["audit", "--snapshot"])
        .arg(bundle)
        .args(AUDIT_JSON_ARGS)
        .args(extra)
        .output()
        .expect("gwb audit");
    assert_ne!(
        out.status.code(),
        Some(2),
        "audit of {}: {}",
        bundle.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("audit JSON")
}

/// A single attribute value.
pub fn one(s: &str) -> Option<AttrValue> {
    Some(AttrValue::One(s.into()))
}

/// A `gwb-plan/1` plan into `ou` made of `groups`, with a complete delete proof and no
/// refusals (what a reviewed plan from a complete snapshot looks like).
pub fn make_plan(ou: &str, ou_guid: Option<Uuid>, groups: Vec<PlannedGroup>) -> Plan {
    let mut plan = Plan {
        format: PLAN_FORMAT.into(),
        gwb_version: "0.1.0".into(),
        created_at: "2026-12-01T09:00:00Z".into(),
        policy: PlanPolicy::default(),
        inputs: PlanInputs {
            tenant_id: None,
            tenant: Fingerprint {
                source: InputSource::Snapshot,
                location: None,
                sha256: Some("00".into()),
            },
            ad: Fingerprint {
                source: InputSource::Ldap,
                location: None,
                sha256: None,
            },
        },
        target_ou: TargetOu {
            dn: ou.into(),
            object_guid: ou_guid,
            source: TargetOuSource::Flag,
            exists: Some(true),
        },
        safety: Safety {
            delete_proof: DeleteProofState {
                complete: true,
                detail: None,
                graph_checked: false,
            },
            refusals: vec![],
        },
        summary: Summary::of(&groups),
        groups,
        unowned: vec![],
        section_sha256: Default::default(),
        sha256: None,
    };
    plan.seal();
    plan
}

/// The groups directly in `ou` with these attributes, read by the lab's administrator.
pub fn ou_groups(lab: &crate::ldap::lab::Lab, ou: &str, attrs: &[&str]) -> Vec<ldap3::SearchEntry> {
    let ou = ou.to_string();
    let attrs: Vec<String> = attrs.iter().map(|a| a.to_string()).collect();
    lab.run(async move |a| {
        let (rs, _) = a
            .ldap
            .search(&ou, ldap3::Scope::OneLevel, "(objectClass=group)", attrs)
            .await
            .expect("search")
            .success()
            .expect("search ok");
        rs.into_iter().map(ldap3::SearchEntry::construct).collect()
    })
}

/// The DC's highestCommittedUSN (rootDSE): it moves with every write anywhere on the DC, so a
/// test that asserts it unchanged holds the DC alone (`lab::lab_exclusive`).
pub fn highest_committed_usn(lab: &crate::ldap::lab::Lab) -> u64 {
    lab.run(async |a| {
        a.read("", &["highestCommittedUSN"])
            .await
            .and_then(|x| x.text("highestCommittedUSN").and_then(|s| s.parse().ok()))
            .expect("highestCommittedUSN")
    })
}

/// The Graph flags of a command against the simulator `s` (the simulator's test tenant and
/// client id; the secret goes in `AZURE_CLIENT_SECRET`).
pub fn sim_graph_args(s: &gwb::sim::SimServer) -> Vec<String> {
    [
        "--graph-url",
        &s.url(),
        "--tenant",
        "contoso.onmicrosoft.com",
        "--client-id",
        "11111111-2222-3333-4444-555555555555",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect()
}

/// A file only its owner may read (chmod 600), as gwb wants for secrets.
pub fn private_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    p
}

/// A plan's JSON as `gwb plan --out` writes it: sealed (summary and digests of its content as
/// it is now), for hand-built or changed plans that must pass the digest check.
pub fn sealed_json(p: &Plan) -> String {
    let mut p = p.clone();
    p.seal();
    serde_json::to_string_pretty(&p).expect("plan JSON")
}

/// Run a command that must fail with exit `code`: its output and its stderr as text. The exit
/// code and stderr are named when it does not.
pub fn fails(
    mut cmd: impl std::borrow::BorrowMut<assert_cmd::Command>,
    code: i32,
) -> (std::process::Output, String) {
    let out = cmd.borrow_mut().output().expect("gwb runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}; stderr: {err}"
    );
    (out, err)
}
