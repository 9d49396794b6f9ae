//! Hostile LDAP servers on loopback: diagnostics that are not UTF-8, servers that echo the
//! bind request (and so the password) back, truncated, oversized and malformed answers.
//! gwb must fail with a clear error (exit 2), never panic, hang or print the password.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gwb::ldap::ber::{Reader, push_tlv};

use crate::util::gwb;

const PASSWORD: &str = "hunter2-S3cret!pw";

/// What the fake DC does with each request.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Bind fails with a non-UTF-8 diagnostic that quotes the whole bind request.
    BindEchoNonUtf8,
    /// Bind succeeds; every search ends with rc 1 and a non-UTF-8 diagnostic echoing the request.
    SearchEchoNonUtf8,
    /// Bind succeeds; searches get half an entry and then the connection closes.
    Truncated,
    /// Bind succeeds; searches get a header announcing a 2 GiB message.
    Oversized,
    /// Bind succeeds; searches get an entry whose attribute list is not a SEQUENCE.
    Malformed,
    /// Bind answer claims a message id and a protocolOp that are not LDAP.
    Garbage,
}

fn read_message(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = [0u8; 2];
    s.read_exact(&mut head).ok()?;
    let mut len = usize::from(head[1]);
    let mut frame = head.to_vec();
    if head[1] & 0x80 != 0 {
        let n = usize::from(head[1] & 0x7f);
        let mut l = vec![0u8; n];
        s.read_exact(&mut l).ok()?;
        frame.extend_from_slice(&l);
        len = l.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b));
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    frame.extend_from_slice(&body);
    Some(frame)
}

/// (message id, protocolOp application tag) of a request.
fn parse_request(frame: &[u8]) -> (u8, u64) {
    let mut r = Reader::new(frame);
    let seq = r.next_tlv().unwrap();
    let mut inner = Reader::nested_in(&seq);
    let id = inner.next_tlv().unwrap().contents[0];
    let op = inner.next_tlv().unwrap();
    (id, op.tag)
}

fn message(id: u8, op_ident: u8, op: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    push_tlv(&mut m, 0x02, &[id]);
    push_tlv(&mut m, op_ident, op);
    let mut out = Vec::new();
    push_tlv(&mut out, 0x30, &m);
    out
}

fn result(rc: u8, diag: &[u8]) -> Vec<u8> {
    let mut r = Vec::new();
    push_tlv(&mut r, 0x0A, &[rc]);
    push_tlv(&mut r, 0x04, b"");
    push_tlv(&mut r, 0x04, diag);
    r
}

fn non_utf8_echo(request: &[u8]) -> Vec<u8> {
    let mut d = b"80090308: LdapErr: DSID-0C09041C \xff\xfe\xc3\x28 you sent: ".to_vec();
    d.extend_from_slice(request);
    d
}

fn serve(mode: Mode) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let conns = Arc::new(AtomicUsize::new(0));
    let c = conns.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            c.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || handle(mode, &mut s));
        }
    });
    (port, conns)
}

fn handle(mode: Mode, s: &mut TcpStream) {
    while let Some(req) = read_message(s) {
        let (id, op) = parse_request(&req);
        let reply = match (op, mode) {
            (2, _) => return, // unbind
            (0, Mode::BindEchoNonUtf8) => message(id, 0x61, &result(49, &non_utf8_echo(&req))),
            (0, Mode::Garbage) => b"\x30\x06\x02\x01\x01\x04\x01\xff".to_vec(),
            (0, _) => message(id, 0x61, &result(0, b"")),
            (3, Mode::SearchEchoNonUtf8) => message(id, 0x65, &result(1, &non_utf8_echo(&req))),
            (3, Mode::Truncated) => {
                let mut entry = Vec::new();
                push_tlv(&mut entry, 0x04, b"CN=x,DC=lab");
                push_tlv(&mut entry, 0x30, &[0x30; 200]);
                let full = message(id, 0x64, &entry);
                let _ = s.write_all(&full[..full.len() / 2]);
                return;
            }
            (3, Mode::Oversized) => {
                let _ = s.write_all(&[0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01]);
                std::thread::sleep(std::time::Duration::from_secs(30));
                return;
            }
            (3, Mode::Malformed) => {
                let mut entry = Vec::new();
                push_tlv(&mut entry, 0x04, b"CN=x,DC=lab");
                push_tlv(&mut entry, 0x04, b"not a sequence");
                let mut out = message(id, 0x64, &entry);
                out.extend(message(id, 0x65, &result(0, b"")));
                out
            }
            _ => message(id, 0x65, &result(53, b"unwilling")),
        };
        if s.write_all(&reply).is_err() {
            return;
        }
    }
}

fn run(mode: Mode) -> (i32, String, Vec<u8>) {
    let (port, _) = serve(mode);
    let dir = tempfile::tempdir().unwrap();
    let out = gwb()
        .env("GWB_LDAP_PASSWORD", PASSWORD)
        .env_remove("GWB_LDAP_URL")
        .args(["-vvv", "collect", "--out"])
        .arg(dir.path())
        .args([
            "--ldap-url",
            &format!("ldap://127.0.0.1:{port}"),
            "--bind-dn",
            "CN=svc,DC=lab,DC=example",
            "--allow-insecure-bind",
            "--ldap-timeout",
            "5",
        ])
        .env("RUST_BACKTRACE", "1")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.stdout,
    )
}

fn assert_clean_failure(mode: Mode, must_mention: &str) {
    let (code, err, stdout) = run(mode);
    assert_eq!(code, 2, "{mode:?}: {err}");
    assert!(!err.contains("panicked"), "{mode:?}: {err}");
    assert!(!err.contains(PASSWORD), "{mode:?}: password printed: {err}");
    // Not as decimal bytes either ("h" "u" "n" = 104, 117, 110).
    assert!(!err.contains("104, 117, 110"), "{mode:?}: {err}");
    assert!(!err.contains("S3cret"), "{mode:?}: {err}");
    assert!(
        err.to_lowercase().contains(&must_mention.to_lowercase()),
        "{mode:?}: expected {must_mention:?} in: {err}"
    );
    assert!(stdout.is_empty(), "{mode:?}: stdout not empty");
}

#[test]
fn bind_answer_with_non_utf8_diagnostic_echoing_the_password() {
    assert_clean_failure(Mode::BindEchoNonUtf8, "invalidCredentials");
}

#[test]
fn search_answer_with_non_utf8_diagnostic_echoing_the_request() {
    assert_clean_failure(Mode::SearchEchoNonUtf8, "operationsError");
}

#[test]
fn truncated_oversized_malformed_and_garbage_answers() {
    assert_clean_failure(Mode::Truncated, "connection");
    assert_clean_failure(Mode::Oversized, "limit");
    assert_clean_failure(Mode::Malformed, "attribute list");
    assert_clean_failure(Mode::Garbage, "not valid LDAP");
}
