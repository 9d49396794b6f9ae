//! PowerShell compatibility: reading what admins export (ConvertTo-Json, Export-Csv,
//! Export-Clixml, Format-List text, the Get-ADSyncServerConfiguration and EntraExporter
//! folders) into snapshot [`Evidence`], and writing what PowerShell reads back (CLIXML).
//! Formats are told apart by content, never by file name alone.

pub mod args;
pub mod clixml;
pub mod csv;
pub mod json;
pub mod list;
pub mod recognize;
pub mod tree;
pub mod value;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::bundle::{DataQuality, Evidence};
use crate::error::InputError;
use crate::text::Encoding;
use recognize::{Findings, UNRECOGNIZED};

/// Deepest folder nesting walked when a directory is given.
const MAX_DIR_DEPTH: usize = 8;
/// Most files read from one directory tree.
const MAX_FILES: usize = 1_000_000;
/// Most data-quality notes of one kind per file (then a summary).
const MAX_NOTES: usize = 25;

/// One file (or recognised folder) after reading: what it was, how it was encoded, the
/// objects in it and the evidence they give.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub source: PathBuf,
    pub encoding: Option<Encoding>,
    /// `json`, `csv`, `clixml`, `format-list`, `format-table`, `folder`, `xml`, `text`.
    pub format: String,
    pub objects: Objects,
    /// Type names per object, as the file recorded them (CLIXML `TN`, CSV `#TYPE`); data only.
    pub type_names: TypeNames,
    pub evidence: Evidence,
}

/// The objects of one file: JSON values, a compact tree of them (JSON and CLIXML exports),
/// or an Export-Csv table (kept as a table). Tree records and table rows become JSON values
/// only while they are read or printed.
#[derive(Debug, Clone)]
pub enum Objects {
    Values(Vec<Value>),
    Tree(tree::Tree),
    Table(csv::Table),
}

impl Objects {
    pub fn len(&self) -> usize {
        match self {
            Objects::Values(v) => v.len(),
            Objects::Tree(t) => t.len(),
            Objects::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One object (a table row made into a JSON object).
    pub fn get(&self, i: usize) -> Option<std::borrow::Cow<'_, Value>> {
        match self {
            Objects::Values(v) => v.get(i).map(std::borrow::Cow::Borrowed),
            Objects::Tree(t) => t.value(i).map(std::borrow::Cow::Owned),
            Objects::Table(t) => {
                (i < t.len()).then(|| std::borrow::Cow::Owned(Value::Object(t.row_object(i))))
            }
        }
    }

    /// The objects as the recognizers read them.
    pub fn records(&self) -> recognize::Records<'_> {
        match self {
            Objects::Values(v) => recognize::Records::Values(v),
            Objects::Tree(t) => recognize::Records::Tree(t),
            Objects::Table(t) => recognize::Records::Table(t),
        }
    }
}

impl serde::Serialize for Objects {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Objects::Values(v) => v.serialize(s),
            Objects::Tree(t) => t.json().serialize(s),
            Objects::Table(t) => t.rows_json().serialize(s),
        }
    }
}

/// Type names per object: a list per object (CLIXML), or one list every object shares
/// (an Export-Csv `#TYPE` line), kept once.
#[derive(Debug, Clone, Default)]
pub enum TypeNames {
    #[default]
    None,
    PerObject(Vec<Vec<String>>),
    Every {
        names: Vec<String>,
        count: usize,
    },
}

impl serde::Serialize for TypeNames {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        match self {
            TypeNames::None => s.serialize_seq(Some(0))?.end(),
            TypeNames::PerObject(v) => v.serialize(s),
            TypeNames::Every { names, count } => {
                let mut seq = s.serialize_seq(Some(*count))?;
                for _ in 0..*count {
                    seq.serialize_element(names)?;
                }
                seq.end()
            }
        }
    }
}

/// Recognise one exported file (or every file in a directory) as snapshot evidence.
/// Unrecognised files give an `Evidence` whose `recognized_as` is `"unrecognized"` and a
/// data-quality note; unreadable ones give an [`InputError`].
pub fn load_evidence_path(path: &Path) -> Result<Vec<Evidence>, InputError> {
    if !path.exists() {
        return Err(InputError::new(path, "", "no such file or directory"));
    }
    if !path.is_dir() {
        return Ok(analyze_path(path)?
            .into_iter()
            .map(|a| a.evidence)
            .collect());
    }
    // A folder: the exports in it are read; each file that cannot be read is listed as
    // skipped, with why, and the rest still counts.
    let (found, errors) = analyze_path_keep_going(path);
    for e in &errors {
        warn_once(format!("skipped {e}"));
    }
    Ok(found.into_iter().map(|a| a.evidence).collect())
}

