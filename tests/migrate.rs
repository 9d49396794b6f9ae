//! `gwb migrate plan` over bundles written by Entra Connect v1 and v2: `Group_<id>` CNs stamped
//! in `adminDescription` only, Microsoft 365 groups (one written as a mail-enabled security
//! group), a cloud mail-enabled security group, a decoy, and members on-premises and cloud-only.
//! Each group's consequence for `--to cloud-sync` (default configuration and the cn mapping) and
//! `--to gwb`, with the documented sentence it rests on; the exit code and `--accept`.

mod lab;
mod scope;

use std::path::Path;

use base64::Engine;
use serde_json::{Value, json};

use crate::util::gwb;

pub const SALES: &str = "5a1e5a1e-0000-4000-8000-00000000a001";
pub const PROJECT: &str = "5a1e5a1e-0000-4000-8000-00000000a002";
pub const FINANCE: &str = "5a1e5a1e-0000-4000-8000-00000000a003";
pub const LEGACY: &str = "5a1e5a1e-0000-4000-8000-00000000a004";
pub const ALERTS: &str = "5a1e5a1e-0000-4000-8000-00000000a005";
pub const DECOY: &str = "5a1e5a1e-0000-4000-8000-00000000dec0";
const ONPREM_USER: &str = "0e0e0e0e-0000-4000-8000-0000000000a1";
const CLOUD_USER: &str = "c1c1c1c1-0000-4000-8000-0000000000c1";

const DOMAIN: &str = "DC=fab,DC=example";
pub const OU: &str = "OU=Connect Groups,DC=fab,DC=example";
const USER_DN: &str = "CN=Olga Onprem,OU=Users,DC=fab,DC=example";
const USER_GUID: &str = "0b0b0b0b-1111-4222-8333-444455556666";
const USER_SID: &str = "S-1-5-21-1-2-3-1105";

/// Which Connect version wrote the bundle's groups.
#[derive(Clone, Copy, PartialEq)]
pub enum Writer {
    V1,
    V2,
}

fn b64_guid(g: &str) -> String {
    let u = uuid::Uuid::parse_str(g).expect("guid");
    base64::engine::general_purpose::STANDARD.encode(gwb::ad::ids::guid_to_bytes(&u))
}

fn onprem_user() -> Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": ONPREM_USER,
        "displayName": "Olga Onprem", "onPremisesSyncEnabled": true,
        "onPremisesSecurityIdentifier": USER_SID, "onPremisesObjectIdentifier": USER_GUID,
        "onPremisesDistinguishedName": USER_DN})
}

fn cloud_user() -> Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": CLOUD_USER,
        "displayName": "Carl Cloud", "onPremisesSyncEnabled": null})
}

/// The tenant: a security group enabled for writeback, a Microsoft 365 group with defaults, a
/// Microsoft 365 group written as a mail-enabled security group, a Microsoft 365 group with
/// writeback disabled, and a cloud mail-enabled security group.
pub fn tenant(v1: bool, v2: bool, ou: &str) -> Value {
    let members = json!([onprem_user(), cloud_user()]);
    let wb = |e: Value, t: Value| json!({"isEnabled": e, "onPremisesGroupType": t});
    json!({
        "format": "gwb-tenant/1",
        "tenantId": "fab00000-0000-4000-8000-000000000000",
        "onPremisesSynchronization": {
            "id": "fab00000-0000-4000-8000-000000000001",
            "configuration": {"writebackConfiguration": {"unifiedGroupContainer": ou}},
            "features": {"groupWriteBackEnabled": v2, "unifiedGroupWritebackEnabled": v1,
                "deviceWritebackEnabled": false}
        },
        "groups": [
            {"id": SALES, "displayName": "Sales Team", "groupTypes": [], "mailEnabled": false,
             "securityEnabled": true, "writebackConfiguration": wb(json!(true), Value::Null),
             "members": members.clone()},
            {"id": PROJECT, "displayName": "Project X", "groupTypes": ["Unified"],
             "mailEnabled": true, "securityEnabled": false, "mail": "projectx@fab.example",
             "mailNickname": "projectx", "writebackConfiguration": wb(Value::Null, Value::Null),
             "members": members.clone()},
            {"id": FINANCE, "displayName": "Finance Mail", "groupTypes": ["Unified"],
             "mailEnabled": true, "securityEnabled": false, "mail": "finance@fab.example",
             "mailNickname": "finance",
             "writebackConfiguration": wb(json!(true), json!("universalMailEnabledSecurityGroup")),
             "members": members.clone()},
            {"id": LEGACY, "displayName": "Legacy Team", "groupTypes": ["Unified"],
             "mailEnabled": true, "securityEnabled": false, "mail": "legacy@fab.example",
             "mailNickname": "legacy", "writebackConfiguration": wb(json!(false), Value::Null),
             "members": members.clone()},
            {"id": ALERTS, "displayName": "Alerts", "groupTypes": [], "mailEnabled": true,
             "securityEnabled": true, "mail": "alerts@fab.example", "mailNickname": "alerts",
             "members": members}
        ],
        "deletedGroups": []
    })
}

