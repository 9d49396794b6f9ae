//! The JSON Schemas in docs/schemas/ (generated from the Rust types by gwb::schema): the
//! committed files are what the types generate today (GWB_BLESS=1 rewrites them), and the
//! documents gwb reads and writes validate against them with Python's jsonschema (draft
//! 2020-12): the fixture bundle and the expected report, the audit report of every fixture
//! variant, plans, tenant plans, and (with the Samba DC) the journal and the undo plan of a
//! real apply.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{fixture, gwb, repo, run_ok};

fn schema_path(file: &str) -> PathBuf {
    repo().join("docs").join("schemas").join(file)
}

/// Validate each document against the schema; Err lists the first errors per document.
fn validate(schema_file: &str, docs: &[PathBuf]) -> Result<(), String> {
    let script = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1], encoding="utf-8"))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = 0
for p in sys.argv[2:]:
    text = open(p, encoding="utf-8-sig").read()
    if p.endswith(".jsonl"):
        docs = [json.loads(l) for l in text.splitlines() if l.strip()]
    else:
        docs = [json.loads(text)]
    for d in docs:
        for e in sorted(v.iter_errors(d), key=lambda e: list(e.path))[:5]:
            bad += 1
            print(p, "/".join(str(x) for x in e.path), e.message[:300])
sys.exit(1 if bad else 0)
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(schema_path(schema_file))
        .args(docs)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn committed_schemas_are_what_the_types_generate() {
    let bless = std::env::var_os("GWB_BLESS").is_some();
    let mut stale = Vec::new();
    for s in gwb::schema::all() {
        let path = schema_path(s.file);
        let want = gwb::schema::to_text(&s.schema);
        assert_eq!(
            s.schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(s.schema["title"], s.format);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &want).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(s.file);
        }
    }
    assert!(
        stale.is_empty(),
        "docs/schemas/ is out of date for {stale:?}: run GWB_BLESS=1 cargo test --test integration schemas::committed"
    );
}

#[test]
#[cfg_attr(windows, ignore = "validates with Linux python3 and jsonschema")]
fn fixtures_reports_and_plans_validate_and_broken_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    // The bundle fixture and the expected report.
    validate(
        "gwb-tenant-1.schema.json",
        &[fixture("contoso/tenant.json")],
    )
    .unwrap();
    validate(
        "gwb-audit-1.schema.json",
        &[repo().join("tests/expected/contoso-audit.json")],
    )
    .unwrap();
    // Reports as gwb writes them: default, every target, policy variants, the --all view.
    let mut reports = Vec::new();
    let variants: [&[&str]; 4] = [
        &[],
        &["--deletion", "modified", "--member-limit", "raised"],
        &["--cn-format", "display-name", "--feature-state", "current"],
        &["--gate", "cloud-sync", "--fail-on", "warning"],
    ];
    for (i, extra) in variants.iter().enumerate() {
        let path = dir.path().join(format!("audit{i}.json"));
        let out = gwb()
            .args(["audit", "--snapshot"])
            .arg(fixture("contoso"))
            .args(["--format", "json", "--output"])
            .arg(&path)
            .args(*extra)
            .output()
            .unwrap();
        assert_ne!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        reports.push(path);
    }
    validate("gwb-audit-1.schema.json", &reports).unwrap();
    // Plans: the Contoso plan, and with another CN format and deletion policy.
    let mut plans = Vec::new();
    for (i, extra) in [
        &[][..],
        &["--cn-format", "display-name", "--deletion", "modified"][..],
    ]
    .iter()
    .enumerate()
    {
        let path = dir.path().join(format!("plan{i}.json"));
        run_ok(
            gwb()
                .args(["plan", "--snapshot"])
                .arg(fixture("contoso"))
                .arg("--out")
                .arg(&path)
                .args(*extra),
        );
        plans.push(path);
    }
    validate("gwb-plan-1.schema.json", &plans).unwrap();
    // A tenant plan.
    let tplan = dir.path().join("tenant-plan.json");
    run_ok(
        gwb()
            .args(["tenant", "plan", "--snapshot"])
            .arg(fixture("contoso"))
            .args([
                "--new-m365-default",
                "false",
                "--disable-existing-m365",
                "--out",
            ])
            .arg(&tplan),
    );
    validate(
        "gwb-tenant-plan-1.schema.json",
        std::slice::from_ref(&tplan),
    )
    .unwrap();

    // The schemas are not vacuous: a wrong format, an unknown action or reason code, and a
    // missing required field are each rejected.
    let broken = |src: &Path, name: &str, f: &dyn Fn(&mut Value)| -> PathBuf {
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
        f(&mut v);
        let p = dir.path().join(name);
        std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
        p
    };
    let cases: Vec<(&str, PathBuf)> = vec![
        (
            "gwb-audit-1.schema.json",
            broken(&reports[0], "bad-format.json", &|v| {
                v["format"] = "gwb-audit/2".into()
            }),
        ),
        (
            "gwb-plan-1.schema.json",
            broken(&plans[0], "bad-action.json", &|v| {
                v["groups"][0]["action"] = "explode".into()
            }),
        ),
        (
            "gwb-plan-1.schema.json",
            broken(&plans[0], "bad-reason.json", &|v| {
                v["groups"][0]["reason"] = "because".into()
            }),
        ),
        (
            "gwb-plan-1.schema.json",
            broken(&plans[0], "no-groups.json", &|v| {
                v.as_object_mut().unwrap().remove("groups");
            }),
        ),
        (
            "gwb-tenant-1.schema.json",
            broken(&fixture("contoso/tenant.json"), "bad-tenant.json", &|v| {
                v["groups"] = "all of them".into()
            }),
        ),
    ];
    for (schema, doc) in cases {
        assert!(
            validate(schema, std::slice::from_ref(&doc)).is_err(),
            "{} passed {schema}",
            doc.display()
        );
    }
}

