//! Authentication to Microsoft Graph: client secret, certificate (signed client assertion,
//! PS256 + x5t#S256 or RS256 + x5t), or a ready-made access token. Tokens are cached in
//! memory and refreshed before they expire. Secrets live in `SecretString` and never appear
//! in logs, errors or Debug output.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::args::{ACCESS_TOKEN_ENV, AssertionAlg, CLIENT_SECRET_ENV, GraphArgs};
use super::retry::RetryPolicy;
use crate::error::InputError;

/// How gwb proves who it is.
pub enum Credential {
    Secret {
        client_id: String,
        secret: SecretString,
    },
    Certificate {
        client_id: String,
        key: jsonwebtoken::EncodingKey,
        x5t: String,
        x5t_s256: String,
        alg: AssertionAlg,
        source: PathBuf,
    },
    /// A token obtained elsewhere (no refresh possible).
    Token(Arc<SecretString>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Secret { client_id, .. } => write!(
                f,
                "Secret {{ client_id: {client_id:?}, secret: [redacted] }}"
            ),
            Credential::Certificate {
                client_id,
                alg,
                source,
                ..
            } => {
                write!(
                    f,
                    "Certificate {{ client_id: {client_id:?}, alg: {alg:?}, source: {source:?}, key: [redacted] }}"
                )
            }
            Credential::Token(_) => f.write_str("Token([redacted])"),
        }
    }
}

impl Credential {
    pub fn describe(&self) -> &'static str {
        match self {
            Credential::Secret { .. } => "client secret",
            Credential::Certificate { .. } => "certificate",
            Credential::Token(_) => "access token",
        }
    }
}

fn read_secret_file(path: &Path) -> Result<SecretString, InputError> {
    let text = crate::text::read_file(path)?.text;
    let s = text.trim();
    if s.is_empty() {
        return Err(InputError::new(path, "", "the file is empty"));
    }
    crate::redact::register(s);
    Ok(SecretString::from(s.to_string()))
}

/// Pick the credential from arguments and environment (Azure SDK names).
pub fn credential_from_args(args: &GraphArgs) -> anyhow::Result<Credential> {
    if let Some(p) = &args.access_token_file {
        return Ok(Credential::Token(Arc::new(read_secret_file(p)?)));
    }
    if let Ok(t) = std::env::var(ACCESS_TOKEN_ENV)
        && !t.trim().is_empty()
    {
        crate::redact::register(&t);
        return Ok(Credential::Token(Arc::new(SecretString::from(
            t.trim().to_string(),
        ))));
    }
    let client_id = args.client_id.clone().filter(|c| !c.trim().is_empty()).ok_or_else(|| {
        anyhow::anyhow!("no Graph credential: give --client-id (AZURE_CLIENT_ID) with a secret or certificate, or an access token (--access-token-file or {ACCESS_TOKEN_ENV})")
    })?;
    if let Some(p) = &args.client_certificate {
        return load_certificate(p, client_id, args.assertion_alg);
    }
    if let Some(s) = &args.client_secret {
        tracing::warn!(
            "--client-secret puts the secret in the process list and shell history; prefer {CLIENT_SECRET_ENV} or --client-secret-file"
        );
        crate::redact::register(s.expose());
        return Ok(Credential::Secret {
            client_id,
            secret: SecretString::from(s.expose().to_string()),
        });
    }
    if let Some(p) = &args.client_secret_file {
        return Ok(Credential::Secret {
            client_id,
            secret: read_secret_file(p)?,
        });
    }
    if let Ok(s) = std::env::var(CLIENT_SECRET_ENV)
        && !s.is_empty()
    {
        crate::redact::register(&s);
        return Ok(Credential::Secret {
            client_id,
            secret: SecretString::from(s),
        });
    }
    anyhow::bail!(
        "no credential for client {client_id}: set {CLIENT_SECRET_ENV} (or --client-secret-file), or --client-certificate (AZURE_CLIENT_CERTIFICATE_PATH), or give an access token"
    )
}

fn pem_block<'a>(text: &'a str, labels: &[&'static str]) -> Option<(&'static str, &'a str)> {
    for label in labels {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(b) = text.find(&begin)
            && let Some(e) = text.get(b..).and_then(|rest| rest.find(&end))
        {
            return text.get(b..b + e + end.len()).map(|blk| (*label, blk));
        }
    }
    None
}

