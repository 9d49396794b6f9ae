//! Microsoft Graph: authentication, a frugal client (paging, $batch, retries), and live
//! collection of the tenant half of a snapshot bundle.

pub mod args;

/// Collect the `tenant.json` document from a live tenant (Graph objects kept verbatim).
pub fn collect(_args: &args::GraphArgs) -> anyhow::Result<serde_json::Value> {
    anyhow::bail!("Graph collection is not available in this build yet")
}
