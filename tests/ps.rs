//! Integration tests: ps (PowerShell exports in, CLIXML out, `gwb inspect`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gwb::bundle::Evidence;
use serde_json::{Value, json};

use crate::util::{fixture, gwb};

fn ps(rel: &str) -> PathBuf {
    fixture(&format!("powershell/{rel}"))
}

fn load(rel: &str) -> Vec<Evidence> {
    gwb::ps::load_evidence_path(&ps(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn one(rel: &str) -> Evidence {
    let mut v = load(rel);
    assert_eq!(v.len(), 1, "{rel}");
    v.remove(0)
}

fn inspect_json(paths: &[PathBuf]) -> Value {
    let out = gwb()
        .arg("inspect")
        .args(paths)
        .args(["--format", "json"])
        .output()
        .expect("run gwb");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("inspect --format json prints JSON")
}

#[test]
fn company_feature_reads_the_same_from_every_format_and_encoding() {
    let files = [
        "company-feature.ps51.json",
        "company-feature.ps7.json",
        "company-feature.utf8bom.json",
        "company-feature.csv",
        "company-feature.clixml",
        "company-feature.txt",
    ];
    let expected: Vec<(&str, bool)> = vec![
        ("DeviceWriteback", true),
        ("ForcePasswordChangeOnLogOn", false),
        ("GroupWritebackV2", false),
        ("PasswordHashSync", true),
        ("UnifiedGroupWriteback", true),
        ("UserWriteback", false),
    ];
    for f in files {
        let ev = one(f);
        assert_eq!(ev.recognized_as, "Get-ADSyncAADCompanyFeature", "{f}");
        let got: Vec<(&str, bool)> = ev
            .connect
            .features
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(got, expected, "{f}");
        assert!(ev.quality.is_empty(), "{f}: {:?}", ev.quality);
    }
    // The JSON shapes give identical objects too.
    let v = inspect_json(&files[..3].iter().map(|f| ps(f)).collect::<Vec<_>>());
    let arr = v.as_array().expect("array");
    assert_eq!(arr.len(), 3);
    let encodings: Vec<&str> = arr
        .iter()
        .map(|r| r["encoding"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(encodings, ["utf16-le-bom", "utf8", "utf8-bom"]);
    assert_eq!(arr[0]["objects"], arr[1]["objects"]);
    assert_eq!(arr[1]["objects"], arr[2]["objects"]);
    for r in arr {
        assert_eq!(r["recognizedAs"], "Get-ADSyncAADCompanyFeature");
        assert_eq!(r["dataQuality"], json!([]));
        assert!(r["file"].as_str().unwrap_or("").ends_with(".json"));
    }
}

#[test]
fn utf8_and_utf16_copies_of_one_export_are_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = std::fs::read_to_string(ps("groups.sdk.json")).expect("fixture");
    let crlf = src.replace('\n', "\r\n");
    let mut bom8 = vec![0xEF, 0xBB, 0xBF];
    bom8.extend_from_slice(crlf.as_bytes());
    let mut u16 = vec![0xFF, 0xFE];
    for u in crlf.encode_utf16() {
        u16.extend_from_slice(&u.to_le_bytes());
    }
    let paths = [
        dir.path().join("a.json"),
        dir.path().join("b.json"),
        dir.path().join("c.json"),
    ];
    std::fs::write(&paths[0], src.as_bytes()).expect("write");
    std::fs::write(&paths[1], &bom8).expect("write");
    std::fs::write(&paths[2], &u16).expect("write");
    let v = inspect_json(&paths);
    let arr = v.as_array().expect("array");
    assert_eq!(arr[0]["objects"], arr[1]["objects"]);
    assert_eq!(arr[0]["objects"], arr[2]["objects"]);
    let groups: Vec<String> = paths
        .iter()
        .map(|p| {
            let ev = gwb::ps::load_evidence_path(p).expect("load");
            serde_json::to_string(&ev[0].tenant.groups).expect("json")
        })
        .collect();
    assert_eq!(groups[0], groups[1]);
    assert_eq!(groups[0], groups[2]);
}

#[test]
fn graph_sdk_groups_normalise_to_graph_shape() {
    let ev = one("groups.sdk.json");
    assert_eq!(ev.recognized_as, "Get-MgBetaGroup");
    let groups = ev.tenant.groups.expect("groups");
    assert_eq!(groups.len(), 3);
    let sales = &groups[0];
    assert_eq!(sales.id, "0f8e9a1c-1111-4222-8333-944455556666");
    assert!(sales.is_unified());
    assert_eq!(
        sales
            .writeback_configuration
            .as_ref()
            .and_then(|w| w.is_enabled),
        None
    );
    let members = sales.members.as_ref().expect("members collected");
    assert_eq!(members.len(), 3);
    use gwb::bundle::tenant::MemberType;
    assert_eq!(members[0].member_type(), MemberType::User);
    assert_eq!(members[0].on_premises_sync_enabled, Some(true));
    assert_eq!(
        members[0].on_premises_security_identifier.as_deref(),
        Some("S-1-5-21-1004336348-1177238915-682003330-1105")
    );
    assert_eq!(members[2].member_type(), MemberType::Device);
    assert_eq!(
        members[2].device_id.as_deref(),
        Some("1e2d3c4b-0000-4000-8000-00000000000d")
    );
    let fin = &groups[1];
    assert_eq!(fin.security_enabled, Some(true));
    assert_eq!(
        fin.writeback_configuration
            .as_ref()
            .and_then(|w| w.on_premises_group_type.as_deref()),
        Some("universalSecurityGroup")
    );
    assert!(groups[2].is_dynamic());

    let page = one("groups.graph.json");
    assert_eq!(page.tenant.groups.as_ref().map(Vec::len), Some(2));
    assert!(
        page.tenant
            .groups
            .as_ref()
            .is_some_and(|g| g[0].members.is_none())
    );
}

#[test]
fn depth_truncated_exports_say_so_and_never_guess() {
    let ev = one("groups.depth-truncated.json");
    assert!(
        ev.quality
            .iter()
            .any(|q| q.code == "depth-truncated" && q.message.contains("-Depth"))
    );
    let groups = ev.tenant.groups.expect("groups");
    assert_eq!(groups.len(), 3);
    // Member types were lost, so members count as not collected rather than as "other" objects.
    assert!(groups[0].members.is_none());
    assert!(groups[1].members.is_none());
    // An SDK object's empty Members list may just mean "not requested".
    assert!(groups[2].members.is_none());
    assert_eq!(
        groups[0].created_date_time.as_deref(),
        Some("2025-03-01T09:30:00Z")
    );

    let ev = one("groups.depth1.json");
    assert_eq!(
        ev.tenant.groups.as_ref().map(Vec::len),
        Some(0),
        "no group with an unknown writeback configuration"
    );
    assert_eq!(ev.tenant.incomplete_sections, ["groups"]);
    let places: Vec<&str> = ev
        .quality
        .iter()
        .filter(|q| q.code == "depth-truncated")
        .map(|q| q.place.as_str())
        .collect();
    assert!(
        places.contains(&"$[0].writebackConfiguration"),
        "{places:?}"
    );

    let v = inspect_json(&[ps("groups.depth1.json")]);
    let dq = v[0]["dataQuality"].as_array().expect("dataQuality");
    assert!(dq.iter().any(|q| {
        q["code"] == "depth-truncated"
            && q["file"]
                .as_str()
                .is_some_and(|f| f.ends_with("groups.depth1.json"))
    }));

    let csv = one("groups.sdk.csv");
    assert!(
        csv.quality
            .iter()
            .any(|q| q.code == "lost-data" && q.place == "$[0].GroupTypes")
    );
    assert_eq!(csv.tenant.groups.as_ref().map(Vec::len), Some(0));
}

#[test]
fn directory_settings_and_skus() {
    let ev = one("directory-settings.json");
    let s = ev.tenant.settings.expect("settings");
    assert_eq!(s[0].display_name.as_deref(), Some("Group.Unified"));
    let v = s[0]
        .values
        .iter()
        .find(|v| v.name == "NewUnifiedGroupWritebackDefault")
        .expect("value");
    assert_eq!(v.value.as_deref(), Some("false"));
    let ev = one("subscribed-skus.json");
    let skus = ev.tenant.subscribed_skus.expect("skus");
    assert_eq!(skus[0].capability_status.as_deref(), Some("Enabled"));
    assert!(
        skus[0]
            .service_plans
            .iter()
            .any(|p| p.service_plan_id.as_deref() == Some("41781fb2-bc02-4b7c-bd55-b576c07bb09d"))
    );
}

#[test]
fn console_tables_of_tenant_settings_and_dirsync_features() {
    let ev = one("group-unified-values.txt");
    assert_eq!(ev.recognized_as, "Get-MgBetaDirectorySetting");
    let s = ev.tenant.settings.expect("settings");
    let v = s[0]
        .values
        .iter()
        .find(|v| v.name == "NewUnifiedGroupWritebackDefault")
        .expect("value");
    assert_eq!(v.value.as_deref(), Some("false"));
    assert_eq!(
        s[0].values
            .iter()
            .find(|v| v.name == "CustomBlockedWordsList")
            .and_then(|v| v.value.clone()),
        None
    );
    let ev = one("dirsync-features.txt");
    assert_eq!(ev.recognized_as, "Get-EntraDirSyncFeature");
    let sync = ev.tenant.on_premises_synchronization.expect("sync");
    assert_eq!(sync.feature("unifiedGroupWritebackEnabled"), Some(true));
    assert_eq!(sync.feature("userWritebackEnabled"), Some(false));
}

#[test]
fn adsync_global_settings_and_server_configuration_folder() {
    for (rel, name) in [
        ("adsync-global-settings.json", "Get-ADSyncGlobalSettings"),
        ("server-configuration", "Get-ADSyncServerConfiguration"),
    ] {
        let ev = one(rel);
        assert_eq!(ev.recognized_as, name);
        assert_eq!(ev.connect.server_version.as_deref(), Some("2.4.18.0"));
        assert_eq!(ev.connect.group_writeback_optional_feature, Some(true));
        assert_eq!(
            ev.connect.writeback_container.as_deref(),
            Some("OU=GWB,OU=Groups,DC=contoso,DC=com")
        );
    }
}

#[test]
fn console_table_of_global_settings() {
    let ev = one("adsync-global-settings.table.txt");
    assert_eq!(ev.recognized_as, "Get-ADSyncGlobalSettings");
    assert_eq!(ev.connect.server_version.as_deref(), Some("2.4.18.0"));
    assert_eq!(ev.connect.group_writeback_optional_feature, Some(true));
    // The container was cut short by Format-Table: reported, not used.
    assert_eq!(ev.connect.writeback_container, None);
    assert!(
        ev.quality
            .iter()
            .any(|q| q.code == "lost-data" && q.message.contains("Format-Table"))
    );
}

#[test]
fn ad_exports_become_ldif_entries_the_snapshot_understands() {
    let mut entries = Vec::new();
    for rel in [
        "exchange-schema.json",
        "exchange-org.csv",
        "exchange-meso.clixml",
        "ou-groups.csv",
    ] {
        let ev = one(rel);
        assert!(
            ev.recognized_as.starts_with("Get-AD"),
            "{rel}: {}",
            ev.recognized_as
        );
        entries.extend(ev.ad_entries.iter());
    }
    for rel in ["ad-domain.json", "recycle-bin-feature.json"] {
        entries.extend(one(rel).ad_entries.iter());
    }
    let snap = gwb::ad::AdSnapshot::from_entries(&entries).expect("entries parse");
    assert_eq!(snap.domain_functional_level, Some(7));
    assert_eq!(snap.recycle_bin_enabled, Some(true));
    assert_eq!(snap.exchange.schema_range_upper, Some(17003));
    assert_eq!(snap.exchange.organization_object_version, Some(16763));
    assert_eq!(snap.exchange.domain_object_version, Some(13243));
    use gwb::ad::{AdKind, GroupScope};
    let sales = snap
        .objects
        .iter()
        .find(|o| o.dn_text.starts_with("CN=Sales_"))
        .expect("sales");
    assert_eq!(
        sales.kind,
        AdKind::Group {
            scope: GroupScope::Universal,
            security: false
        }
    );
    assert_eq!(
        sales.cloud_anchor().map(|u| u.to_string()).as_deref(),
        Some("0f8e9a1c-1111-4222-8333-944455556666")
    );
    assert_eq!(
        sales.guid.map(|g| g.to_string()).as_deref(),
        Some("3f2504e0-4f89-11d3-9a0c-0305e82c3301")
    );
    assert_eq!(
        sales.sid.as_deref(),
        Some("S-1-5-21-1004336348-1177238915-682003330-3101")
    );
    let fin = snap
        .objects
        .iter()
        .find(|o| o.dn_text.starts_with("CN=Finance"))
        .expect("finance");
    assert_eq!(
        fin.kind,
        AdKind::Group {
            scope: GroupScope::Universal,
            security: true
        }
    );
    assert_eq!(fin.sam_account_name.as_deref(), Some("Finance-Sec"));
    let local = snap
        .objects
        .iter()
        .find(|o| o.dn_text.starts_with("CN=Old-Local"))
        .expect("local");
    assert_eq!(
        local.kind,
        AdKind::Group {
            scope: GroupScope::DomainLocal,
            security: true
        }
    );
    // The ADPropertyValueCollection placeholder is reported, not stored as a member.
    assert!(sales.members.is_empty());
    let raw = one("ou-groups.csv");
    assert!(
        raw.quality
            .iter()
            .any(|q| q.code == "lost-data" && q.place == "$[0].Members")
    );
    assert!(
        !raw.quality
            .iter()
            .any(|q| q.place.contains("AddedProperties"))
    );
    let e = &raw.ad_entries.get(0).expect("an entry");
    assert_eq!(e.text("groupType"), Some("8"));

    // PowerShell 7 JSON: enums as numbers, the SID as an object, members as a list.
    let ev = one("ou-groups.ps7.json");
    let e = &ev.ad_entries.get(0).expect("an entry");
    assert_eq!(e.text("groupType"), Some("8"));
    assert_eq!(
        e.texts("member"),
        ["CN=Ana Müller,OU=Users,DC=contoso,DC=com"]
    );
    let snap = gwb::ad::AdSnapshot::from_entry_list(&ev.ad_entries).expect("parse");
    assert_eq!(
        snap.objects[0].sid.as_deref(),
        Some("S-1-5-21-1004336348-1177238915-682003330-3101")
    );
}

#[test]
fn get_adgroup_clixml_matches_the_csv_and_json_exports() {
    let clixml = one("ou-groups.clixml");
    assert_eq!(clixml.recognized_as, "Get-ADGroup");
    assert!(clixml.quality.is_empty(), "{:?}", clixml.quality);
    let csv = one("ou-groups.csv");
    let json = one("ou-groups.ps7.json");
    let (clixml, csv, json) = (
        clixml.ad_entries.to_vec(),
        csv.ad_entries.to_vec(),
        json.ad_entries.to_vec(),
    );
    for name in [
        "objectClass",
        "groupType",
        "objectGUID",
        "objectSid",
        "sAMAccountName",
        "adminDescription",
    ] {
        let c: Vec<&[u8]> = clixml[0].values(name).collect();
        let v: Vec<&[u8]> = csv[0].values(name).collect();
        assert_eq!(c, v, "{name} from CLIXML vs CSV");
    }
    let members = clixml[0].texts("member");
    assert_eq!(
        members,
        [
            "CN=Ana Müller,OU=Users,DC=contoso,DC=com",
            "CN=Bob_x,OU=Users,DC=contoso,DC=com"
        ]
    );
    assert_eq!(json[0].texts("member")[0], members[0]);
    assert_eq!(clixml[1].text("groupType"), Some("-2147483640"));
    assert!(clixml[1].texts("member").is_empty());
}

#[test]
fn entra_exporter_folder() {
    let evs = load("entra-exporter");
    let names: Vec<&str> = evs.iter().map(|e| e.recognized_as.as_str()).collect();
    assert_eq!(
        names,
        [
            "EntraExporter",
            "Get-MgBetaDirectoryOnPremiseSynchronization",
            "Get-MgSubscribedSku"
        ]
    );
    let groups = evs[0].tenant.groups.as_ref().expect("groups");
    assert_eq!(groups.len(), 2);
    for g in groups {
        let m = g.members.as_ref().expect("members");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].display_name.as_deref(), Some("Ana Müller"));
    }
    let sync = evs[1]
        .tenant
        .on_premises_synchronization
        .as_ref()
        .expect("sync");
    assert_eq!(sync.feature("unifiedGroupWritebackEnabled"), Some(true));
    assert_eq!(
        sync.configuration
            .as_ref()
            .and_then(|c| c.writeback_configuration.as_ref())
            .and_then(|w| w.unified_group_container.as_deref()),
        Some("OU=GWB,OU=Groups,DC=contoso,DC=com")
    );
}

#[test]
fn bundle_connect_folder_reads_powershell_exports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let connect = dir.path().join("connect");
    std::fs::create_dir(&connect).expect("mkdir");
    for f in ["company-feature.ps51.json", "adsync-global-settings.json"] {
        std::fs::copy(ps(f), connect.join(f)).expect("copy");
    }
    let snap = gwb::snapshot::load_dir(
        dir.path(),
        &[ps("exchange-schema.json"), ps("groups.depth1.json")],
    )
    .expect("bundle");
    assert_eq!(snap.connect.feature("UnifiedGroupWriteback"), Some(true));
    assert_eq!(snap.connect.server_version.as_deref(), Some("2.4.18.0"));
    assert_eq!(
        snap.ad.as_ref().and_then(|a| a.exchange.schema_range_upper),
        Some(17003)
    );
    assert!(snap.quality.iter().any(|q| q.code == "depth-truncated"));
}

#[test]
fn unrecognized_files_are_notes_not_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("other.json");
    std::fs::write(&f, r#"{"Name": "something else", "Count": 3}"#).expect("write");
    let v = inspect_json(std::slice::from_ref(&f));
    assert_eq!(v[0]["recognizedAs"], "unrecognized");
    assert_eq!(v[0]["dataQuality"][0]["code"], "unrecognized");
    let out = gwb().args(["inspect"]).arg(&f).output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("┆ unrecognized "), "{text}");
    assert!(
        text.contains("== ") && text.contains("other.json (unrecognized)"),
        "{text}"
    );
    assert!(text.contains("Name  : something else"), "{text}");
}

