//! Graph writes for the tenant-side changes (`gwb tenant apply`): `PATCH`, `POST` and
//! `DELETE` requests sent through `$batch` (20 per batch, batches in plan order) on
//! [`GraphClient::batch_send`], the client's one `$batch` engine: throttled items are re-sent
//! within the client's retry policy, items answered 2xx are never sent again (a write lands at
//! most once per run), and other answers are final, per item, with Graph's code and message.

use std::sync::Arc;

use serde_json::Value;

use super::client::{BatchRequest, GraphClient, GraphError, raw_to_value};

/// One write: `method` on `url` (relative to the version, e.g. `/groups/{id}`).
#[derive(Debug, Clone)]
pub struct WriteRequest {
    pub method: String,
    pub url: String,
    pub body: Option<Value>,
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
    let requests: Vec<BatchRequest<'_>> = items
        .iter()
        .map(|w| BatchRequest {
            method: &w.method,
            url: &w.url,
            body: w.body.as_ref(),
        })
        .collect();
    client
        .batch_send(version, start, &requests, &[])
        .await
        .into_iter()
        .map(|r| r.map(|raw| raw_to_value(&raw)))
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
