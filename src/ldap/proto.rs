//! gwb's own LDAP message layer (RFC 4511) under [`super::conn::Conn`]: one request path that
//! encodes every request gwb sends (bind, search, add, modify, modify DN, delete, StartTLS)
//! and decodes every response with the defensive BER reader in [`super::ber`]. Nothing a
//! server sends can panic it: malformed BER is an error naming the byte offset, a message
//! larger than [`MAX_MESSAGE`] is refused before it is buffered, and texts (matchedDN,
//! diagnosticMessage) are decoded lossily, redacted ([`crate::redact`]) and cut to a readable
//! length. The handle keeps ldap3's method names and result types (`LdapResult`,
//! `LdapError`, `Mod`, `Scope`), so callers read like ldap3 code.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use ldap3::controls::{Control, RawControl};
use ldap3::{LdapError, LdapResult, Mod, Scope};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ber::{self, BerError, Reader, Tlv};
use crate::ad::ldif::Entry;

/// Largest LDAP message gwb accepts from a server (64 MiB: far above any entry AD returns,
/// which caps attribute values per answer with ranged retrieval).
pub const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// StartTLS extended operation (RFC 4511 §4.14).
pub const OID_STARTTLS: &str = "1.3.6.1.4.1.1466.20037";

trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

/// How to reach the server.
pub struct ConnectOpts<'a> {
    pub url: &'a url::Url,
    pub host: &'a str,
    pub starttls: bool,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub timeout: Duration,
}

/// What a search returned: the entries (references and intermediate responses are skipped),
/// the final result and its controls.
#[derive(Debug, Default)]
pub struct SearchOutcome {
    pub entries: Vec<Entry>,
    pub result: Option<LdapResult>,
}

/// A connection speaking LDAP. Methods mirror ldap3's `Ldap`.
pub struct Ldap {
    stream: Option<Box<dyn Io>>,
    rbuf: Vec<u8>,
    next_id: i64,
    timeout: Option<Duration>,
    controls: Vec<RawControl>,
    pub has_tls: bool,
    /// SHA-256 of the DC's TLS certificate (RFC 5929 tls-server-end-point), for GSSAPI
    /// channel binding.
    pub tls_endpoint: Option<Vec<u8>>,
}

fn protocol_error(msg: impl Into<String>) -> LdapError {
    LdapError::Io {
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into()),
    }
}

fn ber_error(e: BerError) -> LdapError {
    not_ldap(e)
}

fn not_ldap(msg: impl std::fmt::Display) -> LdapError {
    protocol_error(format!("the server's answer is not valid LDAP: {msg}"))
}

/// One decoded LDAPMessage.
struct Msg {
    id: i64,
    /// Application tag number of the protocolOp.
    op: u64,
    body: Vec<u8>,
    controls: Vec<RawControl>,
}

