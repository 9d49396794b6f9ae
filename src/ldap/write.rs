//! Writes to Active Directory on an open [`Conn`]: add, modify (with batched multi-valued
//! changes), modrdn (rename and move), delete, and re-reads by objectGUID.
//!
//! Every write goes through one request path ([`Conn::send`]), so the transport is hardened
//! in one place. Results are classified ([`classify`]): transient ones (busy, unavailable,
//! unwilling to perform, a lost connection or a timeout) are retried with backoff after a
//! reconnect and a re-read; terminal ones (insufficient access, constraint, naming and
//! object-class violations, …) are returned at once; "already exists", "value exists" and
//! "no such attribute" are confirmed by a re-read and count as done when the directory
//! already holds the operation's effect.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ldap3::{LdapError, Mod};
use uuid::Uuid;

use super::conn::Conn;
use super::explain;
use crate::ad::Dn;
use crate::ad::ldif::Entry;

/// Values per modify request for a multi-valued attribute (`member`): hundreds per request,
/// well below AD's and Samba's request size limits.
pub const MEMBER_BATCH: usize = 500;

/// Attributes whose values are DNs (compared by normalised DN, not by bytes).
const DN_ATTRS: &[&str] = &["member"];

/// What a modify does to one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModKind {
    /// Add these values.
    Add,
    /// Delete these values (all values when none are given).
    Delete,
    /// Replace all values with these (delete the attribute when none are given).
    Replace,
}

impl ModKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ModKind::Add => "add",
            ModKind::Delete => "delete",
            ModKind::Replace => "replace",
        }
    }
}

/// One attribute change of a modify request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ModKind,
    pub attr: String,
    pub values: Vec<Vec<u8>>,
}

impl Change {
    pub fn new(kind: ModKind, attr: &str, values: Vec<Vec<u8>>) -> Change {
        Change {
            kind,
            attr: attr.to_string(),
            values,
        }
    }
}

/// One LDAP write request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Create `dn` with these attributes. Its `adminDescription` (gwb's stamp) is what proves
    /// that an object already at `dn` is this add's own earlier result.
    Add {
        dn: String,
        attrs: Vec<(String, Vec<Vec<u8>>)>,
    },
    Modify {
        dn: String,
        changes: Vec<Change>,
    },
    /// Rename (`new_rdn`) and/or move (`new_superior`) the object `dn` (objectGUID `guid`).
    ModRdn {
        dn: String,
        guid: Option<Uuid>,
        new_rdn: String,
        new_superior: Option<String>,
    },
    Delete {
        dn: String,
        guid: Option<Uuid>,
    },
}

impl WriteOp {
    pub fn dn(&self) -> &str {
        match self {
            WriteOp::Add { dn, .. }
            | WriteOp::Modify { dn, .. }
            | WriteOp::ModRdn { dn, .. }
            | WriteOp::Delete { dn, .. } => dn,
        }
    }

    /// The LDAP operation's name (`add`, `modify`, `modrdn`, `delete`).
    pub fn name(&self) -> &'static str {
        match self {
            WriteOp::Add { .. } => "add",
            WriteOp::Modify { .. } => "modify",
            WriteOp::ModRdn { .. } => "modrdn",
            WriteOp::Delete { .. } => "delete",
        }
    }

    /// The DN the object has after this operation (`None` after a delete).
    pub fn dn_after(&self) -> Option<String> {
        match self {
            WriteOp::Add { dn, .. } | WriteOp::Modify { dn, .. } => Some(dn.clone()),
            WriteOp::ModRdn {
                dn,
                new_rdn,
                new_superior,
                ..
            } => {
                let parent = match new_superior {
                    Some(s) => s.clone(),
                    None => Dn::parse(dn)
                        .ok()
                        .and_then(|d| d.parent())
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                };
                Some(if parent.is_empty() {
                    new_rdn.clone()
                } else {
                    format!("{new_rdn},{parent}")
                })
            }
            WriteOp::Delete { .. } => None,
        }
    }
}

/// How an LDAP result code is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Retried with backoff: busy (51), unavailable (52), unwilling to perform (53, which a
    /// busy DC answers), and a lost connection or timeout (after a reconnect and a re-read).
    Transient,
    /// Never retried: insufficient access (50), constraint (19), naming (64) and object-class
    /// (65) violations, no such object (32), and every other code.
    Terminal,
    /// entryAlreadyExists (68), attributeOrValueExists (20), noSuchAttribute (16): the effect
    /// may already be there; a re-read decides.
    ConfirmByReread,
}

