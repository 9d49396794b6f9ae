//! Per-group overrides from the configuration file, as pure data the core decides with:
//! groups excluded from writeback, a fixed CN for a group, groups that are never deleted, and
//! the `sAMAccountName` template for created groups (its checks, rendering and collisions).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use uuid::Uuid;

use super::naming::{CN_MAX, cn_len};

/// The admin's per-group decisions, keyed by cloud object id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Never written back; an AD object written earlier is kept untouched.
    pub exclude: BTreeSet<Uuid>,
    /// A fixed CN instead of the cn-format's.
    pub cn: BTreeMap<Uuid, String>,
    /// Never deleted from AD (the outcome becomes `keep`).
    pub protected: BTreeSet<Uuid>,
    /// `policy.sam-account-name`: the sAMAccountName template of groups gwb creates (checked
    /// with [`check_sam_template`]). `None`: AD generates one.
    pub sam_account_name: Option<String>,
}

impl Overrides {
    pub fn is_empty(&self) -> bool {
        self.exclude.is_empty()
            && self.cn.is_empty()
            && self.protected.is_empty()
            && self.sam_account_name.is_none()
    }
    fn key(id: &str) -> Option<Uuid> {
        crate::ad::ids::parse_guid(id)
    }
    pub fn is_excluded(&self, id: &str) -> bool {
        !self.exclude.is_empty() && Self::key(id).is_some_and(|u| self.exclude.contains(&u))
    }
    pub fn is_protected(&self, id: &str) -> bool {
        !self.protected.is_empty() && Self::key(id).is_some_and(|u| self.protected.contains(&u))
    }
    /// The sAMAccountName a create of this group writes: the template rendered, `None` without
    /// a template or when nothing is left of it (AD then generates one).
    pub fn sam_for(&self, id: &str, mail_nickname: Option<&str>) -> Option<String> {
        let t = self.sam_account_name.as_deref()?;
        let s = render_sam(t, id, mail_nickname);
        (!s.is_empty()).then_some(s)
    }
    pub fn cn_for(&self, id: &str) -> Option<&str> {
        if self.cn.is_empty() {
            return None;
        }
        Self::key(id)
            .and_then(|u| self.cn.get(&u))
            .map(String::as_str)
    }
}

/// A CN given in the configuration: not empty, at most 64 UTF-16 units, no control characters.
pub fn check_cn(cn: &str) -> Result<(), String> {
    let t = cn.trim();
    if t.is_empty() {
        return Err("a CN cannot be empty".into());
    }
    if cn_len(t) > CN_MAX {
        return Err(format!(
            "the CN {t:?} is {} characters long; AD allows at most {CN_MAX}",
            cn_len(t)
        ));
    }
    if t.chars().any(char::is_control) {
        return Err("a CN cannot contain control characters (newlines, tabs)".into());
    }
    Ok(())
}

/// Placeholders of the `sAMAccountName` template.
pub const SAM_PLACEHOLDERS: [&str; 3] = ["{id}", "{id12}", "{mailNickname}"];
/// Characters AD refuses in a sAMAccountName.
const SAM_FORBIDDEN: &[char] = &[
    '"', '/', '\\', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>', '@',
];
/// Maximum sAMAccountName length for groups (the schema allows 256; legacy tools expect 20).
pub const SAM_MAX: usize = 20;

pub fn check_sam_template(t: &str) -> Result<(), String> {
    let mut rest = t.to_string();
    for p in SAM_PLACEHOLDERS {
        rest = rest.replace(p, "");
    }
    if rest.contains(['{', '}']) {
        return Err(format!(
            "unknown placeholder in {t:?}; known: {}",
            SAM_PLACEHOLDERS.join(", ")
        ));
    }
    if let Some(c) = rest
        .chars()
        .find(|c| SAM_FORBIDDEN.contains(c) || c.is_control())
    {
        return Err(format!("{c:?} is not allowed in a sAMAccountName"));
    }
    if t.trim().is_empty() {
        return Err("the template is empty".into());
    }
    Ok(())
}

