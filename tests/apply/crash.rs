//! The Samba server killed (SIGKILL) at several points of an apply and started again on the
//! same database: gwb reconnects, or a second run finishes the job; either way the directory
//! ends as an uninterrupted apply leaves it, and the journal agrees with it.

use std::sync::Arc;
use std::time::Duration;

use gwb::apply::{self, Status};

use super::{env_in, expected, plan_fixture_n};
use crate::ldap::lab;

fn begins(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|f| std::fs::read_to_string(f.path()).ok())
        .map(|t| {
            t.lines()
                .filter(|l| l.starts_with("{\"type\":\"begin\""))
                .count()
        })
        .sum()
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn the_samba_server_killed_midway_converges() {
    // Alone on the DC: the others must not see it die.
    let Some(lab) = lab::lab_exclusive() else {
        return;
    };
    let lab = Arc::new(lab);
    let samba_dir = lab.var("GWB_TEST_SAMBA_DIR").to_string();
    // Kill after the k-th journalled write: among the creates, between creates and member
    // modifies, among the modifies.
    for (n, k) in [1usize, 4, 9, 13, 17].into_iter().enumerate() {
        let e = env_in(lab.clone(), &format!("crash{n}"));
        let (plan, groups) = plan_fixture_n(&e, 10);
        let mut opts = e.opts();
        // One write per journal commit, so the kill points fall between single writes.
        opts.window = 1;
        // Enough patience to ride out the restart (a few seconds).
        opts.retry = gwb::ldap::write::Retry {
            attempts: 10,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        };
        let args = e.writer();
        let settings = gwb::ldap::conn::Settings::from_args(&args).expect("settings");
        let plan2 = plan.clone();
        let opts2 = opts.clone();
        let run = std::thread::spawn(move || apply::apply(&plan2, settings, &opts2, &mut |_| {}));
        // Wait for the k-th write to be journalled (or the run to end), then kill the DC.
        while begins(e.journal.path()) < k && !run.is_finished() {
            std::thread::sleep(Duration::from_millis(5));
        }
        let killed_at = begins(e.journal.path());
        assert!(
            !run.is_finished(),
            "kill {n}: the apply was still running when the DC was killed"
        );
        let st = std::process::Command::new(crate::util::repo().join("scripts/samba-dc.sh"))
            .arg("crash-restart")
            .env("GWB_SAMBA_DIR", &samba_dir)
            .status()
            .expect("samba-dc.sh");
        assert!(st.success(), "the DC restarts");
        let first = run.join().expect("apply thread");
        let converged_in_one = matches!(&first, Ok(Ok(r)) if r.failed() == 0);
        if !converged_in_one {
            // A second run of the same plan finishes what the first could not.
            let r = e.apply(&plan).expect("second run");
            assert_eq!(
                r.failed(),
                0,
                "kill {n} at write {killed_at}: {:?}",
                r.outcomes
            );
            assert!(
                r.outcomes
                    .iter()
                    .all(|o| o.status != Status::Failed(String::new()))
            );
        }
        assert_eq!(
            e.groups(),
            expected(&groups),
            "kill {n} at write {killed_at}: the directory equals an uninterrupted apply"
        );
        // Every write the journal calls applied is in the directory.
        for f in std::fs::read_dir(e.journal.path())
            .expect("journal")
            .flatten()
        {
            let recs = apply::journal::read(&f.path()).expect("journal reads");
            for rec in &recs {
                if let apply::journal::Record::End(end) = rec
                    && end.outcome != apply::journal::Outcome::Failed
                    && let Some(g) = end.object_guid
                {
                    assert!(e.read_guid(&g).is_some(), "journalled object {g} exists");
                }
            }
        }
    }
}