/// Classify an LDAP result code (non-zero).
pub fn classify(rc: u32) -> Class {
    match rc {
        51..=53 => Class::Transient,
        16 | 20 | 68 => Class::ConfirmByReread,
        _ => Class::Terminal,
    }
}

/// Retry policy for transient results.
#[derive(Debug, Clone)]
pub struct Retry {
    /// Attempts in all (the first one included).
    pub attempts: u32,
    /// First backoff; doubled after each transient failure up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 6,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// How a write ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// The DC answered success.
    Applied,
    /// The directory already held the effect (confirmed by a re-read).
    AlreadyDone,
}

/// A successful write: how it ended and what it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub done: Done,
    /// Requests sent for this operation (retries included).
    pub attempts: u32,
    /// Re-reads made to confirm or reduce it.
    pub rereads: u32,
}

/// A failed write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WriteError {
    /// The LDAP result code, when the DC answered one.
    pub rc: Option<u32>,
    /// `Terminal`, or `Transient` when the attempts ran out.
    pub class: Class,
    pub message: String,
}

/// What one request came back with.
#[derive(Debug)]
enum Sent {
    Ok,
    Rc(u32, String),
    /// The connection broke or the request timed out: the write may or may not have happened.
    Lost(String),
}

fn values_set(v: &[Vec<u8>]) -> HashSet<Vec<u8>> {
    v.iter().cloned().collect()
}

fn clean(text: &str) -> String {
    text.trim_matches(char::from(0)).trim().to_string()
}

/// Explain a failed write for an admin.
pub fn write_failure(op: &WriteOp, rc: u32, text: &str) -> String {
    let hint = match rc {
        50 => {
            ": the bind account lacks the right to do this (delegate create/delete group objects and write of the group attributes on the target OU)"
        }
        19 => ": a value breaks a constraint (length, range or uniqueness)",
        64 => ": the name is not allowed here",
        65 => {
            ": the object class does not allow this attribute or the object cannot be placed here"
        }
        32 => ": the object does not exist",
        68 => ": another object already has this name",
        _ => "",
    };
    let text = clean(text);
    let mut msg = format!(
        "{} {} failed (LDAP {rc} {}){hint}",
        op.name(),
        op.dn(),
        explain::rc_name(rc)
    );
    if !text.is_empty() {
        msg.push_str(&format!(" [server said: {text}]"));
    }
    msg
}

/// An add refused as "already exists" although nothing is at its DN: the name in use is the
/// sAMAccountName it carries (unique in the domain), held by an object elsewhere.
fn name_in_use(op: &WriteOp, rc: u32) -> Option<String> {
    let WriteOp::Add { dn, attrs } = op else {
        return None;
    };
    let sam = attrs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("sAMAccountName"))
        .and_then(|(_, v)| v.first())?;
    (rc == 68).then(|| {
        format!(
            "add {dn} failed (LDAP 68 entryAlreadyExists): the sAMAccountName {:?} (policy.sam-account-name) is already used by another object in the domain; change the template or that object",
            String::from_utf8_lossy(sam)
        )
    })
}

/// The comparison key of a value: a normalised DN for DN-valued attributes, else the bytes.
fn value_key(attr: &str, v: &[u8], cache: &mut KeyCache) -> Vec<u8> {
    if DN_ATTRS.iter().any(|d| d.eq_ignore_ascii_case(attr))
        && let Ok(text) = std::str::from_utf8(v)
    {
        if let Some(k) = cache.dn_keys.get(v) {
            return k.clone();
        }
        let k = match Dn::parse(text) {
            Ok(d) => d.key().into_bytes(),
            Err(_) => text.to_ascii_lowercase().into_bytes(),
        };
        cache.dn_keys.insert(v.to_vec(), k.clone());
        return k;
    }
    v.to_vec()
}

fn key_set(attr: &str, have: &[Vec<u8>], cache: &mut KeyCache) -> HashSet<Vec<u8>> {
    have.iter().map(|h| value_key(attr, h, cache)).collect()
}

