//! What every target's forecast reads from the tenant's groups, computed once per snapshot:
//! lowercase ids, parsed objectIds, the tie-break order, the report order and a lookup by id.
//! The audit forecasts four targets over the same groups; this keeps that work from being
//! done four times. Pure data, no rules.

use std::hash::BuildHasher;

use uuid::Uuid;

use crate::ad::ids;
use crate::bundle::tenant::{Group, TenantDoc};

/// One cloud group as the forecasts see it.
pub struct Indexed<'a> {
    pub group: &'a Group,
    /// The objectId in ASCII lowercase, as forecasts and plans name groups.
    pub id: String,
    /// The objectId, when it is a GUID.
    pub uuid: Option<Uuid>,
    /// The display name folded for the report order.
    name_key: String,
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
        let mut entries: Vec<Indexed<'a>> = tenant
            .groups
            .iter()
            .flatten()
            .map(|g| {
                let id = g.id.to_ascii_lowercase();
                Indexed {
                    uuid: ids::parse_guid(&id),
                    name_key: g.name().to_lowercase(),
                    id,
                    group: g,
                }
            })
            .collect();
        // Stable: equal ids keep the document's order.
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        let state = foldhash::fast::RandomState::default();
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
        let mut by_name: Vec<usize> = (0..entries.len()).collect();
        by_name.sort_by(|&a, &b| entries[a].order_key().cmp(&entries[b].order_key()));
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
}
