//! Integration tests: AD over LDAP against the Samba lab DC started by `scripts/samba-dc.sh up`.
//! Every test seeds its own uniquely named OUs, so tests run in parallel and can be re-run.
//! Without a DC they print a loud "skipped" line, unless GWB_REQUIRE_SAMBA=1 makes them fail.

mod e2e;
pub mod lab;
pub mod proxy;

use std::collections::HashSet;
use std::path::Path;

use gwb::ad::ldif::{self, Entry};
use gwb::ad::{AdKind, AdSnapshot, Dn, GroupScope, ids};
use gwb::ldap::MemberRefs;

use crate::util::gwb;
use lab::{attr, vals};

const UNIVERSAL_SECURITY: i32 = -2147483640;
const UNIVERSAL_DISTRIBUTION: i32 = 8;
const GLOBAL_SECURITY: i32 = -2147483646;
const DOMAIN_LOCAL_SECURITY: i32 = -2147483644;

fn snapshot(entries: &[Entry]) -> AdSnapshot {
    AdSnapshot::from_entries(entries).expect("collected entries form a snapshot")
}

fn dn(s: &str) -> Dn {
    Dn::parse(s).expect("DN")
}

fn short(name: &str) -> &str {
    &name[name.len() - 12..]
}

fn collect_cmd(lab: &lab::Lab, out: &Path) -> assert_cmd::Command {
    let mut c = gwb();
    c.env_remove("GWB_LDAP_PASSWORD")
        .env_remove("GWB_LDAP_URL")
        .env_remove("GWB_LDAP_BIND_DN");
    c.args(["collect", "--out"]).arg(out);
    c.args(["--bind-dn", lab.var("GWB_TEST_LDAP_BIND_DN")]);
    c
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn discovers_a_seeded_directory() {
    let Some(lab) = lab::lab() else { return };
    let name = lab.unique("disc");
    let id = short(&name).to_string();
    let base = lab.base().to_string();
    let ou = format!("OU={name},{base}");
    let refs_ou = format!("OU={name}-refs,{base}");
    let anchor = uuid::Uuid::new_v4();
    let consistency = uuid::Uuid::new_v4();
    let device_id = uuid::Uuid::new_v4();
    let devices = format!("CN={name}-devices,{base}");
    let device = format!("CN={device_id},{devices}");
    let (carol_sid, ref_dl_guid) = lab.run(async |a| {
        a.add_ou(&ou).await;
        a.add_ou(&refs_ou).await;
        a.add_user(&format!("CN=Alice,{ou}"), &format!("a{id}"), None)
            .await;
        a.add_user(&format!("CN=Bob \\, Jr.,{ou}"), &format!("b{id}"), None)
            .await;
        a.add(
            &format!("CN=PC1,{ou}"),
            vec![
                attr(
                    "objectClass",
                    &["top", "person", "organizationalPerson", "user", "computer"],
                ),
                attr("sAMAccountName", &[&format!("pc{id}$")]),
            ],
        )
        .await;
        let uni = format!("CN=Universal Sec,{ou}");
        a.add_group(&uni, &format!("us{id}"), UNIVERSAL_SECURITY)
            .await;
        let anchor_value = format!("Group_{anchor}");
        a.replace(&uni, "adminDescription", &anchor_value).await;
        a.replace(&uni, "msDS-ExternalDirectoryObjectId", &anchor_value)
            .await;
        a.replace(&uni, "description", "written back").await;
        a.add_group(
            &format!("CN=Universal Dist,{ou}"),
            &format!("ud{id}"),
            UNIVERSAL_DISTRIBUTION,
        )
        .await;
        a.add_group(
            &format!("CN=Global Sec,{ou}"),
            &format!("gs{id}"),
            GLOBAL_SECURITY,
        )
        .await;
        a.add_group(
            &format!("CN=DomainLocal Sec,{ou}"),
            &format!("dl{id}"),
            DOMAIN_LOCAL_SECURITY,
        )
        .await;
        a.add_members(
            &uni,
            &[
                format!("CN=Alice,{ou}"),
                format!("CN=Bob \\, Jr.,{ou}"),
                format!("CN=PC1,{ou}"),
                format!("CN=Global Sec,{ou}"),
            ],
        )
        .await;
        // Objects outside the target OU that cloud members point to.
        a.add_user(&format!("CN=Carol,{refs_ou}"), &format!("c{id}"), None)
            .await;
        a.add_group(
            &format!("CN=Ref DL,{refs_ou}"),
            &format!("rd{id}"),
            DOMAIN_LOCAL_SECURITY,
        )
        .await;
        a.add_user(
            &format!("CN=Not Referenced,{refs_ou}"),
            &format!("n{id}"),
            None,
        )
        .await;
        // A device written back by device writeback (msDS-Device under a device container).
        a.add(
            &devices,
            vec![attr("objectClass", &["top", "msDS-DeviceContainer"])],
        )
        .await;
        let mut dev_attrs = vec![
            attr("objectClass", &["top", "msDS-Device"]),
            attr("displayName", &["Laptop 7"]),
            attr("msDS-IsEnabled", &["TRUE"]),
            attr("altSecurityIdentities", &["X509:<SHA1-TP-PUBKEY>gwbtest"]),
        ];
        dev_attrs.push((
            b"msDS-DeviceID".to_vec(),
            HashSet::from([ids::guid_to_bytes(&device_id).to_vec()]),
        ));
        a.add(&device, dev_attrs).await;
        let dave = format!("CN=Dave,{refs_ou}");
        a.add_user(&dave, &format!("d{id}"), None).await;
        a.replace_bin(
            &dave,
            "mS-DS-ConsistencyGuid",
            &ids::guid_to_bytes(&consistency),
        )
        .await;
        let carol = a
            .read(&format!("CN=Carol,{refs_ou}"), &["objectSid"])
            .await
            .expect("Carol");
        let dl = a
            .read(&format!("CN=Ref DL,{refs_ou}"), &["objectGUID"])
            .await
            .expect("Ref DL");
        (
            ids::sid_from_bytes(carol.first("objectSid").expect("sid")).expect("sid"),
            ids::guid_from_bytes(dl.first("objectGUID").expect("guid")).expect("guid"),
        )
    });

    let refs = MemberRefs {
        sids: vec![carol_sid.clone()],
        guids: vec![ref_dl_guid, consistency],
        device_ids: vec![device_id, uuid::Uuid::new_v4()],
        ..Default::default()
    };
    let got = gwb::ldap::collect_with_stats(&lab.admin_args(), Some(&ou), &refs).expect("collect");
    let snap = snapshot(&got.entries);

    // Facts about the domain and forest.
    assert_eq!(snap.domain.as_ref().map(|d| d.key()), Some(dn(&base).key()));
    assert!(snap.domain_functional_level.is_some_and(|l| l >= 3));
    assert!(snap.forest_functional_level.is_some_and(|l| l >= 3));
    assert_eq!(
        snap.has_schema_attribute("msDS-ExternalDirectoryObjectId"),
        Some(true)
    );
    assert_eq!(snap.has_schema_attribute("proxyAddresses"), Some(true));
    assert_eq!(
        snap.recycle_bin_enabled,
        Some(false),
        "Samba's Recycle Bin feature object is captured, not enabled"
    );
    let rights = snap
        .ou_rights(&dn(&ou))
        .expect("rights on the target OU captured");
    assert!(
        rights.can_create_groups,
        "the administrator may create groups: {:?}",
        rights.child_classes
    );

    // Everything in the target OU, with the right kinds.
    let kind = |cn: &str| {
        snap.by_dn(&dn(&format!("CN={cn},{ou}")))
            .unwrap_or_else(|| panic!("{cn} missing"))
            .kind
    };
    assert_eq!(kind("Alice"), AdKind::User);
    assert_eq!(kind("Bob \\, Jr."), AdKind::User);
    assert_eq!(kind("PC1"), AdKind::Computer);
    assert_eq!(
        kind("Universal Sec"),
        AdKind::Group {
            scope: GroupScope::Universal,
            security: true
        }
    );
    assert_eq!(
        kind("Universal Dist"),
        AdKind::Group {
            scope: GroupScope::Universal,
            security: false
        }
    );
    assert_eq!(
        kind("Global Sec"),
        AdKind::Group {
            scope: GroupScope::Global,
            security: true
        }
    );
    assert_eq!(
        kind("DomainLocal Sec"),
        AdKind::Group {
            scope: GroupScope::DomainLocal,
            security: true
        }
    );
    let uni = snap
        .by_dn(&dn(&format!("CN=Universal Sec,{ou}")))
        .expect("group");
    assert_eq!(uni.cloud_anchor(), Some(anchor));
    assert_eq!(
        uni.external_directory_object_id.as_deref(),
        Some(format!("Group_{anchor}").as_str())
    );
    assert_eq!(uni.description.as_deref(), Some("written back"));
    assert!(uni.guid.is_some() && uni.sid.is_some() && uni.sam_account_name.is_some());
    let members: HashSet<String> = uni.members.iter().map(|m| dn(m).key()).collect();
    let expected: HashSet<String> = ["Alice", "Bob \\, Jr.", "PC1", "Global Sec"]
        .iter()
        .map(|cn| dn(&format!("CN={cn},{ou}")).key())
        .collect();
    assert_eq!(members, expected);

    // Objects cloud members point to, found by SID and GUID; nothing else from outside.
    let carol = snap.by_sid(&carol_sid).expect("Carol found by SID");
    assert_eq!(carol.kind, AdKind::User);
    assert_eq!(carol.dn, dn(&format!("CN=Carol,{refs_ou}")));
    let ref_dl = snap.by_guid(&ref_dl_guid).expect("Ref DL found by GUID");
    assert_eq!(
        ref_dl.kind,
        AdKind::Group {
            scope: GroupScope::DomainLocal,
            security: true
        }
    );
    assert!(
        snap.by_dn(&dn(&format!("CN=Not Referenced,{refs_ou}")))
            .is_none()
    );
    // A sourceAnchor that is an mS-DS-ConsistencyGuid (not the objectGUID) is found too.
    let dave = snap
        .by_dn(&dn(&format!("CN=Dave,{refs_ou}")))
        .expect("Dave found by mS-DS-ConsistencyGuid");
    assert_eq!(dave.kind, AdKind::User);
    // A device member found by its Entra deviceId.
    let dev = snap
        .by_device_id(&device_id)
        .expect("device found by msDS-DeviceID");
    assert_eq!(dev.kind, AdKind::Device);
    assert_eq!(dev.dn, dn(&device));

    // Stable order: parents before children, and identical on a second run.
    let pos = |d: &str| {
        got.entries
            .iter()
            .position(|e| dn(&e.dn) == dn(d))
            .expect("entry")
    };
    assert!(pos(&base) < pos(&ou) && pos(&ou) < pos(&format!("CN=Alice,{ou}")));
    let again = gwb::ldap::collect(&lab.admin_args(), Some(&ou), &refs).expect("collect again");
    // Stamped groups elsewhere in the domain are read too; tests running alongside create
    // and delete theirs, so only this test's part of the directory is compared.
    let ou_dn = dn(&ou);
    let strip = |es: &[Entry]| -> Vec<String> {
        es.iter()
            .filter(|e| !e.dn.is_empty())
            .filter(|e| {
                gwb::core::ownership::stamp(
                    e.text("adminDescription"),
                    e.text("msDS-ExternalDirectoryObjectId"),
                )
                .is_none()
                    || dn(&e.dn).is_within(&ou_dn)
            })
            .map(|e| e.dn.clone())
            .collect()
    };
    assert_eq!(strip(&got.entries), strip(&again));

    // The binary writes the same facts into ad.ldif.
    let out = lab.dir.path().join("bundle");
    collect_cmd(&lab, &out)
        .args([
            "--ldap-url",
            lab.var("GWB_TEST_LDAP_URL"),
            "--ca-file",
            lab.var("GWB_TEST_LDAP_CA_FILE"),
            "--target-ou",
            &ou,
        ])
        .arg("--password-file")
        .arg(lab.password_file())
        .assert()
        .success();
    let text = std::fs::read_to_string(out.join("ad.ldif")).expect("ad.ldif");
    let from_file = snapshot(&ldif::parse(&text).expect("ad.ldif parses"));
    assert_eq!(
        from_file
            .by_dn(&dn(&format!("CN=Universal Sec,{ou}")))
            .map(|g| g.members.len()),
        Some(4)
    );
    assert_eq!(
        from_file.ou_rights(&dn(&ou)).map(|r| r.can_create_groups),
        Some(true)
    );
    assert!(!text.contains(lab.var("GWB_TEST_LDAP_PASSWORD")));

    lab.run(async |a| {
        a.delete_tree(&ou).await;
        a.delete_tree(&refs_ou).await;
        a.delete_tree(&devices).await;
    });
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn reads_ten_thousand_members_through_range_windows() {
    let Some(lab) = lab::lab() else { return };
    // Seeding 10,000 objects takes a while and deleting them longer still, so this OU is a
    // fixture kept on the (throwaway) lab DC and seeded only when it is not complete.
    const N: usize = 10_000;
    let ou = format!("OU=gwb-range-fixture-{N},{}", lab.base());
    let group = format!("CN=Big,{ou}");
    let contacts: Vec<String> = (0..N).map(|i| format!("CN=c{i:05},{ou}")).collect();
    lab.run(async |a| {
        let have = a
            .read(&group, &["member"])
            .await
            .map(|e| e.values("member").count());
        if have == Some(N) {
            return;
        }
        a.add_ou(&ou).await;
        let mut set = tokio::task::JoinSet::new();
        for chunk in contacts.chunks(N / 8) {
            let mut ldap = a.ldap.clone();
            let chunk = chunk.to_vec();
            set.spawn(async move {
                for dn in chunk {
                    let r = ldap
                        .add(
                            &dn,
                            vec![attr(
                                "objectClass",
                                &["top", "person", "organizationalPerson", "contact"],
                            )],
                        )
                        .await
                        .expect("add");
                    assert!(r.rc == 0 || r.rc == 68, "{dn}: {r:?}");
                }
            });
        }
        while let Some(r) = set.join_next().await {
            r.expect("seeding task");
        }
        a.delete_tree(&group).await;
        a.add_group(&group, "gwb-range-fixture-big", UNIVERSAL_SECURITY)
            .await;
        a.add_members(&group, &contacts).await;
    });

    let got = gwb::ldap::collect_with_stats(&lab.admin_args(), Some(&ou), &MemberRefs::default())
        .expect("collect");
    let snap = snapshot(&got.entries);
    let big = snap.by_dn(&dn(&group)).expect("the big group");
    assert_eq!(big.members.len(), N);
    let keys: HashSet<String> = big.members.iter().map(|m| dn(m).key()).collect();
    let expected: HashSet<String> = contacts.iter().map(|c| dn(c).key()).collect();
    assert_eq!(keys, expected, "every member DN comes back exactly once");
    // 0-1499 arrives with the subtree search; 1500-2999 … 9000-10499 are six more windows.
    assert!(
        got.stats.range_requests >= 6,
        "expected explicit range windows, got {:?}",
        got.stats
    );
    // The subtree search over 10,001 objects came in pages of 1000.
    assert!(
        got.stats.requests >= 10 + got.stats.range_requests,
        "expected paged requests, got {:?}",
        got.stats
    );
    // The entry in ad.ldif carries a plain `member` attribute, not the range option.
    let e = got
        .entries
        .iter()
        .find(|e| dn(&e.dn) == dn(&group))
        .expect("entry");
    assert!(e.attrs.iter().any(|(n, v)| n == "member" && v.len() == N));
    assert!(
        !e.attrs
            .iter()
            .any(|(n, _)| n.to_ascii_lowercase().contains("range="))
    );
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn tls_and_bind_failures_are_explained() {
    let Some(lab) = lab::lab() else { return };
    let url = lab.var("GWB_TEST_LDAP_URL");
    let out = lab.dir.path().join("tls");
    let pw = lab.password_file();

    // A CA that did not issue the DC's certificate.
    let a = collect_cmd(&lab, &out)
        .args([
            "--ldap-url",
            url,
            "--ca-file",
            lab.var("GWB_TEST_LDAP_OTHER_CA_FILE"),
        ])
        .arg("--password-file")
        .arg(&pw)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("certificate is not trusted") && err.contains("--ca-file"),
        "{err}"
    );

    // The system trust store does not know the lab CA.
    let a = collect_cmd(&lab, &out)
        .args(["--ldap-url", url])
        .arg("--password-file")
        .arg(&pw)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("--ca-file"), "{err}");

    // Plain ldap:// with a simple bind: gwb refuses before sending anything.
    let a = collect_cmd(&lab, &out)
        .args(["--ldap-url", lab.var("GWB_TEST_LDAP_STARTTLS_URL")])
        .arg("--password-file")
        .arg(&pw)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("refusing a simple bind over plain ldap://") && err.contains("--starttls"),
        "{err}"
    );

    // Forced through with --allow-insecure-bind, the DC itself refuses (strong auth required):
    // the result code is explained, and the override is warned about.
    let a = collect_cmd(&lab, &out)
        .args([
            "--ldap-url",
            lab.var("GWB_TEST_LDAP_STARTTLS_URL"),
            "--allow-insecure-bind",
        ])
        .arg("--password-file")
        .arg(&pw)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("WARN") && err.contains("unencrypted"), "{err}");
    assert!(
        err.contains("strongerAuthRequired") && err.contains("use ldaps://"),
        "{err}"
    );
    assert!(!err.contains(lab.var("GWB_TEST_LDAP_PASSWORD")));

    // Wrong password: AD's sub-code decoded, the password never echoed.
    let wrong = "Zq9-definitely-not-it";
    let a = collect_cmd(&lab, &out)
        .args([
            "--ldap-url",
            url,
            "--ca-file",
            lab.var("GWB_TEST_LDAP_CA_FILE"),
        ])
        .env("GWB_LDAP_PASSWORD", wrong)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("invalidCredentials") && err.contains("data 52e"),
        "{err}"
    );
    assert!(!err.contains(wrong));

    // StartTLS on ldap:// with the right CA, password from the environment.
    let starttls_out = lab.dir.path().join("starttls");
    collect_cmd(&lab, &starttls_out)
        .args([
            "--ldap-url",
            lab.var("GWB_TEST_LDAP_STARTTLS_URL"),
            "--starttls",
            "--ca-file",
            lab.var("GWB_TEST_LDAP_CA_FILE"),
        ])
        .env("GWB_LDAP_PASSWORD", lab.var("GWB_TEST_LDAP_PASSWORD"))
        .assert()
        .success();
    let snap = snapshot(
        &ldif::parse(&std::fs::read_to_string(starttls_out.join("ad.ldif")).expect("ad.ldif"))
            .expect("parse"),
    );
    assert_eq!(snap.domain.map(|d| d.key()), Some(dn(lab.base()).key()));

    // The explicit opt-out works and warns.
    let a = collect_cmd(&lab, &lab.dir.path().join("insecure"))
        .args(["--ldap-url", url, "--insecure-skip-tls-verify"])
        .arg("--password-file")
        .arg(&pw)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("WARN") && err.contains("NOT checked"), "{err}");

    // UPN and down-level names bind too.
    for name in [
        lab.var("GWB_TEST_LDAP_BIND_UPN"),
        lab.var("GWB_TEST_LDAP_BIND_DOWNLEVEL"),
    ] {
        let entries = gwb::ldap::collect(
            &lab.args_as(name, lab.var("GWB_TEST_LDAP_PASSWORD")),
            None,
            &MemberRefs::default(),
        )
        .unwrap_or_else(|e| panic!("bind as {name}: {e:#}"));
        assert!(snapshot(&entries).domain.is_some(), "{name}");
    }
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn exchange_prepared_and_not_prepared() {
    let Some(lab) = lab::lab() else { return };
    let _exchange = lab::EXCHANGE.lock().unwrap_or_else(|e| e.into_inner());
    let config = lab.var("GWB_TEST_LDAP_CONFIG_DN").to_string();
    let schema = lab.var("GWB_TEST_LDAP_SCHEMA_DN").to_string();
    let base = lab.base().to_string();
    let exchange = format!("CN=Microsoft Exchange,CN=Services,{config}");
    let org = format!("CN=Lab Organization,{exchange}");
    let meso = format!("CN=Microsoft Exchange System Objects,{base}");
    let version_pt = format!("CN=ms-Exch-Schema-Version-Pt,{schema}");

    // Not prepared: schema extended, no organization or MESO objects.
    lab.run(async |a| {
        a.delete_tree(&exchange).await;
        a.delete_tree(&meso).await;
        a.replace(&version_pt, "rangeUpper", "15334").await;
    });
    let snap = snapshot(
        &gwb::ldap::collect(&lab.admin_args(), None, &MemberRefs::default()).expect("collect"),
    );
    assert_eq!(snap.exchange.schema_range_upper, Some(15334));
    assert_eq!(snap.exchange.organization_object_version, None);
    assert_eq!(snap.exchange.domain_object_version, None);
    assert_eq!(snap.exchange.organization_dn, None);

    // Prepared to the Exchange SE / 2019 CU15 level.
    lab.run(async |a| {
        a.add(&exchange, vec![attr("objectClass", &["top", "container"])])
            .await;
        a.add(
            &org,
            vec![
                attr(
                    "objectClass",
                    &["top", "container", "msExchOrganizationContainer"],
                ),
                attr("objectVersion", &["16763"]),
            ],
        )
        .await;
        a.add(
            &meso,
            vec![
                attr(
                    "objectClass",
                    &["top", "container", "msExchSystemObjectsContainer"],
                ),
                attr("objectVersion", &["13243"]),
            ],
        )
        .await;
        a.replace(&version_pt, "rangeUpper", "17003").await;
    });
    let snap = snapshot(
        &gwb::ldap::collect(&lab.admin_args(), None, &MemberRefs::default()).expect("collect"),
    );
    assert_eq!(snap.exchange.schema_range_upper, Some(17003));
    assert_eq!(snap.exchange.organization_object_version, Some(16763));
    assert_eq!(snap.exchange.domain_object_version, Some(13243));
    assert_eq!(
        snap.exchange.organization_dn.map(|d| dn(&d)),
        Some(dn(&org))
    );

    lab.run(async |a| {
        a.delete_tree(&exchange).await;
        a.delete_tree(&meso).await;
        a.replace(&version_pt, "rangeUpper", "15334").await;
        assert!(a.read(&meso, &["cn"]).await.is_none());
        let _ = vals(&[]);
    });
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn account_without_rights_on_the_ou() {
    let Some(lab) = lab::lab() else { return };
    let name = lab.unique("rights");
    let ou = format!("OU={name},{}", lab.base());
    let user = format!("CN=Reader,{ou}");
    let password = "Gwb-Lab-Reader-42!";
    let anchor = uuid::Uuid::new_v4();
    let written = format!("CN=Group_{anchor},{ou}");
    lab.run(async |a| {
        a.add_ou(&ou).await;
        a.add_user(&user, &format!("r{}", short(&name)), Some(password))
            .await;
        a.add_group(&written, &format!("w{}", short(&name)), UNIVERSAL_SECURITY)
            .await;
        a.replace(&written, "adminDescription", &format!("Group_{anchor}"))
            .await;
    });

    let entries = gwb::ldap::collect(
        &lab.args_as(&user, password),
        Some(&ou),
        &MemberRefs::default(),
    )
    .expect("collect as a plain user");
    let snap = snapshot(&entries);
    let rights = snap
        .ou_rights(&dn(&ou))
        .expect("rights captured even when there are none");
    assert!(
        !rights.can_create_groups,
        "a plain user must not be able to create groups: {:?}",
        rights.child_classes
    );
    assert!(
        !rights
            .child_classes
            .iter()
            .any(|c| c.eq_ignore_ascii_case("group"))
    );
    // Nor change the members of written-back groups (read on one of them).
    let reader_allowed = snap
        .by_dn(&dn(&written))
        .and_then(|o| o.allowed_attributes.clone())
        .expect("allowedAttributesEffective captured on the written-back group");
    assert!(
        !reader_allowed
            .iter()
            .any(|a| a.eq_ignore_ascii_case("member")),
        "{reader_allowed:?}"
    );
    // The administrator, for contrast, may.
    let admin = snapshot(
        &gwb::ldap::collect(&lab.admin_args(), Some(&ou), &MemberRefs::default()).expect("collect"),
    );
    assert_eq!(
        admin.ou_rights(&dn(&ou)).map(|r| r.can_create_groups),
        Some(true)
    );
    let admin_allowed = admin
        .by_dn(&dn(&written))
        .and_then(|o| o.allowed_attributes.clone())
        .expect("captured for the administrator too");
    assert!(
        admin_allowed
            .iter()
            .any(|a| a.eq_ignore_ascii_case("member")),
        "{admin_allowed:?}"
    );

    // --probe-rights tries it for real: the reader is denied, the administrator may create,
    // change and delete, and the probe leaves nothing behind.
    let mut reader_args = lab.args_as(&user, password);
    reader_args.probe_rights = true;
    let probed = snapshot(
        &gwb::ldap::collect(&reader_args, Some(&ou), &MemberRefs::default())
            .expect("probe as reader"),
    );
    let results = probed
        .ou_probe
        .get(&dn(&ou).key())
        .expect("probe results recorded")
        .clone();
    assert!(results[0].starts_with("create=denied"), "{results:?}");
    assert_eq!(results[1..], ["modify=not tried", "delete=not tried"]);
    let mut admin_args = lab.admin_args();
    admin_args.probe_rights = true;
    let probed = snapshot(
        &gwb::ldap::collect(&admin_args, Some(&ou), &MemberRefs::default())
            .expect("probe as admin"),
    );
    assert_eq!(
        probed.ou_probe.get(&dn(&ou).key()).expect("recorded"),
        &["create=ok", "modify=ok", "delete=ok"]
    );
    let after = snapshot(
        &gwb::ldap::collect(&lab.admin_args(), Some(&ou), &MemberRefs::default()).expect("collect"),
    );
    assert!(
        !after.objects.iter().any(|o| o
            .dn
            .rdn_value()
            .is_some_and(|v| v.starts_with("gwb-rights-probe-"))),
        "the probe group was deleted"
    );

    // A target OU that does not exist is reported by its absence, not as an error.
    let missing = format!("OU=missing-{name},{}", lab.base());
    let snap = snapshot(
        &gwb::ldap::collect(&lab.admin_args(), Some(&missing), &MemberRefs::default())
            .expect("collect"),
    );
    assert!(snap.by_dn(&dn(&missing)).is_none());
    assert!(snap.ou_rights(&dn(&missing)).is_none());

    lab.run(async |a| a.delete_tree(&ou).await);
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn reconnects_once_when_the_connection_drops() {
    let Some(lab) = lab::lab() else { return };
    // The first connection is cut once ~12 KB came back: after the TLS handshake, the bind and
    // the rootDSE, in the middle of discovery. gwb reconnects, binds again and finishes.
    let relay = proxy::start("127.0.0.1:636", 12 * 1024);
    let mut args = lab.admin_args();
    args.ldap_url = Some(format!("ldaps://127.0.0.1:{}", relay.port));
    let got = gwb::ldap::collect_with_stats(
        &args,
        Some(&format!("CN=Users,{}", lab.base())),
        &MemberRefs::default(),
    )
    .expect("discovery survives one dropped connection");
    assert_eq!(got.stats.reconnects, 1, "{:?}", got.stats);
    assert_eq!(
        relay.connections.load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    let snap = snapshot(&got.entries);
    assert!(snap.domain.is_some() && snap.schema_captured && snap.recycle_bin_enabled.is_some());
    assert!(
        snap.by_dn(&dn(&format!("CN=Administrator,CN=Users,{}", lab.base())))
            .is_some()
    );
}

#[test]
#[cfg_attr(not(gwb_lab), ignore = "needs the Samba lab DC: run scripts/test.sh")]
fn a_dc_that_never_answers_times_out() {
    let Some(lab) = lab::lab() else { return };
    let port = proxy::silent();
    let mut args = lab.admin_args();
    args.ldap_url = Some(format!("ldaps://127.0.0.1:{port}"));
    args.ldap_timeout = 1;
    let started = std::time::Instant::now();
    let err = gwb::ldap::collect(&args, None, &MemberRefs::default()).expect_err("no answer");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("timed out") && msg.contains("--ldap-timeout"),
        "{msg}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
