//! Reading an evidence bundle (`gwb audit --bundle OUT.zip`) back as a snapshot: its
//! `inputs/` are unpacked into a private temporary directory and read like a bundle directory.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::Snapshot;
use crate::error::InputError;

/// Whether a path names a zip file (by its first bytes).
pub fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    path.is_file()
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
        && magic == *b"PK\x03\x04"
}

/// Load the snapshot inside an evidence bundle; `evidence` adds files as for a directory.
pub fn load(path: &Path, evidence: &[PathBuf]) -> Result<Snapshot, InputError> {
    let file = std::fs::File::open(path).map_err(|e| InputError::new(path, "", e.to_string()))?;
    let mut z = ::zip::ZipArchive::new(file)
        .map_err(|e| InputError::new(path, "", format!("not a readable zip: {e}")))?;
    if z.by_name("manifest.json").is_err() {
        return Err(InputError::new(
            path,
            "",
            "no manifest.json: not an evidence bundle written by gwb audit --bundle",
        ));
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("gwb-evidence-{}-{stamp}", std::process::id()));
    let result = (|| {
        let mut extra = Vec::new();
        for i in 0..z.len() {
            let mut entry = z
                .by_index(i)
                .map_err(|e| InputError::new(path, format!("entry {i}"), e.to_string()))?;
            let name = entry
                .name()
                .map(|n| n.to_string())
                .map_err(|e| InputError::new(path, format!("entry {i}"), e.to_string()))?;
            let Some(rel) = name.strip_prefix("inputs/") else {
                continue;
            };
            // Only plain relative names: no absolute paths, no `..`.
            let Some(safe) = entry.enclosed_name() else {
                return Err(InputError::new(path, &name, "unsafe path in the zip"));
            };
            if entry.is_dir() || safe.components().count() == 0 {
                continue;
            }
            let target = dir.join(rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| InputError::new(&target, "", e.to_string()))?;
            }
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| InputError::new(path, &name, e.to_string()))?;
            std::fs::write(&target, &bytes)
                .map_err(|e| InputError::new(&target, "", e.to_string()))?;
            if rel.starts_with("evidence/") {
                extra.push(target);
            }
        }
        // Evidence files recorded in the bundle are read in the order they were given.
        extra.sort();
        extra.extend(evidence.iter().cloned());
        let mut snap = super::load_dir(&dir, &extra)?;
        snap.origin = path.display().to_string();
        Ok(snap)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
