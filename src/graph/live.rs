//! Live collection: which requests gwb sends, in which order, and what it does when a
//! section fails. Full collection = one `$batch` for the small sections and the delta
//! bookmark, `/v1.0/subscribedSkus`, paged `/beta/groups` ($top=999) and each group's first
//! members page through `$batch` (20 groups per request), following nextLinks only for larger
//! groups. Incremental collection replays the groups delta since the stored deltaLink.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use serde_json::{Map, Value};

use super::client::{GraphClient, GraphError, Raw, raw_to_value};
use super::model::{Collected, GroupRec, MemberTable};

/// Group properties gwb reads (beta; writebackConfiguration must be selected explicitly).
pub const GROUP_SELECT: &str = "id,displayName,description,groupTypes,mailEnabled,securityEnabled,mail,mailNickname,\
proxyAddresses,membershipRule,membershipRuleProcessingState,onPremisesSyncEnabled,onPremisesSecurityIdentifier,\
onPremisesSamAccountName,onPremisesDomainName,onPremisesNetBiosName,onPremisesLastSyncDateTime,isAssignableToRole,\
visibility,createdDateTime,deletedDateTime,writebackConfiguration";

/// Member properties gwb reads (users, groups and devices in one `$select`).
pub const MEMBER_SELECT: &str = "id,displayName,userPrincipalName,onPremisesSyncEnabled,onPremisesSecurityIdentifier,\
onPremisesObjectIdentifier,onPremisesImmutableId,onPremisesDistinguishedName,deviceId,trustType,groupTypes,\
securityEnabled,mailEnabled";

/// User properties tracked with `/users/delta` (what members carry).
pub const USER_SELECT: &str = "id,displayName,userPrincipalName,onPremisesSyncEnabled,onPremisesSecurityIdentifier,\
onPremisesObjectIdentifier,onPremisesImmutableId,onPremisesDistinguishedName";

/// Device properties tracked with `/devices/delta`.
pub const DEVICE_SELECT: &str =
    "id,displayName,deviceId,trustType,onPremisesSyncEnabled,onPremisesSecurityIdentifier";

/// What an administrator should do about a failed section.
pub fn explain(section: &str, e: &GraphError) -> String {
    let perm = match section {
        "onPremisesSynchronization" => {
            "reading /directory/onPremisesSynchronization needs OnPremDirectorySynchronization.Read.All, which Microsoft \
documents as delegated-only (Global Administrator); without it the tenant's writeback feature flags are unknown. \
Fallback evidence: on the Entra Connect server run `Get-ADSyncAADCompanyFeature | ConvertTo-Json > features.json` \
and put the file in the bundle's connect/ directory (or pass it to gwb audit with --evidence)"
        }
        "settings" => "reading /settings needs GroupSettings.Read.All (or Directory.Read.All)",
        "subscribedSkus" => "reading /subscribedSkus needs Organization.Read.All",
        "deletedGroups" => "reading deleted groups needs Group.Read.All (or GroupMember.Read.All)",
        "groups" => {
            "reading groups with writebackConfiguration needs Group.Read.All (GroupMember.Read.All covers the rest)"
        }
        crate::core::soa::SECTION => {
            "reading /groups/{id}/onPremisesSyncBehavior needs Group-OnPremisesSyncBehavior.ReadWrite.All (the only permission Microsoft \
documents for it, even to read) and the Hybrid Administrator role for delegated access; without it a group that carries an on-premises \
SID and is not synced may have been converted to the cloud or be rolling back, and no target writes it"
        }
        "members" => {
            "reading members needs GroupMember.Read.All, plus User.Read.All and Device.Read.All to see members' on-premises fields"
        }
        _ => "",
    };
    let advice = match (e.status, e.code.as_deref()) {
        (Some(403), _) => perm.to_string(),
        (Some(401), _) => "the access token was rejected: it expired, or was issued for another resource or cloud (tokens are not interchangeable between clouds)".to_string(),
        (Some(404), _) if section == "onPremisesSynchronization" => "the tenant has no on-premises synchronization object".to_string(),
        (Some(429), _) => "still throttled after every retry: run again later or with a lower --concurrency".to_string(),
        (_, Some("truncatedBody")) | (None, _) => "the connection kept failing: check the network or proxy and run again".to_string(),
        _ => String::new(),
    };
    if advice.is_empty() {
        format!("{section}: {e}")
    } else {
        format!("{section}: {e}\n  what to do: {advice}")
    }
}

