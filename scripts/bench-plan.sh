#!/usr/bin/env bash
# Benchmark: `gwb plan` against `gwb audit` of the same large synthetic bundle, in the same run
# (release build): wall time and peak memory. Targets: plan <= audit's time, <= 1 GB peak.
# Usage: scripts/bench-plan.sh [GROUPS MEMBERSHIPS]   (default 100000 1000000; prints Markdown)
# GWB=path/to/gwb uses that binary; otherwise a release build is made.
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    # The comment block above is the help.
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
fi
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
groups=${1:-100000}
memberships=${2:-1000000}
target=${CARGO_TARGET_DIR:-target}
if [[ -z "${GWB:-}" ]]; then
  cargo build --release -q
  GWB="$target/release/gwb"
fi
gwb="$GWB"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 scripts/gen-large-bundle.py "$work/b" "$groups" "$memberships" >/dev/null
run() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null
  read -r wall kb < "$work/t"
  echo "| $label | $groups | $memberships | $wall | $((kb / 1024)) |"
}
echo "| command | groups | memberships | wall (s) | peak RSS (MB) |"
echo "|---|---:|---:|---:|---:|"
run "gwb audit --format json" "$gwb" audit --snapshot "$work/b" --format json --fail-on never
run "gwb audit --target gwb --format json" "$gwb" audit --snapshot "$work/b" --target gwb --format json --fail-on never
run "gwb plan --format json" "$gwb" plan --snapshot "$work/b" --format json
run "gwb plan --out plan.json (table on stdout)" "$gwb" plan --snapshot "$work/b" --out "$work/plan.json"
run "gwb plan --format ldif" "$gwb" plan --snapshot "$work/b" --format ldif