/// Read a PEM file holding the certificate and its private key.
pub fn load_certificate(
    path: &Path,
    client_id: String,
    alg: AssertionAlg,
) -> anyhow::Result<Credential> {
    let text = crate::text::read_file(path)?.text;
    let Some((_, cert_pem)) = pem_block(&text, &["CERTIFICATE"]) else {
        return Err(InputError::new(path, "", "no -----BEGIN CERTIFICATE----- block (PEM with certificate and private key expected; convert a .pfx with `openssl pkcs12 -in app.pfx -nodes -out app.pem`)").into());
    };
    let b64: String = cert_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|e| {
            InputError::new(path, "CERTIFICATE block", format!("not valid base64: {e}"))
        })?;
    if pem_block(&text, &["ENCRYPTED PRIVATE KEY"]).is_some() {
        return Err(InputError::new(path, "ENCRYPTED PRIVATE KEY block", "the private key is encrypted; decrypt it (`openssl pkey -in key.pem -out plain.pem`) and protect the file with permissions").into());
    }
    let Some((label, key_pem)) = pem_block(&text, &["PRIVATE KEY", "RSA PRIVATE KEY"]) else {
        return Err(InputError::new(path, "", "no -----BEGIN PRIVATE KEY----- block; the PEM file must hold the certificate and its RSA private key").into());
    };
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(key_pem.as_bytes()).map_err(|e| {
        InputError::new(
            path,
            format!("{label} block"),
            format!("not an RSA private key: {e}"),
        )
    })?;
    let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    Ok(Credential::Certificate {
        client_id,
        key,
        x5t: enc.encode(sha1.as_ref()),
        x5t_s256: enc.encode(sha256.as_ref()),
        alg,
        source: path.to_path_buf(),
    })
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

/// Sign a client assertion for the token endpoint `aud`.
pub fn client_assertion(cred: &Credential, aud: &str) -> anyhow::Result<String> {
    let Credential::Certificate {
        client_id,
        key,
        x5t,
        x5t_s256,
        alg,
        ..
    } = cred
    else {
        anyhow::bail!("not a certificate credential")
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut header = jsonwebtoken::Header::new(match alg {
        AssertionAlg::Ps256 => jsonwebtoken::Algorithm::PS256,
        AssertionAlg::Rs256 => jsonwebtoken::Algorithm::RS256,
    });
    header.typ = Some("JWT".into());
    match alg {
        AssertionAlg::Ps256 => header.x5t_s256 = Some(x5t_s256.clone()),
        AssertionAlg::Rs256 => header.x5t = Some(x5t.clone()),
    }
    let claims = Claims {
        aud,
        iss: client_id,
        sub: client_id,
        jti: uuid::Uuid::new_v4().to_string(),
        nbf: now,
        iat: now,
        exp: now + 600,
    };
    let jwt = jsonwebtoken::encode(&header, &claims, key)
        .map_err(|e| anyhow::anyhow!("signing the client assertion: {e}"))?;
    crate::redact::register(&jwt);
    Ok(jwt)
}

/// Explain a token endpoint error (`AADSTSnnnnn`) in terms an administrator can act on.
pub fn explain_aadsts(description: &str) -> Option<&'static str> {
    let hints: [(&str, &str); 8] = [
        (
            "AADSTS7000215",
            "the client secret is wrong: use the secret's Value, not its Secret ID, and check it has not expired",
        ),
        (
            "AADSTS7000222",
            "the client secret has expired: create a new one in the app registration",
        ),
        (
            "AADSTS700016",
            "no application with this client id in this tenant: check --client-id/AZURE_CLIENT_ID and --tenant, and the cloud (--cloud)",
        ),
        (
            "AADSTS90002",
            "the tenant was not found: check --tenant/AZURE_TENANT_ID and the cloud (--cloud)",
        ),
        (
            "AADSTS700027",
            "the certificate is not registered on the app or the assertion is malformed: upload the certificate to the app registration",
        ),
        (
            "AADSTS700024",
            "the client assertion is outside its validity period: check this machine's clock",
        ),
        (
            "AADSTS1002012",
            "the scope is not valid for the client credentials flow",
        ),
        (
            "AADSTS7000218",
            "neither a secret nor a certificate was sent",
        ),
    ];
    hints
        .iter()
        .find(|(code, _)| description.contains(code))
        .map(|(_, h)| *h)
}

