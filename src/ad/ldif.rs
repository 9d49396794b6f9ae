//! LDIF (RFC 2849) content records, as `ldapsearch -LLL` writes them: reading with errors that
//! name the line, and writing with base64 for binary or unsafe values and 76-column folding.

use base64::Engine;

/// Whether the attribute description `n` names `name`: the same description, or, for a
/// name without options, the same attribute with any options (`member;range=0-1499` is a
/// `member`). Case-insensitive. `with_options` is whether `name` has a `;`.
fn names_match(n: &str, name: &str, with_options: bool) -> bool {
    if with_options {
        return n.eq_ignore_ascii_case(name);
    }
    let (n, k) = (n.as_bytes(), name.as_bytes());
    n.len() >= k.len()
        && n[..k.len()].eq_ignore_ascii_case(k)
        && (n.len() == k.len() || n[k.len()] == b';')
}

/// One LDIF record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub dn: String,
    /// Line of the `dn:` line (1-based), for error messages.
    pub line: usize,
    /// Attribute descriptions as written (options kept, e.g. `member;range=0-1499`), in order.
    pub attrs: Vec<(String, Vec<Vec<u8>>)>,
}

impl Entry {
    pub fn new(dn: impl Into<String>) -> Entry {
        Entry {
            dn: dn.into(),
            line: 0,
            attrs: Vec::new(),
        }
    }

    /// All values of an attribute (case-insensitive name, options ignored unless given).
    pub fn values(&self, name: &str) -> impl Iterator<Item = &[u8]> {
        let with_options = name.contains(';');
        self.attrs
            .iter()
            .filter(move |(n, _)| names_match(n, name, with_options))
            .flat_map(|(_, v)| v.iter().map(|x| x.as_slice()))
    }

    pub fn first(&self, name: &str) -> Option<&[u8]> {
        self.values(name).next()
    }

    /// First value as UTF-8 text (lossless values only).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.first(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    pub fn texts(&self, name: &str) -> Vec<&str> {
        self.values(name)
            .filter_map(|v| std::str::from_utf8(v).ok())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.first(name).is_some()
    }

    /// Give back the spare capacity of the DN, the attribute list and every value list
    /// (an entry that is complete and kept).
    pub fn shrink_to_fit(&mut self) {
        self.dn.shrink_to_fit();
        self.attrs.shrink_to_fit();
        for (_, vals) in &mut self.attrs {
            vals.shrink_to_fit();
        }
    }

    pub fn push(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        let value = value.into();
        if let Some((_, vals)) = self
            .attrs
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            vals.push(value);
        } else {
            self.attrs.push((name.to_string(), vec![value]));
        }
    }
}

/// A list of entries kept compactly (what the PowerShell readers recognise, possibly
/// hundreds of thousands of rows): every entry's DN, line, attributes and values back to
/// back in one byte buffer, and each distinct attribute description stored once for the
/// list. About the size of the entries' text, where an [`Entry`] costs an allocation per
/// attribute name and per value (about 1 KB for an Export-Csv group row). Entries come back
/// out as [`Entry`] values, one at a time, exactly as they were pushed.
#[derive(Clone, Default)]
pub struct Entries {
    /// Every entry encoded (see [`Entries::push`]), one after the other.
    bytes: Vec<u8>,
    /// Where each entry starts in `bytes`.
    starts: Vec<usize>,
    /// Attribute descriptions as written (exact spelling), each once, by number.
    names: Vec<String>,
    /// The number of each description in `names`.
    name_index: std::collections::HashMap<String, usize>,
}