/// A real apply and its undo against the Samba DC: the journal (every line) and the undo plan
/// validate.
#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
#[cfg_attr(
    all(windows, gwb_lab),
    ignore = "validates with Linux python3 and jsonschema"
)]
fn journal_and_undo_plan_of_a_real_apply_validate() {
    let Some(lab) = crate::ldap::lab::lab() else {
        return;
    };
    let ou = format!("OU={},{}", lab.unique("schema"), lab.base());
    lab.run(async |a| a.add_ou(&ou).await);
    let dir = tempfile::tempdir().unwrap();
    let ldap = |c: &mut assert_cmd::Command| {
        c.env_remove("GWB_LDAP_PASSWORD")
            .env_remove("GWB_CONFIG")
            .args(["--ldap-url", lab.var("GWB_TEST_LDAP_URL")])
            .args(["--bind-dn", lab.var("GWB_TEST_LDAP_BIND_DN")])
            .arg("--password-file")
            .arg(lab.password_file())
            .args(["--ca-file", lab.var("GWB_TEST_LDAP_CA_FILE")]);
    };
    // The live OU, collected, with Contoso's tenant: a plan of creates.
    let bundle = dir.path().join("bundle");
    let mut c = gwb();
    c.args(["collect", "--out"])
        .arg(&bundle)
        .args(["--target-ou", &ou]);
    ldap(&mut c);
    run_ok(&mut c);
    std::fs::copy(fixture("contoso/tenant.json"), bundle.join("tenant.json")).unwrap();
    let plan = dir.path().join("plan.json");
    run_ok(
        gwb()
            .args(["plan", "--snapshot"])
            .arg(&bundle)
            .arg("--out")
            .arg(&plan),
    );
    let journal = dir.path().join("journal");
    let mut c = gwb();
    c.args(["apply", "--yes"])
        .arg(&plan)
        .arg("--journal-dir")
        .arg(&journal);
    ldap(&mut c);
    run_ok(&mut c);
    let undo = dir.path().join("undo.json");
    run_ok(gwb().arg("undo").arg(&journal).arg("--out").arg(&undo));
    let mut c = gwb();
    c.args(["apply", "--yes"])
        .arg(&undo)
        .arg("--journal-dir")
        .arg(&journal);
    ldap(&mut c);
    run_ok(&mut c);
    let journals: Vec<PathBuf> = std::fs::read_dir(&journal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(journals.len(), 2, "{journals:?}");
    validate("gwb-journal-1.schema.json", &journals).unwrap();
    validate("gwb-plan-1.schema.json", &[plan, undo]).unwrap();
    lab.run(async |a| a.delete_tree(&ou).await);
}
