//! Integration tests of `gwb sync` and `gwb sync --watch` against the Graph simulator and the
//! Samba lab DC: membership changes and renames made through the simulator's write API reach
//! AD within two poll intervals, a restarted watcher re-applies nothing, and under injected
//! 429s and 503s the watcher converges to the directory a clean run gives.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use gwb::sim::{self, SimConfig, SimServer};
use serde_json::{Value, json};

use crate::ldap::lab::{self, Lab};
use crate::util::{highest_committed_usn, json_ok, ou_groups, private_file, sim_graph_args};

pub(crate) const SECRET: &str = "Zq8~sync-s3cr3t";
const INTERVAL: u64 = 2;

/// A seeded lab: a users OU with three users, an empty target OU, and the users' SIDs.
pub(crate) struct Seed {
    pub users_ou: String,
    pub target: String,
    pub users: Vec<(String, String, String)>, // (cloud id, DN, SID)
}

/// Remove what [`seed`] made (the target OU and the users' OU).
pub(crate) fn cleanup(lab: &Lab, seed: &Seed) {
    lab.run(async |a| {
        a.delete_tree(&seed.target).await;
        a.delete_tree(&seed.users_ou).await;
    });
}

pub(crate) fn seed(lab: &Lab, test: &str, targets: &[&str]) -> Seed {
    let name = lab.unique(test);
    let base = lab.base().to_string();
    let users_ou = format!("OU={name}-users,{base}");
    let target = format!("OU={name},{base}");
    let short = name[name.len() - 8..].to_string();
    let targets: Vec<String> = targets
        .iter()
        .map(|t| format!("OU={name}-{t},{base}"))
        .collect();
    let users = lab.run(async |a| {
        a.add_ou(&users_ou).await;
        a.add_ou(&target).await;
        for t in &targets {
            a.add_ou(t).await;
        }
        let mut out = Vec::new();
        for n in ["u1", "u2", "u3"] {
            let dn = format!("CN={n},{users_ou}");
            a.add_user(&dn, &format!("{n}{short}"), None).await;
            let e = a.read(&dn, &["objectSid"]).await.expect("user");
            let sid = gwb::ad::ids::sid_from_bytes(e.first("objectSid").unwrap()).unwrap();
            out.push((uuid::Uuid::new_v4().to_string(), dn, sid));
        }
        out
    });
    Seed {
        users_ou,
        target,
        users,
    }
}

pub(crate) fn user_obj(u: &(String, String, String), name: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.user",
        "id": u.0,
        "displayName": name,
        "userPrincipalName": format!("{name}@contoso.com"),
        "onPremisesSyncEnabled": true,
        "onPremisesSecurityIdentifier": u.2,
    })
}

/// A tenant with one security group enabled for writeback, member u1; u2 and u3 exist.
pub(crate) fn simulator(seed: &Seed, group: &str, cfg: SimConfig) -> SimServer {
    let doc = json!({
        "tenantId": "11111111-1111-1111-1111-111111111111",
        "groups": [{
            "id": group,
            "displayName": "Watch Team",
            "groupTypes": [],
            "securityEnabled": true,
            "mailEnabled": false,
            "writebackConfiguration": {"isEnabled": true},
            "members": [user_obj(&seed.users[0], "u1")],
        }],
        "deletedGroups": [],
    });
    let mut store = sim::Store::from_tenant(&doc).unwrap();
    for (i, n) in [(1, "u2"), (2, "u3")] {
        let Value::Object(o) = user_obj(&seed.users[i], n) else {
            unreachable!()
        };
        store.add_object(o);
    }
    sim::start(store, cfg, 0).expect("simulator")
}

pub(crate) fn common_args(lab: &Lab, s: &SimServer, target: &str) -> Vec<String> {
    let mut v = sim_graph_args(s);
    v.extend(
        [
            "--ldap-url",
            lab.var("GWB_TEST_LDAP_URL"),
            "--bind-dn",
            lab.var("GWB_TEST_LDAP_BIND_DN"),
            "--ca-file",
            lab.var("GWB_TEST_LDAP_CA_FILE"),
            "--target-ou",
            target,
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    v.push("--password-file".into());
    v.push(lab.password_file().display().to_string());
    v
}

pub(crate) fn gwb_cmd() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("gwb"));
    c.env_remove("GWB_LDAP_PASSWORD")
        .env_remove("GWB_CONFIG")
        .env_remove("GWB_ACCESS_TOKEN")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST")
        .env_remove("RUST_LOG")
        .env("AZURE_CLIENT_SECRET", SECRET);
    c
}

