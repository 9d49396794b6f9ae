//! Content addressing of saved plans, for change approval: the SHA-256 of a plan over its
//! canonical serialisation, the per-part digests that name the first difference when a plan
//! was changed after it was made, and the check `gwb show` and `gwb apply` run before
//! anything else.
//!
//! The canonical serialisation of a `gwb-plan/1` plan is its compact JSON (no insignificant
//! whitespace) in the model's field order, with the top-level `sha256` field left out. Two
//! files with the same content have the same digest whatever their indentation or key order,
//! as the digest is recomputed from the plan as read. Each group carries the digest of its own
//! canonical JSON (its `sha256` left out) and `sectionSha256` those of the other parts, so a
//! changed plan is refused naming the part that differs; the summary is derived from the
//! actions whenever a plan is read.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::model::{Plan, PlannedGroup, Summary};

/// A `Write` that feeds a SHA-256: a plan of a million member changes is hashed without being
/// held as text.
struct Hasher(aws_lc_rs::digest::Context);

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Lower-case hex SHA-256 of a value's compact JSON.
pub fn canonical_sha256<T: Serialize + ?Sized>(v: &T) -> String {
    let mut h = Hasher(aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256));
    // Writing into a hasher cannot fail, and the model serialises without error (no maps
    // with non-string keys): an error would leave a digest no plan matches, never a panic.
    if let Err(e) = serde_json::to_writer(&mut h, v) {
        tracing::debug!("serialising for a digest: {e}");
    }
    h.0.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The digest of one group, its own `sha256` left out (taken out and put back: a group of a
/// million member changes is not copied).
fn group_sha256(g: &mut PlannedGroup) -> String {
    let kept = g.sha256.take();
    let d = canonical_sha256(g);
    g.sha256 = kept;
    d
}

/// The parts of a plan outside its groups, by the name a difference is reported under.
fn sections(p: &Plan) -> BTreeMap<String, String> {
    let header = (&p.format, &p.gwb_version, &p.created_at);
    let mut m = BTreeMap::new();
    m.insert(
        "format, gwbVersion, createdAt".to_string(),
        canonical_sha256(&header),
    );
    m.insert("policy".into(), canonical_sha256(&p.policy));
    m.insert("inputs".into(), canonical_sha256(&p.inputs));
    m.insert("targetOu".into(), canonical_sha256(&p.target_ou));
    m.insert("safety".into(), canonical_sha256(&p.safety));
    m.insert("unowned".into(), canonical_sha256(&p.unowned));
    m
}

/// The digest of the whole plan, its top-level `sha256` left out (taken out and put back).
pub fn plan_sha256(p: &mut Plan) -> String {
    let kept = p.sha256.take();
    let d = canonical_sha256(p);
    p.sha256 = kept;
    d
}

impl Plan {
    /// Compute and store every digest (the groups', the sections' and the plan's). The summary
    /// is derived from the actions first.
    pub fn seal(&mut self) {
        self.summary = Summary::of(&self.groups);
        for g in &mut self.groups {
            g.sha256 = Some(group_sha256(g));
        }
        self.section_sha256 = sections(self);
        self.sha256 = Some(plan_sha256(self));
    }

    /// The first difference between this plan as read and the plan as it was made, or `None`
    /// when it is intact. Checks the summary against the actions, each group against its
    /// digest, each section, then the whole.
    pub fn first_difference(&mut self) -> Option<String> {
        let Some(sealed) = self.sha256.clone() else {
            return Some(
                "the plan carries no sha256, so it cannot be checked: make it again with gwb plan --out FILE".into(),
            );
        };
        let derived = Summary::of(&self.groups);
        let summary =
            (derived != self.summary).then(|| summary_difference(&self.summary, &derived));
        for (i, g) in self.groups.iter_mut().enumerate() {
            let now = group_sha256(g);
            if g.sha256.as_deref() != Some(now.as_str()) {
                return Some(format!(
                    "$.groups[{i}] ({:?}, {}, action {}) is not the group that was planned (its content no longer matches its sha256){}",
                    g.display_name,
                    g.id,
                    g.action.as_str(),
                    summary.map(|s| format!("; {s}")).unwrap_or_default()
                ));
            }
        }
        if let Some(s) = summary {
            return Some(s);
        }
        let now = sections(self);
        for (name, d) in &now {
            if self.section_sha256.get(name) != Some(d) {
                return Some(format!(
                    "{name}: changed after the plan was made (its sha256 no longer matches)"
                ));
            }
        }
        let whole = plan_sha256(self);
        if whole != sealed {
            return Some(format!(
                "the plan's content has sha256 {whole}, not the {sealed} it was made with (a group was added, removed or reordered)"
            ));
        }
        None
    }
}

/// Which summary count differs from the actions.
fn summary_difference(file: &Summary, derived: &Summary) -> String {
    let f = serde_json::to_value(file).unwrap_or_default();
    let d = serde_json::to_value(derived).unwrap_or_default();
    if let (Some(f), Some(d)) = (f.as_object(), d.as_object()) {
        for (k, dv) in d {
            if f.get(k) != Some(dv) {
                return format!(
                    "$.summary.{k} says {}, but the plan's actions give {dv}",
                    f.get(k).map_or("nothing".into(), |v| v.to_string())
                );
            }
        }
    }
    "$.summary does not match the plan's actions".into()
}

/// A JSON value serialised with every object's keys sorted: the canonical form of documents
/// that are digested as read (tenant plans), whatever the key order of the file.
struct Sorted<'a>(&'a serde_json::Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            serde_json::Value::Object(o) => {
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort();
                let mut m = s.serialize_map(Some(keys.len()))?;
                for k in keys {
                    m.serialize_entry(k, &Sorted(&o[k]))?;
                }
                m.end()
            }
            serde_json::Value::Array(a) => {
                let mut q = s.serialize_seq(Some(a.len()))?;
                for x in a {
                    q.serialize_element(&Sorted(x))?;
                }
                q.end()
            }
            v => v.serialize(s),
        }
    }
}

