//! The simulator's tenant-side writes, with Graph's documented validation: `PATCH
//! /beta/groups/{id}` of `writebackConfiguration`, directory setting templates (`GET
//! /beta/directorySettingTemplates`), `POST /beta/settings` from a template, `PATCH` (the
//! whole `values` array, as Graph replaces it) and `DELETE /beta/settings/{id}`. Errors come
//! in Graph's error shape; accepted writes go through the [`Store`], so later reads, the
//! groups delta and `gwb collect` see them. Also owns the write counters and the per-object
//! write faults (403 for chosen ids, a revoked token after N writes) tests use.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::store::{self, Req, Resp, Store};

/// The Group.Unified template id.
pub const GROUP_UNIFIED_TEMPLATE: &str = "62375ab9-6b52-47ed-826b-58e47e0e304b";
/// The Group.Unified.Guest template id.
pub const GROUP_UNIFIED_GUEST_TEMPLATE: &str = "08d542b9-071f-4e16-94b0-74abb372e3d9";

/// The three on-premises group types Graph accepts.
pub const ON_PREMISES_GROUP_TYPES: [&str; 3] = [
    "universalDistributionGroup",
    "universalSecurityGroup",
    "universalMailEnabledSecurityGroup",
];

/// (name, type, default, description) of each Group.Unified template value.
const GROUP_UNIFIED_VALUES: &[(&str, &str, &str, &str)] = &[
    (
        "CustomBlockedWordsList",
        "System.String",
        "",
        "A comma-delimited list of blocked words for Unified Group displayName and mailNickName.",
    ),
    (
        "EnableMSStandardBlockedWords",
        "System.Boolean",
        "False",
        "A flag indicating whether or not to enable the Microsoft Standard list of blocked words for Unified Group displayName and mailNickName.",
    ),
    (
        "ClassificationDescriptions",
        "System.String",
        "",
        "A comma-delimited list of structured strings describing the classification values in the ClassificationList.",
    ),
    (
        "DefaultClassification",
        "System.String",
        "",
        "The classification value to be used by default for Unified Group creation.",
    ),
    (
        "PrefixSuffixNamingRequirement",
        "System.String",
        "",
        "A structured string describing how a Unified Group displayName and mailNickname should be structured.",
    ),
    (
        "AllowGuestsToBeGroupOwner",
        "System.Boolean",
        "False",
        "Flag indicating if guests are allowed to be owner in any Unified Group.",
    ),
    (
        "AllowGuestsToAccessGroups",
        "System.Boolean",
        "True",
        "Flag indicating if guests are allowed to access any Unified Group resources.",
    ),
    (
        "GuestUsageGuidelinesUrl",
        "System.String",
        "",
        "A link to the Group usage guidelines for guests.",
    ),
    (
        "GroupCreationAllowedGroupId",
        "System.Guid",
        "",
        "Guid of the security group that is always allowed to create Unified Groups.",
    ),
    (
        "AllowToAddGuests",
        "System.Boolean",
        "True",
        "Flag indicating if guests are allowed in any Unified Group.",
    ),
    (
        "UsageGuidelinesUrl",
        "System.String",
        "",
        "A link to the Group usage guidelines.",
    ),
    (
        "ClassificationList",
        "System.String",
        "",
        "A comma-delimited list of valid classification values that can be applied to Unified Groups.",
    ),
    (
        "EnableGroupCreation",
        "System.Boolean",
        "True",
        "Flag indicating if group creation feature is on.",
    ),
    (
        "NewUnifiedGroupWritebackDefault",
        "System.Boolean",
        "True",
        "Flag indicating whether new Microsoft 365 groups are written back to on-premises Active Directory by default.",
    ),
    (
        "EnableMIPLabels",
        "System.Boolean",
        "False",
        "Flag indicating whether Microsoft Information Protection labels can be assigned to Unified Groups.",
    ),
];

const GROUP_UNIFIED_GUEST_VALUES: &[(&str, &str, &str, &str)] = &[(
    "AllowToAddGuests",
    "System.Boolean",
    "True",
    "Flag indicating if guests are allowed in a specific Unified Group.",
)];

