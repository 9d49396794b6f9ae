//! Integration tests of `gwb apply` against the Samba lab DC, writing as the lab's delegated
//! writeback account (scripts/samba-dc.sh: rights under OU=gwb-writeback only). Every test
//! applies into its own OU under it, so tests run in parallel and can be re-run.

mod contoso;
mod crash;
mod moved;
mod relay;
mod snapshot_live;
mod unknown;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use gwb::ad::dn::escape_value;
use gwb::ad::ldif::Entry;
use gwb::ad::{Dn, ids};
use gwb::apply::{self, Options, Refused, Report, Status};
use gwb::core::GroupReason;
use gwb::ldap::args::LdapArgs;
use gwb::plan::model::*;
use uuid::Uuid;

use crate::ldap::lab::{self, Admin, Lab};
pub use crate::util::make_plan;
use crate::util::{gwb, one};

const UNIVERSAL_SECURITY: i32 = -2147483640;

/// One test's OU under the writeback OU.
pub struct Env {
    pub lab: std::sync::Arc<Lab>,
    pub ou: String,
    pub tag: String,
    pub journal: tempfile::TempDir,
}

pub fn env(test: &str) -> Option<Env> {
    Some(env_in(std::sync::Arc::new(lab::lab()?), test))
}

/// A fresh OU on a lab already held.
pub fn env_in(lab: std::sync::Arc<Lab>, test: &str) -> Env {
    let name = lab.unique(test);
    let tag = name[name.len() - 12..].to_string();
    let ou = format!("OU={name},{}", lab.var("GWB_TEST_LDAP_WRITER_OU"));
    lab.run(async |a| a.add_ou(&ou).await);
    Env {
        lab,
        ou,
        tag,
        journal: tempfile::tempdir().expect("journal dir"),
    }
}

impl Env {
    pub fn writer(&self) -> LdapArgs {
        self.lab.args_as(
            self.lab.var("GWB_TEST_LDAP_WRITER_DN"),
            self.lab.var("GWB_TEST_LDAP_WRITER_PASSWORD"),
        )
    }

    pub fn opts(&self) -> Options {
        Options {
            journal_dir: self.journal.path().to_path_buf(),
            retry: gwb::ldap::write::Retry {
                attempts: 6,
                backoff: std::time::Duration::from_millis(50),
                max_backoff: std::time::Duration::from_millis(400),
            },
            ..Options::default()
        }
    }

    /// Apply through the library as the writeback account.
    pub fn apply_with(
        &self,
        args: &LdapArgs,
        plan: &Plan,
        opts: &Options,
    ) -> anyhow::Result<Result<Report, Refused>> {
        let settings = gwb::ldap::conn::Settings::from_args(args)?;
        apply::apply(plan, settings, opts, &mut |_| {})
    }

    pub fn apply(&self, plan: &Plan) -> Result<Report, Refused> {
        self.apply_with(&self.writer(), plan, &self.opts())
            .expect("apply runs")
    }

    /// A `gwb apply` command as the writeback account.
    pub fn cmd(&self, plan_file: &Path) -> assert_cmd::Command {
        let mut c = gwb();
        c.env_remove("GWB_LDAP_PASSWORD")
            .env_remove("GWB_LDAP_URL")
            .env_remove("GWB_LDAP_BIND_DN");
        let w = self.writer();
        c.args(["apply", "--yes"]).arg(plan_file);
        c.args(["--ldap-url", self.lab.var("GWB_TEST_LDAP_URL")]);
        c.args(["--bind-dn", self.lab.var("GWB_TEST_LDAP_WRITER_DN")]);
        c.arg("--password-file").arg(w.password_file.expect("pw"));
        c.args(["--ca-file", self.lab.var("GWB_TEST_LDAP_CA_FILE")]);
        c.arg("--journal-dir").arg(self.journal.path());
        c
    }

    pub fn admin<T>(&self, f: impl AsyncFnOnce(&mut Admin) -> T) -> T {
        self.lab.run(f)
    }

