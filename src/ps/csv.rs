//! `Export-Csv` files: the `#TYPE` line, quoted and unquoted fields (`$null` is an empty
//! unquoted field, `""` an empty string), `;` or tab delimiters (sniffed from the header),
//! embedded newlines and doubled quotes. Also the writer gwb's own CSV round-trips through.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::InputError;

/// Most columns accepted in one file.
pub const MAX_COLUMNS: usize = 10_000;

/// A parsed CSV export: the header once, and every data row's field text back to back in
/// one buffer (no per-row objects, no copies of the column names), so a table costs about
/// the size of the file. Rows become JSON objects one at a time, when a reader asks.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// From `#TYPE X`.
    pub type_name: Option<String>,
    pub delimiter: char,
    pub headers: Vec<String>,
    /// The object's properties in order: one per distinct header name (first position),
    /// with the column whose value it takes (the last of equal names, as a JSON object
    /// built column by column keeps it).
    columns: Vec<(usize, usize)>,
    /// Every field's text, row after row.
    text: String,
    /// Where each row's text starts in `text`.
    row_start: Vec<usize>,
    /// `headers.len()` cells per row: the field's end, relative to its row's start, with
    /// [`NULL`] set for `$null` (an empty unquoted field, or a field the row lacks).
    cells: Vec<u32>,
}

/// Marks a `$null` cell in [`Table::cells`].
const NULL: u32 = 1 << 31;

impl Table {
    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.row_start.len()
    }

    pub fn is_empty(&self) -> bool {
        self.row_start.is_empty()
    }

    /// The property names of every row, in order (distinct header names).
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.columns.iter().map(|&(h, _)| self.headers[h].as_str())
    }

    /// One cell: `None` for `$null`.
    fn cell(&self, row: usize, col: usize) -> Option<&str> {
        let width = self.headers.len();
        let base = self.row_start[row];
        let end = self.cells[row * width + col];
        if end & NULL != 0 {
            return None;
        }
        let start = if col == 0 {
            0
        } else {
            self.cells[row * width + col - 1] & !NULL
        };
        self.text.get(base + start as usize..base + end as usize)
    }

    /// One row's properties in order: name and value (`None` for `$null`).
    pub fn row(&self, row: usize) -> impl Iterator<Item = (&str, Option<&str>)> + '_ {
        self.columns
            .iter()
            .map(move |&(h, c)| (self.headers[h].as_str(), self.cell(row, c)))
    }

    /// One row as the JSON object the recognizers read: strings, or null for `$null`.
    pub fn row_object(&self, row: usize) -> Map<String, Value> {
        let mut m = Map::with_capacity(self.columns.len());
        for (k, v) in self.row(row) {
            m.insert(
                k.to_string(),
                v.map_or(Value::Null, |s| Value::String(s.into())),
            );
        }
        m
    }

    /// Every row as a JSON object (for callers that want `Value`s; costs what they cost).
    pub fn records(&self) -> Vec<Value> {
        (0..self.len())
            .map(|i| Value::Object(self.row_object(i)))
            .collect()
    }

    /// The rows, serialising as a JSON array of objects without building them.
    pub fn rows_json(&self) -> RowsJson<'_> {
        RowsJson(self)
    }
}

/// [`Table::rows_json`]: the same JSON as `records()`, written row by row.
pub struct RowsJson<'a>(&'a Table);

struct RowJson<'a>(&'a Table, usize);

impl serde::Serialize for RowsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for i in 0..self.0.len() {
            seq.serialize_element(&RowJson(self.0, i))?;
        }
        seq.end()
    }
}

impl serde::Serialize for RowJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.columns.len()))?;
        for (k, v) in self.0.row(self.1) {
            map.serialize_entry(k, &v)?;
        }
        map.end()
    }
}

/// One field with whether it was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    text: String,
    quoted: bool,
}

