//! The one input loader. Every command that reads a tenant and Active Directory gets them
//! here, in every combination that makes sense:
//!
//! - the tenant from a snapshot directory, an evidence zip (`gwb audit --bundle`) or live
//!   Microsoft Graph (never two of them);
//! - AD from live LDAP whenever an LDAP URL is given, also next to a snapshot (whose `ad.ldif`
//!   is then not read: a plan is made against the directory as it is now), else from the
//!   bundle's `ad.ldif`;
//! - PowerShell evidence (`connect/` and `--evidence`) merged on top, after the AD source.
//!
//! With `fingerprints`, the SHA-256 of what was read, as a plan records it.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::ad::ldif::Entry;
use crate::bundle::Snapshot;
use crate::graph::args::GraphArgs;
use crate::ldap::args::LdapArgs;
use crate::plan::model::{Fingerprint, InputSource};

/// What a command asked for.
pub struct Sources<'a> {
    /// `--snapshot`: a bundle directory or an evidence zip.
    pub snapshot: Option<&'a Path>,
    /// `--evidence` files or directories.
    pub evidence: &'a [PathBuf],
    pub graph: &'a GraphArgs,
    pub ldap: &'a LdapArgs,
    /// `--target-ou` (live discovery reads this OU; else the bundle's or tenant's container).
    pub target_ou: Option<&'a str>,
    /// Compute the SHA-256 fingerprints of the inputs (plans record them).
    pub fingerprints: bool,
    /// What the command does with them, for the message when nothing was given.
    pub purpose: Purpose,
}

/// The command the inputs are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An audit: a tenant, AD or evidence alone is enough.
    Audit,
    /// A plan: the tenant is needed.
    Plan,
}

/// Where the tenant came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantFrom {
    Directory,
    Zip,
    Graph,
    /// No tenant source (an AD-only or evidence-only audit).
    Nothing,
}

/// What was read.
pub struct Loaded {
    pub snap: Snapshot,
    /// The entries live LDAP returned (empty otherwise), which an evidence bundle keeps as
    /// `ad.ldif` so that it replays offline.
    pub live_ad: Vec<Entry>,
    pub tenant: Fingerprint,
    pub ad: Fingerprint,
    pub tenant_from: TenantFrom,
}

fn none() -> Fingerprint {
    Fingerprint {
        source: InputSource::None,
        location: None,
        sha256: None,
    }
}

/// A URL without user name, password or query (never print a credential).
pub fn safe_location(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "(unparseable URL)".to_string(),
    }
}

fn file_fingerprint(path: &Path, source: InputSource, on: bool) -> anyhow::Result<Fingerprint> {
    if !path.exists() {
        return Ok(Fingerprint {
            source: InputSource::None,
            location: Some(path.display().to_string()),
            sha256: None,
        });
    }
    Ok(Fingerprint {
        source,
        location: Some(path.display().to_string()),
        sha256: if on {
            Some(crate::digest::sha256_file(path)?)
        } else {
            None
        },
    })
}

