//! The `cloud-sync` forecast from the bundle's configuration rather than from assumptions: per
//! group, whether the configuration has it in scope (and which check decides), the DN its `cn`
//! and `parentDistinguishedName` mappings give, the AD object it joins (the anchor
//! `msDS-ExternalDirectoryObjectId` anywhere in the domain, or the SID of a converted group),
//! whether that object is renamed or moved, and which members are written under the
//! "Provision membership to on-premises users" toggle.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ad::{AdKind, AdObject, AdSnapshot, Dn, GroupScope};
use crate::bundle::tenant::{Group, Member, TenantDoc};
use crate::core::{
    Forecast, GroupForecast, GroupReason, MemberReason, Outcome, SkippedMember, Target,
};
use crate::expr::{Engine, Source, Stop, Value};

use super::{Configuration, MappingSource};

/// What the audit needs to forecast Cloud Sync from its configuration.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub configurations: Vec<Configuration>,
    /// "Provision membership to on-premises users" (off by default since 2026).
    pub membership: bool,
    /// Group properties the typed tenant model does not keep (directory extensions), by
    /// lower-case group id.
    pub extra: HashMap<String, serde_json::Map<String, serde_json::Value>>,
}

/// A group's attributes from the typed tenant model plus its extra properties.
pub struct GroupSource<'a> {
    pub group: &'a Group,
    pub extra: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

fn opt_str(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| Value::Str(s.clone()))
}

fn opt_bool(v: Option<bool>) -> Value {
    v.map_or(Value::Null, Value::Bool)
}

impl Source for GroupSource<'_> {
    fn attribute(&self, name: &str) -> Value {
        let g = self.group;
        match name {
            "objectId" | "id" => Value::Str(g.id.clone()),
            "dirSyncEnabled" => Value::Bool(g.on_premises_sync_enabled == Some(true)),
            "displayName" => opt_str(&g.display_name),
            "description" => opt_str(&g.description),
            "mail" => opt_str(&g.mail),
            "mailNickname" => opt_str(&g.mail_nickname),
            "mailEnabled" => opt_bool(g.mail_enabled),
            "securityEnabled" => opt_bool(g.security_enabled),
            "onPremisesSyncEnabled" => opt_bool(g.on_premises_sync_enabled),
            "onPremisesSecurityIdentifier" => opt_str(&g.on_premises_security_identifier),
            "membershipRule" => opt_str(&g.membership_rule),
            "isAssignableToRole" => opt_bool(g.is_assignable_to_role),
            "createdDateTime" => opt_str(&g.created_date_time),
            "groupTypes" => Value::Multi(g.group_types.clone()),
            "proxyAddresses" => Value::Multi(g.proxy_addresses.clone()),
            "members" => Value::Null,
            other => super::source::json_value(self.extra.and_then(|m| m.get(other))),
        }
    }
}

/// The configuration for the AD domain of the snapshot: the one whose directory name is the
/// domain's DNS name (`DC=contoso,DC=com` → `contoso.com`), or the only one.
pub fn configuration_for<'a>(
    input: &'a Input,
    ad: Option<&AdSnapshot>,
) -> Option<&'a Configuration> {
    let dns = ad.and_then(|a| a.domain.as_ref()).map(dns_name);
    if let Some(d) = &dns
        && let Some(c) = input
            .configurations
            .iter()
            .find(|c| c.domain.eq_ignore_ascii_case(d))
    {
        return Some(c);
    }
    match input.configurations.as_slice() {
        [only] if dns.is_none() => Some(only),
        _ => None,
    }
}

