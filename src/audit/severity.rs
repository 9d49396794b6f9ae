//! The severity model: a finding's severity is its code's documented default, raised by a
//! deadline that has passed (judged against the report's time), then overridden by
//! `--deny`/`--warn`/`--allow`. Applied once, before verdicts; nothing else sets a severity.

use serde::Serialize;
use time::OffsetDateTime;
use time::macros::datetime;

use super::codes::{Code, Severity};

/// A deadline after which a code's severity rises.
pub struct Deadline {
    /// From this instant on (UTC) the code has `severity`.
    pub from: OffsetDateTime,
    pub severity: Severity,
    pub what: &'static str,
}

/// Date-dependent severities.
pub fn deadline(code: Code) -> Option<Deadline> {
    match code {
        Code::ConnectVersionBelowFloor => Some(Deadline {
            from: datetime!(2026-10-01 00:00 UTC),
            severity: Severity::Error,
            what: "synchronization stops after September 30, 2026",
        }),
        _ => None,
    }
}

/// `--deny`, `--warn`, `--allow`: code → severity, applied after dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Overrides {
    pub deny: Vec<Code>,
    pub warn: Vec<Code>,
    pub allow: Vec<Code>,
}

impl Overrides {
    pub fn is_empty(&self) -> bool {
        self.deny.is_empty() && self.warn.is_empty() && self.allow.is_empty()
    }
    /// A code given twice with different levels is a usage error.
    pub fn validate(&self) -> Result<(), String> {
        for c in Code::ALL {
            let n = [&self.deny, &self.warn, &self.allow]
                .iter()
                .filter(|l| l.contains(c))
                .count();
            if n > 1 {
                return Err(format!(
                    "{} is given to more than one of --deny, --warn and --allow",
                    c.as_str()
                ));
            }
        }
        Ok(())
    }
    fn get(&self, code: Code) -> Option<Severity> {
        if self.deny.contains(&code) {
            Some(Severity::Error)
        } else if self.warn.contains(&code) {
            Some(Severity::Warning)
        } else if self.allow.contains(&code) {
            Some(Severity::Info)
        } else {
            None
        }
    }
}

/// The severity of `code` at time `at` under `overrides`.
pub fn effective(code: Code, at: Option<OffsetDateTime>, overrides: &Overrides) -> Severity {
    if let Some(s) = overrides.get(code) {
        return s;
    }
    let mut sev = code.default_severity();
    if let (Some(d), Some(at)) = (deadline(code), at)
        && at >= d.from
    {
        sev = sev.max(d.severity);
    }
    sev
}

/// Parse an RFC 3339 time (the report's `generatedAt`, `--as-of`).
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_is_an_error_and_overrides_win() {
        let before = parse_time("2026-09-30T23:59:59Z");
        let after = parse_time("2026-10-01T00:00:00Z");
        let none = Overrides::default();
        let c = Code::ConnectVersionBelowFloor;
        assert_eq!(effective(c, before, &none), Severity::Warning);
        assert_eq!(effective(c, after, &none), Severity::Error);
        let warn = Overrides {
            warn: vec![c],
            ..Overrides::default()
        };
        assert_eq!(effective(c, after, &warn), Severity::Warning);
        let allow = Overrides {
            allow: vec![Code::NameCollision],
            ..Overrides::default()
        };
        assert_eq!(
            effective(Code::NameCollision, after, &allow),
            Severity::Info
        );
        let deny = Overrides {
            deny: vec![Code::RecycleBinDisabled],
            ..Overrides::default()
        };
        assert_eq!(
            effective(Code::RecycleBinDisabled, None, &deny),
            Severity::Error
        );
        let both = Overrides {
            deny: vec![c],
            allow: vec![c],
            ..Overrides::default()
        };
        assert!(both.validate().is_err());
    }
}
