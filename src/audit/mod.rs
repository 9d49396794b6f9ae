//! The readiness audit: checks with stable codes over a snapshot, verdicts per target, and the
//! forecast from the decision core, gathered into one [`Report`]. Pure: no I/O, no printing.

pub mod args;
pub mod codes;
pub use crate::core::exchange;
pub mod gate;
pub mod severity;
pub mod version;
pub mod waiver;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::bundle::Snapshot;
use crate::bundle::tenant::GroupKind;
use crate::core::{
    self, Flags, Forecast, GroupReason, Inputs, MemberReason, Outcome, Policy, Target,
};
pub use codes::{Code, Severity, section};
use exchange::Preparation;
use gate::{Gate, GatePolicy};
use severity::Overrides;
use version::Version;
use waiver::Waiver;

pub const REPORT_FORMAT: &str = "gwb-audit/1";
/// Entra ID P1 (AAD_PREMIUM) and P2 (AAD_PREMIUM_P2) service plan ids.
pub const P1_PLAN: &str = "41781fb2-bc02-4b7c-bd55-b576c07bb09d";
pub const P2_PLAN: &str = "eec0eb4f-6444-4f95-aba0-50c24d67f998";
pub const GROUP_UNIFIED_TEMPLATE: &str = "62375ab9-6b52-47ed-826b-58e47e0e304b";

const CONNECT_TARGETS: &[Target] = &[Target::ConnectV1, Target::ConnectV2];
/// The targets a group converted to the cloud concerns (connect-v1 writes Microsoft 365
/// groups only, which are never converted).
const SOA_TARGETS: &[Target] = &[Target::ConnectV2, Target::CloudSync, Target::Gwb];

/// One finding: stable code, severity, what it is about, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// What the finding is about: a group id, a section, an OU, "tenant".
    pub subject: String,
    pub message: String,
    /// The facts it rests on, and where they came from.
    pub evidence: String,
    pub remediation: String,
    /// Targets this finding applies to; empty means all.
    pub targets: Vec<Target>,
    /// Set when a waiver accepts the finding: it stays visible but does not count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived: Option<Waived>,
}

/// The waiver that accepted a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Waived {
    pub reason: String,
    pub expires: String,
    pub approved_by: String,
}

impl Finding {
    /// A finding at its code's default severity (the severity model adjusts it later).
    fn new(code: Code, subject: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity: code.default_severity(),
            subject: subject.into(),
            message: message.into(),
            evidence: String::new(),
            remediation: String::new(),
            targets: Vec::new(),
            waived: None,
        }
    }
    fn evidence(mut self, e: impl Into<String>) -> Finding {
        self.evidence = e.into();
        self
    }
    fn fix(mut self, r: impl Into<String>) -> Finding {
        self.remediation = r.into();
        self
    }
    fn only(mut self, t: &[Target]) -> Finding {
        self.targets = t.to_vec();
        self
    }
    pub fn applies_to(&self, t: Target) -> bool {
        self.targets.is_empty() || self.targets.contains(&t)
    }
    /// Counts towards verdicts: not waived.
    pub fn counts(&self) -> bool {
        self.waived.is_none()
    }
}

/// Quote a name for a message (no Rust debug escapes).
/// [`quoted`], formatted where it is used.
struct Quoted<'a>(&'a str);

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&quoted(self.0))
    }
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\n', " "))
}

fn flag_text(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    }
}

/// The verdict for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ready,
    ReadyWithWarnings,
    /// Evidence a blocking check needs is missing or incomplete: never "ready" (fails closed).
    Incomplete,
    Blocked,
    /// The target cannot be enabled any more (connect-v2 while v2 is off): shown, not gated by default.
    Unavailable,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ready => "ready",
            Verdict::ReadyWithWarnings => "ready-with-warnings",
            Verdict::Incomplete => "incomplete",
            Verdict::Blocked => "blocked",
            Verdict::Unavailable => "unavailable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetVerdict {
    pub target: Target,
    pub verdict: Verdict,
    pub errors: usize,
    pub warnings: usize,
    /// Counted errors that block (errors about evidence make a verdict incomplete instead).
    pub blocking: usize,
    /// Findings of this target accepted by a waiver (not counted in errors or warnings).
    pub waived: usize,
    /// Evidence sections whose absence hides a blocking check for this target.
    pub missing: Vec<String>,
    /// The blocking checks that could not run for lack of that evidence.
    pub unchecked: Vec<Code>,
    /// Whether the gate judges this target.
    pub gated: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceStatus {
    /// True when nothing is missing or incomplete.
    pub complete: bool,
    /// Sections not supplied at all.
    pub missing: Vec<String>,
    /// Sections a collector could not finish, or that lost data in export.
    pub incomplete: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    pub origin: String,
    pub tenant_id: Option<String>,
    pub collected_at: Option<String>,
}

/// The whole audit result; renderers read only this.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub format: &'static str,
    pub gwb_version: &'static str,
    pub generated_at: String,
    /// The time date-dependent severities and waiver expiry are judged against.
    pub as_of: String,
    pub snapshot: SnapshotInfo,
    pub policy: Policy,
    pub flags: Flags,
    pub connect_version: Option<String>,
    pub target_ou: Option<String>,
    pub evidence: EvidenceStatus,
    /// `--deny`, `--warn`, `--allow`, as applied.
    pub overrides: Overrides,
    pub gate: Gate,
    pub verdicts: Vec<TargetVerdict>,
    /// Rendered on several cores in a JSON report (crate::par_json), at depth 2: report,
    /// findings.
    #[serde(serialize_with = "crate::par_json::seq::<2, _, _>")]
    pub findings: Vec<Finding>,
    pub forecast: Vec<Forecast>,
}

/// What the audit needs besides the snapshot.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Targets to forecast (empty: all); gating targets are added.
    pub targets: Vec<Target>,
    pub policy: Policy,
    /// `--target-ou`, overriding the snapshot's.
    pub target_ou: Option<String>,
    pub generated_at: String,
    /// `--as-of`: judge dates against this time instead of `generated_at`.
    pub as_of: Option<String>,
    pub overrides: Overrides,
    pub waivers: Vec<Waiver>,
    pub gate: GatePolicy,
    /// Cloud Sync configurations from the bundle (`cloud-sync/<domain>/`): the cloud-sync
    /// forecast follows the configuration instead of Microsoft's defaults.
    pub cloud_sync: Option<std::sync::Arc<crate::cloudsync::forecast::Input>>,
}

/// Feature-flag conflicts between Graph and the Connect export, as findings.
fn flag_findings(s: &Snapshot, conflicts: &[core::inputs::FlagConflict]) -> Vec<Finding> {
    conflicts
        .iter()
        .map(|c| {
            let (graph, connect, a, b) = (c.graph, c.connect, c.graph_value, c.connect_value);
            Finding::new(
                Code::FeatureFlagsConflict,
                connect,
                format!("Graph says {graph} = {a} but the Connect server says {connect} = {b}; gwb uses the tenant's value"),
            )
            .evidence(format!("tenant.json features.{graph}; {}", s.connect.sources.join(", ")))
            .fix("Run a sync cycle (Start-ADSyncSyncCycle -PolicyType Delta) and re-export both, or check that the export comes from the active (non-staging) server")
        })
        .collect()
}

