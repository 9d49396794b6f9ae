//! Defensive decoding of what a directory server sends: a small BER walker for control values
//! (paged results) and a checked walk of search result entries into LDIF [`Entry`] values.
//! ldap3's own entry and control parsers panic on malformed data; nothing here does.

use ldap3::asn1::{PL, StructureTag, TagClass};

use crate::ad::ldif::Entry;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed BER from the server at byte {pos}: {message}")]
pub struct BerError {
    pub pos: usize,
    pub message: String,
}

fn berr(pos: usize, message: impl Into<String>) -> BerError {
    BerError {
        pos,
        message: message.into(),
    }
}

/// One decoded TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Identifier octet's class bits (0 universal, 1 application, 2 context, 3 private).
    pub class: u8,
    pub constructed: bool,
    pub tag: u64,
    pub contents: &'a [u8],
    /// Offset of `contents` in the outermost buffer, for error messages.
    pub offset: usize,
}

/// Sequential reader over concatenated TLVs.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// A reader over the contents of a constructed TLV.
    pub fn nested_in(t: &Tlv<'a>) -> Self {
        Self::nested(t)
    }

    fn nested(t: &Tlv<'a>) -> Self {
        Reader {
            buf: t.contents,
            pos: 0,
            base: t.offset,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn byte(&mut self) -> Result<u8, BerError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| berr(self.base + self.pos, "unexpected end of data"))?;
        self.pos += 1;
        Ok(b)
    }

    /// Read the next TLV (definite lengths only, as LDAP requires).
    pub fn next_tlv(&mut self) -> Result<Tlv<'a>, BerError> {
        let ident = self.byte()?;
        let class = ident >> 6;
        let constructed = ident & 0x20 != 0;
        let mut tag = u64::from(ident & 0x1f);
        if tag == 0x1f {
            tag = 0;
            for i in 0.. {
                let b = self.byte()?;
                if i >= 8 {
                    return Err(berr(self.base + self.pos, "tag number too long"));
                }
                tag = (tag << 7) | u64::from(b & 0x7f);
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        let first = self.byte()?;
        let len = if first & 0x80 == 0 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 {
                return Err(berr(
                    self.base + self.pos,
                    "indefinite length is not allowed in LDAP",
                ));
            }
            if n > 4 {
                return Err(berr(
                    self.base + self.pos,
                    format!("length of {n} octets is too long"),
                ));
            }
            let mut len = 0usize;
            for _ in 0..n {
                len = (len << 8) | usize::from(self.byte()?);
            }
            len
        };
        let start = self.pos;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| {
                berr(
                    self.base + start,
                    format!(
                        "length {len} runs past the end of the data ({} bytes left)",
                        self.buf.len() - start
                    ),
                )
            })?;
        self.pos = end;
        Ok(Tlv {
            class,
            constructed,
            tag,
            contents: &self.buf[start..end],
            offset: self.base + start,
        })
    }

    /// Read a TLV and check it is a universal one with the given tag.
    pub fn expect_universal(&mut self, tag: u64, what: &str) -> Result<Tlv<'a>, BerError> {
        let t = self.next_tlv()?;
        if t.class != 0 || t.tag != tag {
            return Err(berr(
                t.offset,
                format!("expected {what}, found class {} tag {}", t.class, t.tag),
            ));
        }
        Ok(t)
    }
}

/// Decode a BER INTEGER's contents (two's complement, at most 8 octets).
pub fn integer(t: &Tlv<'_>) -> Result<i64, BerError> {
    if t.contents.is_empty() || t.contents.len() > 8 {
        return Err(berr(
            t.offset,
            format!("integer of {} octets", t.contents.len()),
        ));
    }
    let mut v: i64 = if t.contents[0] & 0x80 != 0 { -1 } else { 0 };
    for &b in t.contents {
        v = (v << 8) | i64::from(b);
    }
    Ok(v)
}

/// The paged results control value (RFC 2696): `SEQUENCE { size INTEGER, cookie OCTET STRING }`.
pub fn encode_paged(size: i32, cookie: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    push_tlv(&mut body, 0x02, &encode_int(i64::from(size)));
    push_tlv(&mut body, 0x04, cookie);
    let mut out = Vec::new();
    push_tlv(&mut out, 0x30, &body);
    out
}

/// Decode a paged results response value into (size estimate, cookie).
pub fn decode_paged(val: &[u8]) -> Result<(i64, Vec<u8>), BerError> {
    let mut r = Reader::new(val);
    let seq = r.expect_universal(16, "SEQUENCE")?;
    if !seq.constructed {
        return Err(berr(seq.offset, "SEQUENCE is not constructed"));
    }
    let mut inner = Reader::nested(&seq);
    let size = integer(&inner.expect_universal(2, "INTEGER size")?)?;
    let cookie = inner
        .expect_universal(4, "OCTET STRING cookie")?
        .contents
        .to_vec();
    Ok((size, cookie))
}

