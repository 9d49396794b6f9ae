//! The apply journal, format `gwb-journal/1`: one append-only JSON-lines file per run, flushed
//! and fsynced before and after every LDAP write, so that a crash leaves a record of exactly
//! which operations happened (a `begin` without its `end` is unknown and resolved by a
//! re-read). Stable API, documented in docs/executor.md ("Journal"); `gwb undo` reads it.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The `format` value of the first record of every journal this version writes and reads.
pub const JOURNAL_FORMAT: &str = "gwb-journal/1";

/// The default journal directory (`--journal-dir`).
pub const DEFAULT_DIR: &str = "gwb-journal";

/// One line of a journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Record {
    /// The first line: what run this is.
    Run(RunRecord),
    /// Written and fsynced before a write is sent.
    Begin(BeginRecord),
    /// Written and fsynced after the write ended (success, already done, or failure).
    End(EndRecord),
    /// The last line of a run that finished (absent after a crash).
    Summary(SummaryRecord),
}

/// The run header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    /// Always [`JOURNAL_FORMAT`].
    pub format: String,
    pub gwb_version: String,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// The plan file (when one was given) and the SHA-256 of the plan as applied.
    pub plan_path: Option<String>,
    pub plan_sha256: String,
    pub target_ou: String,
    /// The DC's LDAP URL.
    pub dc: String,
}

/// One attribute's change in a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttrRecord {
    pub attr: String,
    /// `add`, `delete` or `replace` (LDAP modify kinds; `add` also for the attributes of a
    /// created object).
    pub kind: String,
    /// Values before the write (all values of the attribute; for `member`, see `values`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Vec<String>>,
    /// Values after the write (all values of the attribute; for `member`, see `values`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Vec<String>>,
    /// For `member`: the values this write adds or deletes (the delta, not the whole list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// A write about to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BeginRecord {
    /// 1, 2, 3, … within the run; the `end` record carries the same number.
    pub seq: u64,
    pub at: String,
    /// `add`, `modify`, `modrdn` or `delete`.
    pub op: String,
    /// The Entra objectId of the group.
    pub group_id: String,
    /// The object's DN before the write (for `add`, the DN it is created at).
    pub dn: String,
    /// The DN after a `modrdn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_dn: Option<String>,
    /// `None` for an `add` (the `end` record names the new object's objectGUID).
    pub object_guid: Option<Uuid>,
    pub changes: Vec<AttrRecord>,
    /// The write adopts a converted group's original AD object (found by objectSid): the
    /// object was not gwb's before, and `gwb undo` restores it as it was.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopted: bool,
}

/// How a write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The DC answered success.
    Applied,
    /// The directory already held the effect (confirmed by a re-read).
    AlreadyDone,
    /// The write did not happen (see `error`).
    Failed,
}

/// The end of a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndRecord {
    pub seq: u64,
    pub at: String,
    pub outcome: Outcome,
    /// The object's objectGUID after the write (set for a created object).
    pub object_guid: Option<Uuid>,
    /// The LDAP result code of a failure, when the DC answered one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rc: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Requests sent (retries included).
    pub attempts: u32,
}

/// The closing record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SummaryRecord {
    pub finished_at: String,
    pub applied: usize,
    pub already_done: usize,
    pub failed: usize,
    /// The objects the run wrote, as they are after its last write (one search of the target
    /// OU at the end of the run): `gwb undo` puts their uSNChanged into the inverse plan, so
    /// that an undo of objects changed since is refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<AfterState>,
}

/// One object as a run left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AfterState {
    pub object_guid: Uuid,
    pub dn: String,
    pub usn_changed: u64,
}

/// An open journal being written.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    seq: u64,
}

/// Errors reading a journal (`gwb undo`), naming the file and line.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {message}")]
    Bad {
        path: String,
        line: usize,
        message: String,
    },
}

fn file_name(now: time::OffsetDateTime, n: usize) -> String {
    let base = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    );
    if n == 0 {
        format!("{base}.jsonl")
    } else {
        format!("{base}-{n}.jsonl")
    }
}

