//! The Connect-side steps of a migration, in order, with the exact PowerShell, each marked
//! irreversible where Microsoft says so. Microsoft's procedure ("Migrate group writeback v2 to
//! Cloud Sync") is followed as written; where gwb adapts it (moving to gwb), the step says so.

use crate::core::Target;

use super::model::ChecklistStep;

const MIGRATE_PAGE: &str = "Microsoft: Migrate Microsoft Entra Connect Sync group writeback v2 to Microsoft Entra Cloud Sync (migrate-group-writeback)";
const DISABLE_PAGE: &str = "Microsoft: Disable group writeback (how-to-connect-group-writeback-disable): on the next cycle all groups previously written back are deleted from AD";
const GWB: &str = "gwb: docs/migration.md";

/// The entra connector's fixed identifier (Microsoft's rule examples use it).
const ENTRA_CONNECTOR: &str = "b891884f-051e-4a83-95af-2544101c9083";

fn inbound_rule(mail_clause: bool) -> String {
    let scope = if mail_clause {
        "New-Object Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeConditionGroup\n$s.ScopeConditionList.Add((New-Object Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition('cloudMastered','true','EQUAL')))\n$s.ScopeConditionList.Add((New-Object Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition('mail','','ISNULL')))"
    } else {
        "New-Object Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeConditionGroup\n$s.ScopeConditionList.Add((New-Object Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition('cloudMastered','true','EQUAL')))"
    };
    format!(
        "Import-Module ADSync\n$precedence = Read-Host 'Unused precedence value (0-99)'\n$r = New-ADSyncRule -Name 'In from AAD - Group SOAinAAD coexistence with Cloud Sync' -Identifier 'e4eae1c9-b9bc-4328-ade9-df871cdd3027' -Direction 'Inbound' -Precedence $precedence -PrecedenceAfter '00000000-0000-0000-0000-000000000000' -PrecedenceBefore '00000000-0000-0000-0000-000000000000' -SourceObjectType 'group' -TargetObjectType 'group' -Connector '{ENTRA_CONNECTOR}' -LinkType 'Join' -SoftDeleteExpiryInterval 0 -ImmutableTag ''\nAdd-ADSyncAttributeFlowMapping -SynchronizationRule $r -Destination 'cloudNoFlow' -FlowType 'Constant' -ValueMergeType 'Update' -Source @('true')\n$s = {scope}\nAdd-ADSyncScopeConditionGroup -SynchronizationRule $r -ScopeConditions $s.ScopeConditionList\nAdd-ADSyncJoinConditionGroup -SynchronizationRule $r -JoinConditions @((New-Object Microsoft.IdentityManagement.PowerShell.ObjectModel.JoinCondition('cloudAnchor','cloudAnchor',$false)))\nAdd-ADSyncRule -SynchronizationRule $r"
    )
}

fn outbound_rule() -> String {
    "Import-Module ADSync\n$precedence = Read-Host 'Unused precedence value (0-99)'\n$ad = (Get-ADSyncConnector | Where-Object { $_.Type -eq 'AD' } | Select-Object -First 1).Identifier\n$r = New-ADSyncRule -Name 'Out to AD - Group SOAinAAD coexistence with Cloud Sync' -Identifier '419fda18-75bb-4e23-b947-8b06e7246551' -Direction 'Outbound' -Precedence $precedence -PrecedenceAfter '00000000-0000-0000-0000-000000000000' -PrecedenceBefore '00000000-0000-0000-0000-000000000000' -SourceObjectType 'group' -TargetObjectType 'group' -Connector $ad -LinkType 'JoinNoFlow' -SoftDeleteExpiryInterval 0 -ImmutableTag ''\nAdd-ADSyncScopeConditionGroup -SynchronizationRule $r -ScopeConditions @((New-Object Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition('cloudNoFlow','true','EQUAL')))\nAdd-ADSyncRule -SynchronizationRule $r".to_string()
}

fn step(
    title: impl Into<String>,
    powershell: impl Into<String>,
    irreversible: bool,
    source: &'static str,
) -> ChecklistStep {
    ChecklistStep {
        step: 0,
        title: title.into(),
        powershell: powershell.into(),
        irreversible,
        source,
    }
}

