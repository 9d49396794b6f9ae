#!/usr/bin/env bash
# Benchmark live Graph collection against the Graph simulator (release build).
#   (a) requests of a full collection vs. the minimum Graph's page sizes allow, and vs. one per group
#   (b) wall time with 20 ms injected latency vs. 1.5 x (minimum requests x 20 ms / concurrency)
#   (c) requests of an incremental (delta) collection of the unchanged tenant
#   (d) peak memory (max RSS) collecting 100,000 groups with 1,000,000 memberships
# Usage: scripts/bench-collect.sh [--quick]    (--quick: smaller tenants, for trying the script)
# Writes a Markdown table to stdout and to target/bench-collect.md.
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    # The comment block above is the help.
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
fi
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
if (( QUICK )); then
  SPEC_A="groups=2000,members=40000,seed=1"; SPEC_D="groups=10000,members=100000,seed=3"; BIG=20000
else
  SPEC_A="groups=10000,members=200000,seed=1"; SPEC_D="groups=100000,members=1000000,seed=3"; BIG=250000
fi
CONCURRENCY=4
TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet
GWB=target/release/gwb
WORK=$(mktemp -d)
SIM_PID=""
cleanup() { [[ -n "$SIM_PID" ]] && kill "$SIM_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

start_sim() { # args: extra graph-sim flags
  [[ -n "$SIM_PID" ]] && { kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; }
  "$GWB" graph-sim --port 0 "$@" > "$WORK/sim.out" 2> "$WORK/sim.err" &
  SIM_PID=$!
  for _ in $(seq 1 600); do
    [[ -s "$WORK/sim.out" ]] && break
    sleep 0.1
  done
  URL=$(head -1 "$WORK/sim.out" | sed 's/^listening on //')
  [[ "$URL" == http://127.0.0.1:* ]] || { echo "simulator did not start" >&2; cat "$WORK/sim.err" >&2; exit 1; }
}
stat_requests() { curl -s "$URL/_sim/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }
reset_stats() { curl -s -X POST "$URL/_sim/reset" > /dev/null; }
collect() { # args: out dir, extra flags; prints elapsed seconds and max RSS kB
  AZURE_CLIENT_SECRET=bench-secret "$TIME" -v -o "$WORK/time.txt" "$GWB" -q collect --out "$1" --graph-url "$URL" \
    --tenant bench.example --client-id bench-app --concurrency "$CONCURRENCY" "${@:2}" || true
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$WORK/time.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep 'Maximum resident set size' "$WORK/time.txt" | awk '{print $NF}')
  echo "$wall $rss"
}
# Minimum requests Graph's documented page sizes allow for a bundle: group pages at $top=999,
# first member pages 20 per $batch for every group whose members are needed (those a target can
# write back; the bundle has a "members" key for exactly those), further member pages at
# $top=999, one $batch for the small sections and one /v1.0/subscribedSkus.
min_requests() {
  python3 - "$1" <<'PY'
import json, math, sys
doc = json.load(open(sys.argv[1] + "/tenant.json"))
groups = doc.get("groups", [])
n = len(groups)
needed = [g for g in groups if "members" in g]
extra = sum(max(0, math.ceil(len(g["members"]) / 999) - 1) for g in needed)
deleted_extra = max(0, math.ceil(len(doc.get("deletedGroups", [])) / 999) - 1)
print(max(1, math.ceil(n / 999)) + math.ceil(len(needed) / 20) + extra + 2 + deleted_extra, n,
      sum(len(g["members"]) for g in needed))
PY
}

ROWS=()
row() { ROWS+=("$1"); }

# (a) + (c): request counts, no latency.
start_sim --generate "$SPEC_A"
reset_stats
read -r WALL_A RSS_A < <(collect "$WORK/a")
REQ_A=$(stat_requests)
read -r MIN_A N_A M_A < <(min_requests "$WORK/a")
row "| (a) full collection, $N_A groups ($M_A memberships of groups a target can write back) | $REQ_A requests; minimum $MIN_A; ratio $(python3 -c "print(f'{$REQ_A/$MIN_A:.3f}')") (target <= 1.2) | one request per group: $N_A, i.e. $(python3 -c "print(f'{$N_A/$REQ_A:.1f}')")x fewer (target >= 20x); ${WALL_A}s |"
reset_stats
read -r WALL_C RSS_C < <(collect "$WORK/a" --incremental)
REQ_C=$(stat_requests)
row "| (c) incremental collection of the unchanged tenant | $REQ_C requests = $(python3 -c "print(f'{100*$REQ_C/$REQ_A:.2f}')")% of the full collection (target <= 1%) | ${WALL_C}s |"

# (a') the same with one extra group of $BIG members (nextLinks followed only for it).
start_sim --generate "$SPEC_A,big=$BIG"
reset_stats
read -r WALL_A2 RSS_A2 < <(collect "$WORK/a2")
REQ_A2=$(stat_requests)
read -r MIN_A2 N_A2 M_A2 < <(min_requests "$WORK/a2")
row "| (a) plus one group of $BIG members: $N_A2 groups / $M_A2 memberships | $REQ_A2 requests; minimum $MIN_A2; ratio $(python3 -c "print(f'{$REQ_A2/$MIN_A2:.3f}')") (target <= 1.2) | ${WALL_A2}s |"

# (b) 20 ms latency per request.
start_sim --generate "$SPEC_A" --latency-ms 20
reset_stats
read -r WALL_B RSS_B < <(collect "$WORK/b")
REQ_B=$(stat_requests)
read -r MIN_B N_B M_B < <(min_requests "$WORK/b")
BOUND_B=$(python3 -c "print(f'{1.5*$MIN_B*0.020/$CONCURRENCY:.2f}')")
row "| (b) $N_B groups / $M_B memberships, 20 ms latency, concurrency $CONCURRENCY | ${WALL_B}s ($REQ_B requests) | bound 1.5 x $MIN_B x 20 ms / $CONCURRENCY = ${BOUND_B}s |"

# (d) memory.
start_sim --generate "$SPEC_D"
reset_stats
read -r WALL_D RSS_D < <(collect "$WORK/d")
REQ_D=$(stat_requests)
row "| (d) $SPEC_D | peak RSS $(python3 -c "print(f'{$RSS_D/1024:.0f}')") MB (target <= 512 MB) | ${WALL_D}s, $REQ_D requests |"

{
  echo "gwb collect benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, release build, simulator on the same machine)"
  echo
  echo "| Scenario | Result | Reference |"
  echo "|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} | tee target/bench-collect.md