impl Journal {
    /// Create a new journal file in `dir` (created if missing), named by the UTC time, and
    /// write its run record.
    pub fn create(dir: &Path, mut run: RunRecord) -> std::io::Result<Journal> {
        std::fs::create_dir_all(dir)?;
        let now = time::OffsetDateTime::now_utc();
        let mut n = 0;
        let (file, path) = loop {
            let path = dir.join(file_name(now, n));
            match OpenOptions::new().append(true).create_new(true).open(&path) {
                Ok(f) => break (f, path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(e),
            }
        };
        run.format = JOURNAL_FORMAT.to_string();
        let mut j = Journal { file, path, seq: 0 };
        j.append(&Record::Run(run))?;
        // The directory entry itself, so the file survives a crash.
        #[cfg(unix)]
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(j)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn append(&mut self, rec: &Record) -> std::io::Result<()> {
        self.append_unsynced(rec)?;
        self.sync()
    }

    fn append_unsynced(&mut self, rec: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(rec).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.flush()
    }

    /// fsync what was written: after [`Journal::begin_unsynced`] before any of those writes is
    /// sent, and after [`Journal::end_unsynced`].
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync_data()
    }

    /// [`Journal::begin`] for several writes at once: call [`Journal::sync`] before sending them.
    pub fn begin_unsynced(&mut self, mut rec: BeginRecord) -> std::io::Result<u64> {
        self.seq += 1;
        rec.seq = self.seq;
        rec.at = crate::collect::now_rfc3339();
        self.append_unsynced(&Record::Begin(rec))?;
        Ok(self.seq)
    }

    /// [`Journal::end`] for several writes at once: call [`Journal::sync`] afterwards.
    pub fn end_unsynced(&mut self, mut rec: EndRecord) -> std::io::Result<()> {
        rec.at = crate::collect::now_rfc3339();
        self.append_unsynced(&Record::End(rec))
    }

    /// Record a write about to be sent; returns its sequence number.
    pub fn begin(&mut self, mut rec: BeginRecord) -> std::io::Result<u64> {
        self.seq += 1;
        rec.seq = self.seq;
        rec.at = crate::collect::now_rfc3339();
        self.append(&Record::Begin(rec))?;
        Ok(self.seq)
    }

    /// Record how write `seq` ended.
    pub fn end(&mut self, mut rec: EndRecord) -> std::io::Result<()> {
        rec.at = crate::collect::now_rfc3339();
        self.append(&Record::End(rec))
    }

    /// Close the run with its counts.
    pub fn finish(&mut self, mut rec: SummaryRecord) -> std::io::Result<()> {
        rec.finished_at = crate::collect::now_rfc3339();
        self.append(&Record::Summary(rec))
    }
}

/// Read a journal. A torn last line (a crash while writing it) is dropped; any other bad line
/// is an error naming the line.
pub fn read(path: &Path) -> Result<Vec<Record>, JournalError> {
    let p = path.display().to_string();
    let file = File::open(path).map_err(|source| JournalError::Io {
        path: p.clone(),
        source,
    })?;
    let lines: Vec<String> = std::io::BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|source| JournalError::Io {
            path: p.clone(),
            source,
        })?;
    let not_journal = |why: String| JournalError::Bad {
        path: p.clone(),
        line: 1,
        message: format!(
            "not a gwb journal: {why} (gwb undo reads the *.jsonl journal gwb apply writes, gwb-journal/ by default)"
        ),
    };
    let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) else {
        return Err(not_journal("the file is empty".into()));
    };
    if serde_json::from_str::<Record>(&lines[first]).is_err() {
        // Say what it is when it is another gwb document (a plan, a report).
        let whole = lines.join("\n");
        let format = serde_json::from_str::<serde_json::Value>(&whole)
            .ok()
            .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(str::to_string));
        return Err(not_journal(match format {
            Some(f) => format!("this is a {f} document"),
            None => format!(
                "its line {} is not a {JOURNAL_FORMAT} run record",
                first + 1
            ),
        }));
    }
    let mut out = Vec::new();
    let last = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => out.push(r),
            Err(_) if i + 1 == last => break,
            Err(e) => {
                return Err(JournalError::Bad {
                    path: p,
                    line: i + 1,
                    message: e.to_string(),
                });
            }
        }
    }
    match out.first() {
        Some(Record::Run(r)) if r.format == JOURNAL_FORMAT => Ok(out),
        Some(Record::Run(r)) => Err(JournalError::Bad {
            path: p,
            line: 1,
            message: format!(
                "journal format {:?} is not supported (this gwb reads {JOURNAL_FORMAT:?})",
                r.format
            ),
        }),
        _ => Err(JournalError::Bad {
            path: p,
            line: 1,
            message: format!("not a gwb journal (no {JOURNAL_FORMAT} run record)"),
        }),
    }
}

