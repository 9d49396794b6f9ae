//! PowerShell compatibility: reading what admins export (ConvertTo-Json, Export-Csv,
//! Export-Clixml, Format-List text) into snapshot [`Evidence`], and writing what PowerShell
//! reads back.

pub mod args;

use std::path::Path;

use crate::bundle::{ConnectEvidence, Evidence};
use crate::error::InputError;

/// Recognise one exported file (or every file in a directory) as snapshot evidence.
/// Unrecognised files give an `Evidence` whose `recognized_as` is `"unrecognized"` and a
/// data-quality note; unreadable ones give an [`InputError`].
pub fn load_evidence_path(path: &Path) -> Result<Vec<Evidence>, InputError> {
    if path.is_dir() {
        let mut out = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| InputError::new(path, "", format!("cannot list: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for f in files {
            out.extend(load_evidence_path(&f)?);
        }
        return Ok(out);
    }
    let decoded = crate::text::read_file(path)?;
    let value: serde_json::Value = crate::bundle::parse_json(path, &decoded.text)?;
    let mut ev = Evidence { source: path.to_path_buf(), recognized_as: "unrecognized".into(), ..Evidence::default() };
    let obj = match &value {
        serde_json::Value::Array(a) if a.len() == 1 => a[0].clone(),
        v => v.clone(),
    };
    if let Some(map) = obj.as_object()
        && (map.contains_key("UnifiedGroupWriteback") || map.contains_key("GroupWritebackV2"))
    {
        let mut connect = ConnectEvidence { sources: vec![path.display().to_string()], ..ConnectEvidence::default() };
        for (k, v) in map {
            if let Some(b) = v.as_bool() {
                connect.features.insert(k.clone(), b);
            }
        }
        ev.connect = connect;
        ev.recognized_as = "Get-ADSyncAADCompanyFeature".into();
    }
    Ok(vec![ev])
}

/// `gwb inspect FILE...`.
pub fn inspect(args: &args::InspectArgs, out: &mut dyn std::io::Write) -> anyhow::Result<bool> {
    let mut ok = true;
    for f in &args.files {
        match load_evidence_path(f) {
            Ok(evs) => {
                for ev in evs {
                    writeln!(out, "{}: {}", ev.source.display(), ev.recognized_as)?;
                }
            }
            Err(e) => {
                eprintln!("gwb: error: {e}");
                ok = false;
            }
        }
    }
    Ok(ok)
}