fn template_values(
    template_id: &str,
) -> Option<&'static [(&'static str, &'static str, &'static str, &'static str)]> {
    if template_id.eq_ignore_ascii_case(GROUP_UNIFIED_TEMPLATE) {
        Some(GROUP_UNIFIED_VALUES)
    } else if template_id.eq_ignore_ascii_case(GROUP_UNIFIED_GUEST_TEMPLATE) {
        Some(GROUP_UNIFIED_GUEST_VALUES)
    } else {
        None
    }
}

/// A `directorySettingTemplate` in Graph's beta shape.
pub fn template(template_id: &str) -> Option<Value> {
    let values = template_values(template_id)?;
    let (id, name, description) = if template_id.eq_ignore_ascii_case(GROUP_UNIFIED_TEMPLATE) {
        (
            GROUP_UNIFIED_TEMPLATE,
            "Group.Unified",
            "Setting templates define the different settings that can be used for the associated ObjectSettings. This template defines settings that can be used for Unified Groups.",
        )
    } else {
        (
            GROUP_UNIFIED_GUEST_TEMPLATE,
            "Group.Unified.Guest",
            "Settings for a specific Unified Group",
        )
    };
    let defs: Vec<Value> = values
        .iter()
        .map(
            |(n, t, d, desc)| json!({"name": n, "type": t, "defaultValue": d, "description": desc}),
        )
        .collect();
    Some(json!({
        "id": id,
        "deletedDateTime": null,
        "displayName": name,
        "description": description,
        "values": defs,
    }))
}

/// One accepted write, as the simulator applied it.
#[derive(Debug, Clone)]
pub struct AppliedWrite {
    pub method: String,
    /// `/groups/{id}`, `/settings`, `/settings/{id}` (no version).
    pub path: String,
    /// The object written (lower-case id; the new setting's id for a POST).
    pub id: String,
    pub body: Option<Value>,
}

/// Write faults, permissions and counters (readable by tests through `Shared::with_writes`).
#[derive(Debug, Default)]
pub struct WriteState {
    /// Writes to these object ids (lower case) are answered with the status (403, 400, ...).
    pub deny: HashMap<String, u16>,
    /// The app holds RoleManagement.ReadWrite.Directory: role-assignable groups can be changed.
    pub role_management: bool,
    /// The app lacks Group-OnPremisesSyncBehavior.ReadWrite.All: every read and write of
    /// `/groups/{id}/onPremisesSyncBehavior` is answered 403.
    pub sync_behavior_denied: bool,
    /// App role assignments per service principal (Cloud Sync's selected groups); a service
    /// principal not seeded here answers 404.
    pub app_roles: super::approles::Assignments,
    /// Revoke every issued access token after this many accepted writes (a token expiring mid-run).
    pub revoke_tokens_after: Option<u64>,
    applied: Vec<AppliedWrite>,
    revoke_pending: bool,
}

impl WriteState {
    /// Every accepted write, in order.
    pub fn applied(&self) -> &[AppliedWrite] {
        &self.applied
    }
    /// Accepted writes to one object.
    pub fn writes_to(&self, id: &str) -> usize {
        self.applied
            .iter()
            .filter(|w| w.id.eq_ignore_ascii_case(id))
            .count()
    }
    /// True once when the token revocation is due.
    pub fn take_revoke(&mut self) -> bool {
        std::mem::take(&mut self.revoke_pending)
    }
    fn record(&mut self, req: &Req, id: &str) {
        self.applied.push(AppliedWrite {
            method: req.method.clone(),
            path: req.path.clone(),
            id: id.to_ascii_lowercase(),
            body: req.body.clone(),
        });
        if self
            .revoke_tokens_after
            .is_some_and(|n| self.applied.len() as u64 == n)
        {
            self.revoke_pending = true;
        }
    }
}

fn denied(status: u16) -> Resp {
    match status {
        403 => store::error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        404 => store::error(404, "Request_ResourceNotFound", "Resource not found."),
        s => store::error(
            s,
            "Request_BadRequest",
            "The request was refused by the simulator's write fault injection.",
        ),
    }
}

