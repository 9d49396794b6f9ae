//! The file-system boundary: the one durable atomic writer every output goes through, and the
//! one guarded reader every input file goes through (regular files only, a size cap).
//!
//! Writing: [`write_atomic_with`] streams into a uniquely named temporary file in the target's
//! directory (created exclusively, so two writers never share one), flushes and fsyncs it,
//! renames it over the target and fsyncs the directory, so that after a crash the target is
//! either the old file or the complete new one, never half of either.
//!
//! Reading: [`read_bytes`] refuses anything but a regular file (devices such as `/dev/zero`,
//! FIFOs, sockets, directories; a symlink is judged by what it points to) without blocking on
//! it, and reads at most [`max_input_bytes`] (default [`DEFAULT_MAX_INPUT_BYTES`], raised with
//! `--max-input-size`), checking the length on the opened file and while reading, so a file
//! that grows meanwhile is still bounded.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;

use crate::error::InputError;

/// Default upper bound on one input file: 1 GiB (a collected tenant.json with five million
/// memberships is about 1 GB).
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 1024 * 1024 * 1024;

static MAX_INPUT: AtomicU64 = AtomicU64::new(DEFAULT_MAX_INPUT_BYTES);

/// The current cap on one input file, in bytes.
pub fn max_input_bytes() -> u64 {
    MAX_INPUT.load(Ordering::Relaxed)
}

/// Set the cap on one input file (`--max-input-size`). Zero is treated as the default.
pub fn set_max_input_bytes(n: u64) {
    let n = if n == 0 { DEFAULT_MAX_INPUT_BYTES } else { n };
    MAX_INPUT.store(n, Ordering::Relaxed);
}

/// Parse a size such as `1500000`, `512M`, `2G`, `2GiB`, `700MB` (binary multiples).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (examples: 800M, 2G, 1500000)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => return Err(format!("unknown size unit {other:?} (use K, M, G or T)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// What kind of non-regular thing a path is, for the error message.
fn kind_of(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        return "a directory";
    }
    "not a regular file"
}

fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A FIFO swapped in after the check must not block the open; regular files ignore it.
        o.custom_flags(libc::O_NONBLOCK);
    }
    o.open(path)
}

/// Read a whole input file through the boundary (see the module comment).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, InputError> {
    let mut input = open_input(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(input.len).unwrap_or(0));
    input
        .file
        .read_to_end(&mut bytes)
        .map_err(|e| input.check.cannot(e))?;
    input.check.check_total(bytes.len() as u64)?;
    Ok(bytes)
}

/// An input file opened through the boundary, to be read in a stream: the same checks as
/// [`read_bytes`] (regular files only, not blocking on anything else), and never more than
/// the cap read from it (the caller ends with [`InputCheck::check_total`]).
pub struct Input {
    /// Reads at most one byte more than the cap, so going over it is seen.
    pub file: std::io::Take<std::fs::File>,
    /// The length the opened file had.
    pub len: u64,
    pub check: InputCheck,
}

/// The errors of reading one [`Input`].
pub struct InputCheck {
    path: PathBuf,
    cap: u64,
}

impl InputCheck {
    /// The error for a failed read.
    pub fn cannot(&self, e: std::io::Error) -> InputError {
        InputError::new(&self.path, "", format!("cannot read: {e}"))
    }

    /// The size-cap error when `total` bytes read are more than the cap.
    pub fn check_total(&self, total: u64) -> Result<(), InputError> {
        if total > self.cap {
            return Err(too_big(&self.path, self.cap, total));
        }
        Ok(())
    }
}

fn too_big(path: &Path, cap: u64, len: u64) -> InputError {
    InputError::new(
        path,
        "",
        format!(
            "file is {} bytes or more, larger than the {cap}-byte input limit (raise it with --max-input-size)",
            len
        ),
    )
}

