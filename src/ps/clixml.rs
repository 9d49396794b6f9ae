//! CLIXML (`Export-Clixml` files and `#< CLIXML` streams): a bounded reader into
//! [`PsValue`] trees and a writer that `Import-Clixml` accepts. Type names are data only;
//! DOCTYPE (and so entity expansion) is rejected; depth, element count, `Ref` expansion and
//! reference cycles are bounded; SecureStrings come out as `[redacted]`.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use serde_json::Value;

use super::value::{PsObject, PsValue};
use crate::error::InputError;

/// Deepest element nesting accepted (PowerShell's own default depth is 2; -Depth tops out far below this).
pub const MAX_DEPTH: usize = 100;
/// Most value nodes one document may produce, `Ref` copies included.
pub const MAX_NODES: usize = 2_000_000;
/// Longest single text or attribute value.
pub const MAX_TEXT: usize = 16 * 1024 * 1024;

const NS: &str = "http://schemas.microsoft.com/powershell/2004/04";

/// What a CLIXML document held: the top-level values (one per exported object) and any
/// non-fatal notes.
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub values: Vec<PsValue>,
    pub notes: Vec<(String, String)>,
}

/// Does this decoded text look like CLIXML?
pub fn looks_like(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with("#< CLIXML") {
        return true;
    }
    if !t.starts_with('<') {
        return false;
    }
    // Anything XML that declares a DOCTYPE goes to the CLIXML reader, which refuses it by name.
    t.contains("<Objs") || t.contains("<!DOCTYPE")
}

/// Parse a CLIXML document (or a `#< CLIXML` stream of several `<Objs>` roots).
pub fn parse(file: &Path, text: &str) -> Result<Document, InputError> {
    let mut values = Vec::new();
    let notes = parse_each(file, text, |v| values.push(v))?;
    Ok(Document { values, notes })
}

/// [`parse`], handing each top-level value to `f` as soon as it is complete (so a caller
/// that converts values never holds them all); gives the notes. Stops at the first error.
pub fn parse_each(
    file: &Path,
    text: &str,
    mut f: impl FnMut(PsValue),
) -> Result<Vec<(String, String)>, InputError> {
    let mut body = text.trim_start_matches('\u{feff}');
    if let Some(rest) = body.trim_start().strip_prefix("#< CLIXML") {
        body = rest;
    }
    let mut p = Parser {
        r: Reader::from_str(body),
        text: body,
        file,
        objs: HashMap::new(),
        referenced: referenced_ids(body),
        tns: HashMap::new(),
        nodes: 0,
        in_progress: Vec::new(),
        notes: Vec::new(),
        pending: None,
    };
    p.document(&mut f)?;
    Ok(p.notes)
}

/// A CLIXML document in JSON terms.
#[derive(Debug, Clone, Default)]
pub struct JsonDocument {
    pub values: Vec<Value>,
    /// Type names of each top-level value (empty for primitives).
    pub type_names: Vec<Vec<String>>,
    pub notes: Vec<(String, String)>,
}

/// Parse and convert every top-level object to JSON.
pub fn parse_json(file: &Path, text: &str) -> Result<JsonDocument, InputError> {
    let doc = parse(file, text)?;
    let mut types = Vec::new();
    let values = doc
        .values
        .iter()
        .map(|v| {
            types.push(match v {
                PsValue::Object(o) => o.type_names.clone(),
                _ => Vec::new(),
            });
            v.to_json()
        })
        .collect();
    Ok(JsonDocument {
        values,
        type_names: types,
        notes: doc.notes,
    })
}

/// A CLIXML document as a compact [`Tree`](super::tree::Tree) of JSON records.
#[derive(Debug, Clone, Default)]
pub struct TreeDocument {
    pub tree: super::tree::Tree,
    /// Type names of each top-level value (empty for primitives).
    pub type_names: Vec<Vec<String>>,
    pub notes: Vec<(String, String)>,
}

/// [`parse_json`] into a tree: each top-level value is converted as soon as it is read and
/// then freed, so the document's values are never held whole.
pub fn parse_tree(file: &Path, text: &str) -> Result<TreeDocument, InputError> {
    let mut tree = super::tree::Tree::default();
    let mut type_names = Vec::new();
    let notes = parse_each(file, text, |v| {
        type_names.push(match &v {
            PsValue::Object(o) => o.type_names.clone(),
            _ => Vec::new(),
        });
        tree.push_value(v.to_json());
    })?;
    tree.shrink_to_fit();
    type_names.shrink_to_fit();
    Ok(TreeDocument {
        tree,
        type_names,
        notes,
    })
}

enum Ev {
    Start(String, Vec<(String, String)>),
    Empty(String, Vec<(String, String)>),
    End(String),
    Text(String),
    Eof,
}

struct Parser<'a> {
    r: Reader<&'a [u8]>,
    text: &'a str,
    file: &'a Path,
    /// Completed `<Obj RefId>` values with their node counts.
    objs: HashMap<String, (PsValue, usize)>,
    /// RefIds that some `<Ref>` in the document names.
    referenced: std::collections::HashSet<String>,
    /// `<TN RefId>` lists (a separate namespace from objects).
    tns: HashMap<String, Vec<String>>,
    nodes: usize,
    /// Obj RefIds whose element is still open (a `Ref` to one of them is a cycle).
    in_progress: Vec<String>,
    notes: Vec<(String, String)>,
    pending: Option<Ev>,
}