pub(crate) fn connect_version(s: &Snapshot) -> Option<(String, String)> {
    if let Some(v) = s
        .tenant
        .on_premises_synchronization
        .as_ref()
        .and_then(|x| x.configuration.as_ref())
        .and_then(|c| c.synchronization_client_version.clone())
    {
        return Some((
            v,
            "onPremisesSynchronization.configuration.synchronizationClientVersion".into(),
        ));
    }
    s.connect.server_version.clone().map(|v| {
        (
            v,
            format!(
                "Microsoft.Synchronize.ServerConfigurationVersion ({})",
                s.connect.sources.join(", ")
            ),
        )
    })
}

/// Where the target OU comes from, in order: flag, manifest, tenant, Connect export.
pub fn target_ou(s: &Snapshot, flag: Option<&str>) -> Option<(String, &'static str)> {
    core::inputs::target_ou(s, flag).map(|(t, src)| (t, src.label()))
}

fn parse_bool_setting(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Run the audit. Pure: the same snapshot and options give the same report.
pub fn audit(s: &Snapshot, opts: &Options) -> anyhow::Result<Report> {
    audit_with(s, opts, &core::overrides::Overrides::default())
}

/// [`audit`] with the configuration's per-group overrides.
pub fn audit_with(
    s: &Snapshot,
    opts: &Options,
    overrides: &core::overrides::Overrides,
) -> anyhow::Result<Report> {
    let mut findings: Vec<Finding> = Vec::new();
    // Evidence a check needs but does not have: (section, targets; empty = all).
    let mut gaps: Vec<(String, Vec<Target>)> = Vec::new();
    let t = &s.tenant;
    // --- evidence ------------------------------------------------------------------------
    let mut missing = Vec::new();
    let mut incomplete: BTreeSet<String> = t.incomplete_sections.iter().cloned().collect();
    incomplete.extend(s.manifest.incomplete_sections.iter().cloned());
    let sections: [(&str, bool, &str); 6] = [
        (
            "onPremisesSynchronization",
            t.on_premises_synchronization.is_some() || !s.connect.features.is_empty(),
            "feature flags and the Connect version",
        ),
        (
            "settings",
            t.settings.is_some(),
            "the default for new Microsoft 365 groups",
        ),
        (
            "subscribedSkus",
            t.subscribed_skus.is_some(),
            "the P1/P2 licence prerequisite",
        ),
        ("groups", t.groups.is_some(), "the forecast"),
        (
            "deletedGroups",
            t.deleted_groups.is_some(),
            "soft-deleted groups and the deletion forecast",
        ),
        (
            "ad",
            s.ad.is_some(),
            "Exchange preparation, the target OU, member resolution and name collisions",
        ),
    ];
    for (name, present, what) in sections {
        if !present {
            missing.push(name.to_string());
            gaps.push((name.to_string(), Vec::new()));
            findings.push(
                Finding::new(Code::EvidenceMissing, name, format!("{name} was not supplied: {what} cannot be checked"))
                    .fix(if name == "ad" {
                        "Add ad.ldif to the bundle (gwb collect --ldap-url … or ldapsearch -LLL) or run the audit with --ldap-url"
                    } else {
                        "Collect it with gwb collect, or add it to tenant.json from Graph Explorer / Invoke-MgGraphRequest"
                    }),
            );
        }
    }
    for sec in &incomplete {
        let known = [
            section::SYNC,
            section::SETTINGS,
            section::SKUS,
            section::GROUPS,
            section::DELETED,
            section::AD,
            section::MEMBERS,
            section::SOA,
        ];
        if sec.eq_ignore_ascii_case(section::SOA) {
            // Only the targets that could write a converted group are concerned.
            gaps.push((section::SOA.to_string(), SOA_TARGETS.to_vec()));
            findings.push(
                Finding::new(Code::EvidenceIncomplete, sec.clone(), format!("the collector could not read onPremisesSyncBehavior of every group that carries an on-premises SID and is not synced; it needs {}", core::soa::PERMISSION))
                    .fix(format!("Grant the collecting app {} (the only permission Microsoft documents for reading it) and re-run gwb collect", core::soa::PERMISSION))
                    .only(SOA_TARGETS),
            );
            continue;
        }
        // A section gwb does not know by name could hold anything: every check rests on it.
        let gap = known
            .iter()
            .find(|k| k.eq_ignore_ascii_case(sec))
            .copied()
            .unwrap_or(section::ANY);
        gaps.push((gap.to_string(), Vec::new()));
        findings.push(
            Finding::new(Code::EvidenceIncomplete, sec.clone(), format!("the collector could not finish {sec}; the audit cannot call the tenant ready"))
                .fix("Re-run gwb collect (see its error messages for the cause) before relying on this report"),
        );
    }
    for q in &s.quality {
        let code = match q.code.as_str() {
            "depth-truncated" | "lost-data" => Code::EvidenceTruncated,
            "unrecognized" => Code::EvidenceUnrecognized,
            _ => Code::EvidenceNote,
        };
        if code == Code::EvidenceTruncated {
            incomplete.insert(format!("{} ({})", q.file, q.code));
            gaps.push((section::ANY.to_string(), Vec::new()));
        }
        let place = if q.place.is_empty() {
            String::new()
        } else {
            format!(" at {}", q.place)
        };
        findings.push(
            Finding::new(code, q.file.clone(), format!("{}{place}", q.message)).evidence(format!("{}{place}", q.file)).fix(if code == Code::EvidenceTruncated {
                "Re-export with a larger -Depth (e.g. ConvertTo-Json -Depth 10) or with Export-Clixml"
            } else {
                ""
            }),
        );
    }
    // --- feature flags -----------------------------------------------------------------------
    let started = std::time::Instant::now();
    let prepared = core::inputs::prepare(s, opts.target_ou.as_deref())?;
    tracing::debug!("core inputs prepared in {:.2?}", started.elapsed());
    let flags = prepared.flags;
    findings.extend(flag_findings(s, &prepared.flag_conflicts));
    let m365: Vec<&crate::bundle::tenant::Group> = t
        .groups
        .iter()
        .flatten()
        .filter(|g| g.kind() == GroupKind::Microsoft365 && g.on_premises_sync_enabled != Some(true))
        .collect();
    let m365_disabled = m365
        .iter()
        .filter(|g| core::writeback_setting(g) == Some(Some(false)))
        .count();
    let flag_src = if t.on_premises_synchronization.is_some() {
        "tenant.json onPremisesSynchronization.features"
    } else {
        "Get-ADSyncAADCompanyFeature export"
    };
    if flags.v1.is_none() && flags.v2.is_none() {
        findings.push(
            Finding::new(Code::FeatureFlagsUnknown, "tenant", "the group writeback feature state is unknown")
                .fix("Add onPremisesSynchronization to tenant.json, or put `Get-ADSyncAADCompanyFeature | ConvertTo-Json` output in connect/"),
        );
    }
    match flags.v1 {
        Some(true) => {
            findings.push(
                Finding::new(Code::WritebackV1Enabled, "UnifiedGroupWriteback", "the original group writeback is on: every Microsoft 365 group is written back as a distribution group")
                    .evidence(format!("UnifiedGroupWriteback = true ({flag_src})")),
            );
        }
        Some(false) => findings.push(
            Finding::new(
                Code::WritebackV1Disabled,
                "UnifiedGroupWriteback",
                "the original group writeback is off",
            )
            .evidence(format!("UnifiedGroupWriteback = false ({flag_src})")),
        ),
        None => {}
    }
    if flags.v1 != Some(true) && !m365.is_empty() {
        findings.push(
            Finding::new(
                Code::EnablementOrderHazard,
                "UnifiedGroupWriteback",
                format!(
                    "enabling the original writeback writes back all {} existing Microsoft 365 group(s) at once, {} of them with isEnabled = false; once on, there is no per-group opt-out",
                    m365.len(),
                    m365_disabled
                ),
            )
            .evidence(format!("{} Microsoft 365 groups in tenant.json; v1 = {}, v2 = {}", m365.len(), flag_text(flags.v1), flag_text(flags.v2)))
            .fix("Make the default-behaviour changes first (NewUnifiedGroupWritebackDefault = false, isEnabled = false on groups that must stay cloud-only), review this forecast for connect-v1, then enable")
            .only(CONNECT_TARGETS),
        );
    }
    if m365_disabled > 0 && flags.v2 != Some(true) {
        findings.push(
            Finding::new(
                Code::IsEnabledIgnoredByV1,
                "writebackConfiguration.isEnabled",
                format!("{m365_disabled} Microsoft 365 group(s) have isEnabled = false, but the original writeback ignores it and writes them back"),
            )
            .fix("If these groups must not reach AD, do not rely on isEnabled under v1: delete or convert them, or use Cloud Sync or gwb for what must be written back")
            .only(&[Target::ConnectV1]),
        );
    }
    if flags.v2 == Some(true) {
        findings.push(
            Finding::new(
                Code::WritebackV2Enabled,
                "GroupWritebackV2",
                "group writeback v2 is on; it was deprecated on June 30, 2024 and may stop at any time; turning it off is irreversible and reverts to v1 (all Microsoft 365 groups written back)",
            )
            .evidence(format!("GroupWritebackV2 = true ({flag_src})"))
            .fix("Plan the move of security groups to Cloud Sync (or gwb) before v2 stops; never disable v2 without reviewing the connect-v1 forecast")
            .only(&[Target::ConnectV2]),
        );
    } else if flags.v2 == Some(false) {
        findings.push(
            Finding::new(Code::WritebackV2Unavailable, "GroupWritebackV2", "group writeback v2 cannot be enabled any more (retired June 30, 2024; Entra Connect 2.3.2.0 and later refuse it)")
                .evidence(format!("GroupWritebackV2 = false ({flag_src})"))
                .fix("Use Cloud Sync group provisioning (security groups), the original writeback (Microsoft 365 groups), or gwb")
                .only(&[Target::ConnectV2]),
        );
    }
    // --- directory settings -------------------------------------------------------------------
    if let Some(settings) = &t.settings {
        let unified = settings.iter().find(|x| {
            x.template_id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(GROUP_UNIFIED_TEMPLATE))
                || x.display_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case("Group.Unified"))
        });
        let value = unified.and_then(|u| {
            u.values.iter().find(|v| {
                v.name
                    .eq_ignore_ascii_case("NewUnifiedGroupWritebackDefault")
            })
        });
        let (state, ev) = match (unified, value) {
            (None, _) => (Some(true), "no Group.Unified directory setting: the default (true) applies".to_string()),
            (Some(_), None) => (Some(true), "Group.Unified has no NewUnifiedGroupWritebackDefault value: the default (true) applies".to_string()),
            (Some(_), Some(v)) => {
                let raw = v.value.clone().unwrap_or_default();
                match parse_bool_setting(&raw) {
                    Some(b) => (Some(b), format!("Group.Unified NewUnifiedGroupWritebackDefault = {}", quoted(&raw))),
                    None => {
                        findings.push(
                            Finding::new(Code::SettingValueInvalid, "NewUnifiedGroupWritebackDefault", format!("value {} is not \"true\" or \"false\"", quoted(&raw)))
                                .fix("Set it to \"false\" or \"true\" with Update-MgBetaDirectorySetting"),
                        );
                        (None, format!("Group.Unified NewUnifiedGroupWritebackDefault = {}", quoted(&raw)))
                    }
                }
            }
        };
        let msg = match state {
            Some(true) => {
                "new Microsoft 365 groups are written back automatically (NewUnifiedGroupWritebackDefault is true or unset)"
            }
            Some(false) => {
                "new Microsoft 365 groups are not enabled for writeback when created (NewUnifiedGroupWritebackDefault is false)"
            }
            None => "the default for new Microsoft 365 groups is unclear",
        };
        findings.push(
            Finding::new(Code::NewGroupWritebackDefault, "NewUnifiedGroupWritebackDefault", msg)
                .evidence(ev)
                .fix(if state == Some(true) { "To write back only chosen groups, set NewUnifiedGroupWritebackDefault to false before enabling (gwb tenant plan)" } else { "" }),
        );
    }
    // --- licence ------------------------------------------------------------------------------
    match &t.subscribed_skus {
        None => findings.push(
            Finding::new(
                Code::LicenseUnknown,
                "subscribedSkus",
                "the Entra ID P1/P2 prerequisite cannot be checked",
            )
            .fix("Add subscribedSkus (GET /v1.0/subscribedSkus) to tenant.json")
            .only(&[Target::ConnectV1, Target::ConnectV2, Target::CloudSync]),
        ),
        Some(skus) => {
            let hit = skus.iter().find_map(|sku| {
                let status = sku.capability_status.as_deref().unwrap_or("Enabled");
                if !(status.eq_ignore_ascii_case("Enabled")
                    || status.eq_ignore_ascii_case("Warning"))
                {
                    return None;
                }
                sku.service_plans
                    .iter()
                    .find(|p| {
                        p.service_plan_id.as_deref().is_some_and(|id| {
                            id.eq_ignore_ascii_case(P1_PLAN) || id.eq_ignore_ascii_case(P2_PLAN)
                        }) && !p
                            .provisioning_status
                            .as_deref()
                            .is_some_and(|st| st.eq_ignore_ascii_case("Disabled"))
                    })
                    .map(|p| (sku, p))
            });
            match hit {
                Some((sku, p)) => findings.push(
                    Finding::new(Code::LicensePresent, "subscribedSkus", "Entra ID P1 or P2 is licensed").evidence(format!(
                        "{} ({}) carries {} ({})",
                        sku.sku_part_number.as_deref().unwrap_or("?"),
                        sku.capability_status.as_deref().unwrap_or("?"),
                        p.service_plan_name.as_deref().unwrap_or("?"),
                        p.service_plan_id.as_deref().unwrap_or("?")
                    )),
                ),
                None => findings.push(
                    Finding::new(Code::LicenseMissing, "subscribedSkus", "no enabled subscription carries an Entra ID P1 or P2 service plan")
                        .evidence(format!("{} SKU(s) checked for service plans {P1_PLAN} / {P2_PLAN}", skus.len()))
                        .fix("License Entra ID P1 or P2 (standalone, or in Microsoft 365 E3/E5, EMS, Business Premium)")
                        .only(&[Target::ConnectV1, Target::ConnectV2, Target::CloudSync]),
                ),
            }
        }
    }
    // --- Entra Connect version ---------------------------------------------------------------
    let cv = connect_version(s);
    if cv.as_ref().and_then(|(v, _)| Version::parse(v)).is_none() {
        // The Connect targets always rest on the version; cloud-sync and gwb only through the
        // source-of-authority floor, which matters only when converted groups exist.
        let converted = s
            .tenant
            .groups
            .iter()
            .flatten()
            .any(|g| g.sync_state() == crate::bundle::tenant::SyncState::Converted);
        let mut targets = vec![Target::ConnectV1, Target::ConnectV2];
        if converted {
            targets.extend([Target::CloudSync, Target::Gwb]);
        }
        gaps.push((section::CONNECT_VERSION.to_string(), targets));
    }
    match cv.as_ref().map(|(v, src)| (Version::parse(v), v, src)) {
        None => findings.push(
            Finding::new(Code::ConnectVersionUnknown, "Entra Connect", "the Entra Connect version is unknown")
                .fix("Add onPremisesSynchronization (synchronizationClientVersion) or the Get-ADSyncGlobalSettings export")
                .only(CONNECT_TARGETS),
        ),
        Some((None, raw, src)) => findings.push(
            Finding::new(Code::ConnectVersionUnknown, "Entra Connect", format!("cannot read the version {}", quoted(raw))).evidence(src.clone()).only(CONNECT_TARGETS),
        ),
        Some((Some(v), _, src)) => {
            if v < Version(vec![2, 0, 89, 0]) {
                findings.push(
                    Finding::new(Code::ConnectVersionTooOld, "Entra Connect", format!("Entra Connect {v} is older than 2.0.89.0, the group writeback prerequisite"))
                        .evidence(src.clone())
                        .fix("Upgrade every Entra Connect server (the feature is tenant-wide)")
                        .only(CONNECT_TARGETS),
                );
            }
            if v >= Version(vec![2, 3, 2, 0]) {
                findings.push(
                    Finding::new(Code::ConnectVersionV2Cutoff, "Entra Connect", format!("Entra Connect {v} cannot enable group writeback v2 (2.3.2.0 and later)"))
                        .evidence(src.clone())
                        .only(&[Target::ConnectV2]),
                );
            }
            if v < Version(vec![2, 6, 84, 0]) {
                findings.push(
                    Finding::new(
                        Code::ConnectVersionBelowFloor,
                        "Entra Connect",
                        format!("Entra Connect {v} is below the mandatory minimum 2.6.84.0: synchronization services fail after September 30, 2026"),
                    )
                    .evidence(src.clone())
                    .fix("Upgrade to 2.6.84.0 or later (download from the Entra admin center) and configure application-based authentication by April 7, 2027")
                    .only(CONNECT_TARGETS),
                );
            }
            if v < Version(vec![2, 2, 8, 0]) {
                findings.push(
                    Finding::new(Code::ConnectVersionNoObjectIdentifier, "Entra Connect", format!("Entra Connect {v} does not sync onPremisesObjectIdentifier, so Cloud Sync cannot match synced members"))
                        .evidence(src.clone())
                        .fix("Upgrade Entra Connect to 2.2.8.0 or later")
                        .only(&[Target::CloudSync]),
                );
            }
        }
    }
    soa_findings(s, cv.as_ref(), &incomplete, &mut findings, &mut gaps);
    // --- AD ------------------------------------------------------------------------------------
    let ou = prepared
        .target_ou
        .as_ref()
        .map(|(dn, src)| (dn.to_string(), src.label()));
    let ou_dn = prepared.target_ou.as_ref().map(|(dn, _)| dn.clone());
    if let Some(ad) = &s.ad {
        match prepared.exchange.clone().unwrap_or(Preparation::Unknown) {
            Preparation::Unknown => findings.push(
                Finding::new(Code::ExchangeUnknown, "Exchange", "the Exchange schema objects were not captured; Exchange preparation is unknown")
                    .fix("Include CN=Schema,CN=Configuration (dMD) and CN=ms-Exch-Schema-Version-Pt in ad.ldif"),
            ),
            Preparation::NotPrepared { what } => {
                findings.push(
                    Finding::new(Code::ExchangeNotPrepared, "Exchange", "AD is not prepared for Exchange: mail attributes of written-back groups are not written")
                        .evidence(what)
                        .fix("Optional: run Exchange Setup /PrepareSchema, /PrepareAD and /PrepareAllDomains (2016 CU15 or later) if Microsoft 365 groups must be mail-enabled on-premises"),
                );
            }
            Preparation::Prepared { label, meets_2016_cu15 } => {
                let e = format!(
                    "rangeUpper {}, domain objectVersion {}, organization objectVersion {}",
                    ad.exchange.schema_range_upper.unwrap_or_default(),
                    ad.exchange.domain_object_version.unwrap_or_default(),
                    ad.exchange.organization_object_version.unwrap_or_default()
                );
                findings.push(Finding::new(Code::ExchangePrepared, "Exchange", format!("AD is prepared for {label}")).evidence(e.clone()));
                if !meets_2016_cu15 {
                    findings.push(
                        Finding::new(Code::ExchangeBelowRecommended, "Exchange", format!("AD is prepared for {label}, below Exchange 2016 CU15 (needed for Microsoft 365 groups with Exchange hybrid)"))
                            .evidence(e)
                            .fix("Prepare AD with Exchange 2016 CU15 or later (2016 CU13–CU17 look identical in AD)"),
                    );
                }
            }
        }
        match &ou_dn {
            None => {}
            Some(dn) => {
                if ad.by_dn(dn).is_some() {
                    findings.push(
                        Finding::new(
                            Code::TargetOuPresent,
                            dn.to_string(),
                            "the target OU exists",
                        )
                        .evidence(ou.as_ref().map(|o| o.1).unwrap_or_default()),
                    );
                    // --probe-rights: create, change and delete tried for real.
                    for result in ad.ou_probe.get(&dn.key()).into_iter().flatten() {
                        let (op, outcome) = result.split_once('=').unwrap_or((result.as_str(), ""));
                        if outcome != "ok" {
                            findings.push(
                                Finding::new(
                                    Code::TargetOuRightsInsufficient,
                                    dn.to_string(),
                                    format!("the rights probe could not {op} a group in the target OU"),
                                )
                                .evidence(format!("{}: {result}", crate::ad::RIGHTS_PROBE_ATTR))
                                .fix("Grant Create/Delete group objects and Read/Write all properties on group objects in the OU (as Set-ADSyncUnifiedGroupWritebackPermissions does)")
                                .only(&[Target::Gwb]),
                            );
                        }
                    }
                    // Changing written-back groups: sampled on one of them.
                    if let Some(o) = ad
                        .children(dn)
                        .find(|o| o.cloud_anchor().is_some() && o.allowed_attributes.is_some())
                    {
                        let allowed = o.allowed_attributes.clone().unwrap_or_default();
                        if !allowed.iter().any(|a| a.eq_ignore_ascii_case("member")) {
                            findings.push(
                                Finding::new(
                                    Code::TargetOuRightsInsufficient,
                                    dn.to_string(),
                                    "the bind account cannot change the members of groups written back in the target OU",
                                )
                                .evidence(format!("allowedAttributesEffective on {} = [{}]", o.dn_text, allowed.join(", ")))
                                .fix("Grant Read/Write all properties on group objects in the OU (as Set-ADSyncUnifiedGroupWritebackPermissions does)")
                                .only(&[Target::Gwb]),
                            );
                        }
                    }
                    match ad.ou_rights(dn) {
                        Some(r) if !r.can_create_groups => findings.push(
                            Finding::new(Code::TargetOuRightsInsufficient, dn.to_string(), "the bind account cannot create groups in the target OU")
                                .evidence(format!("allowedChildClassesEffective = [{}]", r.child_classes.join(", ")))
                                .fix("Grant Create/Delete group objects and Read/Write all properties on group objects in the OU (as Set-ADSyncUnifiedGroupWritebackPermissions does)")
                                .only(&[Target::Gwb]),
                        ),
                        Some(_) => {}
                        None => {
                            // A rights probe that ran is evidence enough.
                            if !ad.ou_probe.contains_key(&dn.key()) {
                                gaps.push((section::RIGHTS.to_string(), vec![Target::Gwb]));
                            }
                            findings.push(
                                Finding::new(Code::TargetOuRightsUnknown, dn.to_string(), "the bind account's effective rights on the target OU were not captured")
                                    .fix("Collect with gwb collect --ldap-url (it reads allowedChildClassesEffective)")
                                    .only(&[Target::Gwb]),
                            )
                        }
                    }
                } else {
                    findings.push(
                        Finding::new(Code::TargetOuMissing, dn.to_string(), "the target OU does not exist in AD")
                            .evidence(format!("not among the {} objects of ad.ldif", ad.objects.len()))
                            .fix("Create the OU (and keep it inside Entra Connect's OU filtering scope) or correct --target-ou"),
                    );
                }
            }
        }
        let schema_ext = ad.has_schema_attribute("msDS-ExternalDirectoryObjectId");
        if schema_ext.is_none() {
            gaps.push((section::SCHEMA.to_string(), vec![Target::CloudSync]));
            findings.push(
                Finding::new(Code::EvidenceMissing, section::SCHEMA, "the AD schema was not captured: whether Cloud Sync can match groups (msDS-ExternalDirectoryObjectId) cannot be checked")
                    .fix("Include CN=Schema,CN=Configuration in ad.ldif (gwb collect --ldap-url does)")
                    .only(&[Target::CloudSync]),
            );
        }
        if schema_ext == Some(false) {
            findings.push(
                Finding::new(Code::SchemaExternalIdMissing, "schema", "the AD schema has no msDS-ExternalDirectoryObjectId, which Cloud Sync uses to match groups")
                    .fix("Extend the schema to Windows Server 2016 or later (adprep /forestprep from a 2016+ DC)")
                    .only(&[Target::CloudSync]),
            );
        }
        let unmatched = core::unmatched_by_cloud_sync(&prepared.inputs(s));
        for o in &unmatched {
            findings.push(
                Finding::new(Code::CloudSyncJoinUnmatched, o.dn_text.to_string(), "written back by Entra Connect but not matched by Cloud Sync (it joins on msDS-ExternalDirectoryObjectId only): Cloud Sync would create a second group next to it and never delete this one")
                    .evidence("adminDescription = Group_<objectId>, msDS-ExternalDirectoryObjectId empty")
                    .fix("Before moving to Cloud Sync, copy adminDescription into msDS-ExternalDirectoryObjectId on each group (Microsoft's migration from Connect group writeback v2), e.g. Get-ADGroup -SearchBase <OU> -Filter * -Properties adminDescription | ForEach-Object { Set-ADGroup $_ -Replace @{'msDS-ExternalDirectoryObjectId'=$_.adminDescription} }")
                    .only(&[Target::CloudSync]),
            );
        }
        // Groups Entra Connect writes back while Microsoft moves tenants to Cloud Sync: point to
        // the migration plan.
        if let (true, Some(ou)) = (flags.v1 == Some(true) || flags.v2 == Some(true), &ou_dn) {
            let written = ad
                .children(ou)
                .filter(|o| matches!(o.kind, crate::ad::AdKind::Group { .. }))
                .filter(|o| {
                    o.stamp()
                        .is_some_and(|s| s.source == core::ownership::StampSource::AdminDescription)
                })
                .count();
            if written > 0 {
                let from = if flags.v2 == Some(true) {
                    "connect-v2"
                } else {
                    "connect-v1"
                };
                findings.push(
                    Finding::new(Code::ConnectMigrationPath, ou.to_string(), format!("Entra Connect ({from}) has written {written} group(s) back into this OU; Microsoft is moving tenants from Connect Sync to Cloud Sync (notifications from July 2026), and the move changes what happens to each of them"))
                        .evidence(format!("{written} group(s) stamped in adminDescription only"))
                        .fix(format!("See each group's consequence before moving: gwb migrate plan --from {from} --to cloud-sync (or --to gwb) with the same inputs; docs/migration.md")),
                );
            }
        }
        if ad.recycle_bin_enabled == Some(false) {
            findings.push(
                Finding::new(Code::RecycleBinDisabled, "Recycle Bin", "the AD Recycle Bin is off: a deleted written-back group cannot be restored with its SID")
                    .fix("Enable-ADOptionalFeature 'Recycle Bin Feature' -Scope ForestOrConfigurationSet -Target <forest>"),
            );
        }
    }
    if ou_dn.is_none() {
        gaps.push((section::TARGET_OU.to_string(), Vec::new()));
        findings.push(
            Finding::new(
                Code::TargetOuUnknown,
                "target OU",
                "no target OU is known, so names and existing objects cannot be checked",
            )
            .fix("Pass --target-ou \"OU=…\" (or set unifiedGroupContainer / bundle.json targetOu)"),
        );
    }
    // --- forecast --------------------------------------------------------------------------------
    let inputs = prepared.inputs(s);
    let targets = forecast_targets(&opts.targets, &opts.gate.targets);
    let with_findings =
        core::forecast_targets_then(&targets, &inputs, &opts.policy, overrides, |f| {
            let mut found = Vec::new();
            forecast_findings(f, &inputs, &mut found);
            found
        });
    let mut forecasts = Vec::with_capacity(with_findings.len());
    for (mut f, mut found) in with_findings {
        if let Some(cs) = opts.cloud_sync.as_deref()
            && f.target == Target::CloudSync
        {
            crate::cloudsync::forecast::refine(&mut f, cs, &s.tenant, s.ad.as_ref());
            found.clear();
            forecast_findings(&f, &inputs, &mut found);
            found.extend(cloud_sync_findings(cs, s));
        } else if f.target == Target::CloudSync {
            found.push(cloud_sync_defaults_assumed());
        }
        findings.extend(found);
        forecasts.push(f);
    }
    for f in &forecasts {
        let target = f.target;
        // Members matter only for groups this target writes back.
        for g in &f.groups {
            if g.outcome == Outcome::Writeback && !g.members.collected {
                gaps.push((section::MEMBERS.to_string(), vec![target]));
            }
        }
    }
    let mut no_members: BTreeMap<String, (String, Vec<Target>)> = BTreeMap::new();
    for f in &forecasts {
        for g in f
            .groups
            .iter()
            .filter(|g| g.outcome == Outcome::Writeback && !g.members.collected)
        {
            no_members
                .entry(g.id.clone())
                .or_insert_with(|| (g.display_name.clone(), Vec::new()))
                .1
                .push(f.target);
        }
    }
    if !no_members.is_empty() {
        missing.push(section::MEMBERS.into());
    }
    for (id, (name, ts)) in no_members {
        findings.push(
            Finding::new(
                Code::MembersNotCollected,
                id,
                format!("{} has no members array: its member limit, nesting and member resolution are unknown", quoted(&name)),
            )
            .fix("Collect members (gwb collect does) or add a \"members\" array to the group")
            .only(&ts),
        );
    }
    // --- severity model, waivers, verdicts, gate ------------------------------------------------
    let as_of_text = opts
        .as_of
        .clone()
        .unwrap_or_else(|| opts.generated_at.clone());
    let as_of = severity::parse_time(&as_of_text);
    let mut findings = merge_targets(findings);
    for f in &mut findings {
        f.severity = severity::effective(f.code, as_of, &opts.overrides);
    }
    apply_waivers(&mut findings, &opts.waivers, as_of);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(&b.code))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    let incomplete_list: Vec<String> = incomplete.into_iter().collect();
    let gated = gate::gating_targets(&targets, &opts.gate.targets, flags);
    let verdicts: Vec<TargetVerdict> = targets
        .iter()
        .map(|&target| {
            verdict(
                target,
                &findings,
                &gaps,
                flags,
                as_of,
                &opts.overrides,
                gated.contains(&target),
            )
        })
        .collect();
    let gate = gate::evaluate(&opts.gate, &verdicts, &missing, &incomplete_list);
    Ok(Report {
        format: REPORT_FORMAT,
        gwb_version: env!("CARGO_PKG_VERSION"),
        generated_at: opts.generated_at.clone(),
        as_of: as_of_text,
        snapshot: SnapshotInfo {
            origin: s.origin.clone(),
            tenant_id: t.tenant_id.clone(),
            collected_at: t.collected_at.clone(),
        },
        policy: opts.policy,
        flags,
        connect_version: cv.map(|c| c.0),
        target_ou: ou_dn.map(|d| d.to_string()),
        evidence: EvidenceStatus {
            complete: missing.is_empty() && incomplete_list.is_empty(),
            missing,
            incomplete: incomplete_list,
        },
        overrides: opts.overrides.clone(),
        gate,
        verdicts,
        findings,
        forecast: forecasts,
    })
}

