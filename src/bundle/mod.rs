//! The snapshot bundle, the one offline format: a directory with `tenant.json` (Graph
//! objects), `ad.ldif` (the target AD), `connect/` (Entra Connect server exports) and an
//! optional `bundle.json` manifest. Loading validates everything and turns malformed input
//! into one [`InputError`] naming the file and the place; evidence that is merely missing
//! stays `None` for the audit to report.

pub mod tenant;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ad::{AdSnapshot, ldif};
use crate::error::InputError;
pub use tenant::TenantDoc;

pub const BUNDLE_FORMAT: &str = "gwb-bundle/1";

/// The current time as RFC 3339, as bundles record it (`collectedAt`).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The member references LDAP discovery must resolve, derived from a tenant's groups.
pub fn member_refs(tenant: &TenantDoc) -> crate::ldap::MemberRefs {
    let mut refs = crate::ldap::MemberRefs::default();
    for g in tenant.groups.iter().flatten() {
        if let Some(s) = &g.on_premises_security_identifier {
            refs.sids.push(s.clone());
        }
        if g.soa_candidate()
            && let Some(s) = g.on_premises_sid()
        {
            refs.group_sids.push(s.to_string());
        }
        for m in g.members.iter().flatten() {
            if let Some(s) = &m.on_premises_security_identifier {
                refs.sids.push(s.clone());
            }
            if let Some(g) = m
                .on_premises_object_identifier
                .as_deref()
                .and_then(crate::ad::ids::parse_guid)
            {
                refs.guids.push(g);
            }
            if let Some(g) = m
                .on_premises_immutable_id
                .as_deref()
                .and_then(crate::ad::ids::guid_from_immutable_id)
            {
                refs.guids.push(g);
            }
            if let Some(d) = m.device_id.as_deref().and_then(crate::ad::ids::parse_guid) {
                refs.device_ids.push(d);
            }
        }
    }
    refs.normalize()
}

/// Optional `bundle.json`: facts about the collection that are not Graph or LDAP objects.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub format: Option<String>,
    /// The single OU that groups are written back into.
    pub target_ou: Option<String>,
    pub collected_at: Option<String>,
    /// What the collector could not finish (mirrors tenant.json's incompleteSections for AD).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete_sections: Vec<String>,
}

/// Evidence from the Entra Connect server (PowerShell exports).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConnectEvidence {
    /// `Get-ADSyncAADCompanyFeature` properties, e.g. `UnifiedGroupWriteback`, `GroupWritebackV2`.
    pub features: BTreeMap<String, bool>,
    /// `Microsoft.Synchronize.ServerConfigurationVersion`.
    pub server_version: Option<String>,
    /// `Microsoft.OptionalFeature.GroupWriteBack`.
    pub group_writeback_optional_feature: Option<bool>,
    /// The writeback OU configured on the server, if the export names it.
    pub writeback_container: Option<String>,
    /// Files the evidence came from.
    pub sources: Vec<String>,
}

impl ConnectEvidence {
    pub fn feature(&self, name: &str) -> Option<bool> {
        self.features
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
    pub fn merge(&mut self, other: ConnectEvidence) {
        self.features.extend(other.features);
        self.server_version = other.server_version.or(self.server_version.take());
        self.group_writeback_optional_feature = other
            .group_writeback_optional_feature
            .or(self.group_writeback_optional_feature);
        self.writeback_container = other
            .writeback_container
            .or(self.writeback_container.take());
        self.sources.extend(other.sources);
    }
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
            && self.server_version.is_none()
            && self.group_writeback_optional_feature.is_none()
            && self.writeback_container.is_none()
    }
}

/// A data-quality problem in evidence: it is read, but something in it is known to be lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataQuality {
    /// Stable code: `depth-truncated`, `lost-data`, `encoding-fallback`, `unrecognized`, …
    pub code: String,
    pub file: String,
    pub place: String,
    pub message: String,
}

/// What an export of `Get-MgGroupOnPremiseSyncBehavior` / `Get-MgBetaGroupOnPremiseSyncBehavior`
/// is recognised as.
pub const SYNC_BEHAVIOR_EXPORT: &str = "Get-MgGroupOnPremiseSyncBehavior";