/// Load the inputs `src` names.
pub fn load(src: &Sources) -> anyhow::Result<Loaded> {
    let live_ldap = src.ldap.ldap_url.is_some();
    if src.snapshot.is_some() && src.graph.is_live() {
        anyhow::bail!(
            "--snapshot already gives the tenant: give either --snapshot or Graph options (--tenant/--client-id, --graph-url, an access token), not both. To read AD live next to a snapshot's tenant, --ldap-url is enough"
        );
    }
    let (parts, tenant_fp, ldif_fp, tenant_from) = match src.snapshot {
        Some(path) if crate::report::evidence::is_zip(path) => {
            let (parts, digests) =
                crate::report::evidence::load_parts(path, src.evidence, !live_ldap)?;
            let fp = |sha: Option<String>, source: InputSource, name: &str| Fingerprint {
                source: if sha.is_some() {
                    source
                } else {
                    InputSource::None
                },
                location: Some(format!("{}!inputs/{name}", path.display())),
                sha256: if src.fingerprints { sha } else { None },
            };
            let t = fp(digests.tenant, InputSource::Snapshot, "tenant.json");
            let l = fp(digests.ldif, InputSource::Ldif, "ad.ldif");
            (Some(parts), t, l, TenantFrom::Zip)
        }
        Some(dir) => {
            // The fingerprints are taken side by side with the reading (the files are in the
            // page cache by then, or soon): a plan's SHA-256s cost no wall time of their own.
            let fingerprints = || -> anyhow::Result<(Fingerprint, Fingerprint)> {
                let t = file_fingerprint(
                    &dir.join("tenant.json"),
                    InputSource::Snapshot,
                    src.fingerprints,
                )?;
                let l = if live_ldap {
                    none()
                } else {
                    file_fingerprint(&dir.join("ad.ldif"), InputSource::Ldif, src.fingerprints)?
                };
                Ok((t, l))
            };
            let (parts, fps) = crate::par::join_if(
                src.fingerprints,
                || crate::snapshot::read_parts(dir, src.evidence, !live_ldap),
                fingerprints,
            );
            let parts = parts?;
            let (t, l) = fps?;
            (Some(parts), t, l, TenantFrom::Directory)
        }
        None => (None, none(), none(), TenantFrom::Nothing),
    };
    let mut tenant_from = tenant_from;
    let mut tenant_fp = tenant_fp;
    // Live Graph, when no snapshot gave the tenant.
    let mut parts = match parts {
        Some(p) => p,
        None => {
            if !src.graph.is_live() {
                match src.purpose {
                    Purpose::Plan => anyhow::bail!(
                        "nothing to plan: give --snapshot DIR (a bundle directory or an evidence zip, e.g. --snapshot fixtures/contoso), or Graph options (--tenant/--client-id or --graph-url); add --ldap-url to read AD live"
                    ),
                    Purpose::Audit if !live_ldap && src.evidence.is_empty() => anyhow::bail!(
                        "nothing to audit: give --snapshot DIR (e.g. --snapshot fixtures/contoso), live options (--tenant/--client-id or --graph-url, --ldap-url), or --evidence FILE"
                    ),
                    Purpose::Audit => {}
                }
            }
            let mut snap = Snapshot {
                origin: "live".into(),
                ..Snapshot::default()
            };
            if src.graph.is_live() {
                let value = crate::graph::collect(src.graph)?;
                if src.fingerprints {
                    let bytes =
                        serde_json::to_vec(&value).context("serialising the collected tenant")?;
                    tenant_fp = Fingerprint {
                        source: InputSource::Graph,
                        location: src.graph.graph_url.as_deref().map(safe_location),
                        sha256: Some(crate::digest::sha256_hex(&bytes)),
                    };
                } else {
                    tenant_fp.source = InputSource::Graph;
                }
                snap.tenant = serde_json::from_value(value).map_err(|e| {
                    anyhow::anyhow!("the tenant collected from Graph has an unexpected shape: {e}")
                })?;
                tenant_from = TenantFrom::Graph;
            }
            // Evidence files only (no bundle directory): read them into parts of their own.
            let mut evidence_ad = crate::ad::ldif::Entries::default();
            for f in src.evidence {
                for ev in crate::ps::load_evidence_path(f)? {
                    crate::bundle::merge_evidence(&mut snap, &mut evidence_ad, ev);
                }
            }
            crate::snapshot::Parts::new(snap, evidence_ad)
        }
    };
    let mut ad_fp = ldif_fp;
    let mut live_ad = Vec::new();
    if let Some(url) = &src.ldap.ldap_url {
        if src.snapshot.is_some() {
            tracing::info!(
                "AD is read live from {}; the bundle's ad.ldif (if any) is not used",
                safe_location(url)
            );
        }
        // The OU discovery reads: the flag, else the bundle's or tenant's configured container.
        let ou = crate::core::inputs::target_ou(&parts.snap, src.target_ou).map(|(t, _)| t);
        let refs = crate::collect::member_refs(&parts.snap.tenant);
        live_ad = crate::ldap::collect(src.ldap, ou.as_deref(), &refs)?;
        parts.snap.manifest.target_ou = ou;
        ad_fp = Fingerprint {
            source: InputSource::Ldap,
            location: Some(safe_location(url)),
            sha256: src
                .fingerprints
                .then(|| crate::digest::sha256_hex(crate::ad::ldif::write(&live_ad).as_bytes())),
        };
    }
    let snap = parts.into_snapshot(live_ldap.then_some(live_ad.as_slice()))?;
    Ok(Loaded {
        snap,
        live_ad,
        tenant: tenant_fp,
        ad: ad_fp,
        tenant_from,
    })
}

/// SHA-256 of the tenant.json a snapshot holds (a directory's file, or the one inside an
/// evidence zip); `None` when it holds none.
pub fn tenant_sha256(snapshot: &Path) -> anyhow::Result<Option<String>> {
    if crate::report::evidence::is_zip(snapshot) {
        let (_, digests) = crate::report::evidence::load_parts(snapshot, &[], false)?;
        return Ok(digests.tenant);
    }
    let p = snapshot.join("tenant.json");
    if !p.exists() {
        return Ok(None);
    }
    Ok(Some(crate::digest::sha256_file(&p)?))
}
