#!/usr/bin/env bash
# Benchmark: what forecasting Cloud Sync from a configuration adds to `gwb audit` (release build).
# The same synthetic bundle (scripts/gen-large-bundle.py) is audited without and with a
# cloud-sync/bench.test/ configuration that takes all security groups with a regular-expression
# scoping filter and routes containers with Switch. Goal: at most 15% more wall time.
# Usage: scripts/bench-cloud-sync.sh [GROUPS MEMBERSHIPS]   (default: 100000 1000000)
# GWB=path/to/gwb uses that binary; otherwise a release build is made.
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    # The comment block above is the help.
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
fi
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${GWB:-}" ]]; then
  cargo build --release -q
  GWB="${CARGO_TARGET_DIR:-target}/release/gwb"
fi
groups=${1:-100000}; memberships=${2:-1000000}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 scripts/gen-large-bundle.py "$work/plain" "$groups" "$memberships" >/dev/null
cp -r "$work/plain" "$work/configured"
python3 - "$work/configured/cloud-sync/bench.test" <<'PY'
import json, os, sys
d = sys.argv[1]; os.makedirs(d)
def fn(t, e, **kw):
    return {"targetAttributeName": t, "flowType": "Always", **kw, "source": {"type": "Function", "name": e.split("(")[0], "expression": e}}
switch = ('Switch(Right8, "OU=Groups,DC=bench,DC=test", "Group 1", "OU=One,DC=bench,DC=test", '
          '"Group 2", "OU=Two,DC=bench,DC=test", "Group 3", "OU=Three,DC=bench,DC=test")').replace("Right8", "Left(Trim([displayName]), 7)")
maps = [fn("cn", 'Append(Append(Left(Trim([displayName]),51),"_"),Mid([objectId],25,12))'),
        fn("parentDistinguishedName", switch),
        {"targetAttributeName": "member", "source": {"type": "Attribute", "name": "members"}},
        fn("msDS-ExternalDirectoryObjectId", 'Append("Group_",[objectId])', matchingPriority=1)]
scope = {"groups": [{"name": "even", "clauses": [{"operatorName": "REGEX MATCH", "sourceOperandName": "displayName",
                                                   "targetOperand": {"values": ["^Group \\d*[02468]$"]}}]}]}
json.dump({"id": "sp", "displayName": "bench.test"}, open(f"{d}/servicePrincipal.json", "w"))
json.dump({"value": [{"id": "AAD2ADGroupProvisioning.x", "templateId": "AAD2ADGroupProvisioning",
                      "schedule": {"interval": "PT20M", "state": "Active"}, "status": {"code": "Active"}}]}, open(f"{d}/jobs.json", "w"))
json.dump({"synchronizationRules": [{"objectMappings": [{"name": "Groups", "sourceObjectName": "Group", "targetObjectName": "group",
          "scope": scope, "attributeMappings": maps}]}]}, open(f"{d}/schema.json", "w"))
json.dump({"value": []}, open(f"{d}/appRoleAssignedTo.json", "w"))
PY
best() {  # best of three wall times
  local b=""
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N); "$GWB" audit --snapshot "$1" -t cloud-sync --format json --fail-on never >/dev/null 2>&1; e=$(date +%s.%N)
    b=$(python3 -c "a='$b'; t=$e-$s; print(f'{t:.2f}' if not a else f'{min(float(a), t):.2f}')")
  done
  echo "$b"
}
plain=$(best "$work/plain"); configured=$(best "$work/configured")
echo "| groups | memberships | audit without configuration (s) | with configuration (s) | added |"
echo "|---:|---:|---:|---:|---:|"
echo "| $groups | $memberships | $plain | $configured | $(python3 -c "print(f'{($configured/$plain-1)*100:+.0f}%')") |"
