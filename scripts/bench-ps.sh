#!/usr/bin/env bash
# Benchmark the PowerShell readers on large synthetic exports: wall time and peak memory of
# `gwb inspect --format json` per format. Usage: scripts/bench-ps.sh [GROUPS] (default 20000).
# GWB=path/to/gwb uses that binary; otherwise a release build is made.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-20000}"
if [[ -z "${GWB:-}" ]]; then
  cargo build --release --quiet
  GWB=target/release/gwb
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK" "$N" <<'PY'
import json, sys, uuid, random
out, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
def gid(i): return str(uuid.UUID(int=rnd.getrandbits(128), version=4))
groups = []
for i in range(n):
    members = [{"Id": gid(j), "DeletedDateTime": None,
                "AdditionalProperties": {"@odata.type": "#microsoft.graph.user", "displayName": "User %d" % j,
                                         "onPremisesSyncEnabled": True}} for j in range(20)]
    groups.append({"Id": gid(i), "DisplayName": "Group %d" % i, "GroupTypes": ["Unified"] if i % 2 else [],
                   "MailEnabled": i % 2 == 1, "SecurityEnabled": i % 2 == 0,
                   "WritebackConfiguration": {"IsEnabled": None, "OnPremisesGroupType": None},
                   "Members": members, "AdditionalProperties": {}})
text = json.dumps(groups, indent=2)
open(out + "/groups.ps7.json", "w").write(text)
open(out + "/groups.ps51.json", "wb").write(b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le"))
rows = ['"DistinguishedName","GroupCategory","GroupScope","Name","ObjectClass","ObjectGUID","SamAccountName","SID"']
for i in range(n * 5):
    rows.append('"CN=G%d,OU=GWB,DC=contoso,DC=com","Security","Universal","G%d","group","%s","G%d","S-1-5-21-1-2-3-%d"'
                % (i, i, gid(i), i, 1000 + i))
open(out + "/ou-groups.csv", "w").write("#TYPE Microsoft.ActiveDirectory.Management.ADGroup\r\n" + "\r\n".join(rows) + "\r\n")
hdr = '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
objs = []
for i in range(n * 5):
    tn = ('<TN RefId="0"><T>Microsoft.ActiveDirectory.Management.ADGroup</T><T>System.Object</T></TN>' if i == 0
          else '<TNRef RefId="0" />')
    objs.append('<Obj RefId="%d">%s<Props><S N="DistinguishedName">CN=G%d,OU=GWB,DC=contoso,DC=com</S>'
                '<S N="GroupScope">Universal</S><S N="GroupCategory">Security</S><S N="ObjectClass">group</S>'
                '<G N="ObjectGUID">%s</G><S N="Name">G_x005F_x%d</S></Props></Obj>' % (i, tn, i, gid(i), i))
open(out + "/ou-groups.clixml", "wb").write(b"\xff\xfe" + (hdr + "".join(objs) + "</Objs>").encode("utf-16-le"))
PY

printf '%-22s %10s %12s %12s\n' file bytes seconds max_rss_kb
for f in groups.ps7.json groups.ps51.json ou-groups.csv ou-groups.clixml; do
  size=$(stat -c %s "$WORK/$f")
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$GWB" inspect "$WORK/$f" --format json >/dev/null
  read -r secs rss <"$WORK/time"
  printf '%-22s %10s %12s %12s\n' "$f" "$size" "$secs" "$rss"
done
