#!/usr/bin/env python3
"""Regenerate fixtures/contoso, a synthetic but realistic snapshot bundle.

Contoso plans group writeback: the original writeback (v1) is off, v2 is off and can no longer be
enabled (Entra Connect 2.4.27.0), AD is prepared for Exchange 2016 CU23, the Recycle Bin is off, and
the target OU already holds a few groups written back earlier. Every rule of the decision core is
exercised by at least one group. Deterministic: ids are uuid5 of names.
"""
import base64, json, os, struct, sys, uuid

if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
    print(__doc__)
    print("Usage: make-contoso-fixture.py [OUT_DIR]   (default: fixtures/contoso)")
    sys.exit(0)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures", "contoso")
NS = uuid.UUID("6f1c1c9e-7f0a-4c59-9d1a-0a6e3c1b2d00")
TENANT = "a3b5c7d9-1f2e-4d3c-8b4a-5e6f7a8b9c0d"
DOMAIN = "DC=contoso,DC=com"
OU = "OU=Cloud Groups,OU=Contoso," + DOMAIN
USERS_OU = "OU=Users,OU=Contoso," + DOMAIN
COMPUTERS_OU = "OU=Computers,OU=Contoso," + DOMAIN
GROUPS_OU = "OU=Groups,OU=Contoso," + DOMAIN
SID_BASE = "S-1-5-21-1004336348-1177238915-682003330"

def gid(name): return str(uuid.uuid5(NS, "group:" + name))
def oid(name): return str(uuid.uuid5(NS, "obj:" + name))
def adguid(name): return uuid.uuid5(NS, "ad:" + name)

def sid_bytes(s):
    p = s.split("-"); auth = int(p[2]); subs = [int(x) for x in p[3:]]
    return bytes([1, len(subs)]) + auth.to_bytes(6, "big") + b"".join(struct.pack("<I", x) for x in subs)

def b64(b): return base64.b64encode(b).decode()

ldif = []  # (dn, [(attr, value-bytes-or-str)])
def entry(dn, *attrs): ldif.append((dn, list(attrs)))

# --- AD: domain, configuration, schema, Exchange, Recycle Bin ---------------------------------
entry(DOMAIN, ("objectClass", "top"), ("objectClass", "domain"), ("objectClass", "domainDNS"), ("dc", "contoso"),
      ("objectGUID", adguid("domain").bytes_le), ("objectSid", sid_bytes(SID_BASE)), ("msDS-Behavior-Version", "7"))
entry("CN=Partitions,CN=Configuration," + DOMAIN, ("objectClass", "top"), ("objectClass", "crossRefContainer"), ("msDS-Behavior-Version", "7"))
entry("CN=Schema,CN=Configuration," + DOMAIN, ("objectClass", "top"), ("objectClass", "dMD"), ("objectVersion", "88"))
entry("CN=ms-DS-External-Directory-Object-Id,CN=Schema,CN=Configuration," + DOMAIN, ("objectClass", "top"), ("objectClass", "attributeSchema"),
      ("lDAPDisplayName", "msDS-ExternalDirectoryObjectId"), ("rangeUpper", "256"))
entry("CN=ms-Exch-Schema-Version-Pt,CN=Schema,CN=Configuration," + DOMAIN, ("objectClass", "top"), ("objectClass", "attributeSchema"),
      ("lDAPDisplayName", "msExchSchemaVersionPt"), ("rangeUpper", "15334"))
entry("CN=Contoso,CN=Microsoft Exchange,CN=Services,CN=Configuration," + DOMAIN, ("objectClass", "top"), ("objectClass", "container"),
      ("objectClass", "msExchOrganizationContainer"), ("objectVersion", "16223"))
entry("CN=Microsoft Exchange System Objects," + DOMAIN, ("objectClass", "top"), ("objectClass", "container"),
      ("objectClass", "msExchSystemObjectsContainer"), ("objectVersion", "13243"))
entry("CN=Recycle Bin Feature,CN=Optional Features,CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration," + DOMAIN,
      ("objectClass", "top"), ("objectClass", "msDS-OptionalFeature"))
for ou in ["OU=Contoso," + DOMAIN, USERS_OU, COMPUTERS_OU, GROUPS_OU]:
    entry(ou, ("objectClass", "top"), ("objectClass", "organizationalUnit"), ("objectGUID", adguid(ou).bytes_le))
