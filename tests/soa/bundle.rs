//! `fixtures/soa`: one group in each source-of-authority state, forecast for every target.

use serde_json::Value;

use crate::util::{audit_json, fixture};

/// `fixtures/soa` copied into a temporary directory, with `edit` applied to (tenant.json, ad.ldif).
fn variant(edit: impl FnOnce(&mut Value, &mut String)) -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("soa");
    let mut tenant: Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("tenant.json")).unwrap()).unwrap();
    let mut ldif = std::fs::read_to_string(src.join("ad.ldif")).unwrap();
    edit(&mut tenant, &mut ldif);
    let b = dir.path().join("b");
    std::fs::create_dir(&b).unwrap();
    std::fs::write(b.join("tenant.json"), tenant.to_string()).unwrap();
    std::fs::write(b.join("ad.ldif"), ldif).unwrap();
    std::fs::copy(src.join("bundle.json"), b.join("bundle.json")).unwrap();
    let v = audit_json(dir.path(), &b, &[]);
    (dir, v)
}

/// The findings of one code: (subject, targets).
fn findings(v: &Value, code: &str) -> Vec<(String, Vec<String>)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| {
            (
                f["subject"].as_str().unwrap().to_string(),
                f["targets"]
                    .as_array()
                    .map(|t| t.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn verdict<'a>(v: &'a Value, target: &str) -> &'a Value {
    v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == target)
        .unwrap_or_else(|| panic!("no verdict for {target}"))
}

const FINANCE: &str = "2a000000-0000-4000-8000-000000003001";
const HR_GLOBAL: &str = "2a000000-0000-4000-8000-000000003002";
const LEGAL: &str = "2a000000-0000-4000-8000-000000003003";
const OPS: &str = "2a000000-0000-4000-8000-000000003004";
const SALES_DL: &str = "2a000000-0000-4000-8000-000000003005";
const GHOST: &str = "2a000000-0000-4000-8000-000000003006";
const MYSTERY: &str = "2a000000-0000-4000-8000-000000003007";
const PAYROLL: &str = "2a000000-0000-4000-8000-000000003008";
const CLOUD_TEAM: &str = "2a000000-0000-4000-8000-000000009001";

const GROUPS_OU: &str = "OU=Groups,OU=Contoso,DC=contoso,DC=com";
const TARGET_OU: &str = "OU=Cloud Groups,OU=Contoso,DC=contoso,DC=com";

fn report() -> Value {
    let dir = tempfile::tempdir().unwrap();
    audit_json(dir.path(), &fixture("soa"), &[])
}

