//! Stable reason codes (kebab-case, documented API) for group and member outcomes.
//! Renaming or removing one is a breaking change: the full list is snapshot-tested.

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal, $desc:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }
            pub fn description(self) -> &'static str {
                match self { $($name::$variant => $desc,)* }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                $name::ALL
                    .iter()
                    .copied()
                    .find(|r| r.code() == s)
                    .ok_or_else(|| serde::de::Error::custom(format!("unknown reason code {s:?}")))
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "enum": [$($code,)*] })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

codes! {
    /// Why a group gets its outcome.
    GroupReason {
        Eligible => "eligible", "The group is written back (created or updated in the target OU).";
        SourceOnPremises => "source-on-premises", "The group is synchronised from AD (onPremisesSyncEnabled is true); AD is its source of authority.";
        UnsupportedDistributionList => "unsupported-distribution-list", "Cloud distribution lists created in Exchange Online cannot be written back.";
        UnsupportedMailEnabledSecurity => "unsupported-mail-enabled-security", "Mail-enabled security groups cannot be written back.";
        NotSupportedByTarget => "not-supported-by-target", "This target does not write back this kind of group (v1 writes Microsoft 365 groups only; Cloud Sync provisions security groups only).";
        WritebackDisabled => "writeback-disabled", "The Microsoft 365 group has writebackConfiguration.isEnabled = false.";
        SecurityNotEnabled => "security-not-enabled", "The security group is not enabled for writeback (isEnabled is null or false; only true writes it back).";
        FeatureDisabled => "feature-disabled", "The writeback feature this target needs is off in the tenant (with --feature-state current).";
        MemberLimitExceeded => "member-limit-exceeded", "The group has more direct members than the target writes back (Microsoft 365: 50,000, or 250,000 raised; security: 250,000; Cloud Sync: 50,000).";
        SoftDeleted => "soft-deleted", "The group is soft-deleted in Entra ID: by default its AD group stays untouched; with modified deletion it is deleted.";
        HardDeleted => "hard-deleted", "An AD group written back earlier whose cloud group no longer exists: it is deleted from AD.";
        NameCollision => "name-collision", "Another AD object in the target OU already has the CN this group would get, an object in AD already has the sAMAccountName it would be created with (policy.sam-account-name), or another group gets the same name.";
        Excluded => "excluded", "The configuration excludes the group (gwb.toml, [group.\"<id>\"] exclude = true): it is not written, and an AD object written earlier is left untouched.";
        MovedOutOfTargetOu => "moved-out-of-target-ou", "Target gwb: the group's AD object (stamped in adminDescription) was moved out of the target OU within the domain; it is moved back (modrdn with newSuperior), keeping its objectGUID, objectSid and members.";
        OtherWriterContainer => "other-writer-container", "Target gwb: the group's stamped AD object is outside the target OU in another writer's container (Entra Connect's configured writeback OU, or stamped by Cloud Sync alone); gwb neither takes it over nor creates a second copy.";
        StampedCopiesOutsideTargetOu => "stamped-copies-outside-target-ou", "Target gwb: several AD groups outside the target OU carry the group's stamp and none is in the OU; none is moved and no copy is created until only one remains.";
        SoaConverted => "soa-converted", "The group's source of authority was converted from AD to the cloud (onPremisesSyncBehavior.isCloudManaged true): its original AD group (objectSid = onPremisesSecurityIdentifier) is updated in place from the cloud. Target gwb keeps its DN, objectGUID and objectSid; Cloud Sync renames it and moves it to its container unless the GroupDN expressions are configured.";
        SoaConvertedNotWritten => "soa-converted-not-written", "Entra Connect (v1 and v2) does not write back a group whose source of authority was converted to the cloud; only Cloud Sync (or gwb) provisions it back to its original AD group.";
        SoaRollbackPending => "soa-rollback-pending", "The group's conversion was rolled back (isCloudManaged false, not yet synced): AD's sync client takes it over on its next cycle, so no target writes it.";
        SoaStateUnknown => "soa-state-unknown", "The group carries an on-premises SID and is not synced, but its onPremisesSyncBehavior was not collected (it needs Group-OnPremisesSyncBehavior.ReadWrite.All): converted, rolled back or neither cannot be told apart, so it is not written.";
        SoaOriginalMissing => "soa-original-missing", "The converted group's original AD group (objectSid = onPremisesSecurityIdentifier) is not in AD (or the SID names an object that is not a group): target gwb does not create a second group; Cloud Sync would create a new group with a new SID.";
        SoaOriginalDuplicate => "soa-original-duplicate", "More than one AD object carries the converted group's SID: nothing is written until only one remains.";
        SoaScopeNotUniversal => "soa-scope-not-universal", "Cloud Sync: the converted group's original AD group is Global or Domain Local; Cloud Sync provisions Universal groups only (HybridSynchronizationActiveDirectoryInvalidGroupType). Change its scope to Universal.";
        SoaExchangeManaged => "soa-exchange-managed", "A converted mail-enabled security group or distribution list is managed in Exchange Online and is never provisioned back to AD.";
        CloudSyncOutOfScope => "cloud-sync-out-of-scope", "Target cloud-sync with a configuration in the bundle: the configuration does not have the group in scope (the default security clause, the selected groups or the scoping filters; the detail names the check).";
        CloudSyncInvalidGroupType => "cloud-sync-invalid-group-type", "Target cloud-sync: the AD group Cloud Sync joins (by anchor or SID) is not a Universal security group, which Cloud Sync refuses to update.";
    }
}

