//! The collected tenant in a compact form: Graph objects kept verbatim as compact JSON text,
//! each distinct member stored once and referenced by index from every group it belongs to.
//! Serializing it produces `tenant.json` (`gwb-tenant/1`) without building the whole
//! document in memory, so a million memberships fit in a few hundred megabytes.

use std::collections::HashMap;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::bundle::tenant::TENANT_FORMAT;

/// Distinct member objects (users, groups, devices) by id. Graph returns one object per id;
/// should two copies of one id differ (hand-edited bundles), each copy is kept.
#[derive(Debug, Default)]
pub struct MemberTable {
    objs: Vec<String>,
    index: HashMap<String, u32>,
    /// Further distinct copies, only for ids that have more than one.
    variants: HashMap<String, Vec<u32>>,
}

impl MemberTable {
    /// Store a member object; `replace` updates the stored copy (fresh data for that id).
    pub fn intern(&mut self, v: &Value, replace: bool) -> Option<u32> {
        let id = v.get("id")?.as_str()?.to_ascii_lowercase();
        self.intern_text(id, v.to_string(), replace)
    }

    /// Store a member from its raw JSON text (kept verbatim when it is compact).
    pub fn intern_raw(&mut self, raw: &serde_json::value::RawValue, replace: bool) -> Option<u32> {
        #[derive(serde::Deserialize)]
        struct IdOnly<'a> {
            #[serde(borrow)]
            id: std::borrow::Cow<'a, str>,
        }
        let text = raw.get();
        let id = serde_json::from_str::<IdOnly<'_>>(text)
            .ok()?
            .id
            .to_ascii_lowercase();
        self.intern_text(id, compact(text), replace)
    }

    fn intern_text(&mut self, id: String, text: String, replace: bool) -> Option<u32> {
        let Some(&i) = self.index.get(&id) else {
            let i = u32::try_from(self.objs.len()).ok()?;
            self.objs.push(text);
            self.index.insert(id, i);
            return Some(i);
        };
        if self.objs.get(i as usize).is_some_and(|t| *t == text) {
            return Some(i);
        }
        if replace {
            if let Some(slot) = self.objs.get_mut(i as usize) {
                *slot = text;
            }
            return Some(i);
        }
        if let Some(found) = self.variants.get(&id).and_then(|v| {
            v.iter()
                .copied()
                .find(|&j| self.objs.get(j as usize).is_some_and(|t| *t == text))
        }) {
            return Some(found);
        }
        let j = u32::try_from(self.objs.len()).ok()?;
        self.objs.push(text);
        self.variants.entry(id).or_insert_with(|| vec![i]).push(j);
        Some(j)
    }

    /// Apply changed properties (from a users or devices delta) to every stored copy of `id`.
    /// Returns whether the id was known.
    pub fn update_props(&mut self, id: &str, props: &Map<String, Value>) -> bool {
        let copies = self.lookup_all(id);
        for i in &copies {
            let Some(slot) = self.objs.get_mut(*i as usize) else {
                continue;
            };
            let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(slot) else {
                continue;
            };
            for (k, v) in props {
                if k != "id" && !k.starts_with('@') {
                    obj.insert(k.clone(), v.clone());
                }
            }
            *slot = Value::Object(obj).to_string();
        }
        !copies.is_empty()
    }

    /// The current copy of a member.
    pub fn lookup(&self, id: &str) -> Option<u32> {
        self.index.get(&id.to_ascii_lowercase()).copied()
    }

    /// Every stored copy of a member.
    pub fn lookup_all(&self, id: &str) -> Vec<u32> {
        let id = id.to_ascii_lowercase();
        match self.variants.get(&id) {
            Some(v) => v.clone(),
            None => self.index.get(&id).copied().into_iter().collect(),
        }
    }
    pub fn get(&self, i: u32) -> Option<Value> {
        serde_json::from_str(self.objs.get(i as usize)?).ok()
    }
    pub fn id_of(&self, i: u32) -> Option<String> {
        self.get(i)?.get("id")?.as_str().map(str::to_string)
    }
    pub fn len(&self) -> usize {
        self.objs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.objs.is_empty()
    }
}

/// JSON text on one line: as is when it already is, re-serialized otherwise.
fn compact(text: &str) -> String {
    if text.contains(['\n', '\r']) {
        serde_json::from_str::<Value>(text)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| text.replace(['\n', '\r'], " "))
    } else {
        text.to_string()
    }
}

