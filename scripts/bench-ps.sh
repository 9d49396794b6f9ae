#!/usr/bin/env bash
# Benchmark the input readers on large synthetic files: wall time and peak memory of
# `gwb inspect --format json` per PowerShell export format, and of an AD-only
# `gwb audit --snapshot` for a large ad.ldif. Goal (issue 9): linear time, peak memory within a
# small multiple of the file (the "x file" column; aim at most ~4x) for a 45 MB Export-Csv file
# and a 27 MB LDIF.
# Usage: scripts/bench-ps.sh [GROUPS [CSV_ROWS [LDIF_USERS]]]  (defaults 20000 300000 120000)
# GWB=path/to/gwb uses that binary; otherwise a release build is made.
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    # The comment block above is the help.
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
fi
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-20000}"
CSV_ROWS="${2:-300000}"
LDIF_USERS="${3:-120000}"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
if [[ -z "${GWB:-}" ]]; then
  cargo build --release --quiet
  GWB="${CARGO_TARGET_DIR:-target}/release/gwb"
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK" "$N" "$CSV_ROWS" "$LDIF_USERS" <<'PY'
import base64, json, os, sys, uuid, random
out, n, csv_rows, ldif_users = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
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
for i in range(csv_rows):
    rows.append('"CN=G%d,OU=GWB,DC=contoso,DC=com","Security","Universal","G%d","group","%s","G%d","S-1-5-21-1-2-3-%d"'
                % (i, i, gid(i), i, 1000 + i))
open(out + "/ou-groups.csv", "w", newline="").write("#TYPE Microsoft.ActiveDirectory.Management.ADGroup\r\n" + "\r\n".join(rows) + "\r\n")
hdr = '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
objs = []
for i in range(n * 5):
    tn = ('<TN RefId="0"><T>Microsoft.ActiveDirectory.Management.ADGroup</T><T>System.Object</T></TN>' if i == 0
          else '<TNRef RefId="0" />')
    objs.append('<Obj RefId="%d">%s<Props><S N="DistinguishedName">CN=G%d,OU=GWB,DC=contoso,DC=com</S>'
                '<S N="GroupScope">Universal</S><S N="GroupCategory">Security</S><S N="ObjectClass">group</S>'
                '<G N="ObjectGUID">%s</G><S N="Name">G_x005F_x%d</S></Props></Obj>' % (i, tn, i, gid(i), i))
open(out + "/ou-groups.clixml", "wb").write(b"\xff\xfe" + (hdr + "".join(objs) + "</Objs>").encode("utf-16-le"))
# ad.ldif as ldapsearch -LLL writes it: users, and groups with many member values.
os.makedirs(out + "/ldif", exist_ok=True)
dom = "DC=bench,DC=test"
with open(out + "/ldif/ad.ldif", "w") as f:
    f.write("dn: %s\nobjectClass: domainDNS\n\ndn: OU=GWB,%s\nobjectClass: organizationalUnit\n" % (dom, dom))
    for i in range(ldif_users):
        f.write("\ndn: CN=User %d,OU=Users,%s\nobjectClass: top\nobjectClass: person\nobjectClass: user\n"
                "objectGUID:: %s\nsAMAccountName: user%d\ndisplayName: User %d\n"
                % (i, dom, base64.b64encode(uuid.UUID(int=rnd.getrandbits(128)).bytes_le).decode(), i, i))
    for g in range(ldif_users // 100):
        f.write("\ndn: CN=G%d,OU=GWB,%s\nobjectClass: group\ngroupType: -2147483640\n" % (g, dom))
        for j in range(50):
            f.write("member: CN=User %d,OU=Users,%s\n" % (rnd.randrange(ldif_users), dom))
json.dump({"format": "gwb-bundle/1", "targetOu": "OU=GWB," + dom}, open(out + "/ldif/bundle.json", "w"))
PY

echo "| file | format | bytes | seconds | peak RSS (MB) | x file |"
echo "|---|---|---:|---:|---:|---:|"
row() { # file label command...
  local f=$1 label=$2; shift 2
  local size; size=$(stat -c %s "$f")
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; }
  read -r secs rss < <(tail -n 1 "$WORK/time")
  echo "| $(basename "$f") | $label | $size | $secs | $((rss / 1024)) | $(python3 -c "print(f'{$rss*1024/$size:.1f}')") |"
}
for f in groups.ps7.json groups.ps51.json ou-groups.csv ou-groups.clixml; do
  row "$WORK/$f" "gwb inspect" "$GWB" inspect "$WORK/$f" --format json
done
row "$WORK/ldif/ad.ldif" "gwb audit (AD only)" "$GWB" audit --snapshot "$WORK/ldif" --format json --fail-on never
