//! Long JSON arrays rendered on several cores, byte for byte as serde_json's pretty printer
//! writes them in place. A large audit report holds four forecasts of 100,000 groups each;
//! rendering them is most of the report's time, and each group renders on its own. The
//! array's elements are rendered in chunks by worker threads (each with serde_json's pretty
//! printer, indented to the array's depth) and written in order, so the output is the same
//! as a plain `serde_json::to_writer_pretty` and memory stays bounded by a few chunks.
//!
//! Only serializations inside [`parallel`] on the calling thread take this path; any
//! other serializer (CLIXML through `to_value`, SARIF, tests) sees a plain sequence. Each
//! field rendered this way names the depth of its elements, `seq::<DEPTH, _, _>`, which is
//! where the pretty printer of the whole document puts them.

use std::cell::Cell;
use std::sync::mpsc;

use serde::ser::{Error as _, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

thread_local! {
    /// Set inside [`parallel`].
    static ON: Cell<bool> = const { Cell::new(false) };
}

/// Elements per chunk: large enough that a chunk is worth a thread hand-off, small enough
/// that the chunks in flight stay a few MB.
const CHUNK: usize = 512;

/// Run `f`, a `serde_json` pretty serialization of a whole document, with the arrays
/// serialized through [`seq`] rendered in parallel.
pub fn parallel<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            ON.set(self.0);
        }
    }
    let _restore = Restore(ON.replace(true));
    f()
}

/// A `serialize_with` for long arrays whose elements sit at `DEPTH` levels of two-space
/// indentation in the document: in parallel inside [`parallel`], else plain.
pub fn seq<const DEPTH: usize, T: Serialize + Sync, S: Serializer>(
    items: &[T],
    s: S,
) -> Result<S::Ok, S::Error> {
    // One worker per core; this thread only writes what they render, in order.
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(4);
    let depth = DEPTH;
    if !ON.get() || workers < 2 || items.len() < 2 * CHUNK {
        return s.collect_seq(items);
    }
    let chunks: Vec<&[T]> = items.chunks(CHUNK).collect();
    let lanes = workers;
    let mut out = s.serialize_seq(Some(items.len()))?;
    std::thread::scope(|scope| -> Result<(), S::Error> {
        // Lane i renders chunks i, i + lanes, ... into its channel.
        let mut inbox = Vec::with_capacity(workers);
        for lane in 0..lanes {
            let (tx, rx) = mpsc::sync_channel::<Result<Rendered, String>>(2);
            let chunks = &chunks;
            // A lane that cannot start drops its sender: its chunks are then an error below.
            let _ = std::thread::Builder::new().spawn_scoped(scope, move || {
                for chunk in chunks.iter().skip(lane).step_by(lanes) {
                    if tx.send(render(chunk, depth)).is_err() {
                        break;
                    }
                }
            });
            inbox.push(rx);
        }
        for k in 0..chunks.len() {
            let rendered = inbox[k % lanes]
                .recv()
                .unwrap_or_else(|_| Err("a rendering thread stopped".into()))
                .map_err(S::Error::custom)?;
            let mut start = 0;
            for &end in &rendered.ends {
                out.serialize_element(&Verbatim(&rendered.text[start..end]))?;
                start = end;
            }
        }
        Ok(())
        // The receivers drop here, before the scope joins: a worker blocked on a full channel
        // after an error sees its send fail and stops.
    })?;
    out.end()
}

/// A chunk's elements, each pretty-printed and indented to its depth, one after another.
struct Rendered {
    text: String,
    /// End offset of each element in `text`.
    ends: Vec<usize>,
}

fn render<T: Serialize>(chunk: &[T], depth: usize) -> Result<Rendered, String> {
    let mut text = Vec::new();
    let mut ends = Vec::with_capacity(chunk.len());
    for item in chunk {
        let mut ser = serde_json::Serializer::with_formatter(&mut text, Indented::at(depth));
        item.serialize(&mut ser).map_err(|e| e.to_string())?;
        ends.push(text.len());
    }
    let text = String::from_utf8(text).map_err(|e| e.to_string())?;
    Ok(Rendered { text, ends })
}

/// serde_json's `PrettyFormatter` (two spaces) for a value that sits `depth` levels into the
/// document: the same bytes, with every line after the first indented `depth` levels more,
/// and each indentation written at once.
struct Indented {
    level: usize,
    has_value: bool,
}