impl Ldap {
    /// Open the TCP connection, then TLS for ldaps:// or after StartTLS.
    pub async fn connect(o: ConnectOpts<'_>) -> Result<Ldap, LdapError> {
        let tls_now = o.url.scheme() == "ldaps";
        let port = o.url.port().unwrap_or(if tls_now { 636 } else { 389 });
        let tcp = match tokio::time::timeout(o.timeout, TcpStream::connect((o.host, port))).await {
            Ok(r) => r.map_err(|source| LdapError::Io { source })?,
            Err(elapsed) => return Err(LdapError::Timeout { elapsed }),
        };
        let _ = tcp.set_nodelay(true);
        let mut ldap = Ldap {
            stream: Some(Box::new(tcp)),
            rbuf: Vec::new(),
            next_id: 1,
            timeout: Some(o.timeout),
            controls: Vec::new(),
            has_tls: false,
            tls_endpoint: None,
        };
        if !tls_now && !o.starttls {
            return Ok(ldap);
        }
        if o.starttls {
            let mut body = Vec::new();
            ber::push_tlv(&mut body, 0x80, OID_STARTTLS.as_bytes());
            let res = ldap.call(0x77, &body, 24).await?;
            if res.rc != 0 {
                return Err(LdapError::LdapResult { result: res });
            }
            if !ldap.rbuf.is_empty() {
                return Err(protocol_error("data after the StartTLS answer"));
            }
        }
        let config = o
            .tls
            .ok_or_else(|| protocol_error("TLS requested without a TLS configuration"))?;
        let name = rustls_pki_types::ServerName::try_from(o.host.to_string())
            .map_err(|e| protocol_error(format!("{:?} is not a TLS server name: {e}", o.host)))?;
        let Some(stream) = ldap.stream.take() else {
            return Err(LdapError::EndOfStream);
        };
        let connector = tokio_rustls::TlsConnector::from(config);
        let tls = match tokio::time::timeout(o.timeout, connector.connect(name, stream)).await {
            Ok(r) => r.map_err(|source| LdapError::Io { source })?,
            Err(elapsed) => return Err(LdapError::Timeout { elapsed }),
        };
        ldap.tls_endpoint = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|leaf| {
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, leaf)
                    .as_ref()
                    .to_vec()
            });
        ldap.stream = Some(Box::new(tls));
        ldap.has_tls = true;
        Ok(ldap)
    }

    /// The timeout for the next operation (ldap3 style).
    pub fn with_timeout(&mut self, d: Duration) -> &mut Self {
        self.timeout = Some(d);
        self
    }

    /// Request controls for the next operation (ldap3 style).
    pub fn with_controls(&mut self, ctrls: Vec<RawControl>) -> &mut Self {
        self.controls = ctrls;
        self
    }

    /// Simple bind (RFC 4513 §5.1).
    pub async fn simple_bind(
        &mut self,
        name: &str,
        password: &str,
    ) -> Result<LdapResult, LdapError> {
        let mut body = Vec::new();
        ber::push_tlv(&mut body, 0x02, &[3]);
        ber::push_tlv(&mut body, 0x04, name.as_bytes());
        ber::push_tlv(&mut body, 0x80, password.as_bytes());
        self.call(0x60, &body, 1).await
    }

    /// SASL bind step; returns the result and the server's credentials.
    pub async fn sasl_bind(
        &mut self,
        mech: &str,
        creds: Option<&[u8]>,
    ) -> Result<(LdapResult, Option<Vec<u8>>), LdapError> {
        let mut sasl = Vec::new();
        ber::push_tlv(&mut sasl, 0x04, mech.as_bytes());
        if let Some(c) = creds {
            ber::push_tlv(&mut sasl, 0x04, c);
        }
        let mut body = Vec::new();
        ber::push_tlv(&mut body, 0x02, &[3]);
        ber::push_tlv(&mut body, 0x04, b"");
        ber::push_tlv(&mut body, 0xA3, &sasl);
        let (res, extra) = self.call_ext(0x60, &body, 1).await?;
        Ok((res, extra.sasl_creds))
    }

    /// Search; entries are decoded defensively into [`Entry`] values.
    pub async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: Vec<&str>,
    ) -> Result<SearchOutcome, LdapError> {
        let filter_tag = ldap3::parse_filter(filter).map_err(|()| LdapError::FilterParsing)?;
        let mut body = Vec::new();
        ber::push_tlv(&mut body, 0x04, base.as_bytes());
        ber::push_tlv(&mut body, 0x0A, &[scope as u8]);
        ber::push_tlv(&mut body, 0x0A, &[0]); // derefAliases: never
        ber::push_tlv(&mut body, 0x02, &[0]); // sizeLimit
        ber::push_tlv(&mut body, 0x02, &[0]); // timeLimit
        ber::push_tlv(&mut body, 0x01, &[0]); // typesOnly
        {
            use ldap3::asn1::ASNTag;
            encode_structure(&mut body, &filter_tag.into_structure());
        }
        let mut list = Vec::new();
        for a in attrs {
            ber::push_tlv(&mut list, 0x04, a.as_bytes());
        }
        ber::push_tlv(&mut body, 0x30, &list);
        let timeout = self.timeout.take();
        let fut = async {
            let id = self.send(0x63, &body).await?;
            let mut out = SearchOutcome::default();
            loop {
                let m = self.recv_for(id).await?;
                match m.op {
                    4 => out
                        .entries
                        .push(ber::entry_from_raw(&m.body).map_err(ber_error)?),
                    19 | 25 => {}
                    5 => {
                        let (mut r, _) = parse_result(&m.body)?;
                        r.ctrls = m.controls.into_iter().map(|c| Control(None, c)).collect();
                        out.result = Some(r);
                        return Ok(out);
                    }
                    other => {
                        return Err(not_ldap(format!(
                            "unexpected answer (application tag {other}) to a search"
                        )));
                    }
                }
            }
        };
        let r = match timeout {
            Some(d) => match tokio::time::timeout(d, fut).await {
                Ok(r) => r,
                Err(elapsed) => Err(LdapError::Timeout { elapsed }),
            },
            None => fut.await,
        };
        if r.is_err() {
            self.poison();
        }
        r
    }

    /// Add an entry (ldap3's signature).
    pub async fn add<S: AsRef<[u8]> + Eq + Hash>(
        &mut self,
        dn: &str,
        attrs: Vec<(S, HashSet<S>)>,
    ) -> Result<LdapResult, LdapError> {
        let r = add_request(dn, &attrs);
        self.call(r.ident, &r.body, r.want).await
    }

    /// Send every request before reading any answer (LDAP allows several outstanding
    /// operations on one connection, RFC 4511 §4.1.1.1), then read the answers, matched by
    /// message id: the round trips and the client's work overlap the server's. Each answer
    /// waits at most the operation timeout after the previous one. Returns one result per
    /// request in order (`None`: not answered) and the transport error that ended the
    /// connection, if one did.
    pub async fn call_pipelined(
        &mut self,
        reqs: &[Request],
    ) -> (Vec<Option<LdapResult>>, Option<LdapError>) {
        let timeout = self.timeout.take();
        let mut out: Vec<Option<LdapResult>> = (0..reqs.len()).map(|_| None).collect();
        let mut index: std::collections::HashMap<i64, usize> =
            std::collections::HashMap::with_capacity(reqs.len());
        let mut framed = Vec::new();
        for (i, r) in reqs.iter().enumerate() {
            let mut op = Vec::with_capacity(r.body.len() + 8);
            ber::push_tlv(&mut op, r.ident, &r.body);
            let (id, bytes) = self.frame(op);
            framed.extend(bytes);
            index.insert(id, i);
        }
        let err = async {
            let Some(stream) = self.stream.as_mut() else {
                return Some(LdapError::EndOfStream);
            };
            let sent = async {
                stream.write_all(&framed).await?;
                stream.flush().await
            };
            let sent = match timeout {
                Some(d) => match tokio::time::timeout(d, sent).await {
                    Ok(r) => r.map_err(|source| LdapError::Io { source }),
                    Err(elapsed) => Err(LdapError::Timeout { elapsed }),
                },
                None => sent.await.map_err(|source| LdapError::Io { source }),
            };
            if let Err(e) = sent {
                return Some(e);
            }
            let mut left = reqs.len();
            while left > 0 {
                let m = match timeout {
                    Some(d) => match tokio::time::timeout(d, self.recv()).await {
                        Ok(r) => r,
                        Err(elapsed) => Err(LdapError::Timeout { elapsed }),
                    },
                    None => self.recv().await,
                };
                let m = match m {
                    Ok(m) => m,
                    Err(e) => return Some(e),
                };
                if m.id == 0 {
                    let text = parse_result(&m.body)
                        .map(|(r, _)| r.text)
                        .unwrap_or_default();
                    tracing::debug!("the DC sent an unsolicited notification: {text}");
                    return Some(LdapError::EndOfStream);
                }
                // Answers to earlier, abandoned requests are skipped.
                let Some(i) = index.remove(&m.id) else {
                    continue;
                };
                if m.op != reqs[i].want {
                    return Some(not_ldap(format!(
                        "expected answer tag {}, the server sent application tag {}",
                        reqs[i].want, m.op
                    )));
                }
                match parse_result(&m.body) {
                    Ok((mut r, _)) => {
                        r.ctrls = m.controls.into_iter().map(|c| Control(None, c)).collect();
                        out[i] = Some(r);
                    }
                    Err(e) => return Some(e),
                }
                left -= 1;
            }
            None
        }
        .await;
        if err.is_some() {
            self.poison();
        }
        (out, err)
    }

    /// Modify an entry (ldap3's signature; `Mod::Increment` is sent as RFC 4525 increment).
    pub async fn modify<S: AsRef<[u8]> + Eq + Hash>(
        &mut self,
        dn: &str,
        mods: Vec<Mod<S>>,
    ) -> Result<LdapResult, LdapError> {
        let mut changes = Vec::new();
        for m in &mods {
            let (op, pa) = match m {
                Mod::Add(n, v) => (
                    0u8,
                    partial_attribute(n.as_ref(), v.iter().map(AsRef::as_ref)),
                ),
                Mod::Delete(n, v) => (
                    1,
                    partial_attribute(n.as_ref(), v.iter().map(AsRef::as_ref)),
                ),
                Mod::Replace(n, v) => (
                    2,
                    partial_attribute(n.as_ref(), v.iter().map(AsRef::as_ref)),
                ),
                Mod::Increment(n, v) => {
                    (3, partial_attribute(n.as_ref(), [v.as_ref()].into_iter()))
                }
            };
            let mut change = Vec::new();
            ber::push_tlv(&mut change, 0x0A, &[op]);
            change.extend(pa);
            ber::push_tlv(&mut changes, 0x30, &change);
        }
        let mut body = Vec::new();
        ber::push_tlv(&mut body, 0x04, dn.as_bytes());
        ber::push_tlv(&mut body, 0x30, &changes);
        self.call(0x66, &body, 7).await
    }

    /// Rename and/or move an entry (ldap3's signature).
    pub async fn modifydn(
        &mut self,
        dn: &str,
        rdn: &str,
        delete_old: bool,
        new_sup: Option<&str>,
    ) -> Result<LdapResult, LdapError> {
        let mut body = Vec::new();
        ber::push_tlv(&mut body, 0x04, dn.as_bytes());
        ber::push_tlv(&mut body, 0x04, rdn.as_bytes());
        ber::push_tlv(&mut body, 0x01, &[if delete_old { 0xFF } else { 0 }]);
        if let Some(s) = new_sup {
            ber::push_tlv(&mut body, 0x80, s.as_bytes());
        }
        self.call(0x6C, &body, 13).await
    }

    /// Delete an entry (DelRequest is primitive: its contents are the DN).
    pub async fn delete(&mut self, dn: &str) -> Result<LdapResult, LdapError> {
        self.call(0x4A, dn.as_bytes(), 11).await
    }

    /// Say goodbye (best effort).
    pub async fn unbind(&mut self) {
        let _ = self.send(0x42, &[]).await;
        self.poison();
    }

    fn poison(&mut self) {
        self.stream = None;
        self.rbuf.clear();
    }

    async fn call(&mut self, ident: u8, body: &[u8], want: u64) -> Result<LdapResult, LdapError> {
        Ok(self.call_ext(ident, body, want).await?.0)
    }

    /// Send one request and read its single answer (tag `want`), under the operation timeout.
    async fn call_ext(
        &mut self,
        ident: u8,
        body: &[u8],
        want: u64,
    ) -> Result<(LdapResult, Extra), LdapError> {
        let timeout = self.timeout.take();
        let fut = async {
            let id = self.send(ident, body).await?;
            let m = self.recv_for(id).await?;
            if m.op != want {
                return Err(not_ldap(format!(
                    "expected answer tag {want}, the server sent application tag {}",
                    m.op
                )));
            }
            let (mut r, extra) = parse_result(&m.body)?;
            r.ctrls = m.controls.into_iter().map(|c| Control(None, c)).collect();
            Ok((r, extra))
        };
        let r = match timeout {
            Some(d) => match tokio::time::timeout(d, fut).await {
                Ok(r) => r,
                Err(elapsed) => Err(LdapError::Timeout { elapsed }),
            },
            None => fut.await,
        };
        if matches!(&r, Err(e) if !matches!(e, LdapError::LdapResult { .. })) {
            self.poison();
        }
        r
    }

    async fn send(&mut self, ident: u8, body: &[u8]) -> Result<i64, LdapError> {
        let mut op = Vec::with_capacity(body.len() + 8);
        ber::push_tlv(&mut op, ident, body);
        self.send_op(op).await
    }

    async fn send_op(&mut self, op: Vec<u8>) -> Result<i64, LdapError> {
        let (id, framed) = self.frame(op);
        let Some(stream) = self.stream.as_mut() else {
            return Err(LdapError::EndOfStream);
        };
        stream
            .write_all(&framed)
            .await
            .map_err(|source| LdapError::Io { source })?;
        stream
            .flush()
            .await
            .map_err(|source| LdapError::Io { source })?;
        Ok(id)
    }

    /// One LDAPMessage around `op`, with the next message id and the pending controls.
    fn frame(&mut self, op: Vec<u8>) -> (i64, Vec<u8>) {
        let id = self.next_id;
        self.next_id = if self.next_id >= i64::from(i32::MAX) {
            1
        } else {
            self.next_id + 1
        };
        let mut msg = Vec::with_capacity(op.len() + 32);
        ber::push_tlv(&mut msg, 0x02, &ber::encode_int(id));
        msg.extend(op);
        let ctrls = std::mem::take(&mut self.controls);
        if !ctrls.is_empty() {
            let mut list = Vec::new();
            for c in ctrls {
                let mut one = Vec::new();
                ber::push_tlv(&mut one, 0x04, c.ctype.as_bytes());
                if c.crit {
                    ber::push_tlv(&mut one, 0x01, &[0xFF]);
                }
                if let Some(v) = &c.val {
                    ber::push_tlv(&mut one, 0x04, v);
                }
                ber::push_tlv(&mut list, 0x30, &one);
            }
            ber::push_tlv(&mut msg, 0xA0, &list);
        }
        let mut framed = Vec::with_capacity(msg.len() + 8);
        ber::push_tlv(&mut framed, 0x30, &msg);
        (id, framed)
    }

    /// Read messages until one for `id` arrives. Answers to earlier, abandoned requests are
    /// skipped; an unsolicited notification (id 0, e.g. Notice of Disconnection) ends the
    /// connection.
    async fn recv_for(&mut self, id: i64) -> Result<Msg, LdapError> {
        loop {
            let m = self.recv().await?;
            if m.id == id {
                return Ok(m);
            }
            if m.id == 0 {
                let text = parse_result(&m.body)
                    .map(|(r, _)| r.text)
                    .unwrap_or_default();
                tracing::debug!("the DC sent an unsolicited notification: {text}");
                self.poison();
                return Err(LdapError::EndOfStream);
            }
        }
    }

    /// Read one whole LDAPMessage, bounded by [`MAX_MESSAGE`].
    async fn recv(&mut self) -> Result<Msg, LdapError> {
        loop {
            if let Some(len) = frame_len(&self.rbuf)? {
                if len > MAX_MESSAGE {
                    return Err(protocol_error(format!(
                        "the server announced a {len}-byte message, larger than the {MAX_MESSAGE}-byte limit"
                    )));
                }
                if self.rbuf.len() >= len {
                    let rest = self.rbuf.split_off(len);
                    let frame = std::mem::replace(&mut self.rbuf, rest);
                    return decode_message(&frame);
                }
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<(), LdapError> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(LdapError::EndOfStream);
        };
        let mut chunk = [0u8; 16 * 1024];
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|source| LdapError::Io { source })?;
        if n == 0 {
            return Err(LdapError::EndOfStream);
        }
        self.rbuf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// One encoded request for [`Ldap::call_pipelined`]: the protocolOp's tag, its contents, and
/// the application tag of its answer.
#[derive(Debug, Clone)]
pub struct Request {
    pub ident: u8,
    pub body: Vec<u8>,
    pub want: u64,
}

/// An AddRequest (RFC 4511 §4.7).
pub fn add_request<S: AsRef<[u8]> + Eq + Hash>(dn: &str, attrs: &[(S, HashSet<S>)]) -> Request {
    let mut list = Vec::new();
    for (name, vals) in attrs {
        list.extend(partial_attribute(
            name.as_ref(),
            vals.iter().map(AsRef::as_ref),
        ));
    }
    let mut body = Vec::new();
    ber::push_tlv(&mut body, 0x04, dn.as_bytes());
    ber::push_tlv(&mut body, 0x30, &list);
    Request {
        ident: 0x68,
        body,
        want: 9,
    }
}

/// What some results carry besides the LDAPResult.
#[derive(Debug, Default)]
struct Extra {
    sasl_creds: Option<Vec<u8>>,
}

/// Total length of the first LDAPMessage in `buf` (header included), `None` while the header
/// is incomplete.
fn frame_len(buf: &[u8]) -> Result<Option<usize>, LdapError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first != 0x30 {
        return Err(not_ldap(format!(
            "an LDAP message starts with 0x30, the server sent 0x{first:02x}"
        )));
    }
    let Some(&l) = buf.get(1) else {
        return Ok(None);
    };
    if l & 0x80 == 0 {
        return Ok(Some(2 + usize::from(l)));
    }
    let n = usize::from(l & 0x7f);
    if n == 0 || n > 4 {
        return Err(not_ldap(format!(
            "unsupported BER length form 0x{l:02x} in an LDAP message"
        )));
    }
    if buf.len() < 2 + n {
        return Ok(None);
    }
    let mut len = 0usize;
    for &b in &buf[2..2 + n] {
        len = (len << 8) | usize::from(b);
    }
    Ok(Some(2 + n + len))
}

