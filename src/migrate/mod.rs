//! `gwb migrate plan`: moving groups from one writer to another (Entra Connect v1 or v2, Cloud
//! Sync, gwb). It compares the two writers' forecasts of the same inputs from the one decision
//! core ([`decide`]), names each group's consequences ([`model`]), renders them ([`render`]),
//! lists the Connect-side steps ([`checklist`]) and makes the preparation an ordinary
//! `gwb-plan/1` plan that `gwb apply` carries out ([`prepare`]).

pub mod checklist;
pub mod decide;
pub mod model;
pub mod prepare;
pub mod render;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use crate::ad::Dn;
use crate::core::Target;
use crate::core::inputs::OuSource;
use crate::plan::args::PlanInputArgs;
use crate::plan::model::{PlanPolicy, TargetOuSource};

pub use model::{Consequence, Migration};

/// Output formats of a migration plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateFormat {
    /// One line per group whose handling changes, then a count per consequence.
    Table,
    /// `gwb-migration/1`, with the preparation plan embedded.
    Json,
    /// Markdown for change tickets.
    Markdown,
    /// One row per group and consequence.
    Csv,
    /// One self-contained page: groups by consequence, the table, the checklist.
    Html,
}

/// Cloud Sync's `cn` mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudSyncCn {
    /// The default: `<first 51 chars of displayName>_<last 12 of objectId>`.
    Default,
    /// `Append("Group_",[objectId])`: keeps Connect's default names.
    Connect,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub command: MigrateCommand,
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Compare two writers group by group and make the preparation plan.
    #[command(long_about = MIGRATE_PLAN_LONG)]
    Plan(Box<MigratePlanArgs>),
}

#[derive(Debug, Args)]
pub struct MigratePlanArgs {
    /// The writer groups move from (default: the one the tenant has enabled; v2 before v1).
    #[arg(long, value_enum)]
    pub from: Option<Target>,
    /// The writer groups move to.
    #[arg(long, value_enum)]
    pub to: Target,
    #[command(flatten)]
    pub input: PlanInputArgs,
    /// Output format (default: table, on a terminal and through a pipe).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<MigrateFormat>,
    /// Save the preparation (gwb-plan/1) to FILE for `gwb apply`.
    #[arg(long, value_name = "FILE")]
    pub out_preparation: Option<PathBuf>,
    /// Accept a consequence that would otherwise fail the run (exit 1): duplicated, orphaned,
    /// deleted, members-dropped (repeatable or comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "CONSEQUENCE")]
    pub accept: Vec<Consequence>,
    /// Cloud Sync's `cn` mapping: default (displayName_last12) or connect (Append("Group_",[objectId])).
    #[arg(long, value_enum, default_value = "default")]
    pub cloud_sync_cn: CloudSyncCn,
    /// Cloud Sync's target container (default: CN=Users under the domain, Microsoft's default).
    #[arg(long, value_name = "DN")]
    pub cloud_sync_container: Option<String>,
    /// Cloud Sync's "Provision membership to on-premises users" is turned on (off by default).
    #[arg(long)]
    pub cloud_sync_membership: bool,
    /// With --to cloud-sync: save the groups to add to the Cloud Sync configuration's selected
    /// groups as a tenant plan (app role assignments) for `gwb tenant apply`, undone with
    /// `gwb tenant apply --undo`. Needs the configuration in the bundle (cloud-sync/<domain>/).
    #[arg(long, value_name = "FILE")]
    pub out_scope: Option<PathBuf>,
    /// With --out-scope: the configuration's AD domain (its directory under cloud-sync/), when
    /// the bundle has more than one.
    #[arg(long, value_name = "DOMAIN")]
    pub cloud_sync_domain: Option<String>,
    /// List groups whose handling does not change too (table and markdown).
    #[arg(long)]
    pub show_unchanged: bool,
}