entry(OU, ("objectClass", "top"), ("objectClass", "organizationalUnit"), ("objectGUID", adguid(OU).bytes_le),
      ("allowedChildClassesEffective", "group"), ("allowedChildClassesEffective", "contact"), ("allowedChildClassesEffective", "organizationalUnit"))

# --- AD users, computers, groups -------------------------------------------------------------
users = {}
rid = 1100
def ad_user(name, sam, in_ad=True):
    global rid
    rid += 1
    sid = f"{SID_BASE}-{rid}"; g = adguid("user:" + name)
    users[name] = {"sid": sid, "guid": g, "dn": f"CN={name},{USERS_OU}", "upn": f"{sam}@contoso.com", "sam": sam}
    if in_ad:
        entry(users[name]["dn"], ("objectClass", "top"), ("objectClass", "person"), ("objectClass", "organizationalPerson"), ("objectClass", "user"),
              ("cn", name), ("sAMAccountName", sam), ("objectGUID", g.bytes_le), ("objectSid", sid_bytes(sid)))
    return users[name]

people = ["Adele Vance", "Alex Wilber", "Diego Siciliani", "Grady Archie", "Henrietta Mueller", "Isaiah Langer", "Johanna Lorenz",
          "Joni Sherman", "Lee Gu", "Lidia Holloway", "Lynne Robbins", "Megan Bowen", "Miriam Graham", "Nestor Wilke", "Patti Fernandez",
          "Pradeep Gupta", "Ana Müller", "Zoë O'Brien", "Søren Kierkegaard", "Li Wei"]
for p in people:
    ad_user(p, p.split()[0].lower().replace("ö", "o").replace("ë", "e").replace("ø", "o") + "." + p.split()[-1].lower().replace("ü", "u").replace("'", ""))
ghost = ad_user("Departed Employee", "departed.employee", in_ad=False)  # synced once, deleted from AD since

computers = {}
def ad_computer(name):
    global rid
    rid += 1
    sid = f"{SID_BASE}-{rid}"; g = adguid("computer:" + name)
    computers[name] = {"sid": sid, "guid": g, "dn": f"CN={name},{COMPUTERS_OU}"}
    entry(computers[name]["dn"], ("objectClass", "top"), ("objectClass", "person"), ("objectClass", "organizationalPerson"), ("objectClass", "user"),
          ("objectClass", "computer"), ("cn", name), ("sAMAccountName", name + "$"), ("objectGUID", g.bytes_le), ("objectSid", sid_bytes(sid)))
for c in ["KIOSK-01", "KIOSK-02", "WS-FIN-07"]:
    ad_computer(c)

adgroups = {}
def ad_group(name, gtype):
    global rid
    rid += 1
    sid = f"{SID_BASE}-{rid}"; g = adguid("group:" + name)
    adgroups[name] = {"sid": sid, "guid": g, "dn": f"CN={name},{GROUPS_OU}"}
    entry(adgroups[name]["dn"], ("objectClass", "top"), ("objectClass", "group"), ("cn", name), ("sAMAccountName", name),
          ("groupType", str(gtype)), ("objectGUID", g.bytes_le), ("objectSid", sid_bytes(sid)))
ad_group("DL-FileShare-RW", -2147483644)     # domain local security
ad_group("GG-Helpdesk", -2147483646)         # global security
ad_group("UG-Print-Operators", -2147483640)  # universal security

# --- Cloud members ---------------------------------------------------------------------------
def synced_user(name, how="sid"):
    u = users[name]
    m = {"@odata.type": "#microsoft.graph.user", "id": oid("user:" + name), "displayName": name, "userPrincipalName": u["upn"],
         "onPremisesSyncEnabled": True, "onPremisesSecurityIdentifier": None, "onPremisesObjectIdentifier": None,
         "onPremisesImmutableId": None, "onPremisesDistinguishedName": u["dn"]}
    if how in ("sid", "all"):
        m["onPremisesSecurityIdentifier"] = u["sid"]
    if how in ("guid", "all"):
        m["onPremisesObjectIdentifier"] = str(u["guid"])
    if how in ("immutable", "all"):
        m["onPremisesImmutableId"] = b64(u["guid"].bytes_le)
    return m