fn decode_message(frame: &[u8]) -> Result<Msg, LdapError> {
    let mut r = Reader::new(frame);
    let seq = r
        .expect_universal(16, "LDAPMessage SEQUENCE")
        .map_err(ber_error)?;
    let mut inner = Reader::nested_in(&seq);
    let id = ber::integer(&inner.expect_universal(2, "messageID").map_err(ber_error)?)
        .map_err(ber_error)?;
    let op = inner.next_tlv().map_err(ber_error)?;
    if op.class != 1 {
        return Err(not_ldap(format!(
            "protocolOp at byte {} is not an application tag",
            op.offset
        )));
    }
    let mut controls = Vec::new();
    while !inner.is_empty() {
        let t = inner.next_tlv().map_err(ber_error)?;
        // [0] Controls; anything else (AD puts the notice OID here) is ignored.
        if t.class == 2 && t.tag == 0 && t.constructed {
            controls = parse_controls(&t).map_err(ber_error)?;
        }
    }
    Ok(Msg {
        id,
        op: op.tag,
        body: op.contents.to_vec(),
        controls,
    })
}

fn parse_controls(t: &Tlv<'_>) -> Result<Vec<RawControl>, BerError> {
    let mut out = Vec::new();
    let mut r = Reader::nested_in(t);
    while !r.is_empty() {
        let c = r.expect_universal(16, "Control")?;
        let mut cr = Reader::nested_in(&c);
        let ctype =
            String::from_utf8_lossy(cr.expect_universal(4, "controlType")?.contents).into_owned();
        let mut crit = false;
        let mut val = None;
        while !cr.is_empty() {
            let x = cr.next_tlv()?;
            match (x.class, x.tag) {
                (0, 1) => crit = x.contents.first().is_some_and(|&b| b != 0),
                (0, 4) => val = Some(x.contents.to_vec()),
                _ => {}
            }
        }
        out.push(RawControl { ctype, crit, val });
    }
    Ok(out)
}