/// Answer the writes this module owns; `None` leaves the request to the store.
pub fn handle(store: &mut Store, st: &mut WriteState, req: &Req) -> Option<Resp> {
    if req.path.starts_with("/servicePrincipals/") {
        let mut written = Vec::new();
        let resp =
            super::approles::handle(&mut st.app_roles, req, |id| written.push(id.to_string()));
        for id in written {
            st.record(req, &id);
        }
        if resp.is_some() {
            return resp;
        }
    }
    let segs: Vec<&str> = req
        .path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["directorySettingTemplates"]) => Some(Resp::json(
            200,
            json!({"value": [template(GROUP_UNIFIED_TEMPLATE), template(GROUP_UNIFIED_GUEST_TEMPLATE)]}),
        )),
        ("GET", ["directorySettingTemplates", id]) => Some(match template(id) {
            Some(t) => Resp::json(200, t),
            None => not_found(id),
        }),
        ("PATCH", ["groups", id]) => {
            let id = id.to_string();
            if let Some(&s) = st.deny.get(&id.to_ascii_lowercase()) {
                return Some(denied(s));
            }
            if let Some(err) = validate_group_patch(store, st, req, &id) {
                return Some(err);
            }
            let resp = store.handle(req);
            if resp.status < 300 {
                st.record(req, &id);
            }
            Some(resp)
        }
        ("GET", ["groups", id, "onPremisesSyncBehavior"]) => {
            if st.sync_behavior_denied {
                return Some(denied(403));
            }
            Some(match store.sync_behavior(id) {
                Some(managed) => Resp::json(
                    200,
                    json!({
                        "@odata.context": format!("https://graph.microsoft.com/{}/$metadata#groups('{id}')/onPremisesSyncBehavior/$entity", req.version),
                        "id": id,
                        "isCloudManaged": managed,
                    }),
                ),
                None => not_found(id),
            })
        }
        ("PATCH", ["groups", id, "onPremisesSyncBehavior"]) => {
            let id = id.to_string();
            if st.sync_behavior_denied {
                return Some(denied(403));
            }
            if let Some(&s) = st.deny.get(&id.to_ascii_lowercase()) {
                return Some(denied(s));
            }
            Some(patch_sync_behavior(store, st, req, &id))
        }
        ("POST", ["settings"]) => Some(create_setting(store, st, req)),
        ("PATCH", ["settings", id]) => {
            let id = id.to_string();
            if let Some(&s) = st.deny.get(&id.to_ascii_lowercase()) {
                return Some(denied(s));
            }
            Some(patch_setting(store, st, req, &id))
        }
        ("DELETE", ["settings", id]) => {
            let id = id.to_string();
            if let Some(&s) = st.deny.get(&id.to_ascii_lowercase()) {
                return Some(denied(s));
            }
            if store.remove_setting(&id) {
                st.record(req, &id);
                Some(Resp::empty(204))
            } else {
                Some(not_found(&id))
            }
        }
        _ => None,
    }
}

/// `PATCH /groups/{id}/onPremisesSyncBehavior` with Graph's checks: a JSON object whose only
/// property is a Boolean `isCloudManaged`; converting needs a group synced from AD (or
/// already converted or rolled back), rolling back a group whose source was AD.
fn patch_sync_behavior(store: &mut Store, st: &mut WriteState, req: &Req, id: &str) -> Resp {
    let Some(g) = store.group(id) else {
        return not_found(id);
    };
    let Some(body) = req.body.as_ref().and_then(Value::as_object) else {
        return bad("Empty Payload. JSON content expected.");
    };
    if let Some(k) = body
        .keys()
        .find(|k| *k != "isCloudManaged" && !k.starts_with("@odata."))
    {
        return bad(&format!(
            "Property '{k}' does not exist on type 'microsoft.graph.onPremisesSyncBehavior'."
        ));
    }
    let Some(managed) = body.get("isCloudManaged").and_then(Value::as_bool) else {
        return bad(
            "Invalid value specified for property 'isCloudManaged' of resource 'OnPremisesSyncBehavior'.",
        );
    };
    let from_ad = flag(g, "onPremisesSyncEnabled")
        || g.get("onPremisesSecurityIdentifier")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty());
    if !from_ad {
        return bad(
            "The source of authority of this object is not on-premises Active Directory: only objects synchronized from on-premises can be converted or rolled back.",
        );
    }
    store.set_sync_behavior(id, managed);
    st.record(req, id);
    Resp::empty(204)
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

