//! Turning LDAP result codes, Active Directory diagnostic sub-codes and TLS failures into
//! messages an AD administrator can act on.

use ldap3::LdapError;

/// Meaning of the `data XXX` sub-code AD puts in the diagnostic text of a failed bind (49).
pub fn ad_bind_subcode(text: &str) -> Option<(&'static str, &'static str)> {
    let lower = text.to_ascii_lowercase();
    let idx = lower.find("data ")?;
    let code: String = lower[idx + 5..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    let meaning = match code.as_str() {
        "525" => ("525", "the account does not exist"),
        "52e" => (
            "52e",
            "the password is wrong (or the name is not recognised)",
        ),
        "530" => (
            "530",
            "the account may not log on at this time (logon hours)",
        ),
        "531" => ("531", "the account may not log on from this workstation"),
        "532" => ("532", "the password has expired"),
        "533" => ("533", "the account is disabled"),
        "568" => (
            "568",
            "the account has too many security identifiers (token size)",
        ),
        "701" => ("701", "the account has expired"),
        "773" => ("773", "the password must be changed before the first logon"),
        "775" => ("775", "the account is locked out"),
        _ => return None,
    };
    Some(meaning)
}

/// Name of an LDAP result code (RFC 4511 appendix A).
pub fn rc_name(rc: u32) -> &'static str {
    match rc {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        14 => "saslBindInProgress",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        19 => "constraintViolation",
        20 => "attributeOrValueExists",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        64 => "namingViolation",
        65 => "objectClassViolation",
        68 => "entryAlreadyExists",
        80 => "other",
        _ => "unknown result code",
    }
}

/// Explain a failed bind for an administrator.
pub fn bind_failure(rc: u32, text: &str, who: &str) -> String {
    let text = text.trim_matches(char::from(0)).trim();
    let mut msg = match rc {
        49 => {
            let mut m =
                format!("the DC rejected the credentials of {who:?} (LDAP 49 invalidCredentials)");
            if let Some((code, meaning)) = ad_bind_subcode(text) {
                m.push_str(&format!(": AD sub-code data {code}: {meaning}"));
            }
            m
        }
        8 | 13 => format!(
            "the DC requires an encrypted connection for simple binds (LDAP {rc} {}): use ldaps:// or add --starttls",
            rc_name(rc)
        ),
        48 | 7 => format!(
            "the DC does not accept this kind of bind (LDAP {rc} {})",
            rc_name(rc)
        ),
        53 => format!(
            "the DC is unwilling to perform the bind (LDAP 53): the account or DC policy forbids it for {who:?}"
        ),
        _ => format!("bind as {who:?} failed (LDAP {rc} {})", rc_name(rc)),
    };
    if !text.is_empty() {
        msg.push_str(&format!(" [server said: {text}]"));
    }
    msg
}

/// Explain a failed search or read.
pub fn op_failure(op: &str, rc: u32, text: &str) -> String {
    let text = text.trim_matches(char::from(0)).trim();
    let hint = match rc {
        1 if text.contains("00002020") => {
            ": the DC wants an authenticated bind first (give --bind-dn and a password)"
        }
        8 | 13 => ": use ldaps:// or --starttls",
        32 => ": the object does not exist",
        50 => ": the bind account lacks read rights here",
        _ => "",
    };
    let mut msg = format!("{op} failed (LDAP {rc} {}){hint}", rc_name(rc));
    if !text.is_empty() {
        msg.push_str(&format!(" [server said: {text}]"));
    }
    msg
}

/// True if the error means the connection itself is gone (worth one reconnect).
pub fn is_connection_lost(err: &LdapError) -> bool {
    match err {
        LdapError::Io { source } => !matches!(source.kind(), std::io::ErrorKind::InvalidData),
        LdapError::OpSend { .. }
        | LdapError::ResultRecv { .. }
        | LdapError::IdScrubSend { .. }
        | LdapError::MiscSend { .. }
        | LdapError::EndOfStream => true,
        _ => false,
    }
}

/// Find a rustls error anywhere in an error's source chain (tokio-rustls wraps it in io::Error).
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(r) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(r);
        }
        cur = e.source();
    }
    None
}

