//! Integration tests that the configuration keys without a test elsewhere change behaviour as
//! docs/config.md says, each in a way that fails if the key were ignored: the sync keys
//! (`interval`, `full-every`, `state-dir`) drive `gwb sync --watch`, and the connection keys
//! (`ldap.password-env`, `ldap.starttls`, `ldap.timeout`, `graph.client-secret-file`) are what
//! gwb connects with. Which test proves which key: docs/config.md ("Tests").

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use gwb::sim::SimConfig;

use crate::ldap::lab;
use crate::sync::{SECRET, Watcher, cleanup, groups, gwb_cmd, seed, simulator};
use crate::util::private_file;

fn toml_str(s: &str) -> String {
    format!("{s:?}")
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn sync_keys_interval_full_every_and_state_dir_drive_the_watcher() {
    let Some(lab) = lab::lab() else { return };
    let seed = seed(&lab, "synckeys", &[]);
    let group = uuid::Uuid::new_v4().to_string();
    let s = simulator(&seed, &group, SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let pw = private_file(
        dir.path(),
        "ldap-pw",
        &format!("{}\n", lab.var("GWB_TEST_LDAP_PASSWORD")),
    );
    std::fs::write(
        dir.path().join("gwb.toml"),
        format!(
            "target-ou = {}\n[ldap]\nurl = {}\nbind-dn = {}\npassword-file = {}\nca-file = {}\n\
             [graph]\ntenant = \"contoso.onmicrosoft.com\"\nclient-id = \"11111111-2222-3333-4444-555555555555\"\nurl = {}\n\
             [sync]\ninterval = \"1s\"\nfull-every = \"3s\"\nstate-dir = \"bookmarks\"\n",
            toml_str(&seed.target),
            toml_str(lab.var("GWB_TEST_LDAP_URL")),
            toml_str(lab.var("GWB_TEST_LDAP_BIND_DN")),
            toml_str(&pw.display().to_string()),
            toml_str(lab.var("GWB_TEST_LDAP_CA_FILE")),
            toml_str(&s.url()),
        ),
    )
    .unwrap();
    let env = [("AZURE_CLIENT_SECRET", SECRET)];
    let mut w = Watcher::start_with(&[], dir.path(), &env);
    // interval and full-every: the watcher announces what it runs with (defaults 10s, 24h);
    // state-dir: where it keeps the bookmark.
    let l = w.wait_line("watching", Duration::from_secs(30));
    assert!(
        l.contains("every 1s,")
            && l.contains("full reconciliation every 3s")
            && l.contains("state in bookmarks"),
        "{l}"
    );
    let cn = format!("Group_{group}");
    w.wait_line(&format!("create CN={cn}"), Duration::from_secs(60));
    let u1 = seed.users[0].1.to_ascii_lowercase();
    assert_eq!(
        groups(&lab, &seed.target)[&cn].0,
        BTreeSet::from([u1.clone()])
    );
    // Drift made by hand in AD, no change in the cloud (every delta poll is idle): only the
    // periodic full reconciliation repairs it (with the 24 h default it would stay).
    let dn = format!("CN={cn},{}", seed.target);
    let member = seed.users[0].1.clone();
    lab.run(async |a| {
        let r = a
            .ldap
            .modify(
                &dn,
                vec![ldap3::Mod::Delete(
                    "member",
                    HashSet::from([member.as_str()]),
                )],
            )
            .await
            .expect("modify");
        assert_eq!(r.rc, 0, "{r:?}");
    });
    assert!(groups(&lab, &seed.target)[&cn].0.is_empty());
    w.wait_next(&format!("update CN={cn}"), Duration::from_secs(60));
    assert_eq!(groups(&lab, &seed.target)[&cn].0, BTreeSet::from([u1]));
    let (code, lines) = w.stop();
    assert_eq!(code, 0, "{lines:#?}");
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("full reconciliation:"))
            .count()
            >= 2,
        "{lines:#?}"
    );
    // The bookmark is in state-dir, not in the default gwb-sync-state; a restart resumes.
    let saved: Vec<_> = std::fs::read_dir(dir.path().join("bookmarks"))
        .expect("state-dir")
        .collect();
    assert!(!saved.is_empty());
    assert!(!dir.path().join("gwb-sync-state").exists());
    let mut w = Watcher::start_with(&[], dir.path(), &env);
    let l = w.wait_line("watching", Duration::from_secs(30));
    assert!(l.contains("resuming"), "{l}");
    let _ = w.stop();
    cleanup(&lab, &seed);
}

