//! The desired AD state for target `gwb`: per written-back group the typed DN, the anchor
//! (stamp), every attribute value gwb writes and the member set, derived from the core's
//! forecast. Pure. What gwb writes (entra-group-writeback-facts.md §2): `objectClass: group`,
//! `cn`, `groupType`, `displayName`, `description` (first 448 characters, trimmed),
//! `adminDescription` and, where the schema has it, `msDS-ExternalDirectoryObjectId` =
//! `Group_<objectId>`, `member`, and `mail`, `mailNickname`, `proxyAddresses` (primary SMTP
//! only) when AD is prepared for Exchange and the group is mail-enabled in AD terms; and, on a
//! create only, `sAMAccountName` from the configuration's template (`policy.sam-account-name`;
//! without it AD generates one).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::ad::Dn;
use crate::bundle::tenant::Group;

use super::ownership::{self, ADMIN_DESCRIPTION, EXTERNAL_DIRECTORY_OBJECT_ID};
use super::{Forecast, GroupForecast, Inputs, Outcome, Policy, Target};

/// The attributes gwb ever writes on a group besides `objectClass` and `cn` (which a create
/// sets and a rename changes). Discovery reads the bind account's rights on exactly these.
pub const WRITTEN_ATTRIBUTES: &[&str] = &[
    "member",
    "description",
    "displayName",
    ADMIN_DESCRIPTION,
    EXTERNAL_DIRECTORY_OBJECT_ID,
    "mail",
    "mailNickname",
    "proxyAddresses",
    "groupType",
    "sAMAccountName",
];

/// The attributes a plan compares and writes (single- or multi-valued), in write order.
/// `member` is handled as the member set.
pub const COMPARED_ATTRIBUTES: &[&str] = &[
    "groupType",
    "sAMAccountName",
    "displayName",
    "description",
    ADMIN_DESCRIPTION,
    EXTERNAL_DIRECTORY_OBJECT_ID,
    "mail",
    "mailNickname",
    "proxyAddresses",
];

/// The cloud properties gwb writes, and the AD attributes each one feeds. When a property is
/// unknown (`Group::unknown_properties`) those attributes are left as they are in AD.
pub const WRITTEN_PROPERTIES: &[(&str, &[&str])] = &[
    ("displayName", &["displayName"]),
    ("description", &["description"]),
    ("mail", &["mail", "proxyAddresses"]),
    ("mailNickname", &["mailNickname"]),
    ("proxyAddresses", &["proxyAddresses"]),
];

/// The AD attributes whose cloud value is unknown for a group.
pub fn unknown_attributes(g: &Group) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = WRITTEN_PROPERTIES
        .iter()
        .filter(|(p, _)| {
            g.unknown_properties
                .iter()
                .any(|u| u.eq_ignore_ascii_case(p))
        })
        .flat_map(|(_, attrs)| attrs.iter().copied())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Attributes written when a group is created and never changed afterwards: an existing
/// group keeps its `sAMAccountName` when the template changes (as Entra Connect never renames
/// one, and because scripts, ACLs and `DOMAIN\name` references use it).
pub const CREATE_ONLY_ATTRIBUTES: &[&str] = &["sAMAccountName"];

/// Whether `attr` is written on create only.
pub fn is_create_only(attr: &str) -> bool {
    CREATE_ONLY_ATTRIBUTES
        .iter()
        .any(|a| a.eq_ignore_ascii_case(attr))
}

/// The managed-attribute rule: whether gwb keeps `attr` in step on an existing AD object.
/// Mail attributes only when they are written (AD prepared for Exchange and a mail-enabled AD
/// group type: the forecast's `mail_attributes`); the Cloud Sync stamp only when the AD schema
/// is known to have it; create-only attributes (`sAMAccountName`) never; everything else
/// always. Every command that diffs against AD (plan, apply, sync, migration) asks this.
pub fn manages(attr: &str, f: &GroupForecast, ad: &crate::ad::AdSnapshot) -> bool {
    match attr {
        "mail" | "mailNickname" | "proxyAddresses" => f.mail_attributes == Some(true),
        a if a == EXTERNAL_DIRECTORY_OBJECT_ID => {
            ad.has_schema_attribute(EXTERNAL_DIRECTORY_OBJECT_ID) == Some(true)
        }
        a if is_create_only(a) => false,
        _ => true,
    }
}

/// Multi-valued attributes among [`COMPARED_ATTRIBUTES`].
pub fn is_multi_valued(attr: &str) -> bool {
    attr.eq_ignore_ascii_case("proxyAddresses")
}

/// `description` as written: trimmed, at most 448 characters.
pub const DESCRIPTION_MAX: usize = 448;

/// `groupType` of a universal security group (signed 32-bit, as AD stores it).
pub const GROUP_TYPE_UNIVERSAL_SECURITY: i32 = i32::MIN | 8;
/// `groupType` of a universal distribution group.
pub const GROUP_TYPE_UNIVERSAL_DISTRIBUTION: i32 = 8;

/// One group as it should be in AD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredGroup {
    /// Lower-case objectId.
    pub id: String,
    pub dn: Dn,
    /// The CN (unescaped).
    pub cn: String,
    pub group_type: i32,
    /// Every attribute value gwb writes, keyed by attribute name (an attribute that is not
    /// present must be absent in AD). Never `member`, `objectClass` or `cn`.
    pub attributes: BTreeMap<&'static str, Vec<String>>,
    /// Member DNs (resolved members; nested groups by the DN they get). `None` when the
    /// cloud group's members are unknown (not collected, `null`, a partial export, a members
    /// page that could not be read): unknown is never empty, so the AD membership of such a
    /// group is left exactly as it is.
    pub members: Option<Vec<Arc<str>>>,
    /// AD attributes whose cloud value is unknown: never compared or written on an existing
    /// object (see [`unknown_attributes`]).
    pub unknown_attributes: Vec<&'static str>,
}

