//! One connection to a domain controller: URL and TLS policy (ldaps://, StartTLS, custom CA,
//! the system trust store, an explicit opt-out), binds (simple as DN, UPN or DOMAIN\user;
//! Kerberos behind the `kerberos` feature), timeouts, one reconnect after a dropped
//! connection, paged searches with the domain scope control, and ranged attribute reads.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use ldap3::controls::RawControl;
use ldap3::{LdapError, Scope};
use rustls::ClientConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use secrecy::{ExposeSecret, SecretString};

use super::args::{LdapArgs, PASSWORD_ENV};
use super::ber;
use super::explain;
/// The connection handle: gwb's own message layer, with ldap3's method names.
pub use super::proto::Ldap;
use crate::ad::ldif::Entry;

/// RFC 2696 paged results.
pub const OID_PAGED: &str = "1.2.840.113556.1.4.319";
/// LDAP_SERVER_DOMAIN_SCOPE_OID: no continuation references to other naming contexts.
pub const OID_DOMAIN_SCOPE: &str = "1.2.840.113556.1.4.1339";
/// Page size for paged searches (AD's default MaxPageSize).
pub const PAGE_SIZE: i32 = 1000;
/// Upper bound on pages per search (a server that never ends a paged search is an error).
const MAX_PAGES: usize = 1_000_000;

/// How the client authenticates.
pub enum Auth {
    Simple {
        name: String,
        password: SecretString,
    },
    /// GSSAPI with the caller's Kerberos ticket cache.
    Kerberos,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Simple { name, .. } => {
                write!(f, "Simple {{ name: {name:?}, password: [redacted] }}")
            }
            Auth::Kerberos => write!(f, "Kerberos"),
        }
    }
}

/// What kind of name a simple bind uses (AD accepts all three as the bind name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindNameKind {
    Dn,
    Upn,
    DownLevel,
}

pub fn bind_name_kind(name: &str) -> anyhow::Result<BindNameKind> {
    let name = name.trim();
    if name.is_empty() {
        bail!("--bind-dn is empty");
    }
    if let Some((dom, user)) = name.split_once('\\') {
        if dom.is_empty() || user.is_empty() || user.contains('\\') {
            bail!("--bind-dn {name:?}: a down-level name is DOMAIN\\user");
        }
        return Ok(BindNameKind::DownLevel);
    }
    if name.contains('=') {
        crate::ad::Dn::parse(name)
            .map_err(|e| anyhow::anyhow!("--bind-dn {name:?} is not a valid DN: {e}"))?;
        return Ok(BindNameKind::Dn);
    }
    if let Some((user, dom)) = name.rsplit_once('@')
        && !user.is_empty()
        && !dom.is_empty()
    {
        return Ok(BindNameKind::Upn);
    }
    bail!(
        "--bind-dn {name:?}: give a DN (CN=svc,OU=…,DC=…), a UPN (svc@example.com) or DOMAIN\\user"
    )
}

/// Everything needed to (re)open the connection.
#[derive(Debug)]
pub struct Settings {
    pub url: String,
    pub host: String,
    pub starttls: bool,
    pub tls: Option<Arc<ClientConfig>>,
    pub timeout: Duration,
    pub auth: Auth,
    pub have_ca_file: bool,
}