/// A loopback server that accepts LDAP connections and never answers; each is closed after
/// `hold`.
fn silent_server(hold: Duration) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            std::thread::spawn(move || {
                std::thread::sleep(hold);
                drop(c);
            });
        }
    });
    port
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn connection_keys_password_env_starttls_timeout_and_secret_file_are_used() {
    let Some(lab) = lab::lab() else { return };
    let seed = seed(&lab, "connkeys", &[]);
    let group = uuid::Uuid::new_v4().to_string();
    // The simulator accepts only this secret.
    let s = simulator(
        &seed,
        &group,
        SimConfig {
            client_secret: Some(SECRET.into()),
            ..SimConfig::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let secret = private_file(dir.path(), "client-secret", &format!("{SECRET}\n"));
    let config = |url: &str, ldap_extra: &str| {
        format!(
            "target-ou = {}\n[ldap]\nurl = {}\nbind-dn = {}\npassword-env = \"KEYS_LDAP_PW\"\nca-file = {}\n{ldap_extra}\
             [graph]\ntenant = \"contoso.onmicrosoft.com\"\nclient-id = \"11111111-2222-3333-4444-555555555555\"\n\
             client-secret-file = {}\nurl = {}\n",
            toml_str(&seed.target),
            toml_str(url),
            toml_str(lab.var("GWB_TEST_LDAP_BIND_DN")),
            toml_str(lab.var("GWB_TEST_LDAP_CA_FILE")),
            toml_str(&secret.display().to_string()),
            toml_str(&s.url()),
        )
    };
    let sync = |extra: &[&str]| {
        let mut c = gwb_cmd();
        c.env_remove("AZURE_CLIENT_SECRET")
            .env_remove("AZURE_TENANT_ID")
            .env_remove("AZURE_CLIENT_ID")
            .env("KEYS_LDAP_PW", lab.var("GWB_TEST_LDAP_PASSWORD"))
            .current_dir(dir.path())
            .arg("sync")
            .args(extra);
        let out = c.output().unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let write = |text: String| std::fs::write(dir.path().join("gwb.toml"), text).unwrap();
    let starttls_url = lab.var("GWB_TEST_LDAP_STARTTLS_URL");

    // ldap:// with starttls = true, the password from the variable password-env names (not
    // GWB_LDAP_PASSWORD, which is unset), the client secret from client-secret-file (no
    // AZURE_CLIENT_SECRET): the group is written.
    write(config(starttls_url, "starttls = true\n"));
    let (code, text) = sync(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(groups(&lab, &seed.target).contains_key(&format!("Group_{group}")));
    // starttls = false: the same ldap:// URL in clear text, which gwb refuses for a simple
    // bind.
    write(config(starttls_url, "starttls = false\n"));
    let (code, text) = sync(&["--dry-run"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("without TLS"), "{text}");
    // password-env naming an unset variable: refused, naming it.
    write(config(starttls_url, "starttls = true\n").replace("KEYS_LDAP_PW", "KEYS_UNSET_PW"));
    let (code, text) = sync(&["--dry-run"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("KEYS_UNSET_PW"), "{text}");
    // client-secret-file naming a file with another secret: Graph refuses the token.
    let wrong = private_file(dir.path(), "wrong-secret", "not-the-secret\n");
    write(
        config(starttls_url, "starttls = true\n")
            .replace(&secret.display().to_string(), &wrong.display().to_string()),
    );
    let (code, text) = sync(&["--dry-run"]);
    assert_ne!(code, Some(0), "{text}");
    assert!(
        !text.contains("not-the-secret"),
        "a secret was printed: {text}"
    );

    // timeout = 1 against a server that never answers (and drops the connection after 20 s):
    // the operation times out; with the 30 s default it would end on the dropped connection.
    let port = silent_server(Duration::from_secs(20));
    write(config(
        &format!("ldap://127.0.0.1:{port}"),
        "starttls = true\ntimeout = 1\n",
    ));
    let (code, text) = sync(&["--dry-run"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("timed out") || text.contains("no answer within 1 s"),
        "{text}"
    );
    cleanup(&lab, &seed);
}
