//! Discovery: what gwb reads from AD for a readiness audit and forecast, as `ad.ldif` entries
//! that follow the conventions `crate::ad::AdSnapshot::from_entries` reads (rootDSE, domain
//! head, partitions, schema, Exchange markers, Recycle Bin, the target OU with the bind
//! account's effective rights, everything in the OU, the groups carrying a writeback stamp
//! elsewhere in the domain, and the objects cloud members point to).

use std::collections::HashMap;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ldap3::Scope;

use super::MemberRefs;
use super::conn::{Conn, OID_PAGED};
use crate::ad::ldif::Entry;
use crate::ad::{Dn, ids};
use crate::core::ownership::{ADMIN_DESCRIPTION, EXTERNAL_DIRECTORY_OBJECT_ID, STAMP_PREFIX};

/// rootDSE attributes kept in the bundle.
pub const ROOT_ATTRS: &[&str] = &[
    "defaultNamingContext",
    "configurationNamingContext",
    "schemaNamingContext",
    "rootDomainNamingContext",
    "namingContexts",
    "dnsHostName",
    "serverName",
    "highestCommittedUSN",
    "supportedControl",
    "domainFunctionality",
    "forestFunctionality",
    "domainControllerFunctionality",
];

/// Attribute schema entries that matter for writeback (by lDAPDisplayName).
pub const SCHEMA_ATTRS_OF_INTEREST: &[&str] = &[
    "msDS-ExternalDirectoryObjectId",
    "msExchSchemaVersionPt",
    "mailNickname",
    "proxyAddresses",
    "mail",
    "adminDescription",
    "displayName",
    "description",
    "info",
    "managedBy",
    "msExchRecipientTypeDetails",
    "msExchRecipientDisplayType",
    "msDS-DeviceID",
    "cn",
    "sAMAccountName",
];

const SCHEMA_ENTRY_ATTRS: &[&str] = &[
    "objectClass",
    "cn",
    "lDAPDisplayName",
    "attributeID",
    "attributeSyntax",
    "oMSyntax",
    "isSingleValued",
    "rangeLower",
    "rangeUpper",
    "searchFlags",
];

/// Attributes read for objects in the target OU (plus msDS-ExternalDirectoryObjectId when the
/// schema has it, and `member` through range windows).
const OU_OBJECT_ATTRS: &[&str] = &[
    "objectClass",
    "cn",
    "name",
    "objectGUID",
    "objectSid",
    "sAMAccountName",
    "displayName",
    "description",
    "mail",
    "mailNickname",
    "proxyAddresses",
    "groupType",
    "adminDescription",
    "managedBy",
    "info",
    "userAccountControl",
    "userPrincipalName",
    "msDS-DeviceID",
    "whenCreated",
    "whenChanged",
    "uSNChanged",
];

/// Attributes read for the objects cloud members point to.
const REF_OBJECT_ATTRS: &[&str] = &[
    "objectClass",
    "cn",
    "objectGUID",
    "objectSid",
    "groupType",
    "sAMAccountName",
    "userPrincipalName",
    "displayName",
    "mail",
    "adminDescription",
    "msDS-DeviceID",
    "mS-DS-ConsistencyGuid",
    "userAccountControl",
];

/// The first range window, as Windows DCs hand it out (MaxValRange 1500).
pub const FIRST_MEMBER_WINDOW: &str = "member;range=0-1499";

/// Attributes writeback writes on a group (the core's list); their
/// `allowedAttributesEffective` is recorded.
const WRITEBACK_ATTRS: &[&str] = crate::core::desired::WRITTEN_ATTRIBUTES;

/// How many values go into one OR filter when looking objects up by SID, GUID or deviceId.
pub const FILTER_BATCH: usize = 50;

/// Escape arbitrary bytes for an LDAP filter value (`\xx` for every byte).
pub fn escape_filter_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// Escape a string for an LDAP filter value (RFC 4515).
pub fn escape_filter_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

/// OR filters of at most [`FILTER_BATCH`] `(attr=value)` terms each.
pub fn batched_filters(attr: &str, values: &[Vec<u8>]) -> Vec<String> {
    values
        .chunks(FILTER_BATCH)
        .map(|chunk| {
            let terms: String = chunk
                .iter()
                .map(|v| format!("({attr}={})", escape_filter_bytes(v)))
                .collect();
            if chunk.len() == 1 {
                terms
            } else {
                format!("(|{terms})")
            }
        })
        .collect()
}

