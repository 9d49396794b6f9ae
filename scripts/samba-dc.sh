#!/usr/bin/env bash
# A throwaway Samba AD domain controller on loopback for gwb's LDAP integration tests.
#
#   scripts/samba-dc.sh up                 install Samba if missing, provision, start, load the lab schema
#   scripts/samba-dc.sh env                print the path of the env file the tests read
#   scripts/samba-dc.sh status             exit 0 when the DC answers
#   scripts/samba-dc.sh exchange-prepare [ORG_VERSION DOMAIN_VERSION RANGE_UPPER]
#                                          create the Exchange organization + MESO objects
#   scripts/samba-dc.sh exchange-unprepare remove them again
#   scripts/samba-dc.sh stop               stop the DC cleanly and keep its state
#   scripts/samba-dc.sh start              start it again on that state (no provisioning)
#   scripts/samba-dc.sh crash-restart      kill the DC with SIGKILL and start it again on the same state
#   scripts/samba-dc.sh down               stop the DC this script started and delete its state
#
# The env file names an administrator and a writeback account (GWB_TEST_LDAP_WRITER_*) that
# may only create, change and delete groups under GWB_TEST_LDAP_WRITER_OU.
#
# State lives in ${GWB_SAMBA_DIR:-/tmp/gwb-samba}. `up` is idempotent. Needs root (ports 389/636).
# Only one Samba DC can run per machine: the LDAP ports are not configurable.
set -euo pipefail

DIR="${GWB_SAMBA_DIR:-/tmp/gwb-samba}"
REALM="${GWB_SAMBA_REALM:-LAB.EXAMPLE.COM}"
DOMAIN="${GWB_SAMBA_DOMAIN:-LAB}"
HOST="dc1"
ADMINPASS="${GWB_SAMBA_ADMINPASS:-Passw0rd!Lab}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENVFILE="$DIR/env"
PIDFILE="$DIR/samba.pid"
realm_lower="$(echo "$REALM" | tr '[:upper:]' '[:lower:]')"
BASE="DC=$(echo "$realm_lower" | sed 's/\./,DC=/g')"
CONFIG="CN=Configuration,$BASE"
SCHEMA="CN=Schema,$CONFIG"
BIND_DN="CN=Administrator,CN=Users,$BASE"
# The writeback account: write rights on WRITER_OU's subtree only (create/delete group objects,
# read/write the properties of groups, delete groups); nothing anywhere else.
WRITER="gwb-writer"
WRITER_DN="CN=$WRITER,CN=Users,$BASE"
WRITER_PASS="${GWB_SAMBA_WRITERPASS:-Writer!Lab1}"
WRITER_OU="OU=gwb-writeback,$BASE"
GROUP_CLASS_GUID="bf967a9c-0de6-11d0-a285-00aa003049e2"

log() { echo "samba-dc: $*" >&2; }
die() { log "error: $*"; exit 1; }

# ldap-utils against our DC, trusting our CA only.
ldap_tool() {
    local tool="$1"; shift
    LDAPTLS_CACERT="$DIR/tls/ca.pem" LDAPTLS_REQCERT=demand \
        "$tool" -x -H ldaps://127.0.0.1 -D "$BIND_DN" -y "$DIR/adminpass" "$@"
}