pub fn encode_int(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

pub fn push_tlv(out: &mut Vec<u8>, ident: u8, contents: &[u8]) {
    out.push(ident);
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let be = (len as u64).to_be_bytes();
        let skip = be.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&be[skip..]);
    }
    out.extend_from_slice(contents);
}

/// Decode the contents of a `SearchResultEntry` (`objectName`, `attributes`) as gwb's own
/// message layer hands them over: every value kept as bytes, names as the server spelled
/// them, values of a repeated attribute merged, in time linear in the entry's size.
pub fn entry_from_raw(contents: &[u8]) -> Result<Entry, BerError> {
    let mut r = Reader::new(contents);
    let dn_t = r.expect_universal(4, "entry DN")?;
    let dn = std::str::from_utf8(dn_t.contents)
        .map_err(|_| berr(dn_t.offset, "entry DN is not UTF-8"))?
        .to_string();
    let mut entry = Entry::new(dn);
    if r.is_empty() {
        return Ok(entry);
    }
    let list = r.expect_universal(16, "attribute list")?;
    let mut lr = Reader::nested(&list);
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    while !lr.is_empty() {
        let pa = lr.expect_universal(16, "partial attribute")?;
        let mut pr = Reader::nested(&pa);
        let name_t = pr.expect_universal(4, "attribute type")?;
        let name = std::str::from_utf8(name_t.contents)
            .map_err(|_| berr(name_t.offset, "attribute type is not UTF-8"))?
            .to_string();
        let mut values = Vec::new();
        if !pr.is_empty() {
            let set = pr.expect_universal(17, "attribute value SET")?;
            let mut sr = Reader::nested(&set);
            while !sr.is_empty() {
                values.push(sr.expect_universal(4, "attribute value")?.contents.to_vec());
            }
        }
        match index.get(&name.to_ascii_lowercase()) {
            Some(&i) => entry.attrs[i].1.extend(values),
            None => {
                index.insert(name.to_ascii_lowercase(), entry.attrs.len());
                entry.attrs.push((name, values));
            }
        }
    }
    Ok(entry)
}

/// Walk a `SearchResultEntry` (`[APPLICATION 4] SEQUENCE { objectName, attributes }`) into an
/// [`Entry`], keeping every value as bytes and attribute names as the server spelled them.
pub fn entry_from_tag(tag: &StructureTag) -> Result<Entry, BerError> {
    if tag.class != TagClass::Application || tag.id != 4 {
        return Err(berr(
            0,
            format!(
                "expected a search result entry, found {:?} tag {}",
                tag.class, tag.id
            ),
        ));
    }
    let parts = constructed(tag, "search result entry")?;
    let dn_tag = parts
        .first()
        .ok_or_else(|| berr(0, "search result entry without a DN"))?;
    let dn = String::from_utf8(primitive(dn_tag, "entry DN")?.to_vec())
        .map_err(|_| berr(0, "entry DN is not UTF-8"))?;
    let mut entry = Entry::new(dn);
    let Some(attrs) = parts.get(1) else {
        return Ok(entry);
    };
    for (i, pa) in constructed(attrs, "attribute list")?.iter().enumerate() {
        let pieces = constructed(pa, "partial attribute")?;
        let name_tag = pieces
            .first()
            .ok_or_else(|| berr(i, format!("attribute {i} of {:?} has no type", entry.dn)))?;
        let name = std::str::from_utf8(primitive(name_tag, "attribute type")?)
            .map_err(|_| {
                berr(
                    i,
                    format!("attribute {i} of {:?}: type is not UTF-8", entry.dn),
                )
            })?
            .to_string();
        let mut values = Vec::new();
        if let Some(set) = pieces.get(1) {
            for v in constructed(set, "attribute values")? {
                values.push(primitive(v, "attribute value")?.to_vec());
            }
        }
        match entry
            .attrs
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some((_, vals)) => vals.extend(values),
            None => entry.attrs.push((name, values)),
        }
    }
    Ok(entry)
}

fn constructed<'t>(t: &'t StructureTag, what: &str) -> Result<&'t [StructureTag], BerError> {
    match &t.payload {
        PL::C(v) => Ok(v),
        PL::P(_) => Err(berr(
            0,
            format!("{what}: expected a constructed element, found a primitive one"),
        )),
    }
}

fn primitive<'t>(t: &'t StructureTag, what: &str) -> Result<&'t [u8], BerError> {
    match &t.payload {
        PL::P(v) => Ok(v),
        PL::C(_) => Err(berr(
            0,
            format!("{what}: expected a primitive element, found a constructed one"),
        )),
    }
}

