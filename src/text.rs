//! The one decoding layer every input file goes through: BOM sniffing (UTF-8, UTF-16LE,
//! UTF-16BE), UTF-16 without a BOM (Windows PowerShell 5.1 `Out-File`), CRLF, and a
//! Windows-1252 fallback with a warning for bytes that are not UTF-8. Line ends are one rule
//! for every reader: CRLF, a lone CR and LF all end a line (see [`normalize_line_ends`]). UTF-32 with a BOM is
//! accepted too (`-Encoding UTF32`). Decoding never fails: problems become warnings.

use std::path::Path;

use crate::error::InputError;

/// How the bytes of a file were decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16LeBom,
    Utf16BeBom,
    Utf16LeNoBom,
    Utf16BeNoBom,
    Utf32LeBom,
    Utf32BeBom,
    Windows1252,
}

/// Decoded text plus what was learned while decoding it.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: Encoding,
    /// Human-readable notes (e.g. the fallback was used); never fatal.
    pub warnings: Vec<String>,
}

/// Read and decode a file through the one input boundary ([`crate::fsio::read_bytes`]:
/// regular files only, at most `--max-input-size` bytes).
pub fn read_file(path: &Path) -> Result<Decoded, InputError> {
    let bytes = crate::fsio::read_bytes(path)?;
    Ok(decode_owned(bytes))
}

/// What [`stream_utf8_lines`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Streamed<E> {
    /// The file is not plain UTF-8: read it whole with [`read_file`] instead.
    NotPlainUtf8,
    /// Every line was handed over, or the handler's first error.
    Done(Result<(), E>),
}

/// A plain UTF-8 file (what [`read_file`] decodes as UTF-8, with or without a BOM, without
/// a warning) read in a stream, never whole: `line` gets each line exactly as
/// `read_file(path)?.text.split('\n')` gives it, in order, until it returns an error.
/// First the file is read once to check that it is plain UTF-8 (nothing kept but one
/// line), giving `scan` each piece of raw bytes between LF bytes (CRs still in it), so a
/// caller can size what it builds before the lines come. Any other file is
/// [`Streamed::NotPlainUtf8`] (and `line` is never called). Memory: the longest raw line.
pub fn stream_utf8_lines<E>(
    path: &Path,
    mut scan: impl FnMut(&[u8]),
    mut line: impl FnMut(&str) -> Result<(), E>,
) -> Result<Streamed<E>, InputError> {
    use std::io::{BufRead, Read};
    // Pass 1: the encoding rule of `decode_owned` (on the first 512 bytes) and UTF-8 validity.
    let mut input = crate::fsio::open_input(path)?;
    let mut head = Vec::with_capacity(512);
    (&mut input.file)
        .take(512)
        .read_to_end(&mut head)
        .map_err(|e| input.check.cannot(e))?;
    let bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
    if !utf8_candidate(&head) {
        return Ok(Streamed::NotPlainUtf8);
    }
    let mut reader =
        std::io::BufReader::with_capacity(1 << 16, std::io::Cursor::new(head).chain(input.file));
    let mut buf = Vec::new();
    let mut total = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| input.check.cannot(e))?;
        total += n as u64;
        input.check.check_total(total)?;
        let piece = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if std::str::from_utf8(piece).is_err() {
            return Ok(Streamed::NotPlainUtf8);
        }
        scan(piece);
        if n == 0 || !buf.ends_with(b"\n") {
            break;
        }
    }
    // Pass 2: the lines.
    let mut input = crate::fsio::open_input(path)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, &mut input.file);
    let mut total = 0u64;
    let mut first = true;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| input.check.cannot(e))?;
        total += n as u64;
        let ended = buf.ends_with(b"\n");
        let mut piece = buf.strip_suffix(b"\n").unwrap_or(&buf);
        // CRLF is one line end: the CR before this LF goes with it.
        if ended {
            piece = piece.strip_suffix(b"\r").unwrap_or(piece);
        }
        if first {
            first = false;
            // The BOM, and a second one after it (a file appended to by another writer).
            if bom {
                piece = piece.get(3..).unwrap_or_default();
                piece = piece.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(piece);
            }
        }
        let Ok(text) = std::str::from_utf8(piece) else {
            drop(reader);
            input.check.check_total(total)?;
            return Err(InputError::new(
                path,
                "",
                "the file changed while it was read",
            ));
        };
        // Every other CR is a line end of its own.
        for l in text.split('\r') {
            if let Err(e) = line(l) {
                return Ok(Streamed::Done(Err(e)));
            }
        }
        if !ended {
            break;
        }
    }
    drop(reader);
    input.check.check_total(total)?;
    Ok(Streamed::Done(Ok(())))
}