fn warn_section(c: &mut Collected, section: &str, e: &GraphError) {
    tracing::warn!("{}", explain(section, e));
    c.mark_incomplete(section);
}

fn progress(len: u64, msg: &'static str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || !tracing::enabled!(tracing::Level::WARN) {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg:>14} [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(msg);
    pb
}

/// The small sections (one `$batch`) and subscribedSkus; optionally the delta bookmark.
/// The small sections (one `$batch`) and subscribedSkus. A full collection also takes the
/// delta bookmarks (groups, users, devices); an incremental one replays the users and devices
/// deltas into the stored members and fails (to fall back to a full collection) when it cannot.
async fn sections(
    client: &Arc<GraphClient>,
    c: &mut Collected,
    with_delta_latest: bool,
) -> Result<(), String> {
    let beta_root = format!("{}/beta", client.root);
    let object_links: Vec<(&'static str, Option<String>)> = if with_delta_latest {
        Vec::new()
    } else {
        vec![
            ("users", c.users_delta_link.clone()),
            ("devices", c.devices_delta_link.clone()),
        ]
    };
    let mut object_urls = Vec::new();
    for (kind, link) in &object_links {
        let Some(link) = link else {
            return Err(format!("the bundle has no {kind}DeltaLink"));
        };
        let Some(rel) = link.strip_prefix(&beta_root) else {
            return Err(format!("the {kind} delta link is not for {beta_root}"));
        };
        object_urls.push(rel.to_string());
    }
    let mut urls = vec![
        "/directory/onPremisesSynchronization".to_string(),
        "/settings".to_string(),
        format!("/directory/deletedItems/microsoft.graph.group?$select={GROUP_SELECT}&$top=999"),
        "/organization?$select=id".to_string(),
    ];
    if with_delta_latest {
        urls.push(format!(
            "/groups/delta?$select={GROUP_SELECT},members&$deltatoken=latest"
        ));
        urls.push(format!(
            "/users/delta?$select={USER_SELECT}&$deltatoken=latest"
        ));
        urls.push(format!(
            "/devices/delta?$select={DEVICE_SELECT}&$deltatoken=latest"
        ));
    }
    urls.extend(object_urls);
    let (results, skus) = tokio::join!(
        async {
            client
                .batch_get("beta", &urls, &[])
                .await
                .into_iter()
                .map(|r| r.map(|raw| raw_to_value(&raw)))
                .collect::<Vec<_>>()
        },
        client.get_all("/v1.0/subscribedSkus", &[])
    );
    let mut it = results.into_iter();
    match it.next() {
        Some(Ok(body)) => {
            c.onprem = body
                .get("value")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .cloned();
        }
        Some(Err(e)) => warn_section(c, "onPremisesSynchronization", &e),
        None => c.mark_incomplete("onPremisesSynchronization"),
    }
    match it.next() {
        Some(Ok(body)) => {
            let mut all = Vec::new();
            match client.rest_of_pages(&body, &[], &mut all).await {
                Ok(()) => c.settings = Some(all),
                Err(e) => warn_section(c, "settings", &e),
            }
        }
        Some(Err(e)) => warn_section(c, "settings", &e),
        None => c.mark_incomplete("settings"),
    }
    match it.next() {
        Some(Ok(body)) => {
            let mut all = Vec::new();
            match client.rest_of_pages(&body, &[], &mut all).await {
                Ok(()) => c.deleted = Some(all),
                Err(e) => warn_section(c, "deletedGroups", &e),
            }
        }
        Some(Err(e)) => warn_section(c, "deletedGroups", &e),
        None => c.mark_incomplete("deletedGroups"),
    }
    if let Some(Ok(body)) = it.next()
        && let Some(id) = body
            .get("value")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str)
    {
        c.tenant_id = Some(id.to_string());
    }
    if with_delta_latest {
        let bookmark = |r: Option<Result<Value, GraphError>>, what: &str| match r {
            Some(Ok(body)) => body
                .get("@odata.deltaLink")
                .and_then(Value::as_str)
                .map(str::to_string),
            Some(Err(e)) => {
                tracing::warn!(
                    "{what} delta bookmark: {e}; the next --incremental run will collect everything again"
                );
                None
            }
            None => None,
        };
        c.delta_link = bookmark(it.next(), "groups");
        c.users_delta_link = bookmark(it.next(), "users");
        c.devices_delta_link = bookmark(it.next(), "devices");
    }
    let mut failure = None;
    for (kind, _) in &object_links {
        match replay_objects(client, it.next(), &mut c.table).await {
            Ok(link) => {
                if *kind == "users" {
                    c.users_delta_link = Some(link);
                } else {
                    c.devices_delta_link = Some(link);
                }
            }
            Err(e) => failure = Some(format!("the {kind} delta failed ({e})")),
        }
    }
    match skus {
        Ok(v) => c.skus = Some(v),
        Err(e) => warn_section(c, "subscribedSkus", &e),
    }
    match failure {
        Some(f) => Err(f),
        None => Ok(()),
    }
}