/// The forecast targets: the requested ones (default all), plus any gating target, in
/// `Target::ALL` order.
fn forecast_targets(requested: &[Target], gating: &[Target]) -> Vec<Target> {
    Target::ALL
        .iter()
        .copied()
        .filter(|t| requested.is_empty() || requested.contains(t) || gating.contains(t))
        .collect()
}

/// One target's verdict: unavailable, else blocked by a counted error, else incomplete when a
/// blocking check lacks its evidence, else ready (with warnings).
fn verdict(
    target: Target,
    findings: &[Finding],
    gaps: &[(String, Vec<Target>)],
    flags: Flags,
    as_of: Option<time::OffsetDateTime>,
    overrides: &Overrides,
    gated: bool,
) -> TargetVerdict {
    let applicable: Vec<&Finding> = findings.iter().filter(|f| f.applies_to(target)).collect();
    let counted = || applicable.iter().filter(|f| f.counts());
    let errors = counted().filter(|f| f.severity == Severity::Error).count();
    let warnings = counted()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let waived = applicable.iter().filter(|f| !f.counts()).count();
    let blocking = counted()
        .filter(|f| f.severity == Severity::Error && !f.code.is_evidence_gap())
        .count();
    // Sections missing for this target, and the blocking checks they hide.
    let gap_sections: BTreeSet<&str> = gaps
        .iter()
        .filter(|(_, ts)| ts.is_empty() || ts.contains(&target))
        .map(|(s, _)| s.as_str())
        .collect();
    let mut missing: BTreeSet<String> = BTreeSet::new();
    let mut unchecked = Vec::new();
    for &c in Code::ALL {
        if c.is_evidence_gap()
            || !c.applies_to(target)
            || severity::effective(c, as_of, overrides) != Severity::Error
        {
            continue;
        }
        let hidden: Vec<&str> = c
            .needs()
            .iter()
            .copied()
            .filter(|n| gap_sections.contains(n))
            .collect();
        if !hidden.is_empty() || (gap_sections.contains(section::ANY) && !c.needs().is_empty()) {
            // A check that reported a finding for this target ran: it is not "not checked".
            if !applicable.iter().any(|f| f.code == c) {
                unchecked.push(c);
            }
            missing.extend(hidden.iter().map(|h| h.to_string()));
        }
    }
    // An export that lost data, or a section gwb does not know: any check may rest on it.
    if gap_sections.contains(section::ANY) {
        missing.insert("data lost in an export or an unfinished section".into());
    }
    // A collector that did not finish a section needed by a check is incomplete too.
    let verdict = if target == Target::ConnectV2 && flags.v2 == Some(false) {
        Verdict::Unavailable
    } else if blocking > 0 {
        Verdict::Blocked
    } else if !missing.is_empty() {
        Verdict::Incomplete
    } else if warnings > 0 || errors > 0 {
        Verdict::ReadyWithWarnings
    } else {
        Verdict::Ready
    };
    TargetVerdict {
        target,
        verdict,
        errors,
        warnings,
        blocking,
        waived,
        missing: missing.into_iter().collect(),
        unchecked,
        gated,
    }
}