fn group<'a>(v: &'a Value, target: &str, id: &str) -> &'a Value {
    v["forecast"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"] == target)
        .unwrap_or_else(|| panic!("no forecast for {target}"))["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == id)
        .unwrap_or_else(|| panic!("{target}: no group {id}"))
}

fn outcome(v: &Value, target: &str, id: &str) -> (String, String) {
    let g = group(v, target, id);
    (
        g["outcome"].as_str().unwrap().to_string(),
        g["reason"].as_str().unwrap().to_string(),
    )
}

fn pair(o: &str, r: &str) -> (String, String) {
    (o.to_string(), r.to_string())
}

#[test]
fn connect_writes_no_converted_group_and_no_target_writes_a_rollback() {
    let v = report();
    for t in ["connect-v1", "connect-v2"] {
        for id in [FINANCE, HR_GLOBAL, PAYROLL, GHOST, SALES_DL] {
            assert_eq!(
                outcome(&v, t, id),
                pair("skip", "soa-converted-not-written"),
                "{t} {id}"
            );
        }
    }
    for t in ["connect-v1", "connect-v2", "cloud-sync", "gwb"] {
        assert_eq!(
            outcome(&v, t, LEGAL),
            pair("skip", "soa-rollback-pending"),
            "{t}"
        );
        assert_eq!(
            outcome(&v, t, OPS),
            pair("skip", "source-on-premises"),
            "{t}"
        );
        // Not collected: converted and rolled back cannot be told apart, so nothing is written.
        assert_eq!(
            outcome(&v, t, MYSTERY),
            pair("skip", "soa-state-unknown"),
            "{t}"
        );
        let m = group(&v, t, MYSTERY)["detail"].as_str().unwrap();
        assert!(
            m.contains("Group-OnPremisesSyncBehavior.ReadWrite.All"),
            "{m}"
        );
    }
    // The cloud-native group is unaffected: connect-v2 and gwb create it in the target OU.
    for t in ["connect-v2", "gwb"] {
        let g = group(&v, t, CLOUD_TEAM);
        assert_eq!(g["outcome"], "writeback");
        assert_eq!(g["reason"], "eligible");
        assert!(g["existingDn"].is_null());
        assert!(g["dn"].as_str().unwrap().ends_with(TARGET_OU));
    }
}

#[test]
fn gwb_writes_a_converted_group_into_its_original_ad_object() {
    let v = report();
    for (id, cn) in [
        (FINANCE, "Finance"),
        (HR_GLOBAL, "HR Global"),
        (PAYROLL, "Payroll"),
    ] {
        let g = group(&v, "gwb", id);
        let original = format!("CN={cn},{GROUPS_OU}");
        assert_eq!(g["outcome"], "writeback", "{id}");
        assert_eq!(g["reason"], "soa-converted", "{id}");
        assert_eq!(g["existingDn"], original.as_str(), "{id}");
        assert_eq!(g["dn"], original.as_str(), "same DN: {id}");
        assert!(
            g["detail"]
                .as_str()
                .unwrap()
                .contains("the cloud is now its source of authority"),
            "{}",
            g["detail"]
        );
    }
    // The nested converted group is its original AD group as a member.
    let f = group(&v, "gwb", FINANCE);
    assert_eq!(f["members"]["total"], 3);
    assert_eq!(f["members"]["resolved"], 3, "{}", f["members"]);
    // No original AD group: gwb creates no second one.
    assert_eq!(
        outcome(&v, "gwb", GHOST),
        pair("skip", "soa-original-missing")
    );
    assert!(group(&v, "gwb", GHOST)["dn"].is_null());
    // Mail-enabled: Exchange-managed, never provisioned back.
    for t in ["gwb", "cloud-sync"] {
        assert_eq!(
            outcome(&v, t, SALES_DL),
            pair("skip", "soa-exchange-managed"),
            "{t}"
        );
    }
}

#[test]
fn cloud_sync_matches_by_sid_renames_and_moves_and_refuses_global_scope() {
    let v = report();
    let f = group(&v, "cloud-sync", FINANCE);
    assert_eq!(f["outcome"], "writeback");
    assert_eq!(f["reason"], "soa-converted");
    assert_eq!(f["existingDn"], format!("CN=Finance,{GROUPS_OU}").as_str());
    // Renamed to <displayName>_<last 12 of the objectId> in the default container.
    assert_eq!(
        f["dn"],
        "CN=Finance_000000003001,CN=Users,DC=contoso,DC=com"
    );
    assert!(
        f["detail"].as_str().unwrap().contains("GroupDN"),
        "{}",
        f["detail"]
    );
    assert_eq!(
        outcome(&v, "cloud-sync", HR_GLOBAL),
        pair("skip", "soa-scope-not-universal")
    );
    assert!(
        group(&v, "cloud-sync", HR_GLOBAL)["detail"]
            .as_str()
            .unwrap()
            .contains("Global")
    );
    // No original: Cloud Sync creates a new group (new SID) in its container.
    let g = group(&v, "cloud-sync", GHOST);
    assert_eq!(
        (g["outcome"].as_str(), g["reason"].as_str()),
        (Some("writeback"), Some("soa-original-missing"))
    );
    assert!(g["existingDn"].is_null());
    assert_eq!(g["dn"], "CN=Ghost_000000003006,CN=Users,DC=contoso,DC=com");
}

#[test]
fn findings_name_each_converted_group_and_the_unknown_state_fails_closed() {
    let v = report();
    let one = |code: &str| findings(&v, code);
    assert_eq!(
        one("soa-scope-not-universal"),
        [(HR_GLOBAL.to_string(), vec!["cloud-sync".to_string()])]
    );
    let ou: Vec<String> = one("soa-ou-not-preserved")
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(ou, [FINANCE, PAYROLL]);
    assert_eq!(
        one("soa-exchange-managed"),
        [(
            SALES_DL.to_string(),
            vec!["cloud-sync".to_string(), "gwb".to_string()]
        )]
    );
    let missing: Vec<(String, Vec<String>)> = one("soa-original-missing");
    assert!(missing.iter().all(|m| m.0 == GHOST), "{missing:?}");
    let mut targets: Vec<String> = missing.into_iter().flat_map(|m| m.1).collect();
    targets.sort();
    assert_eq!(targets, ["cloud-sync", "gwb"]);
    // carol keeps her AD account but is cloud-managed: Cloud Sync writes no reference for her.
    assert_eq!(
        one("soa-member-converted-user"),
        [(FINANCE.to_string(), vec!["cloud-sync".to_string()])]
    );
    // Mystery's state was not collected: the targets a converted group concerns are
    // incomplete, naming the section; connect-v1 is not concerned.
    let gap = one("evidence-missing")
        .into_iter()
        .find(|f| f.0 == "onPremisesSyncBehavior")
        .expect("the missing state is a finding");
    assert_eq!(gap.1, ["connect-v2", "cloud-sync", "gwb"]);
    for t in ["connect-v2", "cloud-sync", "gwb"] {
        let missing = verdict(&v, t)["missing"].to_string();
        assert!(missing.contains("onPremisesSyncBehavior"), "{t}: {missing}");
    }
    assert!(
        !verdict(&v, "connect-v1")["missing"]
            .to_string()
            .contains("onPremisesSyncBehavior")
    );
    // Connect 2.5.79.0 honours the conversion.
    assert!(one("soa-connect-below-floor").is_empty());
}

#[test]
fn old_connect_with_converted_groups_blocks_the_targets_it_breaks() {
    let (_d, v) = variant(|t, _| {
        t["onPremisesSynchronization"]["configuration"]["synchronizationClientVersion"] =
            "2.4.27.0".into();
        // Every state known: the gate judges the Connect floor alone.
        for g in t["groups"].as_array_mut().unwrap() {
            if g["id"] == MYSTERY {
                g["onPremisesSyncBehavior"] = serde_json::json!({"isCloudManaged": false});
            }
        }
    });
    let f = findings(&v, "soa-connect-below-floor");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].1, ["connect-v2", "cloud-sync", "gwb"]);
    assert_eq!(verdict(&v, "gwb")["verdict"], "blocked");
    assert!(
        findings(&v, "evidence-missing")
            .iter()
            .all(|f| f.0 != "onPremisesSyncBehavior")
    );
}

#[test]
fn a_rollback_blocked_by_a_writeback_stamp_is_a_finding() {
    let (_d, v) = variant(|_, ldif| {
        *ldif = ldif.replace(
            "description: AD description of Legal\n",
            &format!("description: AD description of Legal\nadminDescription: Group_{LEGAL}\n"),
        );
        assert!(ldif.contains("adminDescription: Group_"));
    });
    let f = findings(&v, "soa-rollback-stamped");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, LEGAL);
    // Still written by no target.
    assert_eq!(
        outcome(&v, "gwb", LEGAL),
        pair("skip", "soa-rollback-pending")
    );
}
