//! gwb's Graph simulator: serves a bundle or a generated tenant over HTTP on loopback with
//! Graph's documented semantics, for tests, benchmarks and trying gwb without a tenant.
//!
//! This module owns the HTTP layer: the token endpoint, bearer-token checks, injected latency
//! and faults (429, 503, connection resets, truncated bodies, failing paths), `$batch`, and
//! the request counter under `/_sim/`. Graph semantics live in [`store`], the generator in
//! [`generate`].

pub mod approles;
pub mod args;
pub mod generate;
pub mod odata;
pub mod store;
pub mod write;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use base64::Engine;

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
use serde_json::{Value, json};

use odata::Query;
pub use store::Store;
use store::{Req, Resp};

/// Behaviour of a simulator instance.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub latency: Duration,
    /// Percentages (0–100) of requests that get each fault.
    pub fault_429: f64,
    pub fault_503: f64,
    pub fault_reset: f64,
    pub fault_truncate: f64,
    pub fault_seed: u64,
    /// Retry-After seconds on injected 429/503.
    pub retry_after: u64,
    /// Path prefixes (with version, e.g. `/beta/settings`) answered with a fixed status.
    pub fail: Vec<(String, u16)>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub token_lifetime: u64,
    /// Faults placed by request sequence: `(n, fault)` faults the n-th Graph request this
    /// simulator receives (1-based, token requests not counted). Deterministic whatever the
    /// timing; with one request in flight at a time the same request is faulted every run.
    pub fault_at: Vec<(u64, Fault)>,
    /// Faults placed by `$batch` item sequence: `(n, status)` answers the n-th batch item
    /// (1-based, over all batches) with 429 or 503 and Retry-After.
    pub fault_item_at: Vec<(u64, u16)>,
}

/// A fault the simulator can inject into one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 with Retry-After.
    Throttle,
    /// 503 with Retry-After.
    Unavailable,
    /// Half the body, then a connection reset.
    Reset,
    /// Half the body, then a clean end (a cut-off JSON document).
    Truncate,
}

impl Fault {
    pub const ALL: [Fault; 4] = [
        Fault::Throttle,
        Fault::Unavailable,
        Fault::Reset,
        Fault::Truncate,
    ];
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            latency: Duration::ZERO,
            fault_429: 0.0,
            fault_503: 0.0,
            fault_reset: 0.0,
            fault_truncate: 0.0,
            fault_seed: 1,
            retry_after: 1,
            fail: Vec::new(),
            client_id: None,
            client_secret: None,
            token_lifetime: 3599,
            fault_at: Vec::new(),
            fault_item_at: Vec::new(),
        }
    }
}

#[derive(Debug, Default)]
struct Stats {
    requests: u64,
    batch_items: u64,
    by_route: BTreeMap<String, u64>,
    faults: BTreeMap<String, u64>,
    tokens_issued: u64,
    tokens_denied: u64,
    unauthorized: u64,
}