/// One group: its Graph object (without `members`) and its direct members.
#[derive(Debug, Clone)]
pub struct GroupRec {
    pub id: String,
    /// Compact JSON of the group object.
    pub json: String,
    /// `None` when members were not collected for this group.
    pub members: Option<Vec<u32>>,
}

/// True for groups no writeback target writes back whatever their members are: synced from AD,
/// cloud distribution lists and mail-enabled security groups. Collection skips their members.
pub fn members_irrelevant(obj: &Map<String, Value>) -> bool {
    let synced = obj.get("onPremisesSyncEnabled").and_then(Value::as_bool) == Some(true);
    let unified = obj
        .get("groupTypes")
        .and_then(Value::as_array)
        .is_some_and(|t| {
            t.iter().any(|x| {
                x.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Unified"))
            })
        });
    let mail = obj.get("mailEnabled").and_then(Value::as_bool) == Some(true);
    synced || (mail && !unified)
}

impl GroupRec {
    pub fn from_object(mut obj: Map<String, Value>) -> Option<GroupRec> {
        obj.remove("members");
        let id = obj.get("id")?.as_str()?.to_string();
        Some(GroupRec {
            id,
            json: Value::Object(obj).to_string(),
            members: None,
        })
    }
    pub fn object(&self) -> Map<String, Value> {
        match serde_json::from_str(&self.json) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

/// The tenant half of a bundle as collected.
#[derive(Debug, Default)]
pub struct Collected {
    pub tenant_id: Option<String>,
    pub collected_at: Option<String>,
    pub onprem: Option<Value>,
    pub settings: Option<Vec<Value>>,
    pub skus: Option<Vec<Value>>,
    pub groups: Option<Vec<GroupRec>>,
    pub deleted: Option<Vec<Value>>,
    pub incomplete: Vec<String>,
    pub delta_link: Option<String>,
    /// Bookmarks of `/users/delta` and `/devices/delta`, so members' own changes are seen too.
    pub users_delta_link: Option<String>,
    pub devices_delta_link: Option<String>,
    pub table: MemberTable,
}

impl Collected {
    pub fn mark_incomplete(&mut self, section: &str) {
        if !self.incomplete.iter().any(|s| s == section) {
            self.incomplete.push(section.to_string());
        }
    }

    /// Read a previous `tenant.json` document.
    pub fn from_value(doc: Value) -> Collected {
        let Value::Object(mut doc) = doc else {
            return Collected::default();
        };
        let mut c = Collected {
            tenant_id: doc
                .get("tenantId")
                .and_then(Value::as_str)
                .map(str::to_string),
            collected_at: doc
                .get("collectedAt")
                .and_then(Value::as_str)
                .map(str::to_string),
            onprem: doc
                .remove("onPremisesSynchronization")
                .filter(|v| !v.is_null()),
            settings: doc.remove("settings").and_then(|v| {
                if let Value::Array(a) = v {
                    Some(a)
                } else {
                    None
                }
            }),
            skus: doc.remove("subscribedSkus").and_then(|v| {
                if let Value::Array(a) = v {
                    Some(a)
                } else {
                    None
                }
            }),
            deleted: doc.remove("deletedGroups").and_then(|v| {
                if let Value::Array(a) = v {
                    Some(a)
                } else {
                    None
                }
            }),
            incomplete: doc
                .get("incompleteSections")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            delta_link: doc
                .get("groupsDeltaLink")
                .and_then(Value::as_str)
                .map(str::to_string),
            users_delta_link: doc
                .get("usersDeltaLink")
                .and_then(Value::as_str)
                .map(str::to_string),
            devices_delta_link: doc
                .get("devicesDeltaLink")
                .and_then(Value::as_str)
                .map(str::to_string),
            ..Collected::default()
        };
        if let Some(Value::Array(groups)) = doc.remove("groups") {
            let mut out = Vec::with_capacity(groups.len());
            for g in groups {
                let Value::Object(mut obj) = g else { continue };
                let members = obj.remove("members");
                let Some(mut rec) = GroupRec::from_object(obj) else {
                    continue;
                };
                if let Some(Value::Array(ms)) = members {
                    rec.members =
                        Some(ms.iter().filter_map(|m| c.table.intern(m, false)).collect());
                }
                out.push(rec);
            }
            c.groups = Some(out);
        }
        c
    }

    /// Read a previous `tenant.json` from its text without building the whole document:
    /// members stay raw JSON text and are stored once each.
    pub fn from_json_text(text: &str) -> Result<Collected, serde_json::Error> {
        let doc: PrevDoc<'_> = serde_json::from_str(text)?;
        let mut c = Collected {
            tenant_id: doc.tenant_id,
            collected_at: doc.collected_at,
            onprem: doc.on_premises_synchronization.filter(|v| !v.is_null()),
            settings: doc.settings,
            skus: doc.subscribed_skus,
            deleted: doc.deleted_groups,
            incomplete: doc.incomplete_sections,
            delta_link: doc.groups_delta_link,
            users_delta_link: doc.users_delta_link,
            devices_delta_link: doc.devices_delta_link,
            ..Collected::default()
        };
        if let Some(groups) = doc.groups {
            let mut out = Vec::with_capacity(groups.len());
            for g in groups {
                let mut obj = Map::new();
                let mut members: Option<Vec<&serde_json::value::RawValue>> = None;
                for (k, raw) in g.0 {
                    if k == "members" {
                        members = serde_json::from_str(raw.get())?;
                    } else {
                        obj.insert(k, serde_json::from_str(raw.get())?);
                    }
                }
                let Some(mut rec) = GroupRec::from_object(obj) else {
                    continue;
                };
                rec.members = members.map(|ms| {
                    ms.iter()
                        .filter_map(|m| c.table.intern_raw(m, false))
                        .collect()
                });
                out.push(rec);
            }
            c.groups = Some(out);
        }
        Ok(c)
    }

    /// The whole document as a JSON value (for small tenants and tests).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The AD objects LDAP discovery must resolve, derived exactly as `collect::member_refs`
    /// derives them, a slice of the tenant at a time.
    pub fn member_refs(&self) -> crate::ldap::MemberRefs {
        use crate::bundle::tenant::{Group, Member};
        let mut refs = crate::ldap::MemberRefs::default();
        let mut absorb =
            |doc: crate::bundle::TenantDoc| refs.extend(crate::bundle::member_refs(&doc));
        if let Some(groups) = &self.groups {
            for chunk in groups.chunks(5000) {
                let gs: Vec<Group> = chunk
                    .iter()
                    .filter_map(|g| serde_json::from_str::<Group>(&g.json).ok())
                    .collect();
                absorb(crate::bundle::TenantDoc {
                    groups: Some(gs),
                    ..Default::default()
                });
            }
        }
        let total = self.table.len();
        let mut start = 0usize;
        while start < total {
            let end = (start + 5000).min(total);
            let members: Vec<std::sync::Arc<Member>> = (start..end)
                .filter_map(|i| u32::try_from(i).ok())
                .filter_map(|i| self.table.objs.get(i as usize))
                .filter_map(|s| serde_json::from_str::<Member>(s).ok())
                .map(std::sync::Arc::new)
                .collect();
            let g = Group {
                id: String::new(),
                members: Some(members),
                ..Group::default()
            };
            absorb(crate::bundle::TenantDoc {
                groups: Some(vec![g]),
                ..Default::default()
            });
            start = end;
        }
        refs.normalize()
    }
}

fn indented(v: &impl Serialize, indent: &str) -> std::io::Result<String> {
    let text = serde_json::to_string_pretty(v).map_err(std::io::Error::other)?;
    Ok(text.replace('\n', &format!("\n{indent}")))
}

impl Collected {
    /// Write `tenant.json`: pretty-printed, each member object on one line (a million
    /// memberships stay fast to write and to diff). Same document as [`Collected::to_value`].
    pub fn write_json(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        let head = serde_json::to_value(CollectedHead(self)).map_err(std::io::Error::other)?;
        let Value::Object(head) = head else {
            return Err(std::io::Error::other("tenant document is not an object"));
        };
        w.write_all(b"{")?;
        let mut first = true;
        let mut key = |w: &mut dyn std::io::Write, k: &str| -> std::io::Result<()> {
            w.write_all(if first { b"\n  " } else { b",\n  " })?;
            first = false;
            let name = serde_json::to_string(k).map_err(std::io::Error::other)?;
            write!(w, "{name}: ")
        };
        for (k, v) in &head {
            if k == "groups" {
                let Some(groups) = &self.groups else { continue };
                key(w, "groups")?;
                w.write_all(b"[")?;
                for (i, g) in groups.iter().enumerate() {
                    w.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
                    let text = indented(&Value::Object(g.object()), "    ")?;
                    match &g.members {
                        None => w.write_all(text.as_bytes())?,
                        Some(ids) => {
                            let body = text
                                .strip_suffix("\n    }")
                                .unwrap_or(text.trim_end_matches('}'));
                            w.write_all(body.as_bytes())?;
                            w.write_all(if body.ends_with('{') {
                                b"\n      \"members\": ["
                            } else {
                                b",\n      \"members\": ["
                            })?;
                            let mut n = 0usize;
                            for &m in ids {
                                if let Some(obj) = self.table.objs.get(m as usize) {
                                    w.write_all(if n == 0 {
                                        b"\n        "
                                    } else {
                                        b",\n        "
                                    })?;
                                    w.write_all(obj.as_bytes())?;
                                    n += 1;
                                }
                            }
                            w.write_all(if n == 0 {
                                b"]\n    }"
                            } else {
                                b"\n      ]\n    }"
                            })?;
                        }
                    }
                }
                w.write_all(if groups.is_empty() { b"]" } else { b"\n  ]" })?;
            } else {
                key(w, k)?;
                w.write_all(indented(v, "  ")?.as_bytes())?;
            }
        }
        w.write_all(if first { b"}\n" } else { b"\n}\n" })
    }
}

/// Everything but the groups' content (a placeholder keeps the key order).
struct CollectedHead<'a>(&'a Collected);

impl Serialize for CollectedHead<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("format", TENANT_FORMAT)?;
        if let Some(t) = &c.tenant_id {
            map.serialize_entry("tenantId", t)?;
        }
        if let Some(t) = &c.collected_at {
            map.serialize_entry("collectedAt", t)?;
        }
        if let Some(o) = &c.onprem {
            map.serialize_entry("onPremisesSynchronization", o)?;
        }
        if let Some(v) = &c.settings {
            map.serialize_entry("settings", v)?;
        }
        if let Some(v) = &c.skus {
            map.serialize_entry("subscribedSkus", v)?;
        }
        if c.groups.is_some() {
            map.serialize_entry("groups", &Value::Null)?;
        }
        if let Some(v) = &c.deleted {
            map.serialize_entry("deletedGroups", v)?;
        }
        if !c.incomplete.is_empty() {
            map.serialize_entry("incompleteSections", &c.incomplete)?;
        }
        if let Some(l) = &c.delta_link {
            map.serialize_entry("groupsDeltaLink", l)?;
        }
        if let Some(l) = &c.users_delta_link {
            map.serialize_entry("usersDeltaLink", l)?;
        }
        if let Some(l) = &c.devices_delta_link {
            map.serialize_entry("devicesDeltaLink", l)?;
        }
        map.end()
    }
}

