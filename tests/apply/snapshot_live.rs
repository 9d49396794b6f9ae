//! The tenant from a reviewed snapshot, AD read live: `gwb plan` and `gwb apply` with
//! `--snapshot` and `--ldap-url` plan against the directory as it is now (the bundle's ad.ldif,
//! if any, is not used), from a bundle directory that holds only tenant.json and from an
//! evidence zip alike; a second run writes nothing.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use gwb::plan::model::{Action, InputSource, Plan};

use super::contoso::{admin_ldap, contoso, highest_committed_usn, run};
use crate::ldap::lab;
use crate::util::gwb;

/// `gwb plan --snapshot SNAP --ldap-url … --target-ou …` as JSON.
fn plan_live(e: &super::Env, snap: &Path, target: &str, out: &Path) -> Plan {
    let mut c = gwb();
    c.args(["plan", "--snapshot"])
        .arg(snap)
        .args(["--target-ou", target, "--format", "json", "--out"])
        .arg(out);
    admin_ldap(e, &mut c);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 0, "plan: {err}");
    Plan::from_json(&std::fs::read_to_string(out).unwrap(), "plan.json").unwrap()
}

fn apply_live(e: &super::Env, snap: &Path, target: &str, takeover: bool) -> (i32, String, String) {
    let mut c = gwb();
    c.args(["apply", "--snapshot"])
        .arg(snap)
        .args(["--target-ou", target, "--yes", "--journal-dir"])
        .arg(e.journal.path());
    if takeover {
        c.arg("--takeover");
    }
    admin_ldap(e, &mut c);
    run(&mut c)
}

fn shape(p: &Plan) -> BTreeSet<(String, String, Option<String>)> {
    p.groups
        .iter()
        .map(|g| (g.id.clone(), format!("{:?}", g.action), g.dn.clone()))
        .collect()
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn apply_from_a_tenant_only_snapshot_or_zip_reads_ad_live_and_converges() {
    // Alone on the DC: highestCommittedUSN is DC-wide.
    let Some(lab) = lab::lab_exclusive() else {
        return;
    };
    let c = contoso(Arc::new(lab), "snaplive");
    let (e, target, work) = (&c.e, &c.target, &c.work);
    // A bundle with nothing but the reviewed tenant.
    let tenant_only = work.path().join("tenant-only");
    std::fs::create_dir_all(&tenant_only).unwrap();
    std::fs::copy(c.b1.join("tenant.json"), tenant_only.join("tenant.json")).unwrap();
    // And the same tenant as an evidence zip.
    let zip = work.path().join("CHG-1.zip");
    let (code, _, err) = run(gwb()
        .args(["audit", "--snapshot"])
        .arg(&tenant_only)
        .args(["--fail-on", "never", "--allow-incomplete", "--bundle"])
        .arg(&zip));
    assert_eq!(code, 0, "audit --bundle: {err}");

    // plan --snapshot DIR --ldap-url plans against live AD.
    let p1 = plan_live(e, &tenant_only, target, &work.path().join("p1.json"));
    assert_eq!(p1.inputs.ad.source, InputSource::Ldap, "{:?}", p1.inputs);
    assert_eq!(p1.inputs.tenant.source, InputSource::Snapshot);
    let creates = p1
        .groups
        .iter()
        .filter(|g| g.action == Action::Create)
        .count();
    assert!(creates >= 5, "contoso creates several groups: {creates}");
    // The zip gives the same plan.
    let pz = plan_live(e, &zip, target, &work.path().join("pz.json"));
    assert_eq!(shape(&pz), shape(&p1), "zip and directory plan alike");
    assert_eq!(pz.inputs.tenant.sha256, p1.inputs.tenant.sha256);
    let takeover = p1.refusal(&[]).is_some();

    // apply --snapshot DIR --ldap-url … --yes writes the plan into the DC.
    let (code, out, err) = apply_live(e, &tenant_only, target, takeover);
    assert_eq!(code, 0, "apply: {out}\n{err}");
    assert!(
        out.contains(&format!("Apply: {creates} created")),
        "{out}\n{err}"
    );
    // A second run writes nothing.
    let usn = highest_committed_usn(e);
    let (code, out, err) = apply_live(e, &tenant_only, target, takeover);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("nothing to do"), "{out}");
    assert_eq!(
        highest_committed_usn(e),
        usn,
        "highestCommittedUSN unchanged"
    );

    // From the zip: a group removed from AD is created again, then nothing.
    let gone = p1
        .groups
        .iter()
        .find(|g| g.action == Action::Create)
        .and_then(|g| g.dn.clone())
        .unwrap();
    e.admin(async |a| a.delete_tree(&gone).await);
    let (code, out, err) = apply_live(e, &zip, target, takeover);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Apply: 1 created"), "{out}\n{err}");
    let usn = highest_committed_usn(e);
    let (code, out, err) = apply_live(e, &zip, target, takeover);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("nothing to do"), "{out}");
    assert_eq!(
        highest_committed_usn(e),
        usn,
        "highestCommittedUSN unchanged"
    );
}