/// Mark findings a valid waiver accepts; an expired waiver and one that matches nothing become
/// findings of their own.
fn apply_waivers(
    findings: &mut Vec<Finding>,
    waivers: &[Waiver],
    as_of: Option<time::OffsetDateTime>,
) {
    let mut extra = Vec::new();
    for w in waivers {
        let mut matched: Vec<Target> = Vec::new();
        let mut any = false;
        let mut all_targets = false;
        for f in findings
            .iter_mut()
            .filter(|f| w.matches(f.code, &f.subject))
        {
            any = true;
            if f.targets.is_empty() {
                all_targets = true;
            }
            matched.extend(f.targets.iter().copied());
            if !w.expired(as_of) {
                f.waived = Some(Waived {
                    reason: w.reason.clone(),
                    expires: w.expires.clone(),
                    approved_by: w.approved_by.clone(),
                });
            }
        }
        if !any {
            extra.push(
                Finding::new(
                    Code::WaiverUnmatched,
                    format!("{} {}", w.code.as_str(), w.subject),
                    format!("the waiver for {} on {} matches no finding", w.code.as_str(), w.subject),
                )
                .evidence(w.source.clone())
                .fix("Remove the waiver, or correct its code and subject (a group's subject is its object id)"),
            );
        } else if w.expired(as_of) {
            matched.sort();
            matched.dedup();
            let mut f = Finding::new(
                Code::WaiverExpired,
                format!("{} {}", w.code.as_str(), w.subject),
                format!(
                    "the waiver for {} on {} expired on {} (approved by {}: {}); the finding counts again",
                    w.code.as_str(),
                    w.subject,
                    w.expires,
                    w.approved_by,
                    w.reason
                ),
            )
            .evidence(w.source.clone())
            .fix("Renew the waiver with a new expires date (approved again), or fix the finding");
            if !all_targets {
                f.targets = matched;
            }
            extra.push(f);
        }
    }
    findings.extend(extra);
}

