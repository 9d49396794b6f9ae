#!/usr/bin/env bash
# Benchmark: `gwb migrate plan` against the two forecasts it compares (`gwb audit --target A
# --target B` of the same large synthetic bundle), in the same run (release build): wall time and
# peak memory. Target: the migration plan takes at most the time of the audit of its two writers.
# Usage: scripts/bench-migrate.sh [GROUPS MEMBERSHIPS]   (default 100000 1000000; prints Markdown)
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
run() { # label, command... (exit 1 is a failed gate, not an error)
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null || [[ $? -eq 1 ]]
  read -r wall kb < "$work/t"
  echo "| $label | $groups | $memberships | $wall | $((kb / 1024)) |"
}
echo "| command | groups | memberships | wall (s) | peak RSS (MB) |"
echo "|---|---:|---:|---:|---:|"
for pair in "connect-v1 cloud-sync" "connect-v1 gwb"; do
  set -- $pair
  run "gwb audit --target $1 --target $2 --format json" "$gwb" audit --snapshot "$work/b" --target "$1" --target "$2" --format json --fail-on never
  run "gwb migrate plan --from $1 --to $2 --format json" "$gwb" migrate plan --snapshot "$work/b" --from "$1" --to "$2" --format json
  run "gwb migrate plan --from $1 --to $2 --format table" "$gwb" migrate plan --snapshot "$work/b" --from "$1" --to "$2" --format table
done
