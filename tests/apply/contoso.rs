//! fixtures/contoso end to end against the Samba DC: its AD objects seeded into a test OU, its
//! tenant served by the Graph simulator (member SIDs rewritten to the seeded objects'), collected,
//! planned and applied as the writeback account into the empty target OU; the result read back
//! against the audit's forecast and the plan; the next plan all noop; applying again writes
//! nothing (highestCommittedUSN unchanged).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use gwb::ad::ids;
use gwb::ad::ldif::{self, Entry};
use gwb::plan::model::{Action, Plan};
use serde_json::Value;

use super::{Env, env_in, key};
use crate::ldap::lab::{self, attr};
use crate::util::{fixture, gwb};

const OLD_ROOT: &str = "OU=Contoso,DC=contoso,DC=com";

fn map_dn(dn: &str, root: &str) -> Option<String> {
    let lower = dn.to_ascii_lowercase();
    let suffix = OLD_ROOT.to_ascii_lowercase();
    lower
        .ends_with(&suffix)
        .then(|| format!("{}{root}", &dn[..dn.len() - OLD_ROOT.len()]))
}

/// Seed the fixture's users, computers and groups under `e.ou` (standing in for OU=Contoso)
/// and return the tenant.json text rewritten to point at them.
fn seed(e: &Env) -> String {
    let root = e.ou.clone();
    let text = std::fs::read_to_string(fixture("contoso/ad.ldif")).expect("fixture ad.ldif");
    let entries = ldif::parse(&text).expect("fixture parses");
    let seeded: Vec<&Entry> = entries
        .iter()
        .filter(|x| {
            ["OU=Users,", "OU=Computers,", "OU=Groups,"]
                .iter()
                .any(|p| x.dn.contains(p))
                && x.has("objectSid")
        })
        .collect();
    let mut tenant = std::fs::read_to_string(fixture("contoso/tenant.json")).expect("tenant");
    e.admin(async |a| {
        for ou in ["Users", "Computers", "Groups", "Cloud Groups"] {
            a.add_ou(&format!("OU={ou},{root}")).await;
        }
        for (i, x) in seeded.iter().enumerate() {
            let dn = map_dn(&x.dn, &root).expect("under OU=Contoso");
            let classes = x.texts("objectClass");
            let computer = classes.iter().any(|c| c.eq_ignore_ascii_case("computer"));
            let sam = format!("{}{i:02}{}", &e.tag[..8], if computer { "$" } else { "" });
            let mut attrs = vec![
                attr("objectClass", &classes),
                attr("sAMAccountName", &[&sam]),
            ];
            if let Some(gt) = x.text("groupType") {
                attrs.push(attr("groupType", &[gt]));
            }
            a.add(&dn, attrs).await;
        }
        for x in &seeded {
            let members: Vec<String> = x
                .texts("member")
                .iter()
                .filter_map(|m| map_dn(m, &root))
                .collect();
            if !members.is_empty() {
                a.add_members(&map_dn(&x.dn, &root).expect("dn"), &members)
                    .await;
            }
        }
        // The seeded objects' new SIDs and GUIDs replace the fixture's in the tenant.
        let b64 = base64::engine::general_purpose::STANDARD;
        for x in &seeded {
            let dn = map_dn(&x.dn, &root).expect("dn");
            let now = a
                .read(&dn, &["objectSid", "objectGUID"])
                .await
                .expect("seeded");
            let old_sid = ids::sid_from_bytes(x.first("objectSid").expect("sid")).expect("sid");
            let new_sid = ids::sid_from_bytes(now.first("objectSid").expect("sid")).expect("sid");
            tenant = tenant.replace(&format!("\"{old_sid}\""), &format!("\"{new_sid}\""));
            if let (Some(og), Some(ng)) = (
                x.first("objectGUID").and_then(ids::guid_from_bytes),
                now.first("objectGUID").and_then(ids::guid_from_bytes),
            ) {
                tenant = tenant.replace(&og.to_string(), &ng.to_string());
                tenant = tenant.replace(
                    &b64.encode(ids::guid_to_bytes(&og)),
                    &b64.encode(ids::guid_to_bytes(&ng)),
                );
            }
        }
    });
    // Fresh group ids for each test: the target gwb finds its stamped groups anywhere in the
    // domain, and tests sharing the DC must not see each other's groups as their own.
    let doc: Value = serde_json::from_str(&tenant).expect("tenant JSON");
    for section in ["groups", "deletedGroups"] {
        for g in doc[section].as_array().into_iter().flatten() {
            if let Some(id) = g["id"].as_str() {
                tenant = tenant.replace(id, &uuid::Uuid::new_v4().to_string());
            }
        }
    }
    tenant.replace(OLD_ROOT, &root)
}