fn group_entry(id: &str, n: u32, security: bool, mail: Option<&str>, ext: bool) -> String {
    let mut s = format!(
        "dn: CN=Group_{id},{OU}\nobjectClass: top\nobjectClass: group\ncn: Group_{id}\nsAMAccountName: G{n}\ngroupType: {}\nadminDescription: Group_{id}\nobjectGUID:: {}\nobjectSid: S-1-5-21-1-2-3-{}\nuSNChanged: {}\nmember: {USER_DN}\n",
        if security { -2147483640 } else { 8 },
        b64_guid(&format!("9a9a9a9a-0000-4000-8000-00000000000{n}")),
        2000 + n,
        5000 + n
    );
    if let Some(m) = mail {
        s.push_str(&format!("mail: {m}\nproxyAddresses: SMTP:{m}\n"));
    }
    if ext {
        s.push_str(&format!("msDS-ExternalDirectoryObjectId: Group_{id}\n"));
    }
    s.push('\n');
    s
}

/// The AD side as Connect `w` left it (`copied`: the stamp already copied, as after the
/// preparation).
pub fn ad_ldif(w: Writer, copied: bool) -> String {
    let mut s = format!(
        "dn: {DOMAIN}\nobjectClass: top\nobjectClass: domain\nobjectClass: domainDNS\ndc: fab\n\n\
dn: CN=ms-DS-External-Directory-Object-Id,CN=Schema,CN=Configuration,{DOMAIN}\nobjectClass: top\nobjectClass: attributeSchema\nlDAPDisplayName: msDS-ExternalDirectoryObjectId\n\n\
dn: OU=Users,{DOMAIN}\nobjectClass: top\nobjectClass: organizationalUnit\n\n\
dn: {OU}\nobjectClass: top\nobjectClass: organizationalUnit\nobjectGUID:: {}\n\n\
dn: {USER_DN}\nobjectClass: top\nobjectClass: person\nobjectClass: user\nobjectGUID:: {}\nobjectSid: {USER_SID}\n\n\
dn: CN=Group_{DECOY},{OU}\nobjectClass: top\nobjectClass: group\ncn: Group_{DECOY}\ngroupType: -2147483640\nobjectGUID:: {}\nuSNChanged: 4711\n\n",
        b64_guid("0a0a0a0a-0000-4000-8000-000000000000"),
        b64_guid(USER_GUID),
        b64_guid("de0de0de-0000-4000-8000-000000000000"),
    );
    match w {
        Writer::V1 => {
            s.push_str(&group_entry(
                PROJECT,
                2,
                false,
                Some("projectx@fab.example"),
                copied,
            ));
            s.push_str(&group_entry(
                FINANCE,
                3,
                false,
                Some("finance@fab.example"),
                copied,
            ));
            s.push_str(&group_entry(
                LEGACY,
                4,
                false,
                Some("legacy@fab.example"),
                copied,
            ));
        }
        Writer::V2 => {
            s.push_str(&group_entry(SALES, 1, true, None, copied));
            s.push_str(&group_entry(
                PROJECT,
                2,
                false,
                Some("projectx@fab.example"),
                copied,
            ));
            s.push_str(&group_entry(
                FINANCE,
                3,
                true,
                Some("finance@fab.example"),
                copied,
            ));
        }
    }
    s
}

