//! A seeded tenant generator: any number of groups and memberships with a realistic mix of
//! Microsoft 365, security, mail-enabled security, distribution and synced groups, writeback
//! settings null/true/false, synced and cloud-only users, devices of every trust type, nested
//! groups, deleted groups, tenant settings, licences and on-premises synchronization.

use base64::Engine;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::store::Store;

/// What to generate: `groups=N,members=M,seed=S[,big=B]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenSpec {
    pub groups: usize,
    pub members: usize,
    pub seed: u64,
    /// Members of one extra Microsoft 365 group (0 = none), e.g. 250,000.
    pub big: usize,
}

impl Default for GenSpec {
    fn default() -> Self {
        GenSpec {
            groups: 100,
            members: 2000,
            seed: 1,
            big: 0,
        }
    }
}

impl std::str::FromStr for GenSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut spec = GenSpec::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected key=value"))?;
            let n: u64 = v
                .trim()
                .replace('_', "")
                .parse()
                .map_err(|_| format!("{part:?}: {v:?} is not a number"))?;
            let as_usize = |n: u64| usize::try_from(n).map_err(|_| format!("{part:?}: too large"));
            match k.trim() {
                "groups" => spec.groups = as_usize(n)?,
                "members" => spec.members = as_usize(n)?,
                "seed" => spec.seed = n,
                "big" => spec.big = as_usize(n)?,
                other => {
                    return Err(format!(
                        "unknown key {other:?} (expected groups, members, seed, big)"
                    ));
                }
            }
        }
        Ok(spec)
    }
}

fn guid(rng: &mut ChaCha8Rng) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

fn sid(domain: (u32, u32, u32), rid: usize) -> String {
    format!("S-1-5-21-{}-{}-{}-{}", domain.0, domain.1, domain.2, rid)
}

const WB_TYPES: [&str; 3] = [
    "universalDistributionGroup",
    "universalSecurityGroup",
    "universalMailEnabledSecurityGroup",
];