/// Explain a failure to connect (TCP, TLS handshake, StartTLS) to `target`.
pub fn connect_failure(err: &LdapError, target: &str, have_ca_file: bool) -> String {
    if let Some(tls) = rustls_error(err) {
        return tls_failure(tls, target, have_ca_file);
    }
    if let LdapError::Io { source } = err {
        use std::io::ErrorKind::*;
        let m = match source.kind() {
            ConnectionRefused => format!(
                "nothing accepts connections at {target} (connection refused): check the host and port"
            ),
            TimedOut => format!(
                "connecting to {target} timed out: check the host, the port and any firewall"
            ),
            ConnectionReset | UnexpectedEof | BrokenPipe => format!(
                "{target} closed the connection during set-up: is it an LDAP server, and does it speak TLS on this port? ({source})"
            ),
            NotFound => format!("cannot resolve {target}: {source}"),
            _ => format!("cannot connect to {target}: {source}"),
        };
        return m;
    }
    if let LdapError::Timeout { .. } = err {
        return format!("connecting to {target} timed out (--ldap-timeout)");
    }
    format!("cannot connect to {target}: {err}")
}

fn tls_failure(e: &rustls::Error, target: &str, have_ca_file: bool) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer)
        | rustls::Error::InvalidCertificate(C::BadSignature) => {
            if have_ca_file {
                format!(
                    "the DC's certificate is not trusted: it was not issued by a CA in --ca-file ({target}); pass the CA that issued the DC's certificate"
                )
            } else {
                format!(
                    "the DC's certificate is not trusted by the system trust store ({target}): pass --ca-file with the CA (PEM) that issued it"
                )
            }
        }
        rustls::Error::InvalidCertificate(C::NotValidForName)
        | rustls::Error::InvalidCertificate(C::NotValidForNameContext { .. }) => {
            format!(
                "the DC's certificate does not name the host in the URL ({target}): connect by a name listed in its subjectAltName"
            )
        }
        rustls::Error::InvalidCertificate(C::Expired)
        | rustls::Error::InvalidCertificate(C::ExpiredContext { .. }) => {
            format!("the DC's certificate has expired ({target})")
        }
        rustls::Error::InvalidCertificate(C::NotValidYet)
        | rustls::Error::InvalidCertificate(C::NotValidYetContext { .. }) => {
            format!("the DC's certificate is not valid yet ({target}): check the clocks")
        }
        rustls::Error::InvalidCertificate(other) => {
            format!("the DC's certificate was rejected ({target}): {other:?}")
        }
        other => format!("TLS with {target} failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_ad_bind_subcodes() {
        let samba = "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1";
        assert_eq!(
            ad_bind_subcode(samba),
            Some((
                "52e",
                "the password is wrong (or the name is not recognised)"
            ))
        );
        let m = bind_failure(49, samba, "LAB\\x");
        assert!(
            m.contains("invalidCredentials")
                && m.contains("data 52e")
                && m.contains("password is wrong"),
            "{m}"
        );
        assert!(bind_failure(49, "... data 775, v4563", "x").contains("locked out"));
        assert!(bind_failure(49, "... data 533, v4563", "x").contains("disabled"));
        assert!(bind_failure(49, "... data 532, v4563", "x").contains("expired"));
        assert!(bind_failure(49, "... data 773, v4563", "x").contains("must be changed"));
        assert_eq!(ad_bind_subcode("no code"), None);
        assert_eq!(ad_bind_subcode("data zzz"), None);
    }

    #[test]
    fn explains_stronger_auth_and_ops() {
        let m = bind_failure(8, "BindSimple: Transport encryption required.", "x");
        assert!(m.contains("ldaps://") && m.contains("--starttls"), "{m}");
        let m = op_failure(
            "reading rootDSE",
            1,
            "00002020: Operation unavailable without authentication",
        );
        assert!(m.contains("authenticated bind"), "{m}");
        assert!(op_failure("x", 50, "").contains("read rights"));
    }

    #[test]
    fn explains_tls_failures() {
        let e = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert!(tls_failure(&e, "ldaps://dc", true).contains("not trusted"));
        assert!(tls_failure(&e, "ldaps://dc", false).contains("--ca-file"));
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        let le = LdapError::Io { source: io };
        let m = connect_failure(&le, "ldaps://dc:636", true);
        assert!(m.contains("certificate is not trusted"), "{m}");
        let refused = LdapError::Io {
            source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        };
        assert!(connect_failure(&refused, "ldaps://dc:636", false).contains("connection refused"));
    }

    #[test]
    fn classifies_lost_connections() {
        assert!(is_connection_lost(&LdapError::EndOfStream));
        assert!(is_connection_lost(&LdapError::Io {
            source: std::io::Error::from(std::io::ErrorKind::BrokenPipe)
        }));
        assert!(!is_connection_lost(&LdapError::FilterParsing));
    }
}