struct Cached {
    token: Arc<SecretString>,
    refresh_at: Instant,
}

/// Tokens for one Graph root, cached in memory and refreshed ahead of expiry.
pub struct TokenProvider {
    http: reqwest::Client,
    pub token_url: String,
    scope: String,
    cred: Credential,
    cache: tokio::sync::Mutex<Option<Cached>>,
    /// The same policy as every Graph request (429/5xx and resets retried, Retry-After honoured).
    policy: RetryPolicy,
    /// Added to the monotonic clock: lets tests step through a token's lifetime without waiting.
    clock_skew_ms: std::sync::atomic::AtomicU64,
}

/// When a token of this lifetime is refreshed, counted from when it was issued: five minutes
/// before it expires, or halfway through lifetimes shorter than ten minutes.
pub fn refresh_after(lifetime: Duration) -> Duration {
    let early = Duration::from_secs(300).min(lifetime / 2);
    lifetime.saturating_sub(early)
}

impl std::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenProvider")
            .field("token_url", &self.token_url)
            .field("cred", &self.cred)
            .finish_non_exhaustive()
    }
}

impl TokenProvider {
    pub fn new(
        http: reqwest::Client,
        authority: &str,
        tenant: &str,
        graph_root: &str,
        cred: Credential,
    ) -> TokenProvider {
        TokenProvider {
            http,
            token_url: format!(
                "{}/{}/oauth2/v2.0/token",
                authority.trim_end_matches('/'),
                tenant
            ),
            scope: format!("{}/.default", graph_root.trim_end_matches('/')),
            cred,
            cache: tokio::sync::Mutex::new(None),
            policy: RetryPolicy::default(),
            clock_skew_ms: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Move this provider's clock forward (tests of the refresh rule; never needed otherwise).
    pub fn advance_clock(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.clock_skew_ms
            .fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }

    fn now(&self) -> Instant {
        let skew = self
            .clock_skew_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        Instant::now() + Duration::from_millis(skew)
    }

    /// Use this retry policy for token requests (the Graph client passes its own).
    pub fn set_policy(&mut self, policy: RetryPolicy) {
        self.policy = policy;
    }

    pub fn is_static(&self) -> bool {
        matches!(self.cred, Credential::Token(_))
    }

    /// Forget the cached token (after a 401).
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    /// A valid access token, from cache or freshly requested.
    pub async fn token(&self) -> anyhow::Result<Arc<SecretString>> {
        if let Credential::Token(t) = &self.cred {
            return Ok(t.clone());
        }
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref()
            && self.now() < c.refresh_at
        {
            return Ok(c.token.clone());
        }
        // The lifetime counts from the request, not the answer: a slow answer never makes
        // gwb hold a token past its expiry.
        let issued = self.now();
        let (token, lifetime) = self.fetch().await?;
        let c = Cached {
            token: Arc::new(token),
            refresh_at: issued + refresh_after(lifetime),
        };
        let t = c.token.clone();
        *cache = Some(c);
        Ok(t)
    }

    async fn fetch(&self) -> anyhow::Result<(SecretString, Duration)> {
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "client_credentials".into()),
            ("scope", self.scope.clone()),
        ];
        match &self.cred {
            Credential::Secret { client_id, secret } => {
                form.push(("client_id", client_id.clone()));
                form.push(("client_secret", secret.expose_secret().to_string()));
            }
            Credential::Certificate { client_id, .. } => {
                form.push(("client_id", client_id.clone()));
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push((
                    "client_assertion",
                    client_assertion(&self.cred, &self.token_url)?,
                ));
            }
            Credential::Token(_) => anyhow::bail!("a ready-made access token cannot be refreshed"),
        }
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let (last, retry_after) = match self.http.post(&self.token_url).form(&form).send().await
            {
                Err(e) => (
                    format!(
                        "cannot reach the token endpoint {}: {}",
                        self.token_url,
                        crate::redact::redact(&super::retry::transport_message(&e))
                    ),
                    None,
                ),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = super::retry::retry_after_of(resp.headers());
                    let body: Value = match resp.bytes().await {
                        Ok(b) => serde_json::from_slice(&b).unwrap_or(Value::Null),
                        Err(e) => {
                            let msg = format!(
                                "the token endpoint {} answer was cut off: {}",
                                self.token_url,
                                crate::redact::redact(&super::retry::transport_message(&e))
                            );
                            match self.policy.next_delay(attempt, None, started.elapsed()) {
                                Some(d) => {
                                    tracing::debug!("{msg}; retrying in {d:?}");
                                    tokio::time::sleep(d).await;
                                    continue;
                                }
                                None => anyhow::bail!("{msg} (after {attempt} attempts)"),
                            }
                        }
                    };
                    if (200..300).contains(&status) {
                        return token_from_body(&self.token_url, &body);
                    }
                    let err = body
                        .get("error")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown_error");
                    let desc = body
                        .get("error_description")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    // Server text: the endpoint may echo the request (client_secret=…, the assertion).
                    let err = crate::text::server_message(err);
                    let first_line = crate::text::server_message(desc.lines().next().unwrap_or(""));
                    if !super::retry::retryable_status(status) {
                        let hint = explain_aadsts(desc)
                            .map(|h| format!("\n  hint: {h}"))
                            .unwrap_or_default();
                        anyhow::bail!(
                            "authentication with {} failed: HTTP {status} {err}: {first_line}{hint}",
                            self.cred.describe()
                        );
                    }
                    (
                        format!(
                            "token endpoint {} answered HTTP {status} {err}: {first_line}",
                            self.token_url
                        ),
                        retry_after,
                    )
                }
            };
            match self
                .policy
                .next_delay(attempt, retry_after, started.elapsed())
            {
                Some(d) => {
                    tracing::debug!("{last}; retrying in {d:?}");
                    tokio::time::sleep(d).await;
                }
                None => anyhow::bail!("{last} (after {attempt} attempts)"),
            }
        }
    }
}

