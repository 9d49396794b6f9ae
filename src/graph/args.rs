//! Command-line arguments owned by the Graph module.

#[derive(Debug, Clone, Default, clap::Args)]
pub struct GraphArgs {
    /// Entra tenant id (GUID) or primary domain.
    #[arg(long, value_name = "TENANT", env = "AZURE_TENANT_ID")]
    pub tenant: Option<String>,
    /// Application (client) id.
    #[arg(long, value_name = "ID", env = "AZURE_CLIENT_ID")]
    pub client_id: Option<String>,
    /// Graph root URL (overrides --cloud; the simulator uses it).
    #[arg(long, value_name = "URL")]
    pub graph_url: Option<String>,
}

impl GraphArgs {
    /// True when any live Graph option was given.
    pub fn is_live(&self) -> bool {
        self.graph_url.is_some() || self.client_id.is_some()
    }
}
