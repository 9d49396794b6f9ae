//! A frugal Graph client on reqwest: bearer tokens, bounded concurrency, `@odata.nextLink`
//! paging (headers re-sent on every page), `$batch` (≤ 20 requests, per-item status and
//! per-item 429 with its own Retry-After), and retries on 429/503/504, resets and truncated
//! bodies honouring Retry-After (seconds or HTTP-date), otherwise exponential backoff with
//! jitter, bounded in attempts and total time. 400/401/403/404 are final.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::auth::TokenProvider;

/// A Graph request that did not succeed, with what Graph said (never a token or secret).
#[derive(Debug, Clone)]
pub struct GraphError {
    /// `GET /beta/groups` (no query string).
    pub what: String,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
    pub attempts: u32,
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.what)?;
        if let Some(s) = self.status {
            write!(f, "HTTP {s} ")?;
        }
        if let Some(c) = &self.code {
            write!(f, "{c}: ")?;
        }
        // Server text: redacted here too, whoever built the error.
        write!(f, "{}", crate::redact::redact(&self.message))?;
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for GraphError {}

pub use super::retry::{RetryPolicy, parse_retry_after, transport_message};
use super::retry::{retry_after_of, retryable_status};

/// What a URL is, for messages: method and path without the query string.
fn what(method: &reqwest::Method, url: &str) -> String {
    let no_query = url.split('?').next().unwrap_or(url);
    let path = match url::Url::parse(no_query) {
        Ok(u) => u.path().to_string(),
        Err(_) => no_query.to_string(),
    };
    format!("{method} {path}")
}

fn error_from_body(what: String, status: u16, body: &Value, attempts: u32) -> GraphError {
    let err = body.get("error");
    let code = err
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let message = err
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error")
                .to_string()
        });
    GraphError {
        what,
        status: Some(status),
        code: code.map(|c| crate::text::server_message(&c)),
        message: crate::text::server_message(&message),
        attempts,
    }
}

/// `scheme://host:port` of a URL (the port made explicit), or `None` when it does not parse.
pub fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let host = u.host_str()?;
    Some(format!(
        "{}://{}:{}",
        u.scheme(),
        host.to_ascii_lowercase(),
        u.port_or_known_default()?
    ))
}