/// Render the template for one group: forbidden characters dropped, cut to 20 characters.
pub fn render_sam(template: &str, object_id: &str, mail_nickname: Option<&str>) -> String {
    let id = object_id.trim().to_ascii_lowercase();
    let id12: String = id
        .chars()
        .skip(id.chars().count().saturating_sub(12))
        .collect();
    let s = template
        .replace("{id12}", &id12)
        .replace("{id}", &id)
        .replace("{mailNickname}", mail_nickname.unwrap_or(&id12));
    s.chars()
        .filter(|c| !SAM_FORBIDDEN.contains(c) && !c.is_control())
        .take(SAM_MAX)
        .collect::<String>()
        .trim_end_matches(['.', ' '])
        .to_string()
}

/// The sAMAccountNames already given out, for collision checks: those of the AD objects in
/// the evidence (AD requires them unique in the domain, ignoring case) and those this forecast
/// gives to groups it creates.
#[derive(Debug, Default)]
pub struct SamIndex {
    /// Lower-case sAMAccountName -> what holds it ("CN=…" or "group <id>").
    taken: HashMap<String, String>,
}

impl SamIndex {
    /// Every sAMAccountName in the AD evidence.
    pub fn of(ad: Option<&crate::ad::AdSnapshot>) -> SamIndex {
        let mut taken = HashMap::new();
        for o in ad.map(|a| a.objects.as_slice()).unwrap_or_default() {
            if let Some(s) = o.sam_account_name.as_deref() {
                taken
                    .entry(s.to_lowercase())
                    .or_insert_with(|| o.dn_text.to_string());
            }
        }
        SamIndex { taken }
    }
    /// Why `sam` cannot be given to group `id`, if it cannot.
    pub fn clash(&self, sam: &str) -> Option<String> {
        self.taken.get(&sam.to_lowercase()).map(|holder| {
            format!(
                "the sAMAccountName {sam:?} (policy.sam-account-name) is already used by {holder}: AD requires it unique in the domain"
            )
        })
    }
    /// Give `sam` to group `id`.
    pub fn take(&mut self, sam: &str, id: &str) {
        self.taken.insert(
            sam.to_lowercase(),
            format!("group {id}, created by this run"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cn_checks() {
        assert!(check_cn("Sales").is_ok());
        assert!(check_cn(" ").is_err());
        assert!(check_cn(&"x".repeat(65)).is_err());
        assert!(check_cn("a\nb").is_err());
    }

    #[test]
    fn sam_template() {
        assert!(check_sam_template("gwb-{id12}").is_ok());
        assert!(check_sam_template("gwb-{name}").is_err());
        assert!(check_sam_template("a/b").is_err());
        assert_eq!(
            render_sam("gwb-{id12}", "3a5c3221-c465-48c0-95b8-e9305786a271", None),
            "gwb-e9305786a271"
        );
        assert_eq!(
            render_sam(
                "{mailNickname}",
                "3a5c3221-c465-48c0-95b8-e9305786a271",
                Some("sales.team,emea")
            ),
            "sales.teamemea"
        );
        assert_eq!(
            render_sam("{id}", "3a5c3221-c465-48c0-95b8-e9305786a271", None).len(),
            20
        );
    }

    #[test]
    fn sam_collisions_ignore_case_and_name_the_holder() {
        let mut o = Overrides::default();
        assert_eq!(
            o.sam_for("3a5c3221-c465-48c0-95b8-e9305786a271", None),
            None
        );
        o.sam_account_name = Some("{mailNickname}".into());
        assert_eq!(
            o.sam_for("3a5c3221-c465-48c0-95b8-e9305786a271", Some("//")),
            None,
            "nothing left of the template: AD generates one"
        );
        let mut idx = SamIndex::default();
        assert!(idx.clash("Sales").is_none());
        idx.take("Sales", "g1");
        let why = idx.clash("SALES").expect("taken");
        assert!(
            why.contains("\"SALES\"") && why.contains("group g1"),
            "{why}"
        );
    }

    #[test]
    fn lookups_ignore_case() {
        let mut o = Overrides::default();
        let u = Uuid::parse_str("3a5c3221-c465-48c0-95b8-e9305786a271").unwrap();
        o.exclude.insert(u);
        assert!(o.is_excluded("3A5C3221-C465-48C0-95B8-E9305786A271"));
        assert!(!o.is_protected("3a5c3221-c465-48c0-95b8-e9305786a271"));
    }
}