is_running() {
    [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

answers() {
    ldapsearch -x -H ldap://127.0.0.1 -s base -b "" -LLL dnsHostName >/dev/null 2>&1
}

install_packages() {
    if command -v samba >/dev/null && command -v samba-tool >/dev/null && command -v ldapsearch >/dev/null \
        && [[ -d /usr/share/samba/setup ]] && command -v openssl >/dev/null && command -v kinit >/dev/null \
        && command -v krb5-config >/dev/null && command -v clang >/dev/null; then
        return
    fi
    [[ $(id -u) -eq 0 ]] || die "Samba is not installed and installing it needs root"
    log "installing Samba from the distribution's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    # samba-ad-provision holds the provisioning templates; it is only a Recommends of samba.
    apt-get install -y -q --no-install-recommends samba samba-ad-dc samba-ad-provision \
        samba-dsdb-modules samba-vfs-modules winbind ldap-utils openssl krb5-user libkrb5-dev clang >&2
}

make_tls() {
    local t="$DIR/tls"
    mkdir -p "$t"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=gwb lab CA" \
        -keyout "$t/ca.key" -out "$t/ca.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$HOST.$realm_lower" \
        -keyout "$t/key.pem" -out "$t/cert.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:%s.%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
        "$HOST" "$realm_lower" > "$t/ext.cnf"
    openssl x509 -req -in "$t/cert.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
        -days 30 -extfile "$t/ext.cnf" -out "$t/cert.pem" 2>/dev/null
    # Samba refuses to start LDAP at all when the key is readable by others.
    chmod 600 "$t/key.pem" "$t/ca.key"
    # A second CA the DC does not use, for "wrong CA" tests.
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=gwb unrelated CA" \
        -keyout "$t/other-ca.key" -out "$t/other-ca.pem" 2>/dev/null
    chmod 600 "$t/other-ca.key"
}

provision() {
    log "provisioning $REALM into $DIR"
    mkdir -p "$DIR/run" "$DIR/log"
    samba-tool domain provision --targetdir="$DIR" --realm="$REALM" --domain="$DOMAIN" \
        --server-role=dc --dns-backend=NONE --use-rfc2307 --host-name="$HOST" \
        --adminpass="$ADMINPASS" --backend-store=mdb \
        --option="interfaces=lo" --option="bind interfaces only=yes" \
        --option="pid directory=$DIR/run" --option="ncalrpc dir=$DIR/run/ncalrpc" \
        --option="winbindd socket directory=$DIR/run/winbindd" \
        --option="ntp signd socket directory=$DIR/run/ntp_signd" \
        --option="log file=$DIR/log/log.%m" \
        --option="server services = ldap kdc" \
        --option="ldap server require strong auth = allow_sasl_over_tls" \
        --option="ldb:nosync = true" \
        --option="dsdb:schema update allowed = true" \
        --option="tls enabled = yes" --option="tls keyfile = $DIR/tls/key.pem" \
        --option="tls certfile = $DIR/tls/cert.pem" --option="tls cafile = $DIR/tls/ca.pem" \
        > "$DIR/log/provision.out" 2>&1 || { cat "$DIR/log/provision.out" >&2; die "provisioning failed"; }
    # The password policy of a lab DC: tests create accounts with simple passwords.
    samba-tool domain passwordsettings set --configfile="$DIR/etc/smb.conf" \
        --complexity=off --min-pwd-length=1 --min-pwd-age=0 --max-pwd-age=0 >/dev/null 2>&1 || true
}

start() {
    local ports
    ports="$(ss -ltn 2>/dev/null | awk '{print $4}' | grep -E ':(389|636)$' || true)"
    [[ -z "$ports" ]] || die "LDAP ports already in use ($ports): is another directory server running?"
    setsid samba -s "$DIR/etc/smb.conf" -F --debug-stdout -M single --maximum-runtime=14400 \
        > "$DIR/log/samba.out" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    local i=0
    until answers; do
        if ! is_running; then
            tail -n 30 "$DIR/log/samba.out" >&2 || true
            die "samba exited during start-up"
        fi
        i=$((i + 1))
        [[ $i -lt 600 ]] || die "the DC did not answer within 60 s"
        sleep 0.1
    done
    # LDAPS comes up with the same task; make sure it answers with our certificate.
    i=0
    until LDAPTLS_CACERT="$DIR/tls/ca.pem" ldapsearch -x -H ldaps://127.0.0.1 -s base -b "" -LLL dnsHostName >/dev/null 2>&1; do
        i=$((i + 1))
        [[ $i -lt 100 ]] || die "LDAPS did not answer within 10 s"
        sleep 0.1
    done
}

load_schema() {
    if ldap_tool ldapsearch -LLL -b "CN=ms-DS-External-Directory-Object-Id,$SCHEMA" -s base '(objectClass=*)' cn >/dev/null 2>&1; then
        return
    fi
    log "extending the schema (msDS-ExternalDirectoryObjectId, Exchange-like footprint)"
    sed -e "s/@SCHEMA@/$SCHEMA/g" "$HERE/samba/lab-schema.ldif" | ldap_tool ldapmodify >/dev/null
}

setup_writer() {
    local conf="$DIR/etc/smb.conf" sid
    if ! samba-tool user show "$WRITER" --configfile="$conf" >/dev/null 2>&1; then
        log "creating $WRITER_DN with delegated write rights on $WRITER_OU"
        samba-tool user create "$WRITER" "$WRITER_PASS" --configfile="$conf" >/dev/null
    fi
    local ous
    ous="$(samba-tool ou list --configfile="$conf" 2>/dev/null || true)"
    grep -qix "${WRITER_OU%%,DC=*}" <<<"$ous" \
        || samba-tool ou add "${WRITER_OU%%,DC=*}" --configfile="$conf" >/dev/null
    sid="$(samba-tool user show "$WRITER" --configfile="$conf" --attributes=objectSid | awk '/^objectSid:/{print $2}')"
    [[ -n "$sid" ]] || die "no objectSid for $WRITER"
    # CI: create/delete group children here and in sub-OUs; CIIO on groups: read/write
    # properties and delete. Rights on nothing else.
    samba-tool dsacl set --configfile="$conf" --objectdn="$WRITER_OU" \
        --sddl="(OA;CI;CCDC;$GROUP_CLASS_GUID;;$sid)(OA;CIIO;RPWPSD;;$GROUP_CLASS_GUID;$sid)" >/dev/null
}

# Kerberos for the `kerberos` feature's tests: the DC is also the realm's KDC. A krb5.conf
# that points at it on loopback (no DNS), and the SPN ldap/127.0.0.1 on the DC's account so
# a GSSAPI bind to ldaps://127.0.0.1 finds its service ticket.
setup_kerberos() {
    local conf="$DIR/etc/smb.conf" account="${HOST^^}\$"
    cat > "$DIR/krb5.conf" <<EOF
[libdefaults]
    default_realm = $REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
[realms]
    $REALM = {
        kdc = 127.0.0.1
    }
[domain_realm]
    127.0.0.1 = $REALM
EOF
    samba-tool spn list "$account" --configfile="$conf" 2>/dev/null | grep -qi "ldap/127.0.0.1" \
        || samba-tool spn add "ldap/127.0.0.1" "$account" --configfile="$conf" >/dev/null 2>&1 \
        || log "could not add the SPN ldap/127.0.0.1 (Kerberos tests will fail)"
}

write_env() {
    cat > "$ENVFILE.tmp" <<EOF
GWB_TEST_LDAP_URL=ldaps://127.0.0.1
GWB_TEST_LDAP_STARTTLS_URL=ldap://127.0.0.1
GWB_TEST_LDAP_BIND_DN=$BIND_DN
GWB_TEST_LDAP_BIND_UPN=Administrator@$realm_lower
GWB_TEST_LDAP_BIND_DOWNLEVEL=$DOMAIN\\Administrator
GWB_TEST_LDAP_PASSWORD=$ADMINPASS
GWB_TEST_LDAP_CA_FILE=$DIR/tls/ca.pem
GWB_TEST_LDAP_OTHER_CA_FILE=$DIR/tls/other-ca.pem
GWB_TEST_LDAP_BASE_DN=$BASE
GWB_TEST_LDAP_CONFIG_DN=$CONFIG
GWB_TEST_LDAP_SCHEMA_DN=$SCHEMA
GWB_TEST_LDAP_REALM=$REALM
GWB_TEST_LDAP_DOMAIN=$DOMAIN
GWB_TEST_SAMBA_DIR=$DIR
GWB_TEST_LDAP_WRITER_DN=$WRITER_DN
GWB_TEST_LDAP_WRITER_PASSWORD=$WRITER_PASS
GWB_TEST_LDAP_WRITER_OU=$WRITER_OU
GWB_TEST_KRB5_CONFIG=$DIR/krb5.conf
GWB_TEST_KRB5_PRINCIPAL=Administrator@$REALM
EOF
    chmod 600 "$ENVFILE.tmp"
    mv "$ENVFILE.tmp" "$ENVFILE"
}

cmd_up() {
    if is_running && answers; then
        log "already up (pid $(cat "$PIDFILE"))"
        setup_writer
        setup_kerberos
        write_env
        echo "$ENVFILE"
        return
    fi
    install_packages
    # Not running: whatever state a killed DC left behind is not trusted (ldb:nosync means an
    # interrupted write can leave the database torn); provision afresh.
    if [[ -e "$DIR" ]]; then
        log "removing stale state in $DIR"
        rm -rf "$DIR"
    fi
    if [[ ! -f "$DIR/etc/smb.conf" ]]; then
        mkdir -p "$DIR"
        chmod 700 "$DIR"
        printf '%s' "$ADMINPASS" > "$DIR/adminpass"
        chmod 600 "$DIR/adminpass"
        make_tls
        provision
    fi
    start
    load_schema
    setup_writer
    setup_kerberos
    write_env
    log "up: pid $(cat "$PIDFILE"), settings in $ENVFILE"
    echo "$ENVFILE"
}

cmd_down() {
    if [[ -f "$PIDFILE" ]]; then
        local pid
        pid="$(cat "$PIDFILE")"
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            # The session we started (setsid): any child left behind goes too.
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
    fi
    if [[ -d "$DIR" ]]; then
        rm -rf "$DIR"
    fi
    log "down"
}

# Kill the DC abruptly (SIGKILL, as a crash or power cut of the service would) and start it
# again on the same database: the LMDB store survives a killed process (only an OS crash can
# lose unsynced pages under ldb:nosync), so what was committed is there after the restart.
cmd_crash_restart() {
    is_running || die "the DC is not up (run: $0 up)"
    local pid
    pid="$(cat "$PIDFILE")"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    # The listening sockets go with the process; wait until the ports are free.
    for _ in $(seq 1 100); do
        ss -ltn 2>/dev/null | awk '{print $4}' | grep -qE ':(389|636)$' || break
        sleep 0.1
    done
    start
    log "restarted after a kill: pid $(cat "$PIDFILE")"
}

# Stop the DC cleanly (SIGTERM) and keep its state, e.g. to copy it as a template.
cmd_stop() {
    is_running || { log "not running"; return; }
    local pid
    pid="$(cat "$PIDFILE")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    log "stopped; state kept in $DIR"
}

# Start a DC on state that was stopped cleanly (or copied from such a state) without
# provisioning again.
cmd_start() {
    is_running && { log "already up (pid $(cat "$PIDFILE"))"; return; }
    [[ -f "$DIR/etc/smb.conf" ]] || die "no provisioned state in $DIR (run: $0 up)"
    start
    write_env
    log "started on the existing state: pid $(cat "$PIDFILE")"
}

cmd_exchange_prepare() {
    local org="${1:-16223}" dom="${2:-13243}" range="${3:-15334}"
    is_running || die "the DC is not up (run: $0 up)"
    cmd_exchange_unprepare quiet
    sed -e "s/@CONFIG@/$CONFIG/g" -e "s/@BASE@/$BASE/g" -e "s/@ORG_VERSION@/$org/g" -e "s/@DOMAIN_VERSION@/$dom/g" \
        "$HERE/samba/exchange-prepared.ldif" | ldap_tool ldapmodify >/dev/null
    printf 'dn: CN=ms-Exch-Schema-Version-Pt,%s\nchangetype: modify\nreplace: rangeUpper\nrangeUpper: %s\n-\n' \
        "$SCHEMA" "$range" | ldap_tool ldapmodify >/dev/null
    log "Exchange prepared: org objectVersion $org, domain objectVersion $dom, schema rangeUpper $range"
}

cmd_exchange_unprepare() {
    is_running || die "the DC is not up (run: $0 up)"
    ldap_tool ldapdelete -r "CN=Microsoft Exchange,CN=Services,$CONFIG" >/dev/null 2>&1 || true
    ldap_tool ldapdelete "CN=Microsoft Exchange System Objects,$BASE" >/dev/null 2>&1 || true
    [[ "${1:-}" == quiet ]] || log "Exchange organization and system objects removed"
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    env) echo "$ENVFILE" ;;
    status) is_running && answers ;;
    crash-restart) cmd_crash_restart ;;
    stop) cmd_stop ;;
    start) cmd_start ;;
    exchange-prepare) shift; cmd_exchange_prepare "$@" ;;
    exchange-unprepare) cmd_exchange_unprepare ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0" ;;
    *) echo "usage: $0 up|down|env|status|stop|start|crash-restart|exchange-prepare [ORG DOMAIN RANGEUPPER]|exchange-unprepare" >&2; exit 2 ;;
esac