impl<'a> Parser<'a> {
    fn place(&self) -> String {
        let pos = (self.r.buffer_position() as usize).min(self.text.len());
        let line = self.text.as_bytes()[..pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        format!("line {line} (byte {pos})")
    }

    fn err(&self, msg: impl Into<String>) -> InputError {
        InputError::new(self.file, self.place(), msg)
    }

    fn element_err(&self, name: &str, msg: impl Into<String>) -> InputError {
        InputError::new(
            self.file,
            format!("element <{name}> at {}", self.place()),
            msg,
        )
    }

    fn count(&mut self, n: usize) -> Result<(), InputError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(self.err(format!("more than {MAX_NODES} values (or references expanding to them); refusing to continue")));
        }
        Ok(())
    }

    fn attrs(&self, e: &BytesStart<'_>) -> Result<Vec<(String, String)>, InputError> {
        let mut out = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|x| self.err(format!("malformed attribute: {x}")))?;
            let key = a.key.as_ref().to_string();
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|x| self.err(format!("attribute {key:?}: {x}")))?;
            if value.len() > MAX_TEXT {
                return Err(self.err(format!("attribute {key:?} is longer than {MAX_TEXT} bytes")));
            }
            out.push((key, value.into_owned()));
        }
        Ok(out)
    }

    fn next(&mut self) -> Result<Ev, InputError> {
        if let Some(ev) = self.pending.take() {
            return Ok(ev);
        }
        loop {
            let ev = self
                .r
                .read_event()
                .map_err(|e| self.err(format!("malformed XML: {e}")))?;
            return Ok(match ev {
                Event::Start(e) => Ev::Start(local(e.name().as_ref()), self.attrs(&e)?),
                Event::Empty(e) => Ev::Empty(local(e.name().as_ref()), self.attrs(&e)?),
                Event::End(e) => Ev::End(local(e.name().as_ref())),
                Event::Text(t) => Ev::Text(t.xml10_content().into_owned()),
                Event::CData(t) => Ev::Text(t.xml10_content().into_owned()),
                Event::GeneralRef(r) => {
                    if let Some(c) = r
                        .resolve_char_ref()
                        .map_err(|e| self.err(format!("bad character reference: {e}")))?
                    {
                        Ev::Text(c.to_string())
                    } else {
                        let name = r.into_inner();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => Ev::Text(s.to_string()),
                            None => {
                                return Err(self.err(format!(
                                    "undefined entity &{name}; (CLIXML never uses entities)"
                                )));
                            }
                        }
                    }
                }
                Event::DocType(_) => {
                    return Err(
                        self.err("DOCTYPE is not allowed in CLIXML (entity expansion is refused)")
                    );
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => continue,
                Event::Eof => Ev::Eof,
            });
        }
    }

    /// Skip whitespace text; return the next structural event.
    fn next_tag(&mut self) -> Result<Ev, InputError> {
        loop {
            match self.next()? {
                Ev::Text(t) if t.trim().is_empty() => continue,
                Ev::Text(t) => {
                    let shown: String = t.trim().chars().take(40).collect();
                    return Err(self.err(format!("unexpected text {shown:?} between elements")));
                }
                ev => return Ok(ev),
            }
        }
    }

    fn document(&mut self, f: &mut impl FnMut(PsValue)) -> Result<(), InputError> {
        let mut roots = 0usize;
        loop {
            match self.next_tag()? {
                Ev::Eof => break,
                Ev::Start(name, attrs) if name == "Objs" => {
                    roots += 1;
                    check_ns(self, &attrs)?;
                    loop {
                        match self.next_tag()? {
                            Ev::End(n) if n == "Objs" => break,
                            Ev::Start(n, a) => f(self.value(&n, &a, false, 1)?),
                            Ev::Empty(n, a) => f(self.value(&n, &a, true, 1)?),
                            Ev::Eof => {
                                return Err(self.err("file ends inside <Objs> (truncated export?)"));
                            }
                            Ev::End(n) => return Err(self.err(format!("unexpected </{n}>"))),
                            Ev::Text(_) => {}
                        }
                    }
                }
                Ev::Empty(name, attrs) if name == "Objs" => {
                    roots += 1;
                    check_ns(self, &attrs)?;
                }
                Ev::Start(name, _) | Ev::Empty(name, _) => {
                    return Err(self.element_err(&name, "expected the CLIXML root <Objs>"));
                }
                Ev::End(n) => return Err(self.err(format!("unexpected </{n}>"))),
                Ev::Text(_) => {}
            }
        }
        if roots == 0 {
            return Err(self.err("no <Objs> root element: not a CLIXML document"));
        }
        Ok(())
    }

    /// Text content up to the end of element `name`.
    fn text_of(&mut self, name: &str) -> Result<String, InputError> {
        let mut s = String::new();
        loop {
            match self.next()? {
                Ev::Text(t) => {
                    s.push_str(&t);
                    if s.len() > MAX_TEXT {
                        return Err(
                            self.element_err(name, format!("text longer than {MAX_TEXT} bytes"))
                        );
                    }
                }
                Ev::End(n) if n == name => return Ok(s),
                Ev::End(n) => return Err(self.element_err(name, format!("mismatched </{n}>"))),
                Ev::Start(n, _) | Ev::Empty(n, _) => {
                    return Err(self
                        .element_err(name, format!("unexpected <{n}> inside a primitive value")));
                }
                Ev::Eof => {
                    return Err(
                        self.element_err(name, "file ends inside the element (truncated export?)")
                    );
                }
            }
        }
    }

    fn value(
        &mut self,
        name: &str,
        attrs: &[(String, String)],
        empty: bool,
        depth: usize,
    ) -> Result<PsValue, InputError> {
        if depth > MAX_DEPTH {
            return Err(self.element_err(name, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.count(1)?;
        let text = |p: &mut Self| -> Result<String, InputError> {
            if empty {
                Ok(String::new())
            } else {
                p.text_of(name)
            }
        };
        let v = match name {
            "Nil" => {
                if !empty {
                    text(self)?;
                }
                PsValue::Null
            }
            // One rule for every typed scalar (docs/powershell.md, "Typed scalars"): its text
            // must parse as its type, sized integers within their range; otherwise the file
            // is rejected with an error naming the element and quoting an excerpt.
            "S" | "URI" | "XD" | "SBK" | "Version" | "SemanticVersion" | "DT" | "TS" | "G"
            | "D" => {
                let raw = text(self)?;
                let decoded = decode_name(&raw).map_err(|m| self.element_err(name, m))?;
                if let Some(problem) = typed_text_problem(name, &decoded) {
                    return Err(self.element_err(name, problem));
                }
                if name == "S" {
                    PsValue::Str(decoded)
                } else {
                    PsValue::Typed {
                        tag: name.to_string(),
                        text: decoded,
                    }
                }
            }
            "B" => {
                let raw = text(self)?;
                match raw.trim() {
                    t if t.eq_ignore_ascii_case("true") || t == "1" => PsValue::Bool(true),
                    t if t.eq_ignore_ascii_case("false") || t == "0" => PsValue::Bool(false),
                    t => {
                        return Err(self.element_err(
                            name,
                            format!(
                                "{} is not a boolean (true or false)",
                                crate::text::excerpt(t)
                            ),
                        ));
                    }
                }
            }
            "I16" | "I32" | "I64" | "SB" => {
                let raw = text(self)?;
                let (lo, hi): (i64, i64) = match name {
                    "SB" => (i8::MIN.into(), i8::MAX.into()),
                    "I16" => (i16::MIN.into(), i16::MAX.into()),
                    "I32" => (i32::MIN.into(), i32::MAX.into()),
                    _ => (i64::MIN, i64::MAX),
                };
                let n = raw
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (lo..=hi).contains(n))
                    .ok_or_else(|| {
                        self.element_err(
                            name,
                            format!(
                                "{} is not an integer from {lo} to {hi}",
                                crate::text::excerpt(raw.trim())
                            ),
                        )
                    })?;
                PsValue::Int(n)
            }
            "By" | "U16" | "U32" | "U64" => {
                let raw = text(self)?;
                let hi: u64 = match name {
                    "By" => u8::MAX.into(),
                    "U16" => u16::MAX.into(),
                    "U32" => u32::MAX.into(),
                    _ => u64::MAX,
                };
                let n = raw
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n <= hi)
                    .ok_or_else(|| {
                        self.element_err(
                            name,
                            format!(
                                "{} is not an unsigned integer from 0 to {hi}",
                                crate::text::excerpt(raw.trim())
                            ),
                        )
                    })?;
                PsValue::UInt(n)
            }
            "C" => {
                let raw = text(self)?;
                let c = raw
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .and_then(|n| char::from_u32(n.into()))
                    .ok_or_else(|| {
                        self.element_err(
                            name,
                            format!(
                                "{} is not a character code (0 to 65535, not a surrogate)",
                                crate::text::excerpt(raw.trim())
                            ),
                        )
                    })?;
                PsValue::Str(String::from(c))
            }
            "Db" | "Sg" => {
                let raw = text(self)?;
                let t = raw.trim();
                let f = match t {
                    "INF" | "Infinity" => f64::INFINITY,
                    "-INF" | "-Infinity" => f64::NEG_INFINITY,
                    "NaN" => f64::NAN,
                    _ => t.parse().map_err(|_| {
                        self.element_err(
                            name,
                            format!("{} is not a number", crate::text::excerpt(t)),
                        )
                    })?,
                };
                PsValue::Float(f)
            }
            "BA" => {
                let raw = text(self)?;
                let clean: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(clean.as_bytes())
                    .map_err(|e| self.element_err(name, format!("invalid base64: {e}")))?;
                PsValue::Bytes(bytes)
            }
            "SS" => {
                if !empty {
                    text(self)?;
                }
                PsValue::Redacted
            }
            "Ref" => {
                if !empty {
                    text(self)?;
                }
                let id = attr(attrs, "RefId")
                    .ok_or_else(|| self.element_err(name, "<Ref> without RefId"))?;
                if self.in_progress.iter().any(|p| p == id) {
                    return Err(self.element_err(
                        name,
                        format!("RefId {id:?} refers to an enclosing object (reference cycle)"),
                    ));
                }
                let (v, size) = self.objs.get(id).cloned().ok_or_else(|| {
                    self.element_err(name, format!("RefId {id:?} refers to no earlier <Obj>"))
                })?;
                self.count(size)?;
                v
            }
            "Obj" => self.object(attrs, empty, depth)?,
            "LST" | "IE" | "STK" | "QUE" => {
                if empty {
                    PsValue::List(Vec::new())
                } else {
                    PsValue::List(self.list(name, depth)?)
                }
            }
            "DCT" => {
                if empty {
                    PsValue::Dict(Vec::new())
                } else {
                    PsValue::Dict(self.dict(depth)?)
                }
            }
            "PR" => {
                // Progress record in a `#< CLIXML` stream: keep its fields as a plain object.
                let mut o = PsObject {
                    type_names: vec!["ProgressRecord".into()],
                    ..Default::default()
                };
                if !empty {
                    loop {
                        match self.next_tag()? {
                            Ev::End(n) if n == "PR" => break,
                            Ev::Start(n, a) => {
                                let v = self.value(&n, &a, false, depth + 1)?;
                                o.props.push((n, v));
                            }
                            Ev::Empty(n, a) => {
                                let v = self.value(&n, &a, true, depth + 1)?;
                                o.props.push((n, v));
                            }
                            Ev::Eof => {
                                return Err(self.element_err("PR", "file ends inside the element"));
                            }
                            Ev::End(n) => {
                                return Err(self.element_err("PR", format!("mismatched </{n}>")));
                            }
                            Ev::Text(_) => {}
                        }
                    }
                }
                PsValue::Object(o)
            }
            // Names of the progress-record fields.
            "AI" | "PI" | "AV" | "SD" | "CO" | "PC" | "SR" | "T" => {
                let raw = text(self)?;
                PsValue::Str(decode_name(&raw).map_err(|m| self.element_err(name, m))?)
            }
            other => return Err(self.element_err(other, "unknown CLIXML element")),
        };
        Ok(v)
    }

    fn list(&mut self, name: &str, depth: usize) -> Result<Vec<PsValue>, InputError> {
        let mut items = Vec::new();
        loop {
            match self.next_tag()? {
                Ev::End(n) if n == name => return Ok(items),
                Ev::Start(n, a) => items.push(self.value(&n, &a, false, depth + 1)?),
                Ev::Empty(n, a) => items.push(self.value(&n, &a, true, depth + 1)?),
                Ev::End(n) => return Err(self.element_err(name, format!("mismatched </{n}>"))),
                Ev::Eof => {
                    return Err(
                        self.element_err(name, "file ends inside the element (truncated export?)")
                    );
                }
                Ev::Text(_) => {}
            }
        }
    }

    fn dict(&mut self, depth: usize) -> Result<Vec<(PsValue, PsValue)>, InputError> {
        let mut entries = Vec::new();
        loop {
            match self.next_tag()? {
                Ev::End(n) if n == "DCT" => return Ok(entries),
                Ev::Start(n, _) if n == "En" => {
                    let (mut key, mut val) = (None, None);
                    loop {
                        match self.next_tag()? {
                            Ev::End(n) if n == "En" => break,
                            Ev::Start(n, a) => {
                                let v = self.value(&n, &a, false, depth + 2)?;
                                if attr(&a, "N") == Some("Key") {
                                    key = Some(v)
                                } else {
                                    val = Some(v)
                                }
                            }
                            Ev::Empty(n, a) => {
                                let v = self.value(&n, &a, true, depth + 2)?;
                                if attr(&a, "N") == Some("Key") {
                                    key = Some(v)
                                } else {
                                    val = Some(v)
                                }
                            }
                            Ev::End(n) => {
                                return Err(self.element_err("En", format!("mismatched </{n}>")));
                            }
                            Ev::Eof => {
                                return Err(self.element_err("En", "file ends inside the element"));
                            }
                            Ev::Text(_) => {}
                        }
                    }
                    let key = key
                        .ok_or_else(|| self.element_err("En", "dictionary entry without a Key"))?;
                    entries.push((key, val.unwrap_or(PsValue::Null)));
                }
                Ev::Empty(n, _) if n == "En" => {}
                Ev::Start(n, _) | Ev::Empty(n, _) => {
                    return Err(self.element_err("DCT", format!("expected <En>, found <{n}>")));
                }
                Ev::End(n) => return Err(self.element_err("DCT", format!("mismatched </{n}>"))),
                Ev::Eof => return Err(self.element_err("DCT", "file ends inside the element")),
                Ev::Text(_) => {}
            }
        }
    }

    fn object(
        &mut self,
        attrs: &[(String, String)],
        empty: bool,
        depth: usize,
    ) -> Result<PsValue, InputError> {
        let ref_id = attr(attrs, "RefId").map(str::to_string);
        let mut o = PsObject::default();
        if !empty {
            if let Some(id) = &ref_id {
                self.in_progress.push(id.clone());
            }
            let r = self.object_body(&mut o, depth);
            if ref_id.is_some() {
                self.in_progress.pop();
            }
            r?;
        }
        let v = PsValue::Object(o);
        // Only objects some <Ref> points at are kept for reuse; keeping a copy costs budget
        // like expanding one does, so nested referenced objects cannot multiply memory.
        if let Some(id) = ref_id
            && self.referenced.contains(&id)
        {
            let size = v.size();
            self.count(size)?;
            self.objs.insert(id, (v.clone(), size));
        }
        Ok(v)
    }

    fn object_body(&mut self, o: &mut PsObject, depth: usize) -> Result<(), InputError> {
        loop {
            match self.next_tag()? {
                Ev::End(n) if n == "Obj" => return Ok(()),
                Ev::Start(n, a) if n == "TN" => {
                    let mut names = Vec::new();
                    loop {
                        match self.next_tag()? {
                            Ev::End(n) if n == "TN" => break,
                            Ev::Start(n, _) if n == "T" => {
                                let raw = self.text_of("T")?;
                                names
                                    .push(decode_name(&raw).map_err(|m| self.element_err("T", m))?);
                                if names.len() > 64 {
                                    return Err(self.element_err("TN", "more than 64 type names"));
                                }
                            }
                            Ev::Empty(n, _) if n == "T" => {}
                            Ev::Start(n, _) | Ev::Empty(n, _) => {
                                return Err(
                                    self.element_err("TN", format!("expected <T>, found <{n}>"))
                                );
                            }
                            Ev::End(n) => {
                                return Err(self.element_err("TN", format!("mismatched </{n}>")));
                            }
                            Ev::Eof => {
                                return Err(self.element_err("TN", "file ends inside the element"));
                            }
                            Ev::Text(_) => {}
                        }
                    }
                    if let Some(id) = attr(&a, "RefId") {
                        self.tns.insert(id.to_string(), names.clone());
                    }
                    o.type_names = names;
                }
                Ev::Empty(n, a) if n == "TNRef" || n == "TN" => {
                    if n == "TNRef" {
                        let id = attr(&a, "RefId")
                            .ok_or_else(|| self.element_err("TNRef", "<TNRef> without RefId"))?;
                        o.type_names = self.tns.get(id).cloned().ok_or_else(|| {
                            self.element_err(
                                "TNRef",
                                format!("RefId {id:?} refers to no earlier <TN>"),
                            )
                        })?;
                    }
                }
                Ev::Start(n, a) if n == "TNRef" => {
                    self.text_of("TNRef")?;
                    let id = attr(&a, "RefId")
                        .ok_or_else(|| self.element_err("TNRef", "<TNRef> without RefId"))?;
                    o.type_names = self.tns.get(id).cloned().ok_or_else(|| {
                        self.element_err("TNRef", format!("RefId {id:?} refers to no earlier <TN>"))
                    })?;
                }
                Ev::Start(n, _) if n == "ToString" => {
                    let raw = self.text_of("ToString")?;
                    o.to_string =
                        Some(decode_name(&raw).map_err(|m| self.element_err("ToString", m))?);
                }
                Ev::Start(n, _) if n == "Props" || n == "MS" => loop {
                    match self.next_tag()? {
                        Ev::End(e) if e == n => break,
                        Ev::Start(c, a) => {
                            let v = self.value(&c, &a, false, depth + 2)?;
                            o.props.push((prop_name(self, &a)?, v));
                        }
                        Ev::Empty(c, a) => {
                            let v = self.value(&c, &a, true, depth + 2)?;
                            o.props.push((prop_name(self, &a)?, v));
                        }
                        Ev::End(e) => {
                            return Err(self.element_err(&n, format!("mismatched </{e}>")));
                        }
                        Ev::Eof => {
                            return Err(self.element_err(
                                &n,
                                "file ends inside the element (truncated export?)",
                            ));
                        }
                        Ev::Text(_) => {}
                    }
                },
                Ev::Empty(n, _) if n == "Props" || n == "MS" || n == "ToString" => {}
                Ev::Start(n, a) => {
                    let v = self.value(&n, &a, false, depth + 1)?;
                    o.content = Some(Box::new(v));
                }
                Ev::Empty(n, a) => {
                    let v = self.value(&n, &a, true, depth + 1)?;
                    o.content = Some(Box::new(v));
                }
                Ev::End(n) => return Err(self.element_err("Obj", format!("mismatched </{n}>"))),
                Ev::Eof => {
                    return Err(
                        self.element_err("Obj", "file ends inside the element (truncated export?)")
                    );
                }
                Ev::Text(_) => {}
            }
        }
    }
}