codes! {
    /// Why a member is or is not written into the AD group.
    MemberReason {
        MemberResolved => "member-resolved", "The member resolves to an AD object and is written as a member.";
        MemberCloudOnly => "member-cloud-only", "The member exists only in the cloud (no on-premises identifiers): skipped.";
        MemberNotFoundInAd => "member-not-found-in-ad", "The member has on-premises identifiers but no matching AD object was found: skipped.";
        MemberDomainLocalGroup => "member-domain-local-group", "The member is a domain-local AD group: \"A universal group cannot have a local group as a member.\"";
        MemberGroupNotWrittenBack => "member-group-not-written-back", "The member is a cloud group that is not itself written back, so the nesting is not written.";
        MemberDeviceRequiresDeviceWriteback => "member-device-requires-device-writeback", "The member is an Entra registered or joined device; it needs device writeback enabled.";
        MemberUnsupportedType => "member-unsupported-type", "The member's type (service principal, contact, or a type the target does not provision) is not written back.";
        MemberUnverified => "member-unverified", "The member has on-premises identifiers but no AD evidence was supplied to confirm the AD object exists.";
        MemberOnPremisesMembershipOff => "member-on-premises-membership-off", "Target cloud-sync with a configuration: an on-premises user is written as a member only when \"Provision membership to on-premises users\" is on (off by default; --cloud-sync-membership on).";
    }
}

/// What happens to a group's AD object.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Created or updated in AD.
    Writeback,
    /// Not written; nothing in AD.
    Skip,
    /// The AD object is deleted.
    Delete,
    /// The AD object exists and stays untouched (no longer updated).
    Keep,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Writeback => "writeback",
            Outcome::Skip => "skip",
            Outcome::Delete => "delete",
            Outcome::Keep => "keep",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reason codes are API: this list changes only with a CHANGELOG entry.
    #[test]
    fn reason_code_list_is_stable() {
        let groups: Vec<&str> = GroupReason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(
            groups,
            [
                "eligible",
                "source-on-premises",
                "unsupported-distribution-list",
                "unsupported-mail-enabled-security",
                "not-supported-by-target",
                "writeback-disabled",
                "security-not-enabled",
                "feature-disabled",
                "member-limit-exceeded",
                "soft-deleted",
                "hard-deleted",
                "name-collision",
                "excluded",
                "moved-out-of-target-ou",
                "other-writer-container",
                "stamped-copies-outside-target-ou",
                "soa-converted",
                "soa-converted-not-written",
                "soa-rollback-pending",
                "soa-state-unknown",
                "soa-original-missing",
                "soa-original-duplicate",
                "soa-scope-not-universal",
                "soa-exchange-managed",
                "cloud-sync-out-of-scope",
                "cloud-sync-invalid-group-type",
            ]
        );
        let members: Vec<&str> = MemberReason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(
            members,
            [
                "member-resolved",
                "member-cloud-only",
                "member-not-found-in-ad",
                "member-domain-local-group",
                "member-group-not-written-back",
                "member-device-requires-device-writeback",
                "member-unsupported-type",
                "member-unverified",
                "member-on-premises-membership-off",
            ]
        );
        for r in GroupReason::ALL {
            assert!(!r.description().is_empty());
            assert!(r.code().chars().all(|c| c.is_ascii_lowercase() || c == '-'));
        }
    }
}