/// Whether `url` shares `root`'s origin. A relative path (`/v1.0/...`) is always on the root.
pub fn same_origin(root: &str, url: &str) -> bool {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return true;
    }
    match (origin_of(root), origin_of(url)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The client. Cheap to share behind an `Arc`.
pub struct GraphClient {
    http: reqwest::Client,
    /// `https://graph.microsoft.com` (no version, no trailing slash).
    pub root: String,
    pub auth: TokenProvider,
    sem: Semaphore,
    pub policy: RetryPolicy,
    requests: AtomicU64,
    retries: AtomicU64,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("root", &self.root)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    pub fn new(
        http: reqwest::Client,
        root: &str,
        mut auth: TokenProvider,
        concurrency: usize,
        policy: RetryPolicy,
    ) -> GraphClient {
        auth.set_policy(policy);
        GraphClient {
            http,
            root: root.trim_end_matches('/').to_string(),
            auth,
            sem: Semaphore::new(concurrency.clamp(1, 64)),
            policy,
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        }
    }

    /// HTTP requests sent so far (including retries and token-free ones).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    pub fn retry_count(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Absolute URL for `/beta/...` style paths; absolute URLs pass through.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{}", self.root, path)
        }
    }

    /// Whether `url` is on the configured Graph root's origin (scheme, host and port). Links
    /// that a server or a saved state hands back are followed only when this holds, so the
    /// bearer token is never sent anywhere else.
    pub fn same_origin(&self, url: &str) -> bool {
        same_origin(&self.root, url)
    }

    /// Send one request with retries; returns the raw body once it is known to be complete.
    pub async fn request_bytes(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Vec<u8>, GraphError> {
        let what = what(&method, url);
        if !self.same_origin(url) {
            // Checked before a token is asked for: nothing leaves for a foreign origin.
            return Err(GraphError {
                what,
                status: None,
                code: Some("foreignOrigin".into()),
                message: format!(
                    "refusing to follow a link to {}, which is not the configured Graph root {} \
                     (the token is only ever sent to the Graph root)",
                    origin_of(url).unwrap_or_else(|| "an unparsable URL".into()),
                    self.root
                ),
                attempts: 0,
            });
        }
        let started = Instant::now();
        let mut refreshed = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let token = self.auth.token().await.map_err(|e| GraphError {
                what: what.clone(),
                status: None,
                code: Some("authentication".into()),
                message: format!("{e:#}"),
                attempts: attempt,
            })?;
            let outcome = {
                let _permit = self.sem.acquire().await.map_err(|_| GraphError {
                    what: what.clone(),
                    status: None,
                    code: None,
                    message: "client shut down".into(),
                    attempts: attempt,
                })?;
                self.requests.fetch_add(1, Ordering::Relaxed);
                let mut rb = self
                    .http
                    .request(method.clone(), url)
                    .bearer_auth(token.expose_secret());
                for (k, v) in headers {
                    rb = rb.header(*k, *v);
                }
                if let Some(b) = body {
                    rb = rb.json(b);
                }
                match rb.send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let h = resp.headers().clone();
                        match resp.bytes().await {
                            Ok(bytes) => Ok((status, h, bytes)),
                            Err(e) => Err(transport_message(&e)),
                        }
                    }
                    Err(e) => Err(transport_message(&e)),
                }
            };
            let (err, delay) = match outcome {
                Err(msg) => (
                    GraphError {
                        what: what.clone(),
                        status: None,
                        code: None,
                        message: msg,
                        attempts: attempt,
                    },
                    None,
                ),
                Ok((status, h, bytes)) => {
                    let text_plain = h
                        .get("content-type")
                        .and_then(|c| c.to_str().ok())
                        .is_some_and(|c| c.starts_with("text/plain"));
                    // Checks the whole body is JSON without building it (cut-off bodies are retried).
                    let checked = if bytes.is_empty() || text_plain {
                        Ok(())
                    } else {
                        serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).map(|_| ())
                    };
                    if (200..300).contains(&status) {
                        match checked {
                            Ok(()) => return Ok(Vec::from(bytes)),
                            Err(e) => (
                                GraphError {
                                    what: what.clone(),
                                    status: Some(status),
                                    code: Some("truncatedBody".into()),
                                    message: format!("the response is not complete JSON ({e})"),
                                    attempts: attempt,
                                },
                                None,
                            ),
                        }
                    } else {
                        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                        let ge = error_from_body(what.clone(), status, &body, attempt);
                        if status == 401 && !refreshed && !self.auth.is_static() {
                            // The cached token may have been revoked or expired early: get a new one once.
                            refreshed = true;
                            self.auth.invalidate().await;
                            attempt -= 1;
                            continue;
                        }
                        if !retryable_status(status) {
                            return Err(ge);
                        }
                        (ge, retry_after_of(&h))
                    }
                }
            };
            let delay = delay.unwrap_or_else(|| self.policy.backoff(attempt));
            if attempt >= self.policy.max_attempts || started.elapsed() + delay > self.policy.budget
            {
                return Err(err);
            }
            tracing::debug!("{err}; retrying in {delay:?}");
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
        }
    }

    /// Send one request with retries; returns the JSON body (`Null` for 204 or empty bodies,
    /// a string for `text/plain` answers such as `$count`).
    pub async fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, GraphError> {
        let bytes = self.request_bytes(method, url, headers, body).await?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())))
    }

    pub async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Value, GraphError> {
        self.request(reqwest::Method::GET, &self.url(url), headers, None)
            .await
    }

    /// Follow `@odata.nextLink` from `first` (a page already fetched) to the end.
    pub async fn rest_of_pages(
        &self,
        first: &Value,
        headers: &[(&str, &str)],
        out: &mut Vec<Value>,
    ) -> Result<(), GraphError> {
        out.extend(
            first
                .get("value")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        );
        let mut next = first
            .get("@odata.nextLink")
            .and_then(Value::as_str)
            .map(str::to_string);
        while let Some(link) = next {
            let page = self.get(&link, headers).await?;
            if let Some(v) = page.get("value").and_then(Value::as_array) {
                out.extend(v.iter().cloned());
            }
            next = page
                .get("@odata.nextLink")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        Ok(())
    }

    /// GET every page of a collection.
    pub async fn get_all(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Vec<Value>, GraphError> {
        let first = self.get(url, headers).await?;
        let mut out = Vec::new();
        self.rest_of_pages(&first, headers, &mut out).await?;
        Ok(out)
    }

    /// GET many relative URLs (`/groups/{id}/members?...`) through `/{version}/$batch`,
    /// 20 per batch, batches in parallel. Items answered 429/503/504 are re-sent after their
    /// own Retry-After; other failures are returned per item.
    pub async fn batch_get(
        self: &Arc<Self>,
        version: &str,
        urls: &[String],
        headers: &[(&str, &str)],
    ) -> Vec<Result<Raw, GraphError>> {
        let chunks: Vec<(usize, &[String])> = urls
            .chunks(20)
            .enumerate()
            .map(|(i, c)| (i * 20, c))
            .collect();
        let futs = chunks
            .iter()
            .map(|(start, c)| self.batch_chunk(version, *start, c, headers));
        let mut results: Vec<Result<Raw, GraphError>> = Vec::with_capacity(urls.len());
        for r in futures_util::future::join_all(futs).await {
            results.extend(r);
        }
        results
    }

    /// One `$batch` of at most 20 GETs; item ids are `start + index`. Bodies come back as raw
    /// JSON text (nothing is built that the caller does not need).
    pub async fn batch_chunk(
        &self,
        version: &str,
        start: usize,
        urls: &[String],
        headers: &[(&str, &str)],
    ) -> Vec<Result<Raw, GraphError>> {
        let items: Vec<BatchRequest<'_>> = urls
            .iter()
            .map(|u| BatchRequest {
                method: "GET",
                url: u,
                body: None,
            })
            .collect();
        self.batch_send(version, start, &items, headers).await
    }

    /// One `$batch` of at most 20 requests (reads or writes); item ids are `start + index`.
    /// The one `$batch` engine: items answered 2xx are never sent again (a write lands at most
    /// once per run); items answered 429/5xx, or not answered, are re-sent after the largest
    /// Retry-After among them (else the policy's backoff), within the client's retry policy;
    /// other answers are final and returned per item with Graph's code and message, redacted.
    pub async fn batch_send(
        &self,
        version: &str,
        start: usize,
        items: &[BatchRequest<'_>],
        headers: &[(&str, &str)],
    ) -> Vec<Result<Raw, GraphError>> {
        let batch_url = format!("{}/{version}/$batch", self.root);
        let item_what = |i: usize| {
            let (m, u) = items.get(i).map(|r| (r.method, r.url)).unwrap_or(("", ""));
            format!("{m} /{version}{}", u.split('?').next().unwrap_or(u))
        };
        let mut results: Vec<Option<Result<Raw, GraphError>>> = vec![None; items.len()];
        let mut pending: Vec<usize> = (0..items.len()).collect();
        let started = Instant::now();
        let mut round = 0u32;
        let hdrs: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        while !pending.is_empty() {
            round += 1;
            let requests: Vec<Value> = pending
                .iter()
                .filter_map(|&i| {
                    let r = items.get(i)?;
                    let mut v = json!({"id": (start + i).to_string(), "method": r.method, "url": r.url, "headers": hdrs});
                    if let Some(b) = r.body {
                        v["body"] = b.clone();
                        v["headers"]["Content-Type"] = json!("application/json");
                    }
                    Some(v)
                })
                .collect();
            let sent = self
                .request_bytes(
                    reqwest::Method::POST,
                    &batch_url,
                    &[],
                    Some(&json!({"requests": requests})),
                )
                .await;
            let parsed = sent.and_then(|bytes| {
                serde_json::from_slice::<BatchResponse<'_>>(&bytes)
                    .map(BatchResponse::into_owned)
                    .map_err(|e| GraphError {
                        what: format!("POST /{version}/$batch"),
                        status: None,
                        code: Some("unexpectedResponse".into()),
                        message: format!("the $batch answer has an unexpected shape ({e})"),
                        attempts: round,
                    })
            });
            let responses = match parsed {
                Ok(r) => r,
                Err(e) => {
                    for &i in &pending {
                        if let Some(slot) = results.get_mut(i) {
                            *slot = Some(Err(GraphError {
                                what: item_what(i),
                                ..e.clone()
                            }));
                        }
                    }
                    break;
                }
            };
            let mut again = Vec::new();
            let mut wait: Option<Duration> = None;
            let mut answered = vec![false; items.len()];
            for r in responses {
                let Some(i) =
                    r.id.as_deref()
                        .and_then(|s| s.parse::<usize>().ok())
                        .and_then(|n| n.checked_sub(start))
                else {
                    continue;
                };
                if !pending.contains(&i) {
                    continue;
                }
                if let Some(a) = answered.get_mut(i) {
                    *a = true;
                }
                let status = r.status;
                if (200..300).contains(&status) {
                    let body = match r.body {
                        Some(b) => b,
                        None => null_raw(),
                    };
                    if let Some(slot) = results.get_mut(i) {
                        *slot = Some(Ok(body));
                    }
                    continue;
                }
                let body: Value = r
                    .body
                    .as_deref()
                    .and_then(|b| serde_json::from_str(b.get()).ok())
                    .unwrap_or(Value::Null);
                let err = error_from_body(item_what(i), status, &body, round);
                if retryable_status(status) && round < self.policy.max_attempts {
                    let ra = r
                        .headers
                        .iter()
                        .flatten()
                        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                        .and_then(|(_, v)| {
                            v.as_str()
                                .map(str::to_string)
                                .or_else(|| v.as_u64().map(|n| n.to_string()))
                        })
                        .and_then(|s| parse_retry_after(&s));
                    wait = Some(
                        wait.unwrap_or(Duration::ZERO)
                            .max(ra.unwrap_or_else(|| self.policy.backoff(round))),
                    );
                    again.push(i);
                }
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(Err(err));
                }
            }
            for &i in &pending {
                if !answered.get(i).copied().unwrap_or(false) {
                    again.push(i);
                    if let Some(slot) = results.get_mut(i) {
                        *slot = Some(Err(GraphError {
                            what: item_what(i),
                            status: None,
                            code: None,
                            message: "no answer in the $batch response".into(),
                            attempts: round,
                        }));
                    }
                }
            }
            let delay = wait.unwrap_or_else(|| self.policy.backoff(round));
            if again.is_empty()
                || round >= self.policy.max_attempts
                || started.elapsed() + delay > self.policy.budget
            {
                break;
            }
            self.retries
                .fetch_add(again.len() as u64, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
            pending = again;
        }
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| {
                    Err(GraphError {
                        what: item_what(i),
                        status: None,
                        code: None,
                        message: "not sent".into(),
                        attempts: 0,
                    })
                })
            })
            .collect()
    }
}