/// Decode raw bytes of a `SearchResultEntry` (used for tests and diagnostics).
pub fn entry_from_bytes(bytes: &[u8]) -> Result<Entry, BerError> {
    let (rest, tag) =
        ldap3::asn1::parse_tag(bytes).map_err(|e| berr(0, format!("not BER: {e:?}")))?;
    if !rest.is_empty() {
        return Err(berr(
            bytes.len() - rest.len(),
            "trailing bytes after the entry",
        ));
    }
    entry_from_tag(&tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(ident: u8, contents: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        push_tlv(&mut v, ident, contents);
        v
    }

    fn sample_entry() -> Vec<u8> {
        let oc = [
            tlv(0x04, b"objectClass"),
            tlv(0x31, &[tlv(0x04, b"top"), tlv(0x04, b"group")].concat()),
        ]
        .concat();
        let guid = [
            tlv(0x04, b"objectGUID"),
            tlv(0x31, &tlv(0x04, &[0xff, 0xfe, 0, 1])),
        ]
        .concat();
        let member = [
            tlv(0x04, b"member;range=0-*"),
            tlv(0x31, &tlv(0x04, b"CN=A,DC=lab")),
        ]
        .concat();
        let attrs = tlv(
            0x30,
            &[tlv(0x30, &oc), tlv(0x30, &guid), tlv(0x30, &member)].concat(),
        );
        tlv(0x64, &[tlv(0x04, b"CN=G,DC=lab"), attrs].concat())
    }

    #[test]
    fn decodes_entry_with_binary_values() {
        let e = entry_from_bytes(&sample_entry()).unwrap();
        assert_eq!(e.dn, "CN=G,DC=lab");
        assert_eq!(e.texts("objectClass"), vec!["top", "group"]);
        assert_eq!(e.first("objectGUID"), Some(&[0xff, 0xfe, 0, 1][..]));
        assert_eq!(e.attrs[2].0, "member;range=0-*");
    }

    #[test]
    fn malformed_entries_are_errors_not_panics() {
        let good = sample_entry();
        // Every truncation and every single-byte corruption must give Ok or Err, never panic.
        for cut in 0..good.len() {
            let _ = entry_from_bytes(&good[..cut]);
        }
        for i in 0..good.len() {
            for b in [0x00u8, 0x04, 0x30, 0x31, 0x64, 0x7f, 0x80, 0x84, 0xff] {
                let mut bad = good.clone();
                bad[i] = b;
                let _ = entry_from_bytes(&bad);
            }
        }
        // A primitive where the attribute list should be.
        let bad = tlv(0x64, &[tlv(0x04, b"CN=G"), tlv(0x04, b"x")].concat());
        assert!(entry_from_bytes(&bad).is_err());
        // Wrong application tag (a SearchResultDone).
        assert!(entry_from_bytes(&tlv(0x65, &tlv(0x04, b"x"))).is_err());
        // DN that is not UTF-8.
        assert!(
            entry_from_bytes(&tlv(
                0x64,
                &[tlv(0x04, &[0xff, 0xfe]), tlv(0x30, &[])].concat()
            ))
            .is_err()
        );
    }

    #[test]
    fn paged_control_round_trip_and_errors() {
        let v = encode_paged(1000, b"\x01\x00cookie");
        assert_eq!(&v[..5], &[0x30, 0x0e, 0x02, 0x02, 0x03]);
        assert_eq!(
            decode_paged(&v).unwrap(),
            (1000, b"\x01\x00cookie".to_vec())
        );
        assert_eq!(decode_paged(&encode_paged(0, b"")).unwrap(), (0, vec![]));
        assert_eq!(decode_paged(&encode_paged(-1, b"")).unwrap().0, -1);
        assert!(decode_paged(&[]).is_err());
        assert!(decode_paged(&[0x30, 0x05, 0x02]).is_err());
        assert!(decode_paged(&[0x30, 0x80, 0x00, 0x00]).is_err());
        assert!(decode_paged(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
        assert!(decode_paged(&[0x30, 0x03, 0x04, 0x01, 0x00]).is_err());
        assert!(decode_paged(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        let long = encode_paged(5, &[7u8; 300]);
        assert_eq!(decode_paged(&long).unwrap().1.len(), 300);
        for cut in 0..long.len() {
            let _ = decode_paged(&long[..cut]);
        }
    }

    #[test]
    fn integers_are_twos_complement() {
        for v in [
            0i64,
            1,
            127,
            128,
            255,
            256,
            -1,
            -128,
            -129,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ] {
            let bytes = encode_int(v);
            let t = Tlv {
                class: 0,
                constructed: false,
                tag: 2,
                contents: &bytes,
                offset: 0,
            };
            assert_eq!(integer(&t).unwrap(), v, "{v}");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = entry_from_bytes(&bytes);
            let _ = decode_paged(&bytes);
            let mut r = Reader::new(&bytes);
            while let Ok(t) = r.next_tlv() {
                let _ = integer(&t);
            }
        }
    }
}
