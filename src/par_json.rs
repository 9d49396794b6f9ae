//! Long JSON arrays rendered on several cores, byte for byte as serde_json's pretty printer
//! writes them in place. A large audit report holds four forecasts of 100,000 groups each;
//! rendering them is most of the report's time, and each group renders on its own. The
//! array's elements are rendered in chunks by worker threads (each with serde_json's pretty
//! printer, indented to the array's depth) and written in order, so the output is the same
//! as a plain `serde_json::to_writer_pretty` and memory stays bounded by a few chunks.
//!
//! Only serializations inside [`with_depth`] on the calling thread take this path; any
//! other serializer (CLIXML through `to_value`, SARIF, tests) sees a plain sequence.

use std::cell::Cell;
use std::sync::mpsc;

use serde::ser::{Error as _, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

thread_local! {
    /// The depth (levels of two-space indentation) of the arrays [`seq`] renders in
    /// parallel; `None` outside [`with_depth`].
    static DEPTH: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Elements per chunk: large enough that a chunk is worth a thread hand-off, small enough
/// that the chunks in flight stay a few MB.
const CHUNK: usize = 512;

/// Run `f` (a `serde_json` pretty serialization) with the arrays serialized through [`seq`]
/// rendered in parallel; their elements sit at `depth` levels of indentation.
pub fn with_depth<R>(depth: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DEPTH.set(self.0);
        }
    }
    let _restore = Restore(DEPTH.replace(Some(depth)));
    f()
}

/// A `serialize_with` for long arrays: in parallel inside [`with_depth`], else plain.
pub fn seq<T: Serialize + Sync, S: Serializer>(items: &[T], s: S) -> Result<S::Ok, S::Error> {
    // One worker per core; this thread only writes what they render, in order.
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(4);
    let Some(depth) = DEPTH.get() else {
        return s.collect_seq(items);
    };
    if workers < 2 || items.len() < 2 * CHUNK {
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
            scope.spawn(move || {
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
    let pad = "  ".repeat(depth);
    let mut text = Vec::new();
    let mut ends = Vec::with_capacity(chunk.len());
    for item in chunk {
        let mut w = Deeper {
            out: &mut text,
            pad: pad.as_bytes(),
        };
        serde_json::to_writer_pretty(&mut w, item).map_err(|e| e.to_string())?;
        ends.push(text.len());
    }
    let text = String::from_utf8(text).map_err(|e| e.to_string())?;
    Ok(Rendered { text, ends })
}

/// A writer that moves every line after the first `pad` further in. JSON strings escape
/// their line breaks, so a line break is always the printer's own, and the printer writes
/// it at the end of a write (`"\n"` or `",\n"`, then the indentation).
struct Deeper<'a> {
    out: &'a mut Vec<u8>,
    pad: &'a [u8],
}

impl std::io::Write for Deeper<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.extend_from_slice(buf);
        if buf.last() == Some(&b'\n') {
            self.out.extend_from_slice(self.pad);
        }
        Ok(buf.len())
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.write(buf).map(|_| ())
    }
    fn flush(&mut self) -> std::io::Result<()> {
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
        outer: Vec<Holder>,
    }
    #[derive(Serialize)]
    struct Holder {
        target: &'static str,
        #[serde(serialize_with = "seq")]
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
            let parallel = with_depth(4, || serde_json::to_string_pretty(&d)).expect("parallel");
            assert_eq!(parallel, plain, "{n} items");
        }
        // Outside `with_depth` the depth is unset again.
        assert_eq!(DEPTH.get(), None);
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
        let inside = with_depth(4, || serde_json::to_value(&d)).expect("value");
        assert_eq!(inside, plain);
    }
}