/// SHA-256 of a JSON value's canonical form (keys sorted, compact).
pub fn value_sha256(v: &serde_json::Value) -> String {
    canonical_sha256(&Sorted(v))
}

/// Digests of a document's parts: each top-level field, and each element of a top-level list
/// as `name[i]` (a plan's changes are named one by one), plus `name[]` for its length.
fn parts_of(o: &serde_json::Map<String, serde_json::Value>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for (k, v) in o {
        if k == "sha256" || k == "sectionSha256" {
            continue;
        }
        match v {
            serde_json::Value::Array(a) => {
                m.insert(format!("{k}[]"), canonical_sha256(&a.len()));
                for (i, x) in a.iter().enumerate() {
                    m.insert(format!("{k}[{i}]"), value_sha256(x));
                }
            }
            _ => {
                m.insert(k.clone(), value_sha256(v));
            }
        }
    }
    m
}

/// Seal a document held as JSON: its part digests (`sectionSha256`) and its digest
/// (`sha256`, over the canonical form without that field).
pub fn seal_value(v: &mut serde_json::Value) {
    let Some(o) = v.as_object_mut() else { return };
    o.remove("sha256");
    let parts = parts_of(o);
    o.insert(
        "sectionSha256".into(),
        serde_json::to_value(parts).unwrap_or_default(),
    );
    let whole = value_sha256(v);
    if let Some(o) = v.as_object_mut() {
        o.insert("sha256".into(), whole.into());
    }
}

