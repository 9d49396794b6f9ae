#!/usr/bin/env bash
# Benchmark `gwb apply` against `ldapadd` on a fresh Samba DC.
#
#   scripts/bench-apply.sh [ROUNDS] [GROUPS] [MEMBERS_PER_GROUP]     (defaults: 3 5000 20)
#
# Provisions a DC (state in ${GWB_SAMBA_DIR:-/tmp/gwb-samba}: the script's own DC, not one a
# test run is using), seeds the users the groups point to, and keeps that state as a template.
# Then, ROUNDS times and in turn, from a copy of the template (a fresh DC of the same
# configuration each time):
#   A: gwb apply plan.json      (GROUPS creates, GROUPS*MEMBERS memberships, journalled)
#   B: ldapadd -f groups.ldif   (the same objects, attributes and members as LDIF)
# timing only the command, and prints each time, the medians, the ratio of the medians B/A and
# the median of the per-round ratios B/A (>= 1: gwb is at least as fast; the per-round ratio is
# the steadier figure on a shared machine, as both halves of a round see similar load). Finally it re-runs gwb over the unchanged state (a plan of noops when
# `gwb plan` is available, else the saved plan again) and reports its time, the share of the
# first apply, and whether highestCommittedUSN moved.
# Needs root (ports 389/636), python3, ldap-utils. GWB_BIN=path/to/gwb times another build
# (default: a release build of this checkout).
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    # The comment block above is the help.
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
fi
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${1:-3}"
GROUPS_N="${2:-5000}"
PER="${3:-20}"
DIR="${GWB_SAMBA_DIR:-/tmp/gwb-samba}"
export GWB_SAMBA_DIR="$DIR"
TEMPLATE="$DIR.bench-template"
WORK="$(mktemp -d)"
DC="$ROOT/scripts/samba-dc.sh"
trap 'rm -rf "$WORK"' EXIT
log() { echo "bench-apply: $*" >&2; }

BIN="${GWB_BIN:-}"
if [[ -z "$BIN" ]]; then
    (cd "$ROOT" && cargo build -q --release)
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/gwb"
fi

# A fresh DC with the member users, kept as the template.
"$DC" down >/dev/null 2>&1 || true
"$DC" up >/dev/null
ENVFILE="$DIR/env"
set -a; . "$ENVFILE"; set +a
export LDAPTLS_CACERT="$GWB_TEST_LDAP_CA_FILE"
ADMIN=(-x -H "$GWB_TEST_LDAP_URL" -D "$GWB_TEST_LDAP_BIND_DN" -w "$GWB_TEST_LDAP_PASSWORD")
OU="OU=bench,$GWB_TEST_LDAP_BASE_DN"
USERS_OU="OU=bench-users,$GWB_TEST_LDAP_BASE_DN"
USERS_N=$(( GROUPS_N * PER / 20 ))
(( USERS_N >= PER )) || USERS_N=$PER

python3 - "$WORK" "$OU" "$USERS_OU" "$GROUPS_N" "$PER" "$USERS_N" <<'EOF'
import json, sys, uuid, random
work, ou, users_ou, n, per, users = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rnd = random.Random(1)
with open(f"{work}/users.ldif", "w") as f:
    f.write(f"dn: {ou}\nobjectClass: organizationalUnit\n\n")
    f.write(f"dn: {users_ou}\nobjectClass: organizationalUnit\n\n")
    for i in range(users):
        f.write(f"dn: CN=U{i},{users_ou}\nobjectClass: user\nsAMAccountName: bu{i}\n\n")
groups, ldif = [], []
for i in range(n):
    gid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    cn = f"Group_{gid}"
    dn = f"CN={cn},{ou}"
    stamp = f"Group_{gid}"
    members = [f"CN=U{u},{users_ou}" for u in rnd.sample(range(users), per)]
    attrs = {
        "displayName": f"Bench group {i}",
        "description": f"Benchmark group {i}",
        "adminDescription": stamp,
        "msDS-ExternalDirectoryObjectId": stamp,
    }
    groups.append({
        "id": gid, "displayName": attrs["displayName"], "action": "create", "reason": "eligible",
        "detail": "", "dn": dn, "cn": cn, "groupType": -2147483640, "current": None,
        "attributes": {k: {"before": None, "after": v} for k, v in attrs.items()},
        "members": {"add": members, "remove": [], "skipped": [], "unchanged": 0},
    })
    rec = [f"dn: {dn}", "changetype: add", "objectClass: top", "objectClass: group",
           "groupType: -2147483640"] + [f"{k}: {v}" for k, v in attrs.items()] + [f"member: {m}" for m in members]
    ldif.append("\n".join(rec) + "\n")
