#!/usr/bin/env bash
# Benchmark of `gwb sync --watch`: the latency from a membership change made through
# the Graph simulator's write API to the member being in the AD group (median and 95th
# percentile over N changes, --interval 2), and the Graph requests of an idle poll (from the
# simulator's counters). Needs the Samba lab DC (scripts/samba-dc.sh up) and a release build.
#
#   scripts/bench-sync.sh            # N=50 changes
#   N=20 INTERVAL=2 scripts/bench-sync.sh
#
# Runs against loopback only; every loop is bounded. Prints a Markdown table for the README.
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    # The comment block above is the help.
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
fi
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ENVFILE="${GWB_SAMBA_ENV:-/tmp/gwb-samba/env}"
[ -f "$ENVFILE" ] || { echo "bench-sync: no Samba DC env file at $ENVFILE (scripts/samba-dc.sh up)" >&2; exit 2; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# PROFILE=debug measures the debug build (quicker to get on a loaded machine; slower itself).
PROFILE="${PROFILE:-release}"
if [ "$PROFILE" = release ]; then
  cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
else
  cargo build --quiet --manifest-path "$ROOT/Cargo.toml"
fi
GWB="$CARGO_TARGET_DIR/$PROFILE/gwb"
N="${N:-50}" INTERVAL="${INTERVAL:-2}" GWB="$GWB" ENVFILE="$ENVFILE" exec python3 - <<'PY'
import base64, json, os, re, signal, statistics, struct, subprocess, sys, tempfile, threading, time, urllib.parse, urllib.request, uuid

env = dict(l.split("=", 1) for l in open(os.environ["ENVFILE"]).read().splitlines() if "=" in l)
N, INTERVAL, GWB = int(os.environ["N"]), int(os.environ["INTERVAL"]), os.environ["GWB"]
base = env["GWB_TEST_LDAP_BASE_DN"]
name = "gwb-bench-sync-" + uuid.uuid4().hex[:8]
users_ou, target = f"OU={name}-users,{base}", f"OU={name},{base}"
work = tempfile.mkdtemp(prefix="gwb-bench-sync-")
pw = os.path.join(work, "pw")
open(pw, "w").write(env["GWB_TEST_LDAP_PASSWORD"])
os.chmod(pw, 0o600)
ldap_env = dict(os.environ, LDAPTLS_CACERT=env["GWB_TEST_LDAP_CA_FILE"])
auth = ["-H", env["GWB_TEST_LDAP_URL"], "-x", "-D", env["GWB_TEST_LDAP_BIND_DN"], "-y", pw]

def ldap(tool, *args, input=None):
    return subprocess.run([tool, *auth, *args], input=input, capture_output=True, text=True, env=ldap_env, check=True).stdout

def sid(b):
    rev, n = b[0], b[1]
    auth_ = int.from_bytes(b[2:8], "big")
    subs = struct.unpack("<" + "I" * n, b[8:8 + 4 * n])
    return "S-%d-%d-%s" % (rev, auth_, "-".join(map(str, subs)))

count = N + 1
ldif = f"dn: {users_ou}\nobjectClass: organizationalUnit\n\ndn: {target}\nobjectClass: organizationalUnit\n\n"
for i in range(count):
    ldif += f"dn: CN=u{i},{users_ou}\nobjectClass: user\nsAMAccountName: b{name[-8:]}{i}\n\n"
ldap("ldapadd", input=ldif)
out = ldap("ldapsearch", "-LLL", "-b", users_ou, "(objectClass=user)", "objectSid")
users = []
for block in out.strip().split("\n\n"):
    dn = re.search(r"^dn: (.*)$", block, re.M).group(1)
    s = re.search(r"^objectSid:: (.*)$", block, re.M).group(1)
    users.append((int(re.search(r"CN=u(\d+)", dn).group(1)), dn, sid(base64.b64decode(s))))
users.sort()
ids = [str(uuid.uuid4()) for _ in users]
def member(i):
    return {"@odata.type": "#microsoft.graph.user", "id": ids[i], "displayName": f"u{i}",
            "onPremisesSyncEnabled": True, "onPremisesSecurityIdentifier": users[i][2]}
group = str(uuid.uuid4())
tenant = {"tenantId": "11111111-1111-1111-1111-111111111111", "deletedGroups": [], "groups": [
    {"id": group, "displayName": "Bench", "groupTypes": [], "securityEnabled": True, "mailEnabled": False,
     "writebackConfiguration": {"isEnabled": True}, "members": [member(0)]},
    # Holds every user so the simulator knows them; not written back (isEnabled false).
    {"id": str(uuid.uuid4()), "displayName": "All users", "groupTypes": [], "securityEnabled": True,
     "mailEnabled": False, "writebackConfiguration": {"isEnabled": False}, "members": [member(i) for i in range(count)]}]}
bundle = os.path.join(work, "bundle"); os.makedirs(bundle)
json.dump(tenant, open(os.path.join(bundle, "tenant.json"), "w"))

sim = subprocess.Popen([GWB, "graph-sim", "--bundle", bundle, "--port", "0"], stdout=subprocess.PIPE, text=True)
url = re.search(r"http://127\.0\.0\.1:\d+", sim.stdout.readline()).group(0)
threading.Thread(target=lambda: [None for _ in sim.stdout], daemon=True).start()
senv = dict(os.environ, AZURE_CLIENT_SECRET="bench-secret")
for k in ("GWB_LDAP_PASSWORD", "GWB_CONFIG", "GWB_ACCESS_TOKEN", "RUST_LOG"):
    senv.pop(k, None)
watch = subprocess.Popen([GWB, "-q", "sync", "--watch", "--interval", str(INTERVAL), "--graph-url", url,
    "--tenant", "contoso.onmicrosoft.com", "--client-id", "11111111-2222-3333-4444-555555555555",
    "--ldap-url", env["GWB_TEST_LDAP_URL"], "--bind-dn", env["GWB_TEST_LDAP_BIND_DN"], "--password-file", pw,
    "--ca-file", env["GWB_TEST_LDAP_CA_FILE"], "--target-ou", target,
    "--state-dir", os.path.join(work, "state"), "--journal-dir", os.path.join(work, "journal")],
    stdout=subprocess.PIPE, text=True, env=senv, cwd=work)
lines = []
threading.Thread(target=lambda: [lines.append(l) for l in watch.stdout], daemon=True).start()

def http(method, path, body=None, token=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url + path, data=data, method=method)
    if token: req.add_header("Authorization", "Bearer " + token)
    if body is not None and not isinstance(body, bytes): req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        t = r.read()
        return json.loads(t) if t else None

token = http("POST", "/contoso.onmicrosoft.com/oauth2/v2.0/token", urllib.parse.urlencode({
    "client_id": "11111111-2222-3333-4444-555555555555", "client_secret": "bench-secret",
    "grant_type": "client_credentials", "scope": url + "/.default"}).encode())["access_token"]
gdn = f"CN=Group_{group},{target}"

def members():
    try:
        out = subprocess.run(["ldapsearch", *auth, "-LLL", "-b", gdn, "-s", "base", "(objectClass=*)", "member"],
                             capture_output=True, text=True, env=ldap_env).stdout
    except Exception:
        return set()
    return {m.lower() for m in re.findall(r"^member: (.*)$", out.replace("\n ", ""), re.M)}

deadline = time.time() + 120
while users[0][1].lower() not in members():
    if time.time() > deadline or watch.poll() is not None:
        sys.exit("bench-sync: the first reconciliation did not create the group")
    time.sleep(0.2)
lat = []
for i in range(1, N + 1):
    t0 = time.monotonic()
    http("POST", f"/v1.0/groups/{group}/members/$ref", {"@odata.id": f"{url}/v1.0/directoryObjects/{ids[i]}"}, token)
    want = users[i][1].lower()
    while want not in members():
        if time.monotonic() - t0 > 60:
            sys.exit(f"bench-sync: change {i} did not reach AD within 60 s")
        time.sleep(0.05)
    lat.append(time.monotonic() - t0)
# Idle: no changes for 10 intervals. Each poll is one groups-delta request (by route, from the
# simulator's counters), so requests per idle poll = all requests / delta requests.
time.sleep(INTERVAL)
s0 = http("GET", "/_sim/stats")
window = 10
time.sleep(window * INTERVAL)
s1 = http("GET", "/_sim/stats")
r0, r1 = s0["requests"], s1["requests"]
routes = {k: v - s0["byRoute"].get(k, 0) for k, v in s1["byRoute"].items() if v - s0["byRoute"].get(k, 0)}
polls = sum(v for k, v in routes.items() if "delta" in k)
watch.send_signal(signal.SIGTERM); watch.wait(timeout=60)
sim.terminate(); sim.wait(timeout=30)
subprocess.run(["ldapdelete", *auth, "-r", target], env=ldap_env, capture_output=True)
subprocess.run(["ldapdelete", *auth, "-r", users_ou], env=ldap_env, capture_output=True)
lat.sort()
p95 = lat[min(len(lat) - 1, int(round(0.95 * len(lat))) - 1)]
print(f"| changes | interval | median latency (s) | p95 latency (s) | max (s) | Graph requests per idle poll |")
print(f"|---:|---:|---:|---:|---:|---:|")
per_poll = f"{(r1 - r0) / polls:.2f}" if polls else "n/a"
print(f"| {N} | {INTERVAL} s | {statistics.median(lat):.2f} | {p95:.2f} | {lat[-1]:.2f} | {per_poll} ({r1 - r0} requests in {polls} polls over {window} intervals: {routes}) |")
print("goal: p95 < 5 s: " + ("met" if p95 < 5 else "NOT met") + f" ({os.path.basename(os.path.dirname(GWB))} build)")
PY