/// Longest excerpt of a value quoted in an error message, in characters.
pub const EXCERPT_CHARS: usize = 60;

/// Quote a value for an error message: in full when short, otherwise its first
/// [`EXCERPT_CHARS`] characters, an ellipsis and its length, so a 10 MB value never puts
/// 10 MB on stderr. Control characters are escaped (`{:?}` style).
pub fn excerpt(value: &str) -> String {
    excerpt_n(value, EXCERPT_CHARS)
}

/// [`excerpt`] with a chosen length (longer for server messages).
pub fn excerpt_n(value: &str, max_chars: usize) -> String {
    let mut chars = value.char_indices();
    match chars.nth(max_chars) {
        None => format!("{value:?}"),
        Some((cut, _)) => {
            let head = &value[..cut];
            format!("{head:?}… ({} bytes)", value.len())
        }
    }
}

/// A server's message for an error: redacted, then cut to a readable length.
pub fn server_message(msg: &str) -> String {
    let red = crate::redact::redact(msg);
    let mut chars = red.char_indices();
    match chars.nth(500) {
        None => red.into_owned(),
        Some((cut, _)) => format!("{}… ({} bytes in all)", &red[..cut], red.len()),
    }
}

/// Whether bytes that begin with `head` are read as UTF-8: a UTF-8 BOM, or no UTF-16/UTF-32 BOM
/// and no sign of UTF-16 without one (the rest is then UTF-8 or, if invalid, Windows-1252).
fn utf8_candidate(head: &[u8]) -> bool {
    head.starts_with(&[0xEF, 0xBB, 0xBF])
        || (!head.starts_with(&[0xFF, 0xFE])
            && !head.starts_with(&[0xFE, 0xFF])
            && !head.starts_with(&[0x00, 0x00, 0xFE, 0xFF])
            && utf16_without_bom(head).is_none())
}

/// [`decode`] that reuses the buffer when the bytes are UTF-8 (with or without a BOM): line
/// ends are normalised in place, so a large file is never copied.
pub fn decode_owned(bytes: Vec<u8>) -> Decoded {
    let bom = bytes.starts_with(&[0xEF, 0xBB, 0xBF]);
    if utf8_candidate(&bytes) {
        let mut bytes = bytes;
        if bom {
            bytes.drain(..3);
        }
        // Checked once; again only when CR bytes were changed or removed (ASCII, so the text
        // is still UTF-8).
        let mut text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let mut back = e.into_bytes();
                if bom {
                    back.splice(0..0, [0xEF, 0xBB, 0xBF]);
                }
                return decode(&back);
            }
        };
        if text.contains('\r') {
            let mut b = text.into_bytes();
            normalize_line_ends(&mut b);
            text = String::from_utf8(b)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        }
        if text.starts_with('\u{feff}') {
            text.remove(0);
        }
        return Decoded {
            text,
            encoding: if bom {
                Encoding::Utf8Bom
            } else {
                Encoding::Utf8
            },
            warnings: Vec::new(),
        };
    }
    decode(&bytes)
}

/// The one line-end rule of every reader: CRLF, a lone CR and LF each end a line, and all
/// become LF. This is what .NET's `StreamReader.ReadLine` (behind `Import-Csv` and
/// `Get-Content`) and XML's end-of-line handling do; RFC 2849 allows no raw CR inside an
/// LDIF value, and JSON none inside a string, so a CR in those files can only be a line end.
/// A CR inside a quoted CSV value therefore reads as a line break, as CRLF there always did.
/// In place and linear; nothing is copied when the text has no CR.
pub fn normalize_line_ends(buf: &mut Vec<u8>) {
    let Some(first) = buf.iter().position(|&b| b == b'\r') else {
        return;
    };
    let mut w = first;
    let mut r = first;
    let n = buf.len();
    while r < n {
        let b = buf[r];
        if b == b'\r' {
            buf[w] = b'\n';
            r += if r + 1 < n && buf[r + 1] == b'\n' {
                2
            } else {
                1
            };
        } else {
            buf[w] = b;
            r += 1;
        }
        w += 1;
    }
    buf.truncate(w);
}