/// The same finding raised for several targets is reported once, listing the targets.
fn merge_targets(findings: Vec<Finding>) -> Vec<Finding> {
    // The same finding raised for several targets: indexed by a hash of everything but the
    // targets, so merging stays linear in the number of findings.
    let state = foldhash::fast::RandomState::default();
    let key = |f: &Finding| -> u64 {
        use std::hash::BuildHasher;
        state.hash_one((
            f.code,
            f.severity,
            &f.subject,
            &f.message,
            &f.evidence,
            &f.remediation,
        ))
    };
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut index: std::collections::HashMap<u64, Vec<usize>> = std::collections::HashMap::new();
    for f in findings {
        if f.targets.is_empty() {
            out.push(f);
            continue;
        }
        let k = key(&f);
        let slot = index.entry(k).or_default();
        if let Some(&i) = slot.iter().find(|&&i| {
            let p = &out[i];
            p.code == f.code
                && p.severity == f.severity
                && p.subject == f.subject
                && p.message == f.message
                && p.evidence == f.evidence
                && p.remediation == f.remediation
        }) {
            let prev = &mut out[i];
            for t in f.targets {
                if !prev.targets.contains(&t) {
                    prev.targets.push(t);
                }
            }
            prev.targets.sort();
            continue;
        }
        slot.push(out.len());
        out.push(f);
    }
    out
}