/// State shared by the handlers (and readable by tests).
pub struct Shared {
    store: Mutex<Store>,
    cfg: Mutex<SimConfig>,
    /// How often each request (method, URL and body) has been seen, for fault decisions
    /// that depend on what a request is and how often it was retried, never on arrival order.
    seen: Mutex<HashMap<u64, u64>>,
    stats: Mutex<Stats>,
    tokens: Mutex<HashMap<String, Instant>>,
    writes: Mutex<write::WriteState>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    fn new(store: Store, cfg: SimConfig) -> Shared {
        Shared {
            store: Mutex::new(store),
            seen: Mutex::new(HashMap::new()),
            cfg: Mutex::new(cfg),
            stats: Mutex::new(Stats::default()),
            tokens: Mutex::new(HashMap::new()),
            writes: Mutex::new(write::WriteState::default()),
        }
    }
    /// Request counts as JSON (what `GET /_sim/stats` returns).
    pub fn stats(&self) -> Value {
        let s = lock(&self.stats);
        json!({
            "requests": s.requests,
            "batchItems": s.batch_items,
            "byRoute": s.by_route,
            "faults": s.faults,
            "tokensIssued": s.tokens_issued,
            "tokensDenied": s.tokens_denied,
            "unauthorized": s.unauthorized,
        })
    }
    pub fn reset_stats(&self) {
        *lock(&self.stats) = Stats::default();
    }
    /// Run `f` on the directory (e.g. to change it between collections).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut lock(&self.store))
    }
    /// Write faults, permissions and the accepted writes (see [`write::WriteState`]).
    pub fn with_writes<R>(&self, f: impl FnOnce(&mut write::WriteState) -> R) -> R {
        f(&mut lock(&self.writes))
    }
    /// Answer one Graph request: the writes in [`write`] first, then the store.
    fn dispatch(&self, req: &Req) -> Resp {
        let (resp, revoke) = {
            let mut store = lock(&self.store);
            let mut w = lock(&self.writes);
            let resp = write::handle(&mut store, &mut w, req).unwrap_or_else(|| store.handle(req));
            (resp, w.take_revoke())
        };
        if revoke {
            lock(&self.tokens).clear();
        }
        resp
    }
    /// Change fault injection and latency at run time.
    pub fn with_config<R>(&self, f: impl FnOnce(&mut SimConfig) -> R) -> R {
        f(&mut lock(&self.cfg))
    }
    /// Answer a Graph request as a client would send it (used for test setup and `$batch`).
    pub fn call(&self, method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
        let (version, path, query) = split_url(url);
        let req = Req {
            method: method.to_string(),
            version,
            path,
            query: Query::parse(&query),
            headers: HashMap::new(),
            body,
        };
        let resp = self.dispatch(&req);
        let body = match resp.body {
            store::Body::Json(v) => v,
            store::Body::Raw(t) => serde_json::from_str(&t).unwrap_or(Value::Null),
            store::Body::Text(t) => Value::String(t),
            store::Body::Empty => Value::Null,
        };
        (resp.status, body)
    }
    /// Issue an access token directly (as if the token endpoint had), e.g. for token-file tests.
    pub fn issue_token(&self) -> String {
        let lifetime = self.with_config(|c| c.token_lifetime);
        let token = format!("sim.{}", uuid::Uuid::new_v4().simple());
        lock(&self.tokens).insert(
            token.clone(),
            Instant::now() + Duration::from_secs(lifetime),
        );
        token
    }
    /// A number in [0, 100) for percentage faults, determined by the fault seed, what the
    /// request is (`key`) and how many times it has been seen before: the same requests are
    /// faulted in every run whatever the timing or concurrency, and a retried request draws
    /// afresh (so retries eventually get through).
    fn draw(&self, seed: u64, key: &[u8]) -> f64 {
        let h = fnv1a(key);
        let n = {
            let mut seen = lock(&self.seen);
            let c = seen.entry(h).or_default();
            *c += 1;
            *c
        };
        let x = splitmix64(seed ^ h ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        (x >> 11) as f64 / (1u64 << 53) as f64 * 100.0
    }
    fn bump(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut lock(&self.stats));
    }
}

/// A simulator running on its own thread; stops when dropped.
pub struct SimServer {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SimServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start a simulator on 127.0.0.1:`port` (0 = any free port) on a background thread.
pub fn start(store: Store, cfg: SimConfig, port: u16) -> anyhow::Result<SimServer> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let mut store = store;
    store.base = format!("http://{addr}");
    let shared = Arc::new(Shared::new(store, cfg));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let sh = shared.clone();
    let thread = std::thread::Builder::new()
        .name("graph-sim".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("graph-sim: cannot start runtime: {e}");
                    return;
                }
            };
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let _ = axum::serve(listener.tap_io(no_delay), router(sh))
                    .with_graceful_shutdown(async move {
                        let _ = rx.await;
                    })
                    .await;
            });
        })?;
    Ok(SimServer {
        addr,
        shared,
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

/// Start a simulator inside the current tokio runtime: returns its address and task.
pub async fn spawn(
    store: Store,
    cfg: SimConfig,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>, Arc<Shared>)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let mut store = store;
    store.base = format!("http://{addr}");
    let shared = Arc::new(Shared::new(store, cfg));
    let app = router(shared.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener.tap_io(no_delay), app).await;
    });
    Ok((addr, task, shared))
}