pub const MIGRATE_PLAN_LONG: &str = "\
Compares how two writers handle every group (connect-v1, connect-v2, cloud-sync, gwb), from the
same decision core as `gwb audit`, and names what moving from the first to the second does to
each group's AD object: unchanged, renamed, moved, duplicated, adopted, orphaned, deleted,
members-dropped, mail-attributes-dropped, no-longer-written, created, retyped (docs/migration.md).
Inputs are the `gwb plan` flags. Nothing is written; --out-preparation saves the preparation as
a gwb-plan/1 plan for `gwb apply` (connect-v2 -> cloud-sync: the msDS-ExternalDirectoryObjectId
copy on the groups Connect wrote; connect -> gwb: adoption in place).

Exit codes: 0 no gated consequence, 1 a group is duplicated, orphaned, deleted or loses members
(unless --accept lists it), 2 input error.

Examples:
  gwb migrate plan --to cloud-sync --snapshot bundle/
  gwb migrate plan --from connect-v2 --to cloud-sync --cloud-sync-cn connect --snapshot bundle/ \\
      --out-preparation prep.json        # then: gwb apply prep.json
  gwb migrate plan --from connect-v1 --to gwb --snapshot bundle/ --format html > migration.html";

pub(crate) fn ou_source(s: OuSource) -> TargetOuSource {
    match s {
        OuSource::Flag => TargetOuSource::Flag,
        OuSource::Bundle => TargetOuSource::Bundle,
        OuSource::Tenant => TargetOuSource::Tenant,
        OuSource::Connect => TargetOuSource::Connect,
    }
}

/// The writer the tenant has enabled: v2 when on (it governs), else v1.
pub fn enabled_writer(flags: &crate::core::Flags) -> Option<Target> {
    if flags.v2 == Some(true) {
        Some(Target::ConnectV2)
    } else if flags.v1 == Some(true) {
        Some(Target::ConnectV1)
    } else {
        None
    }
}

/// Make the migration from loaded inputs. Pure but for the clock. Also gives back the forecasts
/// it compared, for the caller to free when it suits it.
pub fn build(
    args: &MigratePlanArgs,
    input: &PlanInputArgs,
    loaded: &crate::plan::load::Loaded,
    overrides: &crate::core::overrides::Overrides,
) -> anyhow::Result<(Migration, Vec<crate::core::Forecast>)> {
    let s = &loaded.snapshot;
    let prepared = crate::core::inputs::prepare(s, input.policy.target_ou.as_deref())?;
    let inputs = prepared.inputs(s);
    let from = match args.from {
        Some(f) => f,
        None => enabled_writer(&prepared.flags).ok_or_else(|| {
            anyhow::anyhow!(
                "the evidence does not show Entra Connect group writeback enabled (v1 or v2): pass --from connect-v1|connect-v2|cloud-sync|gwb"
            )
        })?,
    };
    if from == args.to {
        anyhow::bail!("--from and --to are both {}: nothing moves", from.as_str());
    }
    let container = match &args.cloud_sync_container {
        Some(c) => Some(
            Dn::parse(c.trim())
                .map_err(|e| anyhow::anyhow!("--cloud-sync-container {c:?} is not a DN: {e}"))?,
        ),
        None => decide::default_cloud_sync_container(&inputs),
    };
    let cs = decide::CloudSyncDefaults {
        keep_connect_cn: args.cloud_sync_cn == CloudSyncCn::Connect,
        container,
        membership_to_on_premises_users: args.cloud_sync_membership,
    };
    let policy = input.policy.policy();
    let req = decide::Request {
        from,
        to: args.to,
        inputs: &inputs,
        policy: &policy,
        overrides,
        cloud_sync: &cs,
    };
    let started = std::time::Instant::now();
    let (mut groups, forecasts, from_i) = decide::compare(&req);
    let from_forecast = &forecasts[from_i];
    tracing::debug!("migration compared in {:.2?}", started.elapsed());
    let created_at = crate::collect::now_rfc3339();
    let popts = prepare::PrepareOptions {
        prepared: &prepared,
        plan_inputs: loaded.inputs.clone(),
        policy: PlanPolicy {
            deletion: input.policy.deletion,
            member_limit: input.policy.member_limit,
            cn_format: input.policy.cn_format,
            max_deletes: input.max_deletes,
        },
        created_at: created_at.clone(),
        overrides,
    };
    let prep = match (from, args.to) {
        (Target::ConnectV2, Target::CloudSync) => Some(prepare::copy_stamp(
            s,
            &popts,
            &from_forecast.groups,
            &mut groups,
        )),
        (Target::ConnectV1 | Target::ConnectV2, Target::Gwb) => Some(prepare::adopt(
            s,
            &popts,
            &from_forecast.groups,
            &mut groups,
        )),
        _ => None,
    };
    let (preparation, preparation_note) = match prep {
        Some(Ok(p)) => (Some(p), None),
        Some(Err(why)) => (None, Some(why)),
        None => (
            None,
            Some(format!(
                "no preparation is defined for {} to {}",
                from.as_str(),
                args.to.as_str()
            )),
        ),
    };
    let summary = Migration::count(&groups);
    let gate: Vec<Consequence> = summary
        .iter()
        .filter(|(c, n)| **n > 0 && c.gates() && !args.accept.contains(c))
        .map(|(c, _)| *c)
        .collect();
    let connect_container = prepared.target_ou.as_ref().map(|(d, _)| d.to_string());
    let migration = Migration {
        format: model::MIGRATION_FORMAT,
        gwb_version: env!("CARGO_PKG_VERSION"),
        created_at,
        from,
        to: args.to,
        cloud_sync: (args.to == Target::CloudSync).then(|| model::CloudSyncAssumed {
            cn_mapping: match args.cloud_sync_cn {
                CloudSyncCn::Default => "default",
                CloudSyncCn::Connect => "connect",
            },
            container: cs
                .container
                .as_ref()
                .map_or_else(|| "(unknown)".to_string(), |d| d.to_string()),
            membership_to_on_premises_users: cs.membership_to_on_premises_users,
            source: "Microsoft's documented defaults unless the flags say otherwise: cn displayName_last12, container CN=Users,<domain>, on-premises user membership off",
        }),
        summary,
        gate,
        scope_additions: if args.to == Target::CloudSync {
            groups
                .iter()
                .filter(|g| {
                    g.after.writer == Target::CloudSync
                        && g.after.outcome == crate::core::Outcome::Writeback
                })
                .map(|g| g.id.clone())
                .collect()
        } else {
            Vec::new()
        },
        cn_mapping_to_keep_names: (args.to == Target::CloudSync)
            .then_some(decide::KEEP_CONNECT_CN),
        checklist: checklist::checklist(from, args.to, connect_container.as_deref()),
        connect_container,
        groups,
        preparation,
        preparation_note,
    };
    Ok((migration, forecasts))
}

