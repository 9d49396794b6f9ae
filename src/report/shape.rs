//! `--shape msidentitytools`: per-group records with the property names of MSIdentityTools'
//! Get-MsIdGroupWritebackConfiguration (id, DisplayName, SourceOfAuthority, Type,
//! WriteBackEnabled, WriteBackOnPremGroupType, EffectiveWriteBack), computed by the decision
//! core under the tenant's actual feature state rather than per-group strings alone.

use serde::Serialize;

use crate::bundle::tenant::{Group, GroupKind};
use crate::core::{GroupForecast, GroupReason, Outcome};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MsIdRecord {
    pub id: String,
    #[serde(rename = "DisplayName")]
    pub display_name: String,
    #[serde(rename = "SourceOfAuthority")]
    pub source_of_authority: String,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "WriteBackEnabled")]
    pub write_back_enabled: String,
    #[serde(rename = "WriteBackOnPremGroupType")]
    pub write_back_on_prem_group_type: String,
    #[serde(rename = "EffectiveWriteBack")]
    pub effective_write_back: String,
}

/// Build a record from a group and the core's decision for it.
pub fn record(g: &Group, f: &GroupForecast) -> MsIdRecord {
    let on_prem = g.on_premises_sync_enabled == Some(true);
    let kind = g.kind();
    let type_name = match kind {
        GroupKind::Microsoft365 => "M365",
        GroupKind::Security => "Security",
        GroupKind::MailEnabledSecurity => "Mail-Enabled Security",
        GroupKind::Distribution => "Distribution",
    };
    let wb = g.writeback_configuration.clone().unwrap_or_default();
    let setting = crate::core::writeback_setting(g);
    let na = setting.is_none();
    let enabled = match setting {
        None => "N/A".to_string(),
        Some(Some(true)) => "TRUE".into(),
        Some(Some(false)) => "FALSE".into(),
        Some(None) => "NOTSET".into(),
    };
    let gtype = if na {
        "N/A".to_string()
    } else {
        match (&wb.on_premises_group_type, kind) {
            (Some(t), _) => t.clone(),
            (None, GroupKind::Microsoft365) => "universalDistributionGroup (M365 DEFAULT)".into(),
            (None, _) => "universalSecurityGroup (Security DEFAULT)".into(),
        }
    };
    let m365 = kind == GroupKind::Microsoft365;
    let effective = match (f.outcome, f.reason) {
        (_, GroupReason::SourceOnPremises) => "On-Premises is Source Of Authority for Group".to_string(),
        (_, GroupReason::UnsupportedDistributionList) => "Cloud Distribution Groups are not supported for group writeback to on-premises. Use M365 groups instead.".into(),
        (_, GroupReason::UnsupportedMailEnabledSecurity) => {
            "Cloud mail-enabled security groups are not supported for group writeback to on-premises. Use M365 groups instead.".into()
        }
        (Outcome::Writeback, _) => format!(
            "Cloud {} group will be writtenback onprem as {} grouptype",
            if m365 { "M365" } else { "security" },
            f.on_premises_group_type.map(|t| t.as_str()).unwrap_or("?")
        ),
        (_, reason) => {
            let base = if m365 { "Cloud M365 group will NOT be writtenback on-premises" } else { "Cloud security will NOT be writtenback on-premises" };
            match reason {
                GroupReason::WritebackDisabled | GroupReason::SecurityNotEnabled => base.to_string(),
                other => format!("{base} ({}: {})", other.code(), f.detail),
            }
        }
    };
    MsIdRecord {
        id: g.id.clone(),
        display_name: g.name().to_string(),
        source_of_authority: if on_prem {
            "On-Premises".into()
        } else {
            "Cloud".into()
        },
        kind: type_name.into(),
        write_back_enabled: enabled,
        write_back_on_prem_group_type: gtype,
        effective_write_back: effective,
    }
}

/// Render the records of the tenant's effective target in a report format.
pub fn render(
    snap: &crate::bundle::Snapshot,
    report: &crate::audit::Report,
    format: crate::cli::Format,
) -> anyhow::Result<Vec<u8>> {
    use crate::core::Target;
    // The effective target: v2 semantics when v2 is on (or unknown), v1 when only v1 is on.
    let target = if report.flags.v1 == Some(true) && report.flags.v2 != Some(true) {
        Target::ConnectV1
    } else {
        Target::ConnectV2
    };
    let forecast = match report.forecast.iter().find(|f| f.target == target) {
        Some(f) => f,
        None => anyhow::bail!(
            "--shape msidentitytools needs the {} forecast: add --target {}",
            target.as_str(),
            target.as_str()
        ),
    };
    let by_id: std::collections::HashMap<&str, &GroupForecast> =
        forecast.groups.iter().map(|g| (g.id.as_str(), g)).collect();
    let records: Vec<MsIdRecord> = snap
        .tenant
        .groups
        .iter()
        .flatten()
        .filter_map(|g| {
            by_id
                .get(g.id.to_ascii_lowercase().as_str())
                .map(|f| record(g, f))
        })
        .collect();
    Ok(match format {
        crate::cli::Format::Csv => {
            let mut buf = vec![0xEF, 0xBB, 0xBF];
            {
                let mut w = ::csv::WriterBuilder::new()
                    .quote_style(::csv::QuoteStyle::Always)
                    .terminator(::csv::Terminator::CRLF)
                    .from_writer(&mut buf);
                for r in &records {
                    w.serialize(r)?;
                }
                w.flush()?;
            }
            buf
        }
        crate::cli::Format::Clixml => crate::ps::clixml::to_clixml(
            &serde_json::to_value(&records)?,
            "gwb.MsIdGroupWritebackConfiguration",
        )
        .into_bytes(),
        _ => (serde_json::to_string_pretty(&records)? + "\n").into_bytes(),
    })
}
