//! A loopback TCP relay in front of the lab DC that cuts its first connection after a number
//! of bytes from the server, to exercise gwb's reconnect-once behaviour.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Relay {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
}

/// Relay 127.0.0.1:<port> to `upstream`; the first connection dies after `cut_after` bytes
/// have come back from the server, later ones are relayed in full.
pub fn start(upstream: &'static str, cut_after: usize) -> Relay {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
    let port = listener.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            let n = count.fetch_add(1, Ordering::SeqCst);
            let Ok(server) = TcpStream::connect(upstream) else {
                break;
            };
            let limit = if n == 0 { Some(cut_after) } else { None };
            let (c2, s2) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            std::thread::spawn(move || pump(c2, s2, None));
            std::thread::spawn(move || pump(server, client, limit));
        }
    });
    Relay { port, connections }
}

fn pump(mut from: TcpStream, mut to: TcpStream, limit: Option<usize>) {
    let mut buf = [0u8; 4096];
    let mut total = 0usize;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        total += n;
        if limit.is_some_and(|l| total >= l) {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

/// A listener that accepts connections and never answers (a hung DC or a black-holing
/// firewall). Returns its port; connections are held until the process ends.
pub fn silent() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    port
}
