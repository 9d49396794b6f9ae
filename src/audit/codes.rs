//! Stable finding codes (kebab-case, documented API): for each, its default severity, the targets
//! it can concern, the evidence it rests on, its meaning and its remediation. This table is the
//! one place severities are defined (`severity.rs` applies dates and overrides to it).
//! Renaming or removing a code is a breaking change: the full list is snapshot-tested.

use serde::Serialize;

use crate::core::Target;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
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

/// Evidence sections a check rests on (the names `evidence.missing` and verdicts use).
pub mod section {
    pub const SYNC: &str = "onPremisesSynchronization";
    pub const CONNECT_VERSION: &str = "connectVersion";
    pub const SETTINGS: &str = "settings";
    pub const SKUS: &str = "subscribedSkus";
    pub const GROUPS: &str = "groups";
    pub const DELETED: &str = "deletedGroups";
    pub const AD: &str = "ad";
    pub const MEMBERS: &str = "members";
    pub const TARGET_OU: &str = "targetOu";
    pub const RIGHTS: &str = "adRights";
    pub const SCHEMA: &str = "schema";
    /// `onPremisesSyncBehavior` of the groups that could have been converted to the cloud.
    pub const SOA: &str = "onPremisesSyncBehavior";
    /// Not a section: an export that lost data somewhere; every check may rest on it.
    pub const ANY: &str = "*";
}

macro_rules! finding_codes {
    ($($variant:ident => $code:literal, $sev:ident, [$($t:ident),*], [$($s:ident),*], $desc:literal, $fix:literal;)*) => {
        /// Every finding gwb can report.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }
            /// What the code means.
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $desc,)* }
            }
            /// What to do about it, in general (findings carry a specific remediation too).
            pub fn remediation(self) -> &'static str {
                match self { $(Code::$variant => $fix,)* }
            }
            /// The documented default severity (before dates and overrides).
            pub fn default_severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }
            /// The targets this check can concern; empty means every target.
            pub fn scope(self) -> &'static [Target] {
                match self { $(Code::$variant => &[$(Target::$t),*],)* }
            }
            /// The evidence sections the check needs: if one is missing, the check cannot run.
            pub fn needs(self) -> &'static [&'static str] {
                match self { $(Code::$variant => &[$(section::$s),*],)* }
            }
        }
    };
}

impl Code {
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }
    pub fn applies_to(self, t: Target) -> bool {
        self.scope().is_empty() || self.scope().contains(&t)
    }
    /// Codes that say evidence is missing or incomplete: they make a verdict `incomplete`,
    /// never `blocked`.
    pub fn is_evidence_gap(self) -> bool {
        matches!(
            self,
            Code::EvidenceMissing
                | Code::EvidenceIncomplete
                | Code::EvidenceTruncated
                | Code::MembersNotCollected
        )
    }
}

