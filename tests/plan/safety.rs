//! Planning-time safety: deletes need proof, the takeover guard, duplicate ids, the deletion
//! threshold, hostile display names.

use gwb::ad::Dn;
use gwb::core::CnFormat;
use gwb::plan::check_delete_threshold;
use gwb::plan::model::*;
use serde_json::Value;

use super::convergence::{World, plan_of};
use crate::util::{fixture, gwb, run_ok};

fn deletes(p: &Plan) -> usize {
    p.groups
        .iter()
        .filter(|g| g.action == Action::Delete)
        .count()
}

#[test]
fn an_incomplete_groups_section_deletes_nothing() {
    let mut w = World::contoso();
    assert_eq!(deletes(&w.plan(PlanPolicy::default())), 1);
    w.snap.tenant.incomplete_sections = vec!["groups".into()];
    let p = w.plan(PlanPolicy::default());
    assert_eq!(deletes(&p), 0);
    assert!(!p.safety.delete_proof.complete);
    assert!(!gwb::plan::render::ldif(&p).contains("changetype: delete"));
    // Any incomplete section withholds the proof: the orphan is kept, saying why.
    w.snap.tenant.incomplete_sections = vec!["settings".into()];
    let p = w.plan(PlanPolicy::default());
    assert_eq!(deletes(&p), 0);
    let kept = p
        .groups
        .iter()
        .find(|g| g.display_name == "Quarterly Planning 2022")
        .unwrap();
    assert_eq!(kept.action, Action::Keep);
    assert!(
        kept.detail
            .contains("not deleted without proof: incomplete sections: settings"),
        "{}",
        kept.detail
    );
    // No deletedGroups section: soft- and hard-deletion cannot be told apart.
    w.snap.tenant.incomplete_sections.clear();
    w.snap.tenant.deleted_groups = None;
    assert_eq!(deletes(&w.plan(PlanPolicy::default())), 0);
}

#[test]
fn groups_from_an_evidence_export_do_not_prove_deletes() {
    let mut w = World::contoso();
    let prepared = gwb::core::inputs::prepare(&w.snap, None).unwrap();
    let mut opts = super::convergence::options(PlanPolicy::default());
    opts.partial_evidence = Some("groups were read from the export x.json".into());
    w.rebuild();
    let p = gwb::plan::build(&w.snap, &prepared, &opts).unwrap();
    assert_eq!(deletes(&p), 0);
    assert_eq!(
        p.safety.delete_proof.detail.as_deref(),
        Some("groups were read from the export x.json")
    );
    // With live Graph, only ids a GET answered 404 for are deleted.
    let orphan = "36a2a41c-317d-5919-9807-a1492f4e72e4";
    opts.partial_evidence = None;
    opts.graph_absent = Some(Default::default());
    let p = gwb::plan::build(&w.snap, &prepared, &opts).unwrap();
    assert_eq!(deletes(&p), 0);
    opts.graph_absent = Some([orphan.to_string()].into_iter().collect());
    let p = gwb::plan::build(&w.snap, &prepared, &opts).unwrap();
    let d: Vec<&PlannedGroup> = p
        .groups
        .iter()
        .filter(|g| g.action == Action::Delete)
        .collect();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].id, orphan);
    assert_eq!(d[0].delete_proof, Some(DeleteProof::GraphNotFound));
    assert!(p.safety.delete_proof.graph_checked);
}

#[test]
fn the_deletion_threshold_is_checked_before_any_write() {
    let w = World::contoso();
    let p = w.plan(PlanPolicy::default());
    assert!(check_delete_threshold(&p, 1).is_ok());
    let e = check_delete_threshold(&p, 0).unwrap_err();
    assert_eq!((e.deletes, e.max), (1, 0));
    assert!(e.to_string().contains("--max-deletes 0"), "{e}");
}

#[test]
fn entra_connect_writing_into_the_target_ou_is_refused_unless_takeover() {
    let mut w = World::contoso();
    assert!(w.plan(PlanPolicy::default()).safety.refusals.is_empty());
    let sync = w.snap.tenant.on_premises_synchronization.as_mut().unwrap();
    let mut v = serde_json::to_value(&*sync).unwrap();
    v["features"]["groupWriteBackEnabled"] = Value::Bool(true);
    *sync = serde_json::from_value(v).unwrap();
    let p = w.plan(PlanPolicy::default());
    let r = p.refusal(&[]).expect("refused");
    assert_eq!(r.code, RefusalCode::ConnectWritesTargetOu);
    assert!(
        r.detail.contains("OU=Cloud Groups,OU=Contoso"),
        "{}",
        r.detail
    );
    assert_eq!(r.override_flag.as_deref(), Some("--takeover"));
    assert!(p.refusal(&["--takeover"]).is_none());
    // Another target OU: no conflict.
    let other = Dn::parse("OU=Contoso,DC=contoso,DC=com").unwrap();
    let prepared = gwb::core::inputs::prepare(&w.snap, Some(&other.to_string())).unwrap();
    assert!(gwb::plan::diff::takeover_refusal(&w.snap, &prepared, &other).is_none());
}