pub(super) fn run(c: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = c.output().expect("gwb runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

pub(super) fn admin_ldap(e: &Env, c: &mut assert_cmd::Command) {
    c.env_remove("GWB_LDAP_PASSWORD")
        .env_remove("GWB_LDAP_URL")
        .env_remove("GWB_LDAP_BIND_DN");
    c.args(["--ldap-url", e.lab.var("GWB_TEST_LDAP_URL")]);
    c.args(["--bind-dn", e.lab.var("GWB_TEST_LDAP_BIND_DN")]);
    c.arg("--password-file").arg(e.lab.password_file());
    c.args(["--ca-file", e.lab.var("GWB_TEST_LDAP_CA_FILE")]);
}

/// `gwb collect` from the simulator and the DC into `out`.
pub(super) fn collect(e: &Env, sim: &gwb::sim::SimServer, target: &str, out: &Path) {
    let mut c = gwb();
    c.env_remove("GWB_ACCESS_TOKEN")
        .env("AZURE_CLIENT_SECRET", "lab-secret")
        .args(["collect", "--out"])
        .arg(out)
        .args(["--graph-url", &sim.url()])
        .args(["--tenant", "contoso.onmicrosoft.com"])
        .args(["--client-id", "11111111-2222-3333-4444-555555555555"])
        .args(["--target-ou", target]);
    admin_ldap(e, &mut c);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 0, "collect: {err}");
}

pub(super) fn plan(dir: &Path, out: &Path) -> Plan {
    let (code, _, err) = run(gwb()
        .args(["plan", "--snapshot"])
        .arg(dir)
        .arg("--out")
        .arg(out)
        .args(["--format", "json"]));
    assert_eq!(code, 0, "plan: {err}");
    Plan::from_json(&std::fs::read_to_string(out).expect("plan"), "plan.json").expect("plan")
}

pub(super) fn highest_committed_usn(e: &Env) -> u64 {
    crate::util::highest_committed_usn(&e.lab)
}

/// The test's contoso: seeded, served, collected into `b1`.
pub(super) struct Contoso {
    pub(super) e: Env,
    pub(super) target: String,
    pub(super) work: tempfile::TempDir,
    pub(super) sim: gwb::sim::SimServer,
    pub(super) b1: std::path::PathBuf,
}

pub(super) fn contoso(lab: Arc<lab::Lab>, name: &str) -> Contoso {
    let e = env_in(lab, name);
    let target = format!("OU=Cloud Groups,{}", e.ou);
    let tenant = seed(&e);
    let work = tempfile::tempdir().expect("tmp");
    let tenant_doc: Value = serde_json::from_str(&tenant).expect("tenant JSON");
    let sim = gwb::sim::start(
        gwb::sim::store::Store::from_tenant(&tenant_doc).expect("store"),
        gwb::sim::SimConfig::default(),
        0,
    )
    .expect("simulator");
    let b1 = work.path().join("b1");
    collect(&e, &sim, &target, &b1);
    Contoso {
        e,
        target,
        work,
        sim,
        b1,
    }
}

/// Every object in `ou` (one level): DN key -> sorted (attribute, value) pairs of what gwb writes.
pub(super) fn state(e: &Env, ou: &str) -> BTreeMap<String, BTreeSet<(String, String)>> {
    e.admin(async |a| {
        let attrs = vec![
            "cn",
            "displayName",
            "description",
            "groupType",
            "adminDescription",
            "msDS-ExternalDirectoryObjectId",
            "mail",
            "mailNickname",
            "proxyAddresses",
            "member",
        ];
        let res = a
            .ldap
            .search(ou, ldap3::Scope::OneLevel, "(objectClass=*)", attrs)
            .await
            .expect("search")
            .success()
            .expect("ok");
        res.0
            .into_iter()
            .map(|r| gwb::ldap::ber::entry_from_tag(&r.0).expect("entry"))
            .map(|x| {
                let vals = x
                    .attrs
                    .iter()
                    .flat_map(|(n, vs)| {
                        let n = n.to_ascii_lowercase();
                        vs.iter().map(move |v| {
                            let v = String::from_utf8_lossy(v).to_string();
                            let v = if n == "member" { key(&v) } else { v };
                            (n.clone(), v)
                        })
                    })
                    .collect();
                (key(&x.dn), vals)
            })
            .collect()
    })
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn the_plan_as_ldif_imported_with_ldapmodify_equals_gwb_apply() {
    let Some(lab) = lab::lab() else { return };
    let c = contoso(Arc::new(lab), "ldif");
    let e = &c.e;
    let plan_file = c.work.path().join("plan.json");
    let p = plan(&c.b1, &plan_file);
    let (code, ldif_text, err) = run(gwb()
        .args(["show"])
        .arg(&plan_file)
        .args(["--format", "ldif"]));
    assert_eq!(code, 0, "{err}");
    let ldif_file = c.work.path().join("plan.ldif");
    std::fs::write(&ldif_file, &ldif_text).expect("ldif");
    // ldapmodify as the writeback account, the file as it is.
    e.lab.ldapmodify(&ldif_file, true);
    let by_ldif = state(e, &c.target);
    assert_eq!(
        by_ldif.len(),
        p.groups
            .iter()
            .filter(|g| g.action == Action::Create)
            .count()
    );
    // The same OU seeded the same way again (the imported groups removed), then gwb apply.
    e.admin(async |a| {
        for dn in by_ldif.keys() {
            let r = a.ldap.delete(dn).await.expect("delete");
            assert_eq!(r.rc, 0, "{dn}: {r:?}");
        }
    });
    assert!(state(e, &c.target).is_empty());
    let mut cmd = e.cmd(&plan_file);
    if p.refusal(&[]).is_some() {
        cmd.arg("--takeover");
    }
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(state(e, &c.target), by_ldif, "the same directory");
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn contoso_into_an_empty_ou_creates_the_forecast_set_and_then_nothing() {
    // Alone on the DC: highestCommittedUSN is DC-wide.
    let Some(lab) = lab::lab_exclusive() else {
        return;
    };
    let c = contoso(Arc::new(lab), "contoso");
    let (e, target, work, sim, b1) = (&c.e, &c.target, &c.work, &c.sim, &c.b1);
    let p1 = plan(b1, &work.path().join("plan1.json"));
    assert_eq!(&p1.target_ou.dn, target);

    // The forecast for target gwb from the same bundle.
    let (code, audit, err) = run(gwb().args(["audit", "--snapshot"]).arg(b1).args([
        "--target",
        "gwb",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]));
    assert_eq!(code, 0, "audit: {err}");
    let audit: Value = serde_json::from_str(&audit).expect("audit JSON");
    let forecast = audit["forecast"]
        .as_array()
        .and_then(|f| f.iter().find(|t| t["target"] == "gwb"))
        .expect("gwb forecast")["groups"]
        .as_array()
        .expect("groups")
        .clone();
    let written: BTreeMap<String, &Value> = forecast
        .iter()
        .filter(|g| g["outcome"] == "writeback")
        .map(|g| (key(g["dn"].as_str().expect("dn")), g))
        .collect();
    assert!(written.len() >= 5, "contoso writes back several groups");
    let creates: BTreeSet<String> = p1
        .groups
        .iter()
        .filter(|g| g.action == Action::Create)
        .map(|g| key(g.dn.as_deref().expect("dn")))
        .collect();
    assert_eq!(
        creates,
        written.keys().cloned().collect(),
        "the plan creates the forecast set"
    );

    // Apply as the writeback account (with --takeover when the tenant's own writeback
    // targets this OU: refused without it, nothing written).
    let plan_file = work.path().join("plan1.json");
    let takeover = p1.refusal(&[]).is_some();
    if takeover {
        let usn = highest_committed_usn(e);
        let (code, _, err) = run(&mut e.cmd(&plan_file));
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("--takeover"), "{err}");
        assert_eq!(highest_committed_usn(e), usn);
    }
    let mut c = e.cmd(&plan_file);
    if takeover {
        c.arg("--takeover");
    }
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "apply: {out}\n{err}");
    assert!(
        out.contains(&format!("Apply: {} created, 0 updated", creates.len())),
        "{out}"
    );

    // Read back: exactly the forecast set, with the planned attributes and members.
    let groups = e.admin(async |a| {
        let res = a
            .ldap
            .search(
                target,
                ldap3::Scope::OneLevel,
                "(objectClass=*)",
                vec![
                    "displayName",
                    "description",
                    "groupType",
                    "adminDescription",
                    "msDS-ExternalDirectoryObjectId",
                    "member",
                ],
            )
            .await
            .expect("search")
            .success()
            .expect("ok");
        res.0
            .into_iter()
            .map(|r| gwb::ldap::ber::entry_from_tag(&r.0).expect("entry"))
            .map(|x| (key(&x.dn), x))
            .collect::<BTreeMap<String, Entry>>()
    });
    assert_eq!(
        groups.keys().cloned().collect::<BTreeSet<_>>(),
        creates,
        "exactly the forecast set"
    );
    for g in p1.groups.iter().filter(|g| g.action == Action::Create) {
        let k = key(g.dn.as_deref().expect("dn"));
        let got = &groups[&k];
        for (name, ch) in &g.attributes {
            let want: BTreeSet<String> = ch
                .after
                .as_ref()
                .map(|v| v.values().iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            let have: BTreeSet<String> = got.texts(name).iter().map(|s| s.to_string()).collect();
            assert_eq!(have, want, "{} {name}", g.display_name);
        }
        let members: BTreeSet<String> = got.texts("member").into_iter().map(key).collect();
        let planned: BTreeSet<String> = g.members.add.iter().map(|m| key(m)).collect();
        assert_eq!(members, planned, "{} members", g.display_name);
        let resolved = written[&k]["members"]["resolved"]
            .as_u64()
            .expect("resolved");
        assert_eq!(
            members.len() as u64,
            resolved,
            "{} forecast members",
            g.display_name
        );
    }

    // The next plan is all noop; applying it writes nothing anywhere on the DC.
    let b2 = work.path().join("b2");
    collect(e, sim, target, &b2);
    let p2 = plan(&b2, &work.path().join("plan2.json"));
    assert!(p2.summary.is_empty(), "{:?}", p2.summary);
    assert_eq!(p2.summary.noop, creates.len());
    let usn = highest_committed_usn(e);
    let mut c = gwb();
    c.args(["apply", "--snapshot"]).arg(&b2).arg("--yes");
    c.arg("--journal-dir").arg(e.journal.path());
    if takeover {
        c.arg("--takeover");
    }
    admin_ldap(e, &mut c);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("nothing to do"), "{out}");
    assert_eq!(
        highest_committed_usn(e),
        usn,
        "highestCommittedUSN unchanged"
    );
    // And the first plan once more: every object is recognised as done, no request is sent.
    let mut c = e.cmd(&plan_file);
    if takeover {
        c.arg("--takeover");
    }
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("; 0 LDAP writes"), "{out}");
    assert_eq!(
        highest_committed_usn(e),
        usn,
        "highestCommittedUSN unchanged"
    );

    // Switching --cn-format renames every group in place: same objectGUIDs, no new objects.
    let guids = |e: &Env| -> BTreeSet<Vec<u8>> {
        e.admin(async |a| {
            let res = a
                .ldap
                .search(
                    target,
                    ldap3::Scope::OneLevel,
                    "(objectClass=*)",
                    vec!["objectGUID"],
                )
                .await
                .expect("search")
                .success()
                .expect("ok");
            res.0
                .into_iter()
                .map(|r| gwb::ldap::ber::entry_from_tag(&r.0).expect("entry"))
                .map(|x| x.first("objectGUID").expect("guid").to_vec())
                .collect()
        })
    };
    let before = guids(e);
    let b3 = work.path().join("b3");
    collect(e, sim, target, &b3);
    let p3_file = work.path().join("plan3.json");
    let (code, _, err) = run(gwb()
        .args(["plan", "--snapshot"])
        .arg(&b3)
        .args(["--cn-format", "display-name", "--format", "json", "--out"])
        .arg(&p3_file));
    assert_eq!(code, 0, "{err}");
    let p3 = Plan::from_json(&std::fs::read_to_string(&p3_file).expect("plan"), "p3").expect("p3");
    assert_eq!(p3.summary.rename, creates.len(), "{:?}", p3.summary);
    assert_eq!(p3.summary.create + p3.summary.delete, 0);
    let mut c3 = e.cmd(&p3_file);
    if takeover {
        c3.arg("--takeover");
    }
    let (code, out, err) = run(&mut c3);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(guids(e), before, "renamed in place, never re-created");
    let renamed: BTreeSet<String> = p3
        .groups
        .iter()
        .filter(|g| g.action == Action::Rename)
        .map(|g| key(g.dn.as_deref().expect("dn")))
        .collect();
    assert_eq!(
        state(e, target).keys().cloned().collect::<BTreeSet<_>>(),
        renamed
    );
}
