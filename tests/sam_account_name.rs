//! Integration tests of the `policy.sam-account-name` template against the Graph simulator and
//! the Samba lab DC: the plan shows the sAMAccountName a create writes, `gwb sync` and the
//! plan's LDIF imported with `ldapmodify` write the same (read back with a search), the
//! template is create-only (a changed template renames nothing), and collisions are refused
//! with a reason naming the other holder: two groups rendering the same name, one used by an
//! object in the AD evidence (plan time), one used elsewhere in the domain (apply time).

use std::collections::BTreeMap;
use std::path::Path;

use gwb::sim::{self, SimConfig};
use serde_json::{Value, json};

use crate::ldap::lab::{self, Lab};
use crate::sync::{SECRET, Seed, common_args, gwb_cmd, seed, user_obj};
use crate::util::{json_ok, ou_groups};

/// sAMAccountName by adminDescription stamp, of the groups in `ou`.
fn sams(lab: &Lab, ou: &str) -> BTreeMap<String, String> {
    ou_groups(lab, ou, &["adminDescription", "sAMAccountName"])
        .into_iter()
        .map(|e| {
            (
                e.attrs["adminDescription"][0].clone(),
                e.attrs["sAMAccountName"][0].clone(),
            )
        })
        .collect()
}

fn group(id: &str, name: &str, nick: &str, members: Vec<Value>) -> Value {
    json!({
        "id": id,
        "displayName": name,
        "mailNickname": nick,
        "groupTypes": [],
        "securityEnabled": true,
        "mailEnabled": false,
        "writebackConfiguration": {"isEnabled": true},
        "members": members,
    })
}

fn sam_of(lab: &Lab, dn: &str) -> String {
    let dn = dn.to_string();
    lab.run(async move |a| {
        a.read(&dn, &["sAMAccountName"])
            .await
            .and_then(|e| e.text("sAMAccountName").map(str::to_string))
            .expect("sAMAccountName")
    })
}

fn run(dir: &Path, args: &[String]) -> std::process::Output {
    let mut c = gwb_cmd();
    c.env("AZURE_CLIENT_SECRET", SECRET)
        .current_dir(dir)
        .args(args);
    c.output().expect("gwb")
}

