//! Cloud Sync scope changes as tenant changes: adding a group to a Cloud Sync configuration's
//! selected groups is an app role assignment of the group on the configuration's service
//! principal (`POST /servicePrincipals/{id}/appRoleAssignedTo` with `principalId`,
//! `resourceId`, `appRoleId`), and taking it out again is the `DELETE` of that assignment. The
//! plan, its state against the tenant and its undo follow the rules of every tenant change
//! (previewed, sealed, stale plans refused, an undo file written before the first write).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Change, Note, Plan, Request};
use crate::bundle::Snapshot;

/// `Change.kind` of a scope change.
pub const KIND: &str = "appRoleAssignment";
/// `Change.property` of a scope change.
pub const PROPERTY: &str = "appRoleAssignedTo";

/// The value a scope change compares: the group holds `app_role` on `sp` (`null`: it does not).
pub fn assigned(sp: &str, app_role: &str) -> Value {
    json!({"resourceId": sp.to_ascii_lowercase(), "appRoleId": app_role.to_ascii_lowercase()})
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The service principal and app role a scope value names.
pub fn target_of(v: &Value) -> Option<(&str, &str)> {
    Some((text(v, "resourceId")?, text(v, "appRoleId")?))
}

/// `group`'s assignment of `app_role` among `list` (Graph's appRoleAssignment objects).
pub fn find<'a>(list: &'a [Value], group: &str, app_role: &str) -> Option<&'a Value> {
    list.iter().find(|a| {
        text(a, "principalId").is_some_and(|p| p.eq_ignore_ascii_case(group))
            && text(a, "appRoleId").is_some_and(|r| r.eq_ignore_ascii_case(app_role))
    })
}

/// The change that adds `group` to the configuration's selected groups.
pub fn add(group: &str, name: &str, sp: &str, app_role: &str) -> Change {
    Change {
        id: Some(group.to_string()),
        display_name: name.to_string(),
        kind: KIND.into(),
        property: PROPERTY.into(),
        before: Value::Null,
        after: assigned(sp, app_role),
        previous: None,
        request: Request {
            method: "POST".into(),
            url: format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
            body: Some(json!({"principalId": group, "resourceId": sp, "appRoleId": app_role})),
        },
        wave: None,
    }
}

/// The change that takes `group` out again: the `DELETE` of its assignment `assignment`.
pub fn remove(group: &str, name: &str, assignment: &Value) -> Option<Change> {
    let sp = text(assignment, "resourceId")?;
    let role = text(assignment, "appRoleId")?;
    let id = text(assignment, "id")?;
    Some(Change {
        id: Some(group.to_string()),
        display_name: name.to_string(),
        kind: KIND.into(),
        property: PROPERTY.into(),
        before: assigned(sp, role),
        after: Value::Null,
        previous: Some(assignment.clone()),
        request: Request {
            method: "DELETE".into(),
            url: format!("/servicePrincipals/{sp}/appRoleAssignedTo/{id}"),
            body: None,
        },
        wave: None,
    })
}

/// The tenant plan that adds `groups` (id, display name) to the selected groups of the Cloud
/// Sync configuration whose service principal is `sp`, skipping those `selected` already (lower
/// case ids).
pub fn plan(
    snap: &Snapshot,
    generated_at: &str,
    groups: &[(String, String)],
    sp: &str,
    app_role: &str,
    selected: &BTreeSet<String>,
) -> anyhow::Result<Plan> {
    let mut seen = BTreeSet::new();
    let mut unchanged = 0;
    let mut changes = Vec::new();
    for (id, name) in groups {
        let key = id.to_ascii_lowercase();
        if !seen.insert(key.clone()) {
            continue;
        }
        if selected.contains(&key) {
            unchanged += 1;
        } else {
            changes.push(add(id, name, sp, app_role));
        }
    }
    let notes = vec![Note {
        code: "cloud-sync-scope".into(),
        message: format!(
            "adds {} group(s) to the selected groups of the Cloud Sync configuration (service principal {sp}, app role {app_role}); Cloud Sync provisions them on its next cycle",
            changes.len()
        ),
    }];
    super::assemble(
        snap,
        generated_at,
        changes,
        Vec::new(),
        unchanged,
        notes,
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assignment_is_found_by_group_and_role_whatever_the_case() {
        let list =
            vec![json!({"id": "a1", "principalId": "AA-1", "appRoleId": "R", "resourceId": "sp"})];
        assert!(find(&list, "aa-1", "r").is_some());
        assert!(find(&list, "aa-1", "other").is_none());
        assert!(find(&list, "bb-2", "r").is_none());
        let c = remove("aa-1", "A", &list[0]).unwrap();
        assert_eq!(c.request.method, "DELETE");
        assert_eq!(c.request.url, "/servicePrincipals/sp/appRoleAssignedTo/a1");
        assert_eq!(c.before, assigned("sp", "R"));
        let a = add("aa-1", "A", "sp", "R");
        assert_eq!(a.after, c.before);
        assert_eq!(a.request.body.unwrap()["principalId"], "aa-1");
    }
}
