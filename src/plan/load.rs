//! Reading a plan's inputs: a snapshot bundle or live Graph and LDAP, their SHA-256
//! fingerprints, the duplicate-id check, the partial-evidence check and, with live Graph, the
//! per-id GET that proves a hard delete. Then the pure [`super::diff::build`].

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::ad::{AdSnapshot, ldif};
use crate::bundle::Snapshot;
use crate::graph::args::GraphArgs;

use super::args::PlanInputArgs;
use super::dedupe::{Conflict, dedupe_groups};
use super::diff::{PlanOptions, build_with};
use super::model::*;

/// Lower-case hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SHA-256 of a file, streamed (a 200 MB tenant.json is never held twice).
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    Ok(hex(ctx.finish().as_ref()))
}

fn file_fingerprint(path: &Path, source: InputSource) -> anyhow::Result<Fingerprint> {
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
        sha256: Some(sha256_file(path)?),
    })
}

/// A URL without user name, password or query (never print a credential).
fn safe_location(url: &str) -> String {
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

/// The loaded inputs, ready for the pure builder.
pub struct Loaded {
    pub snapshot: Snapshot,
    pub inputs: PlanInputs,
    pub partial_evidence: Option<String>,
}

/// Load a snapshot bundle or live Graph / LDAP, with fingerprints.
pub fn load(args: &PlanInputArgs) -> anyhow::Result<Loaded> {
    let target_flag = args.policy.target_ou.as_deref();
    let mut loaded = if let Some(dir) = &args.snapshot {
        if args.graph.is_live() || args.ldap.ldap_url.is_some() {
            anyhow::bail!(
                "give either --snapshot DIR or live options (Graph / --ldap-url), not both"
            );
        }
        let snapshot = crate::snapshot::load_dir(dir, &args.evidence)?;
        let tenant = file_fingerprint(&dir.join("tenant.json"), InputSource::Snapshot)?;
        let ad = file_fingerprint(&dir.join("ad.ldif"), InputSource::Ldif)?;
        Loaded {
            inputs: PlanInputs {
                tenant_id: snapshot.tenant.tenant_id.clone(),
                tenant,
                ad,
            },
            snapshot,
            partial_evidence: None,
        }
    } else {
        load_live(args, target_flag)?
    };
    check_duplicates(&mut loaded.snapshot, args)?;
    loaded.partial_evidence = partial_evidence(&args.evidence)?;
    Ok(loaded)
}

fn load_live(args: &PlanInputArgs, target_flag: Option<&str>) -> anyhow::Result<Loaded> {
    if !args.graph.is_live() {
        anyhow::bail!(
            "nothing to plan: give --snapshot DIR (e.g. --snapshot fixtures/contoso), or live options (--tenant/--client-id or --graph-url, and --ldap-url)"
        );
    }
    let mut snap = Snapshot {
        origin: "live".into(),
        ..Snapshot::default()
    };
    let value = crate::graph::collect(&args.graph)?;
    let bytes = serde_json::to_vec(&value).context("serialising the collected tenant")?;
    let tenant_fp = Fingerprint {
        source: InputSource::Graph,
        location: args.graph.graph_url.as_deref().map(safe_location),
        sha256: Some(sha256_hex(&bytes)),
    };
    drop(bytes);
    snap.tenant = serde_json::from_value(value).map_err(|e| {
        anyhow::anyhow!("the tenant collected from Graph has an unexpected shape: {e}")
    })?;
    let mut entries = Vec::new();
    let mut ad_fp = Fingerprint {
        source: InputSource::None,
        location: None,
        sha256: None,
    };
    if let Some(url) = &args.ldap.ldap_url {
        // The OU discovery reads: the flag, else the tenant's configured container.
        let ou = crate::core::inputs::target_ou(&snap, target_flag).map(|(t, _)| t);
        let refs = crate::collect::member_refs(&snap.tenant);
        entries = crate::ldap::collect(&args.ldap, ou.as_deref(), &refs)?;
        snap.manifest.target_ou = ou;
        ad_fp = Fingerprint {
            source: InputSource::Ldap,
            location: Some(safe_location(url)),
            sha256: Some(sha256_hex(ldif::write(&entries).as_bytes())),
        };
    }
    for f in &args.evidence {
        for ev in crate::ps::load_evidence_path(f)? {
            crate::bundle::merge_evidence(&mut snap, &mut entries, ev);
        }
    }
    if !entries.is_empty() {
        snap.ad = Some(
            AdSnapshot::from_entries(&entries)
                .map_err(|e| anyhow::anyhow!("AD data: line {}: {}", e.line, e.message))?,
        );
    }
    Ok(Loaded {
        inputs: PlanInputs {
            tenant_id: snap.tenant.tenant_id.clone(),
            tenant: tenant_fp,
            ad: ad_fp,
        },
        snapshot: snap,
        partial_evidence: None,
    })
}

/// Groups from `--evidence` exports never prove a deletion.
fn partial_evidence(files: &[PathBuf]) -> anyhow::Result<Option<String>> {
    for f in files {
        for ev in crate::ps::load_evidence_path(f)? {
            if ev.tenant.groups.is_some() {
                return Ok(Some(format!(
                    "groups were read from the export {} (--evidence), which may be partial",
                    f.display()
                )));
            }
        }
    }
    Ok(None)
}

/// Merge identical duplicate groups; differing ones are an input error naming both places.
fn check_duplicates(snap: &mut Snapshot, args: &PlanInputArgs) -> anyhow::Result<()> {
    match dedupe_groups(&mut snap.tenant) {
        Ok(0) => Ok(()),
        Ok(n) => {
            tracing::info!("{n} identical duplicate group record(s) merged");
            Ok(())
        }
        Err(Conflict { id, first, second }) => {
            let n0 = match &args.snapshot {
                Some(dir) if dir.join("tenant.json").exists() => {
                    crate::bundle::load_tenant(&dir.join("tenant.json"))?
                        .groups
                        .map_or(0, |g| g.len())
                }
                Some(_) => 0,
                None => snap.tenant.groups.as_ref().map_or(0, |g| g.len()),
            };
            let export = args
                .evidence
                .iter()
                .find(|f| {
                    crate::ps::load_evidence_path(f).is_ok_and(|evs| {
                        evs.iter().any(|ev| {
                            ev.tenant
                                .groups
                                .iter()
                                .flatten()
                                .any(|g| g.id.eq_ignore_ascii_case(&id))
                        })
                    })
                })
                .map(|f| f.display().to_string());
            let place = |i: usize| {
                if i < n0 {
                    format!("tenant.json $.groups[{i}]")
                } else {
                    match &export {
                        Some(f) => format!("the export {f}"),
                        None => "an evidence export".to_string(),
                    }
                }
            };
            anyhow::bail!(
                "group {id} is listed twice with different contents: {} and {}; remove one (or re-collect) so the plan has one record per group",
                place(first),
                place(second)
            )
        }
    }
}

/// Ask Graph for each id; the ones answering 404 are proven hard-deleted.
fn graph_absent(args: &GraphArgs, ids: &[String]) -> anyhow::Result<HashSet<String>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let (client, _) = crate::graph::connect(args).await?;
        absent_ids(&client, ids).await
    })
}