impl Settings {
    /// Validate the arguments and load credentials and trust anchors.
    pub fn from_args(args: &LdapArgs) -> anyhow::Result<Settings> {
        let raw = args.ldap_url.as_deref().context("no --ldap-url given")?;
        let url = url::Url::parse(raw.trim())
            .with_context(|| format!("--ldap-url {raw:?} is not a URL"))?;
        let secure = match url.scheme() {
            "ldaps" => true,
            "ldap" => false,
            other => bail!(
                "--ldap-url {raw:?}: scheme {other:?} is not supported; use ldaps:// or ldap:// with --starttls"
            ),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .with_context(|| format!("--ldap-url {raw:?} has no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if secure && args.starttls {
            bail!("--starttls is for ldap:// URLs; {raw:?} already uses TLS (ldaps://)");
        }
        if url.path().len() > 1 || url.query().is_some() {
            bail!(
                "--ldap-url {raw:?}: give only scheme, host and port (the base DN is discovered from the rootDSE)"
            );
        }
        if args.ldap_timeout == 0 {
            bail!("--ldap-timeout must be at least 1 second");
        }
        let tls_used = secure || args.starttls;
        // Refuse before any secret is read.
        if !tls_used && !args.kerberos {
            if !args.allow_insecure_bind {
                bail!(
                    "refusing a simple bind over plain ldap:// without TLS: the password would cross the network in clear text. \
                     Use ldaps://, or add --starttls; --allow-insecure-bind overrides this on an isolated test network"
                );
            }
            tracing::warn!(
                "simple bind over plain ldap:// (--allow-insecure-bind): the password crosses the network unencrypted"
            );
        }
        let auth = if args.kerberos {
            if !cfg!(feature = "kerberos") {
                bail!(
                    "--kerberos needs a gwb built with the `kerberos` feature (cargo build --features kerberos)"
                );
            }
            Auth::Kerberos
        } else {
            let name = args.bind_dn.as_deref().map(str::trim).filter(|n| !n.is_empty()).context(
                "give --bind-dn (a DN, a UPN or DOMAIN\\user) and a password: Active Directory does not allow anonymous reads",
            )?;
            bind_name_kind(name)?;
            let password = load_password(args)?;
            Auth::Simple {
                name: name.to_string(),
                password,
            }
        };
        if args.insecure_skip_tls_verify {
            tracing::warn!(
                "--insecure-skip-tls-verify: the DC's certificate is NOT checked; anyone on the network path can \
                 impersonate the DC and read the bind password. Use --ca-file instead."
            );
        }
        let tls = if tls_used {
            Some(tls_config(args)?)
        } else {
            None
        };
        Ok(Settings {
            url: url.as_str().trim_end_matches('/').to_string(),
            host,
            starttls: args.starttls,
            tls,
            timeout: Duration::from_secs(args.ldap_timeout),
            auth,
            have_ca_file: args.ca_file.is_some(),
        })
    }

    fn who(&self) -> String {
        match &self.auth {
            Auth::Simple { name, .. } => name.clone(),
            Auth::Kerberos => "the Kerberos ticket cache".into(),
        }
    }
}

fn load_password(args: &LdapArgs) -> anyhow::Result<SecretString> {
    let pw = if let Some(path) = &args.password_file {
        warn_if_readable_by_others(path);
        let decoded = crate::text::read_file(path)?;
        let first = decoded
            .text
            .lines()
            .next()
            .unwrap_or("")
            .trim_end_matches(['\r', '\n'])
            .to_string();
        if first.is_empty() {
            bail!(
                "{}: line 1: the password file's first line is empty",
                path.display()
            );
        }
        first
    } else {
        match std::env::var(PASSWORD_ENV) {
            Ok(v) if !v.is_empty() => v,
            _ => bail!(
                "no bind password: set {PASSWORD_ENV} or pass --password-file (passwords are never taken from the command line)"
            ),
        }
    };
    // A server echoing the bind request in a diagnostic must not print it.
    crate::redact::register(&pw);
    Ok(SecretString::from(pw))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            "{}: the password file is readable by other users (chmod 600 it)",
            path.display()
        );
    }
}

/// Windows: not checked (ACLs, not mode bits; see `config::readable_by_others` and docs/windows.md).
#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &std::path::Path) {}

