//! Stable finding codes (kebab-case, documented API) with their default severity and meaning.
//! Renaming or removing one is a breaking change: the full list is snapshot-tested.

use serde::Serialize;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! finding_codes {
    ($($variant:ident => $code:literal, $desc:literal;)*) => {
        /// Every finding gwb can report.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $desc,)* }
            }
        }

        impl Serialize for Code {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

finding_codes! {
    EvidenceMissing => "evidence-missing", "A section of evidence was not supplied (tenant settings, SKUs, groups, AD, Connect export…); what depends on it is reported as unknown.";
    EvidenceIncomplete => "evidence-incomplete", "A collector could not finish a section (a failed page, a denied request); the audit cannot say ready.";
    EvidenceTruncated => "evidence-truncated", "An export lost data (ConvertTo-Json depth truncation, System.Object[] in a CSV); re-export it.";
    EvidenceUnrecognized => "evidence-unrecognized", "An evidence file was not recognised as any known export and was ignored.";
    EvidenceNote => "evidence-note", "A note about how evidence was read (e.g. an encoding fallback).";
    MembersNotCollected => "members-not-collected", "Some groups have no member list, so member limits and nesting cannot be checked for them.";
    FeatureFlagsUnknown => "feature-flags-unknown", "Neither onPremisesSynchronization nor Get-ADSyncAADCompanyFeature was supplied: the writeback feature state is unknown.";
    FeatureFlagsConflict => "feature-flags-conflict", "Graph's onPremisesSynchronization features and the Connect server's Get-ADSyncAADCompanyFeature disagree.";
    WritebackV1Enabled => "writeback-v1-enabled", "The original group writeback (UnifiedGroupWriteback) is on: every Microsoft 365 group is written back, whatever isEnabled says.";
    WritebackV1Disabled => "writeback-v1-disabled", "The original group writeback (UnifiedGroupWriteback) is off.";
    WritebackV2Enabled => "writeback-v2-enabled", "Group writeback v2 (GroupWritebackV2) is on: it is deprecated since June 30, 2024 and may stop without notice; turning it off is irreversible and reverts to v1 semantics.";
    WritebackV2Unavailable => "writeback-v2-unavailable", "Group writeback v2 is off and can no longer be enabled (retired June 30, 2024; Entra Connect 2.3.2.0 and later refuse it).";
    EnablementOrderHazard => "enablement-order-hazard", "Enabling the original writeback writes back every existing Microsoft 365 group, including those with isEnabled = false; change defaults first.";
    IsEnabledIgnoredByV1 => "isenabled-ignored-by-v1", "Microsoft 365 groups with isEnabled = false are still written back by the original writeback.";
    NewGroupWritebackDefault => "new-group-writeback-default", "Group.Unified NewUnifiedGroupWritebackDefault: whether new Microsoft 365 groups are written back automatically.";
    SettingValueInvalid => "setting-value-invalid", "A directory setting value is not a valid boolean string.";
    LicenseMissing => "license-missing", "No enabled subscription carries an Entra ID P1 or P2 service plan; group writeback requires one.";
    LicensePresent => "license-present", "An enabled subscription carries an Entra ID P1 or P2 service plan.";
    LicenseUnknown => "license-unknown", "subscribedSkus was not supplied: the P1/P2 prerequisite cannot be checked.";
    ConnectVersionUnknown => "connect-version-unknown", "The Entra Connect version is unknown (no synchronizationClientVersion, no Connect export).";
    ConnectVersionTooOld => "connect-version-too-old", "Entra Connect is older than 2.0.89.0, the documented prerequisite for group writeback.";
    ConnectVersionV2Cutoff => "connect-version-v2-cutoff", "Entra Connect 2.3.2.0 or later: group writeback v2 can no longer be enabled on it.";
    ConnectVersionBelowFloor => "connect-version-below-floor", "Entra Connect is below the mandatory minimum (2.6.84.0 per Microsoft's security-updates page; some sources say 2.5.79.0); synchronization stops after September 30, 2026.";
    ConnectVersionNoObjectIdentifier => "connect-version-no-object-identifier", "Entra Connect is older than 2.2.8.0, so onPremisesObjectIdentifier is not synced: Cloud Sync cannot match members.";
    ExchangePrepared => "exchange-prepared", "AD is prepared for Exchange; the version this implies.";
    ExchangeNotPrepared => "exchange-not-prepared", "AD is not prepared for Exchange: mail attributes of written-back groups are not written.";
    ExchangeBelowRecommended => "exchange-below-recommended", "AD is prepared for an Exchange level below 2016 CU15 (the optional prerequisite for Microsoft 365 groups with Exchange hybrid).";
    ExchangeUnknown => "exchange-unknown", "The Exchange schema objects were not captured, so Exchange preparation is unknown.";
    TargetOuUnknown => "target-ou-unknown", "No target OU is known (--target-ou, bundle.json, unifiedGroupContainer or the Connect export).";
    TargetOuMissing => "target-ou-missing", "The target OU does not exist in AD.";
    TargetOuPresent => "target-ou-present", "The target OU exists in AD.";
    TargetOuRightsInsufficient => "target-ou-rights-insufficient", "The bind account cannot create groups in the target OU.";
    TargetOuRightsUnknown => "target-ou-rights-unknown", "The bind account's effective rights on the target OU were not captured.";
    SchemaExternalIdMissing => "schema-external-id-missing", "The AD schema lacks msDS-ExternalDirectoryObjectId (Windows Server 2016 schema), which Cloud Sync requires.";
    CloudSyncJoinUnmatched => "cloud-sync-join-unmatched", "Groups in the target OU that Entra Connect wrote back (stamped in adminDescription only) are not matched by Cloud Sync, which joins on msDS-ExternalDirectoryObjectId: it would create a second group next to each.";
    RecycleBinDisabled => "recycle-bin-disabled", "The AD Recycle Bin is off; Microsoft recommends it before deletion behaviour changes.";
    DomainLocalNesting => "domain-local-nesting", "A written-back group nests a domain-local AD group: export fails with \"A universal group cannot have a local group as a member.\"";
    NameCollision => "name-collision", "The CN a group would get is already taken in the target OU by an object gwb does not own.";
    MemberLimitExceeded => "member-limit-exceeded", "Groups over the member limit are not written back.";
    UnsupportedGroups => "unsupported-groups", "Cloud distribution lists and mail-enabled security groups cannot be written back.";
    AdGroupsDeleted => "ad-groups-deleted", "The forecast deletes AD groups (hard-deleted cloud groups, or modified deletion behaviour).";
    AdGroupsKept => "ad-groups-kept", "AD groups of disabled or soft-deleted cloud groups stay in AD untouched (default deletion behaviour).";
    MembersSkipped => "members-skipped", "Members that will not be written (cloud-only users, missing AD objects, unsupported types).";
    DeviceWritebackRequired => "device-writeback-required", "Entra registered or joined devices are members, but device writeback is not on.";
    ForecastSummary => "forecast-summary", "How many groups each target writes back, skips, keeps and deletes.";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding codes are API: this list changes only with a CHANGELOG entry.
    #[test]
    fn finding_code_list_is_stable_and_unique() {
        let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        let expected = [
            "evidence-missing",
            "evidence-incomplete",
            "evidence-truncated",
            "evidence-unrecognized",
            "evidence-note",
            "members-not-collected",
            "feature-flags-unknown",
            "feature-flags-conflict",
            "writeback-v1-enabled",
            "writeback-v1-disabled",
            "writeback-v2-enabled",
            "writeback-v2-unavailable",
            "enablement-order-hazard",
            "isenabled-ignored-by-v1",
            "new-group-writeback-default",
            "setting-value-invalid",
            "license-missing",
            "license-present",
            "license-unknown",
            "connect-version-unknown",
            "connect-version-too-old",
            "connect-version-v2-cutoff",
            "connect-version-below-floor",
            "connect-version-no-object-identifier",
            "exchange-prepared",
            "exchange-not-prepared",
            "exchange-below-recommended",
            "exchange-unknown",
            "target-ou-unknown",
            "target-ou-missing",
            "target-ou-present",
            "target-ou-rights-insufficient",
            "target-ou-rights-unknown",
            "schema-external-id-missing",
            "cloud-sync-join-unmatched",
            "recycle-bin-disabled",
            "domain-local-nesting",
            "name-collision",
            "member-limit-exceeded",
            "unsupported-groups",
            "ad-groups-deleted",
            "ad-groups-kept",
            "members-skipped",
            "device-writeback-required",
            "forecast-summary",
        ];
        assert_eq!(all, expected);
        let unique: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        for c in Code::ALL {
            assert!(!c.description().is_empty());
        }
    }
}