/// Small responses go out at once (no Nagle delay behind the previous segment's ACK).
fn no_delay(tcp: &mut tokio::net::TcpStream) {
    let _ = tcp.set_nodelay(true);
}

fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new()
        .route("/_sim/stats", get(stats_handler).delete(reset_handler))
        .route("/_sim/reset", post(reset_handler))
        .route("/_sim/tenant", get(tenant_handler))
        .route("/_sim/expire-delta", post(expire_handler))
        .route("/{tenant}/oauth2/v2.0/token", post(token_handler))
        .fallback(graph_handler)
        .with_state(shared)
}

async fn stats_handler(State(sh): State<Arc<Shared>>) -> Response {
    axum::Json(sh.stats()).into_response()
}

async fn reset_handler(State(sh): State<Arc<Shared>>) -> Response {
    sh.reset_stats();
    StatusCode::NO_CONTENT.into_response()
}

async fn tenant_handler(State(sh): State<Arc<Shared>>) -> Response {
    axum::Json(sh.with_store(|s| s.to_tenant())).into_response()
}

async fn expire_handler(State(sh): State<Arc<Shared>>) -> Response {
    sh.with_store(Store::expire_delta_tokens);
    StatusCode::NO_CONTENT.into_response()
}

fn oauth_error(status: StatusCode, error: &str, code: &str, description: &str) -> Response {
    let body = json!({
        "error": error,
        "error_description": format!("{code}: {description}"),
        "error_codes": [code.trim_start_matches("AADSTS").parse::<u64>().unwrap_or(0)],
        "timestamp": crate::collect::now_rfc3339(),
        "trace_id": uuid::Uuid::new_v4().to_string(),
        "correlation_id": uuid::Uuid::new_v4().to_string(),
    });
    (status, axum::Json(body)).into_response()
}

fn b64_json(part: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Check a client assertion's shape (header, claims, lifetime); signatures are not verified.
fn check_assertion(jwt: &str, client_id: &str) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, p, sig] = parts.as_slice() else {
        return Err("the client assertion is not a JWT (three parts)".into());
    };
    if sig.is_empty() {
        return Err("the client assertion is not signed".into());
    }
    let header = b64_json(h).ok_or("the client assertion header is not base64url JSON")?;
    let claims = b64_json(p).ok_or("the client assertion payload is not base64url JSON")?;
    match header.get("alg").and_then(Value::as_str) {
        Some("PS256") if header.get("x5t#S256").is_some() => {}
        Some("RS256") if header.get("x5t").is_some() || header.get("x5t#S256").is_some() => {}
        Some(a) => {
            return Err(format!(
                "alg {a} without a matching x5t/x5t#S256 thumbprint"
            ));
        }
        None => return Err("the client assertion header has no alg".into()),
    }
    let s = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or("");
    if !s("aud").ends_with("/oauth2/v2.0/token") {
        return Err("aud must be the token endpoint".into());
    }
    if s("iss") != client_id || s("sub") != client_id {
        return Err("iss and sub must be the client id".into());
    }
    if s("jti").is_empty() {
        return Err("jti is missing".into());
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now => {}
        _ => return Err("the client assertion has expired".into()),
    }
    Ok(())
}

