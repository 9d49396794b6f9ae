//! gwb.toml's `[graph]` and `[ldap]` sections (and its target OU) mean the same to every command
//! that has those flags: collect, audit, plan, apply, tenant plan (sync: tests/sync.rs). With
//! `--snapshot`, the snapshot gives the tenant and the file's Graph settings do not conflict.

use serde_json::Value;

use crate::ldap::lab;
use crate::sync::{SECRET, cleanup, groups, gwb_cmd, seed, simulator};
use crate::util::private_file;

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn graph_and_ldap_sections_drive_every_command() {
    let Some(lab) = lab::lab() else { return };
    let seed = seed(&lab, "cfgall", &[]);
    let group = uuid::Uuid::new_v4().to_string();
    let s = simulator(&seed, &group, gwb::sim::SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let pw = private_file(
        dir.path(),
        "ldap-pw",
        &format!("{}\n", lab.var("GWB_TEST_LDAP_PASSWORD")),
    );
    let cfg = format!(
        r#"target-ou = "{target}"
[ldap]
url = "{url}"
bind-dn = "{bind}"
password-file = "{pw}"
ca-file = "{ca}"
[graph]
tenant = "contoso.onmicrosoft.com"
client-id = "11111111-2222-3333-4444-555555555555"
client-secret-env = "GWB_TEST_APP_SECRET"
url = "{graph}"
[policy]
cn-format = "display-name"
[journal]
dir = "trail"
"#,
        target = seed.target,
        url = lab.var("GWB_TEST_LDAP_URL"),
        bind = lab.var("GWB_TEST_LDAP_BIND_DN").replace('\\', "\\\\"),
        pw = pw.display(),
        ca = lab.var("GWB_TEST_LDAP_CA_FILE"),
        graph = s.url(),
    );
    std::fs::write(dir.path().join("gwb.toml"), cfg).unwrap();
    let run = |args: &[&str]| {
        let mut c = gwb_cmd();
        c.env_remove("AZURE_CLIENT_SECRET")
            .env_remove("AZURE_TENANT_ID")
            .env_remove("AZURE_CLIENT_ID")
            .env("GWB_TEST_APP_SECRET", SECRET)
            .current_dir(dir.path())
            .args(args);
        let out = c.output().unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let ok = |what: &str, r: &(Option<i32>, String, String)| {
        assert_eq!(r.0, Some(0), "{what}: {}\n{}", r.1, r.2);
    };
    let json = |r: &(Option<i32>, String, String)| -> Value {
        serde_json::from_str(&r.1).unwrap_or_else(|e| panic!("{e}: {}", r.1))
    };

    // collect: Graph and LDAP from the file, the target OU too.
    let r = run(&["collect", "--out", "b"]);
    ok("collect", &r);
    assert!(
        r.1.contains("Wrote 1 group, 1 membership to b/tenant.json"),
        "{}",
        r.1
    );
    assert!(r.1.contains("AD objects to b/ad.ldif"), "{}", r.1);
    let tenant = std::fs::read_to_string(dir.path().join("b/tenant.json")).unwrap();
    assert!(tenant.contains(&group), "{tenant}");
    let ldif = std::fs::read_to_string(dir.path().join("b/ad.ldif")).unwrap();
    assert!(
        ldif.to_ascii_lowercase()
            .contains(&seed.users[0].1.to_ascii_lowercase()),
        "ad.ldif holds the member read over LDAP"
    );

    // audit, live from the file.
    let r = run(&["audit", "--format", "json", "--fail-on", "never"]);
    ok("audit", &r);
    let a = json(&r);
    assert!(r.1.contains(&group), "the audit saw the tenant");
    assert_eq!(
        a["targetOu"].as_str().map(str::to_ascii_lowercase),
        Some(seed.target.to_ascii_lowercase()),
        "{}",
        a["targetOu"]
    );

    // plan, live from the file.
    let r = run(&["plan", "--format", "json"]);
    ok("plan", &r);
    let p = json(&r);
    assert_eq!(p["inputs"]["tenant"]["source"], "graph", "{}", p["inputs"]);
    assert_eq!(p["inputs"]["ad"]["source"], "ldap", "{}", p["inputs"]);
    assert!(r.1.contains(&group));
    // plan --snapshot: the tenant from the bundle, AD still live from [ldap]; the file's
    // [graph] section does not conflict.
    let r = run(&["plan", "--snapshot", "b", "--format", "json"]);
    ok("plan --snapshot", &r);
    let p = json(&r);
    assert_eq!(
        p["inputs"]["tenant"]["source"], "snapshot",
        "{}",
        p["inputs"]
    );
    assert_eq!(p["inputs"]["ad"]["source"], "ldap", "{}", p["inputs"]);

    // tenant plan, live from the file, and from the snapshot.
    let r = run(&["tenant", "plan", "--disable", &group, "--format", "json"]);
    ok("tenant plan", &r);
    assert!(r.1.contains(&group), "{}", r.1);
    let r = run(&[
        "tenant",
        "plan",
        "--snapshot",
        "b",
        "--disable",
        &group,
        "--format",
        "json",
    ]);
    ok("tenant plan --snapshot", &r);
    assert!(r.1.contains(&group), "{}", r.1);

    // apply: planned and written from the file's settings.
    let r = run(&["apply", "--yes"]);
    ok("apply", &r);
    let tail = &group[group.len() - 12..];
    assert!(
        groups(&lab, &seed.target).contains_key(&format!("Watch Team_{tail}")),
        "{}",
        r.1
    );
    assert!(dir.path().join("trail").is_dir(), "journal from [journal]");
    cleanup(&lab, &seed);
}