/// The access token and its lifetime from a successful token endpoint answer.
fn token_from_body(token_url: &str, body: &Value) -> anyhow::Result<(SecretString, Duration)> {
    let Some(tok) = body.get("access_token").and_then(Value::as_str) else {
        anyhow::bail!("the token endpoint {token_url} answered without an access_token");
    };
    let secs = body
        .get("expires_in")
        .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
        .unwrap_or(3599);
    crate::redact::register(tok);
    Ok((
        SecretString::from(tok.to_string()),
        Duration::from_secs(secs.max(1)),
    ))
}

/// The `tid` claim of a JWT access token (no signature check: only to name the tenant).
pub fn token_tenant(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("tid")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_debug_hides_secret() {
        let c = Credential::Secret {
            client_id: "app".into(),
            secret: SecretString::from("s3cr3t-value".to_string()),
        };
        let d = format!("{c:?}");
        assert!(!d.contains("s3cr3t"), "{d}");
        let t = Credential::Token(Arc::new(SecretString::from("eyJ.tok.en".to_string())));
        assert!(!format!("{t:?}").contains("eyJ"));
    }

    #[test]
    fn aadsts_hints() {
        assert!(
            explain_aadsts("AADSTS7000215: Invalid client secret provided.")
                .unwrap()
                .contains("Value")
        );
        assert!(explain_aadsts("AADSTS99999: something").is_none());
    }

    #[test]
    fn tid_from_token() {
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let tok = format!(
            "{}.{}.sig",
            enc.encode("{}"),
            enc.encode(r#"{"tid":"abc"}"#)
        );
        assert_eq!(token_tenant(&tok).as_deref(), Some("abc"));
        assert_eq!(token_tenant("opaque"), None);
    }

    #[test]
    fn pem_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("app.pem");
        std::fs::write(&p, "nothing here").unwrap();
        let e = load_certificate(&p, "c".into(), AssertionAlg::Ps256)
            .unwrap_err()
            .to_string();
        assert!(e.contains("app.pem") && e.contains("CERTIFICATE"), "{e}");
    }
}