/// Does the first line look like an Export-Csv header?
pub fn looks_like(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}');
    let first = t.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first.starts_with("#TYPE ") {
        return true;
    }
    let first = first.trim();
    if first.is_empty()
        || first.starts_with('{')
        || first.starts_with('[')
        || first.starts_with('<')
    {
        return false;
    }
    let d = sniff_delimiter(first);
    match split_line(first, d) {
        Some(fields) => {
            fields.len() >= 2
                && fields
                    .iter()
                    .all(|f| !f.text.trim().is_empty() && !f.text.contains(" : "))
        }
        None => false,
    }
}

/// Pick the delimiter that splits the header into the most fields (outside quotes).
fn sniff_delimiter(header: &str) -> char {
    let mut best = (',', 0usize);
    for d in [',', ';', '\t', '|'] {
        let mut n = 0;
        let mut in_q = false;
        for c in header.chars() {
            if c == '"' {
                in_q = !in_q;
            } else if c == d && !in_q {
                n += 1;
            }
        }
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

fn split_line(line: &str, d: char) -> Option<Vec<Field>> {
    let mut p = Scanner {
        text: line,
        i: 0,
        line: 1,
    };
    let (fields, _) = p.record(d).ok()?;
    Some(fields)
}

/// A record scanner over the text's bytes: every byte it stops at (delimiter, quote,
/// newline) is ASCII, so slicing between them always lands on UTF-8 boundaries.
struct Scanner<'a> {
    text: &'a str,
    i: usize,
    line: usize,
}

impl Scanner<'_> {
    fn peek(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    /// One record; `Ok((fields, more))`, `Err(line)` when a quoted field never ends.
    fn record(&mut self, d: char) -> Result<(Vec<Field>, bool), usize> {
        let mut buf = String::new();
        let mut spans = Vec::new();
        let more = self.record_into(d, &mut buf, &mut spans)?;
        let mut start = 0;
        let fields = spans
            .into_iter()
            .map(|(end, quoted)| {
                let f = Field {
                    text: buf[start..end].to_string(),
                    quoted,
                };
                start = end;
                f
            })
            .collect();
        Ok((fields, more))
    }

    /// One record, its fields' text appended to `buf` and `(end in buf, quoted)` per field
    /// pushed to `spans`; `Ok(more)`, `Err(line)` when a quoted field never ends.
    fn record_into(
        &mut self,
        d: char,
        buf: &mut String,
        spans: &mut Vec<(usize, bool)>,
    ) -> Result<bool, usize> {
        // Delimiters are ASCII; a non-ASCII one would never match a byte.
        let d = u8::try_from(u32::from(d)).unwrap_or(b',');
        let first = spans.len();
        loop {
            let mut quoted = false;
            let save = self.i;
            while self.peek(self.i) == Some(b' ') {
                self.i += 1;
            }
            if self.peek(self.i) == Some(b'"') {
                quoted = true;
                let start_line = self.line;
                self.i += 1;
                loop {
                    let run_start = self.i;
                    while let Some(b) = self.peek(self.i) {
                        if b == b'"' {
                            break;
                        }
                        if b == b'\n' {
                            self.line += 1;
                        }
                        self.i += 1;
                    }
                    buf.push_str(&self.text[run_start..self.i]);
                    match self.peek(self.i) {
                        None => return Err(start_line),
                        Some(_) if self.peek(self.i + 1) == Some(b'"') => {
                            buf.push('"');
                            self.i += 2;
                        }
                        Some(_) => {
                            self.i += 1;
                            break;
                        }
                    }
                }
                // Text after the closing quote (malformed, but Import-Csv keeps it).
                let run_start = self.i;
                while let Some(b) = self.peek(self.i) {
                    if b == d || b == b'\n' {
                        break;
                    }
                    if b == b'"' {
                        return Err(self.line);
                    }
                    self.i += 1;
                }
                buf.push_str(&self.text[run_start..self.i]);
            } else {
                self.i = save;
                let run_start = self.i;
                while let Some(b) = self.peek(self.i) {
                    if b == d || b == b'\n' {
                        break;
                    }
                    self.i += 1;
                }
                buf.push_str(&self.text[run_start..self.i]);
            }
            spans.push((buf.len(), quoted));
            match self.peek(self.i) {
                Some(b) if b == d => {
                    self.i += 1;
                    if spans.len() - first > MAX_COLUMNS {
                        return Err(self.line);
                    }
                }
                Some(b'\n') => {
                    self.i += 1;
                    self.line += 1;
                    return Ok(self.i < self.text.len());
                }
                _ => return Ok(false),
            }
        }
    }
}

/// Parse an Export-Csv file (text already decoded by `crate::text`).
pub fn parse(file: &Path, text: &str) -> Result<Table, InputError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut table = Table {
        delimiter: ',',
        ..Table::default()
    };
    // Leading `#TYPE` / `#` lines and blank lines before the header.
    let mut offset = 0;
    let mut line_no = 1;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if let Some(ty) = t.strip_prefix("#TYPE ") {
            table.type_name = Some(ty.trim().to_string());
        } else if !(t.is_empty() || t.starts_with('#')) {
            break;
        }
        offset += line.len();
        line_no += 1;
    }
    let body = &text[offset..];
    let header_line = body.lines().next().unwrap_or("");
    table.delimiter = sniff_delimiter(header_line);
    let d = table.delimiter;
    let mut sc = Scanner {
        text: body,
        i: 0,
        line: line_no,
    };
    if body.is_empty() {
        return Ok(table);
    }
    let (headers, mut more) = sc.record(d).map_err(|l| {
        InputError::new(
            file,
            format!("line {l}"),
            "header has a quoted field that never ends",
        )
    })?;
    table.headers = headers.into_iter().map(|f| f.text).collect();
    // A header name that repeats keeps its first position and its last column's value.
    let mut first_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (c, h) in table.headers.iter().enumerate() {
        match first_of.get(h.as_str()) {
            Some(&slot) => table.columns[slot].1 = c,
            None => {
                first_of.insert(h, table.columns.len());
                table.columns.push((c, c));
            }
        }
    }
    if table.headers.iter().all(|h| h.trim().is_empty()) {
        return Err(InputError::new(
            file,
            format!("line {line_no}"),
            "empty CSV header",
        ));
    }
    let width = table.headers.len();
    // Field text never grows when unquoted: the body's length bounds the buffer. The line
    // count estimates the rows; the reservations are capped by the body's size (a file of
    // blank lines, or of one-field rows under a wide header, must not reserve more than a
    // small multiple of itself up front: past that the lists grow as usual).
    table.text.reserve(body.len());
    let lines = body.bytes().filter(|&b| b == b'\n').count() + 1;
    table.row_start.reserve(lines.min(body.len() / 16 + 1));
    table
        .cells
        .reserve(lines.saturating_mul(width).min(body.len() / 2 + width));
    let mut spans: Vec<(usize, bool)> = Vec::with_capacity(width + 1);
    let mut record_no = 0;
    while more {
        let start = sc.line;
        let row_start = table.text.len();
        spans.clear();
        more = sc
            .record_into(d, &mut table.text, &mut spans)
            .map_err(|l| {
                InputError::new(
                    file,
                    format!("record {} (line {l})", record_no + 1),
                    "quoted field never ends (mismatched quotes)",
                )
            })?;
        if spans.len() == 1 && spans[0] == (row_start, false) {
            continue; // blank line
        }
        record_no += 1;
        if spans.len() > width {
            return Err(InputError::new(
                file,
                format!("record {record_no} (line {start})"),
                format!(
                    "{} fields but the header has {width} columns (mismatched quotes or delimiter?)",
                    spans.len(),
                ),
            ));
        }
        if table.text.len() - row_start >= NULL as usize {
            return Err(InputError::new(
                file,
                format!("record {record_no} (line {start})"),
                "record longer than 2 GiB",
            ));
        }
        let mut field_start = row_start;
        for col in 0..width {
            let cell = match spans.get(col) {
                Some(&(end, quoted)) => {
                    let rel = (end - row_start) as u32;
                    let null = !quoted && end == field_start;
                    field_start = end;
                    if null { rel | NULL } else { rel }
                }
                None => (field_start - row_start) as u32 | NULL,
            };
            table.cells.push(cell);
        }
        table.row_start.push(row_start);
    }
    table.text.shrink_to_fit();
    table.row_start.shrink_to_fit();
    table.cells.shrink_to_fit();
    Ok(table)
}