/// Open an input file through the boundary (see the module comment).
pub fn open_input(path: &Path) -> Result<Input, InputError> {
    let cannot = |e: std::io::Error| InputError::new(path, "", format!("cannot read: {e}"));
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        let what = kind_of(meta.file_type());
        let hint = if meta.is_dir() {
            ", expected a file"
        } else {
            "; gwb reads only regular files (copy the data into a file first)"
        };
        return Err(InputError::new(path, "", format!("is {what}{hint}")));
    }
    let file = open_nonblocking(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(InputError::new(
            path,
            "",
            format!(
                "is {}; gwb reads only regular files",
                kind_of(meta.file_type())
            ),
        ));
    }
    let cap = max_input_bytes();
    if meta.len() > cap {
        return Err(too_big(path, cap, meta.len()));
    }
    Ok(Input {
        file: file.take(cap.saturating_add(1)),
        len: meta.len(),
        check: InputCheck {
            path: path.to_path_buf(),
            cap,
        },
    })
}

/// Tracks the directories a walk has entered by identity, not by path, so a folder with
/// symlinks (or, on Windows, junctions) to itself or a parent is walked once, not until the
/// path length runs out. On unix the identity is (device, inode); on Windows it is the final
/// path with every symlink and junction resolved (`std::fs::canonicalize`, which asks the
/// file system through GetFinalPathNameByHandle, so case and 8.3 short names cannot alias).
#[derive(Debug, Default)]
pub struct VisitedDirs {
    #[cfg(unix)]
    seen: std::collections::HashSet<(u64, u64)>,
    #[cfg(not(unix))]
    seen: std::collections::HashSet<PathBuf>,
}

impl VisitedDirs {
    /// True the first time this directory (by identity, not by path) is seen; false for one
    /// seen before or one whose identity cannot be read (it is not entered).
    pub fn first_visit(&mut self, dir: &Path) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            match std::fs::metadata(dir) {
                Ok(m) => self.seen.insert((m.dev(), m.ino())),
                Err(_) => false,
            }
        }
        #[cfg(not(unix))]
        {
            match std::fs::canonicalize(dir) {
                Ok(p) => self.seen.insert(p),
                Err(_) => false,
            }
        }
    }
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let r: u32 = rand::random();
    path.with_file_name(format!(".{name}.{}.{n}.{r:08x}.tmp~", std::process::id()))
}

/// Write a file so a crash never leaves it half-written (see [`write_atomic_with`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic_with(path, |w| Ok(w.write_all(bytes)?))
}

/// Write a file durably and atomically, streaming into it: a uniquely named temporary file
/// next to the target (created exclusively), flushed and fsynced, renamed over the target,
/// then the directory fsynced. A failure never leaves half a file or a temporary behind.
pub fn write_atomic_with(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut tmp = temp_sibling(path);
    let mut file = None;
    for _ in 0..8 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(fh) => {
                file = Some(fh);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => tmp = temp_sibling(path),
            Err(e) => {
                // Named by the file asked for: the temporary name is gwb's business.
                let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
                return Err(match parent {
                    Some(d) if !d.is_dir() => anyhow::anyhow!(
                        "cannot write {}: the directory {} does not exist",
                        path.display(),
                        d.display()
                    ),
                    _ => anyhow::anyhow!("cannot write {}: {e}", path.display()),
                });
            }
        }
    }
    let file =
        file.with_context(|| format!("no free temporary name next to {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    let result = f(&mut w)
        .and_then(|()| w.flush().map_err(anyhow::Error::from))
        .and_then(|()| {
            w.get_ref()
                .sync_all()
                .with_context(|| format!("syncing {}", tmp.display()))
        });
    drop(w);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("writing {}", path.display())));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow::Error::from(e).context(format!("renaming to {}", path.display())));
    }
    sync_parent(path).with_context(|| format!("syncing the directory of {}", path.display()))?;
    Ok(())
}

