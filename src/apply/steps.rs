//! The ordered LDAP writes of a plan (pure): renames first (a create may take a name a rename
//! frees), then creates (with the members that already exist), then attribute and member changes in batches (including the members
//! that name groups created or renamed by this plan), then deletes, so that every member value
//! names an object that exists when it is written and nested groups leave their parents
//! before they are deleted.

use std::collections::{HashMap, HashSet};

use crate::ad::Dn;
use crate::ad::dn::escape_value;
use crate::ldap::write::{Change, ModKind, WriteOp};
use crate::plan::model::{Action, AttrValue, Plan};

/// The order writes happen in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Rename,
    Create,
    Modify,
    Delete,
}

/// One write for one group of the plan (`group` indexes `plan.groups`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub group: usize,
    pub phase: Phase,
    pub op: WriteOp,
}

fn dn_key(s: &str) -> String {
    Dn::parse(s)
        .map(|d| d.key())
        .unwrap_or_else(|_| s.to_ascii_lowercase())
}

fn values(v: &Option<AttrValue>) -> Vec<Vec<u8>> {
    v.as_ref()
        .map(|v| v.values().iter().map(|s| s.as_bytes().to_vec()).collect())
        .unwrap_or_default()
}

/// Split member adds and removes into modify requests of at most `batch` values; the first
/// request also carries `first` (attribute changes), so a small change is one modify.
pub fn member_modifies(
    dn: &str,
    first: Vec<Change>,
    add: &[Vec<u8>],
    remove: &[Vec<u8>],
    batch: usize,
) -> Vec<WriteOp> {
    let batch = batch.max(1);
    let mut ops = Vec::new();
    let mut cur = first;
    let mut room = batch;
    let push_vals = |kind: ModKind,
                     vals: &[Vec<u8>],
                     cur: &mut Vec<Change>,
                     room: &mut usize,
                     ops: &mut Vec<WriteOp>| {
        let mut rest = vals;
        while !rest.is_empty() {
            if *room == 0 {
                ops.push(WriteOp::Modify {
                    dn: dn.to_string(),
                    changes: std::mem::take(cur),
                });
                *room = batch;
            }
            let n = rest.len().min(*room);
            cur.push(Change::new(kind, "member", rest[..n].to_vec()));
            *room -= n;
            rest = &rest[n..];
        }
    };
    // Removes first: a group at the member limit makes room before it grows.
    push_vals(ModKind::Delete, remove, &mut cur, &mut room, &mut ops);
    push_vals(ModKind::Add, add, &mut cur, &mut room, &mut ops);
    if !cur.is_empty() {
        ops.push(WriteOp::Modify {
            dn: dn.to_string(),
            changes: cur,
        });
    }
    ops
}