/// Text the server sent: lossy UTF-8, NULs dropped, redacted, bounded.
pub fn server_text(bytes: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(bytes);
    let clean: String = lossy.chars().filter(|&c| c != '\0').collect();
    crate::text::server_message(clean.trim())
}

/// LDAPResult ::= SEQUENCE { resultCode, matchedDN, diagnosticMessage, referral [3] OPTIONAL }
/// plus BindResponse's serverSaslCreds [7] and ExtendedResponse's [10]/[11].
fn parse_result(body: &[u8]) -> Result<(LdapResult, Extra), LdapError> {
    let mut r = Reader::new(body);
    let rc_tlv = r.expect_universal(10, "resultCode").map_err(ber_error)?;
    let rc = ber::integer(&rc_tlv).map_err(ber_error)?;
    let rc = u32::try_from(rc).map_err(|_| protocol_error(format!("result code {rc}")))?;
    let mut matched = String::new();
    let mut text = String::new();
    if !r.is_empty() {
        matched = server_text(
            r.expect_universal(4, "matchedDN")
                .map_err(ber_error)?
                .contents,
        );
    }
    if !r.is_empty() {
        text = server_text(
            r.expect_universal(4, "diagnosticMessage")
                .map_err(ber_error)?
                .contents,
        );
    }
    let mut refs = Vec::new();
    let mut extra = Extra::default();
    while !r.is_empty() {
        let t = r.next_tlv().map_err(ber_error)?;
        match (t.class, t.tag) {
            (2, 3) => {
                let mut rr = Reader::nested_in(&t);
                while !rr.is_empty() {
                    let u = rr.next_tlv().map_err(ber_error)?;
                    refs.push(server_text(u.contents));
                }
            }
            (2, 7) => extra.sasl_creds = Some(t.contents.to_vec()),
            _ => {}
        }
    }
    Ok((
        LdapResult {
            rc,
            matched,
            text,
            refs,
            ctrls: Vec::new(),
        },
        extra,
    ))
}

