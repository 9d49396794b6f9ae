//! Where a sync state and a Graph link may lead: a state saved against one Graph root is set
//! aside when the watcher restarts against another (full sync, then changes apply again), and
//! no link to another origin is ever requested, so the bearer token stays with the Graph root.

use std::collections::BTreeSet;
use std::time::Duration;

use gwb::graph::auth::{Credential, TokenProvider};
use gwb::graph::client::GraphClient;
use gwb::graph::retry::RetryPolicy;
use gwb::sim::{self, SimConfig};
use serde_json::json;

use crate::ldap::lab;
use crate::sync::{SECRET, Watcher, cleanup, common_args, groups, seed, simulator};

fn requests(s: &sim::SimServer) -> u64 {
    s.shared.stats()["requests"].as_u64().unwrap()
}

/// A client on `root` that authenticates at `root` (the simulator's token endpoint).
fn client(root: &str) -> GraphClient {
    let http = reqwest::Client::new();
    let p = TokenProvider::new(
        http.clone(),
        root,
        "contoso.onmicrosoft.com",
        root,
        Credential::Secret {
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            secret: secrecy::SecretString::from(SECRET.to_string()),
        },
    );
    GraphClient::new(http, root, p, 4, RetryPolicy::default())
}

#[test]
fn a_link_to_another_origin_is_refused_without_sending_the_token() {
    let tenant = || {
        sim::generate::generate(&sim::generate::GenSpec {
            groups: 1,
            members: 1,
            seed: 7,
            big: 0,
        })
    };
    let home = sim::start(tenant(), SimConfig::default(), 0).unwrap();
    let other = sim::start(tenant(), SimConfig::default(), 0).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = client(&home.url());
    rt.block_on(async {
        // A stored delta link on another origin.
        let e = c
            .get(
                &format!("{}/beta/groups/delta?$deltatoken=abc", other.url()),
                &[],
            )
            .await
            .unwrap_err();
        assert_eq!(e.code.as_deref(), Some("foreignOrigin"), "{e}");
        assert!(e.message.contains("not the configured Graph root"), "{e}");
        // A server-given next link on another origin, met while paging.
        let first = json!({
            "value": [{"id": "a"}],
            "@odata.nextLink": format!("{}/beta/groups?$skiptoken=2", other.url()),
        });
        let mut out = Vec::new();
        let e = c.rest_of_pages(&first, &[], &mut out).await.unwrap_err();
        assert_eq!(e.code.as_deref(), Some("foreignOrigin"), "{e}");
        // The same path on the configured root is followed.
        let page = c.get("/beta/groups", &[]).await.unwrap();
        assert!(page["value"].is_array(), "{page}");
    });
    assert_eq!(
        requests(&other),
        0,
        "the other origin was contacted (token request or Graph call)"
    );
    assert_eq!(other.shared.stats()["tokensIssued"], 0);
    assert!(requests(&home) >= 1);
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn a_state_from_another_graph_root_is_set_aside_and_a_full_sync_starts() {
    let Some(lab) = lab::lab() else {
        return;
    };
    let seed = seed(&lab, "syncroot", &[]);
    let group = uuid::Uuid::new_v4().to_string();
    let tail = &group[group.len() - 12..];
    let cn = format!("Watch Team_{tail}");
    let dir = tempfile::tempdir().unwrap();
    let extra = [
        "--interval",
        "2",
        "--cn-format",
        "display-name",
        "--state-dir",
        "state",
        "--journal-dir",
        "journal",
    ];
    let u = |i: usize| seed.users[i].1.to_ascii_lowercase();

    // First root: the group is created with u1 and the bookmark saved.
    let a = simulator(&seed, &group, SimConfig::default());
    let mut args = common_args(&lab, &a, &seed.target);
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut w = Watcher::start_with(&args, dir.path(), &[]);
    w.wait_line(&format!("create CN={cn}"), Duration::from_secs(60));
    let (code, lines) = w.stop();
    assert_eq!(code, 0, "{lines:#?}");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state/sync.json")).unwrap())
            .unwrap();
    assert_eq!(meta["graphRoot"], a.url(), "{meta}");
    drop(a);

    // Another root (another port) with the same tenant and one change already made there.
    let b = simulator(&seed, &group, SimConfig::default());
    let (st, _) = b.shared.call(
        "POST",
        &format!("/v1.0/groups/{group}/members/$ref"),
        Some(json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", seed.users[1].0)})),
    );
    assert_eq!(st, 204);
    let mut args = common_args(&lab, &b, &seed.target);
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut w = Watcher::start_with(&args, dir.path(), &[]);
    let started = w.wait_line("watching", Duration::from_secs(30));
    // The old bookmark is not resumed: a full reconciliation against the new root.
    w.wait_next("full reconciliation:", Duration::from_secs(60));
    let end = std::time::Instant::now() + Duration::from_secs(30);
    while groups(&lab, &seed.target)[&cn].0 != BTreeSet::from([u(0), u(1)]) {
        assert!(std::time::Instant::now() < end, "u2 never reached AD");
        std::thread::sleep(Duration::from_millis(250));
    }
    // And changes made after the restart follow by delta from the new root.
    let (st, _) = b.shared.call(
        "POST",
        &format!("/v1.0/groups/{group}/members/$ref"),
        Some(json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", seed.users[2].0)})),
    );
    assert_eq!(st, 204);
    let end = std::time::Instant::now() + Duration::from_secs(30);
    while groups(&lab, &seed.target)[&cn].0 != BTreeSet::from([u(0), u(1), u(2)]) {
        assert!(std::time::Instant::now() < end, "u3 never reached AD");
        std::thread::sleep(Duration::from_millis(250));
    }
    let (code, lines) = w.stop();
    assert_eq!(code, 0, "{started} {lines:#?}");
    let aside: Vec<String> = std::fs::read_dir(dir.path().join("state"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".set-aside-"))
        .collect();
    assert_eq!(
        aside.len(),
        2,
        "tenant.json and sync.json set aside: {aside:?}"
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state/sync.json")).unwrap())
            .unwrap();
    assert_eq!(meta["graphRoot"], b.url(), "{meta}");
    cleanup(&lab, &seed);
}
