//! Redaction of server-originated text: the one function every message that came from a
//! server (Graph, the token endpoint, LDAP diagnostics) passes through before it is printed,
//! logged or stored in an error.
//!
//! Two layers:
//! - the secrets gwb holds (client secret, bind password, access tokens, client assertions)
//!   are registered with [`register`] when they are loaded or obtained; [`redact`] removes them
//!   in plain, form/URL-encoded (both hex cases) and JSON-escaped form;
//! - patterns that carry credentials whatever their value: `Bearer <token>`, `Basic <creds>`,
//!   `client_secret=…`, `client_assertion=…`, `access_token=…`, `refresh_token=…`,
//!   `password=…` (also as JSON members `"access_token": "…"`), and anything shaped like a
//!   JWT (`eyJ….….…`).
//!
//! Redaction never fails and never panics; what it removes becomes `[redacted]`.

use std::borrow::Cow;
use std::sync::RwLock;

/// What replaces a secret.
pub const MARK: &str = "[redacted]";

/// Secrets shorter than this are not registered: redacting "a" everywhere would destroy
/// messages without protecting anything.
const MIN_SECRET_LEN: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Register a secret gwb holds, so that any server text echoing it is redacted.
/// Idempotent; cheap enough to call on every token refresh.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut forms = vec![secret.to_string()];
    // application/x-www-form-urlencoded ('+' for space), as a token request body carries it.
    forms.push(url::form_urlencoded::byte_serialize(secret.as_bytes()).collect());
    // Percent-encoding of everything but unreserved characters, upper and lower hex.
    let upper = percent_all(secret, false);
    forms.push(upper.clone());
    forms.push(percent_all(secret, true));
    // Percent-encoding that keeps the characters URLs often leave alone.
    forms.push(
        url::form_urlencoded::byte_serialize(secret.as_bytes())
            .collect::<String>()
            .replace('+', "%20"),
    );
    // JSON string escaping (a server echoing the request as JSON).
    if let Ok(j) = serde_json::to_string(secret) {
        forms.push(j.trim_matches('"').to_string());
    }
    let mut guard = match SECRETS.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    for f in forms {
        if f.len() >= MIN_SECRET_LEN && !guard.contains(&f) {
            guard.push(f);
        }
    }
    // Longest first, so a secret that contains another is removed whole.
    guard.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Forget every registered secret (tests only need this; a process never has to).
pub fn clear() {
    let mut guard = match SECRETS.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    guard.clear();
}

fn percent_all(s: &str, lower: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else if lower {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Redact a server-originated text. Returns the text unchanged (borrowed) when nothing
/// needed removing.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out: Cow<'_, str> = Cow::Borrowed(text);
    {
        let guard = match SECRETS.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        for s in guard.iter() {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), MARK));
            }
        }
    }
    if let Some(p) = redact_patterns(&out) {
        out = Cow::Owned(p);
    }
    out
}

/// [`redact`] into an owned `String`.
pub fn redact_string(text: &str) -> String {
    redact(text).into_owned()
}

/// Bytes a server sent (an LDAP diagnosticMessage, an HTTP body), decoded lossily and
/// redacted: never a panic on bytes that are not UTF-8.
pub fn redact_bytes(bytes: &[u8]) -> String {
    redact(&String::from_utf8_lossy(bytes)).into_owned()
}

/// Replace the default panic hook: a panic's message can hold data a server sent (and so a
/// password it echoed), so only the location is printed, never the payload.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "an unknown place".into());
        eprintln!(
            "gwb: internal error at {at} (a bug; its details are withheld because they may hold \
             data from a server). Please report it with the command you ran."
        );
    }));
}

/// Keys whose value is a credential, whatever it is.
const KEYS: [&str; 8] = [
    "client_secret",
    "client_assertion",
    "access_token",
    "refresh_token",
    "id_token",
    "password",
    "assertion",
    "code_verifier",
];

/// Schemes of the Authorization header followed by a credential.
const SCHEMES: [&str; 3] = ["bearer", "basic", "negotiate"];

fn is_value_end(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '&' | '"' | '\'' | ',' | ';' | '<' | '>' | ')' | ']' | '}'
        )
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/' | '=' | '%')
}

