//! What every target's forecast reads from the tenant's groups, computed once per snapshot:
//! lowercase ids, parsed objectIds, the tie-break order, the report order and a lookup by id.
//! The audit forecasts four targets over the same groups; this keeps that work from being
//! done four times. Pure data, no rules.

use std::hash::BuildHasher;

use uuid::Uuid;

use crate::ad::ids;
use crate::bundle::tenant::{Group, TenantDoc};

/// Tenants with at least this many groups are indexed on two threads.
const PARALLEL_MIN: usize = if cfg!(test) { 2 } else { 4096 };

/// Merge two sorted runs; on ties the element of `a` comes first (a stable merge).
fn merge_stable<T>(a: Vec<T>, b: Vec<T>, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut a = a.into_iter().peekable();
    let mut b = b.into_iter().peekable();
    loop {
        let take_b = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => cmp(y, x) == std::cmp::Ordering::Less,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (None, None) => break,
        };
        let next = if take_b { b.next() } else { a.next() };
        out.extend(next);
    }
    out
}

/// One cloud group as the forecasts see it.
pub struct Indexed<'a> {
    pub group: &'a Group,
    /// The objectId in ASCII lowercase, as forecasts and plans name groups.
    pub id: String,
    /// The objectId, when it is a GUID.
    pub uuid: Option<Uuid>,
    /// The display name folded for the report order (natural order: "Group 2" before "Group 10").
    name_key: String,
    /// The objectId as a number when `id` is a GUID in its 36-character form, where the
    /// order of the numbers is the order of the texts (lowercase hex digits sort as their
    /// values, hyphens sit at the same places): a cheaper comparison of the same order.
    id_number: Option<u128>,
}

impl Indexed<'_> {
    /// Compare lowercase ids, as text.
    fn cmp_id(&self, other: &Self) -> std::cmp::Ordering {
        match (self.id_number, other.id_number) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.id.cmp(&other.id),
        }
    }
}

/// The tenant's groups, sorted by lowercase id (name-collision tie-breaks follow this order).
pub struct GroupIndex<'a> {
    entries: Vec<Indexed<'a>>,
    /// Positions in `entries`, by lowercase id.
    lookup: hashbrown::HashTable<usize>,
    state: foldhash::fast::RandomState,
    /// Positions in `entries` in report order: by folded display name, then id.
    by_name: Vec<usize>,
}

impl<'a> GroupIndex<'a> {
    pub fn new(tenant: &'a TenantDoc) -> GroupIndex<'a> {
        let groups: Vec<&'a Group> = tenant.groups.iter().flatten().collect();
        let index = |g: &'a Group| {
            let id = g.id.to_ascii_lowercase();
            let uuid = ids::parse_guid(&id);
            Indexed {
                id_number: uuid.filter(|_| id.len() == 36).map(|u| u.as_u128()),
                uuid,
                name_key: g.name().to_lowercase(),
                id,
                group: g,
            }
        };
        let by_id = |a: &Indexed, b: &Indexed| a.cmp_id(b);
        // Two halves indexed and sorted side by side, then merged. Stable: equal ids keep the
        // document's order.
        let entries: Vec<Indexed<'a>> = if groups.len() < PARALLEL_MIN {
            let mut v: Vec<Indexed<'a>> = groups.iter().map(|g| index(g)).collect();
            v.sort_by(by_id);
            v
        } else {
            let (left, right) = groups.split_at(groups.len() / 2);
            let half = |part: &[&'a Group]| {
                let mut v: Vec<Indexed<'a>> = part.iter().map(|g| index(g)).collect();
                v.sort_by(by_id);
                v
            };
            let (a, b) = crate::par::join(|| half(left), || half(right));
            merge_stable(a, b, by_id)
        };
        let state = foldhash::fast::RandomState::default();
        let lookup_of = |entries: &[Indexed<'a>]| {
            let mut lookup = hashbrown::HashTable::with_capacity(entries.len());
            for (i, e) in entries.iter().enumerate() {
                let hash = state.hash_one(e.id.as_str());
                // A repeated id (which the bundle reader refuses) resolves to the later group.
                match lookup.find_mut(hash, |&j: &usize| entries[j].id == e.id) {
                    Some(slot) => *slot = i,
                    None => {
                        lookup.insert_unique(hash, i, |&j: &usize| {
                            state.hash_one(entries[j].id.as_str())
                        });
                    }
                }
            }
            lookup
        };
        let by_name_of = |entries: &[Indexed<'a>]| {
            let mut by_name: Vec<usize> = (0..entries.len()).collect();
            by_name.sort_by(|&a, &b| {
                let (a, b) = (&entries[a], &entries[b]);
                crate::text::natural_cmp(&a.name_key, &b.name_key).then_with(|| a.cmp_id(b))
            });
            by_name
        };
        // The lookup and the report order side by side.
        let (lookup, by_name) = crate::par::join_if(
            entries.len() >= PARALLEL_MIN,
            || lookup_of(&entries),
            || by_name_of(&entries),
        );
        GroupIndex {
            entries,
            lookup,
            state,
            by_name,
        }
    }

    /// The groups, sorted by lowercase id.
    pub fn entries(&self) -> &[Indexed<'a>] {
        &self.entries
    }

    /// The group with this lowercase id.
    pub fn get(&self, lower_id: &str) -> Option<&Indexed<'a>> {
        let hash = self.state.hash_one(lower_id);
        self.lookup
            .find(hash, |&j| self.entries[j].id == lower_id)
            .map(|&j| &self.entries[j])
    }

    /// Positions in [`GroupIndex::entries`] in report order.
    pub fn report_order(&self) -> &[usize] {
        &self.by_name
    }

    /// Whether a group with this lowercase id is in the tenant.
    pub fn contains(&self, lower_id: &str) -> bool {
        self.get(lower_id).is_some()
    }
}

