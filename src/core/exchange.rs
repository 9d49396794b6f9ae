//! What Exchange preparation AD shows: the (rangeUpper, domain objectVersion, organization
//! objectVersion) triple mapped to the Exchange release it implies
//! (active-directory-and-samba-facts.md §1.1, from Microsoft's CSS-Exchange build table).

use crate::ad::ExchangeFacts;

/// (rangeUpper, MESO/domain objectVersion, organization objectVersion, label).
/// 2016 CU13–CU17 and 2019 CU15/SE RTM look identical in AD.
const TABLE: &[(i64, i64, i64, &str)] = &[
    (17003, 13243, 16763, "Exchange 2019 CU15 or Exchange SE RTM"),
    (17003, 13243, 16762, "Exchange 2019 CU14"),
    (17003, 13243, 16761, "Exchange 2019 CU13"),
    (17003, 13243, 16760, "Exchange 2019 CU12"),
    (
        17003,
        13243,
        16759,
        "Exchange 2019 CU11 with the May 2022 SU",
    ),
    (17003, 13242, 16759, "Exchange 2019 CU11"),
    (17003, 13241, 16758, "Exchange 2019 CU10"),
    (17002, 13240, 16757, "Exchange 2019 CU9"),
    (17002, 13239, 16756, "Exchange 2019 CU8"),
    (17001, 13238, 16755, "Exchange 2019 CU7"),
    (17001, 13237, 16754, "Exchange 2019 CU2–CU6"),
    (17000, 13236, 16752, "Exchange 2019 CU1"),
    (17000, 13236, 16751, "Exchange 2019 RTM"),
    (15334, 13243, 16223, "Exchange 2016 CU23"),
    (
        15334,
        13243,
        16222,
        "Exchange 2016 CU22 with the May 2022 SU",
    ),
    (15334, 13242, 16222, "Exchange 2016 CU22"),
    (15334, 13241, 16221, "Exchange 2016 CU21"),
    (15333, 13240, 16220, "Exchange 2016 CU20"),
    (15333, 13239, 16219, "Exchange 2016 CU19"),
    (15332, 13238, 16218, "Exchange 2016 CU18"),
    (15332, 13237, 16217, "Exchange 2016 CU13–CU17"),
    (15332, 13236, 16215, "Exchange 2016 CU12"),
    (15332, 13236, 16214, "Exchange 2016 CU11"),
    (15332, 13236, 16213, "Exchange 2016 CU7–CU10"),
    (15330, 13236, 16213, "Exchange 2016 CU6"),
    (15326, 13236, 16213, "Exchange 2016 CU4–CU5"),
    (15326, 13236, 16212, "Exchange 2016 CU3"),
    (15325, 13236, 16212, "Exchange 2016 CU2"),
    (15323, 13236, 16211, "Exchange 2016 CU1"),
    (15317, 13236, 16210, "Exchange 2016 RTM"),
    (
        15312,
        13238,
        16133,
        "Exchange 2013 CU23 with the May 2022 SU",
    ),
    (15312, 13237, 16133, "Exchange 2013 CU23"),
    (15312, 13236, 16131, "Exchange 2013 CU22"),
    (15312, 13236, 16130, "Exchange 2013 CU10–CU21"),
    (15312, 13236, 15965, "Exchange 2013 CU7–CU9"),
    (15303, 13236, 15965, "Exchange 2013 CU6"),
    (15300, 13236, 15870, "Exchange 2013 CU5"),
    (15292, 13236, 15844, "Exchange 2013 SP1"),
    (15283, 13236, 15763, "Exchange 2013 CU3"),
    (15281, 13236, 15688, "Exchange 2013 CU2"),
    (15254, 13236, 15614, "Exchange 2013 CU1"),
    (15137, 13236, 15449, "Exchange 2013 RTM"),
];