impl Entries {
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Append one entry. Encoding: DN (length, bytes), line, attribute count, then per
    /// attribute its name's number and value count, then per value its length and bytes;
    /// every number a LEB128 varint.
    pub fn push(&mut self, e: &Entry) {
        self.starts.push(self.bytes.len());
        put_bytes(&mut self.bytes, e.dn.as_bytes());
        put_varint(&mut self.bytes, e.line);
        put_varint(&mut self.bytes, e.attrs.len());
        for (name, vals) in &e.attrs {
            let n = match self.name_index.get(name.as_str()) {
                Some(&n) => n,
                None => {
                    let n = self.names.len();
                    self.names.push(name.clone());
                    self.name_index.insert(name.clone(), n);
                    n
                }
            };
            put_varint(&mut self.bytes, n);
            put_varint(&mut self.bytes, vals.len());
            for v in vals {
                put_bytes(&mut self.bytes, v);
            }
        }
    }

    /// Append every entry of `more` after these.
    pub fn extend(&mut self, more: Entries) {
        if self.is_empty() {
            *self = more;
        } else {
            more.iter().for_each(|e| self.push(&e));
        }
    }

    /// Give back the buffers' spare capacity (a list that is complete and kept).
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.starts.shrink_to_fit();
        self.names.shrink_to_fit();
    }

    /// The entry at `i`, as it was pushed.
    pub fn get(&self, i: usize) -> Option<Entry> {
        let start = *self.starts.get(i)?;
        let mut r = Reader {
            bytes: self.bytes.get(start..).unwrap_or_default(),
        };
        let dn = String::from_utf8_lossy(r.bytes_field()).into_owned();
        let line = r.varint();
        let n_attrs = r.varint();
        let mut attrs = Vec::with_capacity(n_attrs.min(r.bytes.len()));
        for _ in 0..n_attrs {
            let name = self.names.get(r.varint()).cloned().unwrap_or_default();
            let n_vals = r.varint();
            let mut vals = Vec::with_capacity(n_vals.min(r.bytes.len()));
            for _ in 0..n_vals {
                vals.push(r.bytes_field().to_vec());
            }
            attrs.push((name, vals));
        }
        Some(Entry { dn, line, attrs })
    }

    /// The DN of the entry at `i`, without decoding the rest.
    pub fn dn(&self, i: usize) -> Option<std::borrow::Cow<'_, str>> {
        let start = *self.starts.get(i)?;
        let mut r = Reader {
            bytes: self.bytes.get(start..).unwrap_or_default(),
        };
        Some(String::from_utf8_lossy(r.bytes_field()))
    }

    /// Every entry in order, each decoded when it is reached.
    pub fn iter(&self) -> impl Iterator<Item = Entry> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Every entry's DN in order.
    pub fn dns(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> + '_ {
        (0..self.len()).filter_map(|i| self.dn(i))
    }

    pub fn to_vec(&self) -> Vec<Entry> {
        self.iter().collect()
    }
}

/// Where recognised entries are gathered: a compact [`Entries`] (a snapshot loaded from
/// files) or a `Vec<Entry>` (next to entries LDAP answered).
pub trait EntrySink {
    fn append_entries(&mut self, more: Entries);
}

impl EntrySink for Entries {
    fn append_entries(&mut self, more: Entries) {
        self.extend(more);
    }
}

impl EntrySink for Vec<Entry> {
    fn append_entries(&mut self, more: Entries) {
        self.extend(more.iter());
    }
}

impl From<Vec<Entry>> for Entries {
    fn from(v: Vec<Entry>) -> Entries {
        v.into_iter().collect()
    }
}

impl FromIterator<Entry> for Entries {
    fn from_iter<I: IntoIterator<Item = Entry>>(iter: I) -> Entries {
        let mut out = Entries::default();
        iter.into_iter().for_each(|e| out.push(&e));
        out
    }
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Entries {
    fn eq(&self, other: &Entries) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Entries {}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len());
    out.extend_from_slice(b);
}