/// Apply one users or devices delta round to the stored members; returns the new deltaLink.
async fn replay_objects(
    client: &GraphClient,
    first: Option<Result<Value, GraphError>>,
    table: &mut MemberTable,
) -> Result<String, GraphError> {
    let mut page = match first {
        Some(r) => r?,
        None => {
            return Err(GraphError {
                what: "delta".into(),
                status: None,
                code: None,
                message: "no answer".into(),
                attempts: 0,
            });
        }
    };
    loop {
        for obj in page
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if obj.get("@removed").is_some() {
                continue; // memberships of deleted objects arrive through the groups delta
            }
            if let (Some(id), Some(props)) =
                (obj.get("id").and_then(Value::as_str), obj.as_object())
            {
                table.update_props(id, props);
            }
        }
        if let Some(next) = page
            .get("@odata.nextLink")
            .and_then(Value::as_str)
            .map(str::to_string)
        {
            page = client.get(&next, &[]).await?;
        } else if let Some(link) = page.get("@odata.deltaLink").and_then(Value::as_str) {
            return Ok(link.to_string());
        } else {
            return Err(GraphError {
                what: "delta".into(),
                status: None,
                code: None,
                message: "a delta page had neither nextLink nor deltaLink".into(),
                attempts: 1,
            });
        }
    }
}

/// Intern one members page and follow its nextLinks, interning as pages arrive.
async fn member_pages(
    client: &GraphClient,
    first: Raw,
    table: &Mutex<MemberTable>,
) -> Result<Vec<u32>, GraphError> {
    let mut ids = Vec::new();
    let mut next = intern_page(first.get().as_bytes(), table, &mut ids, "members page")?;
    while let Some(link) = next {
        let bytes = client
            .request_bytes(reqwest::Method::GET, &client.url(&link), &[], None)
            .await?;
        next = intern_page(&bytes, table, &mut ids, &link)?;
    }
    Ok(ids)
}

/// One members page, read without building its objects: each member's JSON text is kept as is.
#[derive(serde::Deserialize)]
struct MembersPage<'a> {
    #[serde(borrow, default)]
    value: Vec<&'a serde_json::value::RawValue>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

fn intern_page(
    bytes: &[u8],
    table: &Mutex<MemberTable>,
    ids: &mut Vec<u32>,
    what: &str,
) -> Result<Option<String>, GraphError> {
    let page: MembersPage<'_> = serde_json::from_slice(bytes).map_err(|e| GraphError {
        what: what.split('?').next().unwrap_or(what).to_string(),
        status: None,
        code: Some("unexpectedResponse".into()),
        message: format!("a members page has an unexpected shape ({e})"),
        attempts: 1,
    })?;
    let mut t = table
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for m in page.value {
        if let Some(i) = t.intern_raw(m, false) {
            ids.push(i);
        }
    }
    Ok(page.next_link)
}

type MemberResults = Vec<(usize, Result<Vec<u32>, GraphError>)>;

