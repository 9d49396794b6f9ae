#!/usr/bin/env bash
# The whole test suite on a fresh machine: start a throwaway Samba AD DC on loopback (installing
# Samba from Debian's packages if needed), run every test against it, and stop the DC again.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/samba-dc.sh ]; then
  scripts/samba-dc.sh up
  trap 'scripts/samba-dc.sh down' EXIT
  export GWB_REQUIRE_SAMBA=1
  # The tests read the DC's settings from its env file (a non-default GWB_SAMBA_DIR moves it).
  GWB_SAMBA_ENV="$(scripts/samba-dc.sh env)"
  export GWB_SAMBA_ENV
fi
cargo test --all-targets "$@"
# The `kerberos` feature's GSSAPI bind against the same DC (it is also the realm's KDC): one
# short extra step with the feature on (libkrb5-dev and clang come with scripts/samba-dc.sh).
if [ -x scripts/samba-dc.sh ] && [ $# -eq 0 ]; then
  cargo test --features kerberos --test integration harden_kerberos
fi