/// Reads what [`Entries::push`] wrote. Total: past the end it reads zeros and empty
/// fields (which a buffer it wrote never reaches).
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> usize {
        let mut n = 0usize;
        let mut shift = 0u32;
        while let Some((&b, rest)) = self.bytes.split_first() {
            self.bytes = rest;
            if shift < usize::BITS {
                n |= usize::from(b & 0x7f) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        n
    }

    fn bytes_field(&mut self) -> &'a [u8] {
        let len = self.varint().min(self.bytes.len());
        let (field, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        field
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LdifError {
    pub line: usize,
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> LdifError {
    LdifError {
        line,
        message: message.into(),
    }
}

/// Parse LDIF text into entries. Change records other than `changetype: add` are rejected.
///
/// Linear in the input: continuation lines are unfolded one record line at a time (never a
/// copy of the whole file), and attribute names are found through a per-entry index, so an
/// entry with 200,000 distinct attribute names costs no more than 200,000 values.
pub fn parse(text: &str) -> Result<Vec<Entry>, LdifError> {
    let mut entries = Vec::new();
    parse_each(text, |e| {
        entries.push(e);
        Ok(())
    })?;
    Ok(entries)
}

/// [`parse`], handing each entry to `f` as soon as its record ends (nothing is kept: a
/// caller that folds entries into something smaller never holds them all). Stops at the
/// first error, from the text or from `f`.
pub fn parse_each(
    text: &str,
    mut f: impl FnMut(Entry) -> Result<(), LdifError>,
) -> Result<(), LdifError> {
    let mut u = Unfolder::default();
    for raw in text.split('\n') {
        u.line(raw, &mut f)?;
    }
    u.finish(&mut f)
}

/// [`parse_each`] of an LDIF file, read in a stream when it is plain UTF-8 (as ad.ldif
/// from ldapsearch is): the same entries and errors as `parse_each` of
/// `read_file(path)?.text`, without the file's text in memory. `reserve` is first given
/// the number of records (at most 2^20: a hint, so that what the entries are folded into
/// is sized once). `Ok(Err(..))` is the first error from the text or from `f`.
pub fn parse_file_each<S>(
    path: &std::path::Path,
    state: &mut S,
    reserve: impl FnOnce(&mut S, usize),
    mut f: impl FnMut(&mut S, Entry) -> Result<(), LdifError>,
) -> Result<Result<(), LdifError>, crate::error::InputError> {
    // Records: "dn:" after a line end (LF, CRLF or a lone CR), plus one, as
    // `text.matches("\ndn:").count() + 1` of the decoded text.
    let records = std::cell::Cell::new(1usize);
    let first = std::cell::Cell::new(true);
    let scan = |raw: &[u8]| {
        let mut n = raw.windows(4).filter(|w| *w == b"\rdn:").count();
        if !first.replace(false) && raw.starts_with(b"dn:") {
            n += 1;
        }
        records.set(records.get().saturating_add(n));
    };
    const MOST_RESERVED: usize = 1 << 20;
    let mut reserve = Some(reserve);
    let mut u = Unfolder::default();
    let streamed = crate::text::stream_utf8_lines(path, scan, |raw| {
        if let Some(r) = reserve.take() {
            r(state, records.get().min(MOST_RESERVED));
        }
        u.line(raw, &mut |e| f(state, e))
    })?;
    Ok(match streamed {
        crate::text::Streamed::Done(r) => r.and_then(|()| u.finish(&mut |e| f(state, e))),
        crate::text::Streamed::NotPlainUtf8 => {
            let decoded = crate::text::read_file(path)?;
            if let Some(r) = reserve.take() {
                r(
                    state,
                    (decoded.text.matches("\ndn:").count() + 1).min(MOST_RESERVED),
                );
            }
            parse_each(&decoded.text, |e| f(state, e))
        }
    })
}

/// Logical LDIF lines from physical ones: continuation lines (a leading space) unfolded
/// into the line they continue, one record line at a time.
#[derive(Default)]
struct Unfolder {
    p: Parser,
    /// Line number of the physical lines seen so far.
    lineno: usize,
    /// First line number of the logical line being assembled, and its text in `buf`.
    pending: Option<usize>,
    buf: String,
}

impl Unfolder {
    fn line(
        &mut self,
        raw: &str,
        f: &mut impl FnMut(Entry) -> Result<(), LdifError>,
    ) -> Result<(), LdifError> {
        self.lineno += 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(cont) = raw.strip_prefix(' ') {
            match self.pending {
                Some(_) if !self.buf.is_empty() => self.buf.push_str(cont),
                _ => {
                    return Err(err(
                        self.lineno,
                        "continuation line without a line to continue",
                    ));
                }
            }
            return Ok(());
        }
        self.flush(f)?;
        self.pending = Some(self.lineno);
        self.buf.clear();
        self.buf.push_str(raw);
        Ok(())
    }

    fn flush(
        &mut self,
        f: &mut impl FnMut(Entry) -> Result<(), LdifError>,
    ) -> Result<(), LdifError> {
        if let Some(n) = self.pending.take()
            && let Some(e) = self.p.line(n, &self.buf)?
        {
            f(e)?;
        }
        Ok(())
    }

    fn finish(
        mut self,
        f: &mut impl FnMut(Entry) -> Result<(), LdifError>,
    ) -> Result<(), LdifError> {
        self.flush(f)?;
        if let Some(e) = self.p.finish() {
            f(e)?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Parser {
    current: Option<Entry>,
    /// Lower-cased attribute name to its index in `current.attrs`.
    index: std::collections::HashMap<String, usize>,
    seen_first: bool,
}

impl Parser {
    /// One logical line; `Some(entry)` when it ends a record.
    fn line(&mut self, lineno: usize, line: &str) -> Result<Option<Entry>, LdifError> {
        if line.is_empty() {
            let done = self.current.take().map(|mut e| {
                e.shrink_to_fit();
                e
            });
            self.index.clear();
            return Ok(done);
        }
        if line.starts_with('#') {
            return Ok(None);
        }
        let (name, value) = parse_line(line, lineno)?;
        if !self.seen_first && self.current.is_none() && name.eq_ignore_ascii_case("version") {
            self.seen_first = true;
            if value != b"1" {
                return Err(err(lineno, "unsupported LDIF version (only version: 1)"));
            }
            return Ok(None);
        }
        self.seen_first = true;
        let Some(e) = self.current.as_mut() else {
            if !name.eq_ignore_ascii_case("dn") {
                return Err(err(
                    lineno,
                    format!(
                        "expected \"dn:\" to start a record, found {}",
                        crate::text::excerpt(&name)
                    ),
                ));
            }
            let dn = String::from_utf8(value).map_err(|_| err(lineno, "dn is not UTF-8"))?;
            self.current = Some(Entry {
                dn,
                line: lineno,
                attrs: Vec::new(),
            });
            return Ok(None);
        };
        if name.eq_ignore_ascii_case("dn") {
            return Err(err(
                lineno,
                "a second dn: in one record (missing blank line?)",
            ));
        }
        if name.eq_ignore_ascii_case("changetype") {
            if value.eq_ignore_ascii_case(b"add") {
                return Ok(None);
            }
            return Err(err(
                lineno,
                "only content records (or changetype: add) are supported",
            ));
        }
        let key = name.to_ascii_lowercase();
        match self.index.get(&key) {
            Some(&i) => e.attrs[i].1.push(value),
            None => {
                self.index.insert(key, e.attrs.len());
                e.attrs.push((name, vec![value]));
            }
        }
        Ok(None)
    }

    fn finish(mut self) -> Option<Entry> {
        self.current.take().map(|mut e| {
            e.shrink_to_fit();
            e
        })
    }
}

fn parse_line(line: &str, lineno: usize) -> Result<(String, Vec<u8>), LdifError> {
    let colon = line.find(':').ok_or_else(|| {
        err(
            lineno,
            format!("expected \"attribute: value\", found {}", truncate(line)),
        )
    })?;
    let name = &line[..colon];
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ';' | '=' | '.'))
    {
        return Err(err(
            lineno,
            format!("invalid attribute description {}", truncate(name)),
        ));
    }
    let rest = &line[colon + 1..];
    let value = if let Some(b64) = rest.strip_prefix(':') {
        base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| err(lineno, format!("invalid base64 value for {name}: {e}")))?
    } else if rest.starts_with('<') {
        return Err(err(
            lineno,
            format!("URL values (\"{name}:<\") are not supported; inline the value"),
        ));
    } else {
        let v = rest
            .strip_prefix(' ')
            .unwrap_or(rest)
            .trim_start_matches(' ');
        // The same rule as tenant.json and the PowerShell readers: no raw NUL in text (a
        // binary value is written base64, "name:: …").
        if v.contains('\0') {
            return Err(err(
                lineno,
                format!(
                    "the value of {name} holds a NUL character; binary values must be base64 (\"{name}:: …\")"
                ),
            ));
        }
        v.as_bytes().to_vec()
    };
    Ok((name.to_string(), value))
}

fn truncate(s: &str) -> String {
    crate::text::excerpt(s)
}

/// True if RFC 2849 lets this value be written as-is (SAFE-STRING).
fn is_safe(v: &[u8]) -> bool {
    if v.is_empty() {
        return true;
    }
    if matches!(v[0], b' ' | b':' | b'<') || v[v.len() - 1] == b' ' {
        return false;
    }
    v.iter()
        .all(|&b| b != 0 && b != b'\n' && b != b'\r' && b < 0x80)
}

/// Write one `name: value` (or `name:: base64`) line, folded at 76 columns.
pub fn write_attr(out: &mut String, name: &str, value: &[u8]) {
    let line = if is_safe(value) {
        format!("{name}: {}", String::from_utf8_lossy(value))
    } else {
        format!(
            "{name}:: {}",
            base64::engine::general_purpose::STANDARD.encode(value)
        )
    };
    fold_into(out, &line);
}

fn fold_into(out: &mut String, line: &str) {
    const WIDTH: usize = 76;
    let mut first = true;
    let mut rest = line;
    while !rest.is_empty() {
        let width = if first { WIDTH } else { WIDTH - 1 };
        let mut cut = rest.len().min(width);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if !first {
            out.push(' ');
        }
        out.push_str(&rest[..cut]);
        out.push('\n');
        rest = &rest[cut..];
        first = false;
    }
    if line.is_empty() {
        out.push('\n');
    }
}

/// Serialise entries as LDIF content records.
pub fn write(entries: &[Entry]) -> String {
    let mut out = String::new();
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        write_attr(&mut out, "dn", e.dn.as_bytes());
        for (name, vals) in &e.attrs {
            for v in vals {
                write_attr(&mut out, name, v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_match_as_the_name_before_its_options() {
        // The rule as first written: the description before its first `;`, or the whole
        // description, equal to the name.
        let old = |n: &str, name: &str| {
            let base = n.split(';').next().unwrap_or(n);
            base.eq_ignore_ascii_case(name) || n.eq_ignore_ascii_case(name)
        };
        let names = [
            "member",
            "MEMBER",
            "member;range=0-1499",
            "Member;Range=0-*",
            "members",
            "membe",
            "member;",
            ";member",
            "",
            ";",
            "memberOf",
            "member;range=0-1499;x",
            "mémber",
            "m",
            "objectClass",
            "objectclass;binary",
        ];
        for n in names {
            for name in names {
                assert_eq!(
                    names_match(n, name, name.contains(';')),
                    old(n, name),
                    "{n:?} {name:?}"
                );
            }
        }
    }

    #[test]
    fn parses_ldapsearch_output() {
        let text = "dn: CN=Alice,OU=People,DC=lab\nobjectClass: top\nobjectClass: user\nobjectGUID:: IjJcOmXEwEiVuOkwV4aicQ==\ndescription: a long\n  folded value\n\n# comment\ndn:: Q049TcO8bGxlcixEQz1sYWI=\ncn: M\n";
        let es = parse(text).unwrap();
        assert_eq!(es.len(), 2);
        assert_eq!(es[0].texts("objectClass"), vec!["top", "user"]);
        assert_eq!(es[0].first("objectGUID").unwrap().len(), 16);
        assert_eq!(es[0].text("description"), Some("a long folded value"));
        assert_eq!(es[1].dn, "CN=Müller,DC=lab");
        assert_eq!(es[1].line, 9);
    }

    #[test]
    fn round_trips_binary_and_unicode() {
        let mut e = Entry::new("CN=Ünïcødé \\, x,DC=lab");
        e.push("objectSid", vec![1u8, 0, 0, 0, 0, 0, 5, 0]);
        e.push("description", "x".repeat(200));
        e.push("cn", " leading space");
        let text = write(std::slice::from_ref(&e));
        assert!(text.lines().all(|l| l.len() <= 76));
        let back = parse(&text).unwrap();
        assert_eq!(back[0].dn, e.dn);
        assert_eq!(back[0].attrs, e.attrs);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("dn: x\nno colon here\n").unwrap_err().line, 2);
        assert_eq!(parse("cn: x\n").unwrap_err().line, 1);
        assert_eq!(parse("dn: x\nobjectGUID:: !!!\n").unwrap_err().line, 2);
        assert_eq!(parse(" cont\n").unwrap_err().line, 1);
        assert_eq!(parse("dn: a\ndn: b\n").unwrap_err().line, 2);
        assert_eq!(parse("dn: a\ncn: x\0y\n").unwrap_err().line, 2);
        // A long bad line is quoted as an excerpt with its length.
        let long = format!("dn: a\n{}\n", "z".repeat(1_000_000));
        let e = parse(&long).unwrap_err().to_string();
        assert!(e.len() < 200 && e.contains("1000000 bytes"), "{e}");
    }

    #[test]
    fn entries_streamed_one_by_one_build_the_same_snapshot() {
        let text = "dn: DC=lab\nobjectClass: domainDNS\nmsDS-Behavior-Version: 7\n\n\
                    dn: CN=A,DC=lab\nobjectClass: user\nobjectGUID:: IjJcOmXEwEiVuOkwV4aicQ==\n\n\
                    dn: CN=G,DC=lab\nobjectClass: group\ngroupType: -2147483640\nmember: CN=A,DC=lab\n\
                    adminDescription: Group_0f8e9a1c-1111-4222-8333-944455556666\n\n\
                    dn: CN=A,DC=lab\nobjectClass: computer\n";
        let all = parse(text).unwrap();
        let mut streamed = Vec::new();
        parse_each(text, |e| {
            streamed.push(e);
            Ok(())
        })
        .unwrap();
        assert_eq!(streamed, all);
        // Folding entries in one at a time (or in two runs) is the snapshot of all of them.
        let whole = crate::ad::AdSnapshot::from_entries(&all).unwrap();
        let mut folded = crate::ad::AdSnapshot::default();
        parse_each(text, |e| folded.add_entry(&e)).unwrap();
        let mut split = crate::ad::AdSnapshot::from_entries(&all[..2]).unwrap();
        split.add_entries(&all[2..]).unwrap();
        for s in [&folded, &split] {
            assert_eq!(format!("{:?}", s.objects), format!("{:?}", whole.objects));
            assert_eq!(s.domain_functional_level, Some(7));
            let a = crate::ad::Dn::parse("cn=a,dc=LAB").unwrap();
            // The later entry for the same DN wins the index, as in from_entries.
            assert_eq!(
                s.by_dn(&a).map(|o| o.kind),
                Some(crate::ad::AdKind::Computer)
            );
            assert_eq!(s.by_dn(&a).map(|o| o.kind), whole.by_dn(&a).map(|o| o.kind));
        }
        // An error from the callback stops the parse with that error.
        let e = parse_each(text, |e| {
            if e.dn == "CN=G,DC=lab" {
                Err(err(e.line, "stop"))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (9, "stop"));
    }

    #[test]
    fn compact_entries_hold_parsed_ldif_as_parsed() {
        let text = "dn: CN=Alice,OU=People,DC=lab\nobjectClass: top\nobjectClass: user\nobjectGUID:: IjJcOmXEwEiVuOkwV4aicQ==\ndescription: a long\n  folded value\nmember;range=0-1: CN=x\n\ndn:: Q049TcO8bGxlcixEQz1sYWI=\ncn: M\nCN: N\n";
        let es = parse(text).unwrap();
        let packed: Entries = es.iter().cloned().collect();
        assert_eq!(packed.to_vec(), es);
        assert_eq!(packed.get(1).map(|e| e.line), Some(9));
        assert_eq!(packed.get(2), None);
        assert_eq!(packed.dn(1).as_deref(), Some("CN=Müller,DC=lab"));
        assert_eq!(
            packed.get(0).unwrap().text("description"),
            Some("a long folded value")
        );
        // Each distinct spelling is stored once for the list.
        assert_eq!(
            packed.names,
            [
                "objectClass",
                "objectGUID",
                "description",
                "member;range=0-1",
                "cn"
            ]
        );
        // Smaller than the entries: no allocation per name or value.
        assert!(packed.bytes.len() < 200, "{}", packed.bytes.len());
        let whole = crate::ad::AdSnapshot::from_entries(&es).unwrap();
        let from_packed = crate::ad::AdSnapshot::from_entry_list(&packed).unwrap();
        assert_eq!(
            format!("{:?}", from_packed.objects),
            format!("{:?}", whole.objects)
        );
        let mut split = crate::ad::AdSnapshot::from_entries(&es[..1]).unwrap();
        split
            .add_entry_list(&es[1..].iter().cloned().collect())
            .unwrap();
        assert_eq!(
            format!("{:?}", split.objects),
            format!("{:?}", whole.objects)
        );
    }

    /// `parse_file_each` of a file against `parse_each` of what `read_file` decodes.
    pub(super) fn same_from_file(bytes: &[u8]) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ad.ldif");
        std::fs::write(&path, bytes).unwrap();
        let text = crate::text::read_file(&path).unwrap().text;
        let mut want = Vec::new();
        let want_r = parse_each(&text, |e| {
            want.push(e);
            Ok(())
        });
        let mut got: (Option<usize>, Vec<Entry>) = (None, Vec::new());
        let got_r = parse_file_each(
            &path,
            &mut got,
            |s, n| s.0 = Some(n),
            |s, e| {
                s.1.push(e);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(got_r, want_r, "{bytes:?}");
        assert_eq!(got.1, want, "{bytes:?}");
        assert_eq!(got.0, Some(text.matches("\ndn:").count() + 1), "{bytes:?}");
    }

    #[test]
    fn a_streamed_file_parses_as_its_text() {
        for b in [
            &b""[..],
            b"dn: CN=a,DC=lab\ncn: x\n\ndn: CN=b,DC=lab\n",
            b"dn: CN=a,DC=lab\r\ncn: x\r\n folded\r\n\r\ndn: CN=b\r\n",
            b"dn: CN=a,DC=lab\rcn: x\r\rdn: CN=b\r",
            b"\xEF\xBB\xBFdn: CN=a\n",
            b"dn: CN=M\xfcller\n",
            b"dn: a\nno colon\n",
            b" cont\n",
            b"dn: a\r\n\r\ndn: b\rcn: x\0y\n",
        ] {
            same_from_file(b);
        }
        // A stop from the callback is the result, with nothing after it handed over.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ad.ldif");
        std::fs::write(&path, "dn: a\n\ndn: b\n\ndn: c\n").unwrap();
        let mut seen = Vec::new();
        let r = parse_file_each(
            &path,
            &mut seen,
            |_, _| {},
            |s, e| {
                s.push(e.dn.clone());
                if e.dn == "b" {
                    Err(err(e.line, "stop"))
                } else {
                    Ok(())
                }
            },
        )
        .unwrap();
        assert_eq!(r.unwrap_err().line, 3);
        assert_eq!(seen, ["a", "b"]);
        // What read_file refuses is refused the same way.
        let e = parse_file_each(dir.path(), &mut (), |_, _| {}, |_, _| Ok(())).unwrap_err();
        assert_eq!(
            e.to_string(),
            crate::text::read_file(dir.path()).unwrap_err().to_string()
        );
    }

    #[test]
    fn many_distinct_attribute_names_parse_in_linear_time() {
        // 200,000 names took quadratic time (a linear search per value); now it is a lookup.
        let mut text = String::from("dn: CN=x,DC=lab\n");
        for i in 0..200_000 {
            text.push_str(&format!("a{i}: v\n"));
        }
        text.push_str("a7: again\n");
        let es = parse(&text).unwrap();
        assert_eq!(es[0].attrs.len(), 200_000);
        assert_eq!(es[0].texts("a7"), vec!["v", "again"]);
    }
}

#[cfg(test)]
mod proptests {
    use super::tests::same_from_file;
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary values (binary included) round-trip through write and parse.
        #[test]
        fn write_parse_round_trip(dn in "[A-Za-z]{1,8}=[^\\n\\r]{0,30}", vals in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 1..5)) {
            let mut e = Entry::new(dn.trim_end().to_string());
            for v in &vals {
                e.push("description", v.clone());
            }
            let text = write(std::slice::from_ref(&e));
            let back = parse(&text).unwrap();
            prop_assert_eq!(&back[0].attrs, &e.attrs);
        }

        /// A compact list gives back exactly the entries pushed: DN, line, attribute
        /// spelling and order, values (binary, empty, long), in order; and their DNs alone.
        #[test]
        fn compact_entries_give_back_what_was_pushed(
            entries in proptest::collection::vec((
                "\\PC{0,40}",
                any::<usize>(),
                proptest::collection::vec((
                    prop_oneof![Just("member".to_string()), Just("Member".to_string()),
                                Just("objectClass".to_string()), "[a-zA-Z;=-]{1,12}"],
                    proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..4),
                ), 0..6),
            ), 0..8),
            split in 0usize..8,
        ) {
            let entries: Vec<Entry> = entries
                .into_iter()
                .map(|(dn, line, attrs)| Entry { dn, line, attrs })
                .collect();
            let packed = Entries::from(entries.clone());
            prop_assert_eq!(packed.len(), entries.len());
            prop_assert_eq!(&packed.to_vec(), &entries);
            let dns: Vec<String> = packed.dns().map(|d| d.into_owned()).collect();
            let want: Vec<String> = entries.iter().map(|e| e.dn.clone()).collect();
            prop_assert_eq!(dns, want);
            prop_assert_eq!(format!("{packed:?}"), format!("{entries:?}"));
            // Gathered in two runs (as evidence files are merged), the same list.
            let cut = split.min(entries.len());
            let mut two = Entries::from(entries[..cut].to_vec());
            two.append_entries(Entries::from(entries[cut..].to_vec()));
            prop_assert_eq!(&two, &packed);
            let mut v: Vec<Entry> = entries[..cut].to_vec();
            v.append_entries(Entries::from(entries[cut..].to_vec()));
            prop_assert_eq!(&v, &entries);
        }

        /// A file read in a stream gives the entries, errors and record count of its
        /// decoded text, whatever its line ends, BOMs or encoding.
        #[test]
        fn a_streamed_file_parses_as_its_text(parts in proptest::collection::vec(prop_oneof![
            Just(&b"dn: CN=a,DC=lab"[..]), Just(&b"dn:: Q049YQ=="[..]), Just(&b"cn: x"[..]),
            Just(&b"member: CN=b"[..]), Just(&b" folded"[..]), Just(&b"# note"[..]), Just(&b"version: 1"[..]),
            Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b"\r"[..]), Just(&b"\n\n"[..]),
            Just(&b"\xEF\xBB\xBF"[..]), Just(&b"\xfc"[..]), Just("é".as_bytes()), Just(&b"bad line"[..]),
            Just(&b"\x00"[..]), Just(&b"changetype: modify"[..]),
        ], 0..40)) {
            same_from_file(&parts.concat());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s);
        }
    }
}