async fn token_handler(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let cfg = sh.with_config(|c| c.clone());
    let deny = |sh: &Shared, r: Response| {
        sh.bump(|s| s.tokens_denied += 1);
        r
    };
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return deny(
            &sh,
            oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "AADSTS70003",
                "The app requested an unsupported grant type.",
            ),
        );
    }
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    if client_id.is_empty() || cfg.client_id.as_ref().is_some_and(|c| *c != client_id) {
        return deny(
            &sh,
            oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "AADSTS700016",
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory."
                ),
            ),
        );
    }
    if !form.get("scope").is_some_and(|s| s.ends_with("/.default")) {
        return deny(
            &sh,
            oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "AADSTS1002012",
                "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
            ),
        );
    }
    if let Some(secret) = form.get("client_secret") {
        if secret.is_empty() || cfg.client_secret.as_ref().is_some_and(|c| c != secret) {
            return deny(
                &sh,
                oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "AADSTS7000215",
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
                ),
            );
        }
    } else if let Some(assertion) = form.get("client_assertion") {
        if form.get("client_assertion_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return deny(
                &sh,
                oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "AADSTS50027",
                    "Invalid client_assertion_type.",
                ),
            );
        }
        if let Err(why) = check_assertion(assertion, &client_id) {
            return deny(
                &sh,
                oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "AADSTS700027",
                    &format!("Client assertion failed signature validation: {why}."),
                ),
            );
        }
    } else {
        return deny(
            &sh,
            oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "AADSTS7000218",
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ),
        );
    }
    let token = format!("sim.{}", uuid::Uuid::new_v4().simple());
    lock(&sh.tokens).insert(
        token.clone(),
        Instant::now() + Duration::from_secs(cfg.token_lifetime),
    );
    sh.bump(|s| s.tokens_issued += 1);
    axum::Json(json!({"token_type": "Bearer", "expires_in": cfg.token_lifetime, "ext_expires_in": cfg.token_lifetime, "access_token": token})).into_response()
}

/// `/beta/groups/x?$select=a` → ("beta", "/groups/x", "$select=a"). Relative batch URLs work too.
fn split_url(url: &str) -> (String, String, String) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let path = path.trim_start_matches('/');
    let (version, rest) = path.split_once('/').unwrap_or((path, ""));
    (version.to_string(), format!("/{rest}"), query.to_string())
}

fn route_label(method: &str, version: &str, path: &str) -> String {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if uuid::Uuid::parse_str(s).is_ok() {
                "{id}".to_string()
            } else {
                s.to_string()
            }
        })
        .collect();
    format!("{method} /{version}/{}", segs.join("/"))
}

fn status_error(status: u16) -> Resp {
    match status {
        401 => store::error(
            401,
            "InvalidAuthenticationToken",
            "Access token validation failure.",
        ),
        403 => store::error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        404 => store::error(404, "Request_ResourceNotFound", "Resource not found."),
        429 => store::error(429, "TooManyRequests", "Please retry again later."),
        503 => store::error(503, "ServiceUnavailable", "Service unavailable."),
        s => store::error(
            s,
            "InternalServerError",
            "The server encountered an error processing the request.",
        ),
    }
}