def cloud_user(name):
    return {"@odata.type": "#microsoft.graph.user", "id": oid("user:" + name), "displayName": name,
            "userPrincipalName": name.lower().replace(" ", ".") + "@contoso.onmicrosoft.com", "onPremisesSyncEnabled": None,
            "onPremisesSecurityIdentifier": None, "onPremisesObjectIdentifier": None, "onPremisesImmutableId": None, "onPremisesDistinguishedName": None}

def group_member(name, synced=None):
    if synced:
        a = adgroups[synced]
        return {"@odata.type": "#microsoft.graph.group", "id": gid(name), "displayName": name, "onPremisesSyncEnabled": True,
                "onPremisesSecurityIdentifier": a["sid"]}
    return {"@odata.type": "#microsoft.graph.group", "id": gid(name), "displayName": name, "onPremisesSyncEnabled": None, "onPremisesSecurityIdentifier": None}

def device(name, trust, computer=None):
    d = {"@odata.type": "#microsoft.graph.device", "id": oid("device:" + name), "displayName": name, "deviceId": str(uuid.uuid5(NS, "deviceid:" + name)),
         "trustType": trust, "onPremisesSyncEnabled": None, "onPremisesSecurityIdentifier": None}
    if computer:
        d["onPremisesSyncEnabled"] = True
        d["onPremisesSecurityIdentifier"] = computers[computer]["sid"]
    return d

def team(*names): return [synced_user(n) for n in names]

groups = []
def group(name, kind, members, enabled="unset", gtype=None, dynamic=False, synced_from=None, extra=None, desc=None):
    g = {"id": gid(name), "displayName": name, "description": desc or f"{name}", "createdDateTime": "2024-03-11T09:15:00Z"}
    if kind == "m365":
        g.update(groupTypes=["Unified"], mailEnabled=True, securityEnabled=False, mail=name.replace(" ", "").lower()[:20] + "@contoso.com",
                 mailNickname=name.replace(" ", "")[:20])
    elif kind == "security":
        g.update(groupTypes=[], mailEnabled=False, securityEnabled=True, mail=None, mailNickname=name.replace(" ", "")[:20])
    elif kind == "mailsec":
        g.update(groupTypes=[], mailEnabled=True, securityEnabled=True, mail=name.replace(" ", "").lower() + "@contoso.com", mailNickname=name.replace(" ", ""))
    elif kind == "dl":
        g.update(groupTypes=[], mailEnabled=True, securityEnabled=False, mail=name.replace(" ", "").lower() + "@contoso.com", mailNickname=name.replace(" ", ""))
    if dynamic:
        g["groupTypes"] = g["groupTypes"] + ["DynamicMembership"]
        g["membershipRule"] = '(user.department -eq "Sales")'
        g["membershipRuleProcessingState"] = "On"
    g["onPremisesSyncEnabled"] = True if synced_from else None
    g["onPremisesSecurityIdentifier"] = adgroups[synced_from]["sid"] if synced_from else None
    wb = {"@odata.type": "#microsoft.graph.groupWritebackConfiguration"}
    wb["isEnabled"] = None if enabled == "unset" else enabled
    wb["onPremisesGroupType"] = gtype
    g["writebackConfiguration"] = wb
    g["members"] = members
    if extra: g.update(extra)
    groups.append(g)
    return g

P = people
# Microsoft 365 groups
group("All Company", "m365", team(*P[:12]) + [cloud_user("Guest Contractor")])
group("Marketing", "m365", team("Megan Bowen", "Lidia Holloway", "Zoë O'Brien"), enabled=True, gtype="universalSecurityGroup")
group("Sales EMEA", "m365", team("Diego Siciliani", "Søren Kierkegaard"), enabled=True, gtype="universalMailEnabledSecurityGroup")
group("Project Falcon", "m365", team("Alex Wilber", "Grady Archie"), enabled=False, desc="Confidential: must stay cloud-only")
group("Legacy Team", "m365", team("Lee Gu"), enabled=False, desc="Retired team; its AD group was written back earlier")
group("Town Hall Attendees", "m365", team(*P[3:9]), dynamic=True)
group("Retail Partners", "m365", team("Pradeep Gupta") + [cloud_user("Partner One"), cloud_user("Partner Two")], enabled=True)
group("Mark 8 Project Team", "m365", team("Johanna Lorenz", "Isaiah Langer", "Joni Sherman"))
group("R&D, Europe + \"Labs\" <#1>; a=b", "m365", team("Ana Müller", "Søren Kierkegaard"), enabled=True)
group("Contoso Worldwide Customer Experience and Service Excellence Program Office", "m365", team("Patti Fernandez"), enabled=True)
group("Benefits Questions", "m365", team("Henrietta Mueller"), enabled=True, gtype="globalDistributionGroup")
group("Digital Initiative Public Relations", "m365", team("Megan Bowen"))
group("U.S. Sales", "m365", team("Alex Wilber", "Lynne Robbins"), dynamic=True)
group("Leadership", "m365", team("Patti Fernandez", "Nestor Wilke"), enabled=True)
group("Company Newsletter", "m365", [{"@odata.type": "#microsoft.graph.user", "id": oid(f"subscriber:{i}")} for i in range(50001)], enabled=True,
      desc="Every subscriber is a cloud-only account; 50,001 members")