fn dns_name(domain: &Dn) -> String {
    let text = domain.to_string();
    text.split(',')
        .filter_map(|rdn| {
            let (k, v) = rdn.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("DC")
                .then(|| v.trim().to_string())
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// How the group would be written, as far as the mappings tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub cn: String,
    pub parent: String,
    pub dn: String,
}

/// Evaluate a mapping for a group: `Ok(Some(text))`, `Ok(None)` when it gives null (or is not
/// sent), `Err(why)` when it cannot be known.
fn mapped(
    cfg: &Configuration,
    engine: &Engine,
    target: &str,
    src: &dyn Source,
    create: bool,
) -> Result<Option<String>, String> {
    let Some(m) = cfg.mapping(target) else {
        return Ok(None);
    };
    if m.create_only() && !create {
        return Ok(None);
    }
    let v = match &m.source {
        MappingSource::Expression(p) => match engine.evaluate(p, src) {
            Ok(v) => v,
            Err(Stop::IgnoreFlow) => Value::Null,
            Err(s) => return Err(format!("{target}: {s}")),
        },
        MappingSource::DefaultOnly | MappingSource::Members => Value::Null,
        MappingSource::Invalid(e) => {
            return Err(format!("{target}: the expression does not parse: {e}"));
        }
    };
    let text = v.text().filter(|t| !t.is_empty());
    // "Default value if null" is provisioned only when the object is created.
    Ok(match text {
        Some(t) => Some(t),
        None if create => m.default_value.clone(),
        None => None,
    })
}

/// The AD object Cloud Sync joins: the anchor `msDS-ExternalDirectoryObjectId` =
/// `Group_<objectId>` anywhere in the domain ("the engine searches the target domain"), else,
/// for a converted group, the AD group with its SID.
pub fn joined<'a>(
    ad: &'a AdSnapshot,
    anchors: &HashMap<String, &'a AdObject>,
    g: &Group,
) -> Option<(&'a AdObject, &'static str)> {
    if let Some(o) = anchors.get(&g.id.to_ascii_lowercase()) {
        return Some((o, "msDS-ExternalDirectoryObjectId"));
    }
    g.on_premises_security_identifier
        .as_deref()
        .and_then(|sid| ad.by_sid(sid))
        .map(|o| (o, "objectSid"))
}

fn anchor_index(ad: &AdSnapshot) -> HashMap<String, &AdObject> {
    let mut m = HashMap::new();
    for o in &ad.objects {
        if let Some(a) = o.external_directory_object_id.as_deref()
            && let Some(id) = a
                .get(..6)
                .filter(|p| p.eq_ignore_ascii_case("Group_"))
                .map(|_| &a[6..])
        {
            m.entry(id.to_ascii_lowercase()).or_insert(o);
        }
    }
    m
}

/// Rewrite the `cloud-sync` forecast from the configuration. Groups the core already skips
/// for a reason that also holds under Cloud Sync keep it; deletes of AD objects whose group no
/// longer exists are left as they are.
pub fn refine(f: &mut Forecast, input: &Input, tenant: &TenantDoc, ad: Option<&AdSnapshot>) {
    if f.target != Target::CloudSync {
        return;
    }
    let Some(cfg) = configuration_for(input, ad) else {
        return;
    };
    let engine = Engine::new();
    let groups: HashMap<&str, &Group> = tenant
        .groups
        .iter()
        .flatten()
        .map(|g| (g.id.as_str(), g))
        .collect();
    let anchors = ad.map(anchor_index).unwrap_or_default();
    for gf in &mut f.groups {
        let Some(g) = groups.get(gf.id.as_str()).copied() else {
            continue;
        };
        let src = GroupSource {
            group: g,
            extra: input.extra.get(&g.id.to_ascii_lowercase()),
        };
        refine_group(gf, cfg, &engine, g, &src, ad, &anchors, input.membership);
    }
}

#[allow(clippy::too_many_arguments)]
fn refine_group(
    gf: &mut GroupForecast,
    cfg: &Configuration,
    engine: &Engine,
    g: &Group,
    src: &GroupSource<'_>,
    ad: Option<&AdSnapshot>,
    anchors: &HashMap<String, &AdObject>,
    membership: bool,
) {
    let scope = cfg.scope_of(engine, &g.id, src);
    let decisive = scope
        .steps
        .iter()
        .find(|s| s.result == "fail")
        .or_else(|| scope.steps.iter().find(|s| s.result == "unknown"))
        .map(|s| format!("{}: {}", s.check, s.detail));
    match scope.in_scope {
        Some(false) => {
            if gf.outcome == Outcome::Writeback {
                gf.outcome = Outcome::Skip;
                gf.reason = GroupReason::CloudSyncOutOfScope;
            }
            gf.detail = format!(
                "configuration {}: not in scope ({})",
                cfg.domain,
                decisive.unwrap_or_default()
            );
            gf.cn = None;
            gf.dn = None;
            // Members of a group that is not provisioned are not written.
            gf.members.resolved.clear();
            gf.members.skipped.clear();
            return;
        }
        None => {
            gf.detail = format!(
                "configuration {}: whether the group is in scope cannot be told ({}); forecast as if it were",
                cfg.domain,
                decisive.unwrap_or_default()
            );
        }
        Some(true) => {}
    }
    if gf.outcome != Outcome::Writeback {
        return;
    }
    let existing = ad.and_then(|a| joined(a, anchors, g));
    let create = existing.is_none();
    let cn = mapped(cfg, engine, "cn", src, create);
    let parent = mapped(cfg, engine, "parentDistinguishedName", src, create);
    let mut notes: Vec<String> = Vec::new();
    if scope.in_scope == Some(true) {
        notes.push(format!("configuration {}: in scope", cfg.domain));
    } else {
        notes.push(std::mem::take(&mut gf.detail));
    }
    match existing {
        Some((obj, by)) => {
            gf.existing_dn = Some(obj.dn_text.to_string());
            if let AdKind::Group { scope, security } = obj.kind
                && (scope != GroupScope::Universal || !security)
            {
                gf.outcome = Outcome::Skip;
                gf.reason = GroupReason::CloudSyncInvalidGroupType;
                gf.detail = format!(
                    "configuration {}: joins {} by {by}, which is not a Universal security group; Cloud Sync refuses it (HybridSynchronizationActiveDirectoryInvalidGroupType)",
                    cfg.domain, obj.dn_text
                );
                gf.cn = None;
                gf.dn = None;
                return;
            }
            let cur_cn = obj.dn.rdn_value().unwrap_or("").to_string();
            let cur_parent = obj.dn.parent().map(|p| p.to_string()).unwrap_or_default();
            let new_cn = match &cn {
                Ok(Some(c)) => c.clone(),
                Ok(None) => cur_cn.clone(),
                Err(e) => {
                    notes.push(format!("the cn cannot be forecast ({e})"));
                    cur_cn.clone()
                }
            };
            let new_parent = match &parent {
                Ok(Some(p)) => p.clone(),
                Ok(None) => cur_parent.clone(),
                Err(e) => {
                    notes.push(format!("the container cannot be forecast ({e})"));
                    cur_parent.clone()
                }
            };
            notes.push(format!("joins {} by {by}", obj.dn_text));
            match Dn::parse(&new_parent) {
                Ok(p) => {
                    let dn = p.child("CN", &new_cn);
                    if new_cn != cur_cn {
                        notes.push(format!("renamed from CN={cur_cn} to CN={new_cn}"));
                    }
                    if p.key() != obj.dn.parent().map(|x| x.key()).unwrap_or_default() {
                        notes.push(format!("moved from {cur_parent} to {new_parent}"));
                    }
                    gf.cn = Some(new_cn);
                    gf.dn = Some(dn.to_string());
                }
                Err(e) => {
                    notes.push(format!("the container {new_parent:?} is not a DN ({e}); Cloud Sync fails this group"));
                    gf.cn = None;
                    gf.dn = None;
                }
            }
        }
        None => match (&cn, &parent) {
            (Ok(Some(c)), Ok(Some(p))) => match Dn::parse(p) {
                Ok(pd) => {
                    gf.cn = Some(c.clone());
                    gf.dn = Some(pd.child("CN", c).to_string());
                    notes.push("created (no AD object carries its anchor or SID)".into());
                }
                Err(e) => {
                    notes.push(format!(
                        "the container {p:?} is not a DN ({e}); Cloud Sync fails this group"
                    ));
                    gf.cn = None;
                    gf.dn = None;
                }
            },
            (Err(e), _) | (_, Err(e)) => {
                notes.push(format!("the DN cannot be forecast ({e})"));
                gf.cn = None;
                gf.dn = None;
            }
            (Ok(None), _) => {
                notes.push(
                    "the cn mapping gives nothing; Cloud Sync cannot create the group".into(),
                );
                gf.cn = None;
                gf.dn = None;
            }
            (_, Ok(None)) => {
                notes.push(
                    "the container mapping gives nothing; Cloud Sync cannot create the group"
                        .into(),
                );
                gf.cn = None;
                gf.dn = None;
            }
        },
    }
    gf.detail = notes.join("; ");
    members(gf, g, membership);
}

/// Members per the toggle and the nesting rules (how-provisioning-to-active-directory-works,
/// 2026-08-19): on-premises users only when "Provision membership to on-premises users" is on;
/// Entra security groups and converted groups nested; groups synced from AD never.
fn members(gf: &mut GroupForecast, g: &Group, membership: bool) {
    let by_id: HashMap<&str, &Member> = g
        .members
        .iter()
        .flatten()
        .map(|m| (&*m.id, m.as_ref()))
        .collect();
    let resolved = std::mem::take(&mut gf.members.resolved);
    for r in resolved {
        let m = by_id.get(&*r.id);
        let is_group = m
            .and_then(|m| m.odata_type.as_deref())
            .is_some_and(|t| t.ends_with(".group"));
        let synced = m.is_some_and(|m| m.on_premises_sync_enabled == Some(true));
        let skip = if is_group && synced {
            Some((
                MemberReason::MemberUnsupportedType,
                "a group synced from AD: Cloud Sync writes no reference to it",
            ))
        } else if !is_group && !membership {
            Some((
                MemberReason::MemberOnPremisesMembershipOff,
                "an on-premises user: written only when \"Provision membership to on-premises users\" is on (off by default; --cloud-sync-membership on)",
            ))
        } else {
            None
        };
        match skip {
            Some((reason, detail)) => gf.members.skipped.push(Arc::new(SkippedMember {
                id: r.id.clone(),
                display_name: m.and_then(|m| m.display_name.clone()),
                reason,
                detail: std::borrow::Cow::Borrowed(detail),
            })),
            None => gf.members.resolved.push(r),
        }
    }
}

/// The configurations of a bundle directory for the audit, with the group properties their
/// mappings read that the tenant model does not keep. `None` without configurations.
pub fn load_input(
    bundle: &std::path::Path,
    membership: bool,
) -> Result<Option<Input>, crate::error::InputError> {
    let configurations = super::load_bundle(bundle)?;
    if configurations.is_empty() {
        return Ok(None);
    }
    // Only properties outside the typed model (directory extensions) need a second read.
    let typed = [
        "objectId",
        "id",
        "dirSyncEnabled",
        "displayName",
        "description",
        "mail",
        "mailNickname",
        "mailEnabled",
        "securityEnabled",
        "onPremisesSyncEnabled",
        "onPremisesSecurityIdentifier",
        "membershipRule",
        "isAssignableToRole",
        "createdDateTime",
        "groupTypes",
        "proxyAddresses",
        "members",
    ];
    let mut wanted: Vec<String> = Vec::new();
    for c in &configurations {
        let mut names: Vec<String> = c
            .mappings
            .iter()
            .filter_map(|m| match &m.source {
                MappingSource::Expression(p) => Some(p.attributes()),
                _ => None,
            })
            .flatten()
            .collect();
        names.extend(
            c.filters
                .iter()
                .chain(&c.input_filters)
                .flat_map(|g| g.clauses.iter().map(|cl| cl.attribute.clone())),
        );
        for n in names {
            if !typed.contains(&n.as_str()) && !wanted.contains(&n) {
                wanted.push(n);
            }
        }
    }
    let mut extra = HashMap::new();
    if !wanted.is_empty() && bundle.join("tenant.json").is_file() {
        let (groups, _) = super::source::load_groups(bundle)?;
        for g in groups {
            let props: serde_json::Map<String, serde_json::Value> = g
                .props
                .iter()
                .filter(|(k, _)| wanted.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !props.is_empty() {
                extra.insert(g.id().to_ascii_lowercase(), props);
            }
        }
    }
    Ok(Some(Input {
        configurations,
        membership,
        extra,
    }))
}

/// A configuration-level problem the audit reports as a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issue {
    JobNotRunning,
    LastRunErrors,
    ScopeLimit,
    GovernanceLicense,
    SwitchContainer,
    Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFinding {
    pub issue: Issue,
    /// The configuration's domain (or "tenant").
    pub subject: String,
    pub message: String,
    pub evidence: String,
}

/// Microsoft's limits per configuration (concept-deployment-options, 2026-08-10): selected
/// groups up to 10,000 groups and 250,000 membership links; all groups with filters up to
/// 20,000 groups and 500,000 links.
pub const SELECTED_LIMITS: (usize, usize) = (10_000, 250_000);
pub const ALL_LIMITS: (usize, usize) = (20_000, 500_000);

/// Findings about the configurations themselves: the job's state, the aggregate limits of the
/// scope, the licence for configurations 3–20, the Switch container caveat and what could not
/// be read.
pub fn configuration_findings(
    input: &Input,
    tenant: &TenantDoc,
    ad: Option<&AdSnapshot>,
) -> Vec<ConfigFinding> {
    let mut out = Vec::new();
    let engine = Engine::new();
    let n = input.configurations.len();
    if n > 2 {
        out.push(ConfigFinding {
            issue: Issue::GovernanceLicense,
            subject: "tenant".into(),
            message: format!(
                "the bundle holds {n} Entra-to-AD configurations: configurations 3 to {n} need Microsoft Entra ID Governance (the first two need P1; configurations created before general availability keep their licensing)"
            ),
            evidence: format!(
                "cloud-sync/: {}",
                input
                    .configurations
                    .iter()
                    .map(|c| c.domain.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    if ad.is_some() && configuration_for(input, ad).is_none() {
        out.push(ConfigFinding {
            issue: Issue::Problem,
            subject: "tenant".into(),
            message: "no Cloud Sync configuration in the bundle is for the AD domain of ad.ldif: the cloud-sync forecast assumes Microsoft's defaults".into(),
            evidence: "cloud-sync/<domain>/ directory names; ad.ldif's domain".into(),
        });
    }
    for c in &input.configurations {
        let subject = c.domain.clone();
        let files = format!("cloud-sync/{}/jobs.json", c.domain);
        let j = &c.job;
        let status = j.status_code.as_deref().unwrap_or("");
        let schedule = j.schedule_state.as_deref().unwrap_or("Active");
        if !status.eq_ignore_ascii_case("Active") || !schedule.eq_ignore_ascii_case("Active") {
            let mut m = format!(
                "the group job is not writing to AD: status {}, schedule {schedule}",
                if status.is_empty() { "unknown" } else { status }
            );
            if let Some(q) = &j.quarantine {
                m.push_str(&format!(
                    "; quarantine reason {}{}{}",
                    q.reason.as_deref().unwrap_or("not given"),
                    q.current_began
                        .as_deref()
                        .map(|b| format!(" since {b}"))
                        .unwrap_or_default(),
                    q.error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ));
            }
            out.push(ConfigFinding {
                issue: Issue::JobNotRunning,
                subject: subject.clone(),
                message: m,
                evidence: format!(
                    "{files}: {} status.code, schedule.state, status.quarantine",
                    j.id
                ),
            });
        }
        if let Some(e) = &j.last_execution
            && (e
                .state
                .as_deref()
                .is_some_and(|s| !s.eq_ignore_ascii_case("Succeeded"))
                || e.error.is_some())
        {
            out.push(ConfigFinding {
                issue: Issue::LastRunErrors,
                subject: subject.clone(),
                message: format!(
                    "the last run ended {}{}{}",
                    e.state.as_deref().unwrap_or("with an error"),
                    e.time_ended
                        .as_deref()
                        .map(|t| format!(" at {t}"))
                        .unwrap_or_default(),
                    e.error
                        .as_deref()
                        .map(|x| format!(": {x}"))
                        .unwrap_or_default()
                ),
                evidence: format!("{files}: status.lastExecution"),
            });
        }
        if c.switch_container_caveat() {
            out.push(ConfigFinding {
                issue: Issue::SwitchContainer,
                subject: subject.clone(),
                message: "parentDistinguishedName routes with Switch without IgnoreFlowIfNullOrEmpty: with Entra ID as the source, Microsoft documents that such a Switch can evaluate to null on updates".into(),
                evidence: format!("cloud-sync/{}/schema.json: parentDistinguishedName", c.domain),
            });
        }
        for p in &c.problems {
            out.push(ConfigFinding {
                issue: Issue::Problem,
                subject: subject.clone(),
                message: p.clone(),
                evidence: format!("cloud-sync/{}/", c.domain),
            });
        }
        let limits = match c.scope {
            super::Scope::Selected(_) => Some((SELECTED_LIMITS, "selected security groups")),
            super::Scope::All => Some((ALL_LIMITS, "all security groups with filters")),
            super::Scope::Undetermined(_) => None,
        };
        if let Some(((max_groups, max_links), mode)) = limits {
            let (mut groups, mut links) = (0usize, 0usize);
            for g in tenant.groups.iter().flatten() {
                let src = GroupSource {
                    group: g,
                    extra: input.extra.get(&g.id.to_ascii_lowercase()),
                };
                if c.scope_of(&engine, &g.id, &src).in_scope == Some(true) {
                    groups += 1;
                    links += g.members.as_ref().map_or(0, Vec::len);
                }
            }
            if groups > max_groups || links > max_links {
                out.push(ConfigFinding {
                    issue: Issue::ScopeLimit,
                    subject: subject.clone(),
                    message: format!(
                        "{groups} groups with {links} membership links are in scope; Microsoft supports at most {max_groups} groups and {max_links} links for {mode}"
                    ),
                    evidence: format!("cloud-sync/{}/ scope; tenant.json groups and members", c.domain),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_input() -> Input {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cloud-sync");
        load_input(&dir, false).unwrap().unwrap()
    }

    fn group(id: usize, members: usize) -> Group {
        Group {
            id: format!("00000000-0000-4000-8000-{id:012}"),
            display_name: Some(format!("NA-G{id}")),
            security_enabled: Some(true),
            mail_enabled: Some(false),
            members: Some(
                (0..members)
                    .map(|m| {
                        Arc::new(Member {
                            id: format!("u{m}").into(),
                            ..Member::default()
                        })
                    })
                    .collect(),
            ),
            ..Group::default()
        }
    }

    #[test]
    fn governance_licence_from_the_third_configuration() {
        // provision-entra-to-active-directory-prerequisites (2026-08-07): configurations 3–20
        // need Entra ID Governance.
        let mut input = fixture_input();
        let t = TenantDoc::default();
        let issues = |i: &Input| -> Vec<Issue> {
            configuration_findings(i, &t, None)
                .iter()
                .map(|f| f.issue)
                .collect()
        };
        assert!(!issues(&input).contains(&Issue::GovernanceLicense));
        let mut third = input.configurations[0].clone();
        third.domain = "corp.example.com".into();
        input.configurations.push(third);
        assert!(issues(&input).contains(&Issue::GovernanceLicense));
    }

    #[test]
    fn aggregate_limits_per_scoping_mode() {
        // concept-deployment-options (2026-08-10): "All security groups" with filters: up to
        // 20K groups and 500K links. fabrikam.com's "Regional" filter takes every NA- group.
        let mut input = fixture_input();
        input.configurations.retain(|c| c.domain == "fabrikam.com");
        let limit = |t: &TenantDoc| {
            configuration_findings(&input, t, None)
                .into_iter()
                .find(|f| f.issue == Issue::ScopeLimit)
        };
        let at = TenantDoc {
            groups: Some((0..ALL_LIMITS.0).map(|i| group(i, 0)).collect()),
            ..TenantDoc::default()
        };
        assert_eq!(limit(&at), None);
        let over = TenantDoc {
            groups: Some((0..=ALL_LIMITS.0).map(|i| group(i, 0)).collect()),
            ..TenantDoc::default()
        };
        let f = limit(&over).expect("over the group limit");
        assert!(
            f.message
                .starts_with("20001 groups with 0 membership links"),
            "{}",
            f.message
        );
        // Links: 2 groups of 250,001 members exceed 500,000.
        let links = TenantDoc {
            groups: Some(vec![group(1, 250_001), group(2, 250_000)]),
            ..TenantDoc::default()
        };
        assert!(
            limit(&links)
                .unwrap()
                .message
                .contains("500001 membership links")
        );
    }

    #[test]
    fn job_state_and_caveats() {
        let input = fixture_input();
        let f = configuration_findings(&input, &TenantDoc::default(), None);
        let of = |d: &str| -> Vec<Issue> {
            f.iter()
                .filter(|x| x.subject == d)
                .map(|x| x.issue)
                .collect()
        };
        assert_eq!(
            of("fabrikam.com"),
            vec![
                Issue::JobNotRunning,
                Issue::LastRunErrors,
                Issue::SwitchContainer
            ]
        );
        assert_eq!(of("contoso.com"), vec![Issue::Problem]);
        let q = f.iter().find(|x| x.issue == Issue::JobNotRunning).unwrap();
        assert!(
            q.message
                .contains("quarantine reason EncounteredQuarantineException")
        );
    }
}