/// Quote one field the way Export-Csv does (always quoted, `"` doubled); `None` is `$null`.
pub fn quote_field(v: Option<&str>) -> String {
    match v {
        None => String::new(),
        Some(s) => format!("\"{}\"", s.replace('"', "\"\"")),
    }
}

/// Write rows as Export-Csv would (header from the column list, every field quoted, CRLF).
pub fn write(headers: &[String], rows: &[Vec<Option<String>>]) -> String {
    let mut out = String::new();
    let line = |cells: Vec<String>| cells.join(",") + "\r\n";
    out.push_str(&line(
        headers.iter().map(|h| quote_field(Some(h))).collect(),
    ));
    for r in rows {
        out.push_str(&line(r.iter().map(|c| quote_field(c.as_deref())).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn windows_powershell_export() {
        let t = "#TYPE Selected.Microsoft.ActiveDirectory.Management.ADGroup\n\"Name\",\"Members\",\"Note\",\"Empty\"\n\"Sales\",\"System.Object[]\",,\"\"\n\"Multi\nline \"\"x\"\"\",\"a\",\"b\",\"c\"\n";
        let tb = parse(Path::new("g.csv"), t).unwrap();
        assert_eq!(
            tb.type_name.as_deref(),
            Some("Selected.Microsoft.ActiveDirectory.Management.ADGroup")
        );
        assert_eq!(tb.headers, ["Name", "Members", "Note", "Empty"]);
        assert_eq!(tb.records().len(), 2);
        assert_eq!(tb.records()[0]["Note"], Value::Null);
        assert_eq!(tb.records()[0]["Empty"], "");
        assert_eq!(tb.records()[1]["Name"], "Multi\nline \"x\"");
    }

    #[test]
    fn semicolon_and_unquoted() {
        let tb = parse(Path::new("g.csv"), "Name;Value\nA;1\n\nB;\"2;3\"\n").unwrap();
        assert_eq!(tb.delimiter, ';');
        assert_eq!(tb.records().len(), 2);
        assert_eq!(tb.records()[1]["Value"], "2;3");
    }

    #[test]
    fn malformed_is_an_error_naming_the_record() {
        let e = parse(Path::new("g.csv"), "A,B\n1,2\n\"3,4\n").unwrap_err();
        assert!(e.place.contains("record 2"), "{e}");
        let e = parse(Path::new("g.csv"), "A,B\n1,2,3\n").unwrap_err();
        assert!(e.place.contains("record 1"), "{e}");
    }

    /// Every CSV fixture: the table, its rows made into JSON objects (what a table was
    /// before it was kept as one buffer), the recognizers' findings on both, and the
    /// lost-data notes, are the same.
    #[test]
    fn fixtures_read_the_same_as_rows_made_into_values() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/powershell");
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .chain(std::fs::read_dir(dir.join("hostile")).unwrap())
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect();
        files.sort();
        let mut parsed = 0;
        for f in &files {
            let text = crate::text::decode(&std::fs::read(f).unwrap()).text;
            let Ok(t) = parse(f, &text) else { continue };
            parsed += 1;
            let values = t.records();
            assert_eq!(values.len(), t.len());
            assert_eq!(
                serde_json::to_string_pretty(&t.rows_json()).unwrap(),
                serde_json::to_string_pretty(&values).unwrap(),
                "{}",
                f.display()
            );
            for (i, v) in values.iter().enumerate() {
                assert_eq!(&Value::Object(t.row_object(i)), v);
            }
            use crate::ps::recognize::{Records, recognize_records, recognize_with};
            let by_value = recognize_with(f, &values, "lost-data");
            let by_table = recognize_records(f, Records::Table(&t), "lost-data");
            assert_eq!(
                format!("{by_value:?}"),
                format!("{by_table:?}"),
                "{}",
                f.display()
            );
            assert_eq!(
                format!(
                    "{:?}",
                    crate::ps::json::find_lost(&values, f, "lost-data", 25)
                ),
                format!(
                    "{:?}",
                    crate::ps::json::find_lost_table(&t, f, "lost-data", 25)
                ),
            );
        }
        assert!(parsed >= 5, "{parsed} of {} fixtures parsed", files.len());
    }

    #[test]
    fn a_wide_header_over_many_blank_lines_reserves_no_more_than_the_file() {
        // 10,000 columns and 1,000,000 blank lines: reserving a cell per column per line
        // up front would ask for 40 GB.
        let header: Vec<String> = (0..MAX_COLUMNS).map(|i| format!("c{i}")).collect();
        let text = header.join(",") + &"\n".repeat(1_000_000);
        let tb = parse(Path::new("w.csv"), &text).unwrap();
        assert_eq!(tb.headers.len(), MAX_COLUMNS);
        assert!(tb.is_empty());
        // One-field rows under the wide header are null-padded, as Import-Csv reads them.
        let tb = parse(Path::new("w.csv"), &(header.join(",") + "\nx\ny\n")).unwrap();
        assert_eq!(tb.len(), 2);
        assert_eq!(tb.row(1).next(), Some(("c0", Some("y"))));
        assert!(tb.row(1).skip(1).all(|(_, v)| v.is_none()));
    }

    #[test]
    fn repeated_headers_keep_the_first_place_and_the_last_value() {
        let tb = parse(Path::new("d.csv"), "A,B,A\n1,,3\n\"x\"\n").unwrap();
        assert_eq!(tb.keys().collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(
            serde_json::to_string(&tb.rows_json()).unwrap(),
            r#"[{"A":"3","B":null},{"A":null,"B":null}]"#
        );
        assert_eq!(
            serde_json::to_string(&tb.rows_json()).unwrap(),
            serde_json::to_string(&tb.records()).unwrap()
        );
    }

    proptest! {
        #[test]
        fn quoting_round_trips(rows in proptest::collection::vec(proptest::collection::vec(proptest::option::of(".*"), 3), 1..5)) {
            let headers: Vec<String> = vec!["A".into(), "B b".into(), "C,\"c\"".into()];
            let text = write(&headers, &rows);
            let decoded = crate::text::decode(text.as_bytes()).text;
            let tb = parse(Path::new("p.csv"), &decoded).unwrap();
            prop_assert_eq!(&tb.headers, &headers);
            // Rows that are entirely blank and unquoted cannot exist: every field is quoted or null.
            let expected: Vec<&Vec<Option<String>>> = rows.iter().filter(|r| !(r.len() == 1 && r[0].is_none())).collect();
            prop_assert_eq!(tb.records().len(), expected.len());
            for (rec, row) in tb.records().iter().zip(expected) {
                for (h, cell) in headers.iter().zip(row) {
                    let want = match cell {
                        // decode() turns CRLF and a lone CR into LF (text::normalize_line_ends).
                        Some(s) => Value::String(s.replace("\r\n", "\n").replace('\r', "\n")),
                        None => Value::Null,
                    };
                    prop_assert_eq!(&rec[h], &want);
                }
            }
        }
    }
}
