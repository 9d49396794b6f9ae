//! Command-line arguments owned by the Graph module: tenant and app, credentials (secret,
//! certificate, ready-made access token), national cloud and endpoint overrides, and the
//! client's concurrency and retry bounds. Secrets never reach Debug output or `--help`.

use std::path::PathBuf;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

/// A secret given on the command line: cloneable, never printed.
#[derive(Clone)]
pub struct SecretArg(Arc<SecretString>);

impl SecretArg {
    pub fn new(s: String) -> SecretArg {
        SecretArg(Arc::new(SecretString::from(s)))
    }
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::str::FromStr for SecretArg {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SecretArg::new(s.to_string()))
    }
}

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Microsoft's national clouds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Cloud {
    /// login.microsoftonline.com, graph.microsoft.com (includes M365 GCC).
    #[default]
    Global,
    /// GCC High: login.microsoftonline.us, graph.microsoft.us.
    Usgov,
    /// DoD: login.microsoftonline.us, dod-graph.microsoft.us.
    UsgovDod,
    /// 21Vianet: login.chinacloudapi.cn, microsoftgraph.chinacloudapi.cn.
    China,
}

impl Cloud {
    /// (login authority, Graph root)
    pub fn endpoints(self) -> (&'static str, &'static str) {
        match self {
            Cloud::Global => (
                "https://login.microsoftonline.com",
                "https://graph.microsoft.com",
            ),
            Cloud::Usgov => (
                "https://login.microsoftonline.us",
                "https://graph.microsoft.us",
            ),
            Cloud::UsgovDod => (
                "https://login.microsoftonline.us",
                "https://dod-graph.microsoft.us",
            ),
            Cloud::China => (
                "https://login.chinacloudapi.cn",
                "https://microsoftgraph.chinacloudapi.cn",
            ),
        }
    }
}

/// Signature of certificate client assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AssertionAlg {
    /// PS256 with an x5t#S256 (SHA-256) thumbprint, as Microsoft documents today.
    #[default]
    Ps256,
    /// RS256 with an x5t (SHA-1) thumbprint, for older setups.
    Rs256,
}

#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Microsoft Graph")]
pub struct GraphArgs {
    /// Entra tenant id (GUID) or primary domain.
    #[arg(long, value_name = "TENANT", env = "AZURE_TENANT_ID")]
    pub tenant: Option<String>,
    /// Application (client) id.
    #[arg(long, value_name = "ID", env = "AZURE_CLIENT_ID")]
    pub client_id: Option<String>,
    /// File holding the client secret (or set AZURE_CLIENT_SECRET).
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// Client secret on the command line (visible to other local users: prefer AZURE_CLIENT_SECRET or --client-secret-file).
    #[arg(long, value_name = "SECRET", hide_default_value = true)]
    pub client_secret: Option<SecretArg>,
    /// PEM file with the app's certificate and unencrypted private key (certificate auth).
    #[arg(long, value_name = "FILE", env = "AZURE_CLIENT_CERTIFICATE_PATH")]
    pub client_certificate: Option<PathBuf>,
    /// Client assertion signature for certificate auth.
    #[arg(long, value_enum, default_value = "ps256")]
    pub assertion_alg: AssertionAlg,
    /// File holding a Graph access token (or set GWB_ACCESS_TOKEN), e.g. from
    /// `az account get-access-token --resource-type ms-graph --query accessToken -o tsv`.
    #[arg(long, value_name = "FILE")]
    pub access_token_file: Option<PathBuf>,
    /// National cloud (sets the login authority and the Graph root).
    #[arg(long, value_enum, default_value = "global")]
    pub cloud: Cloud,
    /// Graph root URL (overrides --cloud; the simulator uses it).
    #[arg(long, value_name = "URL")]
    pub graph_url: Option<String>,
    /// Login authority URL (overrides --cloud; default for a loopback --graph-url: the same URL).
    #[arg(long, value_name = "URL", env = "AZURE_AUTHORITY_HOST")]
    pub authority_url: Option<String>,
    /// Also collect the members of groups no target writes back (groups synced from AD, cloud
    /// distribution lists, mail-enabled security groups); by default their members are skipped.
    #[arg(long)]
    pub all_members: bool,
    /// Graph requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
    /// Attempts per request before giving up (429/503/504, resets and truncated bodies are retried).
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub max_attempts: u32,
    /// Upper bound on the time spent retrying one request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub retry_budget: u64,
}

/// Environment variable for a ready-made access token.
pub const ACCESS_TOKEN_ENV: &str = "GWB_ACCESS_TOKEN";
/// Azure SDK environment variable for the client secret.
pub const CLIENT_SECRET_ENV: &str = "AZURE_CLIENT_SECRET";

impl GraphArgs {
    /// True when any live Graph option was given.
    pub fn is_live(&self) -> bool {
        self.graph_url.is_some()
            || self.client_id.is_some()
            || self.access_token_file.is_some()
            || std::env::var_os(ACCESS_TOKEN_ENV).is_some_and(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let a = GraphArgs {
            client_secret: Some("hunter2-very-secret".parse().unwrap()),
            ..GraphArgs::default()
        };
        let dbg = format!("{a:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("[redacted]"));
        assert_eq!(
            a.client_secret.as_ref().unwrap().expose(),
            "hunter2-very-secret"
        );
    }

    #[test]
    fn clouds_have_their_own_hosts() {
        assert_eq!(
            Cloud::UsgovDod.endpoints().1,
            "https://dod-graph.microsoft.us"
        );
        assert_eq!(Cloud::China.endpoints().0, "https://login.chinacloudapi.cn");
    }
}
