//! Graph writes for the tenant-side changes (`gwb tenant apply`): `PATCH`, `POST` and
//! `DELETE` requests sent through `$batch` (20 per batch) on top of [`GraphClient`]. Items
//! answered 429/503/504 are re-sent after their own Retry-After, bounded by the client's retry
//! policy; items answered 2xx are never sent again, so a write lands at most once per run;
//! 400/403/404 answers are final and returned per item with Graph's code and message.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::client::{GraphClient, GraphError, parse_retry_after};

/// One write: `method` on `url` (relative to the version, e.g. `/groups/{id}`).
#[derive(Debug, Clone)]
pub struct WriteRequest {
    pub method: String,
    pub url: String,
    pub body: Option<Value>,
}

fn retryable(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

fn item_error(what: String, status: u16, body: &Value, attempts: u32) -> GraphError {
    let err = body.get("error");
    GraphError {
        what,
        status: Some(status),
        code: err
            .and_then(|e| e.get("code"))
            .and_then(Value::as_str)
            .map(str::to_string),
        message: err
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP {status}")),
        attempts,
    }
}

/// Send every write through `/{version}/$batch`, 20 per batch, batches one after another
/// (writes stay in plan order). `done(n)` is called as items finish, for progress bars.
pub async fn batch_write(
    client: &Arc<GraphClient>,
    version: &str,
    writes: &[WriteRequest],
    done: &(dyn Fn(usize) + Sync),
) -> Vec<Result<Value, GraphError>> {
    let mut out = Vec::with_capacity(writes.len());
    for (n, chunk) in writes.chunks(20).enumerate() {
        let results = batch_chunk(client, version, n * 20, chunk).await;
        done(results.len());
        out.extend(results);
    }
    out
}

async fn batch_chunk(
    client: &Arc<GraphClient>,
    version: &str,
    start: usize,
    items: &[WriteRequest],
) -> Vec<Result<Value, GraphError>> {
    let batch_url = format!("{}/{version}/$batch", client.root);
    let what = |i: usize| {
        items
            .get(i)
            .map(|w| format!("{} /{version}{}", w.method, w.url))
            .unwrap_or_default()
    };
    let mut results: Vec<Option<Result<Value, GraphError>>> = vec![None; items.len()];
    let mut pending: Vec<usize> = (0..items.len()).collect();
    let started = Instant::now();
    let policy = client.policy;
    let mut round = 0u32;
    while !pending.is_empty() {
        round += 1;
        let requests: Vec<Value> = pending
            .iter()
            .filter_map(|&i| {
                let w = items.get(i)?;
                let mut r =
                    json!({"id": (start + i).to_string(), "method": w.method, "url": w.url});
                if let Some(b) = &w.body {
                    r["body"] = b.clone();
                    r["headers"] = json!({"Content-Type": "application/json"});
                }
                Some(r)
            })
            .collect();
        let sent = client
            .request(
                reqwest::Method::POST,
                &batch_url,
                &[],
                Some(&json!({"requests": requests})),
            )
            .await;
        let responses = match sent {
            Ok(v) => v
                .get("responses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            Err(e) => {
                // The whole $batch failed after the client's own retries: nothing in it was
                // answered, so every pending item carries that error.
                for &i in &pending {
                    if let Some(slot) = results.get_mut(i) {
                        *slot = Some(Err(GraphError {
                            what: what(i),
                            ..e.clone()
                        }));
                    }
                }
                break;
            }
        };
        let mut again = Vec::new();
        let mut wait = Duration::ZERO;
        let mut answered = vec![false; items.len()];
        for r in &responses {
            let Some(i) = r
                .get("id")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<usize>().ok())
                .and_then(|n| n.checked_sub(start))
                .filter(|i| pending.contains(i))
            else {
                continue;
            };
            if let Some(a) = answered.get_mut(i) {
                *a = true;
            }
            let status = r
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(0);
            let body = r.get("body").cloned().unwrap_or(Value::Null);
            let slot = results.get_mut(i);
            if (200..300).contains(&status) {
                if let Some(slot) = slot {
                    *slot = Some(Ok(body));
                }
                continue;
            }
            if retryable(status) {
                let ra = r
                    .get("headers")
                    .and_then(Value::as_object)
                    .and_then(|h| {
                        h.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                            .map(|(_, v)| v.clone())
                    })
                    .and_then(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .or_else(|| v.as_u64().map(|n| n.to_string()))
                    })
                    .and_then(|s| parse_retry_after(&s))
                    .unwrap_or_else(|| policy.backoff(round));
                wait = wait.max(ra);
                again.push(i);
            }
            if let Some(slot) = slot {
                *slot = Some(Err(item_error(what(i), status, &body, round)));
            }
        }
        for &i in &pending {
            if !answered.get(i).copied().unwrap_or(false) {
                again.push(i);
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(Err(GraphError {
                        what: what(i),
                        status: None,
                        code: None,
                        message: "no answer in the $batch response".into(),
                        attempts: round,
                    }));
                }
            }
        }
        if again.is_empty()
            || round >= policy.max_attempts
            || started.elapsed() + wait > policy.budget
        {
            break;
        }
        tracing::debug!(
            "{} of {} $batch items throttled; re-sending them in {wait:?}",
            again.len(),
            pending.len()
        );
        tokio::time::sleep(wait).await;
        pending = again;
    }
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|| {
                Err(GraphError {
                    what: what(i),
                    status: None,
                    code: None,
                    message: "not sent".into(),
                    attempts: 0,
                })
            })
        })
        .collect()
}

/// Group properties the tenant plan reads back before writing (the stale-plan check).
pub const GROUP_CHECK_SELECT: &str = "id,displayName,groupTypes,mailEnabled,securityEnabled,onPremisesSyncEnabled,isAssignableToRole,writebackConfiguration";

/// Read groups by id (beta, through `$batch`); a group that is gone is `Ok(None)`.
pub async fn read_groups(
    client: &Arc<GraphClient>,
    ids: &[String],
) -> Vec<Result<Option<Value>, GraphError>> {
    let urls: Vec<String> = ids
        .iter()
        .map(|id| format!("/groups/{id}?$select={GROUP_CHECK_SELECT}"))
        .collect();
    client
        .batch_get("beta", &urls, &[])
        .await
        .into_iter()
        .map(|r| match r {
            Ok(raw) => Ok(Some(super::client::raw_to_value(&raw))),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        })
        .collect()
}

/// Every directory setting of the tenant (`GET /beta/settings`, all pages).
pub async fn read_settings(client: &Arc<GraphClient>) -> Result<Vec<Value>, GraphError> {
    client.get_all("/beta/settings", &[]).await
}

/// A directory setting template (`GET /beta/directorySettingTemplates/{id}`).
pub async fn read_template(client: &Arc<GraphClient>, id: &str) -> Result<Value, GraphError> {
    client
        .get(&format!("/beta/directorySettingTemplates/{id}"), &[])
        .await
}