/// A first, cheap pass: the RefIds `<Ref>` elements name. Malformed XML is left for the
/// real pass to report.
fn referenced_ids(body: &str) -> std::collections::HashSet<String> {
    let mut ids = std::collections::HashSet::new();
    let mut r = Reader::from_str(body);
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if local(e.name().as_ref()) == "Ref" => {
                for a in e.attributes().flatten() {
                    if a.key.as_ref().trim() == "RefId" {
                        ids.insert(a.value.trim().to_string());
                    }
                }
            }
            Ok(Event::Eof) | Err(_) | Ok(Event::DocType(_)) => break,
            Ok(_) => {}
        }
    }
    ids
}

fn check_ns(p: &Parser<'_>, attrs: &[(String, String)]) -> Result<(), InputError> {
    match attr(attrs, "xmlns") {
        Some(ns) if ns != NS => Err(p.element_err(
            "Objs",
            format!("namespace {ns:?} is not the PowerShell serialization namespace"),
        )),
        _ => Ok(()),
    }
}

fn prop_name(p: &Parser<'_>, attrs: &[(String, String)]) -> Result<String, InputError> {
    let raw = attr(attrs, "N").unwrap_or("");
    decode_name(raw).map_err(|m| p.err(m))
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_string()
}

fn attr<'x>(attrs: &'x [(String, String)], name: &str) -> Option<&'x str> {
    attrs
        .iter()
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.as_str())
}