/// One request inside a `$batch`: `method` on `url` (relative to the version, e.g.
/// `/groups/{id}`), with an optional JSON body.
#[derive(Debug, Clone, Copy)]
pub struct BatchRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub body: Option<&'a Value>,
}

/// Raw JSON text of a response body.
pub type Raw = Box<serde_json::value::RawValue>;

fn null_raw() -> Raw {
    serde_json::value::RawValue::from_string("null".into())
        .unwrap_or_else(|_| Box::<serde_json::value::RawValue>::default())
}

/// Parse raw JSON into a value (`Null` if it is somehow not JSON).
pub fn raw_to_value(raw: &serde_json::value::RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

#[derive(serde::Deserialize)]
struct BatchResponse<'a> {
    #[serde(borrow, default)]
    responses: Vec<BatchItem<'a>>,
}

#[derive(serde::Deserialize)]
struct BatchItem<'a> {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    status: u16,
    #[serde(default)]
    headers: Option<serde_json::Map<String, Value>>,
    #[serde(borrow, default)]
    body: Option<&'a serde_json::value::RawValue>,
}

struct OwnedItem {
    id: Option<String>,
    status: u16,
    headers: Option<serde_json::Map<String, Value>>,
    body: Option<Raw>,
}

impl BatchResponse<'_> {
    fn into_owned(self) -> Vec<OwnedItem> {
        self.responses
            .into_iter()
            .map(|r| OwnedItem {
                id: r.id,
                status: r.status,
                headers: r.headers,
                body: r.body.map(ToOwned::to_owned),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let future = time::OffsetDateTime::now_utc() + time::Duration::seconds(30);
        let fmt = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        let s = future.format(&fmt).unwrap();
        let d = parse_retry_after(&s).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
            ..RetryPolicy::default()
        };
        assert!(p.backoff(1) <= Duration::from_millis(150));
        assert!(p.backoff(4) >= Duration::from_millis(400));
        assert!(p.backoff(30) <= Duration::from_secs(2));
    }

    #[test]
    fn error_display_has_no_query() {
        let e = error_from_body(
            what(
                &reqwest::Method::GET,
                "https://g/beta/groups?$select=id&x=y",
            ),
            403,
            &json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}}),
            1,
        );
        assert_eq!(
            e.to_string(),
            "GET /beta/groups: HTTP 403 Authorization_RequestDenied: Insufficient privileges"
        );
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let root = "https://graph.microsoft.com";
        assert!(same_origin(root, "/v1.0/groups"));
        assert!(same_origin(
            root,
            "https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=x"
        ));
        assert!(same_origin(
            root,
            "https://GRAPH.microsoft.com:443/beta/groups"
        ));
        assert!(!same_origin(root, "http://graph.microsoft.com/beta/groups"));
        assert!(!same_origin(root, "https://graph.microsoft.us/beta/groups"));
        assert!(!same_origin(
            root,
            "https://graph.microsoft.com.evil.example/beta"
        ));
        assert!(!same_origin(
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8081/beta/groups/delta"
        ));
        assert!(!same_origin(root, "https://"));
        assert_eq!(
            origin_of("http://127.0.0.1:8080/beta/x").as_deref(),
            Some("http://127.0.0.1:8080")
        );
    }
}