/// Warn once per run: a folder read twice (the plan reads `--evidence` again for its delete
/// proof) lists each skipped file once.
fn warn_once(line: String) {
    static SEEN: std::sync::Mutex<Option<std::collections::HashSet<String>>> =
        std::sync::Mutex::new(None);
    let first = match SEEN.lock() {
        Ok(mut seen) => seen
            .get_or_insert_with(Default::default)
            .insert(line.clone()),
        Err(_) => true,
    };
    if first {
        tracing::warn!("{line}");
    }
}

/// Why a file is not a PowerShell export gwb reads, when it can tell without reading it as
/// one: an LDIF file, a document gwb itself writes (a bundle's tenant.json or bundle.json, a
/// plan, a report), or a kind of file no export is (scripts, documents, archives).
pub fn not_an_export(path: &Path) -> Option<String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if ext == "ldif" {
        return Some(LDIF_NOT_READ.into());
    }
    if matches!(
        ext.as_str(),
        "py" | "sh"
            | "md"
            | "toml"
            | "html"
            | "htm"
            | "zip"
            | "rs"
            | "yml"
            | "yaml"
            | "ps1"
            | "pdf"
    ) {
        return Some(format!(
            "a .{ext} file, not a PowerShell export (gwb reads JSON, CLIXML, CSV and text exports)"
        ));
    }
    // The first bytes say the rest: LDIF, or a gwb document.
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&head[..n]);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with("dn:") || text.starts_with("version: 1") || text.starts_with("dn::") {
        return Some(LDIF_NOT_READ.into());
    }
    if let Some(rest) = text.strip_prefix('{')
        && let Some(i) = rest.find("\"format\"")
        && rest[..i].trim().is_empty()
    {
        let after = &rest[i + 8..];
        let value = after
            .trim_start()
            .strip_prefix(':')
            .map(str::trim_start)
            .and_then(|v| v.strip_prefix('"'))
            .and_then(|v| v.split('"').next())
            .unwrap_or_default();
        if value.starts_with("gwb-") {
            let hint = match value.split('/').next().unwrap_or_default() {
                "gwb-tenant" | "gwb-bundle" => "; give the bundle's directory with --snapshot DIR",
                _ => "",
            };
            return Some(format!(
                "a {value} document gwb writes, not a PowerShell export{hint}"
            ));
        }
    }
    None
}

const LDIF_NOT_READ: &str = "an LDIF file of AD entries, not a PowerShell export: gwb reads it as a bundle's ad.ldif (--snapshot DIR)";

/// Read a file or folder into analyses; the first unreadable file is the error.
pub fn analyze_path(path: &Path) -> Result<Vec<Analysis>, InputError> {
    let mut w = Walk {
        budget: MAX_FILES,
        keep_going: false,
        errors: Vec::new(),
        visited: crate::fsio::VisitedDirs::default(),
    };
    analyze_path_inner(path, 0, &mut w)
}

/// Read a file or folder, carrying on past unreadable files inside folders: the analyses
/// that worked and the errors of those that did not (for `gwb inspect`).
pub fn analyze_path_keep_going(path: &Path) -> (Vec<Analysis>, Vec<InputError>) {
    let mut w = Walk {
        budget: MAX_FILES,
        keep_going: true,
        errors: Vec::new(),
        visited: crate::fsio::VisitedDirs::default(),
    };
    match analyze_path_inner(path, 0, &mut w) {
        Ok(a) => (a, w.errors),
        Err(e) => {
            w.errors.push(e);
            (Vec::new(), w.errors)
        }
    }
}

struct Walk {
    budget: usize,
    keep_going: bool,
    errors: Vec<InputError>,
    /// Folders entered so far, by identity: a symlink back to a parent is read once.
    visited: crate::fsio::VisitedDirs,
}