/// Build the tenant directly into a [`Store`] (no intermediate document, so 100,000 groups fit).
pub fn generate(spec: &GenSpec) -> Store {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let tenant_id = guid(&mut rng).to_string();
    let domain = (
        rng.random_range(1_000_000..4_000_000_000u32),
        rng.random_range(1_000_000..4_000_000_000u32),
        rng.random_range(1_000_000..4_000_000_000u32),
    );
    let mut store = Store::default();
    store.tenant_id = tenant_id.clone();

    let pool = (spec.members / 4).max(spec.big).max(1000);
    let mut users = Vec::with_capacity(pool);
    for i in 0..pool {
        let id = guid(&mut rng).to_string();
        let synced = rng.random_bool(0.7);
        let mut u = Map::new();
        u.insert("@odata.type".into(), json!("#microsoft.graph.user"));
        u.insert("id".into(), json!(id));
        u.insert("displayName".into(), json!(format!("User {i:06}")));
        u.insert(
            "userPrincipalName".into(),
            json!(format!("user{i:06}@contoso.com")),
        );
        if synced {
            let og = guid(&mut rng);
            u.insert("onPremisesSyncEnabled".into(), json!(true));
            u.insert(
                "onPremisesSecurityIdentifier".into(),
                json!(sid(domain, 1100 + i)),
            );
            u.insert("onPremisesObjectIdentifier".into(), json!(og.to_string()));
            u.insert(
                "onPremisesImmutableId".into(),
                json!(base64::engine::general_purpose::STANDARD.encode(og.to_bytes_le())),
            );
            u.insert(
                "onPremisesDistinguishedName".into(),
                json!(format!("CN=User {i:06},OU=Users,DC=contoso,DC=com")),
            );
        } else {
            for k in [
                "onPremisesSyncEnabled",
                "onPremisesSecurityIdentifier",
                "onPremisesObjectIdentifier",
                "onPremisesImmutableId",
                "onPremisesDistinguishedName",
            ] {
                u.insert(k.into(), Value::Null);
            }
        }
        users.push(id);
        store.add_object(u);
    }
    let ndev = pool / 20 + 10;
    let mut devices = Vec::with_capacity(ndev);
    for i in 0..ndev {
        let id = guid(&mut rng).to_string();
        let trust = ["ServerAd", "AzureAd", "Workplace"][rng.random_range(0..3usize)];
        let mut d = Map::new();
        d.insert("@odata.type".into(), json!("#microsoft.graph.device"));
        d.insert("id".into(), json!(id));
        d.insert("displayName".into(), json!(format!("PC-{i:05}")));
        d.insert("deviceId".into(), json!(guid(&mut rng).to_string()));
        d.insert("trustType".into(), json!(trust));
        let synced = trust == "ServerAd";
        d.insert(
            "onPremisesSyncEnabled".into(),
            if synced { json!(true) } else { Value::Null },
        );
        d.insert(
            "onPremisesSecurityIdentifier".into(),
            if synced {
                json!(sid(domain, 500_000 + i))
            } else {
                Value::Null
            },
        );
        devices.push(id);
        store.add_object(d);
    }

    // Membership counts: skewed towards the first groups, like real tenants.
    let n = spec.groups;
    let mut counts = vec![0usize; n];
    if n > 0 {
        for _ in 0..spec.members {
            let u: f64 = rng.random();
            let g = ((u * u) * n as f64) as usize;
            if let Some(c) = counts.get_mut(g.min(n - 1)) {
                *c += 1;
            }
        }
    }
    let group_ids: Vec<String> = (0..n).map(|_| guid(&mut rng).to_string()).collect();
    let mut big_id = None;
    if spec.big > 0 {
        big_id = Some(guid(&mut rng).to_string());
    }
    for (i, id) in group_ids.iter().enumerate() {
        let r: f64 = rng.random();
        let (kind, g) = group_object(&mut rng, id, i, r, domain);
        let want = counts.get(i).copied().unwrap_or(0).min(pool);
        let mut members = Vec::with_capacity(want);
        let mut left = want;
        // Some groups nest another group (only ones created earlier, so there are no cycles).
        if left > 0
            && i > 0
            && rng.random_bool(0.1)
            && let Some(child) = group_ids.get(rng.random_range(0..i))
        {
            members.push(child.clone());
            left -= 1;
        }
        if left > 0 && kind == "security" && rng.random_bool(0.3) {
            let k = rng.random_range(1..=left.min(5));
            let start = rng.random_range(0..devices.len());
            for j in 0..k {
                if let Some(d) = devices.get((start + j) % devices.len()) {
                    members.push(d.clone());
                }
            }
            left -= k;
        }
        let start = rng.random_range(0..pool);
        for j in 0..left {
            if let Some(u) = users.get((start + j) % pool) {
                members.push(u.clone());
            }
        }
        store.add_group(g, members, id);
    }
    if let Some(id) = big_id {
        let (_, mut g) = group_object(&mut rng, &id, n, 0.0, domain);
        g.insert("displayName".into(), json!("All Staff (large)"));
        g.insert(
            "writebackConfiguration".into(),
            json!({"isEnabled": true, "onPremisesGroupType": "universalDistributionGroup"}),
        );
        let members = users.iter().take(spec.big).cloned().collect();
        store.add_group(g, members, &id);
    }
    for i in 0..(n / 50 + 1) {
        let id = guid(&mut rng).to_string();
        let (_, mut g) = group_object(&mut rng, &id, n + 1 + i, 0.0, domain);
        g.insert(
            "deletedDateTime".into(),
            json!(format!("2026-11-{:02}T08:00:00Z", 1 + i % 25)),
        );
        store.add_deleted(g);
    }
    let writeback_default = if spec.seed.is_multiple_of(2) {
        "true"
    } else {
        "false"
    };
    let settings = vec![json!({
        "id": guid(&mut rng).to_string(),
        "displayName": "Group.Unified",
        "templateId": "62375ab9-6b52-47ed-826b-58e47e0e304b",
        "values": [
            {"name": "EnableGroupCreation", "value": "True"},
            {"name": "AllowGuestsToAccessGroups", "value": "True"},
            {"name": "NewUnifiedGroupWritebackDefault", "value": writeback_default}
        ]
    })];
    let skus = vec![json!({
        "accountName": "Contoso", "appliesTo": "User", "capabilityStatus": "Enabled", "consumedUnits": 180,
        "id": format!("{tenant_id}_06ebc4ee-1bb5-47dd-8120-11324bc54e06"),
        "prepaidUnits": {"enabled": 250, "lockedOut": 0, "suspended": 0, "warning": 0},
        "skuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06", "skuPartNumber": "SPE_E5",
        "servicePlans": [
            {"servicePlanId": "41781fb2-bc02-4b7c-bd55-b576c07bb09d", "servicePlanName": "AAD_PREMIUM", "provisioningStatus": "Success", "appliesTo": "User"},
            {"servicePlanId": "eec0eb4f-6444-4f95-aba0-50c24d67f998", "servicePlanName": "AAD_PREMIUM_P2", "provisioningStatus": "Success", "appliesTo": "User"}
        ]
    })];
    let onprem = json!({
        "id": tenant_id,
        "configuration": {
            "synchronizationClientVersion": "2.4.27.0",
            "synchronizationInterval": "PT30M",
            "writebackConfiguration": {"unifiedGroupContainer": "OU=Cloud Groups,DC=contoso,DC=com", "userContainer": null}
        },
        "features": {"unifiedGroupWritebackEnabled": true, "groupWriteBackEnabled": true, "deviceWritebackEnabled": spec.seed.is_multiple_of(3), "passwordSyncEnabled": true}
    });
    store.set_sections(Some(onprem), Some(settings), Some(skus));
    store
}

