//! Hostile HTTP servers on loopback: a token endpoint and a Graph API that echo the request
//! back (secrets, tokens), throttle with Retry-After, or cut their answers off. gwb must
//! retry by its one policy and never print a secret.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gwb::graph::auth::{Credential, TokenProvider, refresh_after};
use gwb::sim::{self, SimConfig, generate::GenSpec};

use crate::util::{fails, gwb};

const SECRET: &str = "Sx9~q+P/w=rd&echo-me";
const TOKEN: &str = "opaque-access-token-0123456789abcdef";

/// One parsed request: request line, headers, body.
struct Req {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_req(s: &mut TcpStream) -> Option<Req> {
    let mut r = BufReader::new(s.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut headers = Vec::new();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.to_string(), v.trim().to_string()));
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Req {
        line: line.trim_end().to_string(),
        headers,
        body,
    })
}

fn respond(s: &mut TcpStream, status: &str, extra: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
}

/// A server on loopback answering each request with `f(n, request)` (n counts from 0).
fn hostile(
    f: impl Fn(usize, &Req, &mut TcpStream) + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let Some(req) = read_req(&mut s) else {
                continue;
            };
            let n = c.fetch_add(1, Ordering::SeqCst);
            f(n, &req, &mut s);
        }
    });
    (url, count)
}

fn collect(url: &str, out: &std::path::Path) -> assert_cmd::Command {
    let mut c = gwb();
    c.env_remove("GWB_ACCESS_TOKEN")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST")
        .env("AZURE_CLIENT_SECRET", SECRET)
        .args(["-vvv", "collect", "--out"])
        .arg(out)
        .args([
            "--graph-url",
            url,
            "--tenant",
            "contoso.onmicrosoft.com",
            "--client-id",
            "11111111-2222-3333-4444-555555555555",
            "--max-attempts",
            "3",
        ]);
    c
}

fn assert_no_secret(text: &str) {
    let form: String = url_form(SECRET);
    for s in [SECRET, form.as_str(), TOKEN, "Sx9~q", "echo-me"] {
        assert!(!text.contains(s), "{s:?} printed:\n{text}");
    }
}

fn url_form(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[test]
fn token_endpoint_echoing_the_request_is_redacted_and_retried_after_retry_after() {
    // First a 429 with Retry-After: 1, then a 400 quoting the whole request body back.
    let (url, count) = hostile(|n, req, s| {
        if n == 0 {
            respond(s, "429 Too Many Requests", "retry-after: 1\r\n", b"{}");
            return;
        }
        let echoed = String::from_utf8_lossy(&req.body).into_owned();
        let body = serde_json::json!({
            "error": "invalid_client",
            "error_description": format!("AADSTS7000215: Invalid client secret provided. You sent: {echoed} (raw: {SECRET})"),
        });
        respond(s, "400 Bad Request", "", body.to_string().as_bytes());
    });
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let (out, err) = fails(collect(&url, dir.path()), 2);
    assert_no_secret(&err);
    assert!(
        err.contains("AADSTS7000215") && err.contains("[redacted]"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(count.load(Ordering::SeqCst), 2, "one retry after the 429");
    // Retry-After was honoured (a lower bound from sleeping, not a speed assertion).
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[test]
fn api_answer_quoting_the_bearer_token_is_redacted() {
    let (url, _) = hostile(|_, req, s| {
        if req.line.contains("/oauth2/v2.0/token") {
            let body = serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN});
            respond(s, "200 OK", "", body.to_string().as_bytes());
            return;
        }
        let auth = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let body = serde_json::json!({"error": {
            "code": format!("Forbidden {auth}"),
            "message": format!("Insufficient privileges. You sent: {auth}; token={TOKEN}; client_secret={SECRET}"),
        }});
        respond(s, "403 Forbidden", "", body.to_string().as_bytes());
    });
    let dir = tempfile::tempdir().unwrap();
    let out = collect(&url, dir.path())
        .assert()
        .failure()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_no_secret(&err);
    assert!(err.contains("Insufficient privileges"), "{err}");
    // Nothing the server said reached a file either.
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap_or_default();
        assert_no_secret(&text);
    }
}

#[test]
fn cut_off_and_non_utf8_answers_are_errors_not_panics() {
    let (url, count) = hostile(|n, req, s| {
        if req.line.contains("/oauth2/v2.0/token") {
            if n == 0 {
                // Announces 4000 bytes, sends 10, closes.
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n{\"access_",
                );
                return;
            }
            let body = serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN});
            respond(s, "200 OK", "", body.to_string().as_bytes());
            return;
        }
        // Graph answers 400 with a huge message, or with bytes that are not UTF-8.
        if req.line.contains("subscribedSkus") {
            respond(
                s,
                "400 Bad Request",
                "",
                b"{\"error\":{\"code\":\"Bad\xff\xfe\"}}",
            );
            return;
        }
        let mut body = b"{\"error\":{\"code\":\"Bad\",\"message\":\"".to_vec();
        body.extend(std::iter::repeat_n(b'x', 300_000));
        body.extend_from_slice(b"\"}}");
        respond(s, "400 Bad Request", "", &body);
    });
    let dir = tempfile::tempdir().unwrap();
    // Every section failed: the bundle says so and the run exits 3 (incomplete).
    let (_out, err) = fails(collect(&url, dir.path()), 3);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("300000 bytes in all"), "{err}");
    assert!(
        count.load(Ordering::SeqCst) >= 3,
        "the cut-off token answer was retried"
    );
    // A server's message is quoted as an excerpt, not in full.
    assert!(err.len() < 20_000, "{} bytes on stderr", err.len());
}