fn to_response(resp: Resp) -> Response {
    let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder().status(status);
    for (k, v) in &resp.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let body = match resp.body {
        store::Body::Json(v) => Body::from(serde_json::to_vec(&v).unwrap_or_default()),
        store::Body::Raw(t) => Body::from(t),
        store::Body::Text(t) => Body::from(t),
        store::Body::Empty => Body::empty(),
    };
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn throttled(status: u16, retry_after: u64) -> Resp {
    let mut r = status_error(status);
    r.headers
        .push(("retry-after".into(), retry_after.to_string()));
    r
}

async fn graph_handler(
    State(sh): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cfg = sh.with_config(|c| c.clone());
    if !cfg.latency.is_zero() {
        tokio::time::sleep(cfg.latency).await;
    }
    let url = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| uri.path().to_string());
    let (version, path, query) = split_url(&url);
    let label = route_label(method.as_str(), &version, &path);
    let mut seq = 0;
    sh.bump(|s| {
        s.requests += 1;
        seq = s.requests;
        *s.by_route.entry(label).or_default() += 1;
    });
    if version != "beta" && version != "v1.0" {
        return to_response(store::error(
            404,
            "NotFound",
            "Unknown API version; use /v1.0 or /beta.",
        ));
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let valid = bearer.is_some_and(|t| {
        lock(&sh.tokens)
            .get(t)
            .is_some_and(|exp| *exp > Instant::now())
    });
    if !valid {
        sh.bump(|s| s.unauthorized += 1);
        let msg = if bearer.is_none() {
            "Access token is empty."
        } else {
            "Access token has expired or is not valid."
        };
        return to_response(store::error(401, "InvalidAuthenticationToken", msg));
    }
    let full_path = format!("/{version}{path}");
    if let Some((_, st)) = cfg
        .fail
        .iter()
        .find(|(p, _)| full_path.starts_with(p.as_str()))
    {
        sh.bump(|s| *s.faults.entry(format!("fail-{st}")).or_default() += 1);
        return to_response(status_error(*st));
    }
    let placed = cfg
        .fault_at
        .iter()
        .find(|(n, _)| *n == seq)
        .map(|(_, f)| *f);
    let fault = placed.or_else(|| {
        let mut key = format!("{method} {url}\n").into_bytes();
        key.extend_from_slice(&body);
        let r = sh.draw(cfg.fault_seed, &key);
        let mut edge = 0.0;
        [
            (cfg.fault_429, Fault::Throttle),
            (cfg.fault_503, Fault::Unavailable),
            (cfg.fault_reset, Fault::Reset),
            (cfg.fault_truncate, Fault::Truncate),
        ]
        .into_iter()
        .find_map(|(pct, f)| {
            edge += pct;
            (r < edge).then_some(f)
        })
    });
    match fault {
        Some(Fault::Throttle) => {
            sh.bump(|s| *s.faults.entry("429".into()).or_default() += 1);
            return to_response(throttled(429, cfg.retry_after));
        }
        Some(Fault::Unavailable) => {
            sh.bump(|s| *s.faults.entry("503".into()).or_default() += 1);
            return to_response(throttled(503, cfg.retry_after));
        }
        _ => {}
    }
    let reset = fault == Some(Fault::Reset);
    let truncate = fault == Some(Fault::Truncate);

    let hdrs: HashMap<String, String> = headers
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().to_ascii_lowercase(),
                v.to_str().ok()?.to_string(),
            ))
        })
        .collect();
    let body_json = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => Some(v),
            Err(e) => {
                return to_response(store::error(
                    400,
                    "BadRequest",
                    &format!("Invalid JSON body: {e}"),
                ));
            }
        }
    };
    let resp = if method == Method::POST && path == "/$batch" {
        batch(&sh, &cfg, &version, body_json)
    } else {
        let req = Req {
            method: method.as_str().to_string(),
            version,
            path,
            query: Query::parse(&query),
            headers: hdrs,
            body: body_json,
        };
        sh.dispatch(&req)
    };
    if reset || truncate {
        let bytes = match &resp.body {
            store::Body::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            store::Body::Raw(t) => t.clone().into_bytes(),
            store::Body::Text(t) => t.clone().into_bytes(),
            store::Body::Empty => Vec::new(),
        };
        let cut = bytes.len() / 2;
        let half = Bytes::copy_from_slice(bytes.get(..cut).unwrap_or(&[]));
        if reset {
            sh.bump(|s| *s.faults.entry("reset".into()).or_default() += 1);
            let stream = futures_util::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(half),
                Err(std::io::Error::other("connection reset (injected)")),
            ]);
            return Response::builder()
                .status(StatusCode::from_u16(resp.status).unwrap_or(StatusCode::OK))
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
        if !bytes.is_empty() {
            sh.bump(|s| *s.faults.entry("truncate".into()).or_default() += 1);
            return Response::builder()
                .status(StatusCode::from_u16(resp.status).unwrap_or(StatusCode::OK))
                .header("content-type", "application/json")
                .body(Body::from(half))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
    }
    to_response(resp)
}

