//! A loopback TCP relay in front of the lab DC that cuts its first connection once a number
//! of bytes has gone through in one direction, and optionally refuses every later connection
//! (a crashed gwb that cannot reconnect), to interrupt an apply at chosen points.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub struct Relay {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
    /// Set once the first connection was cut.
    pub cut: Arc<AtomicBool>,
    /// Bytes relayed on the first connection: requests, answers.
    pub bytes: [Arc<AtomicUsize>; 2],
}

#[derive(Clone, Copy)]
pub enum Dir {
    /// Count requests (client to server).
    Requests,
    /// Count answers (server to client).
    Answers,
}

/// Relay 127.0.0.1:<port> to `upstream`. The first connection dies after `cut_after` bytes in
/// `dir`; later connections are relayed in full, or refused when `refuse_later`.
pub fn start(upstream: &'static str, dir: Dir, cut_after: usize, refuse_later: bool) -> Relay {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
    let port = listener.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let cut = Arc::new(AtomicBool::new(false));
    let (count, cut2) = (connections.clone(), cut.clone());
    let bytes = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    let (req_bytes, ans_bytes) = (bytes[0].clone(), bytes[1].clone());
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            let n = count.fetch_add(1, Ordering::SeqCst);
            if n > 0 && refuse_later {
                let _ = client.shutdown(Shutdown::Both);
                continue;
            }
            let Ok(server) = TcpStream::connect(upstream) else {
                break;
            };
            let limit = if n == 0 { Some(cut_after) } else { None };
            let (c2, s2) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            let (up, down) = match dir {
                Dir::Requests => (limit, None),
                Dir::Answers => (None, limit),
            };
            let (cut_a, cut_b) = (cut2.clone(), cut2.clone());
            let fresh = || Arc::new(AtomicUsize::new(0));
            let (ca, cb) = if n == 0 {
                (req_bytes.clone(), ans_bytes.clone())
            } else {
                (fresh(), fresh())
            };
            std::thread::spawn(move || pump(c2, s2, up, cut_a, ca));
            std::thread::spawn(move || pump(server, client, down, cut_b, cb));
        }
    });
    Relay {
        port,
        connections,
        cut,
        bytes,
    }
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    limit: Option<usize>,
    cut: Arc<AtomicBool>,
    count: Arc<AtomicUsize>,
) {
    let mut buf = [0u8; 4096];
    let mut total = 0usize;
    loop {
        let want = match limit {
            Some(l) => (l - total).min(buf.len()),
            None => buf.len(),
        };
        if want == 0 {
            cut.store(true, Ordering::SeqCst);
            break;
        }
        let n = match from.read(&mut buf[..want]) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        total += n;
        count.fetch_add(n, Ordering::SeqCst);
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
