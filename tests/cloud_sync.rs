//! Cloud Sync configurations read from a bundle and `gwb mappings test`, on
//! fixtures/cloud-sync (two configurations: contoso.com selects groups and keeps converted
//! groups where they were with the GroupDN expressions; fabrikam.com takes all security groups
//! with filters and routes with Switch). "CONFIGURE" = Microsoft's
//! how-to-configure-entra-to-active-directory (2026-08-19); "DEPLOY" =
//! concept-deployment-options-provision-to-active-directory (2026-08-10); "APP-REF" = the
//! functions reference (2026-04-10).

use serde_json::Value;

use crate::util::{fixture, gwb, json_ok};

fn mappings_json(extra: &[&str]) -> Value {
    let mut cmd = gwb();
    cmd.args(["mappings", "test", "--format", "json", "--snapshot"])
        .arg(fixture("cloud-sync"))
        .args(extra);
    json_ok(&cmd.output().expect("gwb runs"))
}

fn config<'a>(r: &'a Value, domain: &str) -> &'a Value {
    r["configurations"]
        .as_array()
        .expect("configurations")
        .iter()
        .find(|c| c["domain"] == domain)
        .unwrap_or_else(|| panic!("no configuration {domain}"))
}

fn group<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["displayName"] == name)
        .unwrap_or_else(|| panic!("no group {name}"))
}

/// The value a mapping gives (quoted as the report renders it), or its outcome kind.
fn mapped(g: &Value, target: &str) -> String {
    let m = g["mappings"]
        .as_array()
        .expect("mappings")
        .iter()
        .find(|m| m["target"] == target)
        .unwrap_or_else(|| panic!("no mapping {target}"));
    match m["outcome"]["kind"].as_str() {
        Some("value") | Some("defaultValue") => {
            m["outcome"]["value"].as_str().unwrap_or("").to_string()
        }
        Some(k) => format!("<{k}>"),
        None => panic!("no outcome"),
    }
}

/// The scope verdict and the first failing check.
fn scope(g: &Value) -> (Value, Option<String>) {
    let failed = g["scope"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["result"] == "fail")
        .map(|s| {
            format!(
                "{}: {}",
                s["check"].as_str().unwrap_or(""),
                s["detail"].as_str().unwrap_or("")
            )
        });
    (g["scope"]["inScope"].clone(), failed)
}

#[test]
fn selected_groups_scope_and_default_security_clause() {
    let r = mappings_json(&[]);
    assert_eq!(r["format"], "gwb-mappings-test/1");
    let c = config(&r, "contoso.com");
    // DEPLOY: selected groups are app role assignments with appRoleId 1a0abf4d-… (public
    // cloud); a user assignment and another role do not select anything.
    assert_eq!(c["scopeMode"], "selected security groups (7)");
    assert_eq!(c["jobStatus"], "Active, schedule Active every PT20M");
    // Selected and passing the default clause and the filter.
    for name in ["  Sales EMEA ", "Marketing", "Finance, Paris"] {
        assert_eq!(scope(group(c, name)), (Value::Bool(true), None), "{name}");
    }
    // CONFIGURE: the default security clause `securityEnabled IS TRUE AND dirSyncEnabled IS
    // FALSE AND mailEnabled IS FALSE` is ANDed on top of the selection: a selected mail-enabled
    // group and a selected group synced from AD are not provisioned.
    assert_eq!(
        scope(group(c, "Mail Security")),
        (
            Value::Bool(false),
            Some("default security clause: fails mailEnabled IS FALSE".into())
        )
    );
    assert_eq!(
        scope(group(c, "Synced AD Group")),
        (
            Value::Bool(false),
            Some("default security clause: fails dirSyncEnabled IS FALSE".into())
        )
    );
    assert_eq!(
        scope(group(c, "All Company")),
        (
            Value::Bool(false),
            Some("default security clause: fails securityEnabled IS TRUE".into())
        )
    );
    // Not selected (its assignment carries the default-access role, not Cloud Sync's).
    assert_eq!(
        scope(group(c, "NA-Helpdesk")),
        (
            Value::Bool(false),
            Some("selected groups: not among the 7 selected groups".into())
        )
    );
    // Selected, but the scoping filter (NOT REGEX MATCH "^ARCHIVE") is ANDed too.
    let (v, failed) = scope(group(c, "ARCHIVE Old Project"));
    assert_eq!(v, Value::Bool(false));
    assert!(
        failed
            .unwrap()
            .contains("displayName NOT REGEX MATCH \"^ARCHIVE\"")
    );
    assert!(c["problems"][0].as_str().unwrap().contains("pure overhead"));
}