plan = {
    "format": "gwb-plan/1", "gwbVersion": "bench", "createdAt": "2026-12-01T00:00:00Z",
    "policy": {"deletion": "default", "memberLimit": "default", "cnFormat": "object-id", "maxDeletes": 500},
    "inputs": {"tenantId": None,
               "tenant": {"source": "none", "location": None, "sha256": None},
               "ad": {"source": "none", "location": None, "sha256": None}},
    "targetOu": {"dn": ou, "objectGuid": None, "source": "flag", "exists": True},
    "safety": {"deleteProof": {"complete": True, "detail": None, "graphChecked": False}, "refusals": []},
    "summary": {"create": n, "update": 0, "rename": 0, "delete": 0, "keep": 0, "skip": 0, "noop": 0,
                "memberAdds": n * per, "memberRemoves": 0, "attributeChanges": 4 * n},
    "groups": groups, "unowned": [],
}
json.dump(plan, open(f"{work}/plan.json", "w"))
open(f"{work}/groups.ldif", "w").write("\n".join(ldif))
EOF
log "seeding $USERS_N users (not timed)"
ldapadd "${ADMIN[@]}" -f "$WORK/users.ldif" >/dev/null
"$DC" stop >/dev/null 2>&1
rm -rf "$TEMPLATE"
cp -a "$DIR" "$TEMPLATE"

fresh() {
    "$DC" stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
    cp -a "$TEMPLATE" "$DIR"
    "$DC" start >/dev/null 2>&1
}

usn() {
    ldapsearch "${ADMIN[@]}" -LLL -s base -b "" highestCommittedUSN | awk '/^highestCommittedUSN:/{print $2}'
}

count_groups() {
    ldapsearch "${ADMIN[@]}" -LLL -E pr=1000/noprompt -s one -b "$OU" '(objectClass=group)' dn | grep -c '^dn:' || true
}

now() { date +%s.%N; }
export GWB_LDAP_PASSWORD="$GWB_TEST_LDAP_PASSWORD"
gwb_apply() {
    "$BIN" -q apply --yes "$@" --ldap-url "$GWB_TEST_LDAP_URL" --bind-dn "$GWB_TEST_LDAP_BIND_DN" \
        --ca-file "$GWB_TEST_LDAP_CA_FILE" --journal-dir "$WORK/journal" > "$WORK/apply.out"
}

A=() B=()
for r in $(seq 1 "$ROUNDS"); do
    fresh
    t0=$(now); gwb_apply "$WORK/plan.json"; t1=$(now)
    a=$(echo "$t1 - $t0" | bc); A+=("$a")
    [[ "$(count_groups)" == "$GROUPS_N" ]] || { log "gwb apply did not create $GROUPS_N groups"; tail -3 "$WORK/apply.out" >&2; exit 1; }
    if (( r == ROUNDS )); then
        # The re-run over the unchanged state.
        before=$(usn)
        t0=$(now)
        gwb_apply "$WORK/plan.json" || true
        t1=$(now)
        rerun=$(echo "$t1 - $t0" | bc)
        after=$(usn)
        rerun_summary="$(tail -1 "$WORK/apply.out")"
    fi
    fresh
    t0=$(now); ldapadd "${ADMIN[@]}" -f "$WORK/groups.ldif" >/dev/null; t1=$(now)
    b=$(echo "$t1 - $t0" | bc); B+=("$b")
    [[ "$(count_groups)" == "$GROUPS_N" ]] || { log "ldapadd did not create $GROUPS_N groups"; exit 1; }
    log "round $r: gwb apply ${a}s, ldapadd ${b}s"
done
"$DC" down >/dev/null 2>&1 || true
rm -rf "$TEMPLATE"

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ma=$(median "${A[@]}"); mb=$(median "${B[@]}")
echo "first apply of $GROUPS_N groups, $((GROUPS_N * PER)) memberships, $ROUNDS rounds (fresh DC each):"
echo "  gwb apply: ${A[*]} s (median $ma s, $(echo "$GROUPS_N / $ma" | bc) groups/s)"
echo "  ldapadd:   ${B[*]} s (median $mb s, $(echo "$GROUPS_N / $mb" | bc) groups/s)"
R=()
for i in "${!A[@]}"; do R+=("$(echo "scale=3; ${B[$i]} / ${A[$i]}" | bc)"); done
echo "  throughput gwb/ldapadd: $(echo "scale=2; $mb / $ma" | bc)x (ratio of the medians)"
echo "  per round (ldapadd/gwb, the same round's fresh DCs): ${R[*]} (median $(median "${R[@]}")x)"
echo "re-run over the unchanged state: ${rerun} s ($(echo "scale=1; 100 * $rerun / $ma" | bc)% of the first apply), highestCommittedUSN $before -> $after"
echo "  $rerun_summary"