fn bad(message: &str) -> Resp {
    store::error(400, "Request_BadRequest", message)
}

fn flag(g: &Map<String, Value>, k: &str) -> bool {
    g.get(k).and_then(Value::as_bool) == Some(true)
}

/// Graph's checks on `writebackConfiguration` (beta only, the property's value domain, the
/// group kinds that can be written back, on-premises mastered groups, role-assignable groups).
fn validate_group_patch(store: &Store, st: &WriteState, req: &Req, id: &str) -> Option<Resp> {
    let body = req.body.as_ref()?.as_object()?;
    let wb = body.get("writebackConfiguration")?;
    if req.version != "beta" {
        return Some(bad(
            "Property 'writebackConfiguration' does not exist on type 'microsoft.graph.group'.",
        ));
    }
    let g = store.group(id)?;
    let cfg = match wb {
        Value::Null => return None,
        Value::Object(o) => o,
        _ => {
            return Some(bad(
                "Invalid value specified for property 'writebackConfiguration' of resource 'Group'.",
            ));
        }
    };
    for (k, v) in cfg {
        match k.as_str() {
            "@odata.type" => {}
            "isEnabled" => {
                if !(v.is_null() || v.is_boolean()) {
                    return Some(bad(&format!(
                        "Cannot convert the literal '{v}' to the expected type 'Edm.Boolean'."
                    )));
                }
            }
            "onPremisesGroupType" => match v {
                Value::Null => {}
                Value::String(s) if ON_PREMISES_GROUP_TYPES.contains(&s.as_str()) => {}
                _ => {
                    return Some(bad(&format!(
                        "Invalid value specified for property 'onPremisesGroupType' of resource 'groupWritebackConfiguration': {v}. Allowed values: {}.",
                        ON_PREMISES_GROUP_TYPES.join(", ")
                    )));
                }
            },
            other => {
                return Some(bad(&format!(
                    "Property '{other}' does not exist on type 'microsoft.graph.groupWritebackConfiguration'."
                )));
            }
        }
    }
    if flag(g, "onPremisesSyncEnabled") {
        return Some(bad(
            "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.",
        ));
    }
    let unified = g
        .get("groupTypes")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter().any(|t| {
                t.as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case("Unified"))
            })
        });
    let security = flag(g, "securityEnabled");
    let mail = flag(g, "mailEnabled");
    if !unified && (!security || mail) {
        return Some(bad(
            "Group writeback is not supported for distribution lists and mail-enabled security groups.",
        ));
    }
    if !unified
        && let Some(t) = cfg.get("onPremisesGroupType").and_then(Value::as_str)
        && t != "universalSecurityGroup"
    {
        return Some(bad(&format!(
            "Security groups can only be written back as universalSecurityGroup, not {t}."
        )));
    }
    if flag(g, "isAssignableToRole") && !st.role_management {
        return Some(store::error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ));
    }
    None
}