impl Walk {
    fn child(
        &mut self,
        path: &Path,
        depth: usize,
        out: &mut Vec<Analysis>,
        keep: impl Fn(&Analysis) -> bool,
    ) -> Result<(), InputError> {
        match analyze_path_inner(path, depth, self) {
            Ok(found) => out.extend(found.into_iter().filter(|a| keep(a))),
            Err(e) if self.keep_going && self.budget > 0 => self.errors.push(e),
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

fn analyze_path_inner(
    path: &Path,
    depth: usize,
    w: &mut Walk,
) -> Result<Vec<Analysis>, InputError> {
    let budget = &mut w.budget;
    if !path.is_dir() {
        if *budget == 0 {
            return Err(InputError::new(
                path,
                "",
                format!("more than {MAX_FILES} files under the folder given"),
            ));
        }
        *budget -= 1;
        if let Some(why) = not_an_export(path) {
            if depth == 0 {
                return Err(InputError::new(path, "", format!("not read: {why}")));
            }
            // Inside a folder: listed as skipped, and the rest is read.
            warn_once(format!("skipped {}: {why}", path.display()));
            return Ok(Vec::new());
        }
        return Ok(vec![analyze_file(path)?]);
    }
    if depth > MAX_DIR_DEPTH {
        return Err(InputError::new(
            path,
            "",
            format!("folders nested deeper than {MAX_DIR_DEPTH} levels"),
        ));
    }
    if !w.visited.first_visit(path) {
        tracing::warn!(
            "{}: this folder was already read through another path (a symlink loop?); skipped",
            path.display()
        );
        return Ok(Vec::new());
    }
    if let Some(groups_dir) = child_dir(path, "Groups")
        && has_subdirs(&groups_dir)
    {
        return entra_exporter(path, &groups_dir, w);
    }
    if let Some(gs) = global_settings_file(path) {
        return server_configuration(path, &gs);
    }
    let mut out = Vec::new();
    for f in list_dir(path)? {
        w.child(&f, depth + 1, &mut out, |_| true)?;
    }
    Ok(out)
}

fn list_dir(path: &Path) -> Result<Vec<PathBuf>, InputError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| InputError::new(path, "", format!("cannot list: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn child_dir(dir: &Path, name: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
}

fn has_subdirs(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).any(|e| e.path().is_dir()))
        .unwrap_or(false)
}

fn is_json_file(p: &Path) -> bool {
    p.is_file()
        && p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// `GlobalSettings.json` directly in the folder or in its `GlobalSettings/` subfolder.
fn global_settings_file(dir: &Path) -> Option<PathBuf> {
    let find = |d: &Path| -> Option<PathBuf> {
        std::fs::read_dir(d)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.eq_ignore_ascii_case("GlobalSettings.json"))
            })
    };
    find(dir).or_else(|| child_dir(dir, "GlobalSettings").and_then(|d| find(&d)))
}

/// A `Get-ADSyncServerConfiguration -Path` folder: the connect facts come from its GlobalSettings.json.
fn server_configuration(dir: &Path, gs: &Path) -> Result<Vec<Analysis>, InputError> {
    let mut a = analyze_file(gs)?;
    if a.evidence.recognized_as == "Get-ADSyncGlobalSettings" {
        a.evidence.recognized_as = "Get-ADSyncServerConfiguration".into();
    }
    a.evidence.source = dir.to_path_buf();
    a.format = "folder".into();
    Ok(vec![a])
}

