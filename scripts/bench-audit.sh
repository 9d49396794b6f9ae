#!/usr/bin/env bash
# Benchmark: wall time and peak memory of `gwb audit` (release build) on large synthetic bundles.
# Usage: scripts/bench-audit.sh   (prints a Markdown table; results go into the README)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release -q
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
echo "| groups | memberships | formats | wall (s) | peak RSS (MB) |"
echo "|---:|---:|---|---:|---:|"
for spec in "1000 20000" "10000 200000" "100000 1000000"; do
  set -- $spec
  python3 scripts/gen-large-bundle.py "$work/b$1" "$1" "$2" >/dev/null
  for fmt in json table; do
    /usr/bin/time -f "%e %M" -o "$work/t" target/release/gwb audit --snapshot "$work/b$1" --format "$fmt" --fail-on never >/dev/null
    read -r wall kb < "$work/t"
    echo "| $1 | $2 | $fmt | $wall | $((kb / 1024)) |"
  done
done