/// Sort key that puts parents before children: RDN keys from the root down.
pub fn dn_sort_key(dn: &str) -> Vec<String> {
    match Dn::parse(dn) {
        Ok(d) => (0..d.rdn_len()).rev().map(|r| d.rdn_key(r)).collect(),
        Err(_) => vec![format!("\u{10ffff}{}", dn.to_lowercase())],
    }
}

/// Stable shape for diffs: objectClass first, other attributes by name, multi-values sorted
/// (objectClass keeps the server's order, which is the class hierarchy).
pub fn normalize(e: &mut Entry) {
    e.attrs.sort_by(|(a, _), (b, _)| {
        let oa = !a.eq_ignore_ascii_case("objectClass");
        let ob = !b.eq_ignore_ascii_case("objectClass");
        oa.cmp(&ob)
            .then_with(|| a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()))
    });
    for (name, vals) in &mut e.attrs {
        if name.eq_ignore_ascii_case("objectClass") {
            continue;
        }
        if name.eq_ignore_ascii_case("member") {
            vals.sort_by_cached_key(|v| dn_sort_key(&String::from_utf8_lossy(v)));
        } else {
            vals.sort();
            vals.dedup();
        }
    }
}

/// Keep the entries of one DN together (the first read wins per attribute).
#[derive(Default)]
struct Collector {
    by_key: HashMap<String, Entry>,
}

impl Collector {
    fn add(&mut self, e: Entry) {
        let key = Dn::parse(&e.dn)
            .map(|d| d.key())
            .unwrap_or_else(|_| e.dn.to_lowercase());
        match self.by_key.get_mut(&key) {
            Some(existing) => {
                for (name, vals) in e.attrs {
                    if !existing
                        .attrs
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case(&name))
                    {
                        existing.attrs.push((name, vals));
                    }
                }
            }
            None => {
                self.by_key.insert(key, e);
            }
        }
    }

    fn finish(self) -> Vec<Entry> {
        let mut v: Vec<Entry> = self.by_key.into_values().collect();
        for e in &mut v {
            normalize(e);
        }
        v.sort_by_cached_key(|e| dn_sort_key(&e.dn));
        v
    }
}