/// Apply the credential patterns; `None` when nothing matched.
fn redact_patterns(text: &str) -> Option<String> {
    // Work on an ASCII-lowercased copy for matching; byte offsets are the same because
    // ASCII lowercasing never changes lengths.
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut spans: Vec<(usize, usize)> = Vec::new();

    for key in KEYS {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(key) {
            let start = from + pos;
            let after = start + key.len();
            from = after;
            // Must be a whole key: not preceded by an identifier character.
            if start > 0 {
                let prev = bytes[start - 1];
                if prev.is_ascii_alphanumeric() {
                    continue;
                }
            }
            // `key=value`, `key: value`, `"key":"value"`, `key%3Dvalue`.
            let rest = &text[after..];
            let mut skip = 0;
            let mut rb = rest.char_indices().peekable();
            // Closing quote of a JSON key.
            if let Some((_, c)) = rb.peek()
                && (*c == '"' || *c == '\'')
            {
                skip += 1;
                rb.next();
            }
            let sep = rest[skip..].starts_with('=') || rest[skip..].starts_with(':');
            let sep_len = if sep {
                1
            } else if rest[skip..].to_ascii_lowercase().starts_with("%3d") {
                3
            } else {
                continue;
            };
            skip += sep_len;
            // Whitespace and an opening quote.
            let value_rest = &rest[skip..];
            let trimmed = value_rest.trim_start_matches([' ', '\t']);
            skip += value_rest.len() - trimmed.len();
            let quoted = trimmed.starts_with('"') || trimmed.starts_with('\'');
            if quoted {
                skip += 1;
            }
            let vstart = after + skip;
            let value = &text[vstart..];
            let vlen = if quoted {
                value.find(['"', '\'']).unwrap_or(value.len())
            } else {
                value.find(is_value_end).unwrap_or(value.len())
            };
            if vlen > 0 {
                spans.push((vstart, vstart + vlen));
            }
        }
    }

    for scheme in SCHEMES {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(scheme) {
            let start = from + pos;
            let after = start + scheme.len();
            from = after;
            if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
                continue;
            }
            let rest = &text[after..];
            let trimmed = rest.trim_start_matches([' ', '\t', ':']);
            if trimmed.len() == rest.len() {
                continue; // "bearer" glued to something else
            }
            let vstart = after + (rest.len() - trimmed.len());
            let vlen = trimmed.find(|c| !is_token_char(c)).unwrap_or(trimmed.len());
            // Short words after "Bearer" ("Bearer token", "Basic auth") are prose, not
            // credentials; real tokens are long.
            if vlen >= 16 {
                spans.push((vstart, vstart + vlen));
            }
        }
    }

    // JWT-shaped strings (header.payload.signature, the header always starts `eyJ`).
    let mut from = 0;
    while let Some(pos) = text[from..].find("eyJ") {
        let start = from + pos;
        let tail = &text[start..];
        let len = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(tail.len());
        from = start + len.max(3);
        let candidate = &tail[..len];
        if candidate.matches('.').count() >= 1 && len >= 20 {
            spans.push((start, start + len));
        }
    }

    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        if e <= at {
            continue;
        }
        let s = s.max(at);
        out.push_str(&text[at..s]);
        out.push_str(MARK);
        at = e;
    }
    out.push_str(&text[at..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_in_every_encoding() {
        let secret = "Xy7~q+P/w=ord&9 z";
        register(secret);
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for shown in [
            secret.to_string(),
            form.clone(),
            percent_all(secret, false),
            percent_all(secret, true),
            serde_json::to_string(secret).unwrap(),
        ] {
            let msg = format!("AADSTS7000215: You sent {shown} which is wrong");
            let r = redact(&msg);
            assert!(!r.contains(secret), "{r}");
            assert!(!r.contains(&form), "{r}");
            assert!(
                r.contains("AADSTS7000215") && r.contains("which is wrong"),
                "{r}"
            );
        }
    }

    #[test]
    fn credential_patterns_without_registration() {
        let cases = [
            (
                "invalid request: grant_type=client_credentials&client_secret=abc%2Bdef&scope=x",
                "abc%2Bdef",
            ),
            (r#"{"client_secret": "zzz-top"}"#, "zzz-top"),
            (
                "You sent: Bearer abcdefghijklmnopqrstuvwxyz0123456789",
                "abcdefghijklmnop",
            ),
            (
                "authorization: bearer QWERTYUIOPASDFGHJKLZXCVBNM",
                "QWERTYUIOP",
            ),
            (
                "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature-x seen",
                "eyJhbGciOiJIUzI1NiJ9",
            ),
            ("CLIENT_ASSERTION=aaaa.bbbb.cccc", "aaaa.bbbb"),
            ("password: hunter2hunter2", "hunter2"),
            ("access_token%3Dsecretvalue123", "secretvalue123"),
        ];
        for (text, secret) in cases {
            let r = redact(text);
            assert!(!r.contains(secret), "{text} -> {r}");
            assert!(r.contains(MARK), "{text} -> {r}");
        }
        // Prose stays readable.
        for prose in [
            "Bearer token missing",
            "the client_secret is wrong",
            "Insufficient privileges to complete the operation.",
            "passwords must be long",
        ] {
            assert_eq!(redact(prose), prose);
        }
    }

    #[test]
    fn bytes_are_decoded_lossily_and_never_panic() {
        let r = redact_bytes(b"bad \xff\xfe bytes client_secret=\xc3(");
        assert!(r.contains('\u{FFFD}') && r.contains(MARK), "{r}");
        // Multi-byte text next to patterns keeps valid boundaries.
        let r = redact("Müller password=ÄÖÜäöü€ end");
        assert_eq!(r, "Müller password=[redacted] end");
    }
}