/// The ids a per-id GET answers 404 for (the proof a hard delete needs); any other error fails.
/// Shared by `gwb plan` and `gwb sync`.
pub async fn absent_ids(
    client: &crate::graph::client::GraphClient,
    ids: &[String],
) -> anyhow::Result<HashSet<String>> {
    let mut absent = HashSet::new();
    for id in ids {
        match client
            .get(&format!("/beta/groups/{id}?$select=id"), &[])
            .await
        {
            Err(e) if e.status == Some(404) => {
                absent.insert(id.clone());
            }
            Ok(_) => {}
            Err(e) => anyhow::bail!("checking that group {id} is gone from Entra ID: {e}"),
        }
    }
    Ok(absent)
}

/// Load, check and plan: `gwb plan`'s whole job, shared by apply and sync.
pub fn make_plan(args: &PlanInputArgs) -> anyhow::Result<Plan> {
    let mut args = args.clone();
    let cfg = crate::config::load_into_plan(&mut args)?;
    make_plan_with(&args, &cfg.overrides)
}

/// [`make_plan`] with arguments already merged with the configuration, and its overrides.
pub fn make_plan_with(
    args: &PlanInputArgs,
    overrides: &crate::core::overrides::Overrides,
) -> anyhow::Result<Plan> {
    let loaded = load(args)?;
    let prepared =
        crate::core::inputs::prepare(&loaded.snapshot, args.policy.target_ou.as_deref())?;
    let mut opts = PlanOptions {
        policy: PlanPolicy {
            deletion: args.policy.deletion,
            member_limit: args.policy.member_limit,
            cn_format: args.policy.cn_format,
            max_deletes: args.max_deletes,
        },
        inputs: loaded.inputs.clone(),
        created_at: crate::collect::now_rfc3339(),
        partial_evidence: loaded.partial_evidence.clone(),
        graph_absent: None,
    };
    let plan = build_with(&loaded.snapshot, &prepared, &opts, overrides)?;
    if args.snapshot.is_some() {
        // The snapshot is not needed past here: freed alongside the rendering.
        crate::background::drop_later(loaded);
        return Ok(plan);
    }
    // Live Graph: every hard delete needs a GET answering 404.
    let candidates: Vec<String> = plan
        .groups
        .iter()
        .filter(|g| g.delete_proof == Some(DeleteProof::CompleteSnapshot))
        .map(|g| g.id.clone())
        .collect();
    opts.graph_absent = Some(if candidates.is_empty() {
        HashSet::new()
    } else {
        graph_absent(&args.graph, &candidates)?
    });
    Ok(build_with(&loaded.snapshot, &prepared, &opts, overrides)?)
}

