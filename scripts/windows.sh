#!/usr/bin/env bash
# gwb for Windows, built and tested on Linux with Debian's packages alone.
#
#   scripts/windows.sh build [--release]   build gwb.exe for x86_64-pc-windows-gnu
#   scripts/windows.sh test                build, then under Wine: the unit tests, the integration
#                                          suite and the smoke suite of gwb.exe (audit equal to the
#                                          Linux binary's, every report format, inspect of the
#                                          PowerShell fixtures, plan/show, apply + undo against the
#                                          Samba DC over LDAPS)
#   scripts/windows.sh exe [--release]     print the path of gwb.exe (after build)
#
# The toolchain is Debian's rustc-web/cargo-web with rust-web-src: std is built for the Windows
# target from its sources (-Zbuild-std; std's own crates come from crates.io), MinGW-w64 links it
# and Wine runs it. The rustup toolchain the rest of the build uses is never touched: this script
# calls /usr/bin/cargo and /usr/bin/rustc by path and builds into its own target directory
# (GWB_WINDOWS_TARGET_DIR, default target/windows), which also holds the Wine prefix, so a second
# run reuses both.
#
# Since Rust 1.78 std imports ProcessPrng from bcryptprimitives.dll, which Debian's Wine 8.0 lacks
# (the exe would exit with status c0000135). scripts/windows/bcryptprimitives.c forwards it to
# BCryptGenRandom; it is built and placed in the Wine prefix only, never next to the exe (real
# Windows has the DLL).
#
# `test` needs the Samba DC of scripts/samba-dc.sh: it uses the running one, or brings one up and
# down again itself.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
TARGET=x86_64-pc-windows-gnu
export CARGO_TARGET_DIR="${GWB_WINDOWS_TARGET_DIR:-$ROOT/target/windows}"
export WINEPREFIX="${GWB_WINEPREFIX:-$CARGO_TARGET_DIR/wine}"
# No menu entries or file associations written into the home directory; no debug chatter.
export WINEDLLOVERRIDES="winemenubuilder.exe=d"
export WINEDEBUG="${WINEDEBUG:--all}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Debian's toolchain by path; -Z flags on a stable compiler need RUSTC_BOOTSTRAP.
unset RUSTUP_TOOLCHAIN RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
CARGO=/usr/bin/cargo
CARGO_ARGS=(--target "$TARGET" -Zbuild-std=std,panic_unwind
    --config "target.$TARGET.linker=\"x86_64-w64-mingw32-gcc\""
    # The runner as --config, not CARGO_TARGET_..._RUNNER: assert_cmd reads that variable and
    # would start `wine` from inside Windows.
    --config "target.$TARGET.runner=\"wine\"")

log() { echo "windows.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

install_packages() {
    if [[ -x /usr/bin/cargo && -x /usr/bin/rustc && -d /usr/lib/rustlib/src/rust/library ]] \
        && command -v x86_64-w64-mingw32-gcc >/dev/null && command -v wine >/dev/null \
        && [[ -x /usr/lib/wine/wine64 ]]; then
        return
    fi
    [[ $(id -u) -eq 0 ]] || die "the Windows toolchain is not installed and installing it needs root"
    log "installing rustc-web, cargo-web, rust-web-src, MinGW-w64 and Wine from the distribution's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends rustc-web cargo-web rust-web-src \
        gcc-mingw-w64-x86-64 wine wine64 >&2
}

cargo_win() {
    nice -n "${GWB_WINDOWS_NICE:-10}" "$CARGO" "$@"
}

build() {
    local profile=(--profile dev) dir=debug
    if [[ "${1:-}" == --release ]]; then profile=(--release); dir=release; fi
    install_packages
    local t0=$SECONDS
    cargo_win build --locked "${CARGO_ARGS[@]}" "${profile[@]}" --bin gwb
    log "built $CARGO_TARGET_DIR/$TARGET/$dir/gwb.exe in $((SECONDS - t0)) s"
}

exe_path() {
    local dir=debug
    [[ "${1:-}" == --release ]] && dir=release
    echo "$CARGO_TARGET_DIR/$TARGET/$dir/gwb.exe"
}

case "${1:-}" in
    build) shift; build "$@" ;;
    exe) shift; exe_path "$@" ;;
    *) die "usage: scripts/windows.sh build [--release] | test | exe [--release]" ;;
esac
