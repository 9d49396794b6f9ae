//! Reading a plan's inputs: a snapshot bundle or live Graph and LDAP, their SHA-256
//! fingerprints, the duplicate-id check, the partial-evidence check and, with live Graph, the
//! per-id GET that proves a hard delete. Then the pure [`super::diff::build`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::bundle::Snapshot;
use crate::graph::args::GraphArgs;

use super::args::PlanInputArgs;
use super::dedupe::{Conflict, dedupe_groups};
use super::diff::{PlanOptions, build_with};
use super::model::*;

// The digests live in `crate::digest`; these names stay for callers of the plan's loader.
pub use crate::digest::{sha256_file, sha256_hex};

/// The loaded inputs, ready for the pure builder.
pub struct Loaded {
    pub snapshot: Snapshot,
    pub inputs: PlanInputs,
    pub partial_evidence: Option<String>,
}

/// Load the plan's inputs through the one input loader ([`crate::input`]): the tenant from a
/// snapshot directory, an evidence zip or live Graph; AD live whenever `--ldap-url` is given,
/// else from the bundle's ad.ldif; with fingerprints.
pub fn load(args: &PlanInputArgs) -> anyhow::Result<Loaded> {
    let l = crate::input::load(&crate::input::Sources {
        snapshot: args.snapshot.as_deref(),
        evidence: &args.evidence,
        graph: &args.graph,
        ldap: &args.ldap,
        target_ou: args.policy.target_ou.as_deref(),
        fingerprints: true,
        purpose: crate::input::Purpose::Plan,
    })?;
    let mut loaded = Loaded {
        inputs: PlanInputs {
            tenant_id: l.snap.tenant.tenant_id.clone(),
            tenant: l.tenant,
            ad: l.ad,
        },
        snapshot: l.snap,
        partial_evidence: None,
    };
    check_duplicates(&mut loaded.snapshot, args)?;
    loaded.partial_evidence = partial_evidence(&args.evidence)?;
    Ok(loaded)
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