/// An EntraExporter folder: `Groups/<id>/<id>.json`, members under `Groups/<id>/Members/`
/// (one JSON per member, or `Members.json`), and other exported objects elsewhere.
fn entra_exporter(
    dir: &Path,
    groups_dir: &Path,
    w: &mut Walk,
) -> Result<Vec<Analysis>, InputError> {
    let budget = &mut w.budget;
    let mut groups_json = Vec::new();
    let mut quality = Vec::new();
    for gdir in list_dir(groups_dir)?.into_iter().filter(|p| p.is_dir()) {
        let id = gdir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let files = list_dir(&gdir)?;
        let main = files
            .iter()
            .find(|p| {
                is_json_file(p)
                    && p.file_stem()
                        .and_then(|s| s.to_str())
                        .is_some_and(|s| s.eq_ignore_ascii_case(&id))
            })
            .or_else(|| {
                files.iter().find(|p| {
                    is_json_file(p)
                        && !p
                            .file_stem()
                            .is_some_and(|s| s.eq_ignore_ascii_case("Members"))
                })
            });
        let Some(main) = main else {
            quality.push(DataQuality {
                code: "lost-data".into(),
                file: gdir.display().to_string(),
                place: String::new(),
                message: "group folder without a group JSON file; skipped".into(),
            });
            continue;
        };
        *budget = budget.saturating_sub(1);
        let text = crate::text::read_file(main)?.text;
        let mut recs = json::parse(main, &text)?;
        let Some(mut g) = recs.drain(..).next() else {
            continue;
        };
        // Members: a Members/ folder of JSON files, or Members.json.
        let mut members: Option<Vec<Value>> = None;
        if let Some(mdir) = child_dir(&gdir, "Members") {
            let mut ms = Vec::new();
            for mf in list_dir(&mdir)?.into_iter().filter(|p| is_json_file(p)) {
                if *budget == 0 {
                    return Err(InputError::new(
                        &mf,
                        "",
                        format!("more than {MAX_FILES} files under the folder given"),
                    ));
                }
                *budget -= 1;
                let t = crate::text::read_file(&mf)?.text;
                ms.extend(json::parse(&mf, &t)?);
            }
            members = Some(ms);
        } else if let Some(mf) = files.iter().find(|p| {
            is_json_file(p)
                && p.file_stem()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Members"))
        }) {
            let t = crate::text::read_file(mf)?.text;
            members = Some(json::parse(mf, &t)?);
        }
        if let (Some(ms), Value::Object(m)) = (members, &mut g) {
            m.insert("members".into(), Value::Array(ms));
        }
        groups_json.push(g);
    }
    let mut f: Findings = recognize::recognize(groups_dir, &groups_json);
    quality.extend(json::find_lost(
        &groups_json,
        groups_dir,
        "depth-truncated",
        MAX_NOTES,
    ));
    quality.append(&mut f.quality);
    f.quality = quality;
    f.recognized_as = "EntraExporter".into();
    if f.tenant.groups.is_none() {
        f.tenant.groups = Some(Vec::new());
    }
    let mut out = vec![Analysis {
        source: dir.to_path_buf(),
        encoding: None,
        format: "folder".into(),
        objects: Objects::Values(groups_json),
        type_names: TypeNames::None,
        evidence: f.into_evidence(dir),
    }];
    // The rest of the export that can hold evidence (SubscribedSkus, settings,
    // OnPremisesSynchronization …), kept only where recognised. Users, devices, applications
    // and the like are not read: a large tenant has hundreds of thousands of them.
    for child in list_dir(dir)? {
        if child == groups_dir {
            continue;
        }
        let name = child.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if child.is_dir()
            && !ENTRA_EXPORTER_EVIDENCE_DIRS
                .iter()
                .any(|d| d.eq_ignore_ascii_case(name))
        {
            continue;
        }
        w.child(&child, 1, &mut out, |a| {
            a.evidence.recognized_as != UNRECOGNIZED
        })?;
    }
    Ok(out)
}

/// EntraExporter folders besides `Groups/` that may hold evidence gwb reads.
const ENTRA_EXPORTER_EVIDENCE_DIRS: [&str; 7] = [
    "Directory",
    "Organization",
    "SubscribedSkus",
    "Settings",
    "DirectorySettings",
    "GroupSettings",
    "OnPremisesSynchronization",
];

/// Which reader a file's content calls for.
fn sniff(text: &str) -> &'static str {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.is_empty() {
        "json"
    } else if clixml::looks_like(t) {
        "clixml"
    } else if t.starts_with('{') || t.starts_with('[') {
        "json"
    } else if t.starts_with('<') {
        "xml"
    } else if list::looks_like_table(t) {
        "format-table"
    } else if list::looks_like(t) {
        "format-list"
    } else if csv::looks_like(t) {
        "csv"
    } else {
        "text"
    }
}