fn bundle_with_groups(groups: Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("contoso");
    for f in ["ad.ldif", "bundle.json"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let mut t: Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("tenant.json")).unwrap()).unwrap();
    t["groups"] = groups;
    std::fs::write(dir.path().join("tenant.json"), t.to_string()).unwrap();
    dir
}

fn contoso_groups() -> Vec<Value> {
    let t: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("contoso/tenant.json")).unwrap())
            .unwrap();
    t["groups"].as_array().unwrap().clone()
}

#[test]
fn duplicate_ids_merge_when_identical_and_fail_naming_both_places_when_not() {
    let groups = contoso_groups();
    let dir = bundle_with_groups(Value::Array(groups.clone()));
    // The same group again in a Get-MgBetaGroup export (without members): merged.
    let mut copy = groups[3].clone();
    copy.as_object_mut().unwrap().remove("members");
    let export = dir.path().join("groups.export.json");
    std::fs::write(
        &export,
        serde_json::json!({"value": [copy.clone()]}).to_string(),
    )
    .unwrap();
    let out = run_ok(
        gwb()
            .args(["plan", "--format", "json", "--snapshot"])
            .arg(dir.path())
            .arg("--evidence")
            .arg(&export),
    );
    let p = Plan::from_json(&String::from_utf8(out.stdout).unwrap(), "-").unwrap();
    let id = groups[3]["id"].as_str().unwrap().to_ascii_lowercase();
    let same: Vec<_> = p.groups.iter().filter(|g| g.id == id).collect();
    assert_eq!(same.len(), 1, "merged, and never colliding with itself");
    assert_ne!(same[0].reason.code(), "name-collision");
    // Groups from an export never prove a delete.
    assert_eq!(deletes(&p), 0);
    assert!(
        p.safety
            .delete_proof
            .detail
            .as_deref()
            .unwrap()
            .contains("groups.export.json")
    );
    // Contradicting contents: an input error naming both records.
    copy["displayName"] = Value::String("Renamed copy".into());
    std::fs::write(&export, serde_json::json!({"value": [copy]}).to_string()).unwrap();
    let out = gwb()
        .args(["plan", "--format", "json", "--snapshot"])
        .arg(dir.path())
        .arg("--evidence")
        .arg(&export)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tenant.json $.groups[3] and the export")
            && err.contains("groups.export.json"),
        "{err}"
    );
    assert!(err.contains(&id), "{err}");
}

#[test]
fn hostile_display_names_give_escaped_dns_and_short_cns() {
    let names = [
        ", + \" \\ < > ; = #",
        "#leading hash",
        "   leading spaces",
        "trailing spaces   ",
        &"x".repeat(200),
        "Ünïcødé Grüppe – 東京",
        "emoji 😀🎉 party",
        "new\nline",
        "=equals first",
    ];
    let mut w = World::contoso();
    let groups = w.snap.tenant.groups.as_mut().unwrap();
    let eligible: Vec<usize> = groups
        .iter()
        .enumerate()
        .filter(|(_, g)| {
            g.group_types.iter().any(|t| t == "Unified")
                && g.writeback_configuration
                    .as_ref()
                    .and_then(|c| c.is_enabled)
                    != Some(false)
        })
        .map(|(i, _)| i)
        .take(names.len())
        .collect();
    assert_eq!(eligible.len(), names.len());
    for (i, n) in eligible.iter().zip(names) {
        groups[*i].display_name = Some(n.to_string());
    }
    let p = plan_of(
        &w.snap,
        PlanPolicy {
            cn_format: CnFormat::DisplayName,
            ..PlanPolicy::default()
        },
    );
    let ou = super::convergence::contoso_ou();
    for n in names {
        let g = p.groups.iter().find(|g| g.display_name == n).unwrap();
        assert!(
            matches!(g.action, Action::Create | Action::Rename),
            "{g:#?}"
        );
        let cn = g.cn.as_ref().unwrap();
        assert!(cn.encode_utf16().count() <= 64, "{cn:?}");
        assert!(!cn.starts_with(' ') && !cn.contains("  _"), "{cn:?}");
        let dn = Dn::parse(g.dn.as_ref().unwrap()).unwrap();
        assert_eq!(dn.rdn_value(), Some(cn.as_str()), "DN round-trips the CN");
        assert!(dn.is_child_of(&ou));
        // The displayName is written as given.
        assert_eq!(
            g.attributes["displayName"].after,
            Some(AttrValue::One(n.to_string()))
        );
    }
    let ldif = gwb::plan::render::ldif(&p);
    // Unsafe values (leading space/colon/<, non-ASCII, newlines) are base64 in LDIF.
    assert!(ldif.contains("displayName:: "), "{ldif}");
    use base64::Engine;
    let newline = base64::engine::general_purpose::STANDARD.encode("new\nline");
    assert!(ldif.contains(&format!("displayName:: {newline}")), "{ldif}");
}
