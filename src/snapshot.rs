//! Loading a snapshot bundle directory: the bundle's own files (read by [`crate::bundle`])
//! plus Entra Connect evidence in `connect/` and `--evidence` files (read by [`crate::ps`]).
//! It sits above both so that neither depends on the other's loader.

use std::path::{Path, PathBuf};

use crate::ad::AdSnapshot;
use crate::bundle::{
    BUNDLE_FORMAT, Manifest, Snapshot, load_ldif_snapshot, load_tenant, merge_evidence, parse_json,
};
use crate::error::InputError;

/// Load a bundle directory, plus any extra evidence files given with `--evidence`.
pub fn load_dir(dir: &Path, evidence_files: &[PathBuf]) -> Result<Snapshot, InputError> {
    read_parts(dir, evidence_files, true)?.into_snapshot(None)
}

/// A bundle read in parts, so that a caller reading AD live can put its own entries first:
/// the tenant and manifest (`snap`, without AD), the AD snapshot of `ad.ldif` (when read),
/// and the AD entries the evidence files (connect/ and `--evidence`) gave.
pub struct Parts {
    pub snap: Snapshot,
    pub ldif: Option<AdSnapshot>,
    pub evidence_ad: crate::ad::ldif::Entries,
    ldif_path: PathBuf,
}

impl Parts {
    /// Parts of a snapshot that no bundle directory gave (live Graph, evidence files).
    pub fn new(snap: Snapshot, evidence_ad: crate::ad::ldif::Entries) -> Parts {
        Parts {
            snap,
            ldif: None,
            evidence_ad,
            ldif_path: PathBuf::from("--evidence"),
        }
    }

    /// The snapshot: `live` entries (from LDAP) when given, else `ad.ldif`'s; evidence entries
    /// always come after them.
    pub fn into_snapshot(
        self,
        live: Option<&[crate::ad::ldif::Entry]>,
    ) -> Result<Snapshot, InputError> {
        let Parts {
            mut snap,
            ldif,
            evidence_ad,
            ldif_path,
        } = self;
        let to_input = |e: crate::ad::ldif::LdifError| {
            InputError::new(&ldif_path, format!("line {}", e.line), e.message)
        };
        let base = match live {
            Some(entries) => Some(AdSnapshot::from_entries(entries).map_err(|e| {
                InputError::new(Path::new("LDAP"), format!("entry {}", e.line), e.message)
            })?),
            None => ldif,
        };
        match base {
            // Evidence entries come after ad.ldif's: the same snapshot as built from all of them.
            Some(mut ad) => {
                ad.add_entry_list(&evidence_ad).map_err(to_input)?;
                snap.ad = Some(ad);
            }
            None if !evidence_ad.is_empty() => {
                snap.ad = Some(AdSnapshot::from_entry_list(&evidence_ad).map_err(to_input)?);
            }
            None => {}
        }
        Ok(snap)
    }
}

/// Read a bundle directory's parts; `read_ldif: false` leaves its `ad.ldif` unread (AD is
/// read live instead).
pub fn read_parts(
    dir: &Path,
    evidence_files: &[PathBuf],
    with_ldif: bool,
) -> Result<Parts, InputError> {
    if !dir.exists() {
        return Err(InputError::new(dir, "", "no such directory"));
    }
    if !dir.is_dir() {
        return Err(InputError::new(
            dir,
            "",
            "is not a directory (a snapshot bundle is a directory)",
        ));
    }
    let holds = ["tenant.json", "ad.ldif", "bundle.json", "connect"]
        .iter()
        .any(|f| dir.join(f).exists());
    if !holds && evidence_files.is_empty() {
        return Err(InputError::new(
            dir,
            "",
            "is not a snapshot bundle: it holds none of tenant.json (the cloud side), ad.ldif (the AD side), bundle.json (the manifest) or connect/ (Entra Connect exports); make one with gwb collect --out DIR, or try --snapshot fixtures/contoso",
        ));
    }
    let mut snap = Snapshot {
        origin: dir.display().to_string(),
        ..Snapshot::default()
    };
    let manifest_path = dir.join("bundle.json");
    if manifest_path.exists() {
        let text = crate::text::read_file(&manifest_path)?.text;
        let m: Manifest = parse_json(&manifest_path, &text)?;
        if let Some(f) = &m.format
            && f != BUNDLE_FORMAT
        {
            return Err(InputError::new(
                &manifest_path,
                "$.format",
                format!("unknown format {f:?}; this gwb reads {BUNDLE_FORMAT:?}"),
            ));
        }
        snap.manifest = m;
    }
    let tenant_path = dir.join("tenant.json");
    let ldif_path = dir.join("ad.ldif");
    // Side by side: the two files are independent, and on a large bundle ad.ldif's users
    // take a good part of tenant.json's time.
    let timed = |what: &str, started: std::time::Instant| {
        tracing::debug!("{what} read in {:.2?}", started.elapsed());
    };
    let read_ldif = || {
        let started = std::time::Instant::now();
        let r = load_ldif_snapshot(&ldif_path);
        timed("ad.ldif", started);
        r
    };
    let (tenant, ldif) = std::thread::scope(|scope| {
        let ldif = (with_ldif && ldif_path.exists())
            .then(|| std::thread::Builder::new().spawn_scoped(scope, read_ldif));
        let started = std::time::Instant::now();
        let tenant = tenant_path
            .exists()
            .then(|| load_tenant(&tenant_path))
            .transpose();
        timed("tenant.json", started);
        let ldif = ldif
            .map(|h| match h {
                Ok(h) => h
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // No second thread: read it here, after tenant.json.
                Err(_) => read_ldif(),
            })
            .transpose();
        (tenant, ldif)
    });
    if let Some(t) = tenant? {
        snap.tenant = t;
    }
    // Entries from evidence files; ad.ldif's are folded into its snapshot as they are read.
    let mut ad_entries = crate::ad::ldif::Entries::default();
    let ad_from_ldif = ldif?;
    let mut evidence = Vec::new();
    let connect_dir = dir.join("connect");
    if connect_dir.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&connect_dir)
            .map_err(|e| InputError::new(&connect_dir, "", format!("cannot list: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for f in files {
            evidence.extend(crate::ps::load_evidence_path(&f)?);
        }
    }
    for f in evidence_files {
        evidence.extend(crate::ps::load_evidence_path(f)?);
    }
    for ev in evidence {
        merge_evidence(&mut snap, &mut ad_entries, ev);
    }
    Ok(Parts {
        snap,
        ldif: ad_from_ldif,
        evidence_ad: ad_entries,
        ldif_path,
    })
}
