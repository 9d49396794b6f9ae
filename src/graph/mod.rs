//! Microsoft Graph: authentication, a frugal client (paging, $batch, retries), and live
//! collection of the tenant half of a snapshot bundle (full or incremental via groups delta).

pub mod args;
pub mod auth;
pub mod client;
pub mod live;
pub mod model;
pub mod retry;
pub mod write;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use client::GraphClient;
use model::Collected;
use retry::RetryPolicy;

fn is_loopback(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]")
        })
        .unwrap_or(false)
}

/// Build an authenticated client from the arguments (fails early on bad credentials).
pub async fn connect(args: &args::GraphArgs) -> anyhow::Result<(Arc<GraphClient>, Option<String>)> {
    let cred = auth::credential_from_args(args)?;
    let (cloud_authority, cloud_root) = args.cloud.endpoints();
    let root = args
        .graph_url
        .clone()
        .unwrap_or_else(|| cloud_root.to_string());
    url::Url::parse(&root).with_context(|| format!("--graph-url {root:?} is not a URL"))?;
    let authority = match &args.authority_url {
        Some(a) => a.clone(),
        None if args.graph_url.as_deref().is_some_and(is_loopback) => root.clone(),
        None => cloud_authority.to_string(),
    };
    let mut tenant = args.tenant.clone().filter(|t| !t.trim().is_empty());
    if let auth::Credential::Token(t) = &cred {
        use secrecy::ExposeSecret;
        if tenant.is_none() {
            tenant = auth::token_tenant(t.expose_secret());
        }
    } else if tenant.is_none() {
        anyhow::bail!("--tenant (AZURE_TENANT_ID) is required with a client secret or certificate");
    }
    let http = reqwest::Client::builder()
        .user_agent(concat!("gwb/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(120))
        .build()
        .context("building the HTTP client")?;
    let provider = auth::TokenProvider::new(
        http.clone(),
        &authority,
        tenant.as_deref().unwrap_or("organizations"),
        &root,
        cred,
    );
    let policy = RetryPolicy {
        max_attempts: if args.max_attempts == 0 {
            6
        } else {
            args.max_attempts
        },
        budget: Duration::from_secs(if args.retry_budget == 0 {
            300
        } else {
            args.retry_budget
        }),
        ..RetryPolicy::default()
    };
    let concurrency = if args.concurrency == 0 {
        4
    } else {
        args.concurrency
    };
    let client = Arc::new(GraphClient::new(http, &root, provider, concurrency, policy));
    // Authenticate before anything else, so credential problems are one clear error.
    client.auth.token().await?;
    Ok((client, tenant))
}

/// The runtime Graph work runs on (two workers, I/O and timers).
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Collect (full) into the compact model.
pub async fn collect_model(
    args: &args::GraphArgs,
    previous: Option<Collected>,
) -> anyhow::Result<Collected> {
    let (client, tenant) = connect(args).await?;
    let concurrency = if args.concurrency == 0 {
        4
    } else {
        args.concurrency
    };
    let c = match previous {
        Some(prev) => match live::incremental(&client, prev).await {
            live::Incremental::Done(c) => *c,
            live::Incremental::Expired(why) => {
                tracing::warn!("incremental collection not possible: {why}; collecting everything");
                live::full(&client, tenant, concurrency, args.all_members).await
            }
        },
        None => live::full(&client, tenant, concurrency, args.all_members).await,
    };
    tracing::info!(
        "Graph: {} requests ({} retried)",
        client.request_count(),
        client.retry_count()
    );
    Ok(c)
}

/// Collect `tenant.json` from a live tenant: the whole document as Graph-shaped JSON.
pub fn collect(args: &args::GraphArgs) -> anyhow::Result<serde_json::Value> {
    let c = runtime()?.block_on(collect_model(args, None))?;
    Ok(c.to_value())
}

/// What `gwb collect` needs back after writing `tenant.json`.
pub struct BundleOutcome {
    pub complete: bool,
    pub refs: crate::ldap::MemberRefs,
    pub doc_path: std::path::PathBuf,
    /// Groups written, and their memberships (members of groups whose members were collected).
    pub groups: usize,
    pub memberships: usize,
}

/// Collect into `dir/tenant.json` (streamed, never held whole in memory). With `incremental`,
/// the existing `tenant.json` is updated from the groups delta. `want_refs`: derive the AD
/// objects LDAP discovery must resolve.
pub fn collect_bundle(
    args: &args::GraphArgs,
    dir: &Path,
    incremental: bool,
    want_refs: bool,
) -> anyhow::Result<BundleOutcome> {
    let path = dir.join("tenant.json");
    let previous = if incremental {
        if path.exists() {
            let text = crate::text::read_file(&path)?.text;
            let prev = Collected::from_json_text(&text).map_err(|e| {
                crate::error::InputError::new(
                    &path,
                    format!("line {} column {}", e.line(), e.column()),
                    e.to_string(),
                )
            })?;
            Some(prev)
        } else {
            tracing::warn!(
                "{} does not exist yet; collecting everything",
                path.display()
            );
            None
        }
    } else {
        None
    };
    let started = std::time::Instant::now();
    let c = runtime()?.block_on(collect_model(args, previous))?;
    tracing::info!("collected in {:.2?}", started.elapsed());
    crate::fsio::write_atomic_with(&path, |mut w| Ok(c.write_json(&mut w)?))?;
    tracing::info!("{} written after {:.2?}", path.display(), started.elapsed());
    // Only LDAP discovery needs the member references.
    let refs = if want_refs {
        c.member_refs()
    } else {
        crate::ldap::MemberRefs::default()
    };
    tracing::info!("member references derived after {:.2?}", started.elapsed());
    let groups = c.groups.as_ref().map_or(0, Vec::len);
    let memberships = c
        .groups
        .iter()
        .flatten()
        .filter_map(|g| g.members.as_ref())
        .map(Vec::len)
        .sum();
    Ok(BundleOutcome {
        complete: c.incomplete.is_empty(),
        refs,
        doc_path: path,
        groups,
        memberships,
    })
}