impl Indexed<'_> {
    /// The key of the report order (folded display name, then id).
    pub fn order_key(&self) -> (&str, &str) {
        (&self.name_key, &self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str, name: &str) -> Group {
        Group {
            id: id.into(),
            display_name: Some(name.into()),
            ..Group::default()
        }
    }

    #[test]
    fn sorted_by_id_looked_up_by_lowercase_id_and_ordered_by_name() {
        let tenant = TenantDoc {
            groups: Some(vec![
                group("CCCCCCCC-0000-0000-0000-000000000000", "beta"),
                group("aaaaaaaa-0000-0000-0000-000000000000", "Beta"),
                group("bbbbbbbb-0000-0000-0000-000000000000", "Alpha"),
                group("not-a-guid", "alpha"),
            ]),
            ..TenantDoc::default()
        };
        let ix = GroupIndex::new(&tenant);
        let ids: Vec<&str> = ix.entries().iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "aaaaaaaa-0000-0000-0000-000000000000",
                "bbbbbbbb-0000-0000-0000-000000000000",
                "cccccccc-0000-0000-0000-000000000000",
                "not-a-guid"
            ]
        );
        assert!(ix.entries()[3].uuid.is_none() && ix.entries()[0].uuid.is_some());
        let c = ix
            .get("cccccccc-0000-0000-0000-000000000000")
            .expect("found by lowercase id");
        assert_eq!(c.group.id, "CCCCCCCC-0000-0000-0000-000000000000");
        assert!(!ix.contains("CCCCCCCC-0000-0000-0000-000000000000"));
        let names: Vec<(&str, &str)> = ix
            .report_order()
            .iter()
            .map(|&i| (ix.entries()[i].group.name(), ix.entries()[i].id.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("Alpha", "bbbbbbbb-0000-0000-0000-000000000000"),
                ("alpha", "not-a-guid"),
                ("Beta", "aaaaaaaa-0000-0000-0000-000000000000"),
                ("beta", "cccccccc-0000-0000-0000-000000000000"),
            ]
        );
    }

    #[test]
    fn a_repeated_id_resolves_to_the_later_group() {
        let tenant = TenantDoc {
            groups: Some(vec![
                group("AAAAAAAA-0000-0000-0000-000000000000", "first"),
                group("aaaaaaaa-0000-0000-0000-000000000000", "second"),
            ]),
            ..TenantDoc::default()
        };
        let ix = GroupIndex::new(&tenant);
        let g = ix
            .get("aaaaaaaa-0000-0000-0000-000000000000")
            .expect("found");
        assert_eq!(g.group.name(), "second");
    }

    proptest::proptest! {
        #[test]
        fn ids_compare_as_their_texts(a: u128, b: u128, near: u8, plain in "[0-9a-f-]{0,40}") {
            let text = |n: u128| Uuid::from_u128(n).hyphenated().to_string();
            // Two ids far apart, two close together, and one that is not a GUID.
            for (x, y) in [
                (text(a), text(b)),
                (text(a), text(a.wrapping_add(u128::from(near)))),
                (text(a), plain.clone()),
                (plain.clone(), text(b)),
            ] {
                let (gx, gy) = (group(&x.to_uppercase(), "n"), group(&y, "n"));
                let tenant = TenantDoc { groups: Some(vec![gx, gy]), ..TenantDoc::default() };
                let ix = GroupIndex::new(&tenant);
                let e = ix.entries();
                proptest::prop_assert_eq!(e[0].cmp_id(&e[1]), e[0].id.cmp(&e[1].id));
                proptest::prop_assert!(e[0].id <= e[1].id, "sorted as text");
            }
        }
    }
}