/// The steps for `from → to`, numbered from 1. `container` is Connect's writeback OU.
pub fn checklist(from: Target, to: Target, container: Option<&str>) -> Vec<ChecklistStep> {
    let ou = container.unwrap_or("<Connect's writeback OU>");
    let mut v = Vec::new();
    let staging_on = step(
        "Put the Connect server in staging mode (wizard: Configure staging mode) and turn its scheduler off",
        "Set-ADSyncScheduler -SyncCycleEnabled $false\nGet-ADSyncScheduler | Select-Object StagingModeEnabled, SyncCycleEnabled",
        false,
        MIGRATE_PAGE,
    );
    let staging_off = step(
        "Turn the scheduler back on and leave staging mode (wizard: Configure staging mode, clear the box)",
        "Set-ADSyncScheduler -SyncCycleEnabled $true",
        false,
        MIGRATE_PAGE,
    );
    match (from, to) {
        (Target::ConnectV2, Target::CloudSync) => {
            v.push(step(
                format!("Copy adminDescription to msDS-ExternalDirectoryObjectId on the groups Connect wrote in {ou}: apply gwb's preparation (journalled, undoable)"),
                "gwb migrate plan --from connect-v2 --to cloud-sync --snapshot bundle/ --out-preparation prep.json\ngwb apply prep.json --ldap-url ldaps://<dc> --bind-dn <account>\n# Microsoft's script, for reference (it copies on every stamped group of the OU):\n# Get-ADGroup -Filter * -SearchBase '<OU>' -Properties adminDescription | Where-Object { $_.adminDescription -ne $null } | ForEach-Object { Set-ADGroup $_ -Add @{'msDS-ExternalDirectoryObjectID'=$_.adminDescription} }",
                false,
                MIGRATE_PAGE,
            ));
            v.push(staging_on);
            v.push(step(
                "Add the inbound coexistence rule (cloud-mastered groups without mail get cloudNoFlow = true)",
                inbound_rule(true),
                false,
                MIGRATE_PAGE,
            ));
            v.push(step(
                "Add the outbound coexistence rule (JoinNoFlow: Connect stops adding, deleting and updating those groups)",
                outbound_rule(),
                false,
                MIGRATE_PAGE,
            ));
            v.push(step(
                "Run an initial sync cycle",
                "Start-ADSyncSyncCycle -PolicyType Initial",
                false,
                MIGRATE_PAGE,
            ));
            v.push(step(
                "Turn group writeback v2 off. IRREVERSIBLE: v2 cannot be enabled again, and Microsoft 365 groups revert to v1 behaviour (all written back as distribution groups, whatever their writeback setting)",
                "Set-ADSyncAADCompanyFeature -GroupWritebackV2 $false",
                true,
                MIGRATE_PAGE,
            ));
            v.push(step(
                "Run an initial sync cycle again",
                "Start-ADSyncSyncCycle -PolicyType Initial",
                false,
                MIGRATE_PAGE,
            ));
            v.push(staging_off);
            v.push(step(
                format!("Configure Cloud Sync provisioning to AD: target container {ou}; cn mapping Append(\"Group_\",[objectId]) to keep Connect's names; add the groups to its scope (scopeAdditions); turn 'Provision membership to on-premises users' on if members must stay"),
                "# Entra admin center: Entra Connect > Cloud Sync > New configuration > Microsoft Entra ID to AD sync\n# Scope beyond 999 groups: POST https://graph.microsoft.com/v1.0/servicePrincipals/{servicePrincipalID}/appRoleAssignedTo\n#   {\"principalId\":\"<group id>\",\"resourceId\":\"<job SP id>\",\"appRoleId\":\"1a0abf4d-b9fa-4512-a3a2-51ee82c6fd9f\"}",
                false,
                MIGRATE_PAGE,
            ));
        }
        (Target::ConnectV1, Target::CloudSync) => {
            v.push(step(
                "Cloud Sync does not provision Microsoft 365 groups: keep Connect's group writeback (v1) on for them, or move them to gwb instead (gwb migrate plan --from connect-v1 --to gwb)",
                "",
                false,
                MIGRATE_PAGE,
            ));
            v.push(step(
                "Only if the groups may go: turn group writeback off (wizard: Optional features, clear Group writeback). IRREVERSIBLE for the groups: every group Connect wrote is deleted from AD on the next cycle",
                "",
                true,
                DISABLE_PAGE,
            ));
        }
        (Target::ConnectV1 | Target::ConnectV2, Target::Gwb) => {
            v.push(step(
                format!("Adopt the groups Connect wrote in {ou} with gwb, in place (objectGUID, SID, CN kept)"),
                format!("gwb migrate plan --from {} --to gwb --snapshot bundle/ --out-preparation prep.json\ngwb apply prep.json --takeover --ldap-url ldaps://<dc> --bind-dn <account>", from.as_str()),
                false,
                GWB,
            ));
            v.push(staging_on);
            v.push(step(
                "Add the inbound coexistence rule, scoped to every cloud-mastered group (gwb's adaptation of Microsoft's rule: without its `mail ISNULL` clause, so Microsoft 365 groups are covered too)",
                inbound_rule(false),
                false,
                GWB,
            ));
            v.push(step(
                "Add the outbound JoinNoFlow rule (Connect stops adding, deleting and updating those groups)",
                outbound_rule(),
                false,
                MIGRATE_PAGE,
            ));
            v.push(step(
                "Run an initial sync cycle",
                "Start-ADSyncSyncCycle -PolicyType Initial",
                false,
                MIGRATE_PAGE,
            ));
            if from == Target::ConnectV2 {
                v.push(step(
                    "Turn group writeback v2 off. IRREVERSIBLE: v2 cannot be enabled again",
                    "Set-ADSyncAADCompanyFeature -GroupWritebackV2 $false",
                    true,
                    MIGRATE_PAGE,
                ));
                v.push(step(
                    "Run an initial sync cycle again",
                    "Start-ADSyncSyncCycle -PolicyType Initial",
                    false,
                    MIGRATE_PAGE,
                ));
            }
            v.push(step(
                "Before leaving staging mode, check that Connect has no pending deletes on the AD connector",
                "csexport \"<AD connector name>\" pending.xml /f:x\nSelect-String -Path pending.xml -Pattern 'operation=\"delete\"'",
                false,
                GWB,
            ));
            v.push(staging_off);
            v.push(step(
                "Maintain the groups with gwb from now on; the next plan should be all noop for the adopted groups",
                "gwb plan --snapshot bundle/ --target-ou '<Connect's writeback OU>'\ngwb sync --watch …",
                false,
                GWB,
            ));
        }
        _ => v.push(step(
            format!(
                "No Connect-side steps are documented for {} to {}",
                from.as_str(),
                to.as_str()
            ),
            "",
            false,
            GWB,
        )),
    }
    for (i, s) in v.iter_mut().enumerate() {
        s.step = i + 1;
    }
    v
}