/// List groups page by page and, while later pages are still coming, fetch members: first
/// pages 20 groups per `$batch`, batches in parallel, nextLinks only for larger groups.
async fn groups_and_members(
    client: &Arc<GraphClient>,
    concurrency: usize,
    all_members: bool,
) -> (
    Result<Vec<GroupRec>, GraphError>,
    MemberTable,
    Vec<GraphError>,
) {
    let table = Arc::new(Mutex::new(MemberTable::default()));
    let pb = progress(0, "groups");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<(Vec<usize>, Vec<String>)>();
    let producer = async {
        let mut groups: Vec<GroupRec> = Vec::new();
        // Indices of groups whose members are fetched; `sent` of them are already queued.
        let mut queue: Vec<usize> = Vec::new();
        let mut sent = 0usize;
        let mut seen = 0usize;
        let mut url = format!("/beta/groups?$select={GROUP_SELECT}&$top=999");
        // On a terminal the bar shows a total: $count rides on the first page, which needs
        // ConsistencyLevel: eventual on that page and on every nextLink page after it.
        let counted = !pb.is_hidden();
        let headers: &[(&str, &str)] = if counted {
            &[("ConsistencyLevel", "eventual")]
        } else {
            &[]
        };
        if counted {
            url.push_str("&$count=true");
        }
        loop {
            let mut page = client.get(&url, headers).await?;
            if let Some(total) = page.get("@odata.count").and_then(Value::as_u64) {
                pb.set_length(total);
            }
            let list = match page.get_mut("value").map(Value::take) {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            };
            for g in list {
                if let Value::Object(o) = g {
                    // Members of groups no target writes back are never needed (unless asked for).
                    let wanted = all_members || !crate::graph::model::members_irrelevant(&o);
                    if let Some(rec) = GroupRec::from_object(o) {
                        if wanted {
                            queue.push(groups.len());
                        } else {
                            pb.inc(1);
                        }
                        groups.push(rec);
                    }
                }
            }
            let next = page
                .get("@odata.nextLink")
                .and_then(Value::as_str)
                .map(str::to_string);
            if !counted {
                pb.inc_length((groups.len() - seen) as u64);
            }
            seen = groups.len();
            while queue.len() - sent >= 20 || (next.is_none() && sent < queue.len()) {
                let end = (sent + 20).min(queue.len());
                let idx: Vec<usize> = queue.get(sent..end).unwrap_or(&[]).to_vec();
                let urls = idx
                    .iter()
                    .filter_map(|&i| groups.get(i))
                    .map(|g| format!("/groups/{}/members?$select={MEMBER_SELECT}&$top=999", g.id))
                    .collect();
                let _ = tx.send((idx, urls));
                sent = end;
            }
            match next {
                Some(n) => url = n,
                None => break,
            }
        }
        drop(tx);
        Ok::<_, GraphError>(groups)
    };
    let consumer =
        async {
            let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|x| (x, rx))
            });
            // Each batch runs as its own task, so parsing responses uses every worker thread
            // while other requests are in flight.
            let stream = chunks
                .map(|(idx, urls): (Vec<usize>, Vec<String>)| {
                    let client = client.clone();
                    let table = table.clone();
                    let pb = pb.clone();
                    tokio::spawn(async move {
                        let start = idx.first().copied().unwrap_or(0);
                        let results = client.batch_chunk("beta", start, &urls, &[]).await;
                        let idx = &idx;
                        let (client_ref, table_ref) = (&client, &table);
                        let follow = results.into_iter().enumerate().map(|(k, r)| async move {
                            match r {
                                Ok(body) => (
                                    idx.get(k).copied().unwrap_or(usize::MAX),
                                    member_pages(client_ref, body, table_ref).await,
                                ),
                                Err(e) => (idx.get(k).copied().unwrap_or(usize::MAX), Err(e)),
                            }
                        });
                        let out: MemberResults = futures_util::future::join_all(follow).await;
                        pb.inc(urls.len() as u64);
                        out
                    })
                })
                .buffer_unordered(concurrency.clamp(1, 64) * 2);
            let mut stream = std::pin::pin!(stream);
            let mut all: MemberResults = Vec::new();
            let mut failed = Vec::new();
            while let Some(batch) = stream.next().await {
                match batch {
                    Ok(b) => all.extend(b),
                    Err(e) => failed.push(GraphError {
                        what: "members".into(),
                        status: None,
                        code: None,
                        message: format!("a worker task failed: {e}"),
                        attempts: 0,
                    }),
                }
            }
            (all, failed)
        };
    let (groups, (results, failed)) = tokio::join!(producer, consumer);
    pb.finish_and_clear();
    let table = match Arc::try_unwrap(table) {
        Ok(m) => m
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        Err(shared) => std::mem::take(
            &mut *shared
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        ),
    };
    let mut groups = match groups {
        Ok(g) => g,
        Err(e) => return (Err(e), table, Vec::new()),
    };
    let mut errors = failed;
    if !errors.is_empty() {
        // A lost task means some groups have no members entry: the section is incomplete.
        tracing::warn!("{} member batches were lost", errors.len());
    }
    for (i, r) in results {
        match r {
            Ok(ids) => {
                if let Some(g) = groups.get_mut(i) {
                    g.members = Some(ids);
                }
            }
            Err(e) => {
                let id = groups.get(i).map(|g| g.id.as_str()).unwrap_or("?");
                tracing::warn!("members of group {id}: {e}");
                errors.push(e);
            }
        }
    }
    (Ok(groups), table, errors)
}