fn group_object(
    rng: &mut ChaCha8Rng,
    id: &str,
    i: usize,
    r: f64,
    domain: (u32, u32, u32),
) -> (&'static str, Map<String, Value>) {
    let nick = format!("grp{i:06}");
    let is_enabled = match rng.random_range(0..3u8) {
        0 => Value::Null,
        1 => json!(true),
        _ => json!(false),
    };
    let (kind, types, mail_en, sec_en, synced) = if r < 0.40 {
        let dynamic = rng.random_bool(0.05);
        (
            "m365",
            if dynamic {
                json!(["Unified", "DynamicMembership"])
            } else {
                json!(["Unified"])
            },
            true,
            rng.random_bool(0.1),
            false,
        )
    } else if r < 0.75 {
        ("security", json!([]), false, true, false)
    } else if r < 0.85 {
        ("mail-security", json!([]), true, true, false)
    } else if r < 0.93 {
        ("distribution", json!([]), true, false, false)
    } else {
        ("synced", json!([]), false, true, true)
    };
    let dynamic = types.as_array().is_some_and(|a| a.len() > 1);
    let wb_type = match kind {
        "m365" if !is_enabled.is_null() => json!(WB_TYPES[rng.random_range(0..3usize)]),
        "security" if is_enabled == json!(true) => json!("universalSecurityGroup"),
        _ => Value::Null,
    };
    let mut g = Map::new();
    g.insert("id".into(), json!(id));
    g.insert(
        "displayName".into(),
        json!(format!("{} {i:06}", kind_label(kind))),
    );
    g.insert(
        "description".into(),
        if rng.random_bool(0.5) {
            json!(format!("Generated {kind} group"))
        } else {
            Value::Null
        },
    );
    g.insert("groupTypes".into(), types);
    g.insert("mailEnabled".into(), json!(mail_en));
    g.insert("securityEnabled".into(), json!(sec_en));
    g.insert(
        "mail".into(),
        if mail_en {
            json!(format!("{nick}@contoso.com"))
        } else {
            Value::Null
        },
    );
    g.insert("mailNickname".into(), json!(nick));
    g.insert(
        "proxyAddresses".into(),
        if mail_en {
            json!([format!("SMTP:{nick}@contoso.com")])
        } else {
            json!([])
        },
    );
    g.insert(
        "membershipRule".into(),
        if dynamic {
            json!("user.department -eq \"Sales\"")
        } else {
            Value::Null
        },
    );
    g.insert(
        "onPremisesSyncEnabled".into(),
        if synced { json!(true) } else { Value::Null },
    );
    g.insert(
        "onPremisesSecurityIdentifier".into(),
        if synced {
            json!(sid(domain, 200_000 + i))
        } else {
            Value::Null
        },
    );
    g.insert(
        "isAssignableToRole".into(),
        if kind == "security" {
            json!(rng.random_bool(0.05))
        } else {
            Value::Null
        },
    );
    g.insert(
        "visibility".into(),
        if kind == "m365" {
            json!(if rng.random_bool(0.5) {
                "Private"
            } else {
                "Public"
            })
        } else {
            Value::Null
        },
    );
    g.insert(
        "createdDateTime".into(),
        json!(format!(
            "2025-{:02}-{:02}T10:00:00Z",
            1 + i % 12,
            1 + i % 28
        )),
    );
    g.insert("writebackConfiguration".into(), json!({"isEnabled": if synced { Value::Null } else { is_enabled }, "onPremisesGroupType": wb_type}));
    (kind, g)
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "m365" => "Team",
        "security" => "Sec",
        "mail-security" => "MailSec",
        "distribution" => "DL",
        _ => "Synced",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_and_rejects() {
        let s: GenSpec = "groups=10,members=200,seed=7,big=250_000".parse().unwrap();
        assert_eq!(
            s,
            GenSpec {
                groups: 10,
                members: 200,
                seed: 7,
                big: 250_000
            }
        );
        assert!("groups=x".parse::<GenSpec>().is_err());
        assert!("colour=3".parse::<GenSpec>().is_err());
    }

    #[test]
    fn seeded_generation_is_deterministic_and_sized() {
        let spec = GenSpec {
            groups: 50,
            members: 600,
            seed: 3,
            big: 0,
        };
        let a = generate(&spec).to_tenant();
        let b = generate(&spec).to_tenant();
        assert_eq!(a, b);
        let groups = a["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 50);
        let total: usize = groups
            .iter()
            .map(|g| g["members"].as_array().unwrap().len())
            .sum();
        assert_eq!(total, 600);
        let c = generate(&GenSpec { seed: 4, ..spec }).to_tenant();
        assert_ne!(a, c);
        // The mix has every kind of member.
        let types: std::collections::BTreeSet<String> = groups
            .iter()
            .flat_map(|g| {
                g["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["@odata.type"].as_str().unwrap().to_string())
            })
            .collect();
        assert!(
            types.contains("#microsoft.graph.user") && types.contains("#microsoft.graph.group"),
            "{types:?}"
        );
    }

    #[test]
    fn big_group_has_its_members() {
        let t = generate(&GenSpec {
            groups: 2,
            members: 10,
            seed: 1,
            big: 3000,
        })
        .to_tenant();
        let g = t["groups"].as_array().unwrap().last().unwrap();
        assert_eq!(g["members"].as_array().unwrap().len(), 3000);
    }
}
