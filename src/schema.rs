//! JSON Schemas (draft 2020-12) of gwb's documented JSON formats, generated from the Rust types
//! that read and write them: the tenant bundle file (`gwb-tenant/1`, an input: the schema
//! of what gwb accepts), the audit report (`gwb-audit/1`), the plan (`gwb-plan/1`), the tenant
//! plan (`gwb-tenant-plan/1`) and one journal line (`gwb-journal/1`) — outputs: the schema of
//! what gwb writes. docs/schemas/ holds them; a test keeps the committed files up to date
//! (`GWB_BLESS=1` rewrites them).

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

/// Which side of serde the schema describes.
#[derive(Clone, Copy)]
enum Side {
    /// What gwb reads.
    Input,
    /// What gwb writes.
    Output,
}

/// One documented format: its file name under docs/schemas/, its `format` value (pinned with
/// `const` where the type has one), and the schema.
pub struct FormatSchema {
    pub file: &'static str,
    pub format: &'static str,
    pub schema: Value,
}

fn generate<T: schemars::JsonSchema>(side: Side, format: &str, description: &str) -> Value {
    let settings = match side {
        Side::Input => SchemaSettings::draft2020_12().for_deserialize(),
        Side::Output => SchemaSettings::draft2020_12().for_serialize(),
    };
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut v = schema.to_value();
    if let Some(o) = v.as_object_mut() {
        o.insert("title".into(), json!(format));
        o.insert("description".into(), json!(description));
    }
    v
}

/// Pin the top-level `format` property to its one value (where the type has the property).
fn pin_format(mut v: Value, format: &str, required: bool) -> Value {
    if let Some(props) = v.get_mut("properties").and_then(Value::as_object_mut)
        && props.contains_key("format")
    {
        props.insert("format".into(), json!({ "const": format }));
    }
    if required
        && let Some(req) = v.get_mut("required").and_then(Value::as_array_mut)
        && !req.iter().any(|r| r == "format")
    {
        req.push(json!("format"));
    }
    v
}

/// Every schema, in a fixed order.
pub fn all() -> Vec<FormatSchema> {
    use crate::{apply::journal, audit, bundle::tenant, plan::model, tenant as tenant_plan};
    vec![
        FormatSchema {
            file: "gwb-tenant-1.schema.json",
            format: tenant::TENANT_FORMAT,
            // An input: `format` may be absent (older hand-written files) but never another value.
            schema: pin_format(
                generate::<tenant::TenantDoc>(
                    Side::Input,
                    tenant::TENANT_FORMAT,
                    "tenant.json of a snapshot bundle (docs/bundle.md), as gwb reads it.",
                ),
                tenant::TENANT_FORMAT,
                false,
            ),
        },
        FormatSchema {
            file: "gwb-audit-1.schema.json",
            format: audit::REPORT_FORMAT,
            schema: pin_format(
                generate::<audit::Report>(
                    Side::Output,
                    audit::REPORT_FORMAT,
                    "The JSON audit report (gwb audit --format json; docs/reports.md).",
                ),
                audit::REPORT_FORMAT,
                true,
            ),
        },
        FormatSchema {
            file: "gwb-plan-1.schema.json",
            format: model::PLAN_FORMAT,
            schema: pin_format(
                generate::<model::Plan>(
                    Side::Output,
                    model::PLAN_FORMAT,
                    "A saved plan (gwb plan --out; gwb undo --out; docs/executor.md).",
                ),
                model::PLAN_FORMAT,
                true,
            ),
        },
        FormatSchema {
            file: "gwb-tenant-plan-1.schema.json",
            format: tenant_plan::PLAN_FORMAT,
            schema: pin_format(
                generate::<tenant_plan::Plan>(
                    Side::Output,
                    tenant_plan::PLAN_FORMAT,
                    "A saved tenant plan (gwb tenant plan --out; docs/tenant.md).",
                ),
                tenant_plan::PLAN_FORMAT,
                true,
            ),
        },
        FormatSchema {
            file: "gwb-journal-1.schema.json",
            format: journal::JOURNAL_FORMAT,
            schema: generate::<journal::Record>(
                Side::Output,
                journal::JOURNAL_FORMAT,
                "One line of an apply journal (JSON Lines; the first line is the run record, whose format is gwb-journal/1; docs/executor.md).",
            ),
        },
    ]
}

/// A schema as committed: pretty JSON with a final newline.
pub fn to_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}
