//! Ownership of AD objects: the one test of whether an AD group was written back for a cloud
//! group. The stamp is `Group_<objectId>` in `adminDescription` (Entra Connect, gwb) or in
//! `msDS-ExternalDirectoryObjectId` (Cloud Sync; gwb writes both where the schema has it).
//! Discovery, the decision core, plan and apply all call [`stamp`]; nothing else parses it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ad::ids;

/// Attribute that carries Entra Connect's (and gwb's) stamp.
pub const ADMIN_DESCRIPTION: &str = "adminDescription";
/// Attribute that carries Cloud Sync's stamp (and gwb's, where the schema has it).
pub const EXTERNAL_DIRECTORY_OBJECT_ID: &str = "msDS-ExternalDirectoryObjectId";
/// The prefix of the stamp value.
pub const STAMP_PREFIX: &str = "Group_";

/// Which attribute(s) carry a valid stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StampSource {
    /// `adminDescription` only (Entra Connect, or gwb without the schema attribute).
    AdminDescription,
    /// `msDS-ExternalDirectoryObjectId` only (Cloud Sync).
    ExternalDirectoryObjectId,
    /// Both.
    Both,
}

impl StampSource {
    /// Whether Cloud Sync's join (`msDS-ExternalDirectoryObjectId` only) matches this object.
    pub fn cloud_sync_matches(self) -> bool {
        !matches!(self, StampSource::AdminDescription)
    }
}

/// An ownership stamp: the cloud objectId and where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub object_id: Uuid,
    pub source: StampSource,
}

/// The objectId in one stamp value, if it is one (`Group_<guid>`, prefix case-sensitive as
/// Entra Connect writes it).
pub fn parse_value(v: &str) -> Option<Uuid> {
    v.trim()
        .strip_prefix(STAMP_PREFIX)
        .and_then(ids::parse_guid)
}

/// The stamp value gwb writes for a cloud group.
pub fn stamp_value(object_id: &str) -> String {
    format!("{STAMP_PREFIX}{}", object_id.trim().to_ascii_lowercase())
}

/// The ownership test. When both attributes carry a stamp but disagree, the
/// `msDS-ExternalDirectoryObjectId` one wins (it is what the directory indexes and Cloud
/// Sync joins on) and the source is that attribute alone.
pub fn stamp(admin_description: Option<&str>, external_id: Option<&str>) -> Option<Stamp> {
    let a = admin_description.and_then(parse_value);
    let x = external_id.and_then(parse_value);
    match (a, x) {
        (Some(a), Some(x)) if a == x => Some(Stamp {
            object_id: a,
            source: StampSource::Both,
        }),
        (_, Some(x)) => Some(Stamp {
            object_id: x,
            source: StampSource::ExternalDirectoryObjectId,
        }),
        (Some(a), None) => Some(Stamp {
            object_id: a,
            source: StampSource::AdminDescription,
        }),
        (None, None) => None,
    }
}

/// Whether a CN looks like a written-back group's (`Group_<guid>`) — used to recognise decoys,
/// objects that look owned but carry no stamp.
pub fn looks_stamped_cn(cn: &str) -> bool {
    parse_value(cn).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3a5c3221-c465-48c0-95b8-e9305786a271";

    #[test]
    fn either_attribute_owns_and_both_agree() {
        let v = stamp_value(ID);
        assert_eq!(v, format!("Group_{ID}"));
        let a = stamp(Some(&v), None).unwrap();
        assert_eq!(a.source, StampSource::AdminDescription);
        assert!(!a.source.cloud_sync_matches());
        let x = stamp(None, Some(&v)).unwrap();
        assert_eq!(x.source, StampSource::ExternalDirectoryObjectId);
        assert!(x.source.cloud_sync_matches());
        assert_eq!(stamp(Some(&v), Some(&v)).unwrap().source, StampSource::Both);
        assert_eq!(a.object_id.to_string(), ID);
    }

    #[test]
    fn non_stamps_do_not_own() {
        assert!(stamp(Some("Group_not-a-guid"), None).is_none());
        assert!(stamp(Some("managed by hand"), Some("")).is_none());
        assert!(stamp(Some(&format!("group_{ID}")), None).is_none());
        assert!(stamp(None, None).is_none());
        assert!(looks_stamped_cn(&format!("Group_{ID}")));
        assert!(!looks_stamped_cn("Sales_e9305786a271"));
    }

    #[test]
    fn disagreeing_stamps_follow_the_indexed_attribute() {
        let other = "00000000-0000-0000-0000-000000000001";
        let s = stamp(Some(&stamp_value(ID)), Some(&stamp_value(other))).unwrap();
        assert_eq!(s.object_id.to_string(), other);
        assert_eq!(s.source, StampSource::ExternalDirectoryObjectId);
    }
}