/// Why the text of a string-carried typed scalar does not parse as its type (`None`: it does).
fn typed_text_problem(tag: &str, t: &str) -> Option<String> {
    let ok = match tag {
        "DT" => is_xs_datetime(t),
        "TS" => is_xs_duration(t),
        "G" => crate::ad::ids::parse_guid(t.trim()).is_some(),
        "D" => {
            let t = t.trim();
            let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
            !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
                && digits.matches('.').count() <= 1
                && digits.chars().any(|c| c.is_ascii_digit())
        }
        "Version" => {
            let parts: Vec<&str> = t.trim().split('.').collect();
            (2..=4).contains(&parts.len())
                && parts.iter().all(|p| {
                    !p.is_empty() && p.len() <= 10 && p.chars().all(|c| c.is_ascii_digit())
                })
        }
        _ => true,
    };
    if ok {
        return None;
    }
    let what = match tag {
        "DT" => "a date and time (xs:dateTime, e.g. 2026-01-02T03:04:05.1234567Z)",
        "TS" => "a time span (xs:duration, e.g. PT9.0269026S)",
        "G" => "a GUID",
        "D" => "a decimal number",
        _ => "a version (e.g. 1.2.3.4)",
    };
    Some(format!("{} is not {what}", crate::text::excerpt(t)))
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `[-]YYYY-MM-DDThh:mm:ss[.f{1,7}][Z|±hh:mm]`, as .NET writes DateTime in CLIXML.
fn is_xs_datetime(t: &str) -> bool {
    let t = t.trim();
    let t = t.strip_prefix('-').unwrap_or(t);
    let Some((date, time)) = t.split_once('T') else {
        return false;
    };
    let d: Vec<&str> = date.split('-').collect();
    if d.len() != 3 || !digits(d[0], 4) || !digits(d[1], 2) || !digits(d[2], 2) {
        return false;
    }
    let (month, day): (u32, u32) = (d[1].parse().unwrap_or(0), d[2].parse().unwrap_or(0));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    let (clock, zone) = if let Some(c) = time.strip_suffix('Z') {
        (c, "")
    } else if let Some(i) = time.rfind(['+', '-']) {
        (&time[..i], &time[i + 1..])
    } else {
        (time, "")
    };
    if !zone.is_empty() {
        let z: Vec<&str> = zone.split(':').collect();
        if z.len() != 2 || !digits(z[0], 2) || !digits(z[1], 2) {
            return false;
        }
    }
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let frac_ok = frac.is_empty() || (frac.len() <= 7 && frac.bytes().all(|b| b.is_ascii_digit()));
    if !frac_ok {
        return false;
    }
    if clock.ends_with('.') {
        return false;
    }
    let h: Vec<&str> = hms.split(':').collect();
    h.len() == 3
        && h.iter().all(|p| digits(p, 2))
        && h[0].parse::<u32>().unwrap_or(99) < 24
        && h[1].parse::<u32>().unwrap_or(99) < 60
        && h[2].parse::<u32>().unwrap_or(99) < 61
}

/// `[-]P[nD][T[nH][nM][n[.n]S]]` with at least one component, as .NET writes TimeSpan.
fn is_xs_duration(t: &str) -> bool {
    let t = t.trim();
    let t = t.strip_prefix('-').unwrap_or(t);
    let Some(rest) = t.strip_prefix('P') else {
        return false;
    };
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut any = false;
    let mut check = |part: &str, units: &[char], frac_unit: Option<char>| -> bool {
        let mut num = String::new();
        let mut order = 0usize;
        for c in part.chars() {
            if c.is_ascii_digit() || (c == '.' && frac_unit.is_some()) {
                num.push(c);
                continue;
            }
            let Some(pos) = units.iter().position(|u| *u == c) else {
                return false;
            };
            if num.is_empty() || pos < order || num.matches('.').count() > 1 {
                return false;
            }
            if num.contains('.') && Some(c) != frac_unit {
                return false;
            }
            order = pos + 1;
            num.clear();
            any = true;
        }
        num.is_empty()
    };
    if !check(date, &['Y', 'M', 'D'], None) {
        return false;
    }
    if let Some(time) = time
        && (time.is_empty() || !check(time, &['H', 'M', 'S'], Some('S')))
    {
        return false;
    }
    any
}

/// Decode `_xHHHH_` (and `_xHHHHHHHH_`) escapes like `XmlConvert.DecodeName`, re-pairing
/// surrogate halves. Sequences that are not valid escapes stay literal; a surrogate half
/// that has no partner becomes U+FFFD.
pub fn decode_name(s: &str) -> Result<String, String> {
    if !s.contains("_x") && !s.contains("_X") {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut units: Vec<u16> = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    let flush = |units: &mut Vec<u16>, out: &mut String| {
        for r in char::decode_utf16(units.drain(..)) {
            out.push(r.unwrap_or('\u{FFFD}'));
        }
    };
    while i < b.len() {
        if b[i] == b'_' && i + 1 < b.len() && (b[i + 1] == b'x' || b[i + 1] == b'X') {
            let hex4 = b
                .get(i + 2..i + 6)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
            if let (Some(h), Some(b'_')) = (hex4, b.get(i + 6)) {
                let code = u16::from_str_radix(std::str::from_utf8(h).unwrap_or("0"), 16)
                    .unwrap_or(0xFFFD);
                units.push(code);
                i += 7;
                continue;
            }
            let hex8 = b
                .get(i + 2..i + 10)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
            if let (Some(h), Some(b'_')) = (hex8, b.get(i + 10)) {
                let code = u32::from_str_radix(std::str::from_utf8(h).unwrap_or("0"), 16)
                    .unwrap_or(0xFFFD);
                flush(&mut units, &mut out);
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                i += 11;
                continue;
            }
        }
        flush(&mut units, &mut out);
        // Copy one whole UTF-8 character.
        let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&s[i..i + ch_len]);
        i += ch_len;
    }
    flush(&mut units, &mut out);
    Ok(out)
}

/// Encode a string the way PowerShell's serializer does: control characters, C1 controls,
/// characters XML 1.0 cannot carry, every surrogate half of astral characters, and `_`
/// before `x`/`X` become `_xHHHH_`; then `&`, `<`, `>` (and `"` in attributes) are XML-escaped.
pub fn encode_string(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let code = c as u32;
        if code < 0x20 || (0x7F..=0x9F).contains(&code) || code == 0xFFFE || code == 0xFFFF {
            out.push_str(&format!("_x{code:04X}_"));
        } else if code > 0xFFFF {
            let mut buf = [0u16; 2];
            for u in c.encode_utf16(&mut buf) {
                out.push_str(&format!("_x{:04X}_", *u));
            }
        } else if c == '_' && matches!(chars.peek(), Some('x') | Some('X')) {
            out.push_str("_x005F_");
        } else {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' if attribute => out.push_str("&quot;"),
                _ => out.push(c),
            }
        }
    }
    out
}

