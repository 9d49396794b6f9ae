//! Distinguished names: parsing (RFC 4514 plus AD's escapes), escaping for RDN values, and
//! comparison by parsed, case-folded components — never as raw strings.

use std::fmt;

/// One attribute-value assertion of an RDN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ava {
    /// Attribute type as written (e.g. `CN`, `OU`, `DC`).
    pub attr: String,
    /// Unescaped value.
    pub value: String,
}

/// A parsed DN. `rdns[0]` is the leftmost (most specific) RDN.
#[derive(Debug, Clone, Default)]
pub struct Dn {
    pub rdns: Vec<Vec<Ava>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid DN at character {pos}: {message}")]
pub struct DnError {
    pub pos: usize,
    pub message: String,
}

impl Dn {
    /// Parse a DN string. The empty string is the root DN.
    pub fn parse(s: &str) -> Result<Dn, DnError> {
        let chars: Vec<char> = s.chars().collect();
        let mut rdns = Vec::new();
        let mut i = 0;
        skip_spaces(&chars, &mut i);
        if i >= chars.len() {
            return Ok(Dn { rdns });
        }
        loop {
            let mut rdn = Vec::new();
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
                rdn.push(Ava { attr, value });
                if i < chars.len() && chars[i] == '+' {
                    i += 1;
                    continue;
                }
                break;
            }
            rdns.push(rdn);
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
        Ok(Dn { rdns })
    }

    /// Build `CN=<value>,<parent>`.
    pub fn child(&self, attr: &str, value: &str) -> Dn {
        let mut rdns = vec![vec![Ava {
            attr: attr.to_string(),
            value: value.to_string(),
        }]];
        rdns.extend(self.rdns.iter().cloned());
        Dn { rdns }
    }

    /// The parent DN (everything after the first RDN).
    pub fn parent(&self) -> Option<Dn> {
        if self.rdns.is_empty() {
            None
        } else {
            Some(Dn {
                rdns: self.rdns[1..].to_vec(),
            })
        }
    }

    /// The value of the first RDN's first AVA (the CN of a group).
    pub fn rdn_value(&self) -> Option<&str> {
        self.rdns
            .first()
            .and_then(|r| r.first())
            .map(|a| a.value.as_str())
    }

    pub fn is_root(&self) -> bool {
        self.rdns.is_empty()
    }

    /// True if `self` is `other` or lies below it.
    pub fn is_within(&self, other: &Dn) -> bool {
        if other.rdns.len() > self.rdns.len() {
            return false;
        }
        let off = self.rdns.len() - other.rdns.len();
        self.rdns[off..]
            .iter()
            .zip(&other.rdns)
            .all(|(a, b)| rdn_eq(a, b))
    }

    /// True if `self` is a direct child of `parent`.
    pub fn is_child_of(&self, parent: &Dn) -> bool {
        self.rdns.len() == parent.rdns.len() + 1 && self.is_within(parent)
    }

    /// A normalised key for maps: lowercase types and values, canonical escaping.
    pub fn key(&self) -> String {
        // Built in one buffer: keys are computed for every object and every planned group.
        let mut out = String::with_capacity(
            self.rdns
                .iter()
                .flatten()
                .map(|a| a.attr.len() + a.value.len() + 2)
                .sum(),
        );
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            if let [a] = rdn.as_slice() {
                push_ava_key(&mut out, a);
                continue;
            }
            let mut avas: Vec<String> = rdn
                .iter()
                .map(|a| {
                    let mut s = String::new();
                    push_ava_key(&mut s, a);
                    s
                })
                .collect();
            avas.sort();
            out.push_str(&avas.join("+"));
        }
        out
    }
}

/// `type=value` of one AVA as [`Dn::key`] writes it: the type in ASCII lowercase, the value
/// folded, then escaped.
fn push_ava_key(out: &mut String, a: &Ava) {
    push_key_of(out, &a.attr, &a.value);
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
        self.rdns.len() == other.rdns.len()
            && self.rdns.iter().zip(&other.rdns).all(|(a, b)| rdn_eq(a, b))
    }
}
impl Eq for Dn {}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            for (j, ava) in rdn.iter().enumerate() {
                if j > 0 {
                    f.write_str("+")?;
                }
                write!(f, "{}={}", ava.attr, escape_value(&ava.value))?;
            }
        }
        Ok(())
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

fn rdn_eq(a: &[Ava], b: &[Ava]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let norm = |r: &[Ava]| {
        let mut v: Vec<(String, String)> = r
            .iter()
            .map(|x| (x.attr.to_ascii_lowercase(), fold(&x.value)))
            .collect();
        v.sort();
        v
    };
    norm(a) == norm(b)
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