fn progress() -> ProgressBar {
    // --quiet raises the log level to errors: no spinner then either.
    if !tracing::enabled!(tracing::Level::WARN) {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{spinner} LDAP: {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

fn text_of(e: &Entry, name: &str) -> Option<String> {
    e.text(name).map(str::to_string)
}

/// Read everything writeback readiness needs. Entries come back sorted by DN (parents first).
pub async fn discover(
    conn: &mut Conn,
    target_ou: Option<&str>,
    refs: &MemberRefs,
) -> anyhow::Result<Vec<Entry>> {
    let pb = progress();
    let result = discover_inner(conn, target_ou, refs, &pb).await;
    pb.finish_and_clear();
    result
}

async fn discover_inner(
    conn: &mut Conn,
    target_ou: Option<&str>,
    refs: &MemberRefs,
    pb: &ProgressBar,
) -> anyhow::Result<Vec<Entry>> {
    let mut out = Collector::default();

    pb.set_message("rootDSE");
    let root = conn
        .read("", ROOT_ATTRS)
        .await?
        .context("the server returned no rootDSE")?;
    let domain = text_of(&root, "defaultNamingContext").context(
        "the rootDSE names no defaultNamingContext: is this an Active Directory domain controller?",
    )?;
    let config = text_of(&root, "configurationNamingContext")
        .context("the rootDSE names no configurationNamingContext")?;
    let schema = text_of(&root, "schemaNamingContext")
        .context("the rootDSE names no schemaNamingContext")?;
    conn.paging = root
        .values("supportedControl")
        .any(|v| v == OID_PAGED.as_bytes());
    let domain_dn =
        Dn::parse(&domain).map_err(|e| anyhow::anyhow!("defaultNamingContext {domain:?}: {e}"))?;
    let target = match target_ou {
        Some(t) => {
            let dn = Dn::parse(t.trim())
                .map_err(|e| anyhow::anyhow!("--target-ou {t:?} is not a valid DN: {e}"))?;
            if !dn.is_within(&domain_dn) {
                bail!(
                    "--target-ou {t:?} is not in this DC's domain ({domain}): connect to a DC of the domain that holds the OU"
                );
            }
            Some(t.trim().to_string())
        }
        None => None,
    };
    out.add(root);

    pb.set_message("domain and forest");
    let mut domain_sid = None;
    if let Some(e) = conn
        .read(
            &domain,
            &[
                "objectClass",
                "msDS-Behavior-Version",
                "objectGUID",
                "objectSid",
                "name",
            ],
        )
        .await?
    {
        domain_sid = e.first("objectSid").and_then(ids::sid_from_bytes);
        out.add(e);
    }
    let partitions = format!("CN=Partitions,{config}");
    if let Some(e) = conn
        .read(&partitions, &["objectClass", "msDS-Behavior-Version"])
        .await?
    {
        out.add(e);
    }
    let filter = format!(
        "(&(objectClass=crossRef)(nCName={}))",
        escape_filter_str(&domain)
    );
    for e in conn
        .search_opt(
            &partitions,
            Scope::OneLevel,
            &filter,
            &["objectClass", "nCName", "nETBIOSName", "dnsRoot"],
        )
        .await?
    {
        out.add(e);
    }

    pb.set_message("schema");
    if let Some(e) = conn
        .read(&schema, &["objectClass", "objectVersion"])
        .await?
    {
        out.add(e);
    }
    let terms: String = SCHEMA_ATTRS_OF_INTEREST
        .iter()
        .map(|a| format!("(lDAPDisplayName={a})"))
        .collect();
    let filter =
        format!("(&(objectClass=attributeSchema)(|{terms}(cn=ms-Exch-Schema-Version-Pt)))");
    let mut has_external_id = false;
    for e in conn
        .search(&schema, Scope::OneLevel, &filter, SCHEMA_ENTRY_ATTRS)
        .await?
    {
        if e.text("lDAPDisplayName")
            .is_some_and(|n| n.eq_ignore_ascii_case("msDS-ExternalDirectoryObjectId"))
        {
            has_external_id = true;
        }
        out.add(e);
    }

    pb.set_message("Exchange");
    let services = format!("CN=Services,{config}");
    for e in conn
        .search_opt(
            &services,
            Scope::Subtree,
            "(objectClass=msExchOrganizationContainer)",
            &["objectClass", "objectVersion", "cn"],
        )
        .await?
    {
        out.add(e);
    }
    for e in conn
        .search_opt(
            &domain,
            Scope::OneLevel,
            "(objectClass=msExchSystemObjectsContainer)",
            &["objectClass", "objectVersion", "cn"],
        )
        .await?
    {
        out.add(e);
    }

    pb.set_message("Recycle Bin");
    let recycle = format!(
        "CN=Recycle Bin Feature,CN=Optional Features,CN=Directory Service,CN=Windows NT,CN=Services,{config}"
    );
    if let Some(e) = conn
        .read(
            &recycle,
            &[
                "objectClass",
                "msDS-EnabledFeatureBL",
                "msDS-OptionalFeatureFlags",
            ],
        )
        .await?
    {
        out.add(e);
    }

    let mut attrs: Vec<&str> = OU_OBJECT_ATTRS.to_vec();
    let mut ref_attrs: Vec<&str> = REF_OBJECT_ATTRS.to_vec();
    if has_external_id {
        attrs.push("msDS-ExternalDirectoryObjectId");
        ref_attrs.push("msDS-ExternalDirectoryObjectId");
    }

    if let Some(ou) = &target {
        pb.set_message(format!("target OU {ou}"));
        match conn
            .read(
                ou,
                &[
                    "objectClass",
                    "ou",
                    "name",
                    "objectGUID",
                    "description",
                    "allowedChildClassesEffective",
                    "allowedAttributesEffective",
                ],
            )
            .await?
        {
            Some(mut e) => {
                // Constructed attributes come back empty when the account has no rights at all;
                // record that as "captured, nothing allowed" rather than "not captured".
                if !e.has("allowedChildClassesEffective") {
                    e.push("allowedChildClassesEffective", Vec::new());
                }
                out.add(e);
                attrs.push(FIRST_MEMBER_WINDOW);
                let objects = conn
                    .search(ou, Scope::Subtree, "(objectClass=*)", &attrs)
                    .await?;
                let total = objects.len();
                // The bind account's right to change written-back groups, read on one of them
                // (rights on an OU's groups are normally inherited alike): only the attributes
                // writeback writes are kept, so the bundle stays small.
                let sample = objects.iter().position(|e| {
                    e.values("objectClass")
                        .any(|c| c.eq_ignore_ascii_case(b"group"))
                        && crate::core::ownership::stamp(
                            e.text(crate::core::ownership::ADMIN_DESCRIPTION),
                            e.text(crate::core::ownership::EXTERNAL_DIRECTORY_OBJECT_ID),
                        )
                        .is_some()
                });
                let mut sample_rights: Option<Vec<Vec<u8>>> = None;
                if let Some(i) = sample
                    && let Some(dn) = objects.get(i).map(|e| e.dn.clone())
                {
                    let allowed = conn
                        .read(&dn, &["allowedAttributesEffective"])
                        .await?
                        .map(|r| {
                            r.values("allowedAttributesEffective")
                                .filter(|v| {
                                    WRITEBACK_ATTRS
                                        .iter()
                                        .any(|w| w.as_bytes().eq_ignore_ascii_case(v))
                                })
                                .map(<[u8]>::to_vec)
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default();
                    // Captured but empty stays visible as one empty value.
                    sample_rights = Some(if allowed.is_empty() {
                        vec![Vec::new()]
                    } else {
                        allowed
                    });
                }
                for (i, mut e) in objects.into_iter().enumerate() {
                    if Some(i) == sample
                        && let Some(v) = sample_rights.take()
                    {
                        e.attrs.push(("allowedAttributesEffective".to_string(), v));
                    }
                    if e.attrs.iter().any(|(n, _)| {
                        n.split(';')
                            .next()
                            .is_some_and(|b| b.eq_ignore_ascii_case("member"))
                    }) {
                        pb.set_message(format!("members of {} ({}/{total})", e.dn, i + 1));
                        let dn = e.dn.clone();
                        let members = conn.ranged_values(&dn, "member", &e).await?;
                        e.attrs.retain(|(n, _)| {
                            !n.split(';')
                                .next()
                                .is_some_and(|b| b.eq_ignore_ascii_case("member"))
                        });
                        e.attrs.push(("member".to_string(), members));
                    }
                    out.add(e);
                }
                attrs.pop();
            }
            None => {
                tracing::warn!(
                    "the target OU {ou} does not exist (or the bind account cannot see it)"
                );
            }
        }
    }

    // Groups carrying a stamp outside the target OU (moved out by hand, or another writer's):
    // one indexed subtree search over the domain, so the plan can move gwb's own back.
    if let Some(ou) = &target
        && let Ok(ou_dn) = Dn::parse(ou)
    {
        pb.set_message("stamped groups outside the target OU");
        let mut terms = format!("({}={}*)", ADMIN_DESCRIPTION, STAMP_PREFIX);
        if has_external_id {
            terms.push_str(&format!(
                "({}={}*)",
                EXTERNAL_DIRECTORY_OBJECT_ID, STAMP_PREFIX
            ));
        }
        let filter = format!("(&(objectClass=group)(|{terms}))");
        attrs.push(FIRST_MEMBER_WINDOW);
        let found = conn
            .search(&domain, Scope::Subtree, &filter, &attrs)
            .await?;
        attrs.pop();
        for mut e in found {
            let inside = Dn::parse(&e.dn).is_ok_and(|d| d.is_within(&ou_dn));
            let stamped = crate::core::ownership::stamp(
                e.text(ADMIN_DESCRIPTION),
                e.text(EXTERNAL_DIRECTORY_OBJECT_ID),
            )
            .is_some();
            if inside || !stamped {
                continue;
            }
            pb.set_message(format!("members of {}", e.dn));
            let dn = e.dn.clone();
            let members = conn.ranged_values(&dn, "member", &e).await?;
            e.attrs.retain(|(n, _)| {
                !n.split(';')
                    .next()
                    .is_some_and(|b| b.eq_ignore_ascii_case("member"))
            });
            if !members.is_empty() {
                e.attrs.push(("member".to_string(), members));
            }
            out.add(e);
        }
    }

    // Original AD groups of groups that may have been converted to the cloud: read whole
    // (members through range windows, uSNChanged), anywhere in the domain.
    let group_sids: Vec<Vec<u8>> = refs
        .group_sids
        .iter()
        .filter_map(|s| ids::sid_to_bytes(s))
        .collect();
    if !group_sids.is_empty() {
        pb.set_message("original AD groups of converted groups");
        attrs.push(FIRST_MEMBER_WINDOW);
        for filter in batched_filters("objectSid", &group_sids) {
            let found = conn
                .search(&domain, Scope::Subtree, &filter, &attrs)
                .await?;
            for mut e in found {
                let dn = e.dn.clone();
                let members = conn.ranged_values(&dn, "member", &e).await?;
                e.attrs.retain(|(n, _)| {
                    !n.split(';')
                        .next()
                        .is_some_and(|b| b.eq_ignore_ascii_case("member"))
                });
                if !members.is_empty() {
                    e.attrs.push(("member".to_string(), members));
                }
                out.add(e);
            }
        }
        attrs.pop();
    }

    pb.set_message("objects cloud members point to");
    if let Some(dsid) = &domain_sid {
        let prefix = format!("{}-", dsid.to_ascii_uppercase());
        let foreign = refs
            .sids
            .iter()
            .filter(|s| !s.trim().to_ascii_uppercase().starts_with(&prefix))
            .count();
        if foreign > 0 {
            tracing::info!(
                "{foreign} member SID(s) are not from this domain ({dsid}); only their foreign security principals \
                 in this domain can be found (other domains of the forest need a DC of that domain)"
            );
        }
    }
    let sids: Vec<Vec<u8>> = refs
        .sids
        .iter()
        .filter_map(|s| {
            let b = ids::sid_to_bytes(s);
            if b.is_none() {
                tracing::warn!("ignoring a malformed SID from the tenant: {s:?}");
            }
            b
        })
        .collect();
    let guids: Vec<Vec<u8>> = refs
        .guids
        .iter()
        .map(|g| ids::guid_to_bytes(g).to_vec())
        .collect();
    let devices: Vec<Vec<u8>> = refs
        .device_ids
        .iter()
        .map(|g| ids::guid_to_bytes(g).to_vec())
        .collect();
    // An Entra Connect sourceAnchor is objectGUID or (the default since 2017) the
    // mS-DS-ConsistencyGuid, which starts as a copy of objectGUID but survives forest moves.
    for (attr, values) in [
        ("objectSid", &sids),
        ("objectGUID", &guids),
        ("mS-DS-ConsistencyGuid", &guids),
        ("msDS-DeviceID", &devices),
    ] {
        for filter in batched_filters(attr, values) {
            for e in conn
                .search(&domain, Scope::Subtree, &filter, &ref_attrs)
                .await?
            {
                out.add(e);
            }
        }
    }

    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_escape_every_byte_and_batch() {
        let sid = ids::sid_to_bytes("S-1-5-21-1-2-3-500").unwrap();
        let f = batched_filters("objectSid", std::slice::from_ref(&sid));
        assert_eq!(f.len(), 1);
        assert!(
            f[0].starts_with("(objectSid=\\01\\05\\00\\00\\00\\00\\00\\05\\15\\00"),
            "{}",
            f[0]
        );
        let many: Vec<Vec<u8>> = (0u8..120).map(|i| vec![i, b'(', b'*']).collect();
        let f = batched_filters("objectGUID", &many);
        assert_eq!(f.len(), 3);
        assert!(f[0].starts_with("(|(objectGUID=\\00\\28\\2a)"));
        assert_eq!(f[0].matches("(objectGUID=").count(), 50);
        assert_eq!(f[2].matches("(objectGUID=").count(), 20);
        for filter in &f {
            assert!(ldap3::parse_filter(filter).is_ok(), "{filter}");
        }
        assert_eq!(escape_filter_str("a*(b)\\"), "a\\2a\\28b\\29\\5c");
    }

    #[test]
    fn sorts_parents_first_and_normalizes() {
        let mut c = Collector::default();
        for dn in [
            "CN=b,OU=T,DC=lab",
            "OU=T,DC=lab",
            "DC=lab",
            "CN=A,OU=T,DC=lab",
            "cn=a,ou=t,dc=LAB",
        ] {
            let mut e = Entry::new(dn);
            e.push("zeta", "1");
            e.push("objectClass", "top");
            e.push(
                if dn.starts_with("cn=a") {
                    "extra"
                } else {
                    "member"
                },
                "CN=z,DC=lab",
            );
            e.push("member", "CN=a,DC=lab");
            c.add(e);
        }
        let v = c.finish();
        let dns: Vec<&str> = v.iter().map(|e| e.dn.as_str()).collect();
        assert_eq!(
            dns,
            vec![
                "DC=lab",
                "OU=T,DC=lab",
                "CN=A,OU=T,DC=lab",
                "CN=b,OU=T,DC=lab"
            ]
        );
        assert_eq!(v[2].attrs[0].0, "objectClass");
        assert!(v[2].has("extra"), "merged attributes of the same DN");
        assert_eq!(v[2].texts("member"), vec!["CN=a,DC=lab", "CN=z,DC=lab"]);
    }
}
