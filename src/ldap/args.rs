//! Command-line arguments owned by the LDAP module.

use std::path::PathBuf;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct LdapArgs {
    /// LDAP URL of a domain controller: ldaps://dc1.example.com or ldap://dc1 (with StartTLS).
    #[arg(long, value_name = "URL", env = "GWB_LDAP_URL")]
    pub ldap_url: Option<String>,
    /// Bind identity: a DN, a UPN (user@example.com) or DOMAIN\user. Password from
    /// GWB_LDAP_PASSWORD or --password-file.
    #[arg(long, value_name = "NAME", env = "GWB_LDAP_BIND_DN")]
    pub bind_dn: Option<String>,
    /// File holding the bind password (first line).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// PEM file with the CA certificate(s) that issued the DC's certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}
