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
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    # The comment block above is the help.
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
fi
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

# The Wine prefix, created once, with bcryptprimitives.dll in its system32.
wine_prefix() {
    local dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
    if [[ ! -f "$WINEPREFIX/system.reg" ]]; then
        log "creating the Wine prefix $WINEPREFIX"
        mkdir -p "$WINEPREFIX"
        # No Mono or Gecko installer prompts: gwb needs neither.
        WINEDLLOVERRIDES="$WINEDLLOVERRIDES;mscoree=d;mshtml=d" wine wineboot --init >/dev/null 2>&1 || true
        wineserver -w || true
        [[ -f "$WINEPREFIX/system.reg" ]] || die "wineboot did not create $WINEPREFIX"
    fi
    if [[ ! -f "$dll" || scripts/windows/bcryptprimitives.c -nt "$dll" ]]; then
        x86_64-w64-mingw32-gcc -O2 -shared -o "$dll" scripts/windows/bcryptprimitives.c -lbcrypt
    fi
}

test_all() {
    install_packages
    local t0=$SECONDS t
    # The Linux binary the smoke suite compares against (the rustup toolchain, the default target
    # directory: already built when the Linux suite ran first).
    (unset CARGO_TARGET_DIR RUSTC RUSTDOC RUSTC_BOOTSTRAP; cargo build --locked --bin gwb)
    local linux_gwb="$ROOT/target/debug/gwb"
    t=$SECONDS
    cargo_win test --locked "${CARGO_ARGS[@]}" --no-run --lib --test integration
    log "Windows test build: $((SECONDS - t)) s"
    wine_prefix
    local exe
    exe="$(exe_path)"
    [[ -x "$exe" ]] || die "no $exe after the build"
    wine "$exe" --version
    local fail=0
    t=$SECONDS
    log "unit tests under Wine"
    cargo_win test --locked "${CARGO_ARGS[@]}" --lib || fail=1
    log "integration suite under Wine"
    # Under Wine the lab DC's tests skip (they seed the DC with Linux ldap-utils; the message says
    # so): the smoke suite below writes to the DC from gwb.exe itself.
    (unset GWB_SAMBA_ENV GWB_REQUIRE_SAMBA; cargo_win test --locked "${CARGO_ARGS[@]}" --test integration) || fail=1
    log "Wine test runs: $((SECONDS - t)) s"
    # The smoke suite needs the DC: the running one, or one this script starts and stops.
    local env_file started=0
    if ! scripts/samba-dc.sh status >/dev/null 2>&1; then
        scripts/samba-dc.sh up
        started=1
    fi
    env_file="$(scripts/samba-dc.sh env)"
    GWB_EXE="$exe" GWB_LINUX="$linux_gwb" GWB_SAMBA_ENV="$env_file" scripts/windows/smoke.sh || fail=1
    if [[ $started == 1 ]]; then scripts/samba-dc.sh down; fi
    wineserver -k 2>/dev/null || true
    log "scripts/windows.sh test: $((SECONDS - t0)) s in all"
    return $fail
}

case "${1:-}" in
    build) shift; build "$@" ;;
    test) shift; test_all "$@" ;;
    exe) shift; exe_path "$@" ;;
    *) die "usage: scripts/windows.sh build [--release] | test | exe [--release]" ;;
esac