/// Findings that read the forecast of one target: one per subject (group), grouped only when
/// rendered.
/// Tenant-wide checks of groups whose source of authority moved to the cloud: the evidence
/// gap when their state was not collected, the Connect floor, converted users among members,
/// and rollbacks that a writeback stamp blocks.
fn soa_findings(
    s: &Snapshot,
    cv: Option<&(String, String)>,
    incomplete: &BTreeSet<String>,
    findings: &mut Vec<Finding>,
    gaps: &mut Vec<(String, Vec<Target>)>,
) {
    use crate::bundle::tenant::SyncState;
    let groups: Vec<&crate::bundle::tenant::Group> = s.tenant.groups.iter().flatten().collect();
    let unknown = groups
        .iter()
        .filter(|g| g.sync_state() == SyncState::Unknown)
        .count();
    let soa_incomplete = incomplete
        .iter()
        .any(|i| i.eq_ignore_ascii_case(section::SOA));
    if unknown > 0 && !soa_incomplete {
        gaps.push((section::SOA.to_string(), SOA_TARGETS.to_vec()));
        findings.push(
            Finding::new(
                Code::EvidenceMissing,
                section::SOA,
                format!(
                    "{unknown} group(s) carry an on-premises SID and are not synced, but their onPremisesSyncBehavior was not collected: converted to the cloud, rolling back or neither cannot be told apart, so they are not written"
                ),
            )
            .fix(format!(
                "Collect it with gwb collect (needs {}), or add \"onPremisesSyncBehavior\": {{\"isCloudManaged\": …}} to each group (Get-MgGroupOnPremiseSyncBehavior output)",
                core::soa::PERMISSION
            ))
            .only(SOA_TARGETS),
        );
    }
    let converted: Vec<&&crate::bundle::tenant::Group> = groups
        .iter()
        .filter(|g| g.sync_state() == SyncState::Converted)
        .collect();
    if !converted.is_empty()
        && let Some((raw, src)) = cv
        && let Some(v) = Version::parse(raw)
        && v < Version(vec![2, 5, 76, 0])
    {
        findings.push(
            Finding::new(
                Code::SoaConnectBelowFloor,
                "Entra Connect",
                format!(
                    "{} group(s) are converted to the cloud, but Entra Connect {v} is older than {}: it does not honour the conversion and keeps writing AD values over them",
                    converted.len(),
                    core::soa::CONNECT_FLOOR
                ),
            )
            .evidence(src.clone())
            .fix("Upgrade every Entra Connect server to 2.5.76.0 or later")
            .only(SOA_TARGETS),
        );
    }
    for g in &converted {
        let users: Vec<&str> = g
            .members
            .iter()
            .flatten()
            .filter(|m| m.member_type() == crate::bundle::tenant::MemberType::User)
            .filter(|m| {
                m.on_premises_sync_enabled != Some(true)
                    && m.on_premises_security_identifier
                        .as_deref()
                        .is_some_and(|x| !x.trim().is_empty())
            })
            .map(|m| m.display_name.as_deref().unwrap_or(&m.id))
            .collect();
        if !users.is_empty() {
            findings.push(
                Finding::new(
                    Code::SoaMemberConvertedUser,
                    g.id.to_ascii_lowercase(),
                    format!(
                        "{} member(s) of the converted group {} are users whose source of authority is the cloud ({}): a groups-only Cloud Sync configuration writes no reference for them",
                        users.len(),
                        quoted(g.name()),
                        users.join(", ")
                    ),
                )
                .fix("Provision those users to AD (users-and-groups Cloud Sync configuration), or accept that they are not members in AD")
                .only(&[Target::CloudSync]),
            );
        }
    }
    if let Some(ad) = &s.ad {
        for g in groups
            .iter()
            .filter(|g| g.sync_state() == SyncState::RollbackPending)
        {
            let Some(o) = g.on_premises_sid().and_then(|sid| ad.by_sid(sid)) else {
                continue;
            };
            if let Some(st) = o.stamp() {
                findings.push(
                    Finding::new(
                        Code::SoaRollbackStamped,
                        g.id.to_ascii_lowercase(),
                        format!(
                            "{} is rolling back to AD, but its AD group {} carries the writeback stamp Group_{}: Entra Connect's default filter skips it, so AD never takes it back",
                            quoted(g.name()),
                            o.dn_text,
                            st.object_id
                        ),
                    )
                    .evidence(o.dn_text.to_string())
                    .fix("Run gwb undo for the run that adopted it (or clear adminDescription and msDS-ExternalDirectoryObjectId), then let Entra Connect run"),
                );
            }
        }
    }
}

