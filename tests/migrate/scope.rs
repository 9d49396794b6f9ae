//! The Cloud Sync scope additions of a migration as a tenant plan: `gwb migrate plan --to
//! cloud-sync --out-scope FILE` over a bundle with a Cloud Sync configuration in "selected
//! groups" mode, applied with `gwb tenant apply` against the Graph simulator (app role
//! assignments on the configuration's service principal), applied again (nothing changes) and
//! undone (exactly the assignments added are deleted).
//!
//! Facts: a configuration's selected groups are the groups assigned its app role on the
//! configuration's service principal; "Scope beyond 999 groups: POST
//! /servicePrincipals/{servicePrincipalID}/appRoleAssignedTo {principalId, resourceId,
//! appRoleId}" (cloud-sync-configuration-and-expressions.md, §scope; Microsoft's "Provision
//! groups to AD: scope with Graph").

use std::path::Path;

use gwb::sim::{self, SimConfig, SimServer};
use serde_json::Value;

use crate::util::{fixture, gwb, sim_graph_args};

const SP: &str = "c5b0a1d2-0000-4000-8000-00000000c0c0";
/// The public cloud's app role that selects a group (the fixture also holds a group assigned
/// the default role, which does not select it).
const SELECTS: &str = "1a0abf4d-b9fa-4512-a3a2-51ee82c6fd9f";

fn read(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The simulator serving the cloud-sync fixture's tenant, with its contoso.com configuration's
/// service principal and existing assignments.
fn server() -> SimServer {
    let doc = read(&fixture("cloud-sync/tenant.json"));
    let s = sim::start(
        sim::Store::from_tenant(&doc).unwrap(),
        SimConfig::default(),
        0,
    )
    .unwrap();
    let existing = read(&fixture(
        "cloud-sync/cloud-sync/contoso.com/appRoleAssignedTo.json",
    ));
    let list = existing["value"].as_array().unwrap().clone();
    s.shared
        .with_writes(|w| sim::approles::seed(&mut w.app_roles, SP, list));
    s
}

/// `(principal, app role)` of every assignment on the service principal, sorted.
fn assigned(s: &SimServer) -> Vec<(String, String)> {
    let (st, v) = s.shared.call(
        "GET",
        &format!("/v1.0/servicePrincipals/{SP}/appRoleAssignedTo"),
        None,
    );
    assert_eq!(st, 200, "{v}");
    let mut ids: Vec<(String, String)> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["principalId"].as_str().unwrap().to_ascii_lowercase(),
                a["appRoleId"].as_str().unwrap().to_ascii_lowercase(),
            )
        })
        .collect();
    ids.sort();
    ids
}

fn tenant_apply(s: &SimServer, args: &[&str]) -> Value {
    let out = gwb()
        .env_remove("GWB_ACCESS_TOKEN")
        .env("AZURE_CLIENT_SECRET", "scope-s3cret")
        .args(["tenant", "apply", "--yes", "--format", "json"])
        .args(args)
        .args(sim_graph_args(s))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // An undo run prints its plan, then its report: the report is the last document.
    let text = String::from_utf8(out.stdout).unwrap();
    serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .last()
        .unwrap()
        .unwrap()
}

#[test]
fn scope_additions_are_applied_as_app_role_assignments_and_undone_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let scope = dir.path().join("scope.json");
    let out = gwb()
        .args(["migrate", "plan", "--snapshot"])
        .arg(fixture("cloud-sync"))
        .args(["--from", "connect-v1", "--to", "cloud-sync"])
        .args(["--cloud-sync-domain", "contoso.com", "--format", "json"])
        .args(["--accept", "duplicated,orphaned,deleted,members-dropped"])
        .arg("--out-scope")
        .arg(&scope)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("scope addition(s) to") && stderr.contains("gwb tenant apply"));
    let migration: Value = serde_json::from_slice(&out.stdout).unwrap();
    let plan = read(&scope);
    assert_eq!(plan["format"], "gwb-tenant-plan/1");
    assert!(plan["sha256"].is_string(), "the scope plan is sealed");

    // The plan adds exactly the groups Cloud Sync should maintain that are not selected yet.
    let s = server();
    let before = assigned(&s);
    let mut wanted: Vec<String> = migration["scopeAdditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_ascii_lowercase())
        .filter(|id| !before.contains(&(id.clone(), SELECTS.to_string())))
        .collect();
    wanted.sort();
    assert!(!wanted.is_empty(), "the fixture has groups to add");
    let mut planned: Vec<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["kind"], "appRoleAssignment");
            assert_eq!(c["request"]["method"], "POST");
            assert_eq!(c["request"]["body"]["resourceId"], SP);
            c["id"].as_str().unwrap().to_ascii_lowercase()
        })
        .collect();
    planned.sort();
    assert_eq!(planned, wanted);

    // Applied: the service principal holds the old assignments and exactly the new ones.
    let report = tenant_apply(&s, &[scope.to_str().unwrap()]);
    assert_eq!(report["changed"], wanted.len(), "{report}");
    let mut expected = before.clone();
    expected.extend(wanted.iter().map(|id| (id.clone(), SELECTS.to_string())));
    expected.sort();
    assert_eq!(assigned(&s), expected);
    let writes = s.shared.with_writes(|w| w.applied().len());
    assert_eq!(writes, wanted.len());

    // Applied again: nothing is written.
    let report = tenant_apply(&s, &[scope.to_str().unwrap()]);
    assert_eq!(report["changed"], 0, "{report}");
    assert_eq!(report["already"], wanted.len(), "{report}");
    assert_eq!(s.shared.with_writes(|w| w.applied().len()), writes);

    // Undone: exactly the assignments added are deleted; the others stay.
    let undo = dir.path().join("scope.undo.json");
    assert!(
        undo.is_file(),
        "the undo file is written before the first write"
    );
    let report = tenant_apply(&s, &["--undo", undo.to_str().unwrap()]);
    assert_eq!(report["changed"], wanted.len(), "{report}");
    assert_eq!(assigned(&s), before);
}

#[test]
fn a_scope_plan_needs_a_configuration_in_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let out = gwb()
        .args(["migrate", "plan", "--snapshot"])
        .arg(fixture("contoso"))
        .args(["--from", "connect-v2", "--to", "cloud-sync"])
        .args(["--accept", "duplicated,orphaned,deleted,members-dropped"])
        .arg("--out-scope")
        .arg(dir.path().join("scope.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no Cloud Sync configuration"), "{stderr}");
    assert!(!dir.path().join("scope.json").exists());
}
