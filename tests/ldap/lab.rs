//! The Samba lab DC (scripts/samba-dc.sh): connection settings from its env file, an admin
//! client for seeding, and per-test OUs that clean up after themselves.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use gwb::ad::ldif::Entry;
use gwb::ldap::args::LdapArgs;
use ldap3::controls::RawControl;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Mod, Scope};

/// Tests that change or depend on the lab's Exchange preparation take this lock.
pub static EXCHANGE: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub struct Lab {
    pub vars: HashMap<String, String>,
    pub dir: tempfile::TempDir,
    /// Held while the test uses the DC, so that a test that crashes and restarts it
    /// ([`lab_exclusive`]) waits for the others and they wait for it.
    _use: Use,
}

/// Shared use of the DC: any number of tests at once, or one test alone. State: (tests using
/// it, one test using it alone, tests waiting to use it alone). A waiting exclusive test keeps
/// new tests out, so it does not starve.
static USE: std::sync::Mutex<(usize, bool, usize)> = std::sync::Mutex::new((0, false, 0));
static USE_CHANGED: std::sync::Condvar = std::sync::Condvar::new();

struct Use {
    exclusive: bool,
}

impl Use {
    fn take(exclusive: bool) -> Use {
        let mut s = USE.lock().unwrap_or_else(|e| e.into_inner());
        if exclusive {
            s.2 += 1;
        }
        loop {
            let free = if exclusive {
                s.0 == 0 && !s.1
            } else {
                !s.1 && s.2 == 0
            };
            if free {
                break;
            }
            s = USE_CHANGED.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        if exclusive {
            s.2 -= 1;
            s.1 = true;
        } else {
            s.0 += 1;
        }
        Use { exclusive }
    }
}

impl Drop for Use {
    fn drop(&mut self) {
        let mut s = USE.lock().unwrap_or_else(|e| e.into_inner());
        if self.exclusive {
            s.1 = false;
        } else {
            s.0 -= 1;
        }
        USE_CHANGED.notify_all();
    }
}

/// [`lab`] for a test that kills and restarts the DC: waits until no other test uses it, and
/// keeps the others out until it is dropped.
pub fn lab_exclusive() -> Option<Lab> {
    lab_with(true)
}

/// Load the lab's settings. `None` (after a loud message) when there is no DC and the run
/// does not require one; a failure when GWB_REQUIRE_SAMBA=1.
pub fn lab() -> Option<Lab> {
    lab_with(false)
}

fn lab_with(exclusive: bool) -> Option<Lab> {
    // On Windows (scripts/windows.sh runs the suite under Wine) the lab tests skip: they seed the
    // DC with Linux ldap-utils and run in the Linux suite; scripts/windows/smoke.sh writes to the
    // DC from gwb.exe instead. GWB_WINDOWS_LAB=1 runs them anyway.
    if cfg!(windows) && std::env::var("GWB_WINDOWS_LAB").is_err() {
        eprintln!(
            "\n*** skipped on Windows: a Samba lab test (the Linux suite runs it; scripts/windows/smoke.sh covers gwb.exe against the DC) ***\n"
        );
        return None;
    }
    let path = std::env::var("GWB_SAMBA_ENV").unwrap_or_else(|_| "/tmp/gwb-samba/env".into());
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            if std::env::var("GWB_REQUIRE_SAMBA").is_ok_and(|v| v == "1") {
                panic!(
                    "GWB_REQUIRE_SAMBA=1 but there is no Samba DC env file at {path} ({e}): run scripts/samba-dc.sh up"
                );
            }
            eprintln!(
                "\n*** skipped: no Samba DC (run scripts/samba-dc.sh up); no env file at {path} ***\n"
            );
            return None;
        }
    };
    let vars = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .collect::<HashMap<_, _>>();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("pw"),
        format!("{}\n", vars["GWB_TEST_LDAP_PASSWORD"]),
    )
    .expect("password file");
    let _use = Use::take(exclusive);
    Some(Lab { vars, dir, _use })
}

