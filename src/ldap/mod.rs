//! Active Directory over LDAP (gwb's own message layer on rustls/aws-lc-rs): connection and binds, paged and
//! ranged reads, and discovery of what the decision core needs into `ad.ldif` entries.
//!
//! `conn` owns the connection (TLS policy, binds, timeouts, reconnect, paging, ranges),
//! `proto` the one request path (every request encoded, every answer decoded by gwb),
//! `ber` the defensive decoding of server data, `explain` admin-facing error messages, and
//! `write` the one write path (add, modify, modrdn, delete, result classification, retries), and
//! `discover` what is read and how it is shaped for [`crate::ad::AdSnapshot::from_entries`].

pub mod args;
pub mod ber;
pub mod conn;
pub mod discover;
pub mod explain;
pub mod proto;
pub mod write;

use crate::ad::ldif::Entry;

/// What discovery must look up besides the domain head and the target OU: the AD objects
/// that cloud members point to.
#[derive(Debug, Clone, Default)]
pub struct MemberRefs {
    /// On-premises SIDs (users, groups, hybrid-joined devices).
    pub sids: Vec<String>,
    /// objectGUIDs (from onPremisesObjectIdentifier / onPremisesImmutableId).
    pub guids: Vec<uuid::Uuid>,
    /// Entra deviceIds (msDS-Device objects written back by device writeback).
    pub device_ids: Vec<uuid::Uuid>,
    /// SIDs of cloud groups that may have been converted from AD (source of authority in the
    /// cloud): their original AD groups are read whole (members, uSNChanged) wherever they are
    /// in the domain, as gwb may write into them.
    pub group_sids: Vec<String>,
}

impl MemberRefs {
    /// Add another set of references.
    pub fn extend(&mut self, other: MemberRefs) {
        self.sids.extend(other.sids);
        self.guids.extend(other.guids);
        self.device_ids.extend(other.device_ids);
        self.group_sids.extend(other.group_sids);
    }

    /// Sort and de-duplicate, so discovery asks for each object once and in a stable order.
    pub fn normalize(mut self) -> MemberRefs {
        self.sids.sort();
        self.sids.dedup();
        self.guids.sort();
        self.guids.dedup();
        self.device_ids.sort();
        self.device_ids.dedup();
        self.group_sids.sort();
        self.group_sids.dedup();
        self
    }
}

/// Entries plus the request counters of the run.
#[derive(Debug, Clone)]
pub struct Collected {
    pub entries: Vec<Entry>,
    pub stats: conn::Stats,
}

/// Discover AD over LDAP and return the entries for `ad.ldif`.
pub fn collect(
    args: &args::LdapArgs,
    target_ou: Option<&str>,
    refs: &MemberRefs,
) -> anyhow::Result<Vec<Entry>> {
    Ok(collect_with_stats(args, target_ou, refs)?.entries)
}

/// [`collect`], also returning how many requests (pages, range windows, reconnects) it took.
pub fn collect_with_stats(
    args: &args::LdapArgs,
    target_ou: Option<&str>,
    refs: &MemberRefs,
) -> anyhow::Result<Collected> {
    let settings = conn::Settings::from_args(args)?;
    conn::block_on(async move {
        let mut c = conn::Conn::open(settings).await?;
        let mut entries = discover::discover(&mut c, target_ou, refs).await?;
        if args.probe_rights
            && let Some(ou) = target_ou
            && let Ok(ou_dn) = crate::ad::Dn::parse(ou)
            && let Some(entry) = entries
                .iter_mut()
                .find(|e| crate::ad::Dn::parse(&e.dn).is_ok_and(|d| d == ou_dn))
        {
            for v in c.probe_rights(&entry.dn.clone()).await {
                entry.push(crate::ad::RIGHTS_PROBE_ATTR, v);
            }
        }
        Ok(Collected {
            entries,
            stats: c.stats.clone(),
        })
    })?
}