/// Check `values` against the template: known names, one each, typed values.
fn validate_values(template_id: &str, values: &Value) -> Result<(), Resp> {
    let Some(defs) = template_values(template_id) else {
        return Err(bad(&format!(
            "Invalid value specified for property 'templateId' of resource 'DirectorySetting': {template_id}."
        )));
    };
    let Some(items) = values.as_array() else {
        return Err(bad(
            "Invalid value specified for property 'values' of resource 'DirectorySetting'.",
        ));
    };
    let mut seen = std::collections::HashSet::new();
    for v in items {
        let name = v.get("name").and_then(Value::as_str).unwrap_or("");
        let Some((n, ty, _, _)) = defs.iter().find(|d| d.0.eq_ignore_ascii_case(name)) else {
            return Err(bad(&format!(
                "Invalid property name '{name}' for directory setting template {template_id}."
            )));
        };
        if !seen.insert(n.to_ascii_lowercase()) {
            return Err(bad(&format!("The setting '{n}' is given more than once.")));
        }
        let value = match v.get("value") {
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Null) | None => "",
            Some(_) => {
                return Err(bad(&format!(
                    "The value of setting '{n}' must be a string."
                )));
            }
        };
        let ok = match *ty {
            "System.Boolean" => {
                value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")
            }
            "System.Guid" => value.is_empty() || uuid::Uuid::parse_str(value).is_ok(),
            _ => true,
        };
        if !ok {
            return Err(bad(&format!(
                "Invalid value '{value}' for setting '{n}' of type {ty}."
            )));
        }
    }
    Ok(())
}

fn create_setting(store: &mut Store, st: &mut WriteState, req: &Req) -> Resp {
    let Some(b) = req.body.as_ref().and_then(Value::as_object) else {
        return store::error(400, "BadRequest", "Empty Payload. JSON content expected.");
    };
    let template_id = b.get("templateId").and_then(Value::as_str).unwrap_or("");
    if template_id.is_empty() {
        return bad(
            "Invalid value specified for property 'templateId' of resource 'DirectorySetting'.",
        );
    }
    let exists = store.settings().iter().any(|s| {
        s.get("templateId")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(template_id))
    });
    if !exists && let Err(e) = validate_values(template_id, b.get("values").unwrap_or(&json!([]))) {
        return e;
    }
    let resp = store.handle(req);
    if resp.status < 300
        && let store::Body::Json(v) = &resp.body
    {
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        st.record(req, &id);
    }
    resp
}

/// `PATCH /settings/{id}`: Graph replaces the whole `values` collection.
fn patch_setting(store: &mut Store, st: &mut WriteState, req: &Req, id: &str) -> Resp {
    let Some(new_values) = req.body.as_ref().and_then(|b| b.get("values")) else {
        return bad("Missing 'values'.");
    };
    let Some(Value::Object(s)) = store.setting_mut(id) else {
        return not_found(id);
    };
    let template_id = s
        .get("templateId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Err(e) = validate_values(&template_id, new_values) {
        return e;
    }
    s.insert("values".into(), new_values.clone());
    st.record(req, id);
    Resp::empty(204)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str, body: Option<Value>) -> Req {
        Req {
            method: method.into(),
            version: "beta".into(),
            path: path.into(),
            query: super::super::odata::Query::parse(""),
            headers: HashMap::new(),
            body,
        }
    }

    #[test]
    fn template_has_every_group_unified_value() {
        let t = template(GROUP_UNIFIED_TEMPLATE).unwrap();
        let names: Vec<&str> = t["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 15);
        assert!(names.contains(&"NewUnifiedGroupWritebackDefault"));
    }

    #[test]
    fn settings_values_are_validated_against_the_template() {
        let mut s = Store::default();
        let mut st = WriteState::default();
        let bad_name = json!({"templateId": GROUP_UNIFIED_TEMPLATE, "values": [{"name": "Nope", "value": "1"}]});
        let r = handle(&mut s, &mut st, &req("POST", "/settings", Some(bad_name))).unwrap();
        assert_eq!(r.status, 400);
        let bad_bool = json!({"templateId": GROUP_UNIFIED_TEMPLATE, "values": [{"name": "EnableGroupCreation", "value": "yes"}]});
        let r = handle(&mut s, &mut st, &req("POST", "/settings", Some(bad_bool))).unwrap();
        assert_eq!(r.status, 400);
        let good = json!({"templateId": GROUP_UNIFIED_TEMPLATE, "values": [{"name": "NewUnifiedGroupWritebackDefault", "value": "false"}]});
        let r = handle(&mut s, &mut st, &req("POST", "/settings", Some(good))).unwrap();
        assert_eq!(r.status, 201);
        let id = s.settings()[0]["id"].as_str().unwrap().to_string();
        // PATCH replaces the whole values array.
        let patch = json!({"values": [{"name": "EnableGroupCreation", "value": "False"}]});
        let r = handle(
            &mut s,
            &mut st,
            &req("PATCH", &format!("/settings/{id}"), Some(patch)),
        )
        .unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(s.settings()[0]["values"].as_array().unwrap().len(), 1);
        assert_eq!(st.applied().len(), 2);
        st.deny.insert(id.clone(), 403);
        let r = handle(
            &mut s,
            &mut st,
            &req("DELETE", &format!("/settings/{id}"), None),
        )
        .unwrap();
        assert_eq!(r.status, 403);
    }
}