#[test]
fn token_refresh_follows_the_rule_whatever_the_machine_speed() {
    assert_eq!(
        refresh_after(Duration::from_secs(3599)),
        Duration::from_secs(3299)
    );
    assert_eq!(
        refresh_after(Duration::from_secs(60)),
        Duration::from_secs(30)
    );
    let s = sim::start(
        sim::generate::generate(&GenSpec {
            groups: 1,
            members: 1,
            seed: 1,
            big: 0,
        }),
        SimConfig::default(),
        0,
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let p = TokenProvider::new(
        reqwest::Client::new(),
        &s.url(),
        "contoso.onmicrosoft.com",
        &s.url(),
        Credential::Secret {
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            secret: secrecy::SecretString::from(SECRET.to_string()),
        },
    );
    let issued = || s.shared.stats()["tokensIssued"].as_u64().unwrap();
    rt.block_on(async {
        use secrecy::ExposeSecret;
        let t1 = p.token().await.unwrap().expose_secret().to_string();
        assert_eq!(issued(), 1);
        // Just before the refresh point: the cached token is used.
        p.advance_clock(Duration::from_secs(3299 - 1));
        let t2 = p.token().await.unwrap().expose_secret().to_string();
        assert_eq!((t1.as_str(), issued()), (t2.as_str(), 1));
        // Past it (still 5 minutes before expiry): a new token.
        p.advance_clock(Duration::from_secs(2));
        let t3 = p.token().await.unwrap().expose_secret().to_string();
        assert_ne!(t3, t1);
        assert_eq!(issued(), 2);
        // A 401 (revoked early) forgets the cache: the next call asks again.
        p.invalidate().await;
        p.token().await.unwrap();
        assert_eq!(issued(), 3);
    });
}

/// Drop what legitimately differs between two collections of the same tenant.
fn stable(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| *k != "collectedAt" && !k.ends_with("DeltaLink"))
                .map(|(k, v)| (k.clone(), stable(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(stable).collect()),
        other => other.clone(),
    }
}

#[test]
fn a_fault_at_every_request_position_leaves_the_bundle_identical() {
    use gwb::sim::Fault;
    let s = sim::start(
        // 45 groups (three $batch requests of members) and one group of 1,200 members
        // (two member pages): every kind of request a collection makes.
        sim::generate::generate(&GenSpec {
            groups: 45,
            members: 120,
            seed: 7,
            big: 1200,
        }),
        SimConfig {
            retry_after: 0,
            ..SimConfig::default()
        },
        0,
    )
    .unwrap();
    let run = |dir: &std::path::Path| {
        let out = gwb()
            .env_remove("GWB_ACCESS_TOKEN")
            .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
            .env_remove("AZURE_AUTHORITY_HOST")
            .env("AZURE_CLIENT_SECRET", SECRET)
            .args(["collect", "--out"])
            .arg(dir)
            .args([
                "--graph-url",
                &s.url(),
                "--tenant",
                "contoso.onmicrosoft.com",
                "--client-id",
                "11111111-2222-3333-4444-555555555555",
                "--concurrency",
                "1",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(dir.join("tenant.json")).unwrap();
        stable(&serde_json::from_str(&text).unwrap())
    };
    let base_dir = tempfile::tempdir().unwrap();
    s.shared.reset_stats();
    let baseline = run(base_dir.path());
    let n = s.shared.stats()["requests"].as_u64().unwrap();
    let items = s.shared.stats()["batchItems"].as_u64().unwrap();
    assert!(n >= 5 && items >= 40, "requests {n}, batch items {items}");
    for pos in 1..=n {
        for fault in Fault::ALL {
            s.shared.reset_stats();
            s.shared.with_config(|c| c.fault_at = vec![(pos, fault)]);
            let dir = tempfile::tempdir().unwrap();
            let got = run(dir.path());
            let stats = s.shared.stats();
            assert_eq!(
                stats["faults"]
                    .as_object()
                    .map(|m| m.values().filter_map(|v| v.as_u64()).sum::<u64>()),
                Some(1),
                "request {pos} got {fault:?}: {stats}"
            );
            assert!(
                got == baseline,
                "request {pos} of {n} faulted with {fault:?}: the bundle differs"
            );
        }
    }
    // Every batch item in turn (members of one group), answered 429 or 503.
    s.shared.with_config(|c| c.fault_at.clear());
    for pos in 1..=items {
        let status = if pos % 2 == 0 { 429 } else { 503 };
        s.shared.reset_stats();
        s.shared
            .with_config(|c| c.fault_item_at = vec![(pos, status)]);
        let dir = tempfile::tempdir().unwrap();
        let got = run(dir.path());
        let stats = s.shared.stats();
        assert_eq!(
            stats["faults"][format!("{status}-item")].as_u64(),
            Some(1),
            "item {pos}: {stats}"
        );
        assert!(
            got == baseline,
            "batch item {pos} of {items} answered {status}: the bundle differs"
        );
    }
}