fn partial_attribute<'v>(name: &[u8], vals: impl Iterator<Item = &'v [u8]>) -> Vec<u8> {
    let mut set = Vec::new();
    for v in vals {
        ber::push_tlv(&mut set, 0x04, v);
    }
    let mut pa = Vec::new();
    ber::push_tlv(&mut pa, 0x04, name);
    ber::push_tlv(&mut pa, 0x31, &set);
    let mut out = Vec::new();
    ber::push_tlv(&mut out, 0x30, &pa);
    out
}

/// BER-encode an lber structure (the parsed search filter).
fn encode_structure(out: &mut Vec<u8>, t: &ldap3::asn1::StructureTag) {
    use ldap3::asn1::{PL, TagClass};
    let class = match t.class {
        TagClass::Universal => 0u8,
        TagClass::Application => 0x40,
        TagClass::Context => 0x80,
        TagClass::Private => 0xC0,
    };
    // Filter tags are all below 31.
    let id = u8::try_from(t.id.min(30)).unwrap_or(30);
    match &t.payload {
        PL::P(bytes) => ber::push_tlv(out, class | id, bytes),
        PL::C(children) => {
            let mut inner = Vec::new();
            for c in children {
                encode_structure(&mut inner, c);
            }
            ber::push_tlv(out, class | 0x20 | id, &inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: u8, op: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        ber::push_tlv(&mut m, 0x02, &[id]);
        m.extend_from_slice(op);
        let mut out = Vec::new();
        ber::push_tlv(&mut out, 0x30, &m);
        out
    }

    #[test]
    fn results_with_hostile_texts_decode() {
        let mut res = Vec::new();
        ber::push_tlv(&mut res, 0x0A, &[49]);
        ber::push_tlv(&mut res, 0x04, b"\xff\xfe");
        ber::push_tlv(&mut res, 0x04, b"80090308: LdapErr \xc3\x28 data 52e\0");
        let mut op = Vec::new();
        ber::push_tlv(&mut op, 0x61, &res);
        let m = decode_message(&message(1, &op)).unwrap();
        assert_eq!((m.id, m.op), (1, 1));
        let (r, _) = parse_result(&m.body).unwrap();
        assert_eq!(r.rc, 49);
        assert_eq!(r.matched, "\u{FFFD}\u{FFFD}");
        assert!(
            r.text.contains("data 52e") && r.text.contains('\u{FFFD}'),
            "{}",
            r.text
        );
        // Truncated and oversized frames are errors, never panics.
        let whole = message(1, &op);
        for cut in 0..whole.len() {
            let _ = decode_message(&whole[..cut]);
            let _ = frame_len(&whole[..cut]);
        }
        assert!(
            frame_len(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff])
                .unwrap()
                .unwrap()
                > MAX_MESSAGE
        );
        assert!(frame_len(&[0x04, 0x00]).is_err());
        assert!(parse_result(&[]).is_err());
    }

    /// Pipelined requests: all sent before any answer is read; answers arriving out of order
    /// (and one for an unknown id) are matched by message id.
    #[tokio::test]
    async fn pipelined_answers_are_matched_by_message_id() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut ids = Vec::new();
            while ids.len() < 3 {
                let mut chunk = [0u8; 4096];
                let n = sock.read(&mut chunk).await.unwrap();
                assert!(n > 0, "the client closed early");
                buf.extend_from_slice(&chunk[..n]);
                while let Some(len) = frame_len(&buf).unwrap() {
                    if buf.len() < len {
                        break;
                    }
                    let rest = buf.split_off(len);
                    let m = decode_message(&buf).unwrap();
                    assert_eq!(m.op, 8, "an AddRequest");
                    ids.push(m.id as u8);
                    buf = rest;
                }
            }
            let answer = |id: u8, rc: u8| {
                let mut res = Vec::new();
                ber::push_tlv(&mut res, 0x0A, &[rc]);
                ber::push_tlv(&mut res, 0x04, b"");
                ber::push_tlv(&mut res, 0x04, b"");
                let mut op = Vec::new();
                ber::push_tlv(&mut op, 0x69, &res);
                message(id, &op)
            };
            let mut out = answer(99, 0);
            for (id, rc) in [(ids[2], 0), (ids[0], 68), (ids[1], 0)] {
                out.extend(answer(id, rc));
            }
            sock.write_all(&out).await.unwrap();
            sock.flush().await.unwrap();
            ids
        });
        let url = url::Url::parse(&format!("ldap://127.0.0.1:{port}")).unwrap();
        let mut ldap = Ldap::connect(ConnectOpts {
            url: &url,
            host: "127.0.0.1",
            starttls: false,
            tls: None,
            timeout: Duration::from_secs(10),
        })
        .await
        .unwrap();
        let reqs: Vec<Request> = (0..3)
            .map(|i| {
                let attrs = vec![(
                    b"cn".to_vec(),
                    HashSet::from([format!("g{i}").into_bytes()]),
                )];
                add_request(&format!("CN=g{i},DC=x"), &attrs)
            })
            .collect();
        let (answers, err) = ldap.call_pipelined(&reqs).await;
        assert!(err.is_none(), "{err:?}");
        let rcs: Vec<u32> = answers.iter().map(|a| a.as_ref().unwrap().rc).collect();
        assert_eq!(rcs, vec![68, 0, 0]);
        assert_eq!(server.await.unwrap().len(), 3);
        // The server is gone: nothing answered, and the error says so.
        let (answers, err) = ldap.call_pipelined(&reqs).await;
        assert!(answers.iter().all(Option::is_none));
        assert!(err.is_some());
    }

    #[test]
    fn filters_encode_like_ldap3() {
        use ldap3::asn1::ASNTag;
        for f in [
            "(objectClass=*)",
            "(&(cn=a\\2a)(|(x=1)(!(y>=2))))",
            "(member:1.2.840.113556.1.4.1941:=CN=x)",
        ] {
            let tag = ldap3::parse_filter(f).unwrap().into_structure();
            let mut ours = Vec::new();
            encode_structure(&mut ours, &tag);
            let (_, back) = ldap3::asn1::parse_tag(&ours).unwrap();
            assert_eq!(back, tag, "{f}");
        }
    }
}