/// Read, decode, parse and recognise one file.
pub fn analyze_file(path: &Path) -> Result<Analysis, InputError> {
    let decoded = crate::text::read_file(path)?;
    let mut quality: Vec<DataQuality> = decoded
        .warnings
        .iter()
        .map(|w| DataQuality {
            code: if decoded.encoding == Encoding::Windows1252 {
                "encoding-fallback"
            } else {
                "encoding"
            }
            .into(),
            file: path.display().to_string(),
            place: String::new(),
            message: w.clone(),
        })
        .collect();
    if decoded.text.contains('\0') {
        return Err(InputError::new(
            path,
            nul_place(&decoded.text),
            "NUL character in text: binary data, or a mis-detected encoding",
        ));
    }
    if let Some(place) = mojibake(&decoded.text) {
        quality.push(DataQuality {
            code: "mojibake".into(),
            file: path.display().to_string(),
            place,
            message: "text looks double-encoded (UTF-8 that was read as Windows-1252 before it was exported, e.g. \"Ã¼\" for \"ü\"); values are kept exactly as written".into(),
        });
    }
    let format = sniff(&decoded.text);
    let mut type_names = TypeNames::None;
    let records: Objects = match format {
        "clixml" => {
            let doc = clixml::parse_tree(path, &decoded.text)?;
            type_names = TypeNames::PerObject(doc.type_names);
            for (place, message) in doc.notes {
                quality.push(DataQuality {
                    code: "clixml".into(),
                    file: path.display().to_string(),
                    place,
                    message,
                });
            }
            Objects::Tree(doc.tree)
        }
        "json" => Objects::Tree(json::parse_tree(path, &decoded.text)?),
        "csv" => {
            let table = csv::parse(path, &decoded.text)?;
            if let Some(t) = &table.type_name {
                type_names = TypeNames::Every {
                    names: vec![t.clone()],
                    count: table.len(),
                };
            }
            quality.extend(json::find_lost_table(&table, path, "lost-data", MAX_NOTES));
            Objects::Table(table)
        }
        "format-list" => Objects::Values(list::parse(&decoded.text)),
        "format-table" => {
            let (rows, notes) = list::parse_table(&decoded.text);
            for (place, message) in notes {
                quality.push(DataQuality {
                    code: "lost-data".into(),
                    file: path.display().to_string(),
                    place,
                    message,
                });
            }
            Objects::Values(rows)
        }
        _ => Objects::Values(Vec::new()),
    };
    // Values that an export's -Depth cut off, in a JSON or CLIXML document.
    if let Objects::Tree(tree) = &records {
        quality.extend(json::find_lost_tree(
            tree,
            path,
            "depth-truncated",
            MAX_NOTES,
        ));
    }
    // The records hold everything from here on; free the text before recognising.
    let encoding = decoded.encoding;
    drop(decoded);
    let mut f = if format == "xml" || format == "text" {
        let mut f = Findings {
            recognized_as: UNRECOGNIZED.into(),
            ..Findings::default()
        };
        f.quality.push(DataQuality {
            code: UNRECOGNIZED.into(),
            file: path.display().to_string(),
            place: String::new(),
            message: if format == "xml" {
                "XML that is not CLIXML (no <Objs> root); not an export gwb reads".into()
            } else {
                "not JSON, CSV, CLIXML or Format-List text".into()
            },
        });
        f
    } else {
        let lost_code = if matches!(format, "json" | "clixml") {
            "depth-truncated"
        } else {
            "lost-data"
        };
        recognize::recognize_records(path, records.records(), lost_code)
    };
    quality.append(&mut f.quality);
    f.quality = quality;
    Ok(Analysis {
        source: path.to_path_buf(),
        encoding: Some(encoding),
        format: format.into(),
        objects: records,
        type_names,
        evidence: f.into_evidence(path),
    })
}

/// Where the text first looks like UTF-8 decoded as Windows-1252 (`Ã¼`, `â€”`, `Â `).
fn mojibake(text: &str) -> Option<String> {
    let mut prev: Option<char> = None;
    let mut line = 1;
    for c in text.chars() {
        if c == '\n' {
            line += 1;
        }
        if let Some(p) = prev {
            let second = c as u32;
            let suspicious = matches!(p, 'Ã' | 'Â') && (0x80..=0xBF).contains(&second)
                || p == 'â' && (c == '€' || c == '\u{201A}' || c == '\u{201E}');
            if suspicious {
                return Some(format!("line {line}"));
            }
        }
        prev = Some(c);
    }
    None
}

fn nul_place(text: &str) -> String {
    let idx = text.find('\0').unwrap_or(0);
    let line = text[..idx].matches('\n').count() + 1;
    format!("line {line}")
}

fn encoding_name(e: Option<Encoding>) -> String {
    match e {
        None => "-".into(),
        Some(e) => serde_json::to_value(e)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
    }
}

/// The JSON record `gwb inspect --format json` prints per file (borrowing the objects, so
/// printing a large export does not copy it).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectRecord<'a> {
    pub file: String,
    pub encoding: String,
    pub format: &'a str,
    pub recognized_as: &'a str,
    pub objects: &'a Objects,
    pub type_names: &'a TypeNames,
    pub evidence: EvidenceSummary<'a>,
    pub data_quality: &'a [DataQuality],
}

pub fn inspect_record(a: &Analysis) -> InspectRecord<'_> {
    InspectRecord {
        file: a.source.display().to_string(),
        encoding: encoding_name(a.encoding),
        format: &a.format,
        recognized_as: &a.evidence.recognized_as,
        objects: &a.objects,
        type_names: &a.type_names,
        evidence: EvidenceSummary {
            head: evidence_summary(&a.evidence),
            ad_entries: &a.evidence.ad_entries,
        },
        data_quality: &a.evidence.quality,
    }
}