/// Human output by default, on a terminal and through a pipe alike; JSON by `--format json`.
fn default_format() -> MigrateFormat {
    MigrateFormat::Table
}

/// `gwb migrate plan`: whether the gate passed (no unaccepted gated consequence).
pub fn run(args: &MigrateArgs) -> anyhow::Result<bool> {
    let MigrateCommand::Plan(args) = &args.command;
    let mut input = args.input.clone();
    let cfg = crate::config::load_into_plan(&mut input)?;
    let started = std::time::Instant::now();
    let loaded = crate::plan::load::load(&input)?;
    tracing::debug!("inputs loaded in {:.2?}", started.elapsed());
    let (m, forecasts) = build(args, &input, &loaded, &cfg.overrides)?;
    tracing::debug!("migration built in {:.2?}", started.elapsed());
    if let Some(path) = &args.out_preparation {
        let Some(p) = &m.preparation else {
            anyhow::bail!(
                "no preparation to save: {}",
                m.preparation_note.as_deref().unwrap_or("none")
            );
        };
        crate::fsio::write_atomic_with(path, |w| {
            serde_json::to_writer_pretty(&mut *w, p)?;
            w.write_all(b"\n")?;
            Ok(())
        })
        .with_context(|| format!("saving the preparation to {}", path.display()))?;
        tracing::info!("preparation saved to {}", path.display());
    }
    if let Some(path) = &args.out_scope {
        let plan = scope_plan(args, &input, &loaded.snapshot, &m)?;
        crate::fsio::write_atomic_with(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &plan)?;
            w.write_all(b"\n")?;
            Ok(())
        })
        .with_context(|| format!("saving the scope plan to {}", path.display()))?;
        eprintln!(
            "Wrote {} scope addition(s) to {} (sha256 {}). Apply it with: gwb tenant apply {}",
            plan.changes.len(),
            path.display(),
            plan.sha256.as_deref().unwrap_or(""),
            path.display()
        );
    }
    let format = args.format.unwrap_or_else(default_format);
    let text = render::render(&m, format, args.show_unchanged)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    let pass = m.gate.is_empty();
    // The process ends here: what was read, forecast and rendered is left to the operating
    // system instead of being freed piece by piece (a second or so on a large tenant).
    std::mem::forget(m);
    std::mem::forget(forecasts);
    std::mem::forget(loaded);
    Ok(pass)
}