# Security groups
group("Finance Department", "security", team("Isaiah Langer", "Li Wei") + [synced_user("Ana Müller", "guid")], enabled=True)
group("VPN Users", "security", team(*P[:6]))
group("Old Project Access", "security", team("Grady Archie"), enabled=False, desc="Disabled for writeback after the project ended")
group("File Share Access", "security", team("Miriam Graham") + [group_member("DL-FileShare-RW", synced="DL-FileShare-RW"),
      group_member("GG-Helpdesk", synced="GG-Helpdesk")], enabled=True)
group("App Owners", "security", team("Nestor Wilke") + [group_member("Finance Department"), group_member("VPN Users")], enabled=True)
group("Kiosk Devices", "security", [device("KIOSK-01", "ServerAd", "KIOSK-01"), device("KIOSK-02", "ServerAd", "KIOSK-02"),
      device("Megan's iPad", "Workplace"), device("Surface-Hub-3", "AzureAd")], enabled=True)
group("Mixed Membership", "security", [synced_user("Adele Vance", "sid"), synced_user("Alex Wilber", "guid"), synced_user("Diego Siciliani", "immutable"),
      cloud_user("Cloud Only Admin"), synced_user("Departed Employee", "sid"),
      {"@odata.type": "#microsoft.graph.servicePrincipal", "id": oid("sp:backup"), "displayName": "Backup Automation"},
      {"@odata.type": "#microsoft.graph.orgContact", "id": oid("contact:vendor"), "displayName": "Vendor Contact"}], enabled=True)
group("Name Clash", "security", team("Lee Gu"), enabled=True, desc="Its CN is taken by a hand-made AD group")
group("Sales Dynamic", "security", team("Diego Siciliani", "Lynne Robbins"), enabled=True, dynamic=True)
group("Helpdesk Operators", "security", team("Joni Sherman", "Johanna Lorenz"), enabled=True, gtype="universalDistributionGroup")
group("Privileged Role Admins", "security", team("Patti Fernandez"), enabled=True, extra={"isAssignableToRole": True})
group("Conditional Access Exclusions", "security", team("Adele Vance"), enabled=False)
group("Intune Pilot", "security", team("Lidia Holloway", "Nestor Wilke"))
group("Print Operators Cloud", "security", team("Grady Archie") + [group_member("UG-Print-Operators", synced="UG-Print-Operators")], enabled=True)
group("Workstation Admins", "security", team("Pradeep Gupta"), enabled=True, extra={"members": None})
group("Contractors", "security", [cloud_user("Contractor A"), cloud_user("Contractor B")], enabled=True)
group("Data Protection Officers", "security", team("Megan Bowen") + [synced_user("Lee Gu", "all")], enabled=True)
group("Hybrid Workstations", "security", [device("WS-FIN-07", "ServerAd", "WS-FIN-07")], enabled=True, dynamic=True)
group("SharePoint Site Owners", "security", team("Megan Bowen", "Miriam Graham"), enabled=True)
# Unsupported kinds and synced groups
group("Exchange All Staff DL", "dl", team("Adele Vance", "Alex Wilber"))
group("Board Communications", "dl", team("Patti Fernandez"))
group("Mail-Enabled Finance Approvers", "mailsec", team("Isaiah Langer"))
group("DL-FileShare-RW", "security", [], synced_from="DL-FileShare-RW")
group("GG-Helpdesk", "security", team("Joni Sherman"), synced_from="GG-Helpdesk")
group("UG-Print-Operators", "security", team("Grady Archie"), synced_from="UG-Print-Operators")
group("HR Team (synced)", "security", team("Henrietta Mueller"), synced_from=None, extra={"onPremisesSyncEnabled": True,
      "onPremisesSecurityIdentifier": f"{SID_BASE}-2999"})
