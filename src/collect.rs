//! `gwb collect`: run the Graph and LDAP collectors and write a snapshot bundle directory.

use anyhow::Context;

use crate::ad::ldif;
use crate::bundle::{BUNDLE_FORMAT, Manifest};
use crate::cli::CollectArgs;

// Derivations that live with the bundle, kept under these names for existing callers.
pub use crate::bundle::{member_refs, now_rfc3339};

/// Run the collectors and write the bundle. Returns whether every section completed.
pub fn run(args: &CollectArgs) -> anyhow::Result<bool> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut complete = true;
    let mut refs = None;
    let mut wrote = Vec::new();
    if args.graph.is_live() {
        // The Graph collector streams tenant.json to disk (a million memberships are never
        // held as one JSON document) and updates it in place with --incremental.
        let want_refs = args.ldap.ldap_url.is_some();
        let outcome =
            crate::graph::collect_bundle(&args.graph, &args.out, args.incremental, want_refs)?;
        complete &= outcome.complete;
        refs = Some(outcome.refs);
        wrote.push(format!(
            "Wrote {}, {} to {}{}",
            count(outcome.groups, "group"),
            count(outcome.memberships, "membership"),
            outcome.doc_path.display(),
            if outcome.complete {
                ""
            } else {
                " (incomplete: see the warnings above)"
            }
        ));
    }
    let mut manifest = Manifest {
        format: Some(BUNDLE_FORMAT.into()),
        target_ou: args.target_ou.clone(),
        ..Manifest::default()
    };
    if args.ldap.ldap_url.is_some() {
        let refs = refs.clone().unwrap_or_default();
        let entries = crate::ldap::collect(&args.ldap, args.target_ou.as_deref(), &refs)?;
        let path = args.out.join("ad.ldif");
        write_atomic(&path, ldif::write(&entries).as_bytes())?;
        wrote.push(format!(
            "Wrote {} to {}",
            count(entries.len(), "AD object"),
            path.display()
        ));
    }
    if refs.is_none() && args.ldap.ldap_url.is_none() {
        anyhow::bail!(
            "nothing to collect: give Graph options (--tenant/--client-id or --graph-url) and/or --ldap-url"
        );
    }
    manifest.collected_at = Some(now_rfc3339());
    if !complete {
        manifest.incomplete_sections.push("tenant".into());
    }
    let manifest_path = args.out.join("bundle.json");
    write_atomic(
        &manifest_path,
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    wrote.push(format!("Wrote {}", manifest_path.display()));
    // What was written, on stdout (the command's only output).
    {
        use std::io::Write;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for line in &wrote {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
    }
    Ok(complete)
}

/// `1 group`, `2 groups`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

// The durable atomic writer lives in `fsio`; these names stay for existing callers.
pub use crate::fsio::{write_atomic, write_atomic_with};
