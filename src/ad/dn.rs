//! Distinguished names: parsing (RFC 4514 plus AD's escapes), escaping for RDN values, and
//! comparison by parsed, case-folded components — never as raw strings.

use std::fmt;

/// One attribute-value assertion of an RDN, borrowed from its [`Dn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ava<'a> {
    /// Attribute type as written (e.g. `CN`, `OU`, `DC`).
    pub attr: &'a str,
    /// Unescaped value.
    pub value: &'a str,
}

/// Where one AVA's type and value end in [`Dn::text`], and which RDN it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    attr_end: u32,
    value_end: u32,
    rdn: u32,
}

/// A parsed DN, RDN 0 the leftmost (most specific). Kept compact, as the AD snapshot holds
/// one per object: every AVA's type and unescaped value back to back in one string, and
/// one small span per AVA (two allocations per DN, not two per AVA and one per RDN).
#[derive(Clone, Default)]
pub struct Dn {
    text: Box<str>,
    avas: Box<[Span]>,
    rdn_count: u32,
}

/// Builds a [`Dn`] AVA by AVA.
#[derive(Default)]
struct Builder {
    text: String,
    avas: Vec<Span>,
    rdn_count: u32,
}

impl Builder {
    /// Add an AVA to RDN `rdn` (RDNs in order, from 0).
    fn push(&mut self, rdn: u32, a: Ava<'_>) {
        self.text.push_str(a.attr);
        let attr_end = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.text.push_str(a.value);
        let value_end = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.avas.push(Span {
            attr_end,
            value_end,
            rdn,
        });
        self.rdn_count = self.rdn_count.max(rdn + 1);
    }