/// The rustls configuration: aws-lc-rs, the CA file or the system store, or (opt-out) no checks.
pub fn tls_config(args: &LdapArgs) -> anyhow::Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS set-up")?;
    let config = if args.insecure_skip_tls_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        if let Some(path) = &args.ca_file {
            let bytes = std::fs::read(path)
                .with_context(|| format!("reading --ca-file {}", path.display()))?;
            let mut n = 0;
            for (i, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
                let cert = cert.map_err(|e| {
                    crate::error::InputError::new(
                        path,
                        format!("certificate {}", i + 1),
                        format!("not valid PEM: {e:?}"),
                    )
                })?;
                roots.add(cert).map_err(|e| {
                    crate::error::InputError::new(
                        path,
                        format!("certificate {}", i + 1),
                        format!("not a usable CA certificate: {e}"),
                    )
                })?;
                n += 1;
            }
            if n == 0 {
                return Err(crate::error::InputError::new(
                    path,
                    "",
                    "no PEM certificates (-----BEGIN CERTIFICATE-----) found",
                )
                .into());
            }
        } else {
            let native = rustls_native_certs::load_native_certs();
            for e in &native.errors {
                tracing::debug!("system trust store: {e}");
            }
            let (added, _) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                bail!(
                    "the system trust store is empty or unreadable: pass --ca-file with the CA that issued the DC's certificate"
                );
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// Accepts any certificate (still checks the handshake signatures). Only behind the loudly
/// warned `--insecure-skip-tls-verify`.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Counters for diagnostics and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Search requests sent (each page and each range window counts).
    pub requests: usize,
    /// Requests for a `member;range=` window after the first one.
    pub range_requests: usize,
    pub reconnects: usize,
    /// Write requests sent (add, modify, modrdn, delete; retries count).
    pub writes: usize,
}

/// Why an operation failed.
#[derive(Debug)]
enum OpError {
    Lost(LdapError),
    Other(anyhow::Error),
    Result { rc: u32, text: String },
}

impl From<ber::BerError> for OpError {
    fn from(e: ber::BerError) -> Self {
        OpError::Other(e.into())
    }
}

fn ldap_err(e: LdapError, timeout: Duration) -> OpError {
    if explain::is_connection_lost(&e) {
        return OpError::Lost(e);
    }
    if let LdapError::Timeout { .. } = e {
        return OpError::Other(anyhow::anyhow!(
            "no answer within {} s (--ldap-timeout)",
            timeout.as_secs()
        ));
    }
    OpError::Other(e.into())
}

/// An open, bound connection.
pub struct Conn {
    settings: Settings,
    ldap: Ldap,
    pub stats: Stats,
    /// Whether to send the paged results control (the rootDSE says so).
    pub paging: bool,
}

impl Conn {
    /// Connect, upgrade with StartTLS if asked, and bind.
    pub async fn open(settings: Settings) -> anyhow::Result<Conn> {
        let ldap = connect_and_bind(&settings).await?;
        Ok(Conn {
            settings,
            ldap,
            stats: Stats::default(),
            paging: true,
        })
    }

    /// The bound handle and the operation timeout, for the one write path in `ldap::write`.
    pub(super) fn handle(&mut self) -> (&mut Ldap, Duration) {
        (&mut self.ldap, self.settings.timeout)
    }

    /// The DC's URL, for messages.
    pub fn url(&self) -> &str {
        &self.settings.url
    }

    pub(super) async fn reconnect(&mut self) -> anyhow::Result<()> {
        tracing::warn!(
            "the connection to {} was lost; reconnecting once",
            self.settings.url
        );
        self.ldap = connect_and_bind(&self.settings).await?;
        self.stats.reconnects += 1;
        Ok(())
    }