# Groups nested as members: App Owners nests Finance Department (written back) and VPN Users (not enabled).
# "Workstation Admins" has members not collected (members: null).

deleted = [{"id": gid("Archived Campaign 2023"), "displayName": "Archived Campaign 2023", "groupTypes": ["Unified"], "mailEnabled": True,
            "securityEnabled": False, "deletedDateTime": "2026-10-02T14:20:00Z",
            "writebackConfiguration": {"@odata.type": "#microsoft.graph.groupWritebackConfiguration", "isEnabled": None, "onPremisesGroupType": None}},
           {"id": gid("Temp Security Review"), "displayName": "Temp Security Review", "groupTypes": [], "mailEnabled": False,
            "securityEnabled": True, "deletedDateTime": "2026-11-20T08:00:00Z",
            "writebackConfiguration": {"@odata.type": "#microsoft.graph.groupWritebackConfiguration", "isEnabled": True, "onPremisesGroupType": None}}]

# --- Objects already in the target OU ------------------------------------------------------------
def written(name, cloud_id, gtype, members=(), display=None):
    global rid
    rid += 1
    cn = "Group_" + cloud_id
    attrs = [("objectClass", "top"), ("objectClass", "group"), ("cn", cn), ("sAMAccountName", f"Group_{cloud_id[:8]}"), ("groupType", str(gtype)),
             ("displayName", display or name), ("adminDescription", "Group_" + cloud_id), ("objectGUID", adguid("wb:" + name).bytes_le),
             ("objectSid", sid_bytes(f"{SID_BASE}-{rid}"))]
    attrs += [("member", m) for m in members]
    entry(f"CN={cn},{OU}", *attrs)
written("Legacy Team", gid("Legacy Team"), 8, [users["Lee Gu"]["dn"]])
written("Old Project Access", gid("Old Project Access"), -2147483640, [users["Grady Archie"]["dn"]])
written("Archived Campaign 2023", gid("Archived Campaign 2023"), 8)
written("Finance Department", gid("Finance Department"), -2147483640, [users["Isaiah Langer"]["dn"]])
written("Quarterly Planning 2022", str(uuid.uuid5(NS, "group:Quarterly Planning 2022")), -2147483640, display="Quarterly Planning 2022")
# A hand-made group that occupies the CN "Name Clash" would get.
entry(f"CN=Group_{gid('Name Clash')},{OU}", ("objectClass", "top"), ("objectClass", "group"), ("cn", f"Group_{gid('Name Clash')}"),
      ("sAMAccountName", "NameClashManual"), ("groupType", "-2147483646"), ("description", "Created by hand; not written back"),
      ("objectGUID", adguid("manual-clash").bytes_le), ("objectSid", sid_bytes(f"{SID_BASE}-3001")))

