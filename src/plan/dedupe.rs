//! Duplicate group ids in the input (a group listed twice, e.g. in tenant.json and in an
//! `--evidence` export): identical copies are merged, differing ones are an input error naming
//! both places. A group never collides with itself.

use std::collections::HashMap;

use crate::bundle::TenantDoc;

/// Two different records for one group id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub id: String,
    /// Positions in the merged groups list.
    pub first: usize,
    pub second: usize,
}

/// Merge identical duplicates in place; returns how many were merged, or the first conflict.
pub fn dedupe_groups(t: &mut TenantDoc) -> Result<usize, Conflict> {
    let Some(groups) = t.groups.as_mut() else {
        return Ok(0);
    };
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(groups.len());
    let mut drop = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let id = g.id.trim().to_ascii_lowercase();
        match seen.get(&id) {
            None => {
                seen.insert(id, i);
            }
            Some(&first) => {
                let same =
                    serde_json::to_value(&groups[first]).ok() == serde_json::to_value(g).ok();
                if !same {
                    return Err(Conflict {
                        id,
                        first,
                        second: i,
                    });
                }
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
    use crate::bundle::tenant::Group;

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
        // "A" and "a" differ in the id's case only in the raw record: not identical.
        assert_eq!(
            dedupe_groups(&mut t),
            Err(Conflict {
                id: "a".into(),
                first: 0,
                second: 2
            })
        );
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