/// `tenant.json` as read back for an incremental collection.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PrevDoc<'a> {
    tenant_id: Option<String>,
    collected_at: Option<String>,
    on_premises_synchronization: Option<Value>,
    settings: Option<Vec<Value>>,
    subscribed_skus: Option<Vec<Value>>,
    #[serde(borrow)]
    groups: Option<Vec<PrevGroup<'a>>>,
    deleted_groups: Option<Vec<Value>>,
    #[serde(default)]
    incomplete_sections: Vec<String>,
    groups_delta_link: Option<String>,
    users_delta_link: Option<String>,
    devices_delta_link: Option<String>,
}

/// A group's properties in document order, each still raw JSON text.
struct PrevGroup<'a>(Vec<(String, &'a serde_json::value::RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for PrevGroup<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = PrevGroup<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a group object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    let v: &'de serde_json::value::RawValue = map.next_value()?;
                    fields.push((k, v));
                }
                Ok(PrevGroup(fields))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

struct GroupOut<'a> {
    g: &'a GroupRec,
    table: &'a MemberTable,
}

struct MembersOut<'a> {
    ids: &'a [u32],
    table: &'a MemberTable,
}

impl Serialize for MembersOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.ids.len()))?;
        for &i in self.ids {
            if let Some(v) = self.table.get(i) {
                seq.serialize_element(&v)?;
            }
        }
        seq.end()
    }
}

