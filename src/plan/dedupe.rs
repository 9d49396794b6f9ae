//! Duplicate group ids in the input (a group listed twice, e.g. in tenant.json and in an
//! `--evidence` export): copies that agree on every property both carry are merged, copies that
//! contradict each other are an input error naming both places. A group never collides with itself.

use std::collections::HashMap;

use crate::bundle::TenantDoc;
use crate::bundle::tenant::Group;

/// Two different records for one group id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub id: String,
    /// Positions in the merged groups list.
    pub first: usize,
    pub second: usize,
}

/// A property the record does not carry. An empty list is data (a group with no members is not
/// a group whose members were not collected), so only null counts as absent.
fn absent(v: &serde_json::Value) -> bool {
    v.is_null()
}

/// Merge `b` into `a` when they never contradict each other: every property both carry has
/// the same value (an export that lacks a property, e.g. `members`, does not contradict).
/// Returns the merged record, or `None` on a contradiction.
fn merge(a: &Group, b: &Group) -> Option<Group> {
    let (Ok(serde_json::Value::Object(mut x)), Ok(serde_json::Value::Object(y))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return None;
    };
    for (k, vb) in y {
        if absent(&vb) {
            continue;
        }
        match x.get(&k) {
            Some(va) if !absent(va) && *va != vb => return None,
            Some(va) if !absent(va) => {}
            _ => {
                x.insert(k, vb);
            }
        }
    }
    serde_json::from_value(serde_json::Value::Object(x)).ok()
}

/// Merge duplicates that agree, in place; returns how many were merged, or the first conflict.
pub fn dedupe_groups(t: &mut TenantDoc) -> Result<usize, Conflict> {
    let Some(groups) = t.groups.as_mut() else {
        return Ok(0);
    };
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(groups.len());
    let mut drop = Vec::new();
    for i in 0..groups.len() {
        let id = groups[i].id.trim().to_ascii_lowercase();
        match seen.get(&id) {
            None => {
                seen.insert(id, i);
            }
            Some(&first) => {
                let Some(merged) = merge(&groups[first], &groups[i]) else {
                    return Err(Conflict {
                        id,
                        first,
                        second: i,
                    });
                };
                groups[first] = merged;
                drop.push(i);
            }
        }
    }
    let merged = drop.len();
    if merged > 0 {
        let mut i = 0;
        let mut d = drop.into_iter().peekable();
        groups.retain(|_| {
            let keep = d.peek() != Some(&i);
            if !keep {
                d.next();
            }
            i += 1;
            keep
        });
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(id: &str, name: &str) -> Group {
        Group {
            id: id.into(),
            display_name: Some(name.into()),
            ..Group::default()
        }
    }

    #[test]
    fn identical_duplicates_merge_and_different_ones_conflict() {
        let mut t = TenantDoc {
            groups: Some(vec![g("A", "x"), g("b", "y"), g("a", "x"), g("b", "y")]),
            ..TenantDoc::default()
        };
        // "A" and "a" differ in the id's case only in the raw record: a contradiction.
        assert_eq!(
            dedupe_groups(&mut t),
            Err(Conflict {
                id: "a".into(),
                first: 0,
                second: 2
            })
        );
        // A copy that lacks a property merges and fills it in.
        let mut partial = g("c", "z");
        partial.description = Some("from the export".into());
        let mut full = g("c", "z");
        full.members = Some(vec![]);
        let mut t = TenantDoc {
            groups: Some(vec![full, partial]),
            ..TenantDoc::default()
        };
        assert_eq!(dedupe_groups(&mut t), Ok(1));
        let only = &t.groups.as_ref().unwrap()[0];
        assert_eq!(only.description.as_deref(), Some("from the export"));
        assert!(only.members.is_some());
        let mut t = TenantDoc {
            groups: Some(vec![g("a", "x"), g("b", "y"), g("a", "x"), g("b", "y")]),
            ..TenantDoc::default()
        };
        assert_eq!(dedupe_groups(&mut t), Ok(2));
        assert_eq!(t.groups.as_ref().unwrap().len(), 2);
        let mut t = TenantDoc {
            groups: Some(vec![g("a", "x"), g("a", "renamed")]),
            ..TenantDoc::default()
        };
        assert!(dedupe_groups(&mut t).is_err());
    }
}