/// A full collection.
pub async fn full(
    client: &Arc<GraphClient>,
    tenant_hint: Option<String>,
    concurrency: usize,
    all_members: bool,
) -> Collected {
    let mut c = Collected {
        tenant_id: tenant_hint,
        ..Collected::default()
    };
    // The delta bookmark is taken first, so changes made during the collection show up next time.
    let _ = sections(client, &mut c, true).await;
    let (groups, table, errors) = groups_and_members(client, concurrency, all_members).await;
    c.table = table;
    match groups {
        Ok(groups) => {
            if let Some(e) = errors.first() {
                tracing::warn!("{}", explain("members", e));
                c.mark_incomplete("groups");
            }
            c.groups = Some(groups);
        }
        Err(e) => warn_section(&mut c, "groups", &e),
    }
    sync_behaviors(client, &mut c).await;
    if let Some(onprem_id) = c
        .onprem
        .as_ref()
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str)
        && c.tenant_id
            .as_deref()
            .is_none_or(|t| crate::ad::ids::parse_guid(t).is_none())
    {
        c.tenant_id = Some(onprem_id.to_string());
    }
    c.collected_at = Some(crate::bundle::now_rfc3339());
    c
}

/// Changes to one group gathered from delta pages.
#[derive(Default)]
struct GroupDelta {
    props: Map<String, Value>,
    /// (member reference, removed?) in arrival order.
    members: Vec<(Value, bool)>,
    removed: bool,
}

/// Outcome of replaying the delta.
pub enum Incremental {
    Done(Box<Collected>),
    /// The stored deltaLink no longer works: collect everything.
    Expired(String),
}