tenant = {
    "format": "gwb-tenant/1",
    "tenantId": TENANT,
    "collectedAt": "2026-11-25T10:00:00Z",
    "onPremisesSynchronization": {
        "id": TENANT,
        "configuration": {
            "accidentalDeletionPrevention": {"synchronizationPreventionType": "enabledForCount", "alertThreshold": 500},
            "synchronizationInterval": "PT30M",
            "synchronizationClientVersion": "2.4.27.0",
            "writebackConfiguration": {"unifiedGroupContainer": OU, "userContainer": None},
        },
        "features": {"blockCloudObjectTakeoverThroughHardMatchEnabled": True, "deviceWritebackEnabled": False, "groupWriteBackEnabled": False,
                     "passwordSyncEnabled": True, "unifiedGroupWritebackEnabled": False, "userWritebackEnabled": False},
    },
    "settings": [{"id": "f0b2d6d8-4a3e-4f1e-9a5c-0c7c3b1e2d4f", "displayName": "Group.Unified", "templateId": "62375ab9-6b52-47ed-826b-58e47e0e304b",
                  "values": [{"name": "EnableGroupCreation", "value": "true"}, {"name": "NewUnifiedGroupWritebackDefault", "value": "False"}]}],
    "subscribedSkus": [
        {"skuId": "05e9a617-0261-4cee-bb44-138d3ef5d965", "skuPartNumber": "SPE_E3", "capabilityStatus": "Enabled", "consumedUnits": 180,
         "prepaidUnits": {"enabled": 200, "suspended": 0, "warning": 0},
         "servicePlans": [{"servicePlanId": "41781fb2-bc02-4b7c-bd55-b576c07bb09d", "servicePlanName": "AAD_PREMIUM", "provisioningStatus": "Success", "appliesTo": "User"},
                          {"servicePlanId": "efb87545-963c-4e0d-99df-69c6916d9eb0", "servicePlanName": "EXCHANGE_S_ENTERPRISE", "provisioningStatus": "Success", "appliesTo": "User"}]},
        {"skuId": "84a661c4-e949-4bd2-a560-ed7766fcaf2b", "skuPartNumber": "AAD_PREMIUM_P2", "capabilityStatus": "Suspended", "consumedUnits": 0,
         "prepaidUnits": {"enabled": 0, "suspended": 10, "warning": 0},
         "servicePlans": [{"servicePlanId": "eec0eb4f-6444-4f95-aba0-50c24d67f998", "servicePlanName": "AAD_PREMIUM_P2", "provisioningStatus": "Success", "appliesTo": "User"}]}],
    "groups": groups,
    "deletedGroups": deleted,
}

def dump_tenant(t):
    # Readable, but huge member arrays one member per line.
    text = json.dumps(t, indent=2, ensure_ascii=False)
    return text + "\n"

os.makedirs(os.path.join(OUT, "connect"), exist_ok=True)
with open(os.path.join(OUT, "tenant.json"), "w", encoding="utf-8") as f:
    # Readable JSON, but the members of very large groups compact, one per line.
    big = {}
    for g in groups:
        if len(g["members"] or []) > 1000:
            key = "@@MEMBERS:" + g["id"] + "@@"
            big[key] = g["members"]
            g["members"] = key
    text = json.dumps(tenant, indent=2, ensure_ascii=False)
    for key, members in big.items():
        compact = "[\n" + ",\n".join("        " + json.dumps(m, ensure_ascii=False, separators=(",", ":")) for m in members) + "\n      ]"
        text = text.replace(json.dumps(key), compact, 1)
    f.write(text + "\n")

def ldif_line(name, v):
    if isinstance(v, bytes):
        try:
            s = v.decode("ascii")
            safe = all(32 <= ord(c) < 127 for c in s) and not s.startswith((" ", ":", "<")) and not s.endswith(" ")
        except UnicodeDecodeError:
            safe = False
        if not safe:
            return f"{name}:: {b64(v)}"
        v = s
    if all(32 <= ord(c) < 127 for c in v) and not v.startswith((" ", ":", "<")) and not v.endswith(" "):
        return f"{name}: {v}"
    return f"{name}:: {b64(v.encode('utf-8'))}"

def fold(line):
    out, first = [], True
    while line:
        w = 76 if first else 75
        out.append(("" if first else " ") + line[:w]); line = line[w:]; first = False
    return "\n".join(out)

with open(os.path.join(OUT, "ad.ldif"), "w", encoding="utf-8") as f:
    parts = []
    for dn, attrs in ldif:
        lines = [fold(ldif_line("dn", dn))] + [fold(ldif_line(a, v)) for a, v in attrs]
        parts.append("\n".join(lines))
    f.write("\n\n".join(parts) + "\n")

with open(os.path.join(OUT, "connect", "company-feature.json"), "w", encoding="utf-8") as f:
    json.dump({"PasswordHashSync": True, "ForcePasswordChangeOnLogOn": False, "UserWriteback": False, "DeviceWriteback": False,
               "UnifiedGroupWriteback": False, "GroupWritebackV2": False}, f, indent=2)
    f.write("\n")

with open(os.path.join(OUT, "bundle.json"), "w", encoding="utf-8") as f:
    json.dump({"format": "gwb-bundle/1", "targetOu": OU, "collectedAt": "2026-11-25T10:00:00Z"}, f, indent=2)
    f.write("\n")
print(f"wrote {OUT}: {len(groups)} groups, {len(deleted)} deleted, {len(ldif)} AD entries")