/// The default type name for objects found under a JSON key: gwb's report records
/// (`gwb audit --format json` property names).
pub fn default_type_for(key: &str) -> Option<String> {
    let t = match key {
        "findings" => "gwb.Finding",
        "verdicts" => "gwb.TargetVerdict",
        "forecast" => "gwb.Forecast",
        "groups" => "gwb.GroupForecast",
        "members" => "gwb.MemberForecast",
        "skipped" => "gwb.SkippedMember",
        "snapshot" => "gwb.SnapshotInfo",
        "evidence" => "gwb.EvidenceStatus",
        "policy" => "gwb.Policy",
        "flags" => "gwb.Flags",
        _ => return None,
    };
    Some(t.to_string())
}

/// Write `value` as a CLIXML document that `Import-Clixml` reads. A top-level array becomes
/// one `<Obj>` per element (as `Export-Clixml` writes a pipeline); objects get `root_type`,
/// then `System.Management.Automation.PSCustomObject`, `System.Object`. Objects inside
/// arrays or under a key get the type [`default_type_for`] names.
pub fn to_clixml(value: &Value, root_type: &str) -> String {
    to_clixml_with(value, root_type, &default_type_for)
}

/// [`to_clixml`] with the caller's mapping from property name to type name.
pub fn to_clixml_with(
    value: &Value,
    root_type: &str,
    type_for: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut w = Writer {
        out: String::new(),
        next_ref: 0,
        tn_ids: HashMap::new(),
        next_tn: 0,
        type_for,
    };
    w.out.push_str(
        "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">",
    );
    match value {
        Value::Array(items) => {
            for item in items {
                w.value(item, None, Some(root_type));
            }
        }
        v => w.value(v, None, Some(root_type)),
    }
    w.out.push_str("</Objs>\n");
    w.out
}

