//! The decision core: pure functions, no I/O. Given a snapshot, a target and a policy it
//! answers for every cloud group what writeback would do with it and why, and for every
//! member whether it resolves to an AD object. The audit, the forecast and the executor
//! all call this one core, so they cannot disagree.

use clap::ValueEnum;
use serde::Serialize;

/// What writes cloud groups into AD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Entra Connect original writeback (v1), as if enabled.
    ConnectV1,
    /// Entra Connect new writeback (v2), as if enabled.
    ConnectV2,
    /// Entra Cloud Sync group provisioning to AD.
    CloudSync,
    /// gwb's own executor: connect-v2 semantics plus gwb's options.
    Gwb,
}

impl Target {
    pub const ALL: [Target; 4] = [Target::ConnectV1, Target::ConnectV2, Target::CloudSync, Target::Gwb];
    pub fn as_str(self) -> &'static str {
        match self {
            Target::ConnectV1 => "connect-v1",
            Target::ConnectV2 => "connect-v2",
            Target::CloudSync => "cloud-sync",
            Target::Gwb => "gwb",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DeletionBehavior {
    /// Disabled or soft-deleted groups stay in AD, untouched, until hard-deleted.
    #[default]
    Default,
    /// Disabled, soft-deleted or hard-deleted groups are deleted from AD.
    Modified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum MemberLimitBehavior {
    /// Microsoft 365 groups up to 50,000 members, security groups up to 250,000.
    #[default]
    Default,
    /// Microsoft 365 groups up to 250,000 members (member-limit rule disabled).
    Raised,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum CnFormat {
    /// `Group_<objectId>`.
    #[default]
    ObjectId,
    /// `<first 51 chars of the trimmed display name>_<last 12 chars of the objectId>`.
    DisplayName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureState {
    /// Forecast each target as if it were enabled now.
    #[default]
    AsIfEnabled,
    /// Honour the tenant's current feature flags.
    Current,
}