#[test]
fn groupdn_container_and_cn_keep_a_converted_group_where_it_was() {
    let r = mappings_json(&["--domain", "contoso.com"]);
    let c = config(&r, "contoso.com");
    // CONFIGURE "Preserve a converted group's OU and CN": with GroupDN present, the container
    // is the DN without its first RDN and the cn is that RDN's value, its escaped comma ("\,",
    // turned into "\2C" and back by Microsoft's expression) a plain "," again.
    let f = group(c, "Finance, Paris");
    assert_eq!(
        mapped(f, "parentDistinguishedName"),
        "\"OU=Groups EU,OU=Contoso,DC=contoso,DC=com\""
    );
    assert_eq!(mapped(f, "cn"), "\"Finance, Paris\"");
    // Without GroupDN: the default container (IIF's false branch) and the default cn
    // `<Left(Trim(displayName),51)>_<last 12 of objectId>`.
    let s = group(c, "  Sales EMEA ");
    assert_eq!(
        mapped(s, "parentDistinguishedName"),
        "\"CN=Users,DC=contoso,DC=com\""
    );
    assert_eq!(mapped(s, "cn"), "\"Sales EMEA_44ee44ee44ee\"");
    // The anchors Cloud Sync writes: msDS-ExternalDirectoryObjectId and adminDescription.
    assert_eq!(
        mapped(s, "msDS-ExternalDirectoryObjectId"),
        "\"Group_00aa00aa-bb11-cc22-dd33-44ee44ee44ee\""
    );
    assert_eq!(
        mapped(s, "adminDescription"),
        mapped(s, "msDS-ExternalDirectoryObjectId")
    );
    assert_eq!(mapped(s, "member"), "<members>");
    assert_eq!(mapped(s, "description"), "\"EMEA sales team\"");
    // The IIF(IsPresent(null)) caveat is shown where it applies.
    let notes = s["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["target"] == "parentDistinguishedName")
        .unwrap()["notes"]
        .to_string();
    assert!(notes.contains("condition check fails"), "{notes}");
    // Each step of the cn is shown, innermost first, the whole expression last.
    let cn = f["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["target"] == "cn")
        .unwrap();
    let steps = cn["steps"].as_array().unwrap();
    assert_eq!(
        steps[0]["expression"],
        "[extension_0123456789abcdef0123456789abcdef_GroupDN]"
    );
    assert_eq!(steps.last().unwrap()["depth"], 0);
    assert_eq!(steps.last().unwrap()["result"], "\"Finance, Paris\"");
}

#[test]
fn all_groups_with_filters_and_a_switch_container() {
    let r = mappings_json(&["--domain", "fabrikam.com"]);
    assert_eq!(r["configurations"].as_array().unwrap().len(), 1);
    let c = config(&r, "fabrikam.com");
    assert_eq!(
        c["scopeMode"],
        "all security groups, with attribute filters"
    );
    // Quarantine with its reason and error (synchronizationQuarantine).
    let status = c["jobStatus"].as_str().unwrap();
    assert!(status.starts_with("Quarantine (quarantine: EncounteredQuarantineException, HybridSynchronizationActiveDirectoryInvalidCredentials"), "{status}");
    // APP-REF Switch caveat: a Switch container without IgnoreFlowIfNullOrEmpty.
    assert!(
        c["problems"]
            .to_string()
            .contains("Switch without IgnoreFlowIfNullOrEmpty")
    );
    // Filter groups are ORed: "Regional" (REGEX MATCH "^(?:NA|EU)-") or "Marketing".
    for (name, ou) in [
        ("NA-Helpdesk", "OU=NorthAmerica,DC=fabrikam,DC=com"),
        ("EU-Facilities", "OU=Europe,DC=fabrikam,DC=com"),
        ("Marketing", "OU=Groups,DC=fabrikam,DC=com"),
    ] {
        let g = group(c, name);
        assert_eq!(scope(g).0, Value::Bool(true), "{name}");
        // CONFIGURE's prefix routing: Switch(Left(Trim([displayName]), 2), default, "NA", …).
        assert_eq!(
            mapped(g, "parentDistinguishedName"),
            format!("\"{ou}\""),
            "{name}"
        );
    }
    let (v, failed) = scope(group(c, "  Sales EMEA "));
    assert_eq!(v, Value::Bool(false));
    assert!(
        failed
            .unwrap()
            .starts_with("scoping filters: no filter holds: Regional")
    );
    // ObjectAddOnly: shown as create-only.
    let g = group(c, "NA-Helpdesk");
    assert_eq!(mapped(g, "sAMAccountName"), "\"NA-Helpdesk_Fabrikam\"");
    assert!(
        g["mappings"]
            .to_string()
            .contains("only when the group is created")
    );
}

#[test]
fn text_report_shows_steps_and_one_group() {
    let mut cmd = gwb();
    cmd.args(["mappings", "test", "--snapshot"])
        .arg(fixture("cloud-sync"))
        .args([
            "--group",
            "55ff55ff-0066-1177-2288-993399339933",
            "--domain",
            "fabrikam.com",
        ]);
    let out = crate::util::run_ok(&mut cmd);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Group \"NA-Helpdesk\" (55ff55ff-0066-1177-2288-993399339933)"),
        "{text}"
    );
    assert!(
        text.contains("        Left(Trim([displayName]), 2) → \"NA\""),
        "{text}"
    );
    assert!(
        text.contains("      = \"OU=NorthAmerica,DC=fabrikam,DC=com\""),
        "{text}"
    );
    assert_eq!(text.matches("\nGroup ").count(), 1);
}