impl Lab {
    pub fn var(&self, k: &str) -> &str {
        self.vars
            .get(k)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{k} missing from the lab env file"))
    }
    pub fn base(&self) -> &str {
        self.var("GWB_TEST_LDAP_BASE_DN")
    }
    pub fn password_file(&self) -> PathBuf {
        self.dir.path().join("pw")
    }

    /// Import an LDIF file with `ldapmodify` over LDAPS, as the administrator or (`writer`) the
    /// writeback account, the file as it is; panics with ldapmodify's stderr when it fails.
    pub fn ldapmodify(&self, file: &std::path::Path, writer: bool) {
        let (dn, pw) = if writer {
            ("GWB_TEST_LDAP_WRITER_DN", "GWB_TEST_LDAP_WRITER_PASSWORD")
        } else {
            ("GWB_TEST_LDAP_BIND_DN", "GWB_TEST_LDAP_PASSWORD")
        };
        let out = std::process::Command::new("ldapmodify")
            .env("LDAPTLS_CACERT", self.var("GWB_TEST_LDAP_CA_FILE"))
            .args(["-x", "-H", self.var("GWB_TEST_LDAP_URL")])
            .args(["-D", self.var(dn)])
            .args(["-w", self.var(pw)])
            .arg("-f")
            .arg(file)
            .output()
            .expect("ldapmodify (ldap-utils) is installed");
        assert!(
            out.status.success(),
            "ldapmodify of {} failed: {}\n{}\n--- LDIF ---\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(file).unwrap_or_default()
        );
    }

    /// gwb's LDAP arguments for the administrator over LDAPS with the lab CA.
    pub fn admin_args(&self) -> LdapArgs {
        LdapArgs {
            ldap_url: Some(self.var("GWB_TEST_LDAP_URL").into()),
            bind_dn: Some(self.var("GWB_TEST_LDAP_BIND_DN").into()),
            password_file: Some(self.password_file()),
            ca_file: Some(self.var("GWB_TEST_LDAP_CA_FILE").into()),
            ..LdapArgs::default()
        }
    }

    /// Arguments binding as another account (password written to its own file).
    pub fn args_as(&self, bind: &str, password: &str) -> LdapArgs {
        let file = self.dir.path().join(format!("pw-{}", uuid::Uuid::new_v4()));
        std::fs::write(&file, password).expect("password file");
        LdapArgs {
            bind_dn: Some(bind.into()),
            password_file: Some(file),
            ..self.admin_args()
        }
    }

    /// A unique OU name for one test run.
    pub fn unique(&self, test: &str) -> String {
        format!(
            "gwb-{test}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        )
    }

    /// Run async seeding code on a private runtime with an admin connection.
    pub fn run<T>(&self, f: impl AsyncFnOnce(&mut Admin) -> T) -> T {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut admin = Admin::connect(self).await;
            f(&mut admin).await
        })
    }
}

/// A bound administrator connection for seeding.
pub struct Admin {
    pub ldap: Ldap,
}

pub fn vals(v: &[&str]) -> HashSet<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

pub fn attr(name: &str, v: &[&str]) -> (Vec<u8>, HashSet<Vec<u8>>) {
    (name.as_bytes().to_vec(), vals(v))
}

impl Admin {
    pub async fn connect(lab: &Lab) -> Admin {
        let pem = std::fs::read(lab.var("GWB_TEST_LDAP_CA_FILE")).expect("CA file");
        let mut roots = rustls::RootCertStore::empty();
        use rustls_pki_types::pem::PemObject;
        for c in rustls_pki_types::CertificateDer::pem_slice_iter(&pem) {
            roots.add(c.expect("PEM")).expect("CA");
        }
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("tls")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let settings = LdapConnSettings::new().set_config(std::sync::Arc::new(cfg));
        let (conn, mut ldap) = LdapConnAsync::with_settings(settings, lab.var("GWB_TEST_LDAP_URL"))
            .await
            .expect("connect to the lab DC");
        ldap3::drive!(conn);
        ldap.simple_bind(
            lab.var("GWB_TEST_LDAP_BIND_DN"),
            lab.var("GWB_TEST_LDAP_PASSWORD"),
        )
        .await
        .expect("bind")
        .success()
        .expect("admin bind");
        Admin { ldap }
    }