fn forecast_findings(f: &Forecast, inputs: &Inputs, out: &mut Vec<Finding>) {
    let t = f.target;
    let only = [t];
    for g in &f.groups {
        // Most groups raise no finding: quote the name only for those that do.
        let name = Quoted(&g.display_name);
        match g.reason {
            GroupReason::NameCollision => out.push(
                Finding::new(Code::NameCollision, g.id.clone(), format!("{name}: {}", g.detail))
                    .evidence(g.cn.clone().unwrap_or_default())
                    .fix("Rename or move the existing object, rename the cloud group, or use the other --cn-format")
                    .only(&only),
            ),
            GroupReason::MemberLimitExceeded => out.push(
                Finding::new(Code::MemberLimitExceeded, g.id.clone(), format!("{name} is over the member limit and is not written back: {}", g.detail))
                    .evidence(format!("{} members", g.members.total))
                    .fix("Split the group, or (Microsoft 365 groups, Connect) raise the limit to 250,000 by disabling the 'Out to AD - Group Writeback Member Limit' rule (--member-limit raised)")
                    .only(&only),
            ),
            GroupReason::SoaOriginalMissing | GroupReason::SoaOriginalDuplicate => out.push(
                Finding::new(Code::SoaOriginalMissing, g.id.clone(), format!("{name}: {}", g.detail))
                    .evidence(g.reason.code())
                    .fix("Find or restore the original AD group (AD Recycle Bin), or remove the duplicate SID holder")
                    .only(&only),
            ),
            GroupReason::SoaScopeNotUniversal => out.push(
                Finding::new(Code::SoaScopeNotUniversal, g.id.clone(), format!("{name}: {}", g.detail))
                    .fix("Change the AD group's scope to Universal (Set-ADGroup -GroupScope Universal)")
                    .only(&only),
            ),
            GroupReason::SoaExchangeManaged => out.push(
                Finding::new(Code::SoaExchangeManaged, g.id.clone(), format!("{name}: {}", g.detail))
                    .only(&only),
            ),
            GroupReason::SoaConverted if t == Target::CloudSync => {
                if let Some(old) = &g.existing_dn {
                    out.push(
                        Finding::new(Code::SoaOuNotPreserved, g.id.clone(), format!("{name}: Cloud Sync moves its original AD group {old} to {} unless the GroupDN container and CN expressions are configured", g.dn.as_deref().unwrap_or("its configured container")))
                            .evidence(old.clone())
                            .fix("Capture the group's DN in the GroupDN directory extension (AD-to-Entra Cloud Sync mapping of distinguishedName), then use it in the parentDistinguishedName and cn expressions (docs/soa.md)")
                            .only(&only),
                    );
                }
            }
            GroupReason::UnsupportedDistributionList | GroupReason::UnsupportedMailEnabledSecurity => out.push(
                Finding::new(Code::UnsupportedGroups, g.id.clone(), format!("{name} cannot be written back ({})", g.reason.code()))
                    .fix("Recreate it as a Microsoft 365 group if it must reach AD")
                    .only(&only),
            ),
            _ => {}
        }
        match g.outcome {
            Outcome::Delete => {
                let rb = inputs.ad.and_then(|a| a.recycle_bin_enabled);
                out.push(
                    Finding::new(Code::AdGroupsDeleted, g.id.clone(), format!("the AD group of {name} would be deleted ({})", g.reason.code()))
                        .evidence(format!(
                            "{}; AD Recycle Bin: {}",
                            g.existing_dn.as_deref().unwrap_or("no DN"),
                            match rb {
                                Some(true) => "on",
                                Some(false) => "off",
                                None => "unknown",
                            }
                        ))
                        .fix("Review the deletion; make sure the AD Recycle Bin is on")
                        .only(&only),
                );
            }
            Outcome::Keep => out.push(
                Finding::new(Code::AdGroupsKept, g.id.clone(), format!("the AD group of {name} stays in AD untouched and is no longer updated ({})", g.reason.code()))
                    .evidence(g.existing_dn.clone().unwrap_or_default())
                    .fix("With --deletion modified it would be deleted instead")
                    .only(&only),
            ),
            _ => {}
        }
        let mut counts: BTreeMap<MemberReason, usize> = BTreeMap::new();
        let mut devices = 0;
        for m in &g.members.skipped {
            if m.reason == MemberReason::MemberDomainLocalGroup {
                out.push(
                    Finding::new(Code::DomainLocalNesting, g.id.clone(), format!("{name} nests a domain-local group: {}", m.detail))
                        .evidence(format!("member {}", m.id))
                        .fix("Remove the member from the cloud group, or change the AD group's scope to Global or Universal")
                        .only(&only),
                );
                continue;
            }
            if m.reason == MemberReason::MemberDeviceRequiresDeviceWriteback {
                devices += 1;
            }
            *counts.entry(m.reason).or_insert(0) += 1;
        }
        if devices > 0 {
            out.push(
                Finding::new(Code::DeviceWritebackRequired, g.id.clone(), format!("{devices} Entra registered or joined device member(s) of {name} are not written: device writeback is not on"))
                    .fix("Enable device writeback in Entra Connect if these devices must be members in AD")
                    .only(&only),
            );
        }
        let skipped: usize = counts.values().sum();
        if skipped > 0 {
            let parts: Vec<String> = counts
                .iter()
                .map(|(r, n)| format!("{n} {}", r.code()))
                .collect();
            out.push(
                Finding::new(
                    Code::MembersSkipped,
                    g.id.clone(),
                    format!(
                        "{skipped} member(s) of {name} are not written: {}",
                        parts.join(", ")
                    ),
                )
                .only(&only),
            );
        }
    }
    let c = f.counts();
    let n = |o| c.get(&o).copied().unwrap_or(0);
    out.push(
        Finding::new(
            Code::ForecastSummary,
            t.as_str(),
            format!(
                "{}: {} written back, {} skipped, {} kept, {} deleted",
                t.as_str(),
                n(Outcome::Writeback),
                n(Outcome::Skip),
                n(Outcome::Keep),
                n(Outcome::Delete)
            ),
        )
        .only(&only),
    );
}