/// A saved plan that is not the plan that was made, or not the approved one: an input error
/// (exit 2), raised before any connection.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {why}")]
pub struct PlanRefused {
    pub path: String,
    pub why: String,
}

/// Read a saved plan and check it is the plan that was made: its digest, each group's and
/// each section's, and its summary against its actions (the summary is then always the one
/// derived from the actions).
pub fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let text = crate::text::read_file(path)?.text;
    let name = path.display().to_string();
    let mut plan = Plan::from_json(&text, &name)?;
    if plan.sha256.is_none() {
        return Err(PlanRefused {
            path: name,
            why: "refused: the plan carries no sha256 (made by an older gwb, or the field was removed), so it cannot be shown to be the plan that was made: make it again with gwb plan --out FILE".into(),
        }
        .into());
    }
    if let Some(d) = plan.first_difference() {
        return Err(PlanRefused {
            path: name,
            why: format!("refused: the plan was changed after it was made: {d}"),
        }
        .into());
    }
    plan.summary = Summary::of(&plan.groups);
    Ok(plan)
}

/// Refuse any plan but the approved one (`--expect-sha256`, gwb.toml `apply.expect-sha256`).
pub fn check_expected(plan: &Plan, path: &Path, expected: &str) -> Result<(), PlanRefused> {
    check_expected_digest(plan.sha256.as_deref(), path, expected)
}

/// [`check_expected`] for any sealed plan's digest (`gwb-plan/1` and tenant plans).
pub fn check_expected_digest(
    have: Option<&str>,
    path: &Path,
    expected: &str,
) -> Result<(), PlanRefused> {
    let want = expected.trim().to_ascii_lowercase();
    let valid = want.len() == 64 && want.bytes().all(|b| b.is_ascii_hexdigit());
    let name = path.display().to_string();
    if !valid {
        return Err(PlanRefused {
            path: name,
            why: format!(
                "--expect-sha256 {expected:?} is not a SHA-256 (64 hexadecimal characters)"
            ),
        });
    }
    match have {
        Some(have) if have == want => Ok(()),
        have => Err(PlanRefused {
            path: name,
            why: format!(
                "refused: this plan has sha256 {}, not the approved {want} (--expect-sha256): apply the approved plan file",
                have.unwrap_or("(none)")
            ),
        }),
    }
}
