#!/usr/bin/env bash
# Time `gwb collect` against the Samba lab DC on the 10,000-member fixture OU that
# tests/ldap.rs seeds (reads_ten_thousand_members_through_range_windows).
#
#   scripts/samba-dc.sh up
#   scripts/bench-ldap.sh [RUNS]        # GWB_BIN=path/to/gwb to time another build
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    # The comment block above is the help.
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
fi
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-5}"
ENVFILE="${GWB_SAMBA_ENV:-$("$ROOT/scripts/samba-dc.sh" env)}"
[[ -f "$ENVFILE" ]] || { echo "bench-ldap: no lab DC ($ENVFILE missing): run scripts/samba-dc.sh up" >&2; exit 1; }
set -a; . "$ENVFILE"; set +a

OU="OU=gwb-range-fixture-10000,$GWB_TEST_LDAP_BASE_DN"
if ! LDAPTLS_CACERT="$GWB_TEST_LDAP_CA_FILE" ldapsearch -x -H "$GWB_TEST_LDAP_URL" -D "$GWB_TEST_LDAP_BIND_DN" \
        -w "$GWB_TEST_LDAP_PASSWORD" -LLL -s base -b "CN=Big,$OU" '(objectClass=*)' cn >/dev/null 2>&1; then
    echo "bench-ldap: seeding the fixture OU through the integration test" >&2
    (cd "$ROOT" && cargo test -q --test integration ldap::reads_ten_thousand -- --exact >/dev/null)
fi

BIN="${GWB_BIN:-}"
if [[ -z "$BIN" ]]; then
    (cd "$ROOT" && cargo build -q)
    BIN="$ROOT/target/debug/gwb"
fi
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
export GWB_LDAP_PASSWORD="$GWB_TEST_LDAP_PASSWORD"

best=""
for i in $(seq 1 "$RUNS"); do
    start=$(date +%s.%N)
    /usr/bin/env time -f "%M" -o "$OUT/rss" "$BIN" -q collect --out "$OUT/b" --ldap-url "$GWB_TEST_LDAP_URL" \
        --bind-dn "$GWB_TEST_LDAP_BIND_DN" --ca-file "$GWB_TEST_LDAP_CA_FILE" --target-ou "$OU" 2>/dev/null \
        || "$BIN" -q collect --out "$OUT/b" --ldap-url "$GWB_TEST_LDAP_URL" \
            --bind-dn "$GWB_TEST_LDAP_BIND_DN" --ca-file "$GWB_TEST_LDAP_CA_FILE" --target-ou "$OU"
    end=$(date +%s.%N)
    secs=$(echo "$end - $start" | bc)
    rss=$(cat "$OUT/rss" 2>/dev/null || echo "?")
    echo "run $i: ${secs}s, max RSS ${rss} KiB, $(grep -c '^dn:' "$OUT/b/ad.ldif") entries"
    if [[ -z "$best" ]] || (( $(echo "$secs < $best" | bc) )); then best=$secs; fi
done
echo "best of $RUNS: ${best}s for 10,001 objects and a 10,000-member group"