/// Normalised keys of DN values already computed, shared by the residual checks of one run
/// (the same member DNs recur across thousands of groups; each is parsed once).
#[derive(Debug, Default)]
pub struct KeyCache {
    dn_keys: HashMap<Vec<u8>, Vec<u8>>,
}

fn same_dn(a: &str, b: &str) -> bool {
    match (Dn::parse(a), Dn::parse(b)) {
        (Ok(x), Ok(y)) => x.key() == y.key(),
        _ => a.eq_ignore_ascii_case(b),
    }
}

/// What of `changes` is still to do, given the attribute values the object has now
/// (`current(attr)`). Empty when the directory already holds every change's effect.
pub fn residual_changes(changes: &[Change], current: impl Fn(&str) -> Vec<Vec<u8>>) -> Vec<Change> {
    residual_changes_with(changes, current, &mut KeyCache::default())
}

/// [`residual_changes`] with DN keys memoised in `cache` across calls.
pub fn residual_changes_with(
    changes: &[Change],
    current: impl Fn(&str) -> Vec<Vec<u8>>,
    cache: &mut KeyCache,
) -> Vec<Change> {
    let mut rest = Vec::new();
    for c in changes {
        let have = current(&c.attr);
        let keys = key_set(&c.attr, &have, cache);
        let mut contains = |v: &[u8]| keys.contains(&value_key(&c.attr, v, cache));
        match c.kind {
            ModKind::Add => {
                let missing: Vec<Vec<u8>> =
                    c.values.iter().filter(|v| !contains(v)).cloned().collect();
                if !missing.is_empty() {
                    rest.push(Change::new(ModKind::Add, &c.attr, missing));
                }
            }
            ModKind::Delete if c.values.is_empty() => {
                if !have.is_empty() {
                    rest.push(c.clone());
                }
            }
            ModKind::Delete => {
                let present: Vec<Vec<u8>> =
                    c.values.iter().filter(|v| contains(v)).cloned().collect();
                if !present.is_empty() {
                    rest.push(Change::new(ModKind::Delete, &c.attr, present));
                }
            }
            ModKind::Replace => {
                let want = key_set(&c.attr, &c.values, cache);
                if want != keys {
                    rest.push(c.clone());
                }
            }
        }
    }
    rest
}