fn planned<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["id"] == id)
        .unwrap_or_else(|| panic!("no group {id} in the plan"))
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn sam_account_name_template_is_planned_written_create_only_and_collisions_are_refused() {
    let Some(lab) = lab::lab() else { return };
    let Seed {
        users_ou,
        target,
        users,
    } = seed(&lab, "sam", &[]);
    let short = &target[target.find(',').unwrap() - 8..target.find(',').unwrap()];
    let u1_sam = sam_of(&lab, &users[0].1);
    let u3_sam = sam_of(&lab, &users[2].1);
    let mut ids: Vec<String> = (0..5).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    // b and c render the same name: the lower object id gets it (the core's tie break).
    ids[1..3].sort();
    let (a, b, c, d, e) = (&ids[0], &ids[1], &ids[2], &ids[3], &ids[4]);
    let u1 = user_obj(&users[0], "u1");
    let doc = json!({
        "tenantId": "11111111-1111-1111-1111-111111111111",
        "groups": [
            group(a, "Sam A", &format!("sa-{short}"), vec![u1.clone()]),
            group(b, "Sam B", &format!("dup-{short}"), vec![u1.clone()]),
            group(c, "Sam C", &format!("dup-{short}"), vec![]),
            // u1 is in the AD evidence (a member): caught when planning.
            group(d, "Sam D", &u1_sam, vec![]),
            // u3 is not (nothing points to it): the DC refuses the add.
            group(e, "Sam E", &u3_sam, vec![]),
        ],
        "deletedGroups": [],
    });
    let mut store = sim::Store::from_tenant(&doc).unwrap();
    for i in [1, 2] {
        let Value::Object(o) = user_obj(&users[i], &format!("u{}", i + 1)) else {
            unreachable!()
        };
        store.add_object(o);
    }
    let s = sim::start(store, SimConfig::default(), 0).expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gwb.toml");
    std::fs::write(&cfg, "[policy]\nsam-account-name = \"{mailNickname}\"\n").unwrap();
    let args = common_args(&lab, &s, &target);
    let with = |first: &[&str], rest: &[&str]| -> Vec<String> {
        first
            .iter()
            .map(|x| x.to_string())
            .chain(args.iter().cloned())
            .chain(rest.iter().map(|x| x.to_string()))
            .collect()
    };

    // The plan shows what each create writes, and the collisions as skips with a reason.
    let plan_file = dir.path().join("plan.json");
    let plan = json_ok(&run(
        dir.path(),
        &with(
            &["plan"],
            &["--format", "json", "--out", plan_file.to_str().unwrap()],
        ),
    ));
    let sam_after = |id: &str| planned(&plan, id)["attributes"]["sAMAccountName"]["after"].clone();
    assert_eq!(planned(&plan, a)["action"], "create");
    assert_eq!(sam_after(a), json!(format!("sa-{short}")));
    assert_eq!(planned(&plan, b)["action"], "create");
    assert_eq!(sam_after(b), json!(format!("dup-{short}")));
    let pc = planned(&plan, c);
    assert_eq!(
        (pc["action"].clone(), pc["reason"].clone()),
        (json!("skip"), json!("name-collision"))
    );
    let why = pc["detail"].as_str().unwrap();
    assert!(
        why.contains(&format!("dup-{short}")) && why.contains(b.as_str()),
        "{why}"
    );
    let pd = planned(&plan, d);
    assert_eq!(pd["reason"], "name-collision", "{pd}");
    let why = pd["detail"].as_str().unwrap().to_ascii_lowercase();
    assert!(why.contains(&users[0].1.to_ascii_lowercase()), "{why}");
    assert_eq!(sam_after(e), json!(u3_sam));
    // The table and the Markdown show it too.
    for format in ["table", "markdown"] {
        let out = run(
            dir.path(),
            &[
                "show".into(),
                plan_file.display().to_string(),
                "--format".into(),
                format.into(),
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("sAMAccountName") && text.contains(&format!("sa-{short}")),
            "{format}: {text}"
        );
    }

    // The plan's LDIF, imported with ldapmodify, writes those names (E aside: the DC refuses
    // it, so it is left out of the file here and tried by gwb below).
    let out = run(
        dir.path(),
        &[
            "show".into(),
            plan_file.display().to_string(),
            "--format".into(),
            "ldif".into(),
        ],
    );
    let ldif = String::from_utf8(out.stdout).unwrap();
    assert!(
        ldif.contains(&format!("sAMAccountName: sa-{short}\n")),
        "{ldif}"
    );
    let ldif: String = ldif
        .split("\n\n")
        .filter(|rec| !rec.contains(&format!("sAMAccountName: {u3_sam}")))
        .map(|rec| format!("{rec}\n\n"))
        .collect();
    let ldif_file = dir.path().join("plan.ldif");
    std::fs::write(&ldif_file, ldif).unwrap();
    lab.ldapmodify(&ldif_file, false);
    let expected: BTreeMap<String, String> = [
        (format!("Group_{a}"), format!("sa-{short}")),
        (format!("Group_{b}"), format!("dup-{short}")),
    ]
    .into_iter()
    .collect();
    assert_eq!(sams(&lab, &target), expected, "by ldapmodify");
    let imported: Vec<String> = ou_groups(&lab, &target, &["cn"])
        .into_iter()
        .map(|g| g.dn)
        .collect();
    lab.run(async |x| {
        for dn in &imported {
            assert_eq!(x.ldap.delete(dn).await.expect("delete").rc, 0, "{dn}");
        }
    });

    // gwb sync writes the same names. E's name is used elsewhere in the domain: the DC
    // refuses that one create (exit 1, the reason named) and the rest applies.
    let out = run(dir.path(), &with(&["sync"], &[]));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Sam E")
            && text.contains(&format!(
                "the sAMAccountName {u3_sam:?} (policy.sam-account-name) is already used by another object in the domain"
            )),
        "{text}"
    );
    assert_eq!(sams(&lab, &target), expected, "by gwb sync");

    // A changed template renames nothing: sAMAccountName is create-only.
    std::fs::write(&cfg, "[policy]\nsam-account-name = \"x-{id12}\"\n").unwrap();
    let plan = json_ok(&run(
        dir.path(),
        &with(&["sync"], &["--dry-run", "--format", "json"]),
    ));
    for id in [a, b] {
        let g = planned(&plan, id);
        assert_eq!(g["action"], "noop", "{g}");
        assert!(g["attributes"].get("sAMAccountName").is_none(), "{g}");
    }
    // The group that was skipped for the old name is created with the new one.
    assert_eq!(planned(&plan, c)["action"], "create");
    let c_sam = format!("x-{}", &c[c.len() - 12..]);
    assert_eq!(
        planned(&plan, c)["attributes"]["sAMAccountName"]["after"],
        json!(c_sam)
    );
    let out = run(dir.path(), &with(&["sync"], &[]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let now = sams(&lab, &target);
    assert_eq!(now[&format!("Group_{a}")], format!("sa-{short}"));
    assert_eq!(now[&format!("Group_{b}")], format!("dup-{short}"));
    assert_eq!(now[&format!("Group_{c}")], c_sam);

    lab.run(async |x| {
        x.delete_tree(&target).await;
        x.delete_tree(&users_ou).await;
    });
}