/// A bundle written by Connect `w`, in a fresh directory.
pub fn bundle(w: Writer, copied: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tmp");
    let t = tenant(w == Writer::V1, w == Writer::V2, OU);
    std::fs::write(d.path().join("tenant.json"), t.to_string()).expect("tenant");
    std::fs::write(d.path().join("ad.ldif"), ad_ldif(w, copied)).expect("ldif");
    std::fs::write(
        d.path().join("bundle.json"),
        json!({"format": "gwb-bundle/1", "collectedAt": "2026-12-01T00:00:00Z"}).to_string(),
    )
    .expect("manifest");
    d
}

/// `gwb migrate plan --snapshot DIR --format json` plus `extra`: (exit code, report).
pub fn migrate(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let out = gwb()
        .env_remove("GWB_CONFIG")
        .args(["migrate", "plan", "--snapshot"])
        .arg(dir)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("gwb runs");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        code,
        serde_json::from_slice(&out.stdout).expect("gwb-migration/1 JSON"),
    )
}

fn group<'a>(m: &'a Value, id: &str) -> Option<&'a Value> {
    m["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["id"] == id)
}

/// The consequence codes of one group, sorted.
pub fn codes(m: &Value, id: &str) -> Vec<String> {
    let g = group(m, id).unwrap_or_else(|| panic!("group {id} is in the migration"));
    let mut v: Vec<String> = g["consequences"]
        .as_array()
        .expect("consequences")
        .iter()
        .map(|c| c["code"].as_str().expect("code").to_string())
        .collect();
    v.sort();
    v
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn connect_v2_to_cloud_sync_with_the_default_configuration() {
    let b = bundle(Writer::V2, false);
    // --from defaults to the writer the tenant has on (groupWriteBackEnabled: v2).
    let (code, m) = migrate(b.path(), &["--to", "cloud-sync"]);
    assert_eq!(m["format"], "gwb-migration/1");
    assert_eq!(m["from"], "connect-v2");
    // "Connect-v2 groups (stamp in adminDescription only) are still matched only after
    // adminDescription is copied into msDS-ExternalDirectoryObjectId" (migrate-group-writeback):
    // Cloud Sync creates a second Sales Team in its default container "CN=Users,DC=<selected AD
    // domain>"; "Provisioning membership to on-premises users is off by default".
    assert_eq!(codes(&m, SALES), sorted(&["duplicated", "members-dropped"]));
    let sales = group(&m, SALES).expect("sales");
    assert_eq!(
        sales["after"]["dn"],
        format!("CN=Sales Team_00000000a001,CN=Users,{DOMAIN}")
    );
    assert_eq!(sales["after"]["membersWritten"], 0);
    assert_eq!(sales["before"]["membersWritten"], 1);
    // "Mail-enabled groups and DLs stay on Connect and revert to v1 behaviour": after disabling
    // v2 "all Microsoft 365 groups are written back ... independently of the Writeback Enabled
    // setting", as distribution groups.
    assert_eq!(codes(&m, PROJECT), ["unchanged"]);
    assert_eq!(
        group(&m, PROJECT).expect("p")["after"]["writer"],
        "connect-v1"
    );
    // Finance Mail, written by v2 as a mail-enabled security group, becomes a distribution group.
    assert_eq!(codes(&m, FINANCE), ["retyped"]);
    // Legacy Team (isEnabled false): v2 did not write it; v1 behaviour writes it.
    assert_eq!(codes(&m, LEGACY), ["created"]);
    // The cloud mail-enabled security group: no writer provisions it (Cloud Sync's scope is
    // "securityEnabled IS TRUE AND dirSyncEnabled IS FALSE AND mailEnabled IS FALSE").
    assert!(group(&m, ALERTS).is_none());
    assert!(group(&m, DECOY).is_none());
    // A duplicate and lost members fail the gate.
    assert_eq!(code, 1);
    assert_eq!(m["gate"], json!(["duplicated", "members-dropped"]));
    assert_eq!(m["summary"]["duplicated"], 1);
    // The preparation copies the stamp on Sales Team alone: the group Cloud Sync adopts, in
    // Connect's container, stamped, not the decoy, not the Microsoft 365 groups left on v1.
    let p = &m["preparation"];
    assert_eq!(p["format"], "gwb-plan/1");
    assert_eq!(p["targetOu"]["dn"], OU);
    let changes: Vec<&Value> = p["groups"].as_array().expect("groups").iter().collect();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["id"], SALES);
    assert_eq!(changes[0]["action"], "update");
    assert_eq!(
        changes[0]["attributes"]["msDS-ExternalDirectoryObjectId"]["after"],
        format!("Group_{SALES}")
    );
    assert_eq!(changes[0]["current"]["usnChanged"], 5001);
    assert_eq!(sales["prepared"], true);
    // The scope additions: the groups Cloud Sync should provision.
    assert_eq!(m["scopeAdditions"], json!([SALES]));
    // The checklist marks the v2 switch-off irreversible, with Microsoft's cmdlet.
    let steps = m["checklist"].as_array().expect("checklist");
    let off = steps
        .iter()
        .find(|s| {
            s["powershell"]
                .as_str()
                .is_some_and(|p| p.contains("Set-ADSyncAADCompanyFeature -GroupWritebackV2 $false"))
        })
        .expect("v2 off step");
    assert_eq!(off["irreversible"], true);
    assert!(steps.iter().filter(|s| s["irreversible"] == true).count() == 1);
    assert_eq!(m["cnMappingToKeepNames"], r#"Append("Group_",[objectId])"#);
}

#[test]
fn connect_v2_to_cloud_sync_once_the_stamp_is_copied() {
    let b = bundle(Writer::V2, true);
    // Cloud Sync "searches the target domain for an AD object whose
    // msDS-ExternalDirectoryObjectId matches"; match -> update in place. With the default cn
    // mapping "the group is renamed to the new format".
    let (code, m) = migrate(b.path(), &["--from", "connect-v2", "--to", "cloud-sync"]);
    assert_eq!(
        codes(&m, SALES),
        sorted(&["adopted", "renamed", "members-dropped"])
    );
    let sales = group(&m, SALES).expect("sales");
    assert_eq!(
        sales["after"]["dn"],
        format!("CN=Sales Team_00000000a001,{OU}"),
        "renamed in place, not moved"
    );
    assert_eq!(code, 1, "members-dropped gates");
    // Nothing left to prepare.
    assert_eq!(m["preparation"]["groups"], json!([]));

    // With the cn mapping Append("Group_",[objectId]) Connect's names are kept; with the
    // membership toggle on, the on-premises member is written too.
    let (code, m) = migrate(
        b.path(),
        &[
            "--from",
            "connect-v2",
            "--to",
            "cloud-sync",
            "--cloud-sync-cn",
            "connect",
            "--cloud-sync-membership",
        ],
    );
    assert_eq!(codes(&m, SALES), ["adopted"]);
    assert_eq!(
        group(&m, SALES).expect("s")["after"]["dn"],
        format!("CN=Group_{SALES},{OU}")
    );
    assert_eq!(code, 0, "nothing gated: {}", m["gate"]);
}

#[test]
fn connect_v2_to_cloud_sync_with_the_cn_mapping_before_the_copy() {
    let b = bundle(Writer::V2, false);
    // The cn mapping does not make Cloud Sync join: the join is msDS-ExternalDirectoryObjectId.
    let (code, m) = migrate(
        b.path(),
        &["--to", "cloud-sync", "--cloud-sync-cn", "connect"],
    );
    assert_eq!(codes(&m, SALES), sorted(&["duplicated", "members-dropped"]));
    assert_eq!(
        group(&m, SALES).expect("s")["after"]["dn"],
        format!("CN=Group_{SALES},CN=Users,{DOMAIN}")
    );
    assert_eq!(code, 1);
    // Accepting both gated consequences passes the gate.
    let (code, m) = migrate(
        b.path(),
        &[
            "--to",
            "cloud-sync",
            "--cloud-sync-cn",
            "connect",
            "--accept",
            "duplicated,members-dropped",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(m["gate"], json!([]));
    // Accepting one of them is not enough.
    let (code, _) = migrate(b.path(), &["--to", "cloud-sync", "--accept", "duplicated"]);
    assert_eq!(code, 1);
}

#[test]
fn connect_v1_to_cloud_sync_deletes_the_microsoft_365_groups() {
    let b = bundle(Writer::V1, false);
    let (code, m) = migrate(b.path(), &["--to", "cloud-sync"]);
    assert_eq!(m["from"], "connect-v1");
    // Cloud Sync does not provision Microsoft 365 groups, and "Disabling V1 -> the next full sync
    // deletes all groups Connect wrote to AD" (Cloud Sync FAQ).
    for id in [PROJECT, FINANCE, LEGACY] {
        assert_eq!(
            codes(&m, id),
            sorted(&["deleted", "no-longer-written"]),
            "{id}"
        );
    }
    // The security group v1 never wrote is provisioned by Cloud Sync.
    assert_eq!(codes(&m, SALES), ["created"]);
    assert_eq!(code, 1);
    assert_eq!(m["gate"], json!(["deleted"]));
    assert_eq!(
        m["preparationNote"],
        "no preparation is defined for connect-v1 to cloud-sync"
    );
    let (code, _) = migrate(b.path(), &["--to", "cloud-sync", "--accept", "deleted"]);
    assert_eq!(code, 0);
    // With the cn mapping Append("Group_",[objectId]) Cloud Sync names the new group as Connect
    // would; the Microsoft 365 groups are deleted all the same.
    let (_, m) = migrate(
        b.path(),
        &["--to", "cloud-sync", "--cloud-sync-cn", "connect"],
    );
    assert_eq!(codes(&m, SALES), ["created"]);
    assert_eq!(
        group(&m, SALES).expect("s")["after"]["dn"],
        format!("CN=Group_{SALES},CN=Users,{DOMAIN}")
    );
    assert_eq!(
        codes(&m, PROJECT),
        sorted(&["deleted", "no-longer-written"])
    );
}

#[test]
fn connect_groups_named_with_the_display_name_are_adopted_and_renamed_unless_the_cn_format_matches()
{
    // Connect's "New format" CN: <display name>_<last 12 digits of object ID>.
    let b = bundle(Writer::V2, false);
    let ldif = std::fs::read_to_string(b.path().join("ad.ldif")).expect("ldif");
    let ldif = ldif
        .replace(
            &format!("Group_{SALES},{OU}"),
            &format!("Sales Team_00000000a001,{OU}"),
        )
        .replace(&format!("cn: Group_{SALES}"), "cn: Sales Team_00000000a001");
    std::fs::write(b.path().join("ad.ldif"), ldif).expect("ldif");
    let (_, m) = migrate(b.path(), &["--from", "connect-v2", "--to", "gwb"]);
    assert_eq!(codes(&m, SALES), sorted(&["adopted", "renamed"]));
    let (_, m) = migrate(
        b.path(),
        &[
            "--from",
            "connect-v2",
            "--to",
            "gwb",
            "--cn-format",
            "display-name",
        ],
    );
    assert_eq!(codes(&m, SALES), ["adopted"]);
    // The preparation adopts it: it is provably Connect's (stamped, in Connect's OU, Connect's
    // name for this group).
    assert!(
        m["preparation"]["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .any(|g| g["id"] == SALES && g["action"] != "create")
    );
}

#[test]
fn connect_v1_to_gwb_adopts_in_place() {
    let b = bundle(Writer::V1, false);
    let (code, m) = migrate(b.path(), &["--to", "gwb"]);
    // gwb owns a group stamped Group_<objectId> in adminDescription in its target OU (here
    // Connect's container) and updates it in place: the Microsoft 365 group with defaults is
    // adopted.
    assert_eq!(codes(&m, PROJECT), ["adopted"]);
    // gwb follows onPremisesGroupType (v2 rules): v1 wrote Finance Mail as a distribution group.
    assert_eq!(codes(&m, FINANCE), sorted(&["adopted", "retyped"]));
    // isEnabled false: v1 "ignores it", gwb does not write it and keeps the AD group untouched
    // (default deletion behaviour): orphaned.
    assert_eq!(
        codes(&m, LEGACY),
        sorted(&["no-longer-written", "orphaned"])
    );
    assert_eq!(codes(&m, SALES), ["created"]);
    assert_eq!(code, 1);
    assert_eq!(m["gate"], json!(["orphaned"]));
    // The preparation: gwb's plan over Connect's container, the two adopted groups only.
    let p = &m["preparation"];
    let mut ids: Vec<&str> = p["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["id"].as_str().expect("id"))
        .collect();
    ids.sort();
    assert_eq!(ids, [PROJECT, FINANCE]);
    for g in p["groups"].as_array().expect("groups") {
        assert_eq!(g["current"]["stamp"], "admin-description");
        assert_eq!(g["cn"], format!("Group_{}", g["id"].as_str().expect("id")));
    }
}

#[test]
fn connect_v2_to_gwb_adopts_every_group_connect_wrote() {
    let b = bundle(Writer::V2, false);
    let (code, m) = migrate(b.path(), &["--to", "gwb"]);
    for id in [SALES, PROJECT, FINANCE] {
        assert_eq!(codes(&m, id), ["adopted"], "{id}");
    }
    assert!(group(&m, LEGACY).is_none(), "neither writer touches it");
    assert_eq!(code, 0);
    assert_eq!(m["preparation"]["groups"].as_array().map(Vec::len), Some(3));
}

#[test]
fn every_format_renders_the_consequences() {
    let b = bundle(Writer::V2, false);
    let run = |f: &str| {
        let out = gwb()
            .env_remove("GWB_CONFIG")
            .args(["migrate", "plan", "--to", "cloud-sync", "--snapshot"])
            .arg(b.path())
            .args(["--format", f])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let t = run("table");
    assert!(
        t.lines()
            .next()
            .is_some_and(|l| l.starts_with("duplicated")),
        "gated first: {t}"
    );
    assert!(t.contains("1 duplicated"), "{t}");
    assert!(
        t.contains("Gate: FAILED: duplicated, members-dropped"),
        "{t}"
    );
    let md = run("markdown");
    assert!(md.contains("| `duplicated` | 1 |"), "{md}");
    assert!(md.contains("**IRREVERSIBLE**"), "{md}");
    let csv = run("csv");
    assert!(csv.starts_with("id,displayName,consequence,"));
    assert!(
        csv.contains(&format!("{SALES},Sales Team,duplicated,")),
        "{csv}"
    );
    let html = run("html");
    assert!(html.contains("Groups by consequence") && html.contains("<svg"));
    assert!(html.contains("Gate failed"));
}

#[test]
fn the_preparation_is_saved_as_a_plan_gwb_show_reads() {
    let b = bundle(Writer::V2, false);
    let prep = b.path().join("prep.json");
    let out = gwb()
        .env_remove("GWB_CONFIG")
        .args([
            "migrate",
            "plan",
            "--to",
            "cloud-sync",
            "--accept",
            "duplicated,members-dropped",
            "--snapshot",
        ])
        .arg(b.path())
        .args(["--format", "table", "--out-preparation"])
        .arg(&prep)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = gwb::plan::load::read_plan(&prep).expect("a gwb-plan/1 plan");
    assert_eq!(plan.summary.update, 1);
    let shown = gwb()
        .args(["show"])
        .arg(&prep)
        .args(["--format", "ldif"])
        .output()
        .expect("show");
    let ldif = String::from_utf8_lossy(&shown.stdout);
    assert!(
        ldif.contains(&format!("msDS-ExternalDirectoryObjectId: Group_{SALES}")),
        "{ldif}"
    );
}

#[test]
fn gwb_refuses_a_group_cloud_sync_still_maintains_unless_cloud_sync_is_removed() {
    const OPS: &str = "5a1e5a1e-0000-4000-8000-00000000a0c5";
    let b = bundle(Writer::V2, false);
    let mut t: Value = serde_json::from_str(
        &std::fs::read_to_string(b.path().join("tenant.json")).expect("tenant"),
    )
    .expect("json");
    t["groups"].as_array_mut().expect("groups").push(json!({
        "id": OPS, "displayName": "Ops", "groupTypes": [], "mailEnabled": false,
        "securityEnabled": true, "writebackConfiguration": {"isEnabled": true}, "members": []}));
    std::fs::write(b.path().join("tenant.json"), t.to_string()).expect("tenant");
    // Cloud Sync's group: stamped in msDS-ExternalDirectoryObjectId alone.
    let mut ldif = std::fs::read_to_string(b.path().join("ad.ldif")).expect("ldif");
    ldif.push_str(&format!(
        "dn: CN=Ops_00000000a0c5,{OU}\nobjectClass: top\nobjectClass: group\ncn: Ops_00000000a0c5\ngroupType: -2147483640\nmsDS-ExternalDirectoryObjectId: Group_{OPS}\nobjectGUID:: {}\nuSNChanged: 6000\n\n",
        b64_guid("9a9a9a9a-0000-4000-8000-0000000000c5")
    ));
    std::fs::write(b.path().join("ad.ldif"), ldif).expect("ldif");
    // "a migration to gwb of a group another writer still maintains is refused unless the
    // other writer is being removed": moving off Connect, gwb leaves Cloud Sync's group alone.
    let (_, m) = migrate(b.path(), &["--from", "connect-v2", "--to", "gwb"]);
    let ops = group(&m, OPS).expect("ops");
    assert_eq!(ops["after"]["outcome"], "skip");
    assert_eq!(ops["after"]["reason"], "other-writer-container");
    assert!(!codes(&m, OPS).contains(&"adopted".to_string()));
    let prepared: Vec<&Value> = m["preparation"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter(|g| g["id"] == OPS)
        .collect();
    assert!(prepared.is_empty(), "not in the preparation");
    // Moving off Cloud Sync itself, gwb adopts it.
    let (_, m) = migrate(b.path(), &["--from", "cloud-sync", "--to", "gwb"]);
    assert!(
        codes(&m, OPS).contains(&"adopted".to_string()),
        "{:?}",
        codes(&m, OPS)
    );
}

#[test]
fn the_audit_points_to_the_migration_when_connect_writes_groups_back() {
    let b = bundle(Writer::V2, false);
    let work = tempfile::tempdir().expect("tmp");
    let r = crate::util::audit_json(work.path(), b.path(), &[]);
    let f: Vec<&Value> = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "connect-migration-path")
        .collect();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["severity"], "info");
    assert_eq!(f[0]["subject"], OU);
    let text = f[0].to_string();
    assert!(text.contains("3 group(s)"), "{text}");
    assert!(
        text.contains("gwb migrate plan --from connect-v2 --to cloud-sync"),
        "{text}"
    );
    // Connect off: no pointer.
    let t = tenant(false, false, OU);
    std::fs::write(b.path().join("tenant.json"), t.to_string()).expect("tenant");
    let r = crate::util::audit_json(work.path(), b.path(), &[]);
    assert!(
        !r["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["code"] == "connect-migration-path")
    );
}