struct Writer<'f> {
    out: String,
    next_ref: usize,
    tn_ids: HashMap<Vec<String>, usize>,
    next_tn: usize,
    type_for: &'f dyn Fn(&str) -> Option<String>,
}

impl Writer<'_> {
    fn n_attr(name: Option<&str>) -> String {
        name.map(|n| format!(" N=\"{}\"", encode_string(n, true)))
            .unwrap_or_default()
    }

    fn type_names(&mut self, names: Vec<String>) {
        if let Some(id) = self.tn_ids.get(&names) {
            self.out.push_str(&format!("<TNRef RefId=\"{id}\" />"));
            return;
        }
        let id = self.next_tn;
        self.next_tn += 1;
        self.out.push_str(&format!("<TN RefId=\"{id}\">"));
        for n in &names {
            self.out
                .push_str(&format!("<T>{}</T>", encode_string(n, false)));
        }
        self.out.push_str("</TN>");
        self.tn_ids.insert(names, id);
    }

    fn value(&mut self, v: &Value, name: Option<&str>, type_name: Option<&str>) {
        let n = Self::n_attr(name);
        match v {
            Value::Null => self.out.push_str(&format!("<Nil{n} />")),
            Value::Bool(b) => self.out.push_str(&format!("<B{n}>{b}</B>")),
            Value::Number(num) => {
                if let Some(i) = num.as_i64() {
                    if i32::try_from(i).is_ok() {
                        self.out.push_str(&format!("<I32{n}>{i}</I32>"));
                    } else {
                        self.out.push_str(&format!("<I64{n}>{i}</I64>"));
                    }
                } else if let Some(u) = num.as_u64() {
                    self.out.push_str(&format!("<U64{n}>{u}</U64>"));
                } else {
                    let f = num.as_f64().unwrap_or(0.0);
                    self.out
                        .push_str(&format!("<Db{n}>{}</Db>", format_double(f)));
                }
            }
            Value::String(s) => self
                .out
                .push_str(&format!("<S{n}>{}</S>", encode_string(s, false))),
            Value::Array(items) => {
                let id = self.next_ref;
                self.next_ref += 1;
                self.out.push_str(&format!("<Obj{n} RefId=\"{id}\">"));
                self.type_names(vec![
                    "System.Object[]".into(),
                    "System.Array".into(),
                    "System.Object".into(),
                ]);
                self.out.push_str("<LST>");
                let item_type = name.and_then(|k| (self.type_for)(k));
                for item in items {
                    self.value(item, None, item_type.as_deref());
                }
                self.out.push_str("</LST></Obj>");
            }
            Value::Object(map) => {
                let id = self.next_ref;
                self.next_ref += 1;
                self.out.push_str(&format!("<Obj{n} RefId=\"{id}\">"));
                let mut names = Vec::new();
                let own = type_name
                    .map(str::to_string)
                    .or_else(|| name.and_then(|k| (self.type_for)(k)));
                if let Some(t) = own {
                    names.push(t);
                }
                names.push("System.Management.Automation.PSCustomObject".into());
                names.push("System.Object".into());
                self.type_names(names);
                self.out.push_str("<MS>");
                for (k, child) in map {
                    self.value(child, Some(k), None);
                }
                self.out.push_str("</MS></Obj>");
            }
        }
    }
}