    pub fn user(&self, name: &str) -> String {
        let dn = format!("CN={name},{}", self.ou);
        let short: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect();
        let sam = format!("{short}{}", &self.tag);
        self.admin(async |a| a.add_user(&dn, &sam, None).await);
        dn
    }

    pub fn plan(&self, groups: Vec<PlannedGroup>) -> Plan {
        let ou_guid = self.admin(async |a| {
            a.read(&self.ou, &["objectGUID"])
                .await
                .and_then(|e| e.first("objectGUID").and_then(ids::guid_from_bytes))
        });
        make_plan(&self.ou, ou_guid, groups)
    }

    pub fn read(&self, dn: &str) -> Option<Entry> {
        self.admin(async |a| {
            a.read(
                dn,
                &[
                    "objectGUID",
                    "objectSid",
                    "uSNChanged",
                    "cn",
                    "groupType",
                    "displayName",
                    "description",
                    "adminDescription",
                    "msDS-ExternalDirectoryObjectId",
                    "member",
                    "sAMAccountName",
                ],
            )
            .await
        })
    }

    pub fn read_guid(&self, g: &Uuid) -> Option<Entry> {
        self.read(&format!("<GUID={g}>"))
    }

    pub fn current(&self, dn: &str) -> CurrentObject {
        let e = self.read(dn).unwrap_or_else(|| panic!("{dn} exists"));
        CurrentObject {
            dn: e.dn.clone(),
            object_guid: e.first("objectGUID").and_then(ids::guid_from_bytes),
            usn_changed: e.text("uSNChanged").and_then(|s| s.parse().ok()),
            stamp: StampSource::Both,
        }
    }

    /// The highest uSNChanged in this test's OU subtree (the OU included): unchanged means
    /// nothing was written there. (The DC-wide highestCommittedUSN also moves with the tests
    /// running in parallel in other OUs.)
    pub fn highest_usn(&self) -> u64 {
        self.admin(async |a| {
            let res = a
                .ldap
                .search(
                    &self.ou,
                    ldap3::Scope::Subtree,
                    "(objectClass=*)",
                    vec!["uSNChanged"],
                )
                .await
                .expect("search")
                .success()
                .expect("search ok");
            res.0
                .into_iter()
                .map(|r| gwb::ldap::ber::entry_from_tag(&r.0).expect("entry"))
                .filter_map(|e| e.text("uSNChanged").and_then(|s| s.parse::<u64>().ok()))
                .max()
                .expect("the OU has a uSNChanged")
        })
    }

    /// Every group in the OU: DN key -> (displayName, member DN keys).
    pub fn groups(&self) -> BTreeMap<String, (Option<String>, BTreeSet<String>)> {
        self.admin(async |a| {
            let res = a
                .ldap
                .search(
                    &self.ou,
                    ldap3::Scope::OneLevel,
                    "(objectClass=group)",
                    vec!["displayName", "member"],
                )
                .await
                .expect("search")
                .success()
                .expect("search ok");
            res.0
                .into_iter()
                .map(|r| gwb::ldap::ber::entry_from_tag(&r.0).expect("entry"))
                .map(|e| {
                    (
                        key(&e.dn),
                        (
                            e.text("displayName").map(str::to_string),
                            e.texts("member").into_iter().map(key).collect(),
                        ),
                    )
                })
                .collect()
        })
    }
}

pub fn key(dn: &str) -> String {
    Dn::parse(dn).expect("DN").key()
}

/// A `create` of group `id` named `cn` in `ou` with these members.
pub fn create(id: Uuid, cn: &str, display: &str, ou: &str, members: &[String]) -> PlannedGroup {
    let stamp = format!("Group_{id}");
    let mut attributes = BTreeMap::new();
    for (n, v) in [
        ("displayName", display),
        ("description", "written back by gwb"),
        ("adminDescription", stamp.as_str()),
        ("msDS-ExternalDirectoryObjectId", stamp.as_str()),
    ] {
        attributes.insert(
            n.to_string(),
            AttrChange {
                before: None,
                after: one(v),
            },
        );
    }
    PlannedGroup {
        id: id.to_string(),
        display_name: display.into(),
        action: Action::Create,
        reason: GroupReason::Eligible,
        detail: String::new(),
        dn: Some(format!("CN={},{ou}", escape_value(cn))),
        cn: Some(cn.into()),
        group_type: Some(UNIVERSAL_SECURITY),
        current: None,
        attributes,
        members: MemberChanges {
            add: members.to_vec(),
            ..MemberChanges::default()
        },
        delete_proof: None,
        sha256: None,
    }
}