fn evidence_summary(ev: &Evidence) -> Value {
    let mut m = serde_json::Map::new();
    if !ev.connect.is_empty() {
        m.insert(
            "connect".into(),
            serde_json::to_value(&ev.connect).unwrap_or(Value::Null),
        );
    }
    let t = &ev.tenant;
    if let Some(g) = &t.groups {
        m.insert("groups".into(), Value::from(g.len()));
    }
    if let Some(s) = &t.settings {
        m.insert("settings".into(), Value::from(s.len()));
    }
    if let Some(s) = &t.subscribed_skus {
        m.insert("subscribedSkus".into(), Value::from(s.len()));
    }
    if !t.incomplete_sections.is_empty() {
        m.insert(
            "incompleteSections".into(),
            Value::from(t.incomplete_sections.clone()),
        );
    }
    if t.on_premises_synchronization.is_some() {
        m.insert("onPremisesSynchronization".into(), Value::Bool(true));
    }
    Value::Object(m)
}

/// What `gwb inspect --format json` prints as a file's evidence: the summary, then the DNs
/// of its AD entries, written from the entries (not copied into a JSON value first).
pub struct EvidenceSummary<'a> {
    head: Value,
    ad_entries: &'a crate::ad::ldif::Entries,
}

struct Dns<'a>(&'a crate::ad::ldif::Entries);

impl serde::Serialize for Dns<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.dns())
    }
}

impl serde::Serialize for EvidenceSummary<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let head = self.head.as_object();
        let n = head.map_or(0, Map::len) + usize::from(!self.ad_entries.is_empty());
        let mut map = s.serialize_map(Some(n))?;
        for (k, v) in head.into_iter().flatten() {
            map.serialize_entry(k, v)?;
        }
        if !self.ad_entries.is_empty() {
            map.serialize_entry("adEntries", &Dns(self.ad_entries))?;
        }
        map.end()
    }
}

/// The start of the JSON list of the entries' DNs, as [`cell`] shows it (it never shows
/// more than 100 characters, so the list is not written out in full).
fn dns_cell(entries: &crate::ad::ldif::Entries) -> String {
    let mut s = String::from("[");
    for (i, dn) in entries.dns().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&serde_json::to_string(&dn).unwrap_or_default());
        if s.chars().count() > 100 {
            return cell_text(s);
        }
    }
    s.push(']');
    cell_text(s)
}

fn cell(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    cell_text(s)
}

/// A line cut to `width` characters, ending in `…` when cut.
fn fit(line: String, width: usize) -> String {
    if line.chars().count() <= width {
        return line;
    }
    let mut cut: String = line.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A sentence wrapped at word boundaries to `width` characters; continuation lines are
/// indented by `indent` spaces. A word longer than a line is cut.
fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let lead: String = text.chars().take_while(|c| *c == ' ').collect();
    let mut lines = Vec::new();
    let mut cur = lead.clone();
    let mut empty = true;
    for word in text.split_whitespace() {
        let sep = usize::from(!empty);
        if !empty && cur.chars().count() + sep + word.chars().count() > width {
            lines.push(std::mem::replace(&mut cur, " ".repeat(indent)));
            empty = true;
        }
        if !empty {
            cur.push(' ');
        }
        cur.push_str(word);
        empty = false;
    }
    if !empty {
        lines.push(cur);
    }
    lines.into_iter().map(|l| fit(l, width)).collect()
}

fn cell_text(s: String) -> String {
    let one_line = s.replace('\n', "\\n");
    if one_line.chars().count() > 100 {
        one_line.chars().take(97).collect::<String>() + "..."
    } else {
        one_line
    }
}

/// `gwb inspect FILE...`: what each file was recognised as, its objects and data-quality
/// findings. Returns `false` when a file could not be read (the caller exits 2).
pub fn inspect(args: &args::InspectArgs, out: &mut dyn std::io::Write) -> anyhow::Result<bool> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let ok = inspect_to(args, &mut out)?;
    std::io::Write::flush(&mut out)?;
    Ok(ok)
}

fn inspect_to(args: &args::InspectArgs, out: &mut dyn std::io::Write) -> anyhow::Result<bool> {
    let mut ok = true;
    let mut analyses = Vec::new();
    for f in &args.files {
        let (found, errors) = analyze_path_keep_going(f);
        analyses.extend(found);
        for e in errors {
            tracing::error!("{e}");
            ok = false;
        }
    }
    if !ok {
        // A failed command writes nothing on stdout (a pipeline must not read half a result).
        return Ok(false);
    }
    if args.format == args::InspectFormat::Json {
        let records: Vec<InspectRecord<'_>> = analyses.iter().map(inspect_record).collect();
        serde_json::to_writer_pretty(&mut *out, &records)?;
        writeln!(out)?;
    } else if !analyses.is_empty() {
        write!(out, "{}", summary_table(&analyses))?;
        for a in &analyses {
            write_details(a, out)?;
        }
    }
    Ok(ok)
}