    fn build(self) -> Dn {
        Dn {
            text: self.text.into_boxed_str(),
            avas: self.avas.into_boxed_slice(),
            rdn_count: self.rdn_count,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid DN at character {pos}: {message}")]
pub struct DnError {
    pub pos: usize,
    pub message: String,
}

/// Longest DN text accepted (its parts are addressed with 32-bit offsets).
const MAX_DN_BYTES: usize = u32::MAX as usize / 2;

impl Dn {
    /// Parse a DN string. The empty string is the root DN.
    pub fn parse(s: &str) -> Result<Dn, DnError> {
        if s.len() > MAX_DN_BYTES {
            return Err(DnError {
                pos: 0,
                message: format!("a DN of {} bytes is too long", s.len()),
            });
        }
        let chars: Vec<char> = s.chars().collect();
        let mut b = Builder::default();
        let mut i = 0;
        skip_spaces(&chars, &mut i);
        if i >= chars.len() {
            return Ok(b.build());
        }
        let mut rdn_no = 0u32;
        loop {
            loop {
                skip_spaces(&chars, &mut i);
                let start = i;
                while i < chars.len() && chars[i] != '=' && chars[i] != ',' && chars[i] != '+' {
                    i += 1;
                }
                if i >= chars.len() || chars[i] != '=' {
                    return Err(DnError {
                        pos: start,
                        message: "expected attribute=value".into(),
                    });
                }
                let attr: String = chars[start..i]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string();
                if attr.is_empty()
                    || !attr
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                {
                    return Err(DnError {
                        pos: start,
                        message: format!("invalid attribute type {attr:?}"),
                    });
                }
                i += 1; // '='
                let value = parse_value(&chars, &mut i)?;
                b.push(
                    rdn_no,
                    Ava {
                        attr: &attr,
                        value: &value,
                    },
                );
                if i < chars.len() && chars[i] == '+' {
                    i += 1;
                    continue;
                }
                break;
            }
            rdn_no += 1;
            if i >= chars.len() {
                break;
            }
            if chars[i] == ',' || chars[i] == ';' {
                i += 1;
                continue;
            }
            return Err(DnError {
                pos: i,
                message: format!("unexpected character {:?}", chars[i]),
            });
        }
        Ok(b.build())
    }

    /// Number of RDNs.
    pub fn rdn_len(&self) -> usize {
        self.rdn_count as usize
    }

    /// AVA `i` (in DN order).
    fn ava(&self, i: usize) -> Ava<'_> {
        let sp = self.avas[i];
        let start = if i == 0 {
            0
        } else {
            self.avas[i - 1].value_end as usize
        };
        Ava {
            attr: self.text.get(start..sp.attr_end as usize).unwrap_or(""),
            value: self
                .text
                .get(sp.attr_end as usize..sp.value_end as usize)
                .unwrap_or(""),
        }
    }

    /// Indexes of RDN `r`'s AVAs.
    fn rdn_range(&self, r: usize) -> std::ops::Range<usize> {
        if self.avas.len() == self.rdn_count as usize {
            return r..r + 1;
        }
        let r = r as u32;
        self.avas.partition_point(|a| a.rdn < r)..self.avas.partition_point(|a| a.rdn <= r)
    }

    /// The AVAs of RDN `r` (0 = leftmost).
    pub fn rdn(&self, r: usize) -> impl Iterator<Item = Ava<'_>> + '_ {
        self.rdn_range(r).map(move |i| self.ava(i))
    }

    /// Build `CN=<value>,<parent>`.
    pub fn child(&self, attr: &str, value: &str) -> Dn {
        let mut b = Builder::default();
        b.push(0, Ava { attr, value });
        for i in 0..self.avas.len() {
            b.push(self.avas[i].rdn + 1, self.ava(i));
        }
        b.build()
    }

    /// The parent DN (everything after the first RDN).
    pub fn parent(&self) -> Option<Dn> {
        if self.is_root() {
            return None;
        }
        let mut b = Builder::default();
        for i in self.rdn_range(0).end..self.avas.len() {
            b.push(self.avas[i].rdn - 1, self.ava(i));
        }
        Some(b.build())
    }

    /// The value of the first RDN's first AVA (the CN of a group).
    pub fn rdn_value(&self) -> Option<&str> {
        (!self.avas.is_empty()).then(|| self.ava(0).value)
    }

    pub fn is_root(&self) -> bool {
        self.rdn_count == 0
    }

    /// True if `self` is `other` or lies below it.
    pub fn is_within(&self, other: &Dn) -> bool {
        if other.rdn_count > self.rdn_count {
            return false;
        }
        let off = (self.rdn_count - other.rdn_count) as usize;
        (0..other.rdn_len()).all(|r| rdn_eq(self, off + r, other, r))
    }

    /// True if `self` is a direct child of `parent`.
    pub fn is_child_of(&self, parent: &Dn) -> bool {
        self.rdn_count == parent.rdn_count + 1 && self.is_within(parent)
    }

    /// A normalised key for maps: lowercase types and values, canonical escaping.
    pub fn key(&self) -> String {
        // Built in one buffer: keys are computed for every object and every planned group.
        let mut out = String::with_capacity(self.text.len() + 2 * self.avas.len());
        for r in 0..self.rdn_len() {
            if r > 0 {
                out.push(',');
            }
            self.push_rdn_key(&mut out, r);
        }
        out
    }

    /// The [`Dn::key`] of RDN `r` alone (a one-RDN DN).
    pub fn rdn_key(&self, r: usize) -> String {
        let mut out = String::new();
        self.push_rdn_key(&mut out, r);
        out
    }

    fn push_rdn_key(&self, out: &mut String, r: usize) {
        let range = self.rdn_range(r);
        if range.len() == 1 {
            push_ava_key(out, self.ava(range.start));
            return;
        }
        let mut avas: Vec<String> = range
            .map(|i| {
                let mut s = String::new();
                push_ava_key(&mut s, self.ava(i));
                s
            })
            .collect();
        avas.sort();
        out.push_str(&avas.join("+"));
    }
}

/// `type=value` of one AVA as [`Dn::key`] writes it: the type in ASCII lowercase, the value
/// folded, then escaped.
fn push_ava_key(out: &mut String, a: Ava<'_>) {
    push_key_of(out, a.attr, a.value);
}

fn push_key_of(out: &mut String, attr: &str, value: &str) {
    for c in attr.chars() {
        out.push(c.to_ascii_lowercase());
    }
    out.push('=');
    if value.is_ascii() {
        // ASCII folds character by character: no copy of the value.
        escape_into(out, value, true);
    } else {
        escape_into(out, &fold(value), false);
    }
}

/// The text and [`Dn::key`] of children of one DN, built without a [`Dn`] per child: a
/// forecast names a child of the target OU for every group of every target.
pub struct ChildNames {
    text: String,
    key: String,
}

impl ChildNames {
    pub fn of(parent: &Dn) -> ChildNames {
        ChildNames {
            text: parent.to_string(),
            key: parent.key(),
        }
    }

    /// `parent.child(attr, value).to_string()` and `.key()`.
    pub fn child(&self, attr: &str, value: &str) -> (String, String) {
        let mut text = String::with_capacity(attr.len() + value.len() + self.text.len() + 4);
        text.push_str(attr);
        text.push('=');
        escape_into(&mut text, value, false);
        let mut key = String::with_capacity(attr.len() + value.len() + self.key.len() + 4);
        push_key_of(&mut key, attr, value);
        if !self.text.is_empty() {
            text.push(',');
            text.push_str(&self.text);
            key.push(',');
            key.push_str(&self.key);
        }
        (text, key)
    }
}

impl PartialEq for Dn {
    fn eq(&self, other: &Dn) -> bool {
        self.rdn_count == other.rdn_count && (0..self.rdn_len()).all(|r| rdn_eq(self, r, other, r))
    }
}
impl Eq for Dn {}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in 0..self.rdn_len() {
            if r > 0 {
                f.write_str(",")?;
            }
            for (j, ava) in self.rdn(r).enumerate() {
                if j > 0 {
                    f.write_str("+")?;
                }
                write!(f, "{}={}", ava.attr, escape_value(ava.value))?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dn({:?})", self.to_string())
    }
}

impl std::str::FromStr for Dn {
    type Err = DnError;
    fn from_str(s: &str) -> Result<Dn, DnError> {
        Dn::parse(s)
    }
}

impl serde::Serialize for Dn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// Values equal after folding (ASCII compares without allocating).
fn fold_eq(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        fold(a) == fold(b)
    }
}

/// RDN `ra` of `a` equals RDN `rb` of `b`: the same AVAs in any order, types compared in
/// ASCII case, values folded.
fn rdn_eq(a: &Dn, ra: usize, b: &Dn, rb: usize) -> bool {
    let (x, y) = (a.rdn_range(ra), b.rdn_range(rb));
    if x.len() != y.len() {
        return false;
    }
    if x.len() == 1 {
        let (p, q) = (a.ava(x.start), b.ava(y.start));
        return p.attr.eq_ignore_ascii_case(q.attr) && fold_eq(p.value, q.value);
    }
    let norm = |d: &Dn, r: std::ops::Range<usize>| {
        let mut v: Vec<(String, String)> = r
            .map(|i| {
                let x = d.ava(i);
                (x.attr.to_ascii_lowercase(), fold(x.value))
            })
            .collect();
        v.sort();
        v
    };
    norm(a, x) == norm(b, y)
}

fn skip_spaces(chars: &[char], i: &mut usize) {
    while *i < chars.len() && chars[*i] == ' ' {
        *i += 1;
    }
}

fn hex_val(c: char) -> Option<u8> {
    c.to_digit(16).map(|d| d as u8)
}

fn parse_value(chars: &[char], i: &mut usize) -> Result<String, DnError> {
    skip_spaces(chars, i);
    // #hex form (BER-encoded value): keep as the literal string.
    if *i < chars.len() && chars[*i] == '#' {
        let start = *i;
        *i += 1;
        while *i < chars.len() && chars[*i].is_ascii_hexdigit() {
            *i += 1;
        }
        let s: String = chars[start..*i].iter().collect();
        skip_spaces(chars, i);
        return Ok(s);
    }
    let mut bytes: Vec<u8> = Vec::new();
    // Length of `bytes` up to the last character that was escaped or not a space,
    // so unescaped trailing spaces are trimmed and escaped ones kept.
    let mut keep = 0usize;
    let mut in_quotes = false;
    while *i < chars.len() {
        let c = chars[*i];
        if in_quotes {
            if c == '"' {
                in_quotes = false;
                *i += 1;
                keep = bytes.len();
                continue;
            }
        } else if c == ',' || c == '+' || c == ';' {
            break;
        } else if c == '"' && bytes.is_empty() {
            in_quotes = true;
            *i += 1;
            continue;
        }
        if c == '\\' {
            let pos = *i;
            *i += 1;
            if *i >= chars.len() {
                return Err(DnError {
                    pos,
                    message: "dangling backslash".into(),
                });
            }
            let n = chars[*i];
            if let (Some(h), Some(l)) = (hex_val(n), chars.get(*i + 1).and_then(|c| hex_val(*c))) {
                let b = h * 16 + l;
                if b == 0 {
                    return Err(DnError {
                        pos,
                        message: "\\00 (a NUL byte) is not allowed in a DN".into(),
                    });
                }
                bytes.push(b);
                *i += 2;
            } else if matches!(
                n,
                ' ' | '"' | '#' | '+' | ',' | ';' | '<' | '=' | '>' | '\\'
            ) {
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(n.encode_utf8(&mut buf).as_bytes());
                *i += 1;
            } else {
                // RFC 4514 §3: a backslash escapes a special character or starts two hex digits.
                return Err(DnError {
                    pos,
                    message: format!(
                        "invalid escape \\{}: RFC 4514 allows a backslash only before two hex digits or one of  \" # + , ; < = > \\",
                        n.escape_debug()
                    ),
                });
            }
            keep = bytes.len();
            continue;
        }
        if c == '\0' {
            return Err(DnError {
                pos: *i,
                message: "a NUL character is not allowed in a DN".into(),
            });
        }
        let mut buf = [0u8; 4];
        bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        if c != ' ' {
            keep = bytes.len();
        }
        *i += 1;
    }
    bytes.truncate(keep);
    String::from_utf8(bytes).map_err(|_| DnError {
        pos: *i,
        message: "escaped bytes are not UTF-8".into(),
    })
}

/// Escape an RDN value for AD (RFC 4514 plus AD's rules): `, \ # + < > ; " =`, a leading
/// `#` or space, a trailing space, and control characters as `\HH`.
pub fn escape_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 4);
    escape_into(&mut out, v, false);
    out
}