#[cfg(test)]
mod tests;

/// Without a configuration in the bundle, the cloud-sync forecast is gwb's approximation, not a
/// configuration's: said once, with where it differs from Microsoft's defaults for a new
/// configuration.
fn cloud_sync_defaults_assumed() -> Finding {
    Finding::new(
        Code::CloudSyncDefaultsAssumed,
        "cloud-sync",
        "no Cloud Sync configuration in the bundle, so the cloud-sync forecast is not a configuration's: it takes every cloud security group as in scope (securityEnabled true, mailEnabled false, not synced from AD), names groups with the default cn <first 51 characters of displayName>_<last 12 of objectId>, places them in the target OU, and writes every member it can match. Microsoft's defaults for a new configuration differ in two places: the container is CN=Users,<domain> (parentDistinguishedName), and membership to on-premises users is off until turned on. Add the configuration to forecast Cloud Sync as it is configured",
    )
    .evidence("no cloud-sync/<domain>/ directory (servicePrincipal.json, jobs.json, schema.json, appRoleAssignedTo.json)")
}

/// Findings about the bundle's Cloud Sync configurations themselves.
fn cloud_sync_findings(cs: &crate::cloudsync::forecast::Input, s: &Snapshot) -> Vec<Finding> {
    use crate::cloudsync::forecast::Issue;
    crate::cloudsync::forecast::configuration_findings(cs, &s.tenant, s.ad.as_ref())
        .into_iter()
        .map(|f| {
            let (code, fix) = match f.issue {
                Issue::JobNotRunning => (
                    Code::CloudSyncJobNotRunning,
                    "Fix the cause the provisioning logs name, then Restart sync",
                ),
                Issue::LastRunErrors => (
                    Code::CloudSyncLastRunErrors,
                    "Open the configuration's provisioning logs and fix the groups that failed",
                ),
                Issue::ScopeLimit => (
                    Code::CloudSyncScopeLimit,
                    "Narrow the configuration's scope",
                ),
                Issue::GovernanceLicense => (
                    Code::CloudSyncGovernanceLicense,
                    "License Entra ID Governance, or keep to two configurations",
                ),
                Issue::SwitchContainer => (
                    Code::CloudSyncSwitchContainer,
                    "Wrap the Switch in IgnoreFlowIfNullOrEmpty, or use nested IIF",
                ),
                Issue::Problem => (
                    Code::CloudSyncConfigurationProblem,
                    "Correct the configuration (docs/cloud-sync.md)",
                ),
            };
            Finding::new(code, f.subject, f.message)
                .evidence(f.evidence)
                .fix(fix)
                .only(&[Target::CloudSync])
        })
        .collect()
}
