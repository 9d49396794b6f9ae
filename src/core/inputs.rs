//! Building the decision core's [`Inputs`] from a snapshot: the one pure function the audit,
//! `gwb plan`, `gwb apply` and the collectors share. It resolves the tenant's feature flags
//! (Graph first, then the Entra Connect export), the target OU (flag, bundle.json, the
//! tenant's `unifiedGroupContainer`, the Connect export) and AD's Exchange preparation.

use crate::ad::Dn;
use crate::bundle::Snapshot;

use super::exchange::{self, Preparation};
use super::{Flags, Inputs};

/// Graph's feature property and the Connect export's name for it.
pub const FEATURE_PAIRS: [(&str, &str); 3] = [
    ("unifiedGroupWritebackEnabled", "UnifiedGroupWriteback"),
    ("groupWriteBackEnabled", "GroupWritebackV2"),
    ("deviceWritebackEnabled", "DeviceWriteback"),
];

/// Graph and the Connect export disagree on a feature flag (the tenant's value is used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagConflict {
    pub graph: &'static str,
    pub connect: &'static str,
    pub graph_value: bool,
    pub connect_value: bool,
}

/// Resolve the feature flags from Graph and the Connect export; the tenant view wins.
pub fn resolve_flags(s: &Snapshot) -> (Flags, Vec<FlagConflict>) {
    let sync = s.tenant.on_premises_synchronization.as_ref();
    let mut conflicts = Vec::new();
    let mut vals = [None; 3];
    for (i, (graph, connect)) in FEATURE_PAIRS.iter().enumerate() {
        let g = sync.and_then(|x| x.feature(graph));
        let c = s.connect.feature(connect);
        if let (Some(a), Some(b)) = (g, c)
            && a != b
        {
            conflicts.push(FlagConflict {
                graph,
                connect,
                graph_value: a,
                connect_value: b,
            });
        }
        vals[i] = g.or(c);
    }
    (
        Flags {
            v1: vals[0],
            v2: vals[1],
            device_writeback: vals[2],
        },
        conflicts,
    )
}

/// Where the target OU came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OuSource {
    Flag,
    Bundle,
    Tenant,
    Connect,
}

impl OuSource {
    /// How reports name the source.
    pub fn label(self) -> &'static str {
        match self {
            OuSource::Flag => "--target-ou",
            OuSource::Bundle => "bundle.json targetOu",
            OuSource::Tenant => "configuration.writebackConfiguration.unifiedGroupContainer",
            OuSource::Connect => "Connect export writeback container",
        }
    }
}

/// The tenant's `unifiedGroupContainer`, if set.
pub fn unified_group_container(s: &Snapshot) -> Option<String> {
    s.tenant
        .on_premises_synchronization
        .as_ref()
        .and_then(|x| x.configuration.as_ref())
        .and_then(|c| c.writeback_configuration.as_ref())
        .and_then(|w| w.unified_group_container.clone())
        .filter(|c| !c.trim().is_empty())
}

/// Where the target OU comes from, in order: flag, manifest, tenant, Connect export.
pub fn target_ou(s: &Snapshot, flag: Option<&str>) -> Option<(String, OuSource)> {
    if let Some(f) = flag {
        return Some((f.to_string(), OuSource::Flag));
    }
    if let Some(m) = &s.manifest.target_ou {
        return Some((m.clone(), OuSource::Bundle));
    }
    if let Some(c) = unified_group_container(s) {
        return Some((c, OuSource::Tenant));
    }
    s.connect
        .writeback_container
        .clone()
        .map(|c| (c, OuSource::Connect))
}

/// Everything derived from a snapshot that the core reads besides the snapshot itself.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub flags: Flags,
    pub flag_conflicts: Vec<FlagConflict>,
    /// The target OU and where it came from.
    pub target_ou: Option<(Dn, OuSource)>,
    /// `None` when there is no AD evidence.
    pub exchange: Option<Preparation>,
    /// Entra Connect's configured writeback containers other than the target OU.
    pub other_writer_containers: Vec<Dn>,
}

/// An input that makes the core's inputs impossible to build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("target OU {text:?} (from {}) is not a valid DN: {message}", from.label())]
pub struct BadTargetOu {
    pub text: String,
    pub from: OuSource,
    pub message: String,
}

/// Build the derived inputs. Pure.
pub fn prepare(s: &Snapshot, target_ou_flag: Option<&str>) -> Result<Prepared, BadTargetOu> {
    let (flags, flag_conflicts) = resolve_flags(s);
    let target_ou = match target_ou(s, target_ou_flag) {
        Some((text, source)) => match Dn::parse(text.trim()) {
            Ok(dn) => Some((dn, source)),
            Err(e) => {
                return Err(BadTargetOu {
                    text,
                    from: source,
                    message: e.to_string(),
                });
            }
        },
        None => None,
    };
    let exchange =
        s.ad.as_ref()
            .map(|ad| exchange::preparation(&ad.exchange, ad.schema_captured));
    let other_writer_containers = [
        unified_group_container(s),
        s.connect.writeback_container.clone(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|c| Dn::parse(c.trim()).ok())
    .filter(|d| target_ou.as_ref().is_none_or(|(t, _)| d != t))
    .fold(Vec::new(), |mut v: Vec<Dn>, d| {
        if !v.contains(&d) {
            v.push(d);
        }
        v
    });
    Ok(Prepared {
        flags,
        flag_conflicts,
        target_ou,
        exchange,
        other_writer_containers,
    })
}

impl Prepared {
    /// `Some(true)` when AD is prepared for Exchange, `None` when unknown.
    pub fn exchange_prepared(&self) -> Option<bool> {
        match self.exchange.as_ref()? {
            Preparation::Unknown => None,
            Preparation::NotPrepared { .. } => Some(false),
            Preparation::Prepared { .. } => Some(true),
        }
    }

    /// The core's inputs over this snapshot.
    pub fn inputs<'a>(&'a self, s: &'a Snapshot) -> Inputs<'a> {
        Inputs {
            tenant: &s.tenant,
            ad: s.ad.as_ref(),
            target_ou: self.target_ou.as_ref().map(|(d, _)| d),
            flags: self.flags,
            exchange_prepared: self.exchange_prepared(),
            other_writer_containers: &self.other_writer_containers,
        }
    }
}
