//! Waivers (`--waivers FILE`, TOML or JSON): an accepted finding, named by code and subject,
//! with a reason, an approver and an expiry date. Parsing is pure; `audit` applies them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::codes::Code;

/// One waiver as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawWaiver {
    code: String,
    subject: String,
    reason: String,
    expires: String,
    #[serde(alias = "approved_by", alias = "approved-by")]
    approved_by: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(alias = "waivers", default)]
    waiver: Vec<RawWaiver>,
}

/// A parsed waiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Waiver {
    pub code: Code,
    pub subject: String,
    pub reason: String,
    /// As written (a date `YYYY-MM-DD`, valid through that day in UTC, or an RFC 3339 time).
    pub expires: String,
    pub approved_by: String,
    #[serde(skip)]
    pub expires_at: OffsetDateTime,
    /// Where it was written: `FILE: waiver N`.
    pub source: String,
}

impl Waiver {
    pub fn expired(&self, at: Option<OffsetDateTime>) -> bool {
        at.is_some_and(|at| at >= self.expires_at)
    }
    pub fn matches(&self, code: Code, subject: &str) -> bool {
        self.code == code && self.subject.trim().eq_ignore_ascii_case(subject.trim())
    }
}

fn parse_expiry(s: &str) -> Option<OffsetDateTime> {
    if let Some(t) = super::severity::parse_time(s) {
        return Some(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s.trim(), &fmt).ok()?;
    // A date is valid through its last second: it expires at the next midnight, UTC.
    Some(d.next_day()?.midnight().assume_utc())
}

/// Parse a waiver file: TOML (`[[waiver]]` tables) or JSON (an array, or `{"waivers": [...]}`),
/// chosen by the extension (`.toml`, `.json`) or, failing that, the first character.
pub fn parse(name: &str, text: &str) -> Result<Vec<Waiver>, String> {
    let text = text.trim_start_matches('\u{feff}');
    let lower = name.to_ascii_lowercase();
    let json = if lower.ends_with(".json") {
        true
    } else if lower.ends_with(".toml") {
        false
    } else {
        matches!(text.trim_start().chars().next(), Some('[' | '{'))
            && !text.trim_start().starts_with("[[")
    };
    let raw: Vec<RawWaiver> = if json {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("{name}: not valid JSON: {e}"))?;
        let list = if v.is_array() {
            v
        } else {
            v.get("waivers").cloned().ok_or_else(|| {
                format!("{name}: expected an array of waivers or {{\"waivers\": [...]}}")
            })?
        };
        serde_json::from_value(list).map_err(|e| format!("{name}: {e}"))?
    } else {
        let f: RawFile = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        f.waiver
    };
    let mut out = Vec::new();
    for (i, w) in raw.into_iter().enumerate() {
        let place = format!("{name}: waiver {}", i + 1);
        let code = Code::parse(&w.code)
            .ok_or_else(|| format!("{place}: unknown code {:?} (gwb codes lists them)", w.code))?;
        for (field, v) in [
            ("subject", &w.subject),
            ("reason", &w.reason),
            ("approvedBy", &w.approved_by),
        ] {
            if v.trim().is_empty() {
                return Err(format!("{place}: {field} is empty"));
            }
        }
        let expires_at = parse_expiry(&w.expires).ok_or_else(|| {
            format!(
                "{place}: expires {:?} is not a date (YYYY-MM-DD) or an RFC 3339 time",
                w.expires
            )
        })?;
        out.push(Waiver {
            code,
            subject: w.subject.trim().to_string(),
            reason: w.reason.trim().to_string(),
            expires: w.expires.trim().to_string(),
            approved_by: w.approved_by.trim().to_string(),
            expires_at,
            source: place,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_parse_to_the_same_waivers() {
        let t = r#"
[[waiver]]
code = "name-collision"
subject = "8336a1d4-3f88-5936-bc4e-9e01141c677e"
reason = "renamed in CHG-1234"
expires = "2027-01-31"
approvedBy = "CAB"
"#;
        let j = r#"{"waivers":[{"code":"name-collision","subject":"8336a1d4-3f88-5936-bc4e-9e01141c677e","reason":"renamed in CHG-1234","expires":"2027-01-31","approvedBy":"CAB"}]}"#;
        let a = parse("w.toml", t).unwrap();
        let b = parse("w.json", j).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].code, b[0].code);
        assert_eq!(a[0].expires_at, b[0].expires_at);
        let end = super::super::severity::parse_time("2027-01-31T23:59:59Z");
        assert!(!a[0].expired(end));
        assert!(a[0].expired(super::super::severity::parse_time("2027-02-01T00:00:00Z")));
    }

    #[test]
    fn errors_name_the_file_and_the_waiver() {
        let e = parse("w.json", r#"[{"code":"nope","subject":"x","reason":"r","expires":"2027-01-01","approvedBy":"a"}]"#).unwrap_err();
        assert!(e.contains("w.json: waiver 1") && e.contains("nope"), "{e}");
        let e = parse("w.toml", "[[waiver]]\ncode = \"name-collision\"\n").unwrap_err();
        assert!(e.starts_with("w.toml"), "{e}");
        let e = parse("w.json", r#"[{"code":"name-collision","subject":"x","reason":"r","expires":"soon","approvedBy":"a"}]"#).unwrap_err();
        assert!(e.contains("expires"), "{e}");
    }
}