#[test]
fn unreadable_file_exits_2_naming_file_and_place() {
    let out = gwb()
        .args(["inspect"])
        .arg(ps("hostile/truncated.json"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("truncated.json: line 3 column"), "{err}");
    let out = gwb()
        .args(["inspect"])
        .arg(ps("hostile/dangling-ref.clixml"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dangling-ref.clixml: element <Ref> at line 1"),
        "{err}"
    );
    let out = gwb()
        .args(["inspect"])
        .arg(ps("hostile/mismatched-quotes.csv"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mismatched-quotes.csv: record 1"));
}

#[test]
fn inspect_carries_on_past_unreadable_files_in_a_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(ps("company-feature.clixml"), dir.path().join("a.xml")).expect("copy");
    std::fs::copy(ps("hostile/ref-cycle.clixml"), dir.path().join("b.xml")).expect("copy");
    std::fs::copy(ps("exchange-org.csv"), dir.path().join("c.csv")).expect("copy");
    let out = gwb()
        .arg("inspect")
        .arg(dir.path())
        .args(["--format", "json"])
        .output()
        .expect("run");
    // Every file is read (the error names the unreadable one), but a failed command writes
    // nothing on stdout: a pipeline never reads half a result.
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("b.xml") && !err.contains("a.xml") && !err.contains("c.csv"),
        "{err}"
    );
}

#[test]
fn double_encoded_text_is_flagged_not_repaired() {
    let v = inspect_json(&[ps("hostile/mojibake.json")]);
    assert_eq!(v[0]["objects"][0]["DisplayName"], "Ana MÃ¼ller â€” Sales");
    assert!(
        v[0]["dataQuality"]
            .as_array()
            .is_some_and(|q| q.iter().any(|q| q["code"] == "mojibake"))
    );
    assert_eq!(v[0]["recognizedAs"], "Get-ADSyncAADCompanyFeature");
}

#[test]
fn secure_strings_and_gadget_type_names_are_inert_data() {
    let v = inspect_json(&[
        ps("hostile/securestring.clixml"),
        ps("hostile/xaml-gadget.clixml"),
    ]);
    let text = v.to_string();
    assert!(
        !text.contains("01000000d08c9ddf"),
        "cipher text must never be shown"
    );
    assert_eq!(v[0]["objects"][0]["Password"], "[redacted]");
    assert_eq!(v[0]["objects"][0]["UserName"], "CONTOSO\\svc-gwb");
    assert_eq!(v[1]["recognizedAs"], "unrecognized");
    assert!(
        v[1]["objects"][0][0]
            .as_str()
            .is_some_and(|s| s.starts_with("<ResourceDictionary"))
    );
}

fn hostile_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(ps("hostile"))
        .expect("hostile dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    // Big ones are generated here rather than committed.
    let hdr =
        "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">";
    let generated: Vec<(&str, Vec<u8>)> = vec![
        (
            "deep-100k.json",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        ),
        (
            "deep-100k-objects.json",
            "{\"a\":".repeat(100_000).into_bytes(),
        ),
        (
            "deep-100k.clixml",
            format!(
                "{hdr}{}{}</Objs>",
                "<Obj RefId=\"0\"><MS>".repeat(100_000),
                "</MS></Obj>".repeat(100_000)
            )
            .into_bytes(),
        ),
        (
            "deep-100k-unclosed.clixml",
            format!("{hdr}{}", "<LST>".repeat(100_000)).into_bytes(),
        ),
        (
            "huge-attribute.clixml",
            format!(
                "{hdr}<Obj RefId=\"0\"><MS><S N=\"{}\">x</S></MS></Obj></Objs>",
                "A".repeat(17 * 1024 * 1024)
            )
            .into_bytes(),
        ),
        (
            "huge-string.json",
            format!(
                "{{\"UnifiedGroupWriteback\": true, \"GroupWritebackV2\": false, \"Pad\": \"{}\"}}",
                "x".repeat(8 * 1024 * 1024)
            )
            .into_bytes(),
        ),
        (
            "wide-csv.csv",
            format!(
                "{}\n{}\n",
                (0..20_000)
                    .map(|i| format!("\"c{i}\""))
                    .collect::<Vec<_>>()
                    .join(","),
                "\"1\",".repeat(19_999) + "\"1\""
            )
            .into_bytes(),
        ),
        (
            "many-objects.clixml",
            format!(
                "{hdr}{}</Objs>",
                "<Obj RefId=\"0\"><MS><I32 N=\"n\">1</I32></MS></Obj>".repeat(50_000)
            )
            .into_bytes(),
        ),
        (
            "format-list-long.txt",
            "Name : x\n".repeat(200_000).into_bytes(),
        ),
    ];
    for (name, bytes) in generated {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write generated");
        files.push(p);
    }
    files.sort();
    files
}

/// Runs a gwb process, retrying only when the operating system fails to start it at all (Wine's
/// CreateProcess occasionally answers ERROR_INTERNAL_ERROR under load). A started process that
/// fails is returned as it is: that is gwb's behaviour and the test judges it.
fn spawn_with_retry(
    mut run: impl FnMut() -> std::io::Result<std::process::Output>,
) -> std::process::Output {
    let mut last = None;
    for _ in 0..3 {
        match run() {
            Ok(out) => return out,
            Err(e) => {
                last = Some(e);
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    panic!("gwb could not be started: {last:?}")
}

#[test]
fn hostile_inputs_exit_0_or_2_quickly_and_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = hostile_files(dir.path());
    assert!(files.len() >= 30, "only {} hostile files", files.len());
    let mut codes = std::collections::BTreeMap::new();
    for f in &files {
        let start = Instant::now();
        let out = spawn_with_retry(|| {
            gwb()
                .arg("inspect")
                .arg(f)
                .args(["--format", "json"])
                .timeout(Duration::from_secs(20))
                .output()
        });
        let took = start.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0) | Some(2)),
            "{}: exit {code:?}, stderr {stderr}",
            f.display()
        );
        assert!(!stderr.contains("panicked"), "{}: {stderr}", f.display());
        // A hang guard only: debug builds on a shared machine, so the bound is generous.
        assert!(
            took < Duration::from_secs(15),
            "{} took {took:?}",
            f.display()
        );
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        if code == Some(2) {
            assert!(
                stderr.contains(&name),
                "{name}: the error names the file: {stderr}"
            );
        } else {
            let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on success");
            assert!(v.as_array().is_some_and(|a| !a.is_empty()), "{name}");
        }
        codes.insert(name, code);
    }
    // Spot checks: entity expansion and reference games are refused, odd-but-valid input is read.
    for must_fail in [
        "billion-laughs.clixml",
        "doctype-external.clixml",
        "ref-cycle.clixml",
        "ref-expansion.clixml",
        "deep-100k.clixml",
        "deep-100k.json",
        "huge-attribute.clixml",
        "binary-junk.bin",
        "nul-bytes.json",
    ] {
        assert_eq!(codes.get(must_fail), Some(&Some(2)), "{must_fail}");
    }
    for must_read in [
        "empty.json",
        "utf32-bom.json",
        "odd-length-utf16.json",
        "lone-surrogate-utf16.json",
        "invalid-x-escape.clixml",
        "cp1252.csv",
        "huge-string.json",
        "many-objects.clixml",
    ] {
        assert_eq!(codes.get(must_read), Some(&Some(0)), "{must_read}");
    }
}

#[test]
fn odd_but_valid_inputs_keep_their_data() {
    let v = inspect_json(&[
        ps("hostile/cp1252.csv"),
        ps("hostile/invalid-x-escape.clixml"),
        ps("hostile/lone-surrogate-utf16.json"),
    ]);
    assert_eq!(v[0]["encoding"], "windows1252");
    assert!(
        v[0]["dataQuality"]
            .as_array()
            .is_some_and(|q| q.iter().any(|q| q["code"] == "encoding-fallback"))
    );
    assert_eq!(v[0]["objects"][0]["Name"], "Müller-Gruppe");
    assert_eq!(v[1]["objects"][0]["Name"], "_xZZZZ_ _x12_ _x0041 _x");
    assert_eq!(v[1]["objects"][0]["Bad\u{FFFD}Name"], "lone \u{FFFD} half");
    assert_eq!(v[2]["objects"][0]["Name"], "\u{FFFD}");
    assert!(
        v[2]["dataQuality"]
            .as_array()
            .is_some_and(|q| q.iter().any(|q| q["code"] == "encoding"))
    );
}

#[test]
fn gwb_clixml_output_reads_back_as_the_same_records() {
    let report = json!({
        "format": "gwb-audit/1",
        "verdict": "fail",
        "findings": [
            {"code": "GWB-EXCH-001", "severity": "warning", "message": "Exchange schema not prepared <rangeUpper>", "count": 2},
            {"code": "GWB-GRP-002", "severity": "error", "message": "line1\r\nline2 _x0041_ ✓ 😀", "count": 0}
        ],
        "groups": [{"id": "0f8e9a1c-1111-4222-8333-944455556666", "outcome": "written-back", "members": [], "ratio": 0.25, "note": null}]
    });
    let xml = gwb::ps::clixml::to_clixml(&report, "gwb.AuditReport");
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("audit.clixml");
    std::fs::write(&f, &xml).expect("write");
    let v = inspect_json(std::slice::from_ref(&f));
    assert_eq!(v[0]["format"], "clixml");
    assert_eq!(v[0]["objects"], json!([report]));
    // The same through a UTF-16LE file, as Windows PowerShell would store it.
    let mut u16 = vec![0xFF, 0xFE];
    for u in xml.encode_utf16() {
        u16.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(&f, &u16).expect("write");
    let v = inspect_json(std::slice::from_ref(&f));
    assert_eq!(v[0]["objects"], json!([report]));
    // Custom type names per key.
    let xml = gwb::ps::clixml::to_clixml_with(&report, "gwb.AuditReport", &|k| {
        (k == "findings").then(|| "Contoso.Finding".to_string())
    });
    assert!(xml.contains("<T>Contoso.Finding</T>") && !xml.contains("gwb.GroupForecast"));
}