/// `POST /$batch`: at most 20 requests, unique ids, each answered (and throttled) on its own.
fn batch(sh: &Shared, cfg: &SimConfig, version: &str, body: Option<Value>) -> Resp {
    let Some(requests) = body
        .as_ref()
        .and_then(|b| b.get("requests"))
        .and_then(Value::as_array)
    else {
        return store::error(400, "BadRequest", "Invalid batch payload format.");
    };
    if requests.len() > 20 {
        return store::error(400, "BadRequest", "Number of requests exceeds limit of 20.");
    }
    let mut seen = std::collections::HashSet::new();
    for r in requests {
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        if id.is_empty() || !seen.insert(id) {
            return store::error(
                400,
                "BadRequest",
                "Batch request ids must be present and unique.",
            );
        }
    }
    let mut responses = Vec::new();
    for r in requests {
        let mut item_seq = 0;
        sh.bump(|s| {
            s.batch_items += 1;
            item_seq = s.batch_items;
        });
        let placed_item = cfg
            .fault_item_at
            .iter()
            .find(|(n, _)| *n == item_seq)
            .map(|(_, st)| *st);
        let id = r.get("id").cloned().unwrap_or(Value::Null);
        let method = r
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let url = r.get("url").and_then(Value::as_str).unwrap_or("");
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let path = format!("/{}", path.trim_start_matches('/'));
        let full_path = format!("/{version}{path}");
        sh.bump(|s| {
            *s.by_route
                .entry(format!("batch {}", route_label(&method, version, &path)))
                .or_default() += 1
        });
        let headers: HashMap<String, String> = r
            .get("headers")
            .and_then(Value::as_object)
            .map(|h| {
                h.iter()
                    .filter_map(|(k, v)| Some((k.to_ascii_lowercase(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let resp = if let Some((_, st)) = cfg
            .fail
            .iter()
            .find(|(p, _)| full_path.starts_with(p.as_str()))
        {
            sh.bump(|s| *s.faults.entry(format!("fail-{st}")).or_default() += 1);
            status_error(*st)
        } else if let Some(st) = placed_item {
            sh.bump(|s| *s.faults.entry(format!("{st}-item")).or_default() += 1);
            throttled(st, cfg.retry_after)
        } else if sh.draw(cfg.fault_seed, format!("item {method} {url}").as_bytes()) < cfg.fault_429
        {
            sh.bump(|s| *s.faults.entry("429-item".into()).or_default() += 1);
            throttled(429, cfg.retry_after)
        } else {
            let req = Req {
                method,
                version: version.to_string(),
                path,
                query: Query::parse(query),
                headers,
                body: r.get("body").cloned(),
            };
            sh.dispatch(&req)
        };
        let hdrs: serde_json::Map<String, Value> = resp
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let body = match resp.body {
            store::Body::Json(v) => Some(v.to_string()),
            store::Body::Raw(t) => Some(t),
            store::Body::Text(t) => Some(Value::String(t).to_string()),
            store::Body::Empty => None,
        };
        let mut item = json!({"id": id, "status": resp.status, "headers": hdrs}).to_string();
        if let Some(b) = body {
            item.pop();
            item.push_str(",\"body\":");
            item.push_str(&b);
            item.push('}');
        }
        responses.push(item);
    }
    let text = format!("{{\"responses\":[{}]}}", responses.join(","));
    Resp {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: store::Body::Raw(text),
    }
}

fn parse_fail(s: &str) -> anyhow::Result<(String, u16)> {
    let (p, st) = s
        .rsplit_once('=')
        .with_context(|| format!("--fail {s:?}: expected PREFIX=STATUS"))?;
    let st: u16 = st
        .parse()
        .ok()
        .filter(|n| (400..600).contains(n))
        .with_context(|| format!("--fail {s:?}: STATUS must be 400-599"))?;
    Ok((p.to_string(), st))
}

/// Build the configuration and directory a `gwb graph-sim` command line asks for.
pub fn from_args(args: &args::SimArgs) -> anyhow::Result<(Store, SimConfig)> {
    let store = if let Some(dir) = &args.bundle {
        let path = dir.join("tenant.json");
        let text = crate::text::read_file(&path)?.text;
        let doc: Value = crate::bundle::parse_json(&path, &text)?;
        Store::from_tenant(&doc).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
    } else {
        let spec: generate::GenSpec = match &args.generate {
            Some(s) => s.parse().map_err(|e| anyhow::anyhow!("--generate: {e}"))?,
            None => generate::GenSpec::default(),
        };
        generate::generate(&spec)
    };
    let pct = |name: &str, v: f64| -> anyhow::Result<f64> {
        if (0.0..=100.0).contains(&v) {
            Ok(v)
        } else {
            anyhow::bail!("--{name} must be a percentage between 0 and 100")
        }
    };
    let client_secret = match &args.client_secret_file {
        Some(p) => Some(crate::text::read_file(p)?.text.trim().to_string()),
        None => None,
    };
    let cfg = SimConfig {
        latency: Duration::from_millis(args.latency_ms),
        fault_429: pct("fault-429", args.fault_429)?,
        fault_503: pct("fault-503", args.fault_503)?,
        fault_reset: pct("fault-reset", args.fault_reset)?,
        fault_truncate: pct("fault-truncate", args.fault_truncate)?,
        fault_seed: args.fault_seed,
        retry_after: args.retry_after,
        fail: args
            .fail
            .iter()
            .map(|s| parse_fail(s))
            .collect::<anyhow::Result<_>>()?,
        client_id: args.client_id.clone(),
        client_secret,
        token_lifetime: args.token_lifetime.max(1),
        fault_at: Vec::new(),
        fault_item_at: Vec::new(),
    };
    Ok((store, cfg))
}

/// `gwb graph-sim`: serve until interrupted.
pub fn run(args: &args::SimArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let (store, cfg) = from_args(args)?;
    let server = start(store, cfg, args.port)?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", server.url())?;
        out.flush()?;
    }
    tracing::info!(
        "graph-sim: token endpoint {}/<tenant>/oauth2/v2.0/token, Graph at {}/beta and /v1.0, stats at {}/_sim/stats",
        server.url(),
        server.url(),
        server.url()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    drop(server);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertion_shape_is_checked() {
        let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 300;
        let claims = json!({"aud": "http://x/t/oauth2/v2.0/token", "iss": "c", "sub": "c", "jti": "j", "exp": exp});
        let good = format!(
            "{}.{}.sig",
            enc(json!({"alg": "PS256", "x5t#S256": "abc"})),
            enc(claims.clone())
        );
        assert!(check_assertion(&good, "c").is_ok());
        assert!(check_assertion(&good, "other").is_err());
        let no_thumb = format!("{}.{}.sig", enc(json!({"alg": "PS256"})), enc(claims));
        assert!(check_assertion(&no_thumb, "c").is_err());
        assert!(check_assertion("a.b", "c").is_err());
    }

    #[test]
    fn fail_spec_parses() {
        assert_eq!(
            parse_fail("/beta/settings=500").unwrap(),
            ("/beta/settings".to_string(), 500)
        );
        assert!(parse_fail("/beta/settings=200").is_err());
        assert!(parse_fail("nothing").is_err());
    }

    #[tokio::test]
    async fn spawns_inside_a_runtime_and_requires_tokens() {
        let store = generate::generate(&generate::GenSpec {
            groups: 2,
            members: 5,
            seed: 1,
            big: 0,
        });
        let (addr, task, shared) = spawn(store, SimConfig::default()).await.unwrap();
        let http = reqwest::Client::new();
        let r = http
            .get(format!("http://{addr}/beta/groups"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let token = shared.issue_token();
        let r = http
            .get(format!("http://{addr}/beta/groups?$select=id"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["value"].as_array().unwrap().len(), 2);
        assert_eq!(shared.stats()["requests"], 2);
        task.abort();
    }

    #[test]
    fn labels_hide_ids() {
        assert_eq!(
            route_label(
                "GET",
                "beta",
                "/groups/0b5d3f2e-6a1e-4c59-9f6c-1a2b3c4d5e6f/members"
            ),
            "GET /beta/groups/{id}/members"
        );
    }
}