/// A double as `XmlConvert.ToString` would accept it back.
fn format_double(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "INF".into() } else { "-INF".into() }
    } else {
        let s = format!("{f:?}");
        s.replace("e", "E")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_rule_for_typed_scalars() {
        let wrap = |inner: &str| {
            format!(
                "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><Obj RefId=\"0\"><MS>{inner}</MS></Obj></Objs>"
            )
        };
        let good = [
            "<B N=\"x\">true</B>",
            "<By N=\"x\">255</By>",
            "<I32 N=\"x\">-2147483648</I32>",
            "<SB N=\"x\">-128</SB>",
            "<U16 N=\"x\">65535</U16>",
            "<DT N=\"x\">2026-01-02T03:04:05.1234567+01:00</DT>",
            "<DT N=\"x\">2026-01-02T03:04:05</DT>",
            "<TS N=\"x\">-P1DT2H3M4.5S</TS>",
            "<TS N=\"x\">PT0S</TS>",
            "<G N=\"x\">3f2504e0-4f89-11d3-9a0c-0305e82c3301</G>",
            "<D N=\"x\">-12.50</D>",
            "<Version N=\"x\">2.4.27.0</Version>",
            "<C N=\"x\">65</C>",
        ];
        for g in good {
            assert!(parse(Path::new("t.xml"), &wrap(g)).is_ok(), "{g}");
        }
        let bad = [
            "<B N=\"x\">maybe</B>",
            "<By N=\"x\">300</By>",
            "<I32 N=\"x\">2147483648</I32>",
            "<SB N=\"x\">128</SB>",
            "<U32 N=\"x\">-1</U32>",
            "<DT N=\"x\">yesterday</DT>",
            "<DT N=\"x\">2026-13-02T03:04:05Z</DT>",
            "<TS N=\"x\">9 seconds</TS>",
            "<TS N=\"x\">P</TS>",
            "<G N=\"x\">not-a-guid</G>",
            "<G N=\"x\">{3f2504e0-4f89-11d3-9a0c-0305e82c3301}</G>",
            "<D N=\"x\">1e5x</D>",
            "<Version N=\"x\">v2</Version>",
            "<C N=\"x\">55296</C>",
        ];
        for b in bad {
            let e = parse(Path::new("t.xml"), &wrap(b)).unwrap_err();
            let tag = &b[1..b.find(' ').unwrap()];
            assert!(
                e.to_string().contains(tag) && e.to_string().contains("t.xml"),
                "{b}: {e}"
            );
        }
    }

    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn p(text: &str) -> Result<Vec<Value>, InputError> {
        parse_json(Path::new("t.xml"), text).map(|d| d.values)
    }

    const HDR: &str =
        "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">";

    #[test]
    fn reads_objects_type_refs_and_primitives() {
        let doc = format!(
            "{HDR}<Obj RefId=\"0\"><TN RefId=\"0\"><T>Microsoft.ActiveDirectory.Management.ADGroup</T><T>System.Object</T></TN>\
             <ToString>CN=x</ToString><Props><S N=\"Name\">Sales_x005F_x_x000D__x000A_2</S><B N=\"On\">true</B><I32 N=\"N\">-5</I32>\
             <I64 N=\"Big\">9000000000</I64><U64 N=\"U\">18446744073709551615</U64><Db N=\"F\">1.5</Db><D N=\"Dec\">2.25</D>\
             <DT N=\"When\">2026-01-02T03:04:05.1234567Z</DT><TS N=\"Span\">PT9.0269026S</TS><G N=\"Id\">3f2504e0-4f89-11d3-9a0c-0305e82c3301</G>\
             <Version N=\"V\">2.4.18.0</Version><URI N=\"Link\">https://x/</URI><BA N=\"Bytes\">AQID</BA><Nil N=\"Nothing\" />\
             <SS N=\"Pwd\">01000000d08c9ddf</SS><C N=\"Ch\">65</C><By N=\"Byte\">7</By><SBK N=\"Code\">Remove-Item C:\\</SBK>\
             <S N=\"Emoji\">_xD83D__xDE00_</S></Props>\
             <MS><Obj N=\"Scope\" RefId=\"1\"><TN RefId=\"1\"><T>ADGroupScope</T><T>System.Enum</T></TN><ToString>Universal</ToString><I32>2</I32></Obj>\
             <Obj N=\"List\" RefId=\"2\"><TNRef RefId=\"0\" /><LST><S>a</S><I32>1</I32></LST></Obj>\
             <Obj N=\"Map\" RefId=\"3\"><DCT><En><S N=\"Key\">k</S><I32 N=\"Value\">1</I32></En></DCT></Obj>\
             <Ref N=\"Again\" RefId=\"2\" /></MS></Obj>\
             <Obj RefId=\"4\"><TNRef RefId=\"0\" /><MS><S N=\"Name\">two</S></MS></Obj></Objs>"
        );
        let v = p(&doc).unwrap();
        assert_eq!(v.len(), 2);
        let o = &v[0];
        assert_eq!(o["Name"], "Sales_x\r\n2");
        assert_eq!(o["On"], true);
        assert_eq!(o["N"], -5);
        assert_eq!(o["Big"], 9000000000i64);
        assert_eq!(o["U"], u64::MAX);
        assert_eq!(o["F"], 1.5);
        assert_eq!(o["Dec"], 2.25);
        assert_eq!(o["When"], "2026-01-02T03:04:05.1234567Z");
        assert_eq!(o["Id"], "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
        assert_eq!(o["Bytes"], "AQID");
        assert_eq!(o["Nothing"], Value::Null);
        assert_eq!(o["Pwd"], "[redacted]");
        assert_eq!(o["Ch"], "A");
        assert_eq!(o["Code"], "Remove-Item C:\\");
        assert_eq!(o["Emoji"], "😀");
        assert_eq!(o["Scope"], "Universal");
        assert_eq!(o["List"], json!(["a", 1]));
        assert_eq!(o["Again"], json!(["a", 1]));
        assert_eq!(o["Map"], json!({"k": 1}));
        assert_eq!(v[1]["Name"], "two");
    }

    #[test]
    fn hostile_documents_are_errors_not_panics() {
        let bad = [
            "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><Objs><S>&a;</S></Objs>".to_string(),
            format!("{HDR}<Obj RefId=\"0\"><MS><Ref N=\"self\" RefId=\"0\" /></MS></Obj></Objs>"),
            format!("{HDR}<Ref RefId=\"9\" /></Objs>"),
            format!("{HDR}<Obj RefId=\"0\"><TNRef RefId=\"5\" /></Obj></Objs>"),
            format!("{HDR}<Wat>1</Wat></Objs>"),
            format!("{HDR}<Obj RefId=\"0\"><MS><S N=\"a\">x</S>"),
            format!("{HDR}<I32>twelve</I32></Objs>"),
            format!("{HDR}<BA>!!!</BA></Objs>"),
            format!(
                "{HDR}{}{}</Objs>",
                "<LST>".repeat(5000),
                "</LST>".repeat(5000)
            ),
            "<html><body/></html>".to_string(),
            format!("{HDR}<S>&bogus;</S></Objs>"),
        ];
        for doc in bad {
            let e = p(&doc).unwrap_err();
            assert_eq!(e.file, Path::new("t.xml"));
            assert!(!e.place.is_empty(), "{e}");
        }
    }

    #[test]
    fn reference_expansion_is_bounded() {
        // Each level refers to the previous one ten times: 10^8 nodes if expanded.
        let mut doc = format!("{HDR}<Obj RefId=\"0\"><LST><S>x</S></LST></Obj>");
        for level in 1..9 {
            doc.push_str(&format!("<Obj RefId=\"{level}\"><LST>"));
            for _ in 0..10 {
                doc.push_str(&format!("<Ref RefId=\"{}\" />", level - 1));
            }
            doc.push_str("</LST></Obj>");
        }
        doc.push_str("</Objs>");
        let e = p(&doc).unwrap_err();
        assert!(e.message.contains("more than"), "{e}");
    }

    #[test]
    fn nested_referenced_objects_cannot_multiply_memory() {
        // 45 nested objects around a 60,000-item list, each referenced once at the end:
        // keeping a copy of each would hold 2.7 million nodes.
        let mut doc = HDR.to_string();
        for i in 0..45 {
            doc.push_str(&format!("<Obj RefId=\"{i}\"><MS>"));
        }
        doc.push_str(&format!(
            "<Obj N=\"l\" RefId=\"x\"><LST>{}</LST></Obj>",
            "<S>a</S>".repeat(60_000)
        ));
        for _ in 0..45 {
            doc.push_str("</MS></Obj>");
        }
        for i in 0..45 {
            doc.push_str(&format!("<Ref RefId=\"{i}\" />"));
        }
        doc.push_str("</Objs>");
        let e = p(&doc).unwrap_err();
        assert!(e.message.contains("more than"), "{e}");
        // Unreferenced objects are not copied at all: the same nesting without Refs reads fine.
        let plain = doc.split("<Ref").next().unwrap_or("").to_string() + "</Objs>";
        assert_eq!(p(&plain).unwrap().len(), 1);
    }

    #[test]
    fn stderr_stream_with_progress_records() {
        let s = "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><Obj S=\"progress\" RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I64 N=\"SourceId\">1</I64><PR N=\"Record\"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj><S S=\"Error\">Get-ADSyncAADCompanyFeature : access denied_x000D__x000A_</S></Objs>";
        let v = p(s).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0]["SourceId"], 1);
        assert_eq!(v[0]["Record"]["AV"], "Preparing modules for first use.");
        assert_eq!(v[0]["Record"]["T"], "Completed");
        assert_eq!(
            v[1],
            json!("Get-ADSyncAADCompanyFeature : access denied\r\n")
        );
    }

    #[test]
    fn clixml_stream_with_several_roots() {
        let s = format!(
            "#< CLIXML\n{HDR}<S S=\"Error\">boom_x000D__x000A_</S></Objs>{HDR}<S S=\"Warning\">hm</S></Objs>"
        );
        assert_eq!(p(&s).unwrap(), vec![json!("boom\r\n"), json!("hm")]);
    }

    #[test]
    fn writer_output_reads_back_identically() {
        let v = json!({
            "format": "gwb-audit/1",
            "findings": [{"code": "GWB001", "severity": "error", "count": 3, "ratio": 0.5, "ok": false, "none": null,
                          "text": "a_x b\r\n<&>\"' \u{1}\u{85} 😀"}],
            "groups": [{"id": "g", "members": [{"id": "m", "big": 9_000_000_000i64}]}],
            "empty": [], "nested": {"deep": {"deeper": [1, [2, 3]]}}
        });
        let xml = to_clixml(&v, "gwb.AuditReport");
        assert!(xml.starts_with(HDR));
        assert!(xml.contains("<T>gwb.AuditReport</T><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T>"));
        assert!(xml.contains("<T>gwb.Finding</T>"));
        assert!(xml.contains("<T>gwb.GroupForecast</T>"));
        assert!(
            xml.contains("a_x005F_x b_x000D__x000A_&lt;&amp;&gt;\"' _x0001__x0085_ _xD83D__xDE00_")
        );
        let back = p(&xml).unwrap();
        assert_eq!(back, vec![v.clone()]);
        let arr = json!([{"a": 1}, {"a": 2}]);
        let xml = to_clixml(&arr, "gwb.GroupForecast");
        let d = parse_json(Path::new("t"), &xml).unwrap();
        assert_eq!(d.values, vec![json!({"a": 1}), json!({"a": 2})]);
        assert_eq!(d.type_names[1][0], "gwb.GroupForecast");
    }

    #[test]
    fn invalid_escapes_stay_literal_and_lone_surrogates_are_replaced() {
        assert_eq!(
            decode_name("_xZZZZ_ _x12_ _x0041").unwrap(),
            "_xZZZZ_ _x12_ _x0041"
        );
        assert_eq!(decode_name("a_xD83D_b").unwrap(), "a\u{FFFD}b");
        assert_eq!(decode_name("_x00000041_").unwrap(), "A");
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Token soup that looks like CLIXML, to reach the reader's deeper paths.
    fn clixml_soup() -> impl Strategy<Value = String> {
        let tokens = prop_oneof![
            Just("<Obj RefId=\"0\">"),
            Just("<Obj RefId=\"1\" N=\"p\">"),
            Just("</Obj>"),
            Just("<MS>"),
            Just("</MS>"),
            Just("<Props>"),
            Just("</Props>"),
            Just("<LST>"),
            Just("</LST>"),
            Just("<DCT>"),
            Just("</DCT>"),
            Just("<En>"),
            Just("</En>"),
            Just("<S N=\"Key\">k</S>"),
            Just("<I32 N=\"Value\">1</I32>"),
            Just("<Ref RefId=\"0\" />"),
            Just("<Ref RefId=\"1\" N=\"r\" />"),
            Just("<TN RefId=\"0\"><T>X</T></TN>"),
            Just("<TNRef RefId=\"0\" />"),
            Just("<ToString>t</ToString>"),
            Just("<Nil />"),
            Just("<SS>00</SS>"),
            Just("<BA>AQID</BA>"),
            Just("_x00"),
            Just("_xD83D_"),
            Just("&amp;"),
            Just("&#0;"),
            Just("&#xD800;"),
            Just("<![CDATA[x]]>"),
            Just("<!-- c -->"),
            Just("<S>"),
            Just("</S>"),
            Just("<B>true</B>"),
            Just("<Db>1E400</Db>"),
            Just("text"),
        ];
        proptest::collection::vec(tokens, 0..40).prop_map(|t| {
            format!("<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">{}</Objs>", t.concat())
        })
    }

    proptest! {
        #[test]
        fn any_json_round_trips_through_clixml(v in json_value()) {
            let xml = to_clixml(&v, "gwb.Test");
            let back = p(&xml).unwrap();
            let expected = match &v {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            prop_assert_eq!(back, expected);
        }

        #[test]
        fn clixml_soup_never_panics(doc in clixml_soup()) {
            let _ = parse(Path::new("soup.xml"), &doc);
        }

        #[test]
        fn escape_round_trips(s in any::<String>()) {
            let enc = encode_string(&s, false);
            // What we write is XML-safe: no raw control characters.
            prop_assert!(!enc.chars().any(|c| (c as u32) < 0x20));
            let doc = format!("{HDR}<S>{enc}</S></Objs>");
            let back = p(&doc).unwrap();
            prop_assert_eq!(back, vec![Value::String(s.clone())]);
        }
    }
}