/// An `update` of an existing object.
pub fn update(g: &PlannedGroup, current: CurrentObject) -> PlannedGroup {
    PlannedGroup {
        action: Action::Update,
        current: Some(current),
        attributes: BTreeMap::new(),
        members: MemberChanges::default(),
        ..g.clone()
    }
}

fn gdn(g: &PlannedGroup) -> String {
    g.dn.clone().expect("dn")
}

fn statuses(r: &Report) -> Vec<Status> {
    r.outcomes.iter().map(|o| o.status.clone()).collect()
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn creates_nested_groups_journals_them_and_reapplying_writes_nothing() {
    let Some(e) = env("create") else { return };
    let alice = e.user("Alice");
    let bob = e.user("Bob \\, Jr.");
    let (ia, ib) = (Uuid::new_v4(), Uuid::new_v4());
    let b = create(
        ib,
        &format!("Group_{ib}"),
        "Team B",
        &e.ou,
        std::slice::from_ref(&bob),
    );
    // A holds B, which this plan creates too: B's membership is written after B exists.
    let a = create(
        ia,
        &format!("Group_{ia}"),
        "Team A",
        &e.ou,
        &[alice.clone(), gdn(&b)],
    );
    let plan = e.plan(vec![a.clone(), b.clone()]);
    let r = e.apply(&plan).expect("applied");
    assert_eq!(statuses(&r), vec![Status::Applied, Status::Applied]);
    // Two adds, one modify for the nested member.
    assert_eq!(r.writes, 3);

    let ea = e.read(&gdn(&a)).expect("A exists");
    assert_eq!(ea.text("displayName"), Some("Team A"));
    assert_eq!(ea.text("description"), Some("written back by gwb"));
    assert_eq!(ea.text("groupType"), Some("-2147483640"));
    let stamp = format!("Group_{ia}");
    assert_eq!(ea.text("adminDescription"), Some(stamp.as_str()));
    assert_eq!(
        ea.text("msDS-ExternalDirectoryObjectId"),
        Some(stamp.as_str())
    );
    let members: BTreeSet<String> = ea.texts("member").into_iter().map(key).collect();
    assert_eq!(members, BTreeSet::from([key(&alice), key(&gdn(&b))]));
    let eb = e.read(&gdn(&b)).expect("B exists");
    assert_eq!(
        eb.texts("member").into_iter().map(key).collect::<Vec<_>>(),
        vec![key(&bob)]
    );
    // AD generated the sAMAccountName.
    assert!(ea.text("sAMAccountName").is_some_and(|s| !s.is_empty()));

    // The journal: a run record, a begin/end pair per write, the created objectGUIDs, a summary.
    let path = r.journal.clone().expect("journal");
    let recs = apply::journal::read(&path).expect("journal reads");
    assert!(apply::journal::unfinished(&recs).is_empty());
    let begins: Vec<&apply::journal::BeginRecord> = recs
        .iter()
        .filter_map(|x| match x {
            apply::journal::Record::Begin(b) => Some(b),
            _ => None,
        })
        .collect();
    assert_eq!(
        begins.iter().map(|b| b.op.as_str()).collect::<Vec<_>>(),
        ["add", "add", "modify"]
    );
    let guid_a = ea.first("objectGUID").and_then(ids::guid_from_bytes);
    assert!(recs.iter().any(|x| matches!(x,
        apply::journal::Record::End(end) if end.object_guid == guid_a
            && end.outcome == apply::journal::Outcome::Applied)));
    let add_a = begins
        .iter()
        .find(|b| b.group_id == ia.to_string())
        .expect("add A");
    assert!(add_a.changes.iter().any(
        |c| c.attr == "displayName" && c.after.as_deref() == Some(&["Team A".to_string()][..])
    ));
    assert!(
        matches!(recs.last(), Some(apply::journal::Record::Summary(s)) if s.applied == 2 && s.failed == 0)
    );

    // The same plan again: the re-read shows everything in place; no request is sent.
    let usn = e.highest_usn();
    let r2 = e.apply(&plan).expect("re-applied");
    assert_eq!(
        statuses(&r2),
        vec![Status::AlreadyDone, Status::AlreadyDone]
    );
    assert_eq!(r2.writes, 0);
    assert!(r2.journal.is_none());
    assert_eq!(e.highest_usn(), usn);
    assert_eq!(e.groups().len(), 2, "no duplicates");

    // A plan with nothing to do makes no journal and no write.
    let mut noop = a.clone();
    noop.action = Action::Noop;
    let r3 = e.apply(&e.plan(vec![noop])).expect("noop");
    assert_eq!(r3.writes, 0);
    assert!(r3.journal.is_none());
    assert_eq!(e.highest_usn(), usn);
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn one_changed_membership_is_one_modify() {
    let Some(e) = env("onemod") else { return };
    let users: Vec<String> = ["U1", "U2", "U3", "U4"].iter().map(|u| e.user(u)).collect();
    let id = Uuid::new_v4();
    let g = create(id, &format!("Group_{id}"), "Members", &e.ou, &users[..3]);
    e.apply(&e.plan(vec![g.clone()])).expect("created");
    let mut u = update(&g, e.current(&gdn(&g)));
    u.members.add = vec![users[3].clone()];
    u.members.remove = vec![users[0].clone()];
    u.members.unchanged = 2;
    let r = e.apply(&e.plan(vec![u])).expect("updated");
    assert_eq!(r.writes, 1, "one modify");
    assert_eq!(statuses(&r), vec![Status::Applied]);
    let got = e.read(&gdn(&g)).expect("group");
    let members: BTreeSet<String> = got.texts("member").into_iter().map(key).collect();
    assert_eq!(members, users[1..].iter().map(|u| key(u)).collect());
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn many_members_go_in_batches_of_hundreds() {
    let Some(e) = env("batch") else { return };
    // 1,100 members (the OU's own users) in 500-value requests.
    let dns: Vec<String> = (0..1100).map(|i| format!("CN=M{i},{}", e.ou)).collect();
    e.admin(async |a| {
        for (i, dn) in dns.iter().enumerate() {
            a.add_user(dn, &format!("m{i}{}", &e.tag[..8]), None).await;
        }
    });
    let id = Uuid::new_v4();
    let g = create(id, &format!("Group_{id}"), "Big", &e.ou, &dns);
    let r = e.apply(&e.plan(vec![g.clone()])).expect("applied");
    // One add with 500 members, then two modifies (500 + 100).
    assert_eq!(r.writes, 3);
    let n = e.admin(async |a| {
        let first = a.read(&gdn(&g), &["member"]).await.expect("group");
        first.values("member").count()
    });
    assert_eq!(n, 1100);
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn rename_keeps_object_guid_and_sid() {
    let Some(e) = env("rename") else { return };
    let id = Uuid::new_v4();
    let g = create(id, &format!("Group_{id}"), "Old Name", &e.ou, &[]);
    e.apply(&e.plan(vec![g.clone()])).expect("created");
    let before = e.read(&gdn(&g)).expect("group");
    let guid = before
        .first("objectGUID")
        .and_then(ids::guid_from_bytes)
        .expect("guid");
    let sid = before.first("objectSid").expect("sid").to_vec();
    let cn = format!("New Name_{}", &id.simple().to_string()[20..]);
    let mut r = update(&g, e.current(&gdn(&g)));
    r.action = Action::Rename;
    r.cn = Some(cn.clone());
    r.dn = Some(format!("CN={},{}", escape_value(&cn), e.ou));
    r.display_name = "New Name".into();
    r.attributes.insert(
        "displayName".into(),
        AttrChange {
            before: one("Old Name"),
            after: one("New Name"),
        },
    );
    let rep = e.apply(&e.plan(vec![r.clone()])).expect("renamed");
    assert_eq!(statuses(&rep), vec![Status::Applied]);
    assert_eq!(rep.writes, 2, "one modrdn, one modify");
    let after = e.read_guid(&guid).expect("same object");
    assert_eq!(key(&after.dn), key(&gdn(&r)));
    assert_eq!(after.first("objectSid"), Some(&sid[..]));
    assert_eq!(after.text("displayName"), Some("New Name"));
    assert_eq!(after.text("cn"), Some(cn.as_str()));
    assert!(e.read(&gdn(&g)).is_none(), "no object left at the old DN");
    assert_eq!(e.groups().len(), 1);
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn a_stale_plan_is_refused_naming_the_object() {
    let Some(e) = env("stale") else { return };
    let id = Uuid::new_v4();
    let g = create(id, &format!("Group_{id}"), "Stale", &e.ou, &[]);
    e.apply(&e.plan(vec![g.clone()])).expect("created");
    let mut u = update(&g, e.current(&gdn(&g)));
    u.attributes.insert(
        "description".into(),
        AttrChange {
            before: one("written back by gwb"),
            after: one("from the plan"),
        },
    );
    let plan = e.plan(vec![u]);
    // Someone edits the group after planning.
    e.admin(async |a| a.replace(&gdn(&g), "description", "edited by hand").await);
    let usn = e.highest_usn();
    let err = e.apply(&plan).expect_err("stale");
    let msg = err.to_string();
    assert!(matches!(err, Refused::Stale(_)), "{msg}");
    assert!(
        msg.contains(&gdn(&g)) && msg.contains("uSNChanged"),
        "{msg}"
    );
    assert_eq!(e.highest_usn(), usn, "nothing written");
    assert_eq!(
        e.read(&gdn(&g)).expect("g").text("description"),
        Some("edited by hand")
    );

    // The same through the binary: exit 2, the object named.
    let file = e.journal.path().join("plan.json");
    std::fs::write(&file, crate::util::sealed_json(&plan)).expect("write");
    let out = e.cmd(&file).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("stale plan") && stderr.contains(&gdn(&g)),
        "{stderr}"
    );

    // A moved target OU is stale too.
    let mut moved = e.plan(vec![]);
    moved.target_ou.dn = format!("OU=elsewhere,{}", e.lab.base());
    moved.groups = plan.groups.clone();
    let err = e.apply(&moved).expect_err("moved OU");
    assert!(err.to_string().contains("has moved"), "{err}");
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn the_deletion_threshold_aborts_before_any_write() {
    let Some(e) = env("thresh") else { return };
    let gs: Vec<PlannedGroup> = (0..3)
        .map(|i| {
            let id = Uuid::new_v4();
            create(id, &format!("Group_{id}"), &format!("D{i}"), &e.ou, &[])
        })
        .collect();
    e.apply(&e.plan(gs.clone())).expect("created");
    let dels: Vec<PlannedGroup> = gs
        .iter()
        .map(|g| {
            let mut d = update(g, e.current(&gdn(g)));
            d.action = Action::Delete;
            d.reason = GroupReason::HardDeleted;
            d.delete_proof = Some(DeleteProof::CompleteSnapshot);
            d
        })
        .collect();
    let mut plan = e.plan(dels);
    plan.policy.max_deletes = 2;
    let usn = e.highest_usn();
    let err = e.apply(&plan).expect_err("threshold");
    assert!(
        matches!(err, Refused::Threshold { deletes: 3, max: 2 }),
        "{err}"
    );
    let file = e.journal.path().join("plan.json");
    std::fs::write(&file, crate::util::sealed_json(&plan)).expect("write");
    let out = e.cmd(&file).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("--max-deletes"), "{stderr}");
    assert_eq!(e.highest_usn(), usn, "nothing written");
    assert_eq!(e.groups().len(), 3);
    // Without delete proof (an incomplete groups section) nothing is deleted either.
    plan.policy.max_deletes = 500;
    plan.safety.delete_proof = DeleteProofState {
        complete: false,
        detail: Some("incomplete sections: groups".into()),
        graph_checked: false,
    };
    let err = e.apply(&plan).expect_err("no proof");
    assert!(
        err.to_string().contains("incomplete sections: groups"),
        "{err}"
    );
    assert_eq!(e.highest_usn(), usn);
    // With --max-deletes 3 the deletes go through.
    plan.safety.delete_proof.complete = true;
    let out = e.cmd(&file).args(["--max-deletes", "3"]).assert().code(0);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("3 deleted, 0 failed"), "{stdout}");
    assert!(e.groups().is_empty());
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn decoys_are_never_modified_or_deleted() {
    let Some(e) = env("decoy") else { return };
    let id = Uuid::new_v4();
    // A decoy: CN like a written-back group, but no stamp.
    let decoy_dn = format!("CN=Group_{id},{}", e.ou);
    e.admin(async |a| {
        a.add_group(&decoy_dn, &format!("dc{}", e.tag), UNIVERSAL_SECURITY)
            .await
    });
    let decoy_usn = e.current(&decoy_dn).usn_changed;
    // A forged plan that updates and deletes it is refused as not owned.
    let g = create(id, &format!("Group_{id}"), "Decoy", &e.ou, &[]);
    let mut u = update(&g, e.current(&decoy_dn));
    u.attributes.insert(
        "description".into(),
        AttrChange {
            before: None,
            after: one("taken over"),
        },
    );
    let err = e.apply(&e.plan(vec![u.clone()])).expect_err("not owned");
    assert!(
        err.to_string().contains("does not carry gwb's stamp"),
        "{err}"
    );
    let mut d = u.clone();
    d.action = Action::Delete;
    d.attributes.clear();
    assert!(e.apply(&e.plan(vec![d])).is_err());
    // A create whose name the decoy holds fails for that object only; the other is created.
    let other = Uuid::new_v4();
    let ok = create(other, &format!("Group_{other}"), "Fine", &e.ou, &[]);
    let file = e.journal.path().join("plan.json");
    std::fs::write(
        &file,
        serde_json::to_string(&e.plan(vec![g.clone(), ok.clone()])).expect("json"),
    )
    .expect("write");
    let out = e.cmd(&file).assert().code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("FAILED") && stdout.contains("did not create"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 created, 0 updated, 0 renamed, 0 deleted, 1 failed"),
        "{stdout}"
    );
    assert!(e.read(&gdn(&ok)).is_some());
    assert_eq!(
        e.current(&decoy_dn).usn_changed,
        decoy_usn,
        "decoy untouched"
    );
    assert!(
        e.read(&decoy_dn)
            .expect("decoy")
            .text("adminDescription")
            .is_none()
    );
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn terminal_errors_are_reported_per_object_and_the_rest_applies() {
    let Some(e) = env("terminal") else { return };
    let (i1, i2) = (Uuid::new_v4(), Uuid::new_v4());
    let good = create(i1, &format!("Group_{i1}"), "Good", &e.ou, &[]);
    let mut bad = create(i2, &format!("Group_{i2}"), "Bad", &e.ou, &[]);
    // A member that does not exist: the DC refuses the add (never retried).
    bad.members.add = vec![format!("CN=nobody-{},{}", e.tag, e.ou)];
    let r = e
        .apply(&e.plan(vec![good.clone(), bad.clone()]))
        .expect("ran");
    assert_eq!(r.outcomes[0].status, Status::Applied);
    let Status::Failed(msg) = &r.outcomes[1].status else {
        panic!("bad fails: {:?}", r.outcomes[1])
    };
    assert!(msg.contains("LDAP"), "{msg}");
    assert_eq!(r.outcomes[1].writes, 1, "terminal results are not retried");
    // Outside the delegated OU the writeback account has no rights: insufficient access (50).
    let outside = format!("OU={}-outside,{}", &e.tag, e.lab.base());
    e.admin(async |a| a.add_ou(&outside).await);
    let i3 = Uuid::new_v4();
    let denied = create(i3, &format!("Group_{i3}"), "Denied", &outside, &[]);
    let mut plan = make_plan(&outside, None, vec![denied]);
    plan.target_ou.object_guid = None;
    let r = e.apply(&plan).expect("ran");
    let Status::Failed(msg) = &r.outcomes[0].status else {
        panic!("denied: {:?}", r.outcomes[0])
    };
    assert!(msg.contains("LDAP 50"), "{msg}");
    assert_eq!(r.outcomes[0].writes, 1);
    e.admin(async |a| a.delete_tree(&outside).await);
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn hostile_names_are_escaped_and_read_back() {
    let Some(e) = env("hostile") else { return };
    let names = [
        "a, b + c \" d \\ e < f > g ; h = i",
        "#leading hash",
        " leading space",
        "trailing space ",
        "Ünïcödé 名前 🚀",
        "line\nbreak",
        &"x".repeat(64),
    ];
    let groups: Vec<PlannedGroup> = names
        .iter()
        .map(|n| create(Uuid::new_v4(), n, n, &e.ou, &[]))
        .collect();
    let r = e.apply(&e.plan(groups.clone())).expect("applied");
    assert!(
        r.outcomes.iter().all(|o| o.status == Status::Applied),
        "{:?}",
        r.outcomes
    );
    for (g, n) in groups.iter().zip(names) {
        let got = e.read(&gdn(g)).unwrap_or_else(|| panic!("{n:?} exists"));
        assert_eq!(got.text("cn"), Some(n), "{n:?}");
        assert_eq!(Dn::parse(&got.dn).expect("dn").rdn_value(), Some(n));
        assert_eq!(got.text("displayName"), Some(n));
    }
    // Applying again converges (the add's "already exists" is confirmed by the stamp).
    let r = e.apply(&e.plan(groups)).expect("again");
    assert!(r.outcomes.iter().all(|o| o.status == Status::AlreadyDone));
}

/// A plan of four nested groups with members (created by the admin first).
fn plan_fixture(e: &Env) -> (Plan, Vec<PlannedGroup>) {
    plan_fixture_n(e, 4)
}

/// A plan of `n` groups, each holding some of six users and the next group.
pub fn plan_fixture_n(e: &Env, n: usize) -> (Plan, Vec<PlannedGroup>) {
    let users: Vec<String> = (0..6).map(|i| e.user(&format!("P{i}"))).collect();
    let mut groups = Vec::new();
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
    let dn_of = |id: &Uuid| format!("CN=Group_{id},{}", e.ou);
    for (i, id) in ids.iter().enumerate() {
        let mut members: Vec<String> = users.iter().skip(i).step_by(2).cloned().collect();
        if i + 1 < ids.len() {
            members.push(dn_of(&ids[i + 1]));
        }
        groups.push(create(
            *id,
            &format!("Group_{id}"),
            &format!("Cut {i}"),
            &e.ou,
            &members,
        ));
    }
    (e.plan(groups.clone()), groups)
}

/// The state an uninterrupted apply gives, as (display name, member keys) by DN key.
pub fn expected(groups: &[PlannedGroup]) -> BTreeMap<String, (Option<String>, BTreeSet<String>)> {
    groups
        .iter()
        .map(|g| {
            (
                key(&gdn(g)),
                (
                    Some(g.display_name.clone()),
                    g.members.add.iter().map(|m| key(m)).collect(),
                ),
            )
        })
        .collect()
}

/// Bytes (requests, answers) an uninterrupted apply of the fixture plan exchanges, and the
/// bytes up to the end of the bind (measured with a plan that writes nothing).
fn traffic() -> Option<([usize; 2], [usize; 2])> {
    let measure = |empty: bool| -> Option<[usize; 2]> {
        let e = env("measure")?;
        let (mut plan, _) = plan_fixture(&e);
        if empty {
            plan.groups.clear();
        }
        let relay = relay::start("127.0.0.1:636", relay::Dir::Answers, usize::MAX, false);
        let mut args = e.writer();
        args.ldap_url = Some(format!("ldaps://127.0.0.1:{}", relay.port));
        e.apply_with(&args, &plan, &e.opts())
            .expect("apply runs")
            .expect("applied");
        std::thread::sleep(std::time::Duration::from_millis(200));
        Some([0, 1].map(|i| relay.bytes[i].load(std::sync::atomic::Ordering::SeqCst)))
    };
    Some((measure(false)?, measure(true)?))
}

/// Five cut points spread over the writes of an apply.
fn cut_points(total: usize, setup: usize) -> Vec<usize> {
    (1..=5).map(|k| setup + (total - setup) * k / 6).collect()
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn a_lost_connection_is_reconnected_and_converges() {
    let Some((total, setup)) = traffic() else {
        return;
    };
    for (n, cut) in cut_points(total[1], setup[1]).into_iter().enumerate() {
        let Some(e) = env(&format!("cut{n}")) else {
            return;
        };
        let (plan, groups) = plan_fixture(&e);
        let relay = relay::start("127.0.0.1:636", relay::Dir::Answers, cut, false);
        let mut args = e.writer();
        args.ldap_url = Some(format!("ldaps://127.0.0.1:{}", relay.port));
        let r = e
            .apply_with(&args, &plan, &e.opts())
            .expect("apply runs")
            .expect("not refused");
        assert!(
            r.outcomes
                .iter()
                .all(|o| o.status != Status::Failed(String::new())
                    && !matches!(o.status, Status::Failed(_))),
            "cut at {cut}: {:?}",
            r.outcomes
        );
        assert_eq!(e.groups(), expected(&groups), "cut at {cut}");
        assert!(
            relay.cut.load(std::sync::atomic::Ordering::SeqCst),
            "cut at {cut}: the relay cut"
        );
        assert!(
            relay.connections.load(std::sync::atomic::Ordering::SeqCst) >= 2,
            "cut at {cut}: gwb reconnected"
        );
        assert!(r.reconnects >= 1 || r.writes > 0);
    }
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn an_apply_killed_midway_converges_when_run_again() {
    let Some((total, setup)) = traffic() else {
        return;
    };
    // The connection dies for good after some requests (a crash); the journal says what
    // happened; the same plan applied again gives the uninterrupted result.
    for (n, cut) in cut_points(total[0], setup[0]).into_iter().enumerate() {
        let Some(e) = env(&format!("kill{n}")) else {
            return;
        };
        let (plan, groups) = plan_fixture(&e);
        let relay = relay::start("127.0.0.1:636", relay::Dir::Requests, cut, true);
        let mut args = e.writer();
        args.ldap_url = Some(format!("ldaps://127.0.0.1:{}", relay.port));
        let mut opts = e.opts();
        opts.retry.attempts = 2;
        let first = e.apply_with(&args, &plan, &opts);
        assert!(
            relay.cut.load(std::sync::atomic::Ordering::SeqCst),
            "cut at {cut}: the relay cut"
        );
        if let Ok(Ok(r)) = &first {
            // Whatever did not get through is reported as failed, never as applied.
            for o in &r.outcomes {
                if o.status == Status::Applied {
                    assert!(
                        e.read(&o.dn).is_some(),
                        "cut at {cut}: {o:?} claims applied"
                    );
                }
            }
        }
        // Every journalled write with an end record matches the directory.
        for j in std::fs::read_dir(e.journal.path())
            .expect("journal dir")
            .flatten()
        {
            let recs = apply::journal::read(&j.path()).expect("journal");
            for rec in &recs {
                if let apply::journal::Record::End(end) = rec
                    && end.outcome == apply::journal::Outcome::Applied
                    && let Some(g) = end.object_guid
                {
                    assert!(
                        e.read_guid(&g).is_some(),
                        "cut at {cut}: journalled object exists"
                    );
                }
            }
        }
        let r = e.apply(&plan).expect("second run");
        assert_eq!(r.failed(), 0, "cut at {cut}: {:?}", r.outcomes);
        assert_eq!(e.groups(), expected(&groups), "cut at {cut}");
    }
}
