//! Command-line arguments of `gwb graph-sim`.

use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Serve the tenant.json of this snapshot bundle.
    #[arg(long, value_name = "DIR", conflicts_with = "generate")]
    pub bundle: Option<PathBuf>,
    /// Serve a generated tenant: `groups=N,members=M,seed=S[,big=B]` (B: members of one extra
    /// large group). Without --bundle or --generate: groups=100,members=2000,seed=1.
    #[arg(long, value_name = "SPEC")]
    pub generate: Option<String>,
    /// Port on 127.0.0.1 (0 picks a free one). The first stdout line is `listening on http://127.0.0.1:PORT`.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Latency added to every Graph request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Percentage of Graph requests (and $batch items) answered 429 Too Many Requests.
    #[arg(long, value_name = "PCT", default_value_t = 0.0)]
    pub fault_429: f64,
    /// Percentage of Graph requests answered 503 Service Unavailable.
    #[arg(long, value_name = "PCT", default_value_t = 0.0)]
    pub fault_503: f64,
    /// Percentage of Graph requests whose connection is dropped mid-body.
    #[arg(long, value_name = "PCT", default_value_t = 0.0)]
    pub fault_reset: f64,
    /// Percentage of Graph requests answered 200 with a truncated JSON body.
    #[arg(long, value_name = "PCT", default_value_t = 0.0)]
    pub fault_truncate: f64,
    /// Seed of the fault injector.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub fault_seed: u64,
    /// Retry-After seconds sent with injected 429 and 503 answers.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    pub retry_after: u64,
    /// Answer every request whose path starts with PREFIX with STATUS (repeatable), e.g. `/beta/settings=500`.
    #[arg(long, value_name = "PREFIX=STATUS")]
    pub fail: Vec<String>,
    /// Client id the token endpoint accepts (default: any).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// File holding the client secret the token endpoint accepts (default: any non-empty secret).
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3599)]
    pub token_lifetime: u64,
}