/// A running watcher whose stdout lines arrive on a channel.
pub(crate) struct Watcher {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watcher {
    fn start(extra: &[String], dir: &Path) -> Watcher {
        let mut args = vec!["--interval".to_string(), INTERVAL.to_string()];
        args.extend(extra.iter().cloned());
        Watcher::start_with(&args, dir, &[])
    }
    /// `gwb sync --watch` with exactly these arguments and extra environment, in `dir`.
    pub(crate) fn start_with(args: &[String], dir: &Path, env: &[(&str, &str)]) -> Watcher {
        let mut cmd = gwb_cmd();
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .current_dir(dir)
            .args(["sync", "--watch"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("gwb sync --watch starts");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        Watcher {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }
    /// Wait for a line containing `needle` (bounded).
    pub(crate) fn wait_line(&mut self, needle: &str, within: Duration) -> String {
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        self.wait_next(needle, within)
    }
    /// Wait for a line containing `needle` that was not seen before (bounded).
    pub(crate) fn wait_next(&mut self, needle: &str, within: Duration) -> String {
        let end = Instant::now() + within;
        while Instant::now() < end {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
                self.seen.push(l.clone());
                if l.contains(needle) {
                    return l;
                }
            }
        }
        panic!(
            "no new line with {needle:?} within {within:?}; got {:#?}",
            self.seen
        );
    }
    /// SIGTERM, then the exit status and the remaining output.
    pub(crate) fn stop(mut self) -> (i32, Vec<String>) {
        // SAFETY-free: `kill -TERM` from the test, as an operator's systemctl stop does.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let end = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < end, "watcher did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(300)) {
            self.seen.push(l);
        }
        (status.code().unwrap_or(-1), std::mem::take(&mut self.seen))
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Groups of an OU: CN -> members (lower-case DNs), and the objectGUID and uSNChanged of each.
pub(crate) fn groups(lab: &Lab, ou: &str) -> BTreeMap<String, (BTreeSet<String>, String, u64)> {
    ou_groups(lab, ou, &["cn", "member", "objectGUID", "uSNChanged"])
        .into_iter()
        .map(|e| {
            let cn = e.attrs["cn"][0].clone();
            let members = e
                .attrs
                .get("member")
                .into_iter()
                .flatten()
                .map(|m| m.to_ascii_lowercase())
                .collect();
            let guid = format!("{:?}", e.bin_attrs.get("objectGUID"));
            let usn = e.attrs["uSNChanged"][0].parse().unwrap();
            (cn, (members, guid, usn))
        })
        .collect()
}

fn wait_until(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{what}: not within {within:?}");
}

fn add_member(s: &SimServer, group: &str, user: &str) {
    let (st, body) = s.shared.call(
        "POST",
        &format!("/v1.0/groups/{group}/members/$ref"),
        Some(json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{user}")})),
    );
    assert_eq!(st, 204, "{body}");
}

fn remove_member(s: &SimServer, group: &str, user: &str) {
    let (st, body) = s.shared.call(
        "DELETE",
        &format!("/v1.0/groups/{group}/members/{user}/$ref"),
        None,
    );
    assert_eq!(st, 204, "{body}");
}

fn rename(s: &SimServer, group: &str, name: &str) {
    let (st, body) = s.shared.call(
        "PATCH",
        &format!("/v1.0/groups/{group}"),
        Some(json!({"displayName": name})),
    );
    assert_eq!(st, 204, "{body}");
}

fn journals(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

/// Generous upper limit for waiting on something that must happen (not an assertion on time).
fn two_polls() -> Duration {
    Duration::from_secs(2 * INTERVAL + 20)
}

/// When a change made through the simulator at `t0` is first seen in AD: the time since `t0`
/// of the last check that did not see it yet, and of the first that did. Checks run back to
/// back (an LDAP search each), so the change arrived between the two.
fn arrival(t0: Instant, mut seen: impl FnMut() -> bool) -> (Duration, Duration) {
    let mut absent = Duration::ZERO;
    loop {
        let at = t0.elapsed();
        if seen() {
            return (absent, at);
        }
        absent = at;
        assert!(
            at < two_polls() * 3,
            "the change did not reach AD within {:?}",
            two_polls() * 3
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The watcher's own measure of the poll that applied a change: the seconds in
/// `… poll: 1 group(s) changed, applied in 0.42s`.
fn apply_secs(w: &mut Watcher) -> f64 {
    let l = w.wait_next("applied in", Duration::from_secs(30));
    l.rsplit("applied in ")
        .next()
        .and_then(|x| x.trim_end_matches('s').parse().ok())
        .unwrap_or_else(|| panic!("no duration in {l:?}"))
}

/// "Within 2 poll intervals", measured from the simulator write to the AD read, for the
/// watcher with `--interval 2`: the change lands at the latest one interval after the poll in
/// progress at `t0` ends (an idle poll, one delta round trip) and is applied by the next poll,
/// whose whole duration (delta, plan, apply) the watcher reports. So the bound is
/// 2 x interval + that apply's time: a generous but honest bound. The assertion uses the last
/// read that did not see the change yet (it arrived after that read), so the test's own
/// polling cannot make it fail.
fn assert_within_two_polls(what: &str, absent: Duration, seen: Duration, apply: f64) {
    let bound = Duration::from_secs(2 * INTERVAL) + Duration::from_secs_f64(apply);
    assert!(
        absent < bound,
        "{what}: still not in AD {absent:?} after the change (seen at {seen:?}); bound 2 x {INTERVAL}s + one apply ({apply:.2}s) = {bound:?}"
    );
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn watch_applies_member_changes_and_renames_and_resumes_without_reapplying() {
    // Alone on the DC: highestCommittedUSN is DC-wide.
    let Some(lab) = lab::lab_exclusive() else {
        return;
    };
    let seed = seed(&lab, "watch", &[]);
    let group = uuid::Uuid::new_v4().to_string();
    let tail = &group[group.len() - 12..];
    let s = simulator(&seed, &group, SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let mut args = common_args(&lab, &s, &seed.target);
    args.extend(
        [
            "--cn-format",
            "display-name",
            "--state-dir",
            "state",
            "--journal-dir",
            "journal",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let u = |i: usize| seed.users[i].1.to_ascii_lowercase();
    let cn = format!("Watch Team_{tail}");
    let mut w = Watcher::start(&args, dir.path());
    w.wait_line("watching", Duration::from_secs(30));
    // The first full reconciliation creates the group with u1.
    w.wait_line(&format!("create CN={cn}"), Duration::from_secs(60));
    let g = groups(&lab, &seed.target);
    assert_eq!(g[&cn].0, BTreeSet::from([u(0)]));
    let guid = g[&cn].1.clone();

    // A member added in the cloud appears in AD within two poll intervals.
    let t0 = Instant::now();
    add_member(&s, &group, &seed.users[1].0);
    let (absent, seen) = arrival(t0, || {
        groups(&lab, &seed.target)[&cn].0 == BTreeSet::from([u(0), u(1)])
    });
    let line = w.wait_line("update CN=", Duration::from_secs(10));
    assert!(
        line.contains("applied (1 write)"),
        "one change, one modify: {line}"
    );
    assert_within_two_polls("u2 added", absent, seen, apply_secs(&mut w));
    // A removal likewise.
    let t0 = Instant::now();
    remove_member(&s, &group, &seed.users[0].0);
    let (absent, seen) = arrival(t0, || {
        groups(&lab, &seed.target)[&cn].0 == BTreeSet::from([u(1)])
    });
    assert_within_two_polls("u1 removed", absent, seen, apply_secs(&mut w));
    // A rename under --cn-format display-name renames the AD object (same objectGUID).
    let t0 = Instant::now();
    rename(&s, &group, "Watch Team Renamed");
    let new_cn = format!("Watch Team Renamed_{tail}");
    let (absent, seen) = arrival(t0, || groups(&lab, &seed.target).contains_key(&new_cn));
    assert_within_two_polls("renamed", absent, seen, apply_secs(&mut w));
    let g = groups(&lab, &seed.target);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[&new_cn].1, guid, "a rename keeps the object");
    assert_eq!(g[&new_cn].0, BTreeSet::from([u(1)]));
    w.wait_line("rename CN=", Duration::from_secs(10));

    // SIGTERM: a clean exit after the current operation.
    let (code, lines) = w.stop();
    assert_eq!(code, 0, "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.contains("stopped on signal")),
        "{lines:#?}"
    );
    let usn_before = groups(&lab, &seed.target)[&new_cn].2;
    // DC-wide: this test holds the DC alone (lab_exclusive), so any write would move it.
    let highest_before = highest_committed_usn(&lab);
    let journals_before = journals(&dir.path().join("journal"));
    // Restart: it resumes from the bookmark and re-applies nothing.
    let mut w = Watcher::start(&args, dir.path());
    let l = w.wait_line("watching", Duration::from_secs(30));
    assert!(l.contains("resuming"), "{l}");
    std::thread::sleep(Duration::from_secs(3 * INTERVAL));
    let (code, lines) = w.stop();
    assert_eq!(code, 0);
    assert!(
        !lines.iter().any(|l| l.contains("applied")),
        "the restarted watcher applied something: {lines:#?}"
    );
    assert_eq!(
        highest_committed_usn(&lab),
        highest_before,
        "the restarted watcher wrote to the DC (highestCommittedUSN moved)"
    );
    assert_eq!(
        groups(&lab, &seed.target)[&new_cn].2,
        usn_before,
        "uSNChanged moved"
    );
    assert_eq!(journals(&dir.path().join("journal")), journals_before);
    // And it still follows changes after the restart.
    let mut w = Watcher::start(&args, dir.path());
    w.wait_line("watching", Duration::from_secs(30));
    add_member(&s, &group, &seed.users[2].0);
    wait_until("u3 added after restart", two_polls(), || {
        groups(&lab, &seed.target)[&new_cn].0 == BTreeSet::from([u(1), u(2)])
    });
    let _ = w.stop();
    cleanup(&lab, &seed);
}

/// Normalised directory: CN -> member DNs.
fn shape(lab: &Lab, ou: &str) -> BTreeMap<String, BTreeSet<String>> {
    groups(lab, ou)
        .into_iter()
        .map(|(cn, (m, _, _))| (cn, m))
        .collect()
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn watch_under_throttling_converges_to_a_clean_run() {
    let Some(lab) = lab::lab() else { return };
    let seed = seed(&lab, "watchfault", &["clean"]);
    let clean_ou = {
        let (_, rest) = seed.target.split_once(',').unwrap();
        let name = seed
            .target
            .trim_start_matches("OU=")
            .split(',')
            .next()
            .unwrap();
        format!("OU={name}-clean,{rest}")
    };
    let group = uuid::Uuid::new_v4().to_string();
    let faults = SimConfig {
        fault_429: 10.0,
        fault_503: 2.0,
        retry_after: 1,
        fault_seed: 7,
        ..SimConfig::default()
    };
    let s = simulator(&seed, &group, faults);
    let dir = tempfile::tempdir().unwrap();
    let mut args = common_args(&lab, &s, &seed.target);
    args.extend(["--state-dir", "state"].iter().map(|s| s.to_string()));
    let mut w = Watcher::start(&args, dir.path());
    w.wait_line("create CN=", Duration::from_secs(120));
    add_member(&s, &group, &seed.users[1].0);
    add_member(&s, &group, &seed.users[2].0);
    remove_member(&s, &group, &seed.users[0].0);
    let want = BTreeSet::from([
        seed.users[1].1.to_ascii_lowercase(),
        seed.users[2].1.to_ascii_lowercase(),
    ]);
    let cn = format!("Group_{group}");
    wait_until("converged under faults", Duration::from_secs(120), || {
        shape(&lab, &seed.target).get(&cn) == Some(&want)
    });
    let (code, _) = w.stop();
    assert_eq!(code, 0);
    let stats = s.shared.stats();
    assert!(
        stats["faults"].as_object().is_some_and(|f| !f.is_empty()),
        "no faults were injected: {stats}"
    );
    // A clean one-shot sync of the same tenant into another OU gives the same directory.
    s.shared.with_config(|c| {
        c.fault_429 = 0.0;
        c.fault_503 = 0.0;
    });
    let converged = shape(&lab, &seed.target);
    let out = gwb_cmd()
        .current_dir(dir.path())
        .arg("sync")
        .args(common_args(&lab, &s, &clean_ou))
        .args(["--journal-dir", "clean-journal"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The group the watcher wrote carries gwb's stamp: a sync into another OU moves it there
    // (the target OU changed) rather than writing a second copy.
    assert_eq!(shape(&lab, &clean_ou), converged);
    assert!(shape(&lab, &seed.target).is_empty());
    // And a second clean sync has nothing to do.
    let out = gwb_cmd()
        .current_dir(dir.path())
        .arg("sync")
        .args(common_args(&lab, &s, &clean_ou))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("nothing to do"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    lab.run(async |a| {
        a.delete_tree(&seed.target).await;
        a.delete_tree(&clean_ou).await;
        a.delete_tree(&seed.users_ou).await;
    });
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn sync_dry_run_prints_the_plan_and_writes_nothing() {
    let Some(lab) = lab::lab() else { return };
    let seed = seed(&lab, "dry", &[]);
    let group = uuid::Uuid::new_v4().to_string();
    let s = simulator(&seed, &group, SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let out = gwb_cmd()
        .current_dir(dir.path())
        .args(["sync", "--dry-run", "--format", "json"])
        .args(common_args(&lab, &s, &seed.target))
        .output()
        .unwrap();
    let plan = json_ok(&out);
    assert_eq!(plan["format"], "gwb-plan/1");
    let g = plan["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == group.as_str())
        .unwrap();
    assert_eq!(g["action"], "create");
    assert_eq!(g["members"]["add"], json!([seed.users[0].1.clone()]), "{g}");
    assert!(groups(&lab, &seed.target).is_empty(), "a dry run wrote");
    assert!(!PathBuf::from(dir.path()).join("gwb-journal").exists());
    cleanup(&lab, &seed);
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn a_config_file_drives_sync_and_flags_override_it() {
    let Some(lab) = lab::lab() else { return };
    let seed = seed(&lab, "cfgsync", &[]);
    let group = uuid::Uuid::new_v4().to_string();
    let s = simulator(&seed, &group, SimConfig::default());
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
timeout = 20
[graph]
tenant = "contoso.onmicrosoft.com"
client-id = "11111111-2222-3333-4444-555555555555"
client-secret-env = "GWB_TEST_APP_SECRET"
url = "{graph}"
[policy]
deletion = "modified"
max-deletes = 0
cn-format = "display-name"
[journal]
dir = "audit-trail"
"#,
        target = seed.target,
        url = lab.var("GWB_TEST_LDAP_URL"),
        bind = lab.var("GWB_TEST_LDAP_BIND_DN").replace('\\', "\\\\"),
        pw = pw.display(),
        ca = lab.var("GWB_TEST_LDAP_CA_FILE"),
        graph = s.url(),
    );
    std::fs::write(dir.path().join("gwb.toml"), cfg).unwrap();
    let run = |extra: &[&str]| {
        let mut c = gwb_cmd();
        c.env_remove("AZURE_CLIENT_SECRET")
            .env_remove("AZURE_TENANT_ID")
            .env_remove("AZURE_CLIENT_ID")
            .env("GWB_TEST_APP_SECRET", SECRET)
            .current_dir(dir.path())
            .arg("sync")
            .args(extra);
        c.output().unwrap()
    };
    // Everything from ./gwb.toml: LDAP, Graph (secret by reference), target OU, CN format,
    // journal directory.
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let tail = &group[group.len() - 12..];
    assert!(groups(&lab, &seed.target).contains_key(&format!("Watch Team_{tail}")));
    assert_eq!(journals(&dir.path().join("audit-trail")), 1);
    // The group is deleted in the cloud; deletion = "modified" deletes it, but max-deletes = 0
    // refuses before any write (exit 2).
    let (st, _) = s
        .shared
        .call("DELETE", &format!("/v1.0/groups/{group}"), None);
    assert_eq!(st, 204);
    let out = run(&[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("threshold"));
    assert_eq!(groups(&lab, &seed.target).len(), 1);
    // A flag overrides the file.
    let out = run(&["--max-deletes", "5"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(groups(&lab, &seed.target).is_empty());
    cleanup(&lab, &seed);
}