/// Decode bytes: BOM first, then a UTF-16 heuristic, then UTF-8, then Windows-1252.
/// CRLF line ends are normalised to LF.
pub fn decode(bytes: &[u8]) -> Decoded {
    let mut warnings = Vec::new();
    let (text, encoding) = if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE, 0x00, 0x00]) {
        (
            decode_utf32(rest, true, &mut warnings),
            Encoding::Utf32LeBom,
        )
    } else if let Some(rest) = bytes.strip_prefix(&[0x00, 0x00, 0xFE, 0xFF]) {
        (
            decode_utf32(rest, false, &mut warnings),
            Encoding::Utf32BeBom,
        )
    } else if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        (utf8_or_1252(rest, &mut warnings).0, Encoding::Utf8Bom)
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        (
            decode_utf16(rest, true, &mut warnings),
            Encoding::Utf16LeBom,
        )
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        (
            decode_utf16(rest, false, &mut warnings),
            Encoding::Utf16BeBom,
        )
    } else if let Some(le) = utf16_without_bom(bytes) {
        (
            decode_utf16(bytes, le, &mut warnings),
            if le {
                Encoding::Utf16LeNoBom
            } else {
                Encoding::Utf16BeNoBom
            },
        )
    } else {
        let (t, fallback) = utf8_or_1252(bytes, &mut warnings);
        (
            t,
            if fallback {
                Encoding::Windows1252
            } else {
                Encoding::Utf8
            },
        )
    };
    // CRLF, CR and LF all end a line ([`normalize_line_ends`]).
    let mut text = if text.contains('\r') {
        let mut b = text.into_bytes();
        normalize_line_ends(&mut b);
        String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    } else {
        text
    };
    // A second BOM (a file appended to by a different writer) is not content.
    if text.starts_with('\u{feff}') {
        text.remove(0);
    }
    Decoded {
        text,
        encoding,
        warnings,
    }
}

fn utf8_or_1252(bytes: &[u8], warnings: &mut Vec<String>) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), false),
        Err(e) => {
            warnings.push(format!(
                "not valid UTF-8 at byte {}; decoded as Windows-1252 (re-export with -Encoding UTF8 to be sure)",
                e.valid_up_to()
            ));
            let (cow, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            (cow.into_owned(), true)
        }
    }
}

/// UTF-16 without a BOM: ASCII-heavy text has a zero in every other byte.
fn utf16_without_bom(bytes: &[u8]) -> Option<bool> {
    if bytes.len() < 4 {
        return None;
    }
    let sample = &bytes[..(bytes.len() & !1).min(512)];
    let pairs = sample.len() / 2;
    let odd_zero = sample
        .chunks_exact(2)
        .filter(|p| p[1] == 0 && p[0] != 0)
        .count();
    let even_zero = sample
        .chunks_exact(2)
        .filter(|p| p[0] == 0 && p[1] != 0)
        .count();
    if odd_zero * 10 >= pairs * 7 {
        Some(true)
    } else if even_zero * 10 >= pairs * 7 {
        Some(false)
    } else {
        None
    }
}

fn decode_utf32(bytes: &[u8], le: bool, warnings: &mut Vec<String>) -> String {
    if !bytes.len().is_multiple_of(4) {
        warnings.push(
            "UTF-32 text length is not a multiple of 4; the trailing bytes were dropped".into(),
        );
    }
    let mut bad = 0usize;
    let out: String = bytes
        .chunks_exact(4)
        .map(|q| {
            let arr = [q[0], q[1], q[2], q[3]];
            let n = if le {
                u32::from_le_bytes(arr)
            } else {
                u32::from_be_bytes(arr)
            };
            char::from_u32(n).unwrap_or_else(|| {
                bad += 1;
                '\u{FFFD}'
            })
        })
        .collect();
    if bad > 0 {
        warnings.push(format!(
            "{bad} invalid UTF-32 code point(s) replaced with U+FFFD"
        ));
    }
    out
}