/// The tenant plan that adds the groups Cloud Sync should maintain to the selected groups of
/// the bundle's Cloud Sync configuration (`--out-scope`).
fn scope_plan(
    args: &MigratePlanArgs,
    input: &PlanInputArgs,
    snap: &crate::bundle::Snapshot,
    m: &Migration,
) -> anyhow::Result<crate::tenant::Plan> {
    if args.to != Target::CloudSync {
        anyhow::bail!("--out-scope is for --to cloud-sync: only Cloud Sync has selected groups");
    }
    let Some(dir) = input.snapshot.as_deref().filter(|d| d.is_dir()) else {
        anyhow::bail!(
            "--out-scope needs --snapshot DIR, a bundle directory holding the Cloud Sync configuration (cloud-sync/<domain>/, docs/cloud-sync.md)"
        );
    };
    let all = crate::cloudsync::load_bundle(dir)?;
    let cfg = match (&args.cloud_sync_domain, all.as_slice()) {
        (_, []) => anyhow::bail!(
            "{}: no Cloud Sync configuration (cloud-sync/<domain>/): create the configuration, collect it (or save its four files, docs/cloud-sync.md), then make the scope plan",
            dir.display()
        ),
        (None, [one]) => one,
        (None, many) => anyhow::bail!(
            "{} Cloud Sync configurations in {}: pick one with --cloud-sync-domain ({})",
            many.len(),
            dir.display(),
            many.iter()
                .map(|c| c.domain.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (Some(d), many) => many
            .iter()
            .find(|c| c.domain.eq_ignore_ascii_case(d))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--cloud-sync-domain {d}: no such configuration in {} ({})",
                    dir.display(),
                    many.iter()
                        .map(|c| c.domain.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?,
    };
    let selected = match &cfg.scope {
        crate::cloudsync::Scope::Selected(set) => set.clone(),
        crate::cloudsync::Scope::All => anyhow::bail!(
            "the {} configuration scopes all security groups by its attribute filters: no group is added by assignment (change its filters instead)",
            cfg.domain
        ),
        crate::cloudsync::Scope::Undetermined(why) => anyhow::bail!(
            "the {} configuration's scope is unknown ({why}): a scope plan needs its selected groups",
            cfg.domain
        ),
    };
    if cfg.service_principal.id.is_empty() {
        anyhow::bail!(
            "{}: servicePrincipal.json has no id",
            cfg.dir.join("servicePrincipal.json").display()
        );
    }
    // The public cloud's app role (concept-deployment-options-provision-to-active-directory);
    // a configuration whose assignments use another cloud's role keeps that one.
    let role = std::fs::read(cfg.dir.join("appRoleAssignedTo.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v.get("value")?.as_array()?.iter().find_map(|a| {
                let r = a.get("appRoleId")?.as_str()?;
                crate::cloudsync::SELECTED_GROUP_APP_ROLES
                    .iter()
                    .any(|(id, _)| id.eq_ignore_ascii_case(r))
                    .then(|| r.to_string())
            })
        })
        .unwrap_or_else(|| crate::cloudsync::SELECTED_GROUP_APP_ROLES[0].0.to_string());
    let wanted: std::collections::BTreeSet<&str> =
        m.scope_additions.iter().map(String::as_str).collect();
    let groups: Vec<(String, String)> = m
        .groups
        .iter()
        .filter(|g| wanted.contains(g.id.as_str()))
        .map(|g| (g.id.clone(), g.display_name.clone()))
        .collect();
    crate::tenant::scope::plan(
        snap,
        &crate::collect::now_rfc3339(),
        &groups,
        &cfg.service_principal.id,
        &role,
        &selected,
    )
}