/// Replay the groups delta since `prev.delta_link` into `prev`.
pub async fn incremental(client: &Arc<GraphClient>, mut prev: Collected) -> Incremental {
    let Some(mut link) = prev.delta_link.clone() else {
        return Incremental::Expired("the bundle has no groupsDeltaLink".into());
    };
    if !prev.incomplete.is_empty() {
        return Incremental::Expired(format!(
            "the previous collection was incomplete ({})",
            prev.incomplete.join(", ")
        ));
    }
    if prev.groups.is_none() {
        return Incremental::Expired("the bundle has no groups".into());
    }
    let mut order: Vec<String> = Vec::new();
    let mut changes: HashMap<String, GroupDelta> = HashMap::new();
    let new_link = loop {
        let page = match client.get(&link, &[]).await {
            Ok(p) => p,
            Err(e)
                if e.status == Some(410)
                    || e.code.as_deref() == Some("syncStateNotFound")
                    || (e.status == Some(400) && e.message.contains("sync state")) =>
            {
                return Incremental::Expired(format!("the delta token has expired ({e})"));
            }
            Err(e) => {
                // Nothing is merged: keep the previous state, say it is stale.
                tracing::warn!("{}", explain("groups", &e));
                prev.mark_incomplete("groups");
                return Incremental::Done(Box::new(prev));
            }
        };
        for item in page
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(obj) = item.as_object() else {
                continue;
            };
            let Some(id) = obj.get("id").and_then(Value::as_str) else {
                continue;
            };
            let key = id.to_ascii_lowercase();
            let d = changes.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                GroupDelta::default()
            });
            for (k, v) in obj {
                match k.as_str() {
                    "@removed" => d.removed = true,
                    "members@delta" => {
                        for m in v.as_array().into_iter().flatten() {
                            d.members.push((m.clone(), m.get("@removed").is_some()));
                        }
                    }
                    k if k.starts_with("@odata.") => {}
                    _ => {
                        d.props.insert(k.to_string(), v.clone());
                    }
                }
            }
        }
        if let Some(n) = page.get("@odata.nextLink").and_then(Value::as_str) {
            link = n.to_string();
        } else {
            break page
                .get("@odata.deltaLink")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
    };
    if let Err(why) = sections(client, &mut prev, false).await {
        return Incremental::Expired(why);
    }

    // Members added since the last run: fetch their on-premises fields (20 per $batch).
    let mut to_fetch: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for d in changes.values() {
        for (m, removed) in &d.members {
            if !removed
                && let Some(mid) = m.get("id").and_then(Value::as_str)
                && seen.insert(mid.to_ascii_lowercase())
            {
                to_fetch.push(mid.to_string());
            }
        }
    }
    let urls: Vec<String> = to_fetch
        .iter()
        .map(|id| format!("/directoryObjects/{id}?$select={MEMBER_SELECT}"))
        .collect();
    let fetched = client
        .batch_get("beta", &urls, &[])
        .await
        .into_iter()
        .map(|r| r.map(|raw| raw_to_value(&raw)));
    for (id, r) in to_fetch.iter().zip(fetched) {
        match r {
            Ok(mut obj) => {
                if let Some(o) = obj.as_object_mut() {
                    o.remove("@odata.context");
                }
                prev.table.intern(&obj, true);
            }
            Err(e) => {
                tracing::warn!("member {id}: {e}");
                prev.mark_incomplete("groups");
            }
        }
    }

    let mut groups = prev.groups.take().unwrap_or_default();
    let mut pos: HashMap<String, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.id.to_ascii_lowercase(), i))
        .collect();
    let mut drop_ids = std::collections::HashSet::new();
    for key in &order {
        let Some(d) = changes.remove(key) else {
            continue;
        };
        if d.removed {
            drop_ids.insert(key.clone());
            continue;
        }
        let idx = match pos.get(key) {
            Some(&i) => i,
            None => {
                let Some(mut rec) = GroupRec::from_object(d.props.clone()) else {
                    continue;
                };
                rec.members = Some(Vec::new());
                groups.push(rec);
                pos.insert(key.clone(), groups.len() - 1);
                groups.len() - 1
            }
        };
        let Some(g) = groups.get_mut(idx) else {
            continue;
        };
        if !d.props.is_empty() {
            let mut obj = g.object();
            for (k, v) in d.props {
                obj.insert(k, v);
            }
            g.json = Value::Object(obj).to_string();
        }
        if let Some(list) = g.members.as_mut() {
            for (m, removed) in d.members {
                let Some(mid) = m.get("id").and_then(Value::as_str) else {
                    continue;
                };
                if removed {
                    let copies = prev.table.lookup_all(mid);
                    list.retain(|x| !copies.contains(x));
                } else if let Some(ti) = prev.table.lookup(mid)
                    && !list.contains(&ti)
                {
                    list.push(ti);
                }
            }
        }
    }
    groups.retain(|g| !drop_ids.contains(&g.id.to_ascii_lowercase()));
    prev.groups = Some(groups);
    prev.delta_link = new_link;
    sync_behaviors(client, &mut prev).await;
    prev.collected_at = Some(crate::bundle::now_rfc3339());
    Incremental::Done(Box::new(prev))
}

/// Whether a collected group could have been converted to the cloud: it carries an
/// on-premises SID and is not synced (the rule of `Group::soa_candidate`).
fn soa_candidate(obj: &Map<String, Value>) -> bool {
    let sid = obj
        .get("onPremisesSecurityIdentifier")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    sid && obj.get("onPremisesSyncEnabled").and_then(Value::as_bool) != Some(true)
}