#[test]
#[cfg_attr(
    windows,
    ignore = "asserts the message with the path as Linux joins it"
)]
fn unusable_input_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // No cloud-sync directory at all.
    std::fs::copy(
        fixture("cloud-sync/tenant.json"),
        dir.path().join("tenant.json"),
    )
    .unwrap();
    let out = gwb()
        .args(["mappings", "test", "--snapshot"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Cloud Sync configuration"));
    // A configuration without schema.json.
    let cfg = dir.path().join("cloud-sync/corp.example.com");
    std::fs::create_dir_all(&cfg).unwrap();
    for f in [
        "servicePrincipal.json",
        "jobs.json",
        "appRoleAssignedTo.json",
    ] {
        std::fs::copy(
            fixture(&format!("cloud-sync/cloud-sync/contoso.com/{f}")),
            cfg.join(f),
        )
        .unwrap();
    }
    let out = gwb()
        .args(["mappings", "test", "--snapshot"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("corp.example.com/schema.json") && err.contains("missing"),
        "{err}"
    );
    // A schema that is not JSON names its place.
    std::fs::write(cfg.join("schema.json"), "{\"synchronizationRules\": [}").unwrap();
    let out = gwb()
        .args(["mappings", "test", "--snapshot"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schema.json"));
    // An unknown group.
    let out = gwb()
        .args(["mappings", "test", "--snapshot"])
        .arg(fixture("cloud-sync"))
        .args(["--group", "Nobody"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"Nobody\""));
}

/// The cloud-sync forecast of `gwb audit` on the fixture (contoso.com's AD in ad.ldif).
fn cloud_sync_forecast(extra: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["-t", "cloud-sync"];
    args.extend_from_slice(extra);
    let r = crate::util::audit_json(dir.path(), &fixture("cloud-sync"), &args);
    r["forecast"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"] == "cloud-sync")
        .expect("cloud-sync forecast")["groups"]
        .as_array()
        .unwrap()
        .clone()
}

fn fg<'a>(gs: &'a [Value], name: &str) -> &'a Value {
    gs.iter()
        .find(|g| g["displayName"] == name)
        .unwrap_or_else(|| panic!("{name}"))
}

fn skipped_reasons(g: &Value) -> Vec<String> {
    g["members"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn audit_forecasts_cloud_sync_from_the_configuration() {
    let gs = cloud_sync_forecast(&[]);
    // Scope from the configuration: not selected, filtered out.
    for (name, why) in [
        (
            "NA-Helpdesk",
            "selected groups: not among the 7 selected groups",
        ),
        (
            "ARCHIVE Old Project",
            "Not archived: displayName NOT REGEX MATCH",
        ),
    ] {
        let g = fg(&gs, name);
        assert_eq!(
            (g["outcome"].as_str(), g["reason"].as_str()),
            (Some("skip"), Some("cloud-sync-out-of-scope")),
            "{name}"
        );
        assert!(
            g["detail"].as_str().unwrap().contains(why),
            "{name}: {}",
            g["detail"]
        );
        assert_eq!(g["dn"], Value::Null);
    }
    // A selected mail-enabled group and a selected synced group: the default security clause
    // keeps them out (the core's own reasons stay; the detail names the clause).
    let m = fg(&gs, "Mail Security");
    assert_eq!(m["outcome"], "skip");
    assert!(
        m["detail"]
            .as_str()
            .unwrap()
            .contains("fails mailEnabled IS FALSE")
    );
    let s = fg(&gs, "Synced AD Group");
    assert_eq!(s["outcome"], "skip");
    assert!(
        s["detail"]
            .as_str()
            .unwrap()
            .contains("fails dirSyncEnabled IS FALSE")
    );

    // "the engine searches the target domain for an AD object whose
    // msDS-ExternalDirectoryObjectId matches" (how-provisioning-to-active-directory-works,
    // 2026-08-19): a Cloud Sync group outside any gwb OU is joined and moved to the container
    // the mapping gives (the default CN=Users, as no GroupDN is set for it).
    let sales = fg(&gs, "  Sales EMEA ");
    assert_eq!(sales["outcome"], "writeback");
    assert_eq!(
        sales["existingDn"],
        "CN=Sales EMEA_44ee44ee44ee,OU=Old,DC=contoso,DC=com"
    );
    assert_eq!(
        sales["dn"],
        "CN=Sales EMEA_44ee44ee44ee,CN=Users,DC=contoso,DC=com"
    );
    assert!(
        sales["detail"]
            .as_str()
            .unwrap()
            .contains("moved from OU=Old,DC=contoso,DC=com to CN=Users,DC=contoso,DC=com")
    );
    // Renamed: the default cn `<displayName>_<last 12 of objectId>` replaces the old CN.
    let mk = fg(&gs, "Marketing");
    assert_eq!(
        mk["existingDn"],
        "CN=Marketing Old,CN=Users,DC=contoso,DC=com"
    );
    assert_eq!(
        mk["dn"],
        "CN=Marketing_55ff55ff55ff,CN=Users,DC=contoso,DC=com"
    );
    assert!(
        mk["detail"]
            .as_str()
            .unwrap()
            .contains("renamed from CN=Marketing Old to CN=Marketing_55ff55ff55ff")
    );
    // Converted groups are matched by SID (govern-on-premises-groups, 2025-09-04); with the
    // GroupDN container and cn the group stays where it is, under its name.
    let fin = fg(&gs, "Finance, Paris");
    assert_eq!(
        fin["existingDn"],
        "CN=Finance\\, Paris,OU=Groups EU,OU=Contoso,DC=contoso,DC=com"
    );
    assert_eq!(fin["dn"], fin["existingDn"]);
    let d = fin["detail"].as_str().unwrap();
    assert!(
        d.contains("by objectSid") && !d.contains("renamed") && !d.contains("moved"),
        "{d}"
    );
    // A converted group whose AD original is still Global: refused (converted groups must be
    // Universal; HybridSynchronizationActiveDirectoryInvalidGroupType). The core's
    // source-of-authority rule names it for what it is: a converted group not yet Universal.
    let hr = fg(&gs, "HR Global");
    assert_eq!(
        (hr["outcome"].as_str(), hr["reason"].as_str()),
        (Some("skip"), Some("soa-scope-not-universal"))
    );

    // Membership toggle off (Microsoft's 2026 default): the on-premises user is not written;
    // the cloud-only user never is; a nested group synced from AD never is.
    assert_eq!(sales["members"]["resolved"], 0);
    let mut r = skipped_reasons(sales);
    r.sort();
    assert_eq!(
        r,
        ["member-cloud-only", "member-on-premises-membership-off"]
    );
    let mut r = skipped_reasons(mk);
    r.sort();
    assert_eq!(
        r,
        [
            "member-on-premises-membership-off",
            "member-unsupported-type"
        ]
    );
}

#[test]
fn membership_toggle_on_writes_on_premises_users() {
    let gs = cloud_sync_forecast(&["--cloud-sync-membership", "on"]);
    // how-provisioning-to-active-directory-works: with the toggle on, references to members
    // with an AD account are written; cloud-only members and synced groups still are not.
    let sales = fg(&gs, "  Sales EMEA ");
    assert_eq!(sales["members"]["resolved"], 1);
    assert_eq!(skipped_reasons(sales), ["member-cloud-only"]);
    let mk = fg(&gs, "Marketing");
    assert_eq!(mk["members"]["resolved"], 1);
    assert_eq!(skipped_reasons(mk), ["member-unsupported-type"]);
}

#[test]
fn audit_reports_configuration_findings() {
    let dir = tempfile::tempdir().unwrap();
    let r = crate::util::audit_json(dir.path(), &fixture("cloud-sync"), &["-t", "cloud-sync"]);
    let found: Vec<(String, String)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("cloud-sync-"))
        .map(|f| {
            (
                f["code"].as_str().unwrap().into(),
                f["subject"].as_str().unwrap().into(),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = found
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    // synchronizationStatus: quarantine with its reason; the last execution failed; the
    // functions reference's Switch caveat; "pure overhead" filters on selected groups.
    assert_eq!(
        pairs,
        [
            ("cloud-sync-job-not-running", "fabrikam.com"),
            ("cloud-sync-last-run-errors", "fabrikam.com"),
            ("cloud-sync-switch-container", "fabrikam.com"),
            ("cloud-sync-configuration-problem", "contoso.com"),
        ]
    );
}

/// Without a configuration the audit says the cloud-sync forecast is gwb's approximation and
/// where it differs from Microsoft's defaults for a new configuration (container CN=Users,
/// on-premises user membership off: how-to-configure-entra-to-active-directory,
/// how-provisioning-to-active-directory-works); with one, it does not.
#[test]
fn an_audit_without_a_configuration_says_what_the_cloud_sync_forecast_assumes() {
    let codes_of = |bundle: &str| -> Vec<serde_json::Value> {
        let out = crate::util::gwb()
            .args(["audit", "--snapshot"])
            .arg(crate::util::fixture(bundle))
            .args(["--format", "json", "--fail-on", "never"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "cloud-sync-defaults-assumed")
            .cloned()
            .collect()
    };
    let without = codes_of("contoso");
    assert_eq!(without.len(), 1, "{without:?}");
    let m = without[0]["message"].as_str().unwrap();
    assert!(
        m.contains("CN=Users,<domain>") && m.contains("membership to on-premises users is off"),
        "{m}"
    );
    assert_eq!(without[0]["severity"], "info");
    assert!(codes_of("cloud-sync").is_empty());
}
