#!/usr/bin/env bash
# Benchmark: `gwb migrate plan` against the two forecasts it compares, in the same run (release
# build), ROUNDS rounds alternating, medians: wall time and peak memory.
# Target: the migration plan of 100,000 groups takes at most the time of the two forecasts it
# compares. Two readings are measured and both ratios printed:
#   - "two forecasts": each writer's forecast made on its own (`gwb audit --target A`, then
#     `gwb audit --target B`), the work the migration plan replaces;
#   - "one audit of both": the stricter `gwb audit --target A --target B`, one process that
#     reads the inputs once and forecasts both writers side by side.
# Usage: scripts/bench-migrate.sh [GROUPS MEMBERSHIPS [ROUNDS]]   (default 100000 1000000 3)
# GWB=path/to/gwb uses that binary; otherwise a release build is made. Prints Markdown.
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
rounds=${3:-3}
target=${CARGO_TARGET_DIR:-target}
if [[ -z "${GWB:-}" ]]; then
  cargo build --release -q
  GWB="$target/release/gwb"
fi
gwb="$GWB"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 scripts/gen-large-bundle.py "$work/b" "$groups" "$memberships" >/dev/null
declare -A wall rss
run() { # key, command... (exit 1 is a failed gate, not an error)
  local key=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || [[ $? -eq 1 ]]
  read -r w kb < <(tail -n 1 "$work/t")  # after "Command exited with non-zero status 1"
  wall[$key]+="$w "; rss[$key]+="$((kb / 1024)) "
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pairs=("connect-v1 cloud-sync" "connect-v2 cloud-sync" "connect-v1 gwb")
for r in $(seq "$rounds"); do
  for pair in "${pairs[@]}"; do
    set -- $pair
    run "a:$1" "$gwb" audit --snapshot "$work/b" --target "$1" --format json --fail-on never
    run "a:$2" "$gwb" audit --snapshot "$work/b" --target "$2" --format json --fail-on never
    run "ab:$1:$2" "$gwb" audit --snapshot "$work/b" --target "$1" --target "$2" --format json --fail-on never
    run "m:$1:$2:json" "$gwb" migrate plan --snapshot "$work/b" --from "$1" --to "$2" --format json
    run "m:$1:$2:table" "$gwb" migrate plan --snapshot "$work/b" --from "$1" --to "$2" --format table
  done
  echo "round $r done" >&2
done
med() { echo "${wall[$1]}" | median; }
echo "| from → to | format | two forecasts (s) | one audit of both (s) | migrate plan (s) | runs (s) | ratio to two forecasts | ratio to one audit | peak RSS (MB) |"
echo "|---|---|---:|---:|---:|---|---:|---:|---:|"
for pair in "${pairs[@]}"; do
  set -- $pair
  two=$(python3 -c "print(f'{$(med "a:$1") + $(med "a:$2"):.2f}')")
  one=$(med "ab:$1:$2")
  for fmt in json table; do
    m=$(med "m:$1:$2:$fmt")
    echo "| $1 → $2 | $fmt | $two | $one | $m | ${wall[m:$1:$2:$fmt]% } | $(python3 -c "print(f'{$m/$two:.2f}')") | $(python3 -c "print(f'{$m/$one:.2f}')") | $(echo "${rss[m:$1:$2:$fmt]}" | median) |"
  done
done