/// Read `onPremisesSyncBehavior` of every group that could have been converted (20 per
/// `$batch`; Graph offers no `$select` or `$expand` for it on a list) and keep it on the group
/// as Graph shapes it. A group whose read fails keeps no state and the section is marked
/// incomplete (the audit's gate then fails closed for the targets it affects).
async fn sync_behaviors(client: &Arc<GraphClient>, c: &mut Collected) {
    let Some(groups) = c.groups.as_mut() else {
        return;
    };
    let mut idx: Vec<usize> = Vec::new();
    for (i, g) in groups.iter_mut().enumerate() {
        // Cheap text test first: most groups carry no on-premises SID at all.
        if !g.json.contains("\"onPremisesSecurityIdentifier\":\"") {
            continue;
        }
        let mut obj = g.object();
        // A state from an earlier collection is read again, never kept stale.
        if obj.remove(crate::core::soa::SECTION).is_some() {
            g.json = Value::Object(obj.clone()).to_string();
        }
        if soa_candidate(&obj) {
            idx.push(i);
        }
    }
    if idx.is_empty() {
        return;
    }
    let urls: Vec<String> = idx
        .iter()
        .filter_map(|&i| groups.get(i))
        .map(|g| format!("/groups/{}/onPremisesSyncBehavior", g.id))
        .collect();
    let results = client.batch_get("v1.0", &urls, &[]).await;
    let mut first_error: Option<GraphError> = None;
    let mut failed = 0usize;
    for (&i, r) in idx.iter().zip(results) {
        let Some(g) = groups.get_mut(i) else { continue };
        let managed = match r {
            Ok(raw) => raw_to_value(&raw)
                .get("isCloudManaged")
                .and_then(Value::as_bool),
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
                continue;
            }
        };
        let Some(managed) = managed else {
            failed += 1;
            continue;
        };
        let mut obj = g.object();
        obj.insert(
            crate::core::soa::SECTION.to_string(),
            serde_json::json!({ "isCloudManaged": managed }),
        );
        g.json = Value::Object(obj).to_string();
    }
    if failed > 0 {
        match &first_error {
            Some(e) => tracing::warn!(
                "onPremisesSyncBehavior of {failed} group(s) not read: {}",
                explain(crate::core::soa::SECTION, e)
            ),
            None => tracing::warn!(
                "onPremisesSyncBehavior of {failed} group(s) came back without isCloudManaged"
            ),
        }
        c.mark_incomplete(crate::core::soa::SECTION);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: Option<u16>, code: Option<&str>) -> GraphError {
        GraphError {
            what: "GET /beta/x".into(),
            status,
            code: code.map(str::to_string),
            message: "m".into(),
            attempts: 1,
        }
    }

    #[test]
    fn explanations_name_the_permission_and_the_fallback() {
        let e = explain(
            "onPremisesSynchronization",
            &err(Some(403), Some("Authorization_RequestDenied")),
        );
        assert!(
            e.contains("OnPremDirectorySynchronization.Read.All")
                && e.contains("Get-ADSyncAADCompanyFeature")
        );
        assert!(explain("settings", &err(Some(403), None)).contains("GroupSettings.Read.All"));
        assert!(explain("members", &err(Some(403), None)).contains("User.Read.All"));
        assert!(explain("groups", &err(Some(401), None)).contains("another resource or cloud"));
        assert!(explain("groups", &err(Some(429), None)).contains("--concurrency"));
        assert!(explain("groups", &err(None, None)).contains("network"));
        assert_eq!(
            explain("groups", &err(Some(400), Some("Request_BadRequest"))),
            "groups: GET /beta/x: HTTP 400 Request_BadRequest: m"
        );
    }

    #[test]
    fn selects_cover_what_the_bundle_model_reads() {
        for p in [
            "writebackConfiguration",
            "groupTypes",
            "onPremisesSyncEnabled",
            "onPremisesSecurityIdentifier",
            "membershipRule",
        ] {
            assert!(GROUP_SELECT.split(',').any(|s| s == p), "{p}");
        }
        for p in [
            "onPremisesObjectIdentifier",
            "onPremisesImmutableId",
            "deviceId",
            "trustType",
            "onPremisesDistinguishedName",
        ] {
            assert!(MEMBER_SELECT.split(',').any(|s| s == p), "{p}");
        }
        assert!(!GROUP_SELECT.contains(' ') && !MEMBER_SELECT.contains(' '));
    }
}