/// The writes of a journal whose `begin` has no `end`: unknown, to be resolved by a re-read.
pub fn unfinished(records: &[Record]) -> Vec<&BeginRecord> {
    let ended: std::collections::HashSet<u64> = records
        .iter()
        .filter_map(|r| match r {
            Record::End(e) => Some(e.seq),
            _ => None,
        })
        .collect();
    records
        .iter()
        .filter_map(|r| match r {
            Record::Begin(b) if !ended.contains(&b.seq) => Some(b),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> RunRecord {
        RunRecord {
            format: String::new(),
            gwb_version: "0.1.0".into(),
            started_at: "2026-12-01T09:00:00Z".into(),
            plan_path: Some("plan.json".into()),
            plan_sha256: "ab".into(),
            target_ou: "OU=WB,DC=lab".into(),
            dc: "ldaps://dc1".into(),
        }
    }

    #[test]
    fn writes_and_reads_back_a_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::create(dir.path(), run()).unwrap();
        let name = j.path().file_name().unwrap().to_string_lossy().to_string();
        assert!(
            name.ends_with("Z.jsonl") && name.starts_with("20"),
            "{name}"
        );
        let seq = j
            .begin(BeginRecord {
                seq: 0,
                at: String::new(),
                op: "add".into(),
                group_id: "g1".into(),
                dn: "CN=g1,OU=WB,DC=lab".into(),
                new_dn: None,
                object_guid: None,
                adopted: false,
                changes: vec![AttrRecord {
                    attr: "displayName".into(),
                    kind: "add".into(),
                    before: None,
                    after: Some(vec!["G1".into()]),
                    values: vec![],
                }],
            })
            .unwrap();
        assert_eq!(seq, 1);
        let seq2 = j
            .begin(BeginRecord {
                seq: 0,
                at: String::new(),
                op: "delete".into(),
                group_id: "g2".into(),
                dn: "CN=g2,OU=WB,DC=lab".into(),
                new_dn: None,
                object_guid: Some(Uuid::nil()),
                adopted: false,
                changes: vec![],
            })
            .unwrap();
        j.end(EndRecord {
            seq,
            at: String::new(),
            outcome: Outcome::Applied,
            object_guid: Some(Uuid::nil()),
            rc: None,
            error: None,
            attempts: 1,
        })
        .unwrap();
        let path = j.path().to_path_buf();
        drop(j);
        // A crash in the middle of a line: the torn line is dropped.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"type\":\"end\",\"se").unwrap();
        let recs = read(&path).unwrap();
        assert_eq!(recs.len(), 4);
        let open = unfinished(&recs);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].seq, seq2);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\"type\":\"run\",\"format\":\"gwb-journal/1\""));
        // A second journal in the same millisecond gets its own file.
        let j2 = Journal::create(dir.path(), run()).unwrap();
        assert_ne!(j2.path(), path);
    }

    #[test]
    fn bad_journals_are_refused_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        std::fs::write(&p, "{\"type\":\"summary\"}\n").unwrap();
        assert!(read(&p).unwrap_err().to_string().contains("line 1"));
        std::fs::write(
            &p,
            "{\"type\":\"run\",\"format\":\"gwb-journal/1\",\"gwbVersion\":\"x\",\"startedAt\":\"t\",\"planPath\":null,\"planSha256\":\"\",\"targetOu\":\"o\",\"dc\":\"d\"}\nnot json\n{}\n",
        )
        .unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
    }
}