/// Every write of `plan`, in dependency order.
pub fn steps(plan: &Plan, batch: usize) -> Vec<Step> {
    // DNs that only exist after this plan's creates and renames.
    let pending: HashSet<String> = plan
        .groups
        .iter()
        .filter(|g| matches!(g.action, Action::Create | Action::Rename))
        .filter_map(|g| g.dn.as_deref().map(dn_key))
        .collect();
    // Member DNs recur across groups: each is normalised once.
    let mut member_keys: HashMap<&str, String> = HashMap::new();
    let mut out = Vec::new();
    let mut deferred: HashMap<usize, Vec<Vec<u8>>> = HashMap::new();
    for (i, g) in plan.groups.iter().enumerate() {
        match g.action {
            Action::Create => {
                let Some(dn) = &g.dn else { continue };
                let mut attrs: Vec<(String, Vec<Vec<u8>>)> = vec![(
                    "objectClass".into(),
                    vec![b"top".to_vec(), b"group".to_vec()],
                )];
                if let Some(t) = g.group_type
                    && !g
                        .attributes
                        .keys()
                        .any(|k| k.eq_ignore_ascii_case("groupType"))
                {
                    attrs.push(("groupType".into(), vec![t.to_string().into_bytes()]));
                }
                for (name, ch) in &g.attributes {
                    let v = values(&ch.after);
                    if !v.is_empty() {
                        attrs.push((name.clone(), v));
                    }
                }
                let (now, later): (Vec<&String>, Vec<&String>) =
                    g.members.add.iter().partition(|m| {
                        let k = member_keys.entry(m.as_str()).or_insert_with(|| dn_key(m));
                        !pending.contains(k.as_str())
                    });
                let now: Vec<Vec<u8>> = now.iter().map(|m| m.as_bytes().to_vec()).collect();
                let mut later: Vec<Vec<u8>> = later.iter().map(|m| m.as_bytes().to_vec()).collect();
                let (inline, overflow) = now.split_at(now.len().min(batch.max(1)));
                if !inline.is_empty() {
                    attrs.push(("member".into(), inline.to_vec()));
                }
                later.splice(0..0, overflow.iter().cloned());
                out.push(Step {
                    group: i,
                    phase: Phase::Create,
                    op: WriteOp::Add {
                        dn: dn.clone(),
                        attrs,
                    },
                });
                if !later.is_empty() {
                    deferred.insert(i, later);
                }
            }
            Action::Rename => {
                let (Some(dn), Some(cur)) = (&g.dn, &g.current) else {
                    continue;
                };
                let (Ok(new), Ok(old)) = (Dn::parse(dn), Dn::parse(&cur.dn)) else {
                    continue;
                };
                if new.key() != old.key() {
                    let cn =
                        g.cn.clone()
                            .or_else(|| new.rdn_value().map(str::to_string))
                            .unwrap_or_default();
                    let new_parent = new.parent().map(|p| p.to_string());
                    let old_parent = old.parent().map(|p| p.key());
                    let new_superior =
                        new_parent.filter(|p| Dn::parse(p).map(|d| d.key()).ok() != old_parent);
                    out.push(Step {
                        group: i,
                        phase: Phase::Rename,
                        op: WriteOp::ModRdn {
                            dn: cur.dn.clone(),
                            guid: cur.object_guid,
                            new_rdn: format!("CN={}", escape_value(&cn)),
                            new_superior,
                        },
                    });
                }
            }
            Action::Delete => {
                if let Some(cur) = &g.current {
                    out.push(Step {
                        group: i,
                        phase: Phase::Delete,
                        op: WriteOp::Delete {
                            dn: cur.dn.clone(),
                            guid: cur.object_guid,
                        },
                    });
                }
            }
            _ => {}
        }
    }
    // Attribute and member changes, after every create and rename.
    for (i, g) in plan.groups.iter().enumerate() {
        let dn = match g.action {
            Action::Update | Action::Rename => {
                g.dn.clone()
                    .or_else(|| g.current.as_ref().map(|c| c.dn.clone()))
            }
            Action::Create => None,
            _ => continue,
        };
        if g.action == Action::Create {
            if let Some(later) = deferred.get(&i)
                && let Some(dn) = &g.dn
            {
                for op in member_modifies(dn, vec![], later, &[], batch) {
                    out.push(Step {
                        group: i,
                        phase: Phase::Modify,
                        op,
                    });
                }
            }
            continue;
        }
        let Some(dn) = dn else { continue };
        let first: Vec<Change> = g
            .attributes
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("member"))
            .map(|(n, ch)| Change::new(ModKind::Replace, n, values(&ch.after)))
            .collect();
        let add: Vec<Vec<u8>> = g
            .members
            .add
            .iter()
            .map(|m| m.as_bytes().to_vec())
            .collect();
        let remove: Vec<Vec<u8>> = g
            .members
            .remove
            .iter()
            .map(|m| m.as_bytes().to_vec())
            .collect();
        for op in member_modifies(&dn, first, &add, &remove, batch) {
            out.push(Step {
                group: i,
                phase: Phase::Modify,
                op,
            });
        }
    }
    out.sort_by_key(|s| s.phase);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_changes_are_batched_with_the_attributes_in_the_first_request() {
        let v = |n: usize, p: &str| {
            (0..n)
                .map(|i| format!("CN={p}{i},DC=x").into_bytes())
                .collect::<Vec<_>>()
        };
        let first = vec![Change::new(
            ModKind::Replace,
            "description",
            vec![b"d".to_vec()],
        )];
        // One member change: one modify with the attribute change.
        let ops = member_modifies("CN=g,DC=x", first.clone(), &v(1, "a"), &[], 500);
        assert_eq!(ops.len(), 1);
        let WriteOp::Modify { changes, .. } = &ops[0] else {
            panic!()
        };
        assert_eq!(changes.len(), 2);
        // 1,200 adds and 300 removes in 500-value requests: three requests, removes first.
        let ops = member_modifies("CN=g,DC=x", vec![], &v(1200, "a"), &v(300, "r"), 500);
        assert_eq!(ops.len(), 3);
        let counts: Vec<usize> = ops
            .iter()
            .map(|o| match o {
                WriteOp::Modify { changes, .. } => changes.iter().map(|c| c.values.len()).sum(),
                _ => 0,
            })
            .collect();
        assert_eq!(counts, vec![500, 500, 500]);
        let WriteOp::Modify { changes, .. } = &ops[0] else {
            panic!()
        };
        assert_eq!(changes[0].kind, ModKind::Delete);
        assert_eq!(changes[0].values.len(), 300);
        assert!(member_modifies("CN=g,DC=x", vec![], &[], &[], 500).is_empty());
    }
}
