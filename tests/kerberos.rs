//! The `kerberos` feature against the lab DC, which is also the realm's KDC: a GSSAPI bind
//! with a ticket obtained by kinit (password from the lab's env file, krb5.conf pointing at
//! the lab on loopback). Built and run by scripts/test.sh as a second, feature-enabled step.
#![cfg(feature = "kerberos")]

use std::collections::HashMap;
use std::path::Path;

use crate::util::gwb;

fn lab_env() -> Option<HashMap<String, String>> {
    let path = std::env::var("GWB_SAMBA_ENV").unwrap_or_else(|_| "/tmp/gwb-samba/env".into());
    if !cfg!(gwb_lab) {
        panic!("a lab test without its ignore mark");
    }
    let Ok(text) = std::fs::read_to_string(&path) else {
        panic!("no lab DC env file at {path}: run scripts/samba-dc.sh up");
    };
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn kinit(env: &HashMap<String, String>, ccache: &Path) {
    use std::io::Write;
    let mut child = std::process::Command::new("kinit")
        .arg(&env["GWB_TEST_KRB5_PRINCIPAL"])
        .env("KRB5_CONFIG", &env["GWB_TEST_KRB5_CONFIG"])
        .env("KRB5CCNAME", format!("FILE:{}", ccache.display()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("kinit (krb5-user) is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(env["GWB_TEST_LDAP_PASSWORD"].as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "kinit failed");
}

fn collect(
    env: &HashMap<String, String>,
    ccache: &Path,
    url: &str,
    out: &Path,
) -> assert_cmd::assert::Assert {
    gwb()
        .env_remove("GWB_LDAP_PASSWORD")
        .env("KRB5_CONFIG", &env["GWB_TEST_KRB5_CONFIG"])
        .env("KRB5CCNAME", format!("FILE:{}", ccache.display()))
        .args(["collect", "--kerberos", "--out"])
        .arg(out)
        .args([
            "--ldap-url",
            url,
            "--ca-file",
            &env["GWB_TEST_LDAP_CA_FILE"],
        ])
        .assert()
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn gssapi_bind_against_the_lab_kdc() {
    let Some(env) = lab_env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ccache = dir.path().join("krb5cc");
    // Without a ticket: a clear error naming kinit, exit 2.
    let out = collect(
        &env,
        &ccache,
        &env["GWB_TEST_LDAP_URL"],
        &dir.path().join("none"),
    )
    .code(2)
    .get_output()
    .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kinit"), "{err}");
    kinit(&env, &ccache);
    // ldaps:// and StartTLS both bind and collect the directory.
    for url in [
        &env["GWB_TEST_LDAP_URL"],
        &env["GWB_TEST_LDAP_STARTTLS_URL"],
    ] {
        let out_dir = dir.path().join(if url.starts_with("ldaps") {
            "ldaps"
        } else {
            "starttls"
        });
        let mut a = gwb();
        a.env_remove("GWB_LDAP_PASSWORD")
            .env("KRB5_CONFIG", &env["GWB_TEST_KRB5_CONFIG"])
            .env("KRB5CCNAME", format!("FILE:{}", ccache.display()))
            .args(["collect", "--kerberos", "--out"])
            .arg(&out_dir)
            .args([
                "--ldap-url",
                url,
                "--ca-file",
                &env["GWB_TEST_LDAP_CA_FILE"],
            ]);
        if !url.starts_with("ldaps") {
            a.arg("--starttls");
        }
        let o = a.assert().success().get_output().clone();
        let ldif = std::fs::read_to_string(out_dir.join("ad.ldif")).unwrap();
        assert!(
            ldif.contains(&format!("dn: {}", env["GWB_TEST_LDAP_BASE_DN"])),
            "{url}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Plain ldap:// without TLS is refused before any ticket is used.
    let out = collect(
        &env,
        &ccache,
        &env["GWB_TEST_LDAP_STARTTLS_URL"],
        &dir.path().join("plain"),
    )
    .code(2)
    .get_output()
    .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("TLS"));
}