impl Serialize for GroupOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let obj = self.g.object();
        let mut map = s.serialize_map(None)?;
        for (k, v) in &obj {
            map.serialize_entry(k, v)?;
        }
        if let Some(ids) = &self.g.members {
            map.serialize_entry(
                "members",
                &MembersOut {
                    ids,
                    table: self.table,
                },
            )?;
        }
        map.end()
    }
}

struct GroupsOut<'a>(&'a [GroupRec], &'a MemberTable);

impl Serialize for GroupsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for g in self.0 {
            seq.serialize_element(&GroupOut { g, table: self.1 })?;
        }
        seq.end()
    }
}

impl Serialize for Collected {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("format", TENANT_FORMAT)?;
        if let Some(t) = &self.tenant_id {
            map.serialize_entry("tenantId", t)?;
        }
        if let Some(t) = &self.collected_at {
            map.serialize_entry("collectedAt", t)?;
        }
        if let Some(o) = &self.onprem {
            map.serialize_entry("onPremisesSynchronization", o)?;
        }
        if let Some(v) = &self.settings {
            map.serialize_entry("settings", v)?;
        }
        if let Some(v) = &self.skus {
            map.serialize_entry("subscribedSkus", v)?;
        }
        if let Some(g) = &self.groups {
            map.serialize_entry("groups", &GroupsOut(g, &self.table))?;
        }
        if let Some(v) = &self.deleted {
            map.serialize_entry("deletedGroups", v)?;
        }
        if !self.incomplete.is_empty() {
            map.serialize_entry("incompleteSections", &self.incomplete)?;
        }
        if let Some(l) = &self.delta_link {
            map.serialize_entry("groupsDeltaLink", l)?;
        }
        if let Some(l) = &self.users_delta_link {
            map.serialize_entry("usersDeltaLink", l)?;
        }
        if let Some(l) = &self.devices_delta_link {
            map.serialize_entry("devicesDeltaLink", l)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_shares_members() {
        let doc = json!({
            "format": TENANT_FORMAT, "tenantId": "t",
            "groups": [
                {"id": "g1", "displayName": "A", "futureProperty": {"x": 1}, "members": [{"@odata.type": "#microsoft.graph.user", "id": "u1", "onPremisesSecurityIdentifier": "S-1-5-21-1-2-3-1001"}]},
                {"id": "g2", "members": [{"@odata.type": "#microsoft.graph.user", "id": "u1", "onPremisesSecurityIdentifier": "S-1-5-21-1-2-3-1001"}]},
                {"id": "g3"}
            ],
            "incompleteSections": ["settings"],
            "groupsDeltaLink": "http://x/beta/groups/delta?$deltatoken=a"
        });
        let c = Collected::from_value(doc.clone());
        assert_eq!(c.table.len(), 1);
        let mut t = MemberTable::default();
        let a = t.intern(&json!({"id": "X", "n": 1}), false).unwrap();
        let b = t.intern(&json!({"id": "x", "n": 2}), false).unwrap();
        assert_ne!(a, b, "differing copies are both kept");
        assert_eq!(t.intern(&json!({"id": "x", "n": 2}), false), Some(b));
        assert_eq!(t.lookup_all("X"), vec![a, b]);
        assert_eq!(t.intern(&json!({"id": "x", "n": 3}), true), Some(a));
        let from_text =
            Collected::from_json_text(&serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        assert_eq!(from_text.to_value(), c.to_value());
        assert!(Collected::from_json_text(r#"{"groups": [1]}"#).is_err());
        let back = c.to_value();
        assert_eq!(back["groups"][0], doc["groups"][0]);
        assert_eq!(back["groups"][1]["members"][0]["id"], "u1");
        assert!(back["groups"][2].get("members").is_none());
        assert_eq!(back["incompleteSections"], json!(["settings"]));
        assert_eq!(back["groupsDeltaLink"], doc["groupsDeltaLink"]);
        let refs = c.member_refs();
        assert_eq!(refs.sids, vec!["S-1-5-21-1-2-3-1001".to_string()]);
        let mut out = Vec::new();
        c.write_json(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), back);
        assert!(
            text.contains("\n        {\"@odata.type\":\"#microsoft.graph.user\",\"id\":\"u1\""),
            "{text}"
        );
        let empty = Collected {
            groups: Some(vec![GroupRec {
                id: "g".into(),
                json: r#"{"id":"g"}"#.into(),
                members: Some(vec![]),
            }]),
            ..Collected::default()
        };
        let mut out = Vec::new();
        empty.write_json(&mut out).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&out).unwrap(),
            empty.to_value()
        );
    }
}