impl schemars::JsonSchema for Code {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Code".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        schemars::json_schema!({ "type": "string", "enum": codes })
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

finding_codes! {
    EvidenceMissing => "evidence-missing", Warning, [], [], "A section of evidence was not supplied (tenant settings, SKUs, groups, AD, Connect export…); the checks that rest on it cannot run, and a target whose blocking checks need it is `incomplete`.", "Collect the section (gwb collect, or the PowerShell export named in the finding) and run the audit again.";
    EvidenceIncomplete => "evidence-incomplete", Error, [], [], "A collector could not finish a section (a failed page, a denied request); the audit cannot say ready.", "Re-run gwb collect (its messages name the cause: permissions, throttling, a timeout) before relying on the report.";
    EvidenceTruncated => "evidence-truncated", Error, [], [], "An export lost data (ConvertTo-Json depth truncation, System.Object[] in a CSV); re-export it.", "Re-export with ConvertTo-Json -Depth 10, or with Export-Clixml.";
    EvidenceUnrecognized => "evidence-unrecognized", Info, [], [], "An evidence file was not recognised as any known export and was ignored.", "Check the file is one of the exports docs/powershell.md lists (gwb inspect FILE says what it sees).";
    EvidenceNote => "evidence-note", Info, [], [], "A note about how evidence was read (e.g. an encoding fallback).", "None needed.";
    MembersNotCollected => "members-not-collected", Warning, [], [], "A group a target would write back has no member list, so member limits and nesting cannot be checked for it (one finding per group).", "Collect members (gwb collect does), or add a \"members\" array to the group in tenant.json.";
    FeatureFlagsUnknown => "feature-flags-unknown", Warning, [], [], "Neither onPremisesSynchronization nor Get-ADSyncAADCompanyFeature was supplied: the writeback feature state is unknown.", "Add onPremisesSynchronization to tenant.json, or `Get-ADSyncAADCompanyFeature | ConvertTo-Json` output in connect/.";
    FeatureFlagsConflict => "feature-flags-conflict", Warning, [], [SYNC], "Graph's onPremisesSynchronization features and the Connect server's Get-ADSyncAADCompanyFeature disagree.", "Run a delta sync cycle and re-export both, or check the export comes from the active (non-staging) server.";
    WritebackV1Enabled => "writeback-v1-enabled", Info, [], [SYNC], "The original group writeback (UnifiedGroupWriteback) is on: every Microsoft 365 group is written back, whatever isEnabled says.", "None needed; review the connect-v1 forecast.";
    WritebackV1Disabled => "writeback-v1-disabled", Info, [], [SYNC], "The original group writeback (UnifiedGroupWriteback) is off.", "None needed.";
    WritebackV2Enabled => "writeback-v2-enabled", Warning, [ConnectV2], [SYNC], "Group writeback v2 (GroupWritebackV2) is on: it is deprecated since June 30, 2024 and may stop without notice; turning it off is irreversible and reverts to v1 semantics.", "Plan the move of security groups to Cloud Sync or gwb before v2 stops; never disable v2 without reviewing the connect-v1 forecast.";
    WritebackV2Unavailable => "writeback-v2-unavailable", Error, [ConnectV2], [SYNC], "Group writeback v2 is off and can no longer be enabled (retired June 30, 2024; Entra Connect 2.3.2.0 and later refuse it); the connect-v2 verdict is `unavailable`, shown for comparison and not gated by default.", "Use Cloud Sync group provisioning (security groups), the original writeback (Microsoft 365 groups), or gwb.";
    EnablementOrderHazard => "enablement-order-hazard", Warning, [ConnectV1, ConnectV2], [GROUPS], "Enabling the original writeback writes back every existing Microsoft 365 group, including those with isEnabled = false; change defaults first.", "Set NewUnifiedGroupWritebackDefault = false and isEnabled = false where needed, review the connect-v1 forecast, then enable.";
    IsEnabledIgnoredByV1 => "isenabled-ignored-by-v1", Warning, [ConnectV1], [GROUPS], "Microsoft 365 groups with isEnabled = false are still written back by the original writeback.", "Do not rely on isEnabled under v1: delete or convert such groups, or use Cloud Sync or gwb.";
    NewGroupWritebackDefault => "new-group-writeback-default", Info, [], [SETTINGS], "Group.Unified NewUnifiedGroupWritebackDefault: whether new Microsoft 365 groups are written back automatically.", "To write back only chosen groups, set NewUnifiedGroupWritebackDefault to false before enabling.";
    SettingValueInvalid => "setting-value-invalid", Warning, [], [SETTINGS], "A directory setting value is not a valid boolean string.", "Set it to \"true\" or \"false\" with Update-MgBetaDirectorySetting.";
    LicenseMissing => "license-missing", Error, [ConnectV1, ConnectV2, CloudSync], [SKUS], "No enabled subscription carries an Entra ID P1 or P2 service plan; group writeback requires one.", "License Entra ID P1 or P2 (standalone, or in Microsoft 365 E3/E5, EMS, Business Premium).";
    LicensePresent => "license-present", Info, [], [SKUS], "An enabled subscription carries an Entra ID P1 or P2 service plan.", "None needed.";
    LicenseUnknown => "license-unknown", Warning, [ConnectV1, ConnectV2, CloudSync], [], "subscribedSkus was not supplied: the P1/P2 prerequisite cannot be checked.", "Add subscribedSkus (GET /v1.0/subscribedSkus) to tenant.json.";
    ConnectVersionUnknown => "connect-version-unknown", Warning, [ConnectV1, ConnectV2], [], "The Entra Connect version is unknown (no synchronizationClientVersion, no Connect export).", "Add onPremisesSynchronization (synchronizationClientVersion) or the Get-ADSyncGlobalSettings export.";
    ConnectVersionTooOld => "connect-version-too-old", Error, [ConnectV1, ConnectV2], [CONNECT_VERSION], "Entra Connect is older than 2.0.89.0, the documented prerequisite for group writeback.", "Upgrade every Entra Connect server (the feature is tenant-wide).";
    ConnectVersionV2Cutoff => "connect-version-v2-cutoff", Info, [ConnectV2], [CONNECT_VERSION], "Entra Connect 2.3.2.0 or later: group writeback v2 can no longer be enabled on it.", "None needed; v2 is retired.";
    ConnectVersionBelowFloor => "connect-version-below-floor", Warning, [ConnectV1, ConnectV2], [CONNECT_VERSION], "Entra Connect is below the mandatory minimum (2.6.84.0 per Microsoft's security-updates page; some sources say 2.5.79.0); synchronization stops after September 30, 2026. A warning until then, an error from October 1, 2026 (judged against the report's time).", "Upgrade to 2.6.84.0 or later and configure application-based authentication by April 7, 2027.";
    ConnectVersionNoObjectIdentifier => "connect-version-no-object-identifier", Warning, [CloudSync], [CONNECT_VERSION], "Entra Connect is older than 2.2.8.0, so onPremisesObjectIdentifier is not synced: Cloud Sync cannot match members.", "Upgrade Entra Connect to 2.2.8.0 or later.";
    ExchangePrepared => "exchange-prepared", Info, [], [AD], "AD is prepared for Exchange; the version this implies.", "None needed.";
    ExchangeNotPrepared => "exchange-not-prepared", Warning, [], [AD], "AD is not prepared for Exchange: mail attributes of written-back groups are not written.", "Optional: Exchange Setup /PrepareSchema, /PrepareAD, /PrepareAllDomains (2016 CU15 or later).";
    ExchangeBelowRecommended => "exchange-below-recommended", Warning, [], [AD], "AD is prepared for an Exchange level below 2016 CU15 (the optional prerequisite for Microsoft 365 groups with Exchange hybrid).", "Prepare AD with Exchange 2016 CU15 or later.";
    ExchangeUnknown => "exchange-unknown", Info, [], [AD], "The Exchange schema objects were not captured, so Exchange preparation is unknown.", "Include CN=Schema,CN=Configuration and CN=ms-Exch-Schema-Version-Pt in ad.ldif.";
    TargetOuUnknown => "target-ou-unknown", Warning, [], [], "No target OU is known (--target-ou, bundle.json, unifiedGroupContainer or the Connect export).", "Pass --target-ou, or set unifiedGroupContainer or bundle.json targetOu.";
    TargetOuMissing => "target-ou-missing", Error, [], [AD, TARGET_OU], "The target OU does not exist in AD.", "Create the OU (inside Entra Connect's OU filtering scope) or correct --target-ou.";
    TargetOuPresent => "target-ou-present", Info, [], [AD, TARGET_OU], "The target OU exists in AD.", "None needed.";
    TargetOuRightsInsufficient => "target-ou-rights-insufficient", Error, [Gwb], [AD, TARGET_OU, RIGHTS], "The bind account cannot create groups in the target OU, or cannot change the groups written back there.", "Grant Create/Delete group objects and Read/Write all properties on group objects in the OU (as Set-ADSyncUnifiedGroupWritebackPermissions does).";
    TargetOuRightsUnknown => "target-ou-rights-unknown", Info, [Gwb], [], "The bind account's effective rights on the target OU were not captured.", "Collect with gwb collect --ldap-url (it reads allowedChildClassesEffective).";
    SchemaExternalIdMissing => "schema-external-id-missing", Error, [CloudSync], [AD, SCHEMA], "The AD schema lacks msDS-ExternalDirectoryObjectId (Windows Server 2016 schema), which Cloud Sync requires.", "Extend the schema to Windows Server 2016 or later (adprep /forestprep from a 2016+ DC).";
    CloudSyncJoinUnmatched => "cloud-sync-join-unmatched", Warning, [CloudSync], [AD], "A group in the target OU that Entra Connect wrote back (stamped in adminDescription only) is not matched by Cloud Sync, which joins on msDS-ExternalDirectoryObjectId: it would create a second group next to it (one finding per group).", "Before moving to Cloud Sync, copy adminDescription into msDS-ExternalDirectoryObjectId on each group (Microsoft's migration from Connect group writeback v2).";
    ConnectMigrationPath => "connect-migration-path", Info, [], [SYNC, AD, TARGET_OU], "Entra Connect has written groups back into the target OU while Microsoft moves tenants from Connect Sync to Cloud Sync: moving changes what happens to each group (renamed, duplicated, orphaned, deleted...).", "Review gwb migrate plan --to cloud-sync (or --to gwb) before moving; docs/migration.md.";
    RecycleBinDisabled => "recycle-bin-disabled", Warning, [], [AD], "The AD Recycle Bin is off; Microsoft recommends it before deletion behaviour changes.", "Enable-ADOptionalFeature 'Recycle Bin Feature' -Scope ForestOrConfigurationSet -Target <forest>.";
    DomainLocalNesting => "domain-local-nesting", Error, [], [AD, GROUPS, MEMBERS], "A written-back group nests a domain-local AD group: export fails with \"A universal group cannot have a local group as a member.\"", "Remove the member from the cloud group, or change the AD group's scope to Global or Universal.";
    NameCollision => "name-collision", Error, [], [AD, GROUPS, TARGET_OU], "The CN a group would get is already taken in the target OU by an object gwb does not own, or the sAMAccountName it would be created with (policy.sam-account-name) is already used.", "Rename or move the existing object, rename the cloud group, use the other --cn-format, or change the sAMAccountName template.";
    MemberLimitExceeded => "member-limit-exceeded", Warning, [], [GROUPS, MEMBERS], "A group over the member limit is not written back (one finding per group).", "Split the group, or (Microsoft 365 groups, Connect) raise the limit to 250,000 (--member-limit raised).";
    UnsupportedGroups => "unsupported-groups", Info, [], [GROUPS], "A cloud distribution list or mail-enabled security group cannot be written back (one finding per group).", "Recreate it as a Microsoft 365 group if it must reach AD.";
    AdGroupsDeleted => "ad-groups-deleted", Warning, [], [GROUPS, DELETED, AD], "The forecast deletes an AD group (a hard-deleted cloud group, or modified deletion behaviour); one finding per group.", "Review each deletion; make sure the AD Recycle Bin is on.";
    AdGroupsKept => "ad-groups-kept", Info, [], [GROUPS, AD], "The AD group of a disabled or soft-deleted cloud group stays in AD untouched (default deletion behaviour); one finding per group.", "With --deletion modified it would be deleted instead.";
    MembersSkipped => "members-skipped", Info, [], [GROUPS, MEMBERS], "Members of a written-back group that will not be written (cloud-only users, missing AD objects, unsupported types); one finding per group.", "See the member reasons in the JSON report (gwb codes lists them).";
    DeviceWritebackRequired => "device-writeback-required", Warning, [], [MEMBERS], "Entra registered or joined devices are members of a written-back group, but device writeback is not on (one finding per group).", "Enable device writeback in Entra Connect if these devices must be members in AD.";
    ForecastSummary => "forecast-summary", Info, [], [], "How many groups each target writes back, skips, keeps and deletes.", "None needed.";
    WaiverExpired => "waiver-expired", Error, [], [], "A waiver in --waivers has expired: the finding it accepted counts again, and the gate fails until the waiver is renewed or removed.", "Renew the waiver (a new expires date, approved again) or fix the finding.";
    WaiverUnmatched => "waiver-unmatched", Warning, [], [], "A waiver in --waivers matches no finding (fixed, renamed, or a typo in code or subject).", "Remove the waiver, or correct its code and subject (a group's subject is its object id).";
    SoaConnectBelowFloor => "soa-connect-below-floor", Error, [ConnectV2, CloudSync, Gwb], [SOA, CONNECT_VERSION], "Groups are converted to cloud-managed (source of authority in the cloud) but Entra Connect is older than 2.5.76.0, which does not honour the conversion and keeps writing AD values over them.", "Upgrade every Entra Connect server to 2.5.76.0 or later before converting groups, or roll the conversions back.";
    SoaOriginalMissing => "soa-original-missing", Warning, [CloudSync, Gwb], [SOA, AD], "A converted group's original AD group (objectSid = onPremisesSecurityIdentifier) is not in AD, or more than one object carries the SID (one finding per group): gwb writes nothing for it; Cloud Sync would create a new group with a new SID.", "Find the original group (another domain, deleted: restore it from the AD Recycle Bin), or remove the duplicate SID holder.";
    SoaScopeNotUniversal => "soa-scope-not-universal", Warning, [CloudSync], [SOA, AD], "A converted group's original AD group is Global or Domain Local: Cloud Sync provisions Universal groups only and fails on it (one finding per group).", "Change the AD group's scope to Universal (Global to Universal needs it not to be a member of another Global group), then let Cloud Sync provision it.";
    SoaExchangeManaged => "soa-exchange-managed", Info, [CloudSync, Gwb], [SOA], "A converted mail-enabled security group or distribution list is managed in Exchange Online and is never provisioned back to AD (one finding per group).", "None for writeback; manage the group in Exchange Online. Its AD object is no longer updated.";
    SoaOuNotPreserved => "soa-ou-not-preserved", Warning, [CloudSync], [SOA, AD], "Cloud Sync renames a converted group to <displayName>_<id> and moves it to its container, unless the group's DN was captured in the GroupDN directory extension before conversion and the container and CN expressions use it: ACLs and GPO permissions inherited from the original OU are lost (one finding per group).", "Before converting: make the group Universal, create the GroupDN extension on CloudSyncCustomExtensionsApp, map distinguishedName to it in the AD-to-Entra Cloud Sync configuration, verify it in Graph, convert, then set the parentDistinguishedName and cn expressions on GroupDN (docs/soa.md).";
    SoaMemberConvertedUser => "soa-member-converted-user", Warning, [CloudSync], [SOA, MEMBERS], "Members of a converted group are users whose source of authority is the cloud (an on-premises SID, not synced): a groups-only Cloud Sync configuration writes no references for cloud-managed members (one finding per group).", "Provision those users to AD with a users-and-groups Cloud Sync configuration, or accept that they are not members in AD.";
    SoaRollbackStamped => "soa-rollback-stamped", Warning, [], [SOA, AD], "A group being rolled back to AD (isCloudManaged false) has an AD object carrying a writeback stamp (adminDescription Group_…): Entra Connect's default filter skips groups so stamped, so AD never takes it back (one finding per group).", "Run gwb undo for the adoption (or clear adminDescription and msDS-ExternalDirectoryObjectId on the AD group), then let Entra Connect run.";
    CloudSyncJobNotRunning => "cloud-sync-job-not-running", Warning, [CloudSync], [], "A Cloud Sync configuration's group job is not writing to AD: its status is Quarantine, Paused, NotRun or NotConfigured, or its schedule is not Active (with the quarantine reason and error).", "Fix the cause the provisioning logs name (EncounteredQuarantineException: the agent's credentials), then Restart sync.";
    CloudSyncLastRunErrors => "cloud-sync-last-run-errors", Warning, [CloudSync], [], "A Cloud Sync configuration's last run failed or ended with entry-level errors.", "Open the configuration's provisioning logs and fix the groups that failed.";
    CloudSyncScopeLimit => "cloud-sync-scope-limit", Error, [CloudSync], [], "The groups a Cloud Sync configuration has in scope, or their membership links, exceed Microsoft's limits for its scoping mode (selected groups: 10,000 groups, 250,000 links; all groups with filters: 20,000 groups, 500,000 links).", "Narrow the scope; a domain cannot be split across configurations.";
    CloudSyncGovernanceLicense => "cloud-sync-governance-license", Warning, [CloudSync], [], "The bundle holds more than two Entra-to-AD configurations: configurations 3 to 20 need Microsoft Entra ID Governance.", "License Entra ID Governance, or keep to two configurations (those created before general availability keep their licensing).";
    CloudSyncSwitchContainer => "cloud-sync-switch-container", Warning, [CloudSync], [], "A Cloud Sync container mapping routes with Switch without IgnoreFlowIfNullOrEmpty: Microsoft documents that, with Entra ID as the source, such a Switch can evaluate to null on updates.", "Wrap the Switch in IgnoreFlowIfNullOrEmpty, or use nested IIF (Microsoft's workaround).";
    CloudSyncConfigurationProblem => "cloud-sync-configuration-problem", Warning, [CloudSync], [], "Part of a Cloud Sync configuration cannot be read as Microsoft documents it (an expression that does not parse, a scope that cannot be told, no configuration for the AD domain); the message says what the forecast assumed.", "Correct the configuration, or see docs/cloud-sync.md for the files a bundle needs.";
    CloudSyncDefaultsAssumed => "cloud-sync-defaults-assumed", Info, [CloudSync], [], "The bundle holds no Cloud Sync configuration (cloud-sync/<domain>/): the cloud-sync forecast is gwb's approximation (every cloud security group, the default cn, the target OU, every matched member); the message says where it differs from Microsoft's defaults for a new configuration (container CN=Users, on-premises user membership off).", "Collect the configuration with gwb collect, or save its four files into the bundle (docs/cloud-sync.md), to forecast Cloud Sync as it is configured.";
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
            "connect-migration-path",
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
            "waiver-expired",
            "waiver-unmatched",
            "soa-connect-below-floor",
            "soa-original-missing",
            "soa-scope-not-universal",
            "soa-exchange-managed",
            "soa-ou-not-preserved",
            "soa-member-converted-user",
            "soa-rollback-stamped",
            "cloud-sync-job-not-running",
            "cloud-sync-last-run-errors",
            "cloud-sync-scope-limit",
            "cloud-sync-governance-license",
            "cloud-sync-switch-container",
            "cloud-sync-configuration-problem",
            "cloud-sync-defaults-assumed",
        ];
        assert_eq!(all, expected);
        let unique: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        for c in Code::ALL {
            assert!(!c.description().is_empty());
            assert!(!c.remediation().is_empty());
        }
    }
}