    /// Search (paged when the DC supports it, domain scope) and decode every entry.
    pub async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> anyhow::Result<Vec<Entry>> {
        let what = || format!("searching {base:?} for {filter}");
        let mut retried = false;
        loop {
            match self
                .search_once(
                    base,
                    scope,
                    filter,
                    attrs,
                    self.paging && scope != Scope::Base,
                )
                .await
            {
                Ok(v) => return Ok(v),
                Err(OpError::Lost(e)) if !retried => {
                    tracing::debug!("{}: {e}", what());
                    retried = true;
                    self.reconnect().await?;
                }
                Err(OpError::Lost(e)) => {
                    return Err(anyhow::anyhow!(
                        "{}: the connection was lost again: {e}",
                        what()
                    ));
                }
                Err(OpError::Other(e)) => return Err(e.context(what())),
                Err(OpError::Result { rc, text }) => {
                    return Err(ResultError {
                        rc,
                        message: explain::op_failure(&what(), rc, &text),
                    }
                    .into());
                }
            }
        }
    }

    /// Test the bind account's rights on an OU for real: create a temporary group there, change
    /// it, delete it. Returns `create=…`, `modify=…`, `delete=…` values (`ok`, or `denied: …`
    /// with AD's result), which discovery records on the OU entry as `x-gwb-rights-probe`.
    /// Only the probe's own object is ever touched.
    pub async fn probe_rights(&mut self, ou: &str) -> Vec<String> {
        use std::collections::HashSet;
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let tag = tag.get(..8).unwrap_or("00000000");
        let dn = format!("CN=gwb-rights-probe-{tag},{ou}");
        let timeout = self.settings.timeout;
        let set = |v: &str| HashSet::from([v.to_string()]);
        let outcome = |r: Result<ldap3::LdapResult, LdapError>| match r.map(|r| r.success()) {
            Ok(Ok(_)) => "ok".to_string(),
            Ok(Err(LdapError::LdapResult { result })) => {
                format!(
                    "denied: LDAP {} {}",
                    result.rc,
                    result.text.trim_matches(char::from(0)).trim()
                )
            }
            Ok(Err(e)) | Err(e) => format!("failed: {e}"),
        };
        let attrs = vec![
            (
                "objectClass".to_string(),
                HashSet::from(["top".to_string(), "group".to_string()]),
            ),
            ("groupType".to_string(), set("-2147483640")),
            ("sAMAccountName".to_string(), set(&format!("gwbprobe{tag}"))),
            (
                "description".to_string(),
                set("gwb rights probe: created and deleted at once"),
            ),
        ];
        let create = outcome(self.ldap.with_timeout(timeout).add(&dn, attrs).await);
        if create != "ok" {
            return vec![
                format!("create={create}"),
                "modify=not tried".into(),
                "delete=not tried".into(),
            ];
        }
        let modify = outcome(
            self.ldap
                .with_timeout(timeout)
                .modify(
                    &dn,
                    vec![ldap3::Mod::Replace(
                        "description".to_string(),
                        set("gwb rights probe: changed"),
                    )],
                )
                .await,
        );
        let delete = outcome(self.ldap.with_timeout(timeout).delete(&dn).await);
        if delete != "ok" {
            tracing::warn!(
                "the rights probe group {dn} could not be deleted ({delete}); delete it by hand"
            );
        }
        vec![
            format!("create={create}"),
            format!("modify={modify}"),
            format!("delete={delete}"),
        ]
    }