#[cfg(test)]
mod sync_behavior_tests {
    use super::*;

    fn req(method: &str, id: &str, body: Option<Value>) -> Req {
        Req {
            method: method.into(),
            version: "v1.0".into(),
            path: format!("/groups/{id}/onPremisesSyncBehavior"),
            query: super::super::odata::Query::parse(""),
            headers: HashMap::new(),
            body,
        }
    }

    fn store() -> Store {
        Store::from_tenant(&json!({"groups": [
            {"id": "a", "displayName": "Synced", "onPremisesSyncEnabled": true,
             "onPremisesSecurityIdentifier": "S-1-5-21-1-2-3-1001"},
            {"id": "b", "displayName": "Cloud", "onPremisesSyncEnabled": null}
        ]}))
        .expect("store")
    }

    fn managed(s: &mut Store, st: &mut WriteState, id: &str) -> (u16, Option<Value>) {
        let r = handle(s, st, &req("GET", id, None)).expect("answered");
        let v = match r.body {
            store::Body::Json(v) => Some(v["isCloudManaged"].clone()),
            _ => None,
        };
        (r.status, v)
    }

    #[test]
    fn convert_and_roll_back_with_graphs_validation() {
        let (mut s, mut st) = (store(), WriteState::default());
        assert_eq!(managed(&mut s, &mut st, "a"), (200, Some(json!(false))));
        assert_eq!(managed(&mut s, &mut st, "missing").0, 404);
        for bad in [
            json!({"isCloudManaged": "yes"}),
            json!({"isCloudManaged": true, "other": 1}),
            json!({}),
        ] {
            let r = handle(&mut s, &mut st, &req("PATCH", "a", Some(bad.clone()))).unwrap();
            assert_eq!(r.status, 400, "{bad}");
        }
        // A cloud-native group's source was never AD: neither converted nor rolled back.
        let r = handle(
            &mut s,
            &mut st,
            &req("PATCH", "b", Some(json!({"isCloudManaged": true}))),
        )
        .unwrap();
        assert_eq!(r.status, 400);
        assert!(st.applied().is_empty());
        let r = handle(
            &mut s,
            &mut st,
            &req("PATCH", "a", Some(json!({"isCloudManaged": true}))),
        )
        .unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(managed(&mut s, &mut st, "a"), (200, Some(json!(true))));
        assert_eq!(s.group("a").unwrap()["onPremisesSyncEnabled"], Value::Null);
        let doc = s.to_tenant();
        assert_eq!(
            doc["groups"][0]["onPremisesSyncBehavior"],
            json!({"isCloudManaged": true})
        );
        // Rolled back: not cloud-managed, still not synced until AD takes it over.
        let r = handle(
            &mut s,
            &mut st,
            &req("PATCH", "a", Some(json!({"isCloudManaged": false}))),
        )
        .unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(managed(&mut s, &mut st, "a"), (200, Some(json!(false))));
        assert_eq!(s.group("a").unwrap()["onPremisesSyncEnabled"], Value::Null);
        assert_eq!(st.writes_to("a"), 2);
        // Without Group-OnPremisesSyncBehavior.ReadWrite.All even a read is refused.
        st.sync_behavior_denied = true;
        assert_eq!(managed(&mut s, &mut st, "a").0, 403);
    }
}