/// [`escape_value`] appended to a buffer, optionally of the ASCII-lowercased value.
fn escape_into(out: &mut String, v: &str, ascii_lower: bool) {
    // Most values (every objectId-based CN) need no escaping: copy them whole.
    let b = v.as_bytes();
    let plain = |c: &u8| {
        (0x20..0x7f).contains(c)
            && !matches!(c, b',' | b'\\' | b'+' | b'<' | b'>' | b';' | b'"' | b'=')
    };
    if b.iter().all(plain)
        && b.first().is_none_or(|&c| c != b'#' && c != b' ')
        && b.last().is_none_or(|&c| c != b' ')
    {
        if ascii_lower {
            out.extend(b.iter().map(|c| char::from(c.to_ascii_lowercase())));
        } else {
            out.push_str(v);
        }
        return;
    }
    escape_each(out, v, ascii_lower);
}

/// [`escape_into`] character by character.
fn escape_each(out: &mut String, v: &str, ascii_lower: bool) {
    let n = v.chars().count();
    for (idx, c) in v.chars().enumerate() {
        let c = if ascii_lower {
            c.to_ascii_lowercase()
        } else {
            c
        };
        match c {
            ',' | '\\' | '+' | '<' | '>' | ';' | '"' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '#' if idx == 0 => out.push_str("\\#"),
            ' ' if idx == 0 || idx + 1 == n => out.push_str("\\ "),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                use std::fmt::Write;
                let _ = write!(out, "\\{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_compares_case_insensitively() {
        let a = Dn::parse("CN=Group_1,OU=Writeback,DC=lab,DC=example,DC=com").unwrap();
        let b = Dn::parse("cn=group_1, ou=WRITEBACK,dc=Lab,dc=Example,dc=Com").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.key(), b.key());
        assert!(a.is_child_of(&Dn::parse("OU=Writeback,DC=lab,DC=example,DC=com").unwrap()));
        assert!(!a.is_child_of(&Dn::parse("DC=lab,DC=example,DC=com").unwrap()));
        assert!(a.is_within(&Dn::parse("DC=lab,DC=example,DC=com").unwrap()));
    }

    #[test]
    fn escapes_round_trip() {
        for v in [
            "a,b",
            "x+y",
            "#lead",
            " lead",
            "trail ",
            "q\"uote",
            "semi;colon",
            "lt<gt>",
            "back\\slash",
            "eq=ual",
            "new\nline",
            "Ünïcødé",
        ] {
            let dn = Dn::parse("OU=x,DC=y").unwrap().child("CN", v);
            let s = dn.to_string();
            let back = Dn::parse(&s).unwrap();
            assert_eq!(back.rdn_value(), Some(v), "{s}");
        }
    }

    #[test]
    fn hex_escapes_as_samba_returns_them() {
        let dn = Dn::parse(r"CN=a\3Db\2Cc,DC=x").unwrap();
        assert_eq!(dn.rdn_value(), Some("a=b,c"));
        assert_eq!(
            Dn::parse(r"CN=trail\ ,DC=x").unwrap().rdn_value(),
            Some("trail ")
        );
        assert_eq!(
            Dn::parse("CN=trail ,DC=x").unwrap().rdn_value(),
            Some("trail")
        );
    }

    #[test]
    fn multi_valued_rdns_parents_and_children() {
        let a = Dn::parse("CN=a+SN=B,OU=x,DC=y").unwrap();
        let b = Dn::parse("sn=b+cn=A,ou=X,dc=Y").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.key(), "cn=a+sn=b,ou=x,dc=y");
        assert_eq!(a.key(), b.key());
        assert_eq!(a.rdn_len(), 3);
        assert_eq!(a.rdn(0).count(), 2);
        assert_eq!(a.rdn_key(0), "cn=a+sn=b");
        assert_eq!(a.rdn_key(2), "dc=y");
        assert_eq!(a.to_string(), "CN=a+SN=B,OU=x,DC=y");
        let parent = a.parent().unwrap();
        assert_eq!(parent.to_string(), "OU=x,DC=y");
        assert!(a.is_child_of(&parent));
        assert!(!a.is_child_of(&Dn::parse("OU=z,DC=y").unwrap()));
        let c = parent.child("CN", "n,1");
        assert_eq!(c.to_string(), "CN=n\\,1,OU=x,DC=y");
        assert_eq!(c.rdn_value(), Some("n,1"));
        assert!(c.is_within(&Dn::parse("DC=Y").unwrap()));
        assert_eq!(
            Dn::parse("DC=y").unwrap().parent().map(|p| p.is_root()),
            Some(true)
        );
        assert!(Dn::parse("").unwrap().parent().is_none());
        // Non-ASCII values compare folded.
        assert_eq!(
            Dn::parse("CN=Ärger,DC=x").unwrap(),
            Dn::parse("cn=ärger,dc=X").unwrap()
        );
        assert_ne!(
            Dn::parse("CN=a+SN=b,DC=x").unwrap(),
            Dn::parse("CN=a,DC=x").unwrap()
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(Dn::parse("not a dn").is_err());
        assert!(Dn::parse("CN=x\\").is_err());
        assert!(Dn::parse("=x").is_err());
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any value survives escaping and parsing, and parsing never panics.
        #[test]
        fn escape_parse_round_trip(v in "\\PC{0,40}") {
            let dn = Dn::parse("OU=x,DC=y").unwrap().child("CN", &v);
            let back = Dn::parse(&dn.to_string()).unwrap();
            prop_assert_eq!(back.rdn_value(), Some(v.as_str()));
            prop_assert_eq!(back, dn);
        }

        /// The whole-value copy gives what escaping character by character gives.
        #[test]
        fn plain_values_escape_as_each_character_would(
            v in "[ -~]{0,20}|[A-Za-z0-9_ #-]{0,12}", lower in any::<bool>()
        ) {
            let (mut fast, mut each) = (String::new(), String::new());
            escape_into(&mut fast, &v, lower);
            escape_each(&mut each, &v, lower);
            prop_assert_eq!(fast, each);
        }

        /// [`ChildNames`] names a child exactly as [`Dn::child`] does, for any value and any
        /// parent (the empty DN, multi-valued RDNs, non-ASCII and escaped values).
        #[test]
        fn child_names_equal_a_child_dn(
            v in "\\PC{0,30}|[ #,+\"\\\\<>;=A-Za-z\u{e9}\u{130}\u{212a}]{0,12}",
            parent in prop::sample::select(vec![
                "", "OU=Cloud Groups,DC=bench,DC=test", "OU=A+CN=B,DC=x", "OU=\\#\\,x\\ ,DC=\u{e9}t\u{e9}"
            ]),
        ) {
            let p = Dn::parse(parent).unwrap();
            let (text, key) = ChildNames::of(&p).child("CN", &v);
            let dn = p.child("CN", &v);
            prop_assert_eq!(text, dn.to_string());
            prop_assert_eq!(key, dn.key());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,60}") {
            let _ = Dn::parse(&s);
        }
    }
}