/// fsync the directory holding `path`, so the rename itself survives a crash.
///
/// On Windows there is nothing to do and nothing that could be done: a directory cannot be
/// flushed through a std handle, and NTFS logs the rename in its own metadata journal. The
/// data is durable before the rename (`sync_all` is FlushFileBuffers), and `std::fs::rename`
/// replaces the target in one step (MoveFileExW with MOVEFILE_REPLACE_EXISTING, or a POSIX-
/// semantics rename where the file system offers it), so a reader sees the old file or the new
/// one, never a mix.
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1500").unwrap(), 1500);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn same_stem_outputs_do_not_collide_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("report.json");
        let b = dir.path().join("report.html");
        // Two writes in flight at once with the same stem.
        write_atomic_with(&a, |w| {
            write_atomic(&b, b"<html/>")?;
            w.write_all(b"{}")?;
            Ok(())
        })
        .unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"{}");
        assert_eq!(std::fs::read(&b).unwrap(), b"<html/>");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        // A failing writer leaves the old file and no temporary.
        let e = write_atomic_with(&a, |w| {
            w.write_all(b"half")?;
            anyhow::bail!("boom")
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read(&a).unwrap(), b"{}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_folder_is_one_visit_whatever_the_path_says() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("exports");
        let b = a.join("sub");
        std::fs::create_dir_all(&b).unwrap();
        let mut seen = VisitedDirs::default();
        assert!(seen.first_visit(&a));
        // The same folder through `sub/..` and a trailing separator: no second visit.
        assert!(!seen.first_visit(&b.join("..")));
        let mut trailing = a.clone().into_os_string();
        trailing.push(std::path::MAIN_SEPARATOR_STR);
        assert!(!seen.first_visit(Path::new(&trailing)));
        assert!(seen.first_visit(&b));
        // A folder that does not exist is never entered.
        assert!(!seen.first_visit(&a.join("missing")));
    }

    #[cfg(windows)]
    #[test]
    fn case_and_separators_do_not_make_a_new_folder_on_windows() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("Exports");
        std::fs::create_dir(&a).unwrap();
        let mut seen = VisitedDirs::default();
        assert!(seen.first_visit(&a));
        let upper = PathBuf::from(a.to_string_lossy().to_uppercase());
        assert!(!seen.first_visit(&upper), "{}", upper.display());
        let slashed = PathBuf::from(a.to_string_lossy().replace('\\', "/"));
        assert!(!seen.first_visit(&slashed), "{}", slashed.display());
    }

    #[test]
    fn replacing_a_file_that_is_open_for_reading_replaces_it_or_fails_cleanly() {
        // Unix: the rename always replaces. Windows: std opens files with FILE_SHARE_DELETE and
        // renames with POSIX semantics where NTFS offers them (Windows 10 1809+), which replaces
        // a file another reader holds; elsewhere (older systems, Wine, a reader such as Excel
        // that opens without FILE_SHARE_DELETE) the rename is refused. Either way the old file
        // or the new one is there, whole, the error names the file, and no temporary is left.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("report.json");
        write_atomic(&p, b"old").unwrap();
        let reader = std::fs::File::open(&p).unwrap();
        let r = write_atomic(&p, b"new");
        drop(reader);
        match r {
            Ok(()) => assert_eq!(std::fs::read(&p).unwrap(), b"new"),
            Err(e) if !cfg!(windows) => panic!("{e:#}"),
            Err(e) => {
                let msg = format!("{e:#}");
                assert!(msg.contains("report.json"), "{msg}");
                assert_eq!(std::fs::read(&p).unwrap(), b"old");
            }
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_oversized_files_are_refused() {
        let e = read_bytes(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("character device"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("tenant.json");
        std::os::unix::fs::symlink("/dev/urandom", &link).unwrap();
        let e = read_bytes(&link).unwrap_err().to_string();
        assert!(e.contains("tenant.json") && e.contains("device"), "{e}");
        let fifo = dir.path().join("pipe");
        let st = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(st.success());
        let e = read_bytes(&fifo).unwrap_err().to_string();
        assert!(e.contains("FIFO"), "{e}");
    }
}
