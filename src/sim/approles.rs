//! The simulator's app role assignments on service principals: how a Cloud Sync
//! configuration's selected groups are kept (`GET`, `POST` and `DELETE
//! /servicePrincipals/{id}/appRoleAssignedTo`), with Graph's documented shapes and checks. A
//! service principal is known once it has been seeded ([`seed`]), as a tenant's Cloud Sync
//! configuration would be.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::store::{self, Req, Resp};

/// Assignments per service principal id (lower case), in creation order.
pub type Assignments = BTreeMap<String, Vec<Value>>;

/// Make `sp` known, with `existing` assignments (Graph's appRoleAssignment objects).
pub fn seed(all: &mut Assignments, sp: &str, existing: Vec<Value>) {
    all.insert(sp.to_ascii_lowercase(), existing);
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn not_found(id: &str) -> Resp {
    store::error(
        404,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// Answer a request this module owns, `None` for any other. `record` is told of every write
/// accepted, with the id of the object written.
pub fn handle(all: &mut Assignments, req: &Req, mut record: impl FnMut(&str)) -> Option<Resp> {
    let segs: Vec<&str> = req
        .path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (sp, rest) = match segs.as_slice() {
        ["servicePrincipals", sp, "appRoleAssignedTo", rest @ ..] => (*sp, rest),
        _ => return None,
    };
    let key = sp.to_ascii_lowercase();
    let Some(list) = all.get_mut(&key) else {
        return Some(not_found(sp));
    };
    Some(match (req.method.as_str(), rest) {
        ("GET", []) => Resp::json(
            200,
            json!({
                "@odata.context": format!("https://graph.microsoft.com/{}/$metadata#servicePrincipals('{sp}')/appRoleAssignedTo", req.version),
                "value": list.clone(),
            }),
        ),
        ("POST", []) => {
            let body = req.body.clone().unwrap_or(Value::Null);
            let (Some(principal), Some(resource), Some(role)) = (
                text(&body, "principalId"),
                text(&body, "resourceId"),
                text(&body, "appRoleId"),
            ) else {
                return Some(store::error(
                    400,
                    "Request_BadRequest",
                    "principalId, resourceId and appRoleId are required.",
                ));
            };
            if !resource.eq_ignore_ascii_case(sp) {
                return Some(store::error(
                    400,
                    "Request_BadRequest",
                    "resourceId must be the service principal the assignment is posted to.",
                ));
            }
            let exists = list.iter().any(|a| {
                text(a, "principalId").is_some_and(|p| p.eq_ignore_ascii_case(principal))
                    && text(a, "appRoleId").is_some_and(|r| r.eq_ignore_ascii_case(role))
            });
            if exists {
                return Some(store::error(
                    400,
                    "Request_BadRequest",
                    "Permission being assigned already exists on the object",
                ));
            }
            // Graph's ids are opaque base64url strings; the simulator's are deterministic.
            let id = format!(
                "sim{:08x}{}",
                list.len(),
                &principal.replace('-', "")[..8.min(principal.len())]
            );
            let a = json!({
                "id": id,
                "appRoleId": role,
                "createdDateTime": "2026-12-06T00:00:00Z",
                "principalDisplayName": Value::Null,
                "principalId": principal,
                "principalType": "Group",
                "resourceDisplayName": Value::Null,
                "resourceId": sp,
            });
            list.push(a.clone());
            record(principal);
            Resp::json(201, a)
        }
        ("DELETE", [id]) => match list.iter().position(|a| text(a, "id") == Some(*id)) {
            Some(i) => {
                let a = list.remove(i);
                record(text(&a, "principalId").unwrap_or(id));
                Resp::empty(204)
            }
            None => not_found(id),
        },
        _ => store::error(405, "Request_BadRequest", "Method not allowed."),
    })
}