fn decode_utf16(bytes: &[u8], le: bool, warnings: &mut Vec<String>) -> String {
    if !bytes.len().is_multiple_of(2) {
        warnings.push("UTF-16 text has an odd number of bytes; the last byte was dropped".into());
    }
    let units = bytes.chunks_exact(2).map(|p| {
        if le {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    let mut out = String::with_capacity(bytes.len() / 2);
    let mut bad = 0usize;
    for r in char::decode_utf16(units) {
        match r {
            Ok(c) => out.push(c),
            Err(_) => {
                bad += 1;
                out.push('\u{FFFD}');
            }
        }
    }
    if bad > 0 {
        warnings.push(format!(
            "{bad} unpaired UTF-16 surrogate(s) replaced with U+FFFD"
        ));
    }
    out
}

/// A word as a POSIX shell reads it back: as it is when it holds only safe characters, else in
/// single quotes (for commands gwb prints for people to paste).
pub fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    #[test]
    fn same_text_from_every_encoding() {
        let s = "{\"name\": \"Ana Müller\"}\r\n";
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend_from_slice(s.as_bytes());
        let expect = "{\"name\": \"Ana Müller\"}\n";
        assert_eq!(decode(s.as_bytes()).text, expect);
        assert_eq!(decode(&bom8).text, expect);
        assert_eq!(decode(&bom8).encoding, Encoding::Utf8Bom);
        assert_eq!(decode(&utf16le(s, true)).text, expect);
        assert_eq!(decode(&utf16le(s, true)).encoding, Encoding::Utf16LeBom);
        assert_eq!(decode(&utf16le(s, false)).text, expect);
        assert_eq!(decode(&utf16le(s, false)).encoding, Encoding::Utf16LeNoBom);
    }

    #[test]
    fn utf16_be_utf32_odd_lengths_and_lone_surrogates() {
        let s = "{\"a\": \"Ä\"}";
        let mut be = vec![0xFE, 0xFF];
        for u in s.encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode(&be).text, s);
        assert_eq!(decode(&be).encoding, Encoding::Utf16BeBom);
        let mut u32le = vec![0xFF, 0xFE, 0, 0];
        for c in s.chars() {
            u32le.extend_from_slice(&(c as u32).to_le_bytes());
        }
        assert_eq!(decode(&u32le).text, s);
        assert_eq!(decode(&u32le).encoding, Encoding::Utf32LeBom);
        // Truncated UTF-16 without a BOM: the odd byte is dropped with a warning.
        let mut odd = utf16le("{\"abc\": 1}", false);
        odd.push(b'x');
        let d = decode(&odd);
        assert_eq!(d.encoding, Encoding::Utf16LeNoBom);
        assert_eq!(d.text, "{\"abc\": 1}");
        assert_eq!(d.warnings.len(), 1);
        // A lone surrogate becomes U+FFFD, never a panic.
        let d = decode(&[0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00]);
        assert_eq!(d.text, "\u{FFFD}A");
        assert_eq!(d.warnings.len(), 1);
        // Double BOM.
        assert_eq!(
            decode(&[0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, b'1']).text,
            "1"
        );
        assert_eq!(decode(&[]).text, "");
    }

    #[test]
    fn cr_only_line_endings_are_line_ends() {
        assert_eq!(
            decode(b"dn: a\rcn: b\r\rdn: c\r").text,
            "dn: a\ncn: b\n\ndn: c\n"
        );
        assert_eq!(decode_owned(b"x\ry".to_vec()).text, "x\ny");
    }

    #[test]
    fn a_lone_cr_is_a_line_end_in_every_file() {
        // Mixed: LF and CRLF line ends with one bare CR in between.
        assert_eq!(decode(b"a\r\nb\rc\nd").text, "a\nb\nc\nd");
        assert_eq!(decode_owned(b"a\nb\rc\r\n".to_vec()).text, "a\nb\nc\n");
        // CR CR LF is two line ends (an empty line), as StreamReader.ReadLine reads it.
        assert_eq!(decode_owned(b"a\r\r\nb".to_vec()).text, "a\n\nb");
        // The same through a UTF-8 BOM, UTF-16 and Windows-1252.
        assert_eq!(
            decode_owned(b"\xEF\xBB\xBFa\nb\rc".to_vec()).text,
            "a\nb\nc"
        );
        assert_eq!(decode(&utf16le("a\nb\rc", true)).text, "a\nb\nc");
        assert_eq!(decode(b"M\xfcller\nb\rc").text, "M\u{fc}ller\nb\nc");
    }

    #[test]
    fn excerpts_are_bounded() {
        assert_eq!(excerpt("short"), "\"short\"");
        let e = excerpt(&"é".repeat(5_000_000));
        assert!(e.len() < 200 && e.contains("10000000 bytes"), "{e}");
    }

    #[test]
    fn latin1_bytes_fall_back_with_a_warning() {
        let d = decode(b"M\xfcller");
        assert_eq!(d.text, "Müller");
        assert_eq!(d.encoding, Encoding::Windows1252);
        assert_eq!(d.warnings.len(), 1);
    }

    /// The lines a stream gives, or `None` for a file that is not plain UTF-8.
    fn streamed(path: &Path) -> Option<(Vec<String>, Vec<Vec<u8>>)> {
        let mut lines = Vec::new();
        let mut pieces = Vec::new();
        let r = stream_utf8_lines::<()>(
            path,
            |p| pieces.push(p.to_vec()),
            |l| {
                lines.push(l.to_string());
                Ok(())
            },
        )
        .unwrap();
        match r {
            Streamed::NotPlainUtf8 => None,
            Streamed::Done(r) => {
                r.unwrap();
                Some((lines, pieces))
            }
        }
    }

    /// A stream of a file's lines is `read_file`'s text split at LF, for exactly the files
    /// `read_file` decodes as plain UTF-8; the scan sees the raw bytes between LFs.
    fn stream_matches_read_file(bytes: &[u8]) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, bytes).unwrap();
        let d = read_file(&path).unwrap();
        let plain =
            matches!(d.encoding, Encoding::Utf8 | Encoding::Utf8Bom) && d.warnings.is_empty();
        match streamed(&path) {
            Some((lines, pieces)) => {
                assert!(plain, "{bytes:?} streamed but read as {:?}", d.encoding);
                assert_eq!(lines, d.text.split('\n').collect::<Vec<_>>(), "{bytes:?}");
                assert_eq!(
                    pieces,
                    bytes
                        .split(|&b| b == b'\n')
                        .map(<[u8]>::to_vec)
                        .collect::<Vec<_>>()
                );
            }
            None => assert!(!plain, "{bytes:?} is plain UTF-8 but was not streamed"),
        }
    }

    #[test]
    fn streamed_lines_are_the_decoded_lines() {
        for b in [
            &b""[..],
            b"\n",
            b"a",
            b"a\nb\n",
            b"a\r\nb\r\n",
            b"a\rb\rc",
            b"a\r\r\nb\r",
            b"\r",
            b"\xEF\xBB\xBF",
            b"\xEF\xBB\xBFdn: x\r\n",
            b"\xEF\xBB\xBF\xEF\xBB\xBFdn: x\n",
            b"\xEF\xBB\xBF\xEF\xBB\xBF\xEF\xBB\xBFx",
            b"M\xfcller\n",
            b"\xEF\xBB\xBFM\xfcller\n",
            b"\xFF\xFEa\x00\n\x00",
            b"a\x00b\x00c\x00d\x00",
            "Müller — ok\r\n".as_bytes(),
        ] {
            stream_matches_read_file(b);
        }
        // Invalid UTF-8 far past the first block, and UTF-16 detection on the first bytes.
        let mut late = "dn: x\n".repeat(20_000).into_bytes();
        late.extend_from_slice(b"\xff\n");
        stream_matches_read_file(&late);
        let mut utf16ish = "a\0".repeat(300).into_bytes();
        utf16ish.extend_from_slice(&"dn: x\n".repeat(100).into_bytes());
        stream_matches_read_file(&utf16ish);
    }

    #[test]
    fn streams_refuse_what_read_file_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let e = stream_utf8_lines::<()>(dir.path(), |_| {}, |_| Ok(())).unwrap_err();
        assert_eq!(
            e.to_string(),
            read_file(dir.path()).unwrap_err().to_string()
        );
        // A handler's error stops the stream.
        let path = dir.path().join("f");
        std::fs::write(&path, "a\nb\nc\n").unwrap();
        let mut seen = Vec::new();
        let r = stream_utf8_lines(
            &path,
            |_| {},
            |l| {
                seen.push(l.to_string());
                if l == "b" { Err("stop") } else { Ok(()) }
            },
        )
        .unwrap();
        assert_eq!(r, Streamed::Done(Err("stop")));
        assert_eq!(seen, ["a", "b"]);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_stream_as_they_decode(parts in proptest::collection::vec(proptest::prop_oneof![
            proptest::strategy::Just(&b"dn: a"[..]), proptest::strategy::Just(&b"\r"[..]),
            proptest::strategy::Just(&b"\n"[..]), proptest::strategy::Just(&b"\r\n"[..]),
            proptest::strategy::Just(&b"\xEF\xBB\xBF"[..]), proptest::strategy::Just("é€".as_bytes()),
            proptest::strategy::Just(&b"\xff"[..]), proptest::strategy::Just(&b"\x00"[..]),
            proptest::strategy::Just(&b"\xFF\xFE"[..]), proptest::strategy::Just(&b" x"[..]),
        ], 0..30)) {
            stream_matches_read_file(&parts.concat());
        }
    }
}

