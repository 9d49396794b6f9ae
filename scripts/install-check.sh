#!/usr/bin/env bash
# The README's install and packaging commands, run as written (with debug builds, which the test
# suite has already made, instead of release builds): `cargo install --locked --path .` into a
# throwaway root, and `scripts/dist.sh` with its SHA-256 sums checked and both archives unpacked
# and looked into.
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    # The comment block above is the help.
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
fi
set -euo pipefail
cd "$(dirname "$0")/.."
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "install-check: FAIL $*" >&2; exit 1; }

CARGO_TARGET_DIR="$PWD/target" cargo install --locked --debug --path . --root "$TMP/root" --quiet
v="$("$TMP/root/bin/gwb" --version)"
[[ "$v" == "gwb $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1) (commit "* ]] || fail "installed gwb --version: $v"
echo "install-check: cargo install --locked --path . gives: $v"
"$TMP/root/bin/gwb" completions bash | bash -c 'source /dev/stdin && complete -p gwb' >/dev/null \
    || fail "the installed gwb's bash completion does not load"

GWB_DIST_PROFILE=dev scripts/dist.sh "$TMP/dist"
(cd "$TMP/dist" && sha256sum -c SHA256SUMS) || fail "SHA256SUMS does not match the archives"
mkdir "$TMP/unpacked"
tar -xzf "$TMP"/dist/gwb-*-x86_64-unknown-linux-gnu.tar.gz -C "$TMP/unpacked"
unzip -q "$TMP"/dist/gwb-*-x86_64-pc-windows-gnu.zip -d "$TMP/unpacked"
for f in gwb README.md docs/windows.md completions/gwb.bash completions/_gwb completions/gwb.fish completions/gwb.ps1 man/gwb.1 man/gwb-audit.1; do
    [[ -s "$(echo "$TMP"/unpacked/gwb-*-linux-gnu/"$f")" ]] || fail "the Linux archive lacks $f"
done
for f in gwb.exe README.md docs/windows.md completions/gwb.ps1 man/gwb.1; do
    [[ -s "$(echo "$TMP"/unpacked/gwb-*-windows-gnu/"$f")" ]] || fail "the Windows archive lacks $f"
done
"$(echo "$TMP"/unpacked/gwb-*-linux-gnu/gwb)" --version >/dev/null || fail "the archived Linux gwb does not run"
echo "install-check: cargo install, scripts/dist.sh and SHA256SUMS ok"