    pub async fn add(&mut self, dn: &str, attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)>) {
        let r = self.ldap.add(dn, attrs).await.expect("add");
        assert!(r.rc == 0 || r.rc == 68, "adding {dn}: {r:?}");
    }

    pub async fn add_ou(&mut self, dn: &str) {
        self.add(
            dn,
            vec![attr("objectClass", &["top", "organizationalUnit"])],
        )
        .await;
    }

    pub async fn add_group(&mut self, dn: &str, sam: &str, group_type: i32) {
        let gt = group_type.to_string();
        self.add(
            dn,
            vec![
                attr("objectClass", &["top", "group"]),
                attr("sAMAccountName", &[sam]),
                attr("groupType", &[&gt]),
            ],
        )
        .await;
    }

    pub async fn add_user(&mut self, dn: &str, sam: &str, password: Option<&str>) {
        let mut attrs = vec![
            attr(
                "objectClass",
                &["top", "person", "organizationalPerson", "user"],
            ),
            attr("sAMAccountName", &[sam]),
        ];
        if let Some(pw) = password {
            let quoted: Vec<u8> = format!("\"{pw}\"")
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes())
                .collect();
            attrs.push((b"unicodePwd".to_vec(), HashSet::from([quoted])));
            attrs.push(attr("userAccountControl", &["512"]));
        }
        self.add(dn, attrs).await;
    }

    pub async fn add_members(&mut self, group: &str, members: &[String]) {
        for chunk in members.chunks(2000) {
            let set: HashSet<Vec<u8>> = chunk.iter().map(|m| m.as_bytes().to_vec()).collect();
            let r = self
                .ldap
                .modify(group, vec![Mod::Add(b"member".to_vec(), set)])
                .await
                .expect("modify");
            assert_eq!(r.rc, 0, "adding members to {group}: {r:?}");
        }
    }

    pub async fn replace(&mut self, dn: &str, name: &str, value: &str) {
        let r = self
            .ldap
            .modify(
                dn,
                vec![Mod::Replace(name.as_bytes().to_vec(), vals(&[value]))],
            )
            .await
            .expect("modify");
        assert_eq!(r.rc, 0, "replacing {name} on {dn}: {r:?}");
    }

    pub async fn replace_bin(&mut self, dn: &str, name: &str, value: &[u8]) {
        let r = self
            .ldap
            .modify(
                dn,
                vec![Mod::Replace(
                    name.as_bytes().to_vec(),
                    HashSet::from([value.to_vec()]),
                )],
            )
            .await
            .expect("modify");
        assert_eq!(r.rc, 0, "replacing {name} on {dn}: {r:?}");
    }

    /// Read one object's attributes (binary-safe).
    pub async fn read(&mut self, dn: &str, attrs: &[&str]) -> Option<Entry> {
        let res = self
            .ldap
            .search(dn, Scope::Base, "(objectClass=*)", attrs.to_vec())
            .await
            .expect("search");
        res.0
            .first()
            .map(|re| gwb::ldap::ber::entry_from_tag(&re.0).expect("entry"))
    }

    /// Delete a subtree (tree delete control); missing is fine.
    pub async fn delete_tree(&mut self, dn: &str) {
        let r = self
            .ldap
            .with_controls(RawControl {
                ctype: "1.2.840.113556.1.4.805".into(),
                crit: true,
                val: None,
            })
            .delete(dn)
            .await
            .expect("delete");
        assert!(r.rc == 0 || r.rc == 32, "deleting {dn}: {r:?}");
    }
}
