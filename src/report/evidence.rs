//! `gwb audit --bundle OUT.zip`: the evidence for a change record. The inputs exactly as read
//! (secrets excluded) with their SHA-256, gwb's version, the command line (secret values
//! redacted), the policy and gate, and the report as json and html. `gwb audit --snapshot
//! OUT.zip` reads the inputs back (unpacked into a private temporary directory and read like
//! a bundle directory) and gives the same verdict offline.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use std::io::Read;

use crate::ad::ldif::Entry;
use crate::audit::Report;
use crate::bundle::Snapshot;
use crate::error::InputError;

pub const EVIDENCE_FORMAT: &str = "gwb-evidence/1";

pub use crate::digest::sha256_hex;

/// The command line with the values of secret-bearing flags replaced.
pub fn redacted_command_line() -> Vec<String> {
    let secret = |a: &str| {
        let a = a.to_ascii_lowercase();
        a.starts_with("--")
            && ["secret", "password", "token", "key"]
                .iter()
                .any(|w| a.contains(w))
    };
    let mut out = Vec::new();
    let mut hide_next = false;
    for a in std::env::args() {
        if hide_next {
            out.push("<redacted>".into());
            hide_next = false;
            continue;
        }
        if secret(&a) {
            if let Some((flag, _)) = a.split_once('=') {
                out.push(format!("{flag}=<redacted>"));
            } else {
                out.push(a);
                hide_next = true;
            }
            continue;
        }
        out.push(a);
    }
    out
}

/// Files that never go into a bundle: key material.
fn is_secret_file(p: &Path) -> bool {
    let name = p
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    [".pfx", ".p12", ".key", ".pem", ".env"]
        .iter()
        .any(|e| name.ends_with(e))
        || name.contains("secret")
        || name.contains("password")
}

/// (name in the zip, bytes) of every input the snapshot was read from.
fn inputs(
    snap: &Snapshot,
    live_ad: &[Entry],
    evidence: &[PathBuf],
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let dir = Path::new(&snap.origin);
    if snap.origin != "live" && dir.is_dir() {
        for name in ["bundle.json", "tenant.json", "ad.ldif"] {
            let p = dir.join(name);
            if p.is_file() {
                files.push((format!("inputs/{name}"), std::fs::read(&p)?));
            }
        }
        let connect = dir.join("connect");
        if connect.is_dir() {
            let mut list: Vec<PathBuf> = std::fs::read_dir(&connect)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && !is_secret_file(p))
                .collect();
            list.sort();
            for p in list {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("file");
                files.push((format!("inputs/connect/{name}"), std::fs::read(&p)?));
            }
        }
    } else {
        // Collected live: the tenant and AD as gwb read them, and the target OU it was given,
        // so that the bundle replays offline to the same verdict.
        if let Some(ou) = &snap.manifest.target_ou {
            let mut text = serde_json::to_vec_pretty(&json!({
                "format": crate::bundle::BUNDLE_FORMAT,
                "targetOu": ou,
            }))?;
            text.push(b'\n');
            files.push(("inputs/bundle.json".into(), text));
        }
        let mut text = serde_json::to_vec_pretty(&snap.tenant)?;
        text.push(b'\n');
        files.push(("inputs/tenant.json".into(), text));
        if !live_ad.is_empty() {
            files.push((
                "inputs/ad.ldif".into(),
                crate::ad::ldif::write(live_ad).into_bytes(),
            ));
        }
    }
    for (i, p) in evidence.iter().enumerate() {
        if is_secret_file(p) {
            continue;
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("evidence");
        files.push((
            format!("inputs/evidence/{:02}-{name}", i + 1),
            std::fs::read(p)?,
        ));
    }
    Ok(files)
}

/// Write the evidence bundle.
pub fn write_bundle(
    path: &Path,
    snap: &Snapshot,
    live_ad: &[Entry],
    report: &Report,
    evidence: &[PathBuf],
    waivers: Option<&Path>,
) -> anyhow::Result<()> {
    let mut files = inputs(snap, live_ad, evidence)?;
    if let Some(w) = waivers {
        let name = w.file_name().and_then(|n| n.to_str()).unwrap_or("waivers");
        files.push((format!("waivers/{name}"), std::fs::read(w)?));
    }
    let mut json_report = serde_json::to_vec_pretty(report)?;
    json_report.push(b'\n');
    files.push(("report/audit.json".into(), json_report));
    files.push((
        "report/audit.html".into(),
        super::html::render(report).into_bytes(),
    ));
    let listed: Vec<serde_json::Value> = files
        .iter()
        .map(|(n, b)| json!({"path": n, "sha256": sha256_hex(b), "bytes": b.len()}))
        .collect();
    let manifest = json!({
        "format": EVIDENCE_FORMAT,
        "gwbVersion": report.gwb_version,
        "generatedAt": report.generated_at,
        "asOf": report.as_of,
        "commandLine": redacted_command_line(),
        "snapshot": report.snapshot,
        "policy": report.policy,
        "overrides": report.overrides,
        "gate": report.gate,
        "verdicts": report.verdicts,
        "files": listed,
    });
    let mut sums = String::new();
    for (n, b) in &files {
        sums.push_str(&format!("{}  {n}\n", sha256_hex(b)));
    }
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    manifest_bytes.push(b'\n');
    crate::collect::write_atomic_with(path, |out| {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            z.start_file("manifest.json", opts)?;
            z.write_all(&manifest_bytes)?;
            z.start_file("SHA256SUMS", opts)?;
            z.write_all(sums.as_bytes())?;
            for (n, b) in &files {
                z.start_file(n.as_str(), opts)?;
                z.write_all(b)?;
            }
            z.finish()?;
        }
        out.write_all(buf.get_ref())?;
        Ok(())
    })
}

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
    load_parts(path, evidence, true)?.0.into_snapshot(None)
}

/// SHA-256 of the bundle files inside an evidence zip, as they were stored.
#[derive(Debug, Default, Clone)]
pub struct ZipDigests {
    pub tenant: Option<String>,
    pub ldif: Option<String>,
}

/// [`load`] in parts (see [`crate::snapshot::Parts`]); `read_ldif: false` leaves the zip's
/// `ad.ldif` unread. Also the digests of its tenant.json and ad.ldif.
pub fn load_parts(
    path: &Path,
    evidence: &[PathBuf],
    read_ldif: bool,
) -> Result<(crate::snapshot::Parts, ZipDigests), InputError> {
    let mut digests = ZipDigests::default();
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
            if rel == "ad.ldif" && !read_ldif {
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
            match rel {
                "tenant.json" => digests.tenant = Some(crate::digest::sha256_hex(&bytes)),
                "ad.ldif" => digests.ldif = Some(crate::digest::sha256_hex(&bytes)),
                _ => {}
            }
            std::fs::write(&target, &bytes)
                .map_err(|e| InputError::new(&target, "", e.to_string()))?;
            if rel.starts_with("evidence/") {
                extra.push(target);
            }
        }
        // Evidence files recorded in the bundle are read in the order they were given.
        extra.sort();
        extra.extend(evidence.iter().cloned());
        let mut parts = crate::snapshot::read_parts(&dir, &extra, read_ldif)?;
        parts.snap.origin = path.display().to_string();
        Ok((parts, digests))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
