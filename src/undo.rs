//! `gwb undo JOURNAL`: the inverse of an apply run, as an ordinary `gwb-plan/1` plan built
//! from the run's journal (pure), rendered like any plan and carried out by `gwb apply`.
//! Created groups are deleted, deleted groups re-created with their recorded attributes and
//! members (a new objectSid: the AD Recycle Bin is the true restore), renamed groups renamed
//! back, member adds and removes inverted, attribute changes restored. The undo of an undo
//! gives back the original state, because applying the inverse plan writes a journal too.
//! Each object's uSNChanged as the run left it (the journal's summary) goes into the inverse
//! plan, so `gwb apply` refuses the undo of an object changed since, naming it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::ad::Dn;
use crate::apply::journal::{self, BeginRecord, Outcome, Record, RunRecord, SummaryRecord};
use crate::core::GroupReason;
use crate::plan::model::{
    Action, AttrChange, AttrValue, CurrentObject, DeleteProofState, Fingerprint, InputSource,
    MemberChanges, PLAN_FORMAT, Plan, PlanInputs, PlanPolicy, PlannedGroup, Safety, StampSource,
    Summary, TargetOu, TargetOuSource,
};

/// Arguments of `gwb undo`.
#[derive(Debug, Clone, clap::Args)]
pub struct UndoArgs {
    /// The journal of the apply run to undo (a .jsonl file), or a journal directory: its
    /// newest journal.
    #[arg(value_name = "JOURNAL")]
    pub journal: PathBuf,
    /// Save the inverse plan to FILE (then: gwb apply FILE).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// How to print the inverse plan (default: table, on a terminal and through a pipe).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<crate::plan::args::PlanFormat>,
    /// Also list unchanged groups.
    #[arg(long)]
    pub show_unchanged: bool,
}

pub const UNDO_LONG: &str = "\
Reads the journal an apply run wrote (gwb-journal/1) and builds the plan that reverses it:
groups the run created are deleted, groups it deleted are re-created with the attributes and
members recorded before the delete, renamed groups get their old CN back, member adds and
removes are inverted and changed attributes restored. The plan is an ordinary gwb-plan/1 plan:
review it, save it with --out, and apply it with gwb apply (every safety rule of apply holds,
including the deletion threshold). Undoing the undo's own journal gives back the first state.

A re-created group is a new object with a new objectSid and objectGUID: permissions granted to
the old SID do not come back. For a true restore use the AD Recycle Bin
(Get-ADObject -IncludeDeletedObjects … | Restore-ADObject) instead.

Writes whose journal record has no end (a crash mid-write) are included and flagged: apply
confirms each by a re-read.

Examples:
  gwb undo gwb-journal/20261201T101500.123Z.jsonl --out undo.json
  gwb apply undo.json --ldap-url ldaps://dc1.corp.example.com --bind-dn 'CORP\\svc-gwb'
  gwb undo gwb-journal/ --format json     # the newest journal";

