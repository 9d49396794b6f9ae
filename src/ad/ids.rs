//! Binary AD identifiers: objectSid (binary ↔ `S-1-5-…` string) and objectGUID (16 bytes in
//! Microsoft's mixed-endian order ↔ canonical GUID), plus Entra's base64 immutableId.

use base64::Engine;
use uuid::Uuid;

/// Decode a binary SID; `None` if the bytes are not a well-formed SID.
pub fn sid_from_bytes(b: &[u8]) -> Option<String> {
    if b.len() < 8 || b[0] != 1 {
        return None;
    }
    let count = b[1] as usize;
    if count > 15 || b.len() != 8 + 4 * count {
        return None;
    }
    let mut auth: u64 = 0;
    for byte in &b[2..8] {
        auth = (auth << 8) | *byte as u64;
    }
    let mut s = format!("S-1-{auth}");
    for i in 0..count {
        let o = 8 + 4 * i;
        let sub = u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        s.push_str(&format!("-{sub}"));
    }
    Some(s)
}

/// Encode a SID string to its binary form; `None` if the string is not a SID.
pub fn sid_to_bytes(s: &str) -> Option<Vec<u8>> {
    let mut parts = s.trim().split('-');
    if !parts.next()?.eq_ignore_ascii_case("S") || parts.next()? != "1" {
        return None;
    }
    let auth: u64 = parts.next()?.parse().ok()?;
    if auth >= 1 << 48 {
        return None;
    }
    let subs: Vec<u32> = parts.map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if subs.is_empty() || subs.len() > 15 {
        return None;
    }
    let mut out = vec![1u8, subs.len() as u8];
    out.extend_from_slice(&auth.to_be_bytes()[2..]);
    for sub in subs {
        out.extend_from_slice(&sub.to_le_bytes());
    }
    Some(out)
}

/// Canonical (upper-case) SID string, for comparisons.
pub fn normalize_sid(s: &str) -> Option<String> {
    sid_to_bytes(s).and_then(|b| sid_from_bytes(&b))
}

/// objectGUID bytes (as AD stores them) to a GUID.
pub fn guid_from_bytes(b: &[u8]) -> Option<Uuid> {
    let arr: [u8; 16] = b.try_into().ok()?;
    Some(Uuid::from_bytes_le(arr))
}

pub fn guid_to_bytes(g: &Uuid) -> [u8; 16] {
    g.to_bytes_le()
}

/// Entra Connect's default sourceAnchor: base64 of the objectGUID bytes.
pub fn guid_from_immutable_id(s: &str) -> Option<Uuid> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()?;
    guid_from_bytes(&bytes)
}

/// The one rule for object ids and GUIDs in every input (tenant.json, PowerShell exports,
/// LDIF stamps, plans): the canonical 36-character form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`
/// (hex digits in either case). Braces, `urn:uuid:`, the 32-digit form, whitespace or a
/// trailing newline are rejected: Entra writes ids only in this form, and a stamp such as
/// `Group_{…}` is not the anchor Entra would write.
pub fn parse_guid(s: &str) -> Option<Uuid> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    for (i, &c) in b.iter().enumerate() {
        let ok = if matches!(i, 8 | 13 | 18 | 23) {
            c == b'-'
        } else {
            c.is_ascii_hexdigit()
        };
        if !ok {
            return None;
        }
    }
    Uuid::parse_str(s).ok()
}

/// Why `s` is not an object id, quoting a bounded excerpt; `None` when it is one.
pub fn guid_problem(s: &str) -> Option<String> {
    if parse_guid(s).is_some() {
        return None;
    }
    Some(format!(
        "{} is not a GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, without braces or spaces)",
        crate::text::excerpt(s)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_round_trip() {
        let s = "S-1-5-21-3623811015-3361044348-30300820-1013";
        let b = sid_to_bytes(s).unwrap();
        assert_eq!(b.len(), 28);
        assert_eq!(sid_from_bytes(&b).unwrap(), s);
        assert!(sid_from_bytes(&[1, 9, 0, 0]).is_none());
        assert!(sid_to_bytes("S-1-x").is_none());
    }

    #[test]
    fn one_strict_guid_rule() {
        assert!(parse_guid("3A5C3221-c465-48c0-95b8-e9305786a271").is_some());
        for bad in [
            "{3a5c3221-c465-48c0-95b8-e9305786a271}",
            "3a5c3221-c465-48c0-95b8-e9305786a271\n",
            " 3a5c3221-c465-48c0-95b8-e9305786a271",
            "3a5c3221c46548c095b8e9305786a271",
            "urn:uuid:3a5c3221-c465-48c0-95b8-e9305786a271",
            "../../etc/passwd",
            "3a5c3221-c465-48c0-95b8-e9305786a27g",
            "",
        ] {
            assert!(parse_guid(bad).is_none(), "{bad:?}");
            assert!(guid_problem(bad).is_some());
        }
        let long = "x".repeat(10_000_000);
        assert!(guid_problem(&long).unwrap().len() < 200);
    }

    #[test]
    fn guid_mixed_endian() {
        let g = parse_guid("3a5c3221-c465-48c0-95b8-e9305786a271").unwrap();
        let b = guid_to_bytes(&g);
        assert_eq!(&b[..4], &[0x21, 0x32, 0x5c, 0x3a]);
        assert_eq!(guid_from_bytes(&b), Some(g));
        let imm = base64::engine::general_purpose::STANDARD.encode(b);
        assert_eq!(guid_from_immutable_id(&imm), Some(g));
    }
}
