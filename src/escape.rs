//! Escaping text for the formats gwb writes: HTML, XML (JUnit, SARIF's neighbours), Markdown
//! table cells and CSV cells. One function per format, used by every renderer, so a name such
//! as `R&D|"Labs"<#1>` is safe in each report the same way.

/// Text for HTML content and attribute values.
pub fn html(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Text for XML content and attribute values: line breaks and tabs kept as character
/// references, other control characters (not allowed in XML 1.0) dropped.
pub fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' => o.push_str("&#10;"),
            '\t' => o.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => o.push(c),
        }
    }
    o
}

/// Text for a Markdown table cell (GitHub Flavored Markdown): Markdown's punctuation
/// backslash-escaped so a name never turns into emphasis, a link, code or a new column;
/// `<` and `>` as entities so no HTML passes; a line break as `<br>`, a carriage return dropped.
pub fn markdown(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' => {
                o.push('\\');
                o.push(c);
            }
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\n' => o.push_str("<br>"),
            '\r' => {}
            c => o.push(c),
        }
    }
    o
}

/// A CSV cell's text with spreadsheet formula injection neutralised: a value that starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` (OWASP's advice), so a
/// spreadsheet shows it as text. Quoting is the CSV writer's job ([`csv_field`] does both).
pub fn csv_cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// A whole CSV field (RFC 4180): [`csv_cell`], then quoted when it holds a comma, a quote or a
/// line break, with quotes doubled.
pub fn csv_field(s: &str) -> String {
    let s = csv_cell(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "R&D|\"Labs\" <#1> *x* [y]_z\\`'\r\n=1";

    #[test]
    fn html_and_xml_leave_no_markup() {
        let h = html(NAME);
        assert!(!h.contains(['<', '>', '"', '\'']), "{h}");
        assert!(h.contains("R&amp;D") && h.contains("&lt;#1&gt;"));
        let x = xml("a\u{1}b\nc\td<'&");
        assert_eq!(x, "ab&#10;c&#9;d&lt;&apos;&amp;");
    }

    #[test]
    fn markdown_cells_keep_one_column_and_no_markup() {
        let m = markdown(NAME);
        assert_eq!(
            m,
            "R&D\\|\"Labs\" &lt;#1&gt; \\*x\\* \\[y\\]\\_z\\\\\\`'<br>=1"
        );
        // Every pipe in the cell is escaped, so the row keeps its columns.
        let unescaped = m
            .char_indices()
            .filter(|&(i, c)| c == '|' && !m[..i].ends_with('\\'))
            .count();
        assert_eq!(unescaped, 0);
    }

    #[test]
    fn csv_neutralises_formulas_and_quotes_what_needs_it() {
        for lead in ["=", "+", "-", "@", "\t", "\r"] {
            assert!(csv_cell(&format!("{lead}1")).starts_with('\''), "{lead:?}");
        }
        assert_eq!(csv_cell("Sales"), "Sales");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("-1,2"), "\"'-1,2\"");
    }
}