/// Pick the journal: the file itself, or the newest `*.jsonl` of a directory.
pub fn resolve_journal(p: &Path) -> anyhow::Result<PathBuf> {
    if !p.exists() {
        anyhow::bail!(
            "{}: no such file or directory: give a journal gwb apply wrote, or its directory (gwb-journal/ by default)",
            p.display()
        );
    }
    if !p.is_dir() {
        return Ok(p.to_path_buf());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|f| f.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    files
        .pop()
        .ok_or_else(|| anyhow::anyhow!("{}: no journal (*.jsonl) in this directory", p.display()))
}

/// What one run did to one group, folded over its journal records.
#[derive(Debug, Default)]
struct Folded {
    id: String,
    /// The DN before the run's first write.
    first_dn: Option<String>,
    /// The DN after the run's last write.
    final_dn: Option<String>,
    guid: Option<Uuid>,
    created: bool,
    deleted: Option<BeginRecord>,
    /// attr -> (values before the first change, values after the last change)
    attrs: BTreeMap<String, (Vec<String>, Vec<String>)>,
    added: Vec<String>,
    removed: Vec<String>,
    display_name: Option<String>,
    unfinished: usize,
    /// The run adopted a converted group's original AD object.
    adopted: bool,
}

fn key(dn: &str) -> String {
    Dn::parse(dn)
        .map(|d| d.key())
        .unwrap_or_else(|_| dn.to_ascii_lowercase())
}

fn toggle(into: &mut Vec<String>, from: &mut Vec<String>, v: &str) {
    let k = key(v);
    if let Some(i) = from.iter().position(|x| key(x) == k) {
        from.remove(i);
    } else if !into.iter().any(|x| key(x) == k) {
        into.push(v.to_string());
    }
}

fn fold(records: &[Record]) -> Vec<Folded> {
    let ends: HashMap<u64, &journal::EndRecord> = records
        .iter()
        .filter_map(|r| match r {
            Record::End(e) => Some((e.seq, e)),
            _ => None,
        })
        .collect();
    let mut order: Vec<String> = Vec::new();
    let mut by: HashMap<String, Folded> = HashMap::new();
    for r in records {
        let Record::Begin(b) = r else { continue };
        let end = ends.get(&b.seq);
        let unfinished = end.is_none();
        if end.is_some_and(|e| e.outcome != Outcome::Applied) {
            continue; // failed, or already in effect before this run
        }
        let id = b.group_id.to_ascii_lowercase();
        let f = by.entry(id.clone()).or_insert_with(|| {
            order.push(id.clone());
            Folded {
                id: id.clone(),
                ..Folded::default()
            }
        });
        if unfinished {
            f.unfinished += 1;
        }
        f.adopted |= b.adopted;
        if f.first_dn.is_none() {
            f.first_dn = Some(b.dn.clone());
        }
        f.guid = f.guid.or(b.object_guid).or(end.and_then(|e| e.object_guid));
        for c in &b.changes {
            if c.attr.eq_ignore_ascii_case("displayName")
                && let Some(v) = c
                    .after
                    .as_ref()
                    .or(c.before.as_ref())
                    .and_then(|v| v.first())
            {
                f.display_name = Some(v.clone());
            }
        }
        match b.op.as_str() {
            "add" => {
                f.created = true;
                f.final_dn = Some(b.dn.clone());
            }
            "modrdn" => {
                f.final_dn = b.new_dn.clone().or(Some(b.dn.clone()));
            }
            "delete" => {
                f.deleted = Some(b.clone());
                f.final_dn = None;
            }
            _ => {
                if f.final_dn.is_none() {
                    f.final_dn = Some(b.dn.clone());
                }
                for c in &b.changes {
                    if c.attr.eq_ignore_ascii_case("member") {
                        for v in &c.values {
                            if c.kind == "delete" {
                                toggle(&mut f.removed, &mut f.added, v);
                            } else {
                                toggle(&mut f.added, &mut f.removed, v);
                            }
                        }
                        continue;
                    }
                    let e = f
                        .attrs
                        .entry(c.attr.clone())
                        .or_insert_with(|| (c.before.clone().unwrap_or_default(), vec![]));
                    e.1 = c.after.clone().unwrap_or_default();
                }
            }
        }
    }
    order.into_iter().filter_map(|id| by.remove(&id)).collect()
}

fn value(attr: &str, v: &[String]) -> Option<AttrValue> {
    match v {
        [] => None,
        [one] if !crate::core::desired::is_multi_valued(attr) => Some(AttrValue::One(one.clone())),
        many => Some(AttrValue::Many(many.to_vec())),
    }
}

fn rdn(dn: &str) -> Option<String> {
    Dn::parse(dn)
        .ok()
        .and_then(|d| d.rdn_value().map(str::to_string))
}

/// Attributes a re-created object must not be given (set by AD, or carried by the DN).
const NOT_RECREATED: &[&str] = &["cn", "objectclass", "objectguid", "usnchanged", "member"];

/// uSNChanged of the objects a run left, by objectGUID (its summary record; empty when the
/// run did not finish or predates the record).
type AfterUsn = HashMap<Uuid, u64>;

fn invert(f: Folded, journal_name: &str, after: &AfterUsn) -> Option<PlannedGroup> {
    let mut unfinished = if f.unfinished > 0 {
        format!(
            "; {} write(s) of the run have no end record (interrupted): apply confirms them by a re-read",
            f.unfinished
        )
    } else {
        String::new()
    };
    // The object as the run left it: apply refuses the undo when it changed since.
    let usn_changed = f.guid.and_then(|g| after.get(&g).copied());
    if usn_changed.is_none() && !(f.created && f.deleted.is_some()) && f.deleted.is_none() {
        unfinished.push_str(
            "; the journal records no uSNChanged after the run (it did not finish): apply cannot tell whether the object changed since",
        );
    }
    let display_name = f.display_name.clone().unwrap_or_else(|| f.id.clone());
    let stamp = StampSource::AdminDescription;
    if f.created && f.deleted.is_some() {
        return None; // created and deleted by the same run: nothing to undo
    }
    if f.created {
        let dn = f.final_dn.clone()?;
        return Some(PlannedGroup {
            id: f.id,
            display_name,
            action: Action::Delete,
            reason: GroupReason::Eligible,
            detail: format!("created by the run in {journal_name}: deleted{unfinished}"),
            dn: None,
            cn: rdn(&dn),
            group_type: None,
            current: Some(CurrentObject {
                dn,
                object_guid: f.guid,
                usn_changed,
                stamp,
            }),
            attributes: BTreeMap::new(),
            members: MemberChanges::default(),
            delete_proof: None,
            sha256: None,
        });
    }
    if let Some(del) = &f.deleted {
        let dn = f.first_dn.clone().unwrap_or_else(|| del.dn.clone());
        let mut attrs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut members: Vec<String> = Vec::new();
        for c in &del.changes {
            if c.attr.eq_ignore_ascii_case("member") {
                members.extend(c.values.iter().cloned());
            } else if !NOT_RECREATED.contains(&c.attr.to_ascii_lowercase().as_str()) {
                attrs.insert(c.attr.clone(), c.before.clone().unwrap_or_default());
            }
        }
        // Earlier writes of the same run: back to the values before them.
        for (a, (before, _)) in &f.attrs {
            attrs.insert(a.clone(), before.clone());
        }
        let mut none = Vec::new();
        for v in &f.added {
            toggle(&mut none, &mut members, v);
        }
        for v in &f.removed {
            if !members.iter().any(|m| key(m) == key(v)) {
                members.push(v.clone());
            }
        }
        let group_type = attrs
            .get("groupType")
            .and_then(|v| v.first())
            .and_then(|s| s.trim().parse::<i32>().ok());
        let attributes = attrs
            .iter()
            .filter_map(|(a, v)| {
                value(a, v).map(|after| {
                    (
                        a.clone(),
                        AttrChange {
                            before: None,
                            after: Some(after),
                        },
                    )
                })
            })
            .collect();
        return Some(PlannedGroup {
            id: f.id,
            display_name,
            action: Action::Create,
            reason: GroupReason::Eligible,
            detail: format!(
                "deleted by the run in {journal_name}: re-created with its recorded attributes and members. \
                 The new object has a new objectSid and objectGUID; to keep the old SID and its permissions, \
                 restore the object from the AD Recycle Bin instead (Restore-ADObject){unfinished}"
            ),
            cn: rdn(&dn),
            dn: Some(dn),
            group_type,
            current: None,
            attributes,
            members: MemberChanges {
                add: members,
                ..MemberChanges::default()
            },
            delete_proof: None,
            sha256: None,
        });
    }
    let first = f.first_dn.clone()?;
    let last = f.final_dn.clone().unwrap_or_else(|| first.clone());
    let renamed = key(&first) != key(&last);
    let attributes: BTreeMap<String, AttrChange> = f
        .attrs
        .iter()
        .filter(|(_, (b, a))| b != a)
        .map(|(n, (b, a))| {
            (
                n.clone(),
                AttrChange {
                    before: value(n, a),
                    after: value(n, b),
                },
            )
        })
        .collect();
    if !renamed && attributes.is_empty() && f.added.is_empty() && f.removed.is_empty() {
        return None;
    }
    let what = if renamed {
        format!("renamed by the run in {journal_name}: renamed back")
    } else if f.adopted {
        format!(
            "adopted by the run in {journal_name} (a converted group's original AD object): its members and attributes restored as they were"
        )
    } else {
        format!("changed by the run in {journal_name}: restored")
    };
    Some(PlannedGroup {
        id: f.id,
        display_name,
        action: if renamed {
            Action::Rename
        } else {
            Action::Update
        },
        // An adopted object lives outside the target OU: apply accepts it only as an adoption.
        reason: if f.adopted {
            GroupReason::SoaConverted
        } else {
            GroupReason::Eligible
        },
        detail: format!("{what}{unfinished}"),
        cn: rdn(&first),
        dn: Some(first),
        group_type: None,
        current: Some(CurrentObject {
            dn: last,
            object_guid: f.guid,
            usn_changed,
            stamp,
        }),
        attributes,
        members: MemberChanges {
            add: f.removed,
            remove: f.added,
            ..MemberChanges::default()
        },
        delete_proof: None,
        sha256: None,
    })
}

/// The inverse plan of a journal's records. Pure.
pub fn inverse_plan(records: &[Record], journal_path: &str, created_at: &str) -> Plan {
    let run: Option<&RunRecord> = records.iter().find_map(|r| match r {
        Record::Run(r) => Some(r),
        _ => None,
    });
    let name = Path::new(journal_path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| journal_path.to_string());
    let after: AfterUsn = records
        .iter()
        .filter_map(|r| match r {
            Record::Summary(SummaryRecord { after, .. }) => Some(after),
            _ => None,
        })
        .flatten()
        .map(|a| (a.object_guid, a.usn_changed))
        .collect();
    let mut groups: Vec<PlannedGroup> = fold(records)
        .into_iter()
        .filter_map(|f| invert(f, &name, &after))
        .collect();
    groups.sort_by(|a, b| {
        crate::text::natural_cmp(
            &a.display_name.to_lowercase(),
            &b.display_name.to_lowercase(),
        )
        .then_with(|| a.id.cmp(&b.id))
    });
    let deletes = groups.iter().filter(|g| g.action == Action::Delete).count();
    let mut plan = Plan {
        format: PLAN_FORMAT.to_string(),
        gwb_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: created_at.to_string(),
        policy: PlanPolicy::default(),
        inputs: PlanInputs {
            tenant_id: None,
            tenant: Fingerprint {
                source: InputSource::None,
                location: Some(format!("undo of {journal_path}")),
                sha256: run.map(|r| r.plan_sha256.clone()),
            },
            ad: Fingerprint {
                source: InputSource::None,
                location: run.map(|r| r.dc.clone()),
                sha256: None,
            },
        },
        target_ou: TargetOu {
            dn: run.map(|r| r.target_ou.clone()).unwrap_or_default(),
            object_guid: None,
            source: TargetOuSource::Flag,
            exists: Some(true),
        },
        safety: Safety {
            delete_proof: DeleteProofState {
                complete: true,
                detail: Some(format!(
                    "undo of {name}: deletes only the {deletes} group(s) that run created"
                )),
                graph_checked: false,
            },
            refusals: Vec::new(),
        },
        summary: Summary::of(&groups),
        groups,
        unowned: Vec::new(),
        section_sha256: Default::default(),
        sha256: None,
    };
    plan.seal();
    plan
}

/// Build the inverse plan of the journal named by the arguments.
pub fn plan_from_args(args: &UndoArgs) -> anyhow::Result<Plan> {
    let path = resolve_journal(&args.journal)?;
    let records = journal::read(&path)?;
    Ok(inverse_plan(
        &records,
        &path.display().to_string(),
        &crate::collect::now_rfc3339(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::journal::{AttrRecord, EndRecord};

    const OU: &str = "OU=WB,DC=lab";

    fn run() -> Record {
        Record::Run(RunRecord {
            format: journal::JOURNAL_FORMAT.into(),
            gwb_version: "0.1.0".into(),
            started_at: "t".into(),
            plan_path: None,
            plan_sha256: "ab".into(),
            target_ou: OU.into(),
            dc: "ldaps://dc".into(),
        })
    }

    fn begin(seq: u64, op: &str, id: &str, dn: &str, changes: Vec<AttrRecord>) -> Record {
        Record::Begin(BeginRecord {
            seq,
            at: "t".into(),
            op: op.into(),
            group_id: id.into(),
            dn: dn.into(),
            new_dn: None,
            object_guid: Some(Uuid::from_u128(seq as u128)),
            changes,
            adopted: false,
        })
    }

    fn end(seq: u64, outcome: Outcome) -> Record {
        Record::End(EndRecord {
            seq,
            at: "t".into(),
            outcome,
            object_guid: Some(Uuid::from_u128(seq as u128)),
            rc: None,
            error: None,
            attempts: 1,
        })
    }

    fn attr(
        a: &str,
        kind: &str,
        before: Option<&[&str]>,
        after: Option<&[&str]>,
        values: &[&str],
    ) -> AttrRecord {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        AttrRecord {
            attr: a.into(),
            kind: kind.into(),
            before: before.map(v),
            after: after.map(v),
            values: v(values),
        }
    }

    #[test]
    fn every_kind_of_write_is_inverted() {
        let a = "CN=Group_a,OU=WB,DC=lab";
        let b = "CN=Group_b,OU=WB,DC=lab";
        let c = "CN=Old C,OU=WB,DC=lab";
        let d = "CN=Group_d,OU=WB,DC=lab";
        let mut rename = begin(
            5,
            "modrdn",
            "c",
            c,
            vec![attr(
                "cn",
                "replace",
                Some(&["Old C"]),
                Some(&["New C"]),
                &[],
            )],
        );
        if let Record::Begin(b) = &mut rename {
            b.new_dn = Some("CN=New C,OU=WB,DC=lab".into());
        }
        let recs = vec![
            run(),
            begin(
                1,
                "add",
                "a",
                a,
                vec![attr("displayName", "add", None, Some(&["A"]), &[])],
            ),
            end(1, Outcome::Applied),
            begin(
                2,
                "modify",
                "b",
                b,
                vec![
                    attr(
                        "description",
                        "replace",
                        Some(&["old"]),
                        Some(&["new"]),
                        &[],
                    ),
                    attr("member", "add", None, None, &["CN=u1,DC=lab"]),
                    attr("member", "delete", None, None, &["CN=u2,DC=lab"]),
                ],
            ),
            end(2, Outcome::Applied),
            begin(
                3,
                "modify",
                "b",
                b,
                vec![attr("mail", "replace", Some(&[]), Some(&["b@x"]), &[])],
            ),
            end(3, Outcome::AlreadyDone),
            begin(
                4,
                "delete",
                "d",
                d,
                vec![
                    attr("groupType", "delete", Some(&["-2147483640"]), None, &[]),
                    attr("displayName", "delete", Some(&["D"]), None, &[]),
                    attr("adminDescription", "delete", Some(&["Group_d"]), None, &[]),
                    attr("cn", "delete", Some(&["Group_d"]), None, &[]),
                    attr("member", "delete", None, None, &["CN=u3,DC=lab"]),
                ],
            ),
            end(4, Outcome::Applied),
            rename,
            end(5, Outcome::Applied),
            begin(
                6,
                "modify",
                "e",
                "CN=Group_e,OU=WB,DC=lab",
                vec![attr(
                    "description",
                    "replace",
                    Some(&["x"]),
                    Some(&["y"]),
                    &[],
                )],
            ),
            end(6, Outcome::Failed),
        ];
        let p = inverse_plan(&recs, "/j/run.jsonl", "now");
        let g = |id: &str| p.groups.iter().find(|g| g.id == id).unwrap();
        assert_eq!(p.groups.len(), 4, "{:#?}", p.groups);
        assert_eq!(p.target_ou.dn, OU);
        // created -> deleted
        assert_eq!(g("a").action, Action::Delete);
        assert_eq!(g("a").current.as_ref().unwrap().dn, a);
        assert_eq!(
            g("a").current.as_ref().unwrap().object_guid,
            Some(Uuid::from_u128(1))
        );
        // modified -> restored (the already-done write is not the run's)
        let gb = g("b");
        assert_eq!(gb.action, Action::Update);
        assert_eq!(
            gb.attributes["description"].after,
            Some(AttrValue::One("old".into()))
        );
        assert!(!gb.attributes.contains_key("mail"));
        assert_eq!(gb.members.remove, vec!["CN=u1,DC=lab"]);
        assert_eq!(gb.members.add, vec!["CN=u2,DC=lab"]);
        // deleted -> re-created, pointing to the Recycle Bin
        let gd = g("d");
        assert_eq!(gd.action, Action::Create);
        assert_eq!(gd.dn.as_deref(), Some(d));
        assert_eq!(gd.group_type, Some(-2147483640));
        assert!(!gd.attributes.contains_key("cn"));
        assert_eq!(gd.members.add, vec!["CN=u3,DC=lab"]);
        assert!(gd.detail.contains("objectSid") && gd.detail.contains("Recycle Bin"));
        // renamed -> renamed back
        let gc = g("c");
        assert_eq!(gc.action, Action::Rename);
        assert_eq!(gc.dn.as_deref(), Some(c));
        assert_eq!(gc.cn.as_deref(), Some("Old C"));
        assert_eq!(gc.current.as_ref().unwrap().dn, "CN=New C,OU=WB,DC=lab");
        assert_eq!(p.summary.delete, 1);
        assert!(p.safety.delete_proof.complete);
        // The plan passes apply's checks that need no directory.
        crate::apply::preflight(&p, &crate::apply::Options::default()).unwrap();
    }

    #[test]
    fn interrupted_writes_are_included_and_flagged() {
        let recs = vec![
            run(),
            begin(
                1,
                "modify",
                "b",
                "CN=Group_b,OU=WB,DC=lab",
                vec![attr("member", "add", None, None, &["CN=u1,DC=lab"])],
            ),
        ];
        let p = inverse_plan(&recs, "j.jsonl", "now");
        assert_eq!(p.groups[0].members.remove, vec!["CN=u1,DC=lab"]);
        assert!(p.groups[0].detail.contains("no end record"));
    }
}
