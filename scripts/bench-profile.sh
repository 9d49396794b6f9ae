#!/usr/bin/env bash
# Benchmark: which release profile gwb ships. Builds the release binary twice, into separate
# target directories, with Cargo's default release profile and with fat LTO and one codegen
# unit, then measures in the same run, alternating: build time, binary size, and the wall time
# and peak memory of `gwb audit` on a 100,000-group / 1,000,000-membership bundle (json format,
# ROUNDS rounds, median). The README's "Release profile" table comes from this script.
# Usage: scripts/bench-profile.sh [ROUNDS]   (default 3)
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
fi
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
ROUNDS="${1:-3}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
base="${GWB_PROFILE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gwb/profile-bench}"
build() { # NAME ENV...
    local name=$1; shift
    local t0 t1
    t0=$(date +%s.%N)
    env "$@" CARGO_TARGET_DIR="$base/$name" cargo build --release -q --bin gwb
    t1=$(date +%s.%N)
    python3 -c "print(f'{$t1-$t0:.0f}')" > "$work/$name.build"
}
# A build that found its target directory warm is not a clean build: say so.
for name in default lto; do
    [[ -x "$base/$name/release/gwb" ]] && echo "note: $name reuses $base/$name (build time is incremental)" >&2
done
build default
build lto CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
python3 scripts/gen-large-bundle.py "$work/b" 100000 1000000 >/dev/null
declare -A wall rss
for r in $(seq "$ROUNDS"); do
    for name in default lto; do
        /usr/bin/time -f "%e %M" -o "$work/t" "$base/$name/release/gwb" audit --snapshot "$work/b" \
            --format json --fail-on never >/dev/null
        read -r w kb < "$work/t"
        wall[$name]+="$w "; rss[$name]+="$((kb / 1024)) "
        echo "round $r: $name ${w}s" >&2
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| profile | build (s) | binary (MB) | audit 100k groups, median of $ROUNDS (s) | runs (s) | peak RSS (MB) |"
echo "|---|---:|---:|---:|---|---:|"
for name in default lto; do
    size=$(python3 -c "import os; print(f'{os.path.getsize(\"$base/$name/release/gwb\")/1e6:.1f}')")
    echo "| $name | $(cat "$work/$name.build") | $size | $(echo "${wall[$name]}" | median) | ${wall[$name]% } | $(echo "${rss[$name]}" | median) |"
done