fn summary_table(analyses: &[Analysis]) -> String {
    use comfy_table::{ContentArrangement, Table, presets};
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .force_no_tty();
    t.set_width(crate::term::stdout_width());
    t.set_header(vec![
        "File",
        "Recognized as",
        "Format",
        "Encoding",
        "Objects",
        "Data quality",
    ]);
    for a in analyses {
        let notes = if a.evidence.quality.is_empty() {
            "-".to_string()
        } else {
            let mut codes: Vec<&str> = a.evidence.quality.iter().map(|q| q.code.as_str()).collect();
            codes.sort_unstable();
            codes.dedup();
            format!("{} ({})", a.evidence.quality.len(), codes.join(", "))
        };
        t.add_row(vec![
            a.source.display().to_string(),
            a.evidence.recognized_as.clone(),
            a.format.clone(),
            encoding_name(a.encoding),
            a.objects.len().to_string(),
            notes,
        ]);
    }
    format!("{t}\n")
}

fn write_details(a: &Analysis, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let w = usize::from(crate::term::stdout_width());
    writeln!(out)?;
    let head = format!("== {} ({})", a.source.display(), a.evidence.recognized_as);
    for line in wrap(&head, w, 3) {
        writeln!(out, "{line}")?;
    }
    let summary = evidence_summary(&a.evidence);
    if let Value::Object(m) = &summary {
        for (k, v) in m {
            match v {
                Value::Object(inner) if k == "connect" => {
                    for (ik, iv) in inner.iter().filter(|(ik, iv)| {
                        *ik != "sources"
                            && !iv.is_null()
                            && iv.as_object().is_none_or(|o| !o.is_empty())
                    }) {
                        writeln!(
                            out,
                            "{}",
                            fit(format!("  evidence.connect.{ik} : {}", cell(iv)), w)
                        )?;
                    }
                }
                _ => writeln!(out, "{}", fit(format!("  evidence.{k} : {}", cell(v)), w))?,
            }
        }
    }
    if !a.evidence.ad_entries.is_empty() {
        writeln!(
            out,
            "{}",
            fit(
                format!(
                    "  evidence.adEntries : {}",
                    dns_cell(&a.evidence.ad_entries)
                ),
                w
            )
        )?;
    }
    const SHOWN: usize = 20;
    for i in 0..a.objects.len().min(SHOWN) {
        let Some(o) = a.objects.get(i) else { break };
        writeln!(out, "  [{i}]")?;
        match &*o {
            Value::Object(m) => {
                let width = m
                    .keys()
                    .map(|k| k.chars().count())
                    .max()
                    .unwrap_or(0)
                    .min(40);
                for (k, v) in m.iter().take(60) {
                    writeln!(out, "{}", fit(format!("    {k:<width$} : {}", cell(v)), w))?;
                }
                if m.len() > 60 {
                    writeln!(
                        out,
                        "    ... {} more properties (use --format json)",
                        m.len() - 60
                    )?;
                }
            }
            other => writeln!(out, "{}", fit(format!("    {}", cell(other)), w))?,
        }
    }
    if a.objects.len() > SHOWN {
        writeln!(
            out,
            "  ... {} more objects (use --format json)",
            a.objects.len() - SHOWN
        )?;
    }
    if !a.evidence.quality.is_empty() {
        writeln!(out, "  data quality:")?;
        for q in &a.evidence.quality {
            let place = if q.place.is_empty() {
                String::new()
            } else {
                format!(" {}", q.place)
            };
            for line in wrap(&format!("    [{}]{}: {}", q.code, place, q.message), w, 6) {
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The records as JSON values and as a compact tree read, note and print the same.
    fn same_by_tree(f: &Path, values: &[Value], tree: &tree::Tree) {
        assert_eq!(tree.to_values(), values);
        assert_eq!(
            serde_json::to_string_pretty(&tree.json()).ok(),
            serde_json::to_string_pretty(values).ok()
        );
        assert_eq!(
            format!("{:?}", json::find_lost(values, f, "depth-truncated", 5)),
            format!("{:?}", json::find_lost_tree(tree, f, "depth-truncated", 5))
        );
        let by_value = recognize::recognize(f, values);
        let by_tree =
            recognize::recognize_records(f, recognize::Records::Tree(tree), "depth-truncated");
        assert_eq!(format!("{by_value:?}"), format!("{by_tree:?}"));
    }

    /// The JSON and CLIXML readers, into values and into a tree, on one text.
    fn json_and_clixml_by_tree(f: &Path, text: &str) {
        match (clixml::parse_json(f, text), clixml::parse_tree(f, text)) {
            (Ok(d), Ok(t)) => {
                same_by_tree(f, &d.values, &t.tree);
                assert_eq!(d.type_names, t.type_names);
                assert_eq!(d.notes, t.notes);
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("clixml: {:?} vs {:?}", a.map(|_| ()), b.map(|_| ())),
        }
        match (json::parse(f, text), json::parse_tree(f, text)) {
            (Ok(v), Ok(t)) => same_by_tree(f, &v, &t),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("json: {:?} vs {:?}", a.map(|_| ()), b.map(|_| ())),
        }
    }

    #[test]
    fn fixtures_read_the_same_as_values_and_as_a_tree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut dirs = vec![root];
        let mut n = 0;
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if let Ok(decoded) = crate::text::read_file(&p) {
                    if matches!(sniff(&decoded.text), "json" | "clixml") {
                        n += 1;
                    }
                    json_and_clixml_by_tree(&p, &decoded.text);
                }
            }
        }
        assert!(n > 20, "{n} JSON and CLIXML fixtures");
    }

    /// Every reader and the recognizers on one decoded text, as `analyze_file` runs them.
    fn run_all(text: &str) {
        let f = Path::new("fuzz");
        let _ = sniff(text);
        let _ = mojibake(text);
        json_and_clixml_by_tree(f, text);
        if let Ok(t) = csv::parse(f, text) {
            // The table and its rows made into values are read the same way.
            let values = t.records();
            let by_value = recognize::recognize_with(f, &values, "lost-data");
            let by_table =
                recognize::recognize_records(f, recognize::Records::Table(&t), "lost-data");
            assert_eq!(format!("{by_value:?}"), format!("{by_table:?}"));
            assert_eq!(
                serde_json::to_string(&t.rows_json()).ok(),
                serde_json::to_string(&values).ok()
            );
            assert_eq!(
                format!("{:?}", json::find_lost(&values, f, "lost-data", 5)),
                format!("{:?}", json::find_lost_table(&t, f, "lost-data", 5))
            );
        }
        let _ = recognize::recognize(f, &list::parse(text));
        let _ = recognize::recognize(f, &list::parse_table(text).0);
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            run_all(&crate::text::decode(&bytes).text);
        }

        #[test]
        fn export_shaped_text_never_panics(parts in proptest::collection::vec(prop_oneof![
            Just("\"DistinguishedName\""), Just("\"GroupScope\""), Just("\"CN=x,DC=y\""), Just("\"Universal\""),
            Just(","), Just(";"), Just("\n"), Just("\""), Just("#TYPE X\n"), Just("{"), Just("}"), Just("["), Just("]"),
            Just(":"), Just(" : "), Just("\"Id\""), Just("\"0f8e9a1c-1111-4222-8333-944455556666\""), Just("\"Members\""),
            Just("\"System.Object[]\""), Just("\"groupTypes\""), Just("\"UnifiedGroupWriteback\""), Just("true"), Just("null"),
            Just("\"Parameters\""), Just("\"Name\""), Just("\"Value\""), Just("1"), Just("\"\\/Date(1)\\/\""),
        ], 0..60)) {
            run_all(&parts.concat());
        }
    }

    #[test]
    fn sniffing_by_content() {
        assert_eq!(sniff(""), "json");
        assert_eq!(sniff("  [1]"), "json");
        assert_eq!(sniff("#< CLIXML\n<Objs/>"), "clixml");
        assert_eq!(sniff("<?xml version=\"1.0\"?><Objs/>"), "clixml");
        assert_eq!(sniff("<html/>"), "xml");
        assert_eq!(sniff("#TYPE X\n\"A\",\"B\"\n"), "csv");
        assert_eq!(sniff("A;B\n1;2\n"), "csv");
        assert_eq!(sniff("UnifiedGroupWriteback : True\n"), "format-list");
        assert_eq!(sniff("A   B\n--- ---\n1   2\n"), "format-table");
        assert_eq!(sniff("hello world"), "text");
        assert_eq!(mojibake("a\nMÃ¼ller").as_deref(), Some("line 2"));
        assert_eq!(mojibake("Müller — ok"), None);
    }
}