    /// Read one object (base scope). `Ok(None)` when it does not exist.
    pub async fn read(&mut self, dn: &str, attrs: &[&str]) -> anyhow::Result<Option<Entry>> {
        match self.search(dn, Scope::Base, "(objectClass=*)", attrs).await {
            Ok(mut v) => Ok(if v.is_empty() {
                None
            } else {
                Some(v.swap_remove(0))
            }),
            Err(e) if is_no_such_object(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Search that treats a missing base as "nothing there".
    pub async fn search_opt(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> anyhow::Result<Vec<Entry>> {
        match self.search(base, scope, filter, attrs).await {
            Err(e) if is_no_such_object(&e) => Ok(Vec::new()),
            other => other,
        }
    }

    async fn search_once(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        paged: bool,
    ) -> Result<Vec<Entry>, OpError> {
        let mut out = Vec::new();
        let mut cookie: Vec<u8> = Vec::new();
        for _page in 0..MAX_PAGES {
            let mut ctrls = vec![RawControl {
                ctype: OID_DOMAIN_SCOPE.into(),
                crit: false,
                val: None,
            }];
            if paged {
                ctrls.push(RawControl {
                    ctype: OID_PAGED.into(),
                    crit: false,
                    val: Some(ber::encode_paged(PAGE_SIZE, &cookie)),
                });
            }
            self.stats.requests += 1;
            let timeout = self.settings.timeout;
            let res = self
                .ldap
                .with_timeout(timeout)
                .with_controls(ctrls)
                .search(base, scope, filter, attrs.to_vec())
                .await;
            let outcome = res.map_err(|e| ldap_err(e, timeout))?;
            let Some(result) = outcome.result else {
                return Err(OpError::Other(anyhow::anyhow!(
                    "the search ended without a result"
                )));
            };
            if result.rc != 0 {
                return Err(OpError::Result {
                    rc: result.rc,
                    text: result.text,
                });
            }
            out.extend(outcome.entries);
            cookie.clear();
            if paged {
                for c in &result.ctrls {
                    if c.1.ctype == OID_PAGED
                        && let Some(val) = &c.1.val
                    {
                        cookie = ber::decode_paged(val)?.1;
                    }
                }
            }
            if cookie.is_empty() {
                return Ok(out);
            }
        }
        Err(OpError::Other(anyhow::anyhow!(
            "the DC kept returning paging cookies after {MAX_PAGES} pages"
        )))
    }

    /// All values of a multi-valued attribute (`member`) of `dn`, read in explicit range
    /// windows the way Windows DCs require: the first window comes with `first` (the entry as
    /// read with `member;range=0-1499`); further windows are requested until a name ends in `-*`.
    pub async fn ranged_values(
        &mut self,
        dn: &str,
        attr: &str,
        first: &Entry,
    ) -> anyhow::Result<Vec<Vec<u8>>> {
        let mut values = Vec::new();
        let mut window = pick_range(first, attr);
        match &window {
            None => {
                // Either no values, or the server ignored the range option and sent them all.
                values.extend(
                    first
                        .attrs
                        .iter()
                        .filter(|(n, _)| n.eq_ignore_ascii_case(attr))
                        .flat_map(|(_, v)| v.iter().cloned()),
                );
                return Ok(values);
            }
            Some(r) => values.extend(r.values.iter().cloned()),
        }
        let mut guard = 0usize;
        while let Some(r) = window.take() {
            let Some((lo, request)) = next_range_request(&r, attr) else {
                break;
            };
            self.stats.range_requests += 1;
            guard += 1;
            if guard > 100_000 {
                bail!("{dn}: {attr} range retrieval does not terminate");
            }
            let Some(e) = self.read(dn, &[request.as_str()]).await? else {
                bail!("{dn} disappeared while its {attr} values were being read");
            };
            match pick_range(&e, attr) {
                Some(next) => {
                    if next.lo != lo {
                        bail!(
                            "{dn}: asked for {request}, the DC answered with {attr};range={}-…",
                            next.lo
                        );
                    }
                    values.extend(next.values.iter().cloned());
                    window = Some(next);
                }
                // Start beyond the end: the attribute is absent, nothing more to read.
                None => break,
            }
        }
        Ok(values)
    }
}

/// One `attr;range=lo-hi` answer; `hi == None` for `-*` (the last window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeAnswer {
    pub lo: usize,
    pub hi: Option<usize>,
    pub values: Vec<Vec<u8>>,
}

/// The request for the window after `r` (same size as the server's window, which is its
/// MaxValRange), with its first index; `None` after the last window (`-*`).
pub fn next_range_request(r: &RangeAnswer, attr: &str) -> Option<(usize, String)> {
    let hi = r.hi?;
    let size = hi.saturating_sub(r.lo).saturating_add(1).max(1);
    let lo = hi.saturating_add(1);
    Some((
        lo,
        format!("{attr};range={lo}-{}", lo.saturating_add(size - 1)),
    ))
}

/// Parse `member;range=0-1499` style names (case-insensitive, other options allowed).
pub fn parse_range(name: &str, attr: &str) -> Option<(usize, Option<usize>)> {
    let mut parts = name.split(';');
    if !parts.next()?.eq_ignore_ascii_case(attr) {
        return None;
    }
    for opt in parts {
        if opt
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("range="))
        {
            let (lo, hi) = opt.get(6..)?.split_once('-')?;
            let lo = lo.parse().ok()?;
            let hi = if hi == "*" {
                None
            } else {
                Some(hi.parse().ok()?)
            };
            return Some((lo, hi));
        }
    }
    None
}

fn pick_range(e: &Entry, attr: &str) -> Option<RangeAnswer> {
    e.attrs.iter().find_map(|(n, v)| {
        parse_range(n, attr).map(|(lo, hi)| RangeAnswer {
            lo,
            hi,
            values: v.clone(),
        })
    })
}

/// A non-success LDAP result, explained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ResultError {
    pub rc: u32,
    pub message: String,
}

fn is_no_such_object(e: &anyhow::Error) -> bool {
    e.downcast_ref::<ResultError>().is_some_and(|r| r.rc == 32)
}

async fn connect_and_bind(s: &Settings) -> anyhow::Result<Ldap> {
    let target = if s.starttls {
        format!("{} (StartTLS)", s.url)
    } else {
        s.url.clone()
    };
    let url = url::Url::parse(&s.url).with_context(|| format!("{:?} is not a URL", s.url))?;
    let mut ldap = Ldap::connect(super::proto::ConnectOpts {
        url: &url,
        host: &s.host,
        starttls: s.starttls,
        tls: s.tls.clone(),
        timeout: s.timeout,
    })
    .await
    .map_err(|e| anyhow::anyhow!(explain::connect_failure(&e, &target, s.have_ca_file)))?;
    match &s.auth {
        Auth::Simple { name, password } => {
            let res = ldap
                .with_timeout(s.timeout)
                .simple_bind(name, password.expose_secret())
                .await
                .map_err(|e| {
                    anyhow::anyhow!(explain::connect_failure(&e, &target, s.have_ca_file))
                })?;
            if res.rc != 0 {
                bail!(explain::bind_failure(res.rc, &res.text, &s.who()));
            }
        }
        Auth::Kerberos => kerberos_bind(&mut ldap, s).await?,
    }
    Ok(ldap)
}

/// SASL GSSAPI bind (RFC 4752) with the caller's ticket cache, over gwb's own message layer.
/// Only over TLS (ldaps:// or StartTLS), with TLS channel binding (tls-server-end-point) and
/// no SASL security layer: gwb does not implement SASL signing or sealing, and TLS already
/// protects the connection.
#[cfg(feature = "kerberos")]
async fn kerberos_bind(ldap: &mut Ldap, s: &Settings) -> anyhow::Result<()> {
    use cross_krb5::{ClientCtx, InitiateFlags, K5Ctx, Step};
    const IN_PROGRESS: u32 = 14;
    if !ldap.has_tls {
        bail!(
            "a Kerberos bind needs TLS (ldaps:// or --starttls): gwb protects the connection with TLS, not SASL sealing"
        );
    }
    let spn = format!("ldap/{}", s.host);
    let cbt = ldap.tls_endpoint.as_ref().map(|t| {
        let mut v = b"tls-server-end-point:".to_vec();
        v.extend_from_slice(t);
        v
    });
    let (pending, token) = ClientCtx::new(InitiateFlags::empty(), None, &spn, cbt.as_deref())
        .map_err(|e| {
            anyhow::anyhow!(
                "Kerberos: no ticket for {spn} ({}); run kinit, check KRB5_CONFIG / KRB5CCNAME and that the DC has the SPN {spn}",
                crate::redact::redact(&format!("{e:#}"))
            )
        })?;
    let fail = |e: LdapError| anyhow::anyhow!("Kerberos bind to {} failed: {e}", s.host);
    let (res, creds) = ldap
        .with_timeout(s.timeout)
        .sasl_bind("GSSAPI", Some(&token))
        .await
        .map_err(fail)?;
    if res.rc != IN_PROGRESS {
        bail!(explain::bind_failure(res.rc, &res.text, &s.who()));
    }
    let server_token = creds.context("the DC sent no GSSAPI token")?;
    let mut ctx = match pending
        .step(&server_token)
        .map_err(|e| anyhow::anyhow!("Kerberos: the DC's GSSAPI token was refused: {e:#}"))?
    {
        Step::Finished((ctx, None)) => ctx,
        _ => bail!("Kerberos: the GSSAPI exchange did not finish in one round trip"),
    };
    let (res, creds) = ldap
        .with_timeout(s.timeout)
        .sasl_bind("GSSAPI", None)
        .await
        .map_err(fail)?;
    if res.rc == 0 {
        return Ok(());
    }
    if res.rc != IN_PROGRESS {
        bail!(explain::bind_failure(res.rc, &res.text, &s.who()));
    }
    let offer = ctx
        .unwrap(&creds.context("the DC sent no security-layer offer")?)
        .map_err(|e| {
            anyhow::anyhow!("Kerberos: cannot read the DC's security-layer offer: {e:#}")
        })?;
    // RFC 4752 §3.1: byte 0 is the bit mask of layers; 1 = none.
    if offer.len() != 4 || offer[0] & 1 == 0 {
        bail!(
            "Kerberos: the DC insists on SASL signing or sealing, which gwb does not do; use ldaps:// or --starttls"
        );
    }
    let choice = ctx
        .wrap(true, &[1, 0, 0, 0])
        .map_err(|e| anyhow::anyhow!("Kerberos: cannot answer the security-layer offer: {e:#}"))?;
    let (res, _) = ldap
        .with_timeout(s.timeout)
        .sasl_bind("GSSAPI", Some(&choice))
        .await
        .map_err(fail)?;
    if res.rc != 0 {
        bail!(explain::bind_failure(res.rc, &res.text, &s.who()));
    }
    Ok(())
}

#[cfg(not(feature = "kerberos"))]
async fn kerberos_bind(_ldap: &mut Ldap, _s: &Settings) -> anyhow::Result<()> {
    bail!("this gwb was built without Kerberos support (feature `kerberos`)")
}

/// Run a future to completion on a private runtime (on a separate thread when the caller is
/// already inside a tokio runtime).
pub fn block_on<F>(fut: F) -> anyhow::Result<F::Output>
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    let run = move || -> anyhow::Result<F::Output> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the LDAP runtime")?;
        Ok(rt.block_on(fut))
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|sc| {
            sc.spawn(run)
                .join()
                .map_err(|_| anyhow::anyhow!("the LDAP worker thread failed"))?
        })
    } else {
        run()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(url: &str) -> LdapArgs {
        LdapArgs {
            ldap_url: Some(url.into()),
            bind_dn: Some("LAB\\svc".into()),
            ..LdapArgs::default()
        }
    }

    #[test]
    fn parses_range_names() {
        assert_eq!(
            parse_range("member;range=0-1499", "member"),
            Some((0, Some(1499)))
        );
        assert_eq!(
            parse_range("Member;Range=1500-*", "member"),
            Some((1500, None))
        );
        assert_eq!(
            parse_range("member;binary;range=3-4", "MEMBER"),
            Some((3, Some(4)))
        );
        assert_eq!(parse_range("member", "member"), None);
        assert_eq!(parse_range("memberOf;range=0-1", "member"), None);
        assert_eq!(parse_range("member;range=x-1", "member"), None);
        assert_eq!(parse_range("member;range=", "member"), None);
        assert_eq!(parse_range("member;rangé=0-1", "member"), None);
        assert_eq!(parse_range("member;ränge", "member"), None);
    }

    #[test]
    fn range_windows_follow_the_servers_window_size() {
        let w = |lo, hi| RangeAnswer {
            lo,
            hi,
            values: vec![],
        };
        // Windows Server 2003+: MaxValRange 1500.
        assert_eq!(
            next_range_request(&w(0, Some(1499)), "member"),
            Some((1500, "member;range=1500-2999".to_string()))
        );
        // Windows 2000 or a lowered MaxValRange: 1000-value windows.
        assert_eq!(
            next_range_request(&w(1000, Some(1999)), "member"),
            Some((2000, "member;range=2000-2999".to_string()))
        );
        // The last window ends in `-*`.
        assert_eq!(next_range_request(&w(9000, None), "member"), None);
        // A degenerate window still moves forward.
        assert_eq!(
            next_range_request(&w(5, Some(3)), "member").map(|r| r.0),
            Some(4)
        );
        // Walking 10,000 values in 1500-value windows takes six requests after the first.
        let mut r = w(0, Some(1499));
        let mut n = 0;
        while let Some((lo, _)) = next_range_request(&r, "member") {
            n += 1;
            r = if lo + 1500 >= 10_000 {
                w(lo, None)
            } else {
                w(lo, Some(lo + 1499))
            };
        }
        assert_eq!(n, 6);
    }

    #[test]
    fn classifies_bind_names() {
        assert_eq!(
            bind_name_kind("CN=svc,OU=Service,DC=lab").unwrap(),
            BindNameKind::Dn
        );
        assert_eq!(
            bind_name_kind("svc@lab.example.com").unwrap(),
            BindNameKind::Upn
        );
        assert_eq!(bind_name_kind("LAB\\svc").unwrap(), BindNameKind::DownLevel);
        assert!(bind_name_kind("svc").is_err());
        assert!(bind_name_kind("\\svc").is_err());
        assert!(bind_name_kind("CN=,=x").is_err());
    }

    #[test]
    fn refuses_plain_simple_bind_and_bad_urls() {
        // The refusal comes before any password is looked for.
        let e = Settings::from_args(&args("ldap://dc1.lab"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("refusing a simple bind over plain ldap://"),
            "{e}"
        );
        assert!(e.contains("--starttls"), "{e}");
        let mut a = args("ldaps://dc1.lab");
        a.starttls = true;
        assert!(
            Settings::from_args(&a)
                .unwrap_err()
                .to_string()
                .contains("--starttls is for ldap://")
        );
        assert!(
            Settings::from_args(&args("http://dc1"))
                .unwrap_err()
                .to_string()
                .contains("not supported")
        );
        assert!(
            Settings::from_args(&args("ldaps://dc1/DC=lab"))
                .unwrap_err()
                .to_string()
                .contains("only scheme")
        );
        let mut a = args("ldaps://dc1");
        a.bind_dn = None;
        assert!(
            Settings::from_args(&a)
                .unwrap_err()
                .to_string()
                .contains("anonymous")
        );
    }

    #[test]
    fn password_file_first_line_and_ca_file_errors() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "s3cret\r\nignored\n").unwrap();
        let mut a = args("ldaps://dc1");
        a.password_file = Some(pw.clone());
        assert_eq!(load_password(&a).unwrap().expose_secret(), "s3cret");
        std::fs::write(&pw, "\n").unwrap();
        assert!(
            load_password(&a)
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate").unwrap();
        a.ca_file = Some(ca.clone());
        let e = tls_config(&a).unwrap_err().to_string();
        assert!(
            e.contains("ca.pem") && e.contains("no PEM certificates"),
            "{e}"
        );
    }

    #[test]
    fn auth_debug_never_shows_the_password() {
        let a = Auth::Simple {
            name: "x".into(),
            password: SecretString::from("hunter2"),
        };
        assert!(!format!("{a:?}").contains("hunter2"));
    }
}