impl Indented {
    fn at(depth: usize) -> Indented {
        Indented {
            level: depth,
            has_value: false,
        }
    }

    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W, comma: bool) -> std::io::Result<()> {
        const SPACES: &[u8; 64] =
            b"                                                                ";
        w.write_all(if comma { b",\n" } else { b"\n" })?;
        let mut n = self.level * 2;
        while n > 0 {
            let k = n.min(SPACES.len());
            w.write_all(&SPACES[..k])?;
            n -= k;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for Indented {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.newline(w, false)?;
        }
        w.write_all(b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.newline(w, !first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.newline(w, false)?;
        }
        w.write_all(b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.newline(w, !first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Rendered JSON, written verbatim: serde_json's `RawValue` protocol (a struct with its
/// private token), which its serializer writes without quoting.
struct Verbatim<'a>(&'a str);

impl Serialize for Verbatim<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const TOKEN: &str = "$serde_json::private::RawValue";
        let mut st = s.serialize_struct(TOKEN, 1)?;
        st.serialize_field(TOKEN, self.0)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Item {
        id: usize,
        name: String,
        tags: Vec<&'static str>,
        nested: Option<Box<Inner>>,
    }
    #[derive(Serialize)]
    struct Inner {
        a: Vec<u8>,
        b: std::collections::BTreeMap<String, Option<bool>>,
    }
    #[derive(Serialize)]
    struct Doc {
        head: &'static str,
        /// Elements at depth 2: the document, then this array.
        #[serde(serialize_with = "seq::<2, _, _>")]
        top: Vec<Item>,
        outer: Vec<Holder>,
    }
    #[derive(Serialize)]
    struct Holder {
        target: &'static str,
        #[serde(serialize_with = "seq::<4, _, _>")]
        items: Vec<Item>,
    }

    fn doc(n: usize) -> Doc {
        let item = |i: usize| Item {
            id: i,
            name: format!("g\"{i}\"\n\t\u{e9}\\ {}", "x".repeat(i % 7)),
            tags: if i.is_multiple_of(3) {
                vec![]
            } else {
                vec!["a", "b"]
            },
            nested: i.is_multiple_of(2).then(|| {
                Box::new(Inner {
                    a: vec![],
                    b: [("k".to_string(), Some(true)), ("l".into(), None)].into(),
                })
            }),
        };
        Doc {
            head: "h",
            top: (0..n + 3).map(item).collect(),
            outer: vec![
                Holder {
                    target: "one",
                    items: (0..n).map(item).collect(),
                },
                Holder {
                    target: "two",
                    items: vec![],
                },
                Holder {
                    target: "three",
                    items: (0..3).map(item).collect(),
                },
            ],
        }
    }

    #[test]
    fn parallel_rendering_is_byte_identical_to_serde_json() {
        for n in [0, 1, CHUNK, 2 * CHUNK, 2 * CHUNK + 1, 5 * CHUNK + 17] {
            let d = doc(n);
            let plain = serde_json::to_string_pretty(&d).expect("plain");
            let rendered = parallel(|| serde_json::to_string_pretty(&d)).expect("parallel");
            assert_eq!(rendered, plain, "{n} items");
        }
        // Outside `parallel` it is off again.
        assert!(!ON.get());
    }

    #[test]
    fn values_are_the_same_inside_and_outside() {
        let d = doc(3 * CHUNK);
        let plain = serde_json::to_value(&d).expect("value");
        assert_eq!(
            plain["outer"][0]["items"].as_array().map(Vec::len),
            Some(3 * CHUNK)
        );
        assert_eq!(plain["outer"][0]["items"][7]["id"], 7);
        let inside = parallel(|| serde_json::to_value(&d)).expect("value");
        assert_eq!(inside, plain);
    }

    #[test]
    fn deep_values_indent_as_serde_json_does() {
        #[derive(Serialize)]
        struct Deep {
            #[serde(serialize_with = "seq::<2, _, _>")]
            deep: Vec<serde_json::Value>,
        }
        // Nested 40 levels, deeper than one run of spaces (64 bytes).
        let one = |i: usize| {
            let mut v = serde_json::json!({ "leaf": i, "empty": [], "obj": {} });
            for k in 0..40 {
                v = if k % 2 == 0 {
                    serde_json::json!([v, k])
                } else {
                    serde_json::json!({ "k": v })
                };
            }
            v
        };
        let d = Deep {
            deep: (0..2 * CHUNK + 5).map(one).collect(),
        };
        let plain = serde_json::to_string_pretty(&d).expect("plain");
        let rendered = parallel(|| serde_json::to_string_pretty(&d)).expect("parallel");
        assert_eq!(rendered, plain);
    }
}