/// The desired state: the forecast for target `gwb` and the groups it writes.
#[derive(Debug, Clone)]
pub struct Desired {
    pub forecast: Forecast,
    /// By lower-case objectId, for groups with outcome `writeback`.
    pub groups: HashMap<String, DesiredGroup>,
}

fn first_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The primary SMTP address: the `SMTP:` proxy address, else `mail`.
pub fn primary_smtp(g: &Group) -> Option<String> {
    g.proxy_addresses
        .iter()
        .find(|p| p.starts_with("SMTP:"))
        .cloned()
        .or_else(|| {
            g.mail
                .as_deref()
                .filter(|m| !m.trim().is_empty())
                .map(|m| format!("SMTP:{}", m.trim()))
        })
}

/// Attribute values for one written-back group.
pub fn attributes_of(
    g: &Group,
    f: &GroupForecast,
    inputs: &Inputs,
) -> (i32, BTreeMap<&'static str, Vec<String>>) {
    let mut gtype = f
        .on_premises_group_type
        .map_or(GROUP_TYPE_UNIVERSAL_SECURITY, |t| t.ad_group_type());
    // A converted group written into its original AD group keeps that group's type and scope
    // (a Global group in other groups cannot simply become Universal).
    if f.reason == super::GroupReason::SoaConverted
        && let Some(t) = f
            .existing_dn
            .as_deref()
            .and_then(|d| Dn::parse(d).ok())
            .and_then(|d| inputs.ad?.by_dn(&d))
            .and_then(|o| o.group_type)
    {
        gtype = t;
    }
    let mut a: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    a.insert("groupType", vec![gtype.to_string()]);
    if let Some(sam) = &f.sam_account_name {
        a.insert("sAMAccountName", vec![sam.clone()]);
    }
    let name = g.name().trim();
    if !name.is_empty() {
        a.insert("displayName", vec![g.name().to_string()]);
    }
    if let Some(d) = g.description.as_deref().map(str::trim)
        && !d.is_empty()
    {
        a.insert("description", vec![first_chars(d, DESCRIPTION_MAX)]);
    }
    let stamp = ownership::stamp_value(&f.id);
    a.insert(ADMIN_DESCRIPTION, vec![stamp.clone()]);
    if inputs
        .ad
        .and_then(|ad| ad.has_schema_attribute(EXTERNAL_DIRECTORY_OBJECT_ID))
        == Some(true)
    {
        a.insert(EXTERNAL_DIRECTORY_OBJECT_ID, vec![stamp]);
    }
    if f.mail_attributes == Some(true) {
        if let Some(m) = g.mail.as_deref().filter(|m| !m.trim().is_empty()) {
            a.insert("mail", vec![m.trim().to_string()]);
        }
        if let Some(n) = g.mail_nickname.as_deref().filter(|m| !m.trim().is_empty()) {
            a.insert("mailNickname", vec![n.trim().to_string()]);
        }
        if let Some(p) = primary_smtp(g) {
            a.insert("proxyAddresses", vec![p]);
        }
    }
    (gtype, a)
}

/// The desired AD state for target `gwb` under a policy. Pure.
pub fn desired(inputs: &Inputs, policy: &Policy) -> Desired {
    desired_with(inputs, policy, &super::overrides::Overrides::default())
}

/// [`desired`] with the configuration's per-group overrides (exclude, CN, protected).
pub fn desired_with(
    inputs: &Inputs,
    policy: &Policy,
    overrides: &super::overrides::Overrides,
) -> Desired {
    let forecast = super::forecast_with(Target::Gwb, inputs, policy, overrides);
    // Ids are lowercase as Graph writes them: borrowed then, copied only when not.
    let by_id: hashbrown::HashMap<std::borrow::Cow<str>, &Group, foldhash::fast::RandomState> =
        inputs
            .tenant
            .groups
            .iter()
            .flatten()
            .map(|g| {
                let id = if g.id.bytes().any(|b| b.is_ascii_uppercase()) {
                    std::borrow::Cow::Owned(g.id.to_ascii_lowercase())
                } else {
                    std::borrow::Cow::Borrowed(g.id.as_str())
                };
                (id, g)
            })
            .collect();
    let mut groups = HashMap::new();
    for f in forecast
        .groups
        .iter()
        .filter(|f| f.outcome == Outcome::Writeback)
    {
        let (Some(g), Some(cn), Some(dn)) = (by_id.get(f.id.as_str()), &f.cn, &f.dn) else {
            continue;
        };
        let Ok(dn) = Dn::parse(dn) else { continue };
        let (group_type, attributes) = attributes_of(g, f, inputs);
        groups.insert(
            f.id.clone(),
            DesiredGroup {
                id: f.id.clone(),
                dn,
                cn: cn.clone(),
                group_type,
                attributes,
                members: f
                    .members
                    .collected
                    .then(|| f.members.resolved.iter().map(|m| m.dn.clone()).collect()),
                unknown_attributes: unknown_attributes(g),
            },
        );
    }
    Desired { forecast, groups }
}
