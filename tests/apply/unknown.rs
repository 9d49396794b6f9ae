//! Unknown is never empty, against the Samba DC: a group whose members are unknown in the
//! cloud snapshot (`members: null`) is updated without a member change, and `gwb apply`
//! leaves its AD members exactly as they were, including one added in AD by hand that a
//! known (empty-of-it) member list would remove.

use super::contoso::{collect, plan, run};
use super::key;
use super::moved::{applied, group, identity};
use gwb::plan::model::Action;

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn apply_with_unknown_members_leaves_the_ad_members_exactly_as_they_were() {
    let Some((c, p0)) = applied("unknown") else {
        return;
    };
    let e = &c.e;
    let g = p0
        .groups
        .iter()
        .filter(|g| g.action == Action::Create)
        .max_by_key(|g| g.members.add.len())
        .expect("contoso creates groups");
    let dn = g.dn.clone().expect("dn");
    // A user that is not a member of g, added in AD by hand.
    let extra = p0
        .groups
        .iter()
        .flat_map(|x| x.members.add.iter())
        .find(|m| m.contains("OU=Users,") && !g.members.add.contains(m))
        .expect("another user")
        .clone();
    e.admin(async |a| a.add_members(&dn, std::slice::from_ref(&extra)).await);
    let before = identity(e, &dn).expect("the written group");
    assert!(before.2.contains(&key(&extra)));

    // Known members: the hand-added member would be removed (the control).
    let b = c.work.path().join("b-known");
    collect(e, &c.sim, &c.target, &b);
    let known = plan(&b, &c.work.path().join("known.json"));
    assert!(
        group(&known, &g.id)
            .members
            .remove
            .iter()
            .any(|m| key(m) == key(&extra)),
        "the control plan removes the hand-added member"
    );

    // Unknown members (null), and a description change so the group is updated.
    let tenant = b.join("tenant.json");
    let mut t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&tenant).expect("tenant")).expect("json");
    for x in t["groups"].as_array_mut().expect("groups") {
        if x["id"] == g.id.as_str() {
            x["members"] = serde_json::Value::Null;
            x["description"] = "members unknown today".into();
        }
    }
    std::fs::write(&tenant, serde_json::to_string(&t).expect("json")).expect("write");
    let f = c.work.path().join("unknown.json");
    let p = plan(&b, &f);
    let pg = group(&p, &g.id);
    assert_eq!(pg.action, Action::Update, "{}", pg.detail);
    assert!(pg.members.unknown);
    assert!(pg.members.add.is_empty() && pg.members.remove.is_empty());
    let (code, out, err) = run(&mut e.cmd(&f));
    assert_eq!(code, 0, "apply: {out}\n{err}");
    assert_eq!(
        identity(e, &dn).as_ref(),
        Some(&before),
        "the AD members are exactly as they were"
    );
    let desc = e.admin(async |a| {
        a.read(&dn, &["description"])
            .await
            .and_then(|x| x.text("description").map(str::to_string))
    });
    assert_eq!(desc.as_deref(), Some("members unknown today"));
}