/// Natural order of names, as people read them: runs of ASCII digits compare by their value
/// ("Group 2" before "Group 10"), everything else character by character; names that only
/// differ in leading zeros fall back to plain text order, so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < ab.len() && j < bb.len() {
        if ab[i].is_ascii_digit() && bb[j].is_ascii_digit() {
            let run = |s: &[u8], mut k: usize| {
                let start = k;
                while k < s.len() && s[k].is_ascii_digit() {
                    k += 1;
                }
                (start, k)
            };
            let ((sa, ea), (sb, eb)) = (run(ab, i), run(bb, j));
            fn strip(s: &[u8], mut st: usize, e: usize) -> &[u8] {
                while st + 1 < e && s[st] == b'0' {
                    st += 1;
                }
                &s[st..e]
            }
            let (na, nb) = (strip(ab, sa, ea), strip(bb, sb, eb));
            let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if ord != Ordering::Equal {
                return ord;
            }
            i = ea;
            j = eb;
            continue;
        }
        // Compare one UTF-8 character at a time (byte order of UTF-8 is code point order).
        let ca = a[i..].chars().next().map_or(1, char::len_utf8);
        let cb = b[j..].chars().next().map_or(1, char::len_utf8);
        let ord = ab[i..i + ca].cmp(&bb[j..j + cb]);
        if ord != Ordering::Equal {
            return ord;
        }
        i += ca;
        j += cb;
    }
    (ab.len() - i).cmp(&(bb.len() - j)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod natural_tests {
    use super::natural_cmp;
    use std::cmp::Ordering::*;

    #[test]
    fn numbers_by_value_text_by_character() {
        let mut v = vec![
            "group 10", "group 2", "group 1", "group 0", "group", "group 01", "grouq", "Group 3",
            "zoë 2", "zoë 10",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "Group 3", "group", "group 0", "group 01", "group 1", "group 2", "group 10",
                "grouq", "zoë 2", "zoë 10"
            ]
        );
        assert_eq!(natural_cmp("a1", "a1"), Equal);
        assert_eq!(
            natural_cmp("a01", "a1"),
            Less,
            "leading zeros: text order breaks the tie"
        );
        assert_eq!(
            natural_cmp("a99999999999999999999999", "a100000000000000000000000"),
            Less
        );
    }

    proptest::proptest! {
        #[test]
        fn a_total_order(a in "[a0-2é ]{0,6}", b in "[a0-2é ]{0,6}", c in "[a0-2é ]{0,6}") {
            proptest::prop_assert_eq!(natural_cmp(&a, &b), natural_cmp(&b, &a).reverse());
            proptest::prop_assert_eq!(natural_cmp(&a, &b) == Equal, a == b);
            if natural_cmp(&a, &b) != Greater && natural_cmp(&b, &c) != Greater {
                proptest::prop_assert_ne!(natural_cmp(&a, &c), Greater);
            }
        }
    }
}
