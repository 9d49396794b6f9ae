//! `fixtures/soa`: one group in each source-of-authority state, forecast for every target.

use serde_json::Value;

use crate::util::{audit_json, fixture};

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
    assert_eq!(f["members"]["total"], 2);
    assert_eq!(f["members"]["resolved"], 2, "{}", f["members"]);
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