/// The preparation state AD shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preparation {
    /// No schema evidence at all.
    Unknown,
    /// Schema not extended (or the organization / domain objects missing).
    NotPrepared { what: String },
    Prepared {
        label: String,
        meets_2016_cu15: bool,
    },
}

/// Read the preparation state. `schema_captured` says whether absence of the schema object is meaningful.
pub fn preparation(x: &ExchangeFacts, schema_captured: bool) -> Preparation {
    let Some(ru) = x.schema_range_upper else {
        return if schema_captured {
            Preparation::NotPrepared {
                what: "the schema has no ms-Exch-Schema-Version-Pt (Setup /PrepareSchema not run)"
                    .into(),
            }
        } else {
            Preparation::Unknown
        };
    };
    let Some(org) = x.organization_object_version else {
        return Preparation::NotPrepared {
            what: format!(
                "schema extended (rangeUpper {ru}) but no Exchange organization (Setup /PrepareAD not run)"
            ),
        };
    };
    let Some(dom) = x.domain_object_version else {
        return Preparation::NotPrepared {
            what: format!(
                "schema and organization prepared (rangeUpper {ru}, objectVersion {org}) but this domain has no Microsoft Exchange System Objects container (Setup /PrepareDomain not run)"
            ),
        };
    };
    let label = TABLE
        .iter()
        .find(|(r, d, o, _)| *r == ru && *d == dom && *o == org)
        .map(|(_, _, _, l)| l.to_string())
        .unwrap_or_else(|| {
            let line = if ru >= 17000 {
                "Exchange 2019 or SE"
            } else if ru >= 15317 {
                "Exchange 2016"
            } else {
                "Exchange 2013 or older"
            };
            format!("{line} (unlisted combination rangeUpper {ru}, domain objectVersion {dom}, organization objectVersion {org})")
        });
    // 2016 line: at least the CU13–CU17 level; 2019/SE line: CU2 or later.
    let meets = if ru >= 17000 {
        dom >= 13237 && org >= 16754
    } else {
        ru >= 15332 && dom >= 13237 && (16217..16700).contains(&org)
    };
    Preparation::Prepared {
        label,
        meets_2016_cu15: meets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(ru: Option<i64>, dom: Option<i64>, org: Option<i64>) -> ExchangeFacts {
        ExchangeFacts {
            schema_range_upper: ru,
            domain_object_version: dom,
            organization_object_version: org,
            organization_dn: None,
        }
    }

    #[test]
    fn identifies_versions() {
        assert_eq!(
            preparation(&facts(None, None, None), false),
            Preparation::Unknown
        );
        assert!(matches!(
            preparation(&facts(None, None, None), true),
            Preparation::NotPrepared { .. }
        ));
        assert!(matches!(
            preparation(&facts(Some(15334), None, None), true),
            Preparation::NotPrepared { .. }
        ));
        assert_eq!(
            preparation(&facts(Some(15334), Some(13243), Some(16223)), true),
            Preparation::Prepared {
                label: "Exchange 2016 CU23".into(),
                meets_2016_cu15: true
            }
        );
        assert_eq!(
            preparation(&facts(Some(15332), Some(13237), Some(16217)), true),
            Preparation::Prepared {
                label: "Exchange 2016 CU13–CU17".into(),
                meets_2016_cu15: true
            }
        );
        assert_eq!(
            preparation(&facts(Some(15332), Some(13236), Some(16215)), true),
            Preparation::Prepared {
                label: "Exchange 2016 CU12".into(),
                meets_2016_cu15: false
            }
        );
        assert!(matches!(
            preparation(&facts(Some(17003), Some(13243), Some(16763)), true),
            Preparation::Prepared {
                meets_2016_cu15: true,
                ..
            }
        ));
        assert!(matches!(
            preparation(&facts(Some(15312), Some(13237), Some(16133)), true),
            Preparation::Prepared {
                meets_2016_cu15: false,
                ..
            }
        ));
    }
}
