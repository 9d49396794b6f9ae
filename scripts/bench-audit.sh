#!/usr/bin/env bash
# Benchmark: wall time and peak memory of `gwb audit` (release build) on large synthetic
# bundles, next to Python's json.load of the same tenant.json measured in the same run.
# Goal (issue 9): the 100,000-group / 1,000,000-membership audit no slower than json.load
# (ratio <= 1.0) and at most 600 MB peak.
# Usage: scripts/bench-audit.sh [SPEC...]   SPEC is "GROUPS MEMBERSHIPS" (default: three sizes)
# Prints a Markdown table; the results go into the README. GWB=path/to/gwb uses that binary;
# otherwise a release build is made.
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    # The comment block above is the help.
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
fi
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
if [[ -z "${GWB:-}" ]]; then
  cargo build --release -q
  GWB="${CARGO_TARGET_DIR:-target}/release/gwb"
fi
bin="$GWB"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=("1000 20000" "10000 200000" "100000 1000000")
echo "| groups | memberships | tenant.json (MB) | json.load (s) | format | gwb audit (s) | ratio | peak RSS (MB) |"
echo "|---:|---:|---:|---:|---|---:|---:|---:|"
for spec in "${specs[@]}"; do
  set -- $spec
  python3 scripts/gen-large-bundle.py "$work/b$1" "$1" "$2" >/dev/null
  size=$(( $(stat -c %s "$work/b$1/tenant.json") / 1000000 ))
  py=$(python3 -c 'import json,sys,time; t=time.perf_counter(); json.load(open(sys.argv[1])); print(f"{time.perf_counter()-t:.2f}")' "$work/b$1/tenant.json")
  for fmt in json table; do
    /usr/bin/time -f "%e %M" -o "$work/t" "$bin" audit --snapshot "$work/b$1" --format "$fmt" --fail-on never >/dev/null
    read -r wall kb < "$work/t"
    ratio=$(python3 -c "print(f'{$wall/$py:.2f}')")
    echo "| $1 | $2 | $size | $py | $fmt | $wall | $ratio | $((kb / 1024)) |"
  done
done