/// Evidence recognised in one exported file (see `ps`), ready to merge into a snapshot.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub source: PathBuf,
    /// What the file was recognised as, e.g. `Get-ADSyncAADCompanyFeature`.
    pub recognized_as: String,
    pub connect: ConnectEvidence,
    /// Tenant sections this file provides (others stay `None`).
    pub tenant: TenantDoc,
    /// AD objects this file provides, as LDIF-shaped entries.
    pub ad_entries: ldif::Entries,
    pub quality: Vec<DataQuality>,
}

/// A loaded snapshot: everything the decision core and the audit read.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Where it came from (a directory, or "live").
    pub origin: String,
    pub manifest: Manifest,
    pub tenant: TenantDoc,
    pub ad: Option<AdSnapshot>,
    pub connect: ConnectEvidence,
    pub quality: Vec<DataQuality>,
}

/// Parse JSON text into `T`, reporting the line/column of syntax errors and the JSON path of
/// type errors.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
) -> Result<T, InputError> {
    if text.trim().is_empty() {
        return Err(InputError::new(
            file,
            "",
            "the file is empty: expected a JSON document",
        ));
    }
    // Fast path: plain serde_json (tracking the JSON path of every element costs about a
    // third of the parse time on a large tenant.json). Only a document that fails is parsed
    // again with path tracking, to name the place.
    if let Ok(v) = tenant::by_json_text(text, || serde_json::from_str::<T>(text)) {
        return Ok(v);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    match value {
        Ok(v) => {
            de.end().map_err(|e| {
                InputError::new(
                    file,
                    format!("line {} column {}", e.line(), e.column()),
                    "trailing characters after the JSON document",
                )
            })?;
            Ok(v)
        }
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let place = if inner.is_syntax() || inner.is_eof() {
                format!("line {} column {}", inner.line(), inner.column())
            } else {
                format!(
                    "$.{} (line {} column {})",
                    path.trim_start_matches('.'),
                    inner.line(),
                    inner.column()
                )
            };
            let msg = strip_position(&inner.to_string());
            Err(InputError::new(file, place, msg))
        }
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Read and validate `tenant.json`.
pub fn load_tenant(path: &Path) -> Result<TenantDoc, InputError> {
    let decoded = crate::text::read_file(path)?;
    let doc: TenantDoc = parse_json(path, &decoded.text)?;
    // The text of a large document (hundreds of MB) is given back on another thread, while
    // this one goes on to check it.
    if decoded.text.len() >= 1 << 24 {
        crate::background::drop_later(decoded);
    } else {
        drop(decoded);
    }
    match doc.format.as_deref() {
        Some(tenant::TENANT_FORMAT) => {}
        Some(other) => {
            return Err(InputError::new(
                path,
                "$.format",
                format!(
                    "unknown format {other:?}; this gwb reads {:?}",
                    tenant::TENANT_FORMAT
                ),
            ));
        }
        None => {
            return Err(InputError::new(
                path,
                "$.format",
                format!("missing \"format\": {:?}", tenant::TENANT_FORMAT),
            ));
        }
    }
    validate_tenant(path, &doc)?;
    Ok(doc)
}

/// Checks serde cannot express: ids are GUIDs, no duplicate groups.
fn validate_tenant(path: &Path, doc: &TenantDoc) -> Result<(), InputError> {
    let mut seen: hashbrown::HashSet<String, foldhash::fast::RandomState> =
        hashbrown::HashSet::default();
    // Members are shared between groups (bundle::tenant): check each distinct one once.
    let mut checked: hashbrown::HashSet<*const tenant::Member, foldhash::fast::RandomState> =
        hashbrown::HashSet::default();
    for (section, groups) in [
        ("groups", &doc.groups),
        ("deletedGroups", &doc.deleted_groups),
    ] {
        for (i, g) in groups.iter().flatten().enumerate() {
            if let Some(problem) = crate::ad::ids::guid_problem(&g.id) {
                return Err(InputError::new(
                    path,
                    format!("$.{section}[{i}].id"),
                    format!("group id {problem}"),
                ));
            }
            if section == "groups" && !seen.insert(g.id.to_ascii_lowercase()) {
                return Err(InputError::new(
                    path,
                    format!("$.{section}[{i}].id"),
                    format!("group {} appears twice", g.id),
                ));
            }
            for (j, m) in g.members.iter().flatten().enumerate() {
                // By address alone: reading each member's count would touch every membership.
                if !checked.insert(std::sync::Arc::as_ptr(m)) {
                    continue;
                }
                if let Some(problem) = crate::ad::ids::guid_problem(&m.id) {
                    return Err(InputError::new(
                        path,
                        format!("$.{section}[{i}].members[{j}].id"),
                        format!("member id {problem}"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Read `ad.ldif` into an [`AdSnapshot`], each entry folded in as it is parsed (the
/// entries are never all held).
pub fn load_ldif_snapshot(path: &Path) -> Result<AdSnapshot, InputError> {
    let mut snap = AdSnapshot::default();
    // Read in a stream (the text is never held whole), one object per record: sized once
    // rather than doubled (up to a million records, so a hostile file of bare "dn:" lines
    // reserves no more than that before it is refused).
    ldif::parse_file_each(path, &mut snap, AdSnapshot::reserve, |s, e| s.add_entry(&e))?
        .map_err(|e| InputError::new(path, format!("line {}", e.line), e.message))?;
    Ok(snap)
}

/// Read `ad.ldif` into its entries and an [`AdSnapshot`].
pub fn load_ldif(path: &Path) -> Result<(Vec<ldif::Entry>, AdSnapshot), InputError> {
    let decoded = crate::text::read_file(path)?;
    let entries = ldif::parse(&decoded.text)
        .map_err(|e| InputError::new(path, format!("line {}", e.line), e.message))?;
    // The entries hold their own copies: free the text before the snapshot is built.
    drop(decoded);
    let snap = AdSnapshot::from_entries(&entries)
        .map_err(|e| InputError::new(path, format!("line {}", e.line), e.message))?;
    Ok((entries, snap))
}

/// Fold one file's evidence into the snapshot: tenant sections fill gaps, AD entries add.
pub fn merge_evidence(
    snap: &mut Snapshot,
    ad_entries: &mut impl ldif::EntrySink,
    mut ev: Evidence,
) {
    // An onPremisesSyncBehavior export holds the state of groups already read (tenant.json, or
    // a group export given before it), not groups of its own.
    if ev.recognized_as == SYNC_BEHAVIOR_EXPORT {
        let file = ev.source.display().to_string();
        for b in ev.tenant.groups.take().into_iter().flatten() {
            let found = snap
                .tenant
                .groups
                .iter_mut()
                .flatten()
                .find(|g| g.id.eq_ignore_ascii_case(&b.id));
            match found {
                Some(g) if g.on_premises_sync_behavior.is_none() => {
                    g.on_premises_sync_behavior = b.on_premises_sync_behavior;
                }
                Some(_) => {}
                None => snap.quality.push(DataQuality {
                    code: "unmatched".into(),
                    file: file.clone(),
                    place: String::new(),
                    message: format!(
                        "onPremisesSyncBehavior of group {} was not applied: the group is not in the snapshot (give the group export before this file)",
                        b.id
                    ),
                }),
            }
        }
    }
    let t = ev.tenant;
    macro_rules! fill {
        ($field:ident) => {
            if t.$field.is_some() {
                match (&mut snap.tenant.$field, t.$field) {
                    (Some(existing), Some(more)) => existing.extend(more),
                    (slot @ None, more) => *slot = more,
                    _ => {}
                }
            }
        };
    }
    fill!(groups);
    fill!(deleted_groups);
    fill!(settings);
    fill!(subscribed_skus);
    if t.on_premises_synchronization.is_some() && snap.tenant.on_premises_synchronization.is_none()
    {
        snap.tenant.on_premises_synchronization = t.on_premises_synchronization;
    }
    for sec in t.incomplete_sections {
        if !snap.tenant.incomplete_sections.contains(&sec) {
            snap.tenant.incomplete_sections.push(sec);
        }
    }
    snap.connect.merge(ev.connect);
    ad_entries.append_entries(ev.ad_entries);
    snap.quality.extend(ev.quality);
}
