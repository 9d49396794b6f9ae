//! Command-line arguments owned by the LDAP module: where the DC is, how to reach it over TLS,
//! and who to bind as. The password never comes from the command line.

use std::path::PathBuf;

/// Environment variable holding the bind password (never a command-line argument).
pub const PASSWORD_ENV: &str = "GWB_LDAP_PASSWORD";

#[derive(Debug, Clone, clap::Args)]
pub struct LdapArgs {
    /// LDAP URL of a domain controller: ldaps://dc1.example.com, or ldap://dc1 with --starttls.
    #[arg(long, value_name = "URL", env = "GWB_LDAP_URL")]
    pub ldap_url: Option<String>,
    /// Bind identity: a DN, a UPN (user@example.com) or DOMAIN\user. Password from
    /// GWB_LDAP_PASSWORD or --password-file.
    #[arg(long, value_name = "NAME", env = "GWB_LDAP_BIND_DN")]
    pub bind_dn: Option<String>,
    /// File holding the bind password (first line).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// PEM file with the CA certificate(s) that issued the DC's certificate (default: the system trust store).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Upgrade an ldap:// connection with StartTLS before binding.
    #[arg(long)]
    pub starttls: bool,
    /// DANGEROUS: accept any certificate from the DC (no protection against interception). Warns on every run.
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// DANGEROUS: allow a simple bind over plain ldap:// without StartTLS (the password crosses the network in clear text).
    #[arg(long)]
    pub allow_insecure_bind: bool,
    /// Bind with Kerberos (GSSAPI) using the current ticket cache instead of a password
    /// (builds with the `kerberos` feature only).
    #[arg(long)]
    pub kerberos: bool,
    /// Test the bind account's rights on the target OU for real: create a temporary group
    /// (gwb-rights-probe-…) there, change it and delete it. Off by default: discovery is
    /// otherwise read-only.
    #[arg(long)]
    pub probe_rights: bool,
    /// Seconds to wait for the connection and for each LDAP operation.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub ldap_timeout: u64,
}

impl Default for LdapArgs {
    fn default() -> Self {
        LdapArgs {
            ldap_url: None,
            bind_dn: None,
            password_file: None,
            ca_file: None,
            starttls: false,
            insecure_skip_tls_verify: false,
            allow_insecure_bind: false,
            kerberos: false,
            probe_rights: false,
            ldap_timeout: 30,
        }
    }
}
