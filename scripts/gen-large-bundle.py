#!/usr/bin/env python3
"""Write a large synthetic snapshot bundle for benchmarks: GROUPS groups, MEMBERSHIPS memberships
spread over USERS synced users, and an ad.ldif with every user. Usage:
    gen-large-bundle.py OUT_DIR GROUPS MEMBERSHIPS [USERS]"""
import base64, json, os, random, struct, sys, uuid

if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
    print(__doc__)
    sys.exit(0)
if len(sys.argv) < 4 or not all(a.isdigit() for a in sys.argv[2:5]):
    sys.exit("usage: gen-large-bundle.py OUT_DIR GROUPS MEMBERSHIPS [USERS] (numbers; --help for more)")
out, n_groups, n_memberships = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n_users = int(sys.argv[4]) if len(sys.argv) > 4 else max(1000, n_memberships // 20)
rnd = random.Random(42)
os.makedirs(out, exist_ok=True)
DOMAIN = "DC=bench,DC=test"
OU = "OU=Cloud Groups," + DOMAIN
SID = "S-1-5-21-111-222-333"

def sid_bytes(rid):
    return bytes([1, 5]) + (5).to_bytes(6, "big") + b"".join(struct.pack("<I", x) for x in [21, 111, 222, 333, rid])

users = [(str(uuid.UUID(int=rnd.getrandbits(128))), f"{SID}-{1000 + i}", uuid.UUID(int=rnd.getrandbits(128))) for i in range(n_users)]
with open(os.path.join(out, "ad.ldif"), "w") as f:
    f.write(f"dn: {DOMAIN}\nobjectClass: domainDNS\n\ndn: {OU}\nobjectClass: organizationalUnit\nallowedChildClassesEffective: group\n")
    for i, (_, sid, g) in enumerate(users):
        f.write(f"\ndn: CN=User {i},OU=Users,{DOMAIN}\nobjectClass: user\nobjectGUID:: {base64.b64encode(g.bytes_le).decode()}\n"
                f"objectSid:: {base64.b64encode(sid_bytes(1000 + i)).decode()}\n")
per = n_memberships // n_groups
rest = n_memberships - per * n_groups
with open(os.path.join(out, "tenant.json"), "w") as f:
    f.write('{"format":"gwb-tenant/1","tenantId":"00000000-0000-0000-0000-000000000001","settings":[],"subscribedSkus":[],"deletedGroups":[],\n')
    f.write('"onPremisesSynchronization":{"features":{"unifiedGroupWritebackEnabled":true,"groupWriteBackEnabled":false},"configuration":{"synchronizationClientVersion":"2.6.84.0"}},\n"groups":[\n')
    for gi in range(n_groups):
        k = per + (1 if gi < rest else 0)
        kind = gi % 3
        g = {"id": str(uuid.UUID(int=rnd.getrandbits(128))), "displayName": f"Group {gi}",
             "groupTypes": ["Unified"] if kind == 0 else [], "mailEnabled": kind == 0, "securityEnabled": kind != 0,
             "writebackConfiguration": {"isEnabled": None if kind == 0 else (kind == 1), "onPremisesGroupType": None}}
        members = []
        for _ in range(k):
            oid, sid, _g = users[rnd.randrange(n_users)]
            members.append({"@odata.type": "#microsoft.graph.user", "id": oid, "onPremisesSyncEnabled": True, "onPremisesSecurityIdentifier": sid})
        g["members"] = members
        f.write(("," if gi else "") + json.dumps(g, separators=(",", ":")) + "\n")
    f.write("]}\n")
with open(os.path.join(out, "bundle.json"), "w") as f:
    json.dump({"format": "gwb-bundle/1", "targetOu": OU}, f)
print(f"{out}: {n_groups} groups, {n_memberships} memberships, {n_users} users")
