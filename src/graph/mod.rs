//! Microsoft Graph: authentication, a frugal client (paging, $batch, retries), and live
//! collection of the tenant half of a snapshot bundle.

pub mod args;

use crate::bundle::TenantDoc;

/// Collect `tenant.json` from a live tenant.
pub fn collect(_args: &args::GraphArgs) -> anyhow::Result<TenantDoc> {
    anyhow::bail!("Graph collection is not available in this build yet")
}