/// The first difference between a sealed document as read and as it was sealed (`None` when
/// intact); `remake` says how to make it again when it carries no digest.
pub fn first_value_difference(v: &serde_json::Value, remake: &str) -> Option<String> {
    let o = v.as_object()?;
    let Some(sealed) = o.get("sha256").and_then(serde_json::Value::as_str) else {
        return Some(format!(
            "refused: the plan carries no sha256 (made by an older gwb, or the field was removed), so it cannot be shown to be the plan that was made: make it again with {remake}"
        ));
    };
    let recorded: BTreeMap<String, String> = o
        .get("sectionSha256")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    let now = parts_of(o);
    if let Some(d) = first_part_difference(&recorded, &now) {
        return Some(format!(
            "refused: the plan was changed after it was made: {d}"
        ));
    }
    let mut rest = o.clone();
    rest.remove("sha256");
    let whole = value_sha256(&serde_json::Value::Object(rest));
    (whole != sealed).then(|| {
        format!(
            "refused: the plan was changed after it was made: its content has sha256 {whole}, not the {sealed} it was made with"
        )
    })
}

/// The first part whose digest differs between the sealed and the recomputed digests.
fn first_part_difference(
    sealed: &BTreeMap<String, String>,
    now: &BTreeMap<String, String>,
) -> Option<String> {
    for (k, d) in now {
        match sealed.get(k) {
            Some(s) if s == d => {}
            Some(_) if k.ends_with("[]") => {
                return Some(format!(
                    "$.{}: entries were added or removed",
                    &k[..k.len() - 2]
                ));
            }
            Some(_) => return Some(format!("$.{k} is not what was planned")),
            None => return Some(format!("$.{k} was added after the plan was made")),
        }
    }
    sealed
        .keys()
        .find(|k| !now.contains_key(*k))
        .map(|k| format!("$.{k} was removed after the plan was made"))
}

#[cfg(test)]
mod tests {
    use crate::plan::model::Plan;

    fn contoso_plan() -> Plan {
        let snap = crate::snapshot::load_dir(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/contoso"),
            &[],
        )
        .expect("fixture");
        let prepared = crate::core::inputs::prepare(&snap, None).expect("prepared");
        let fp = crate::plan::model::Fingerprint {
            source: crate::plan::model::InputSource::Snapshot,
            location: None,
            sha256: None,
        };
        let opts = crate::plan::PlanOptions {
            policy: Default::default(),
            inputs: crate::plan::model::PlanInputs {
                tenant_id: None,
                tenant: fp.clone(),
                ad: fp,
            },
            created_at: "2026-12-01T00:00:00Z".into(),
            partial_evidence: None,
            graph_absent: None,
        };
        crate::plan::diff::build(&snap, &prepared, &opts).expect("plan")
    }

    #[test]
    fn a_sealed_plan_read_back_in_any_layout_is_intact() {
        let p = contoso_plan();
        assert!(p.sha256.as_ref().is_some_and(|d| d.len() == 64));
        for text in [
            serde_json::to_string_pretty(&p).expect("json"),
            serde_json::to_string(&p).expect("json"),
        ] {
            let mut back = Plan::from_json(&text, "p.json").expect("plan");
            assert_eq!(back.first_difference(), None);
            assert_eq!(back.sha256, p.sha256);
        }
    }

    #[test]
    fn every_kind_of_edit_is_named() {
        let p = contoso_plan();
        let mut q = p.clone();
        q.created_at = "2020-01-01T00:00:00Z".into();
        assert!(
            q.first_difference()
                .is_some_and(|d| d.starts_with("format, gwbVersion, createdAt")),
        );
        let mut q = p.clone();
        q.groups.swap(0, 1);
        assert!(
            q.first_difference()
                .is_some_and(|d| d.contains("reordered"))
        );
        let mut q = p.clone();
        q.groups[3].detail.push('!');
        assert!(
            q.first_difference()
                .is_some_and(|d| d.starts_with("$.groups[3]"))
        );
        let mut q = p;
        q.summary.member_removes += 1;
        assert!(
            q.first_difference()
                .is_some_and(|d| d.starts_with("$.summary.memberRemoves says"))
        );
    }
}