impl Conn {
    /// The one request path for every LDAP write: sends `op` once and reports the raw result.
    async fn send(&mut self, op: &WriteOp) -> Sent {
        self.stats.writes += 1;
        let (ldap, timeout) = self.handle();
        let h = ldap.with_timeout(timeout);
        let res = match op {
            WriteOp::Add { dn, attrs } => {
                let attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = attrs
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(n, v)| (n.as_bytes().to_vec(), values_set(v)))
                    .collect();
                h.add(dn, attrs).await
            }
            WriteOp::Modify { dn, changes } => {
                let mods: Vec<Mod<Vec<u8>>> = changes
                    .iter()
                    .map(|c| {
                        let name = c.attr.as_bytes().to_vec();
                        let vals = values_set(&c.values);
                        match c.kind {
                            ModKind::Add => Mod::Add(name, vals),
                            ModKind::Delete => Mod::Delete(name, vals),
                            ModKind::Replace => Mod::Replace(name, vals),
                        }
                    })
                    .collect();
                h.modify(dn, mods).await
            }
            WriteOp::ModRdn {
                dn,
                new_rdn,
                new_superior,
                ..
            } => h.modifydn(dn, new_rdn, true, new_superior.as_deref()).await,
            WriteOp::Delete { dn, .. } => h.delete(dn).await,
        };
        match res {
            Ok(r) if r.rc == 0 => Sent::Ok,
            Ok(r) => Sent::Rc(r.rc, r.text),
            Err(e @ LdapError::Timeout { .. }) => Sent::Lost(format!("no answer in time ({e})")),
            Err(e) if explain::is_connection_lost(&e) => Sent::Lost(e.to_string()),
            Err(e) => Sent::Rc(80, e.to_string()),
        }
    }

    /// Read one object by objectGUID (`<GUID=…>`); `Ok(None)` when there is none.
    pub async fn read_guid(
        &mut self,
        guid: &Uuid,
        attrs: &[&str],
    ) -> anyhow::Result<Option<Entry>> {
        self.read(&format!("<GUID={guid}>"), attrs).await
    }

    /// Every value of `attr` on `dn` (ranged reads where the DC needs them); `None` when the
    /// object does not exist.
    pub async fn attr_values(&mut self, dn: &str, attrs: &[&str]) -> anyhow::Result<Option<Entry>> {
        let Some(first) = self.read(dn, attrs).await? else {
            return Ok(None);
        };
        let mut out = Entry::new(first.dn.clone());
        for a in attrs {
            let vals = self.ranged_values(dn, a, &first).await?;
            for v in vals {
                out.push(a, v);
            }
        }
        Ok(Some(out))
    }

    /// What of `op` is still to do, read from the directory now. `Ok(None)`: its effect is
    /// already there.
    pub async fn residual(&mut self, op: &WriteOp) -> Result<Option<WriteOp>, WriteError> {
        let reread = |e: anyhow::Error| WriteError {
            rc: None,
            class: Class::Transient,
            message: format!("{} {}: re-reading failed: {e:#}", op.name(), op.dn()),
        };
        match op {
            WriteOp::Add { dn, attrs } => {
                let names: Vec<&str> = attrs.iter().map(|(n, _)| n.as_str()).collect();
                let Some(now) = self.attr_values(dn, &names).await.map_err(reread)? else {
                    return Ok(Some(op.clone()));
                };
                // Ours only if it carries the same stamp (adminDescription) as the add.
                let stamp = |e: &[(String, Vec<Vec<u8>>)]| {
                    e.iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case("adminDescription"))
                        .map(|(_, v)| v.clone())
                };
                let want = stamp(attrs);
                let have: Vec<Vec<u8>> =
                    now.values("adminDescription").map(<[u8]>::to_vec).collect();
                if want.is_none() || want.as_ref() != Some(&have) {
                    return Err(WriteError {
                        rc: Some(68),
                        class: Class::Terminal,
                        message: format!(
                            "add {dn} failed (LDAP 68 entryAlreadyExists): an object gwb did not create already has this name"
                        ),
                    });
                }
                // The add is atomic: an object with the stamp is this add's result. Members
                // are checked anyway, as a modify.
                let changes: Vec<Change> = attrs
                    .iter()
                    .filter(|(n, _)| DN_ATTRS.iter().any(|d| d.eq_ignore_ascii_case(n)))
                    .map(|(n, v)| Change::new(ModKind::Add, n, v.clone()))
                    .collect();
                let rest =
                    residual_changes(&changes, |a| now.values(a).map(<[u8]>::to_vec).collect());
                Ok((!rest.is_empty()).then(|| WriteOp::Modify {
                    dn: dn.clone(),
                    changes: rest,
                }))
            }
            WriteOp::Modify { dn, changes } => {
                let mut names: Vec<&str> = changes.iter().map(|c| c.attr.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                let Some(now) = self.attr_values(dn, &names).await.map_err(reread)? else {
                    return Err(WriteError {
                        rc: Some(32),
                        class: Class::Terminal,
                        message: format!("modify {dn}: the object no longer exists"),
                    });
                };
                let rest =
                    residual_changes(changes, |a| now.values(a).map(<[u8]>::to_vec).collect());
                Ok((!rest.is_empty()).then(|| WriteOp::Modify {
                    dn: dn.clone(),
                    changes: rest,
                }))
            }
            WriteOp::ModRdn { dn, guid, .. } => {
                let target = op.dn_after().unwrap_or_default();
                let found = match guid {
                    Some(g) => self.read_guid(g, &["objectGUID"]).await.map_err(reread)?,
                    None => self.read(&target, &["objectGUID"]).await.map_err(reread)?,
                };
                match found {
                    Some(e) if same_dn(&e.dn, &target) => Ok(None),
                    Some(e) if same_dn(&e.dn, dn) => Ok(Some(op.clone())),
                    Some(e) => Err(WriteError {
                        rc: None,
                        class: Class::Terminal,
                        message: format!(
                            "modrdn {dn}: the object is now at {}, neither where it was nor where it was to go",
                            e.dn
                        ),
                    }),
                    None if guid.is_some() => Err(WriteError {
                        rc: Some(32),
                        class: Class::Terminal,
                        message: format!("modrdn {dn}: the object no longer exists"),
                    }),
                    None => Ok(Some(op.clone())),
                }
            }
            WriteOp::Delete { dn, guid } => {
                let found = match guid {
                    Some(g) => self.read_guid(g, &["objectGUID"]).await.map_err(reread)?,
                    None => self.read(dn, &["objectGUID"]).await.map_err(reread)?,
                };
                Ok(found.map(|_| op.clone()))
            }
        }
    }

    /// Carry out independent adds pipelined: every request is sent before the first answer is
    /// read, so round trips and the client's work overlap the DC's. Each answer then goes
    /// through exactly what [`Conn::write`] does with a first answer (retry, reconnect and
    /// re-read, confirmation). One entry per op in order: the result and the requests sent for
    /// it; `None` when it was not attempted because an earlier op found the DC unreachable
    /// for good. Ops other than adds are written one by one.
    pub async fn write_many(
        &mut self,
        ops: &[&WriteOp],
        retry: &Retry,
    ) -> Vec<Option<(Result<Written, WriteError>, u32)>> {
        let mut out = Vec::with_capacity(ops.len());
        let reqs: Option<Vec<super::proto::Request>> = ops
            .iter()
            .map(|op| match op {
                WriteOp::Add { dn, attrs } => {
                    let attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = attrs
                        .iter()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(n, v)| (n.as_bytes().to_vec(), values_set(v)))
                        .collect();
                    Some(super::proto::add_request(dn, &attrs))
                }
                _ => None,
            })
            .collect();
        let (answers, lost) = match reqs {
            Some(reqs) if reqs.len() > 1 => {
                self.stats.writes += reqs.len();
                let (ldap, timeout) = self.handle();
                ldap.with_timeout(timeout).call_pipelined(&reqs).await
            }
            _ => {
                for op in ops {
                    let before = self.stats.writes;
                    let r = self.write(op, retry).await;
                    out.push(Some((r, (self.stats.writes - before) as u32)));
                }
                return out;
            }
        };
        let mut lost = lost.map(|e| match e {
            e @ LdapError::Timeout { .. } => format!("no answer in time ({e})"),
            e => e.to_string(),
        });
        let mut gone = false;
        for (op, answer) in ops.iter().zip(answers) {
            if gone {
                out.push(None);
                continue;
            }
            let first = match answer {
                Some(r) if r.rc == 0 => Some(Sent::Ok),
                Some(r) => Some(Sent::Rc(r.rc, r.text)),
                // The first unanswered request reconnects; the later ones are sent again on
                // the new connection (their earlier copy may have been applied: a re-read
                // confirms that).
                None => lost.take().map(Sent::Lost),
            };
            let before = self.stats.writes;
            let r = self.write_from(op, retry, first).await;
            // The pipelined request, and whatever was sent again for it.
            let sent = (self.stats.writes - before) as u32 + 1;
            gone = matches!(&r, Err(e) if e.class == Class::Transient && e.rc.is_none());
            out.push(Some((r, sent)));
        }
        out
    }

    /// Carry out `op`: send it, retry transient results with backoff (reconnecting and
    /// re-reading after a lost connection), and confirm ambiguous ones by a re-read.
    pub async fn write(&mut self, op: &WriteOp, retry: &Retry) -> Result<Written, WriteError> {
        self.write_from(op, retry, None).await
    }

    /// [`Conn::write`], where the first attempt's answer may already be known (`first`: the
    /// request was sent pipelined).
    async fn write_from(
        &mut self,
        op: &WriteOp,
        retry: &Retry,
        mut first: Option<Sent>,
    ) -> Result<Written, WriteError> {
        let mut op = op.clone();
        let mut attempts = 0u32;
        let mut rereads = 0u32;
        let mut backoff = retry.backoff;
        let mut confirmed_once = false;
        let mut last = String::new();
        while attempts < retry.attempts.max(1) {
            attempts += 1;
            let answer = match first.take() {
                Some(a) => a,
                None => self.send(&op).await,
            };
            match answer {
                Sent::Ok => {
                    return Ok(Written {
                        done: if confirmed_once {
                            Done::AlreadyDone
                        } else {
                            Done::Applied
                        },
                        attempts,
                        rereads,
                    });
                }
                Sent::Rc(rc, text) => match classify(rc) {
                    Class::Terminal => {
                        return Err(WriteError {
                            rc: Some(rc),
                            class: Class::Terminal,
                            message: write_failure(&op, rc, &text),
                        });
                    }
                    Class::Transient => {
                        last = write_failure(&op, rc, &text);
                        tracing::debug!("{last}; retrying in {} ms", backoff.as_millis());
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(retry.max_backoff);
                    }
                    Class::ConfirmByReread => {
                        rereads += 1;
                        match self.residual(&op).await? {
                            None => {
                                return Ok(Written {
                                    done: Done::AlreadyDone,
                                    attempts,
                                    rereads,
                                });
                            }
                            Some(rest) if rest == op => {
                                return Err(WriteError {
                                    rc: Some(rc),
                                    class: Class::Terminal,
                                    message: name_in_use(&op, rc)
                                        .unwrap_or_else(|| write_failure(&op, rc, &text)),
                                });
                            }
                            Some(rest) => {
                                confirmed_once = true;
                                op = rest;
                            }
                        }
                    }
                },
                Sent::Lost(e) => {
                    last = format!("{} {}: the connection was lost ({e})", op.name(), op.dn());
                    tracing::warn!("{last}; reconnecting");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(retry.max_backoff);
                    if let Err(e) = self.reconnect().await {
                        last = format!("{last}; reconnecting failed: {e:#}");
                        continue;
                    }
                    rereads += 1;
                    match self.residual(&op).await {
                        Ok(None) => {
                            return Ok(Written {
                                done: Done::AlreadyDone,
                                attempts,
                                rereads,
                            });
                        }
                        Ok(Some(rest)) => op = rest,
                        Err(e) if e.class == Class::Transient => last = e.message,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Err(WriteError {
            rc: None,
            class: Class::Transient,
            message: format!("{last} (gave up after {attempts} attempts)"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_results() {
        for rc in [51, 52, 53] {
            assert_eq!(classify(rc), Class::Transient, "{rc}");
        }
        for rc in [16, 20, 68] {
            assert_eq!(classify(rc), Class::ConfirmByReread, "{rc}");
        }
        for rc in [1, 19, 21, 32, 34, 50, 64, 65, 66, 80] {
            assert_eq!(classify(rc), Class::Terminal, "{rc}");
        }
    }

    #[test]
    fn residual_keeps_only_what_is_missing() {
        let v = |s: &[&str]| s.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>();
        let changes = vec![
            Change::new(ModKind::Add, "member", v(&["CN=A,DC=x", "CN=B,DC=x"])),
            Change::new(ModKind::Delete, "member", v(&["CN=C,DC=x", "CN=D,DC=x"])),
            Change::new(ModKind::Replace, "description", v(&["new"])),
        ];
        // A is there (other case and spacing), C is gone already, description already new.
        let rest = residual_changes(&changes, |a| match a {
            "member" => v(&["cn=a, dc=X", "CN=D,DC=x"]),
            _ => v(&["new"]),
        });
        assert_eq!(
            rest,
            vec![
                Change::new(ModKind::Add, "member", v(&["CN=B,DC=x"])),
                Change::new(ModKind::Delete, "member", v(&["CN=D,DC=x"])),
            ]
        );
        assert!(
            residual_changes(&changes, |a| match a {
                "member" => v(&["CN=A,DC=x", "CN=B,DC=x"]),
                _ => v(&["new"]),
            })
            .is_empty()
        );
        // Removing an attribute entirely is done when it has no values.
        let del = vec![Change::new(ModKind::Replace, "mail", vec![])];
        assert!(residual_changes(&del, |_| vec![]).is_empty());
        assert_eq!(residual_changes(&del, |_| v(&["x@y"])).len(), 1);
    }

    #[test]
    fn modrdn_target_dn() {
        let op = WriteOp::ModRdn {
            dn: "CN=Old,OU=A,DC=x".into(),
            guid: None,
            new_rdn: "CN=New".into(),
            new_superior: None,
        };
        assert_eq!(op.dn_after().as_deref(), Some("CN=New,OU=A,DC=x"));
        let op = WriteOp::ModRdn {
            dn: "CN=Old,OU=A,DC=x".into(),
            guid: None,
            new_rdn: "CN=New".into(),
            new_superior: Some("OU=B,DC=x".into()),
        };
        assert_eq!(op.dn_after().as_deref(), Some("CN=New,OU=B,DC=x"));
    }
}
