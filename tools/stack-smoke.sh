#!/usr/bin/env bash
# Smoke test for `make stack` (not part of `make test`: it starts the whole topology, ~1 min).
# Starts the stack, checks the request path, /readyz (broker included), every Prometheus target,
# a publish that mails the author's followers through the Celery worker and the SMTP sink, an
# avatar upload and its thumbnail served with cache headers, and replication (Patroni's leader and
# replica through HAProxy); then stops it and checks that no process of the stack is left (recorded
# PIDs, the members' postmasters, and everything in their sessions).
# Fails on the first broken check; the stack is stopped either way.
#   bash tools/stack-smoke.sh                                  # nginx in front
#   STACK_LB=haproxy STACK_HTTP_PORT=18480 bash tools/stack-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT=${STACK_HTTP_PORT:-8080}
SITE=http://127.0.0.1:$PORT
LB=${STACK_LB:-nginx}
PIDS=""
SIDS=""

ok() { printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*" >&2; exit 1; }
state() { $PY -c "import json,sys; s=json.load(open('var/stack/state.json')); print(eval(sys.argv[1]))" "$1"; }
cleanup() {
    local rc=$?
    make --no-print-directory stack-stop >/dev/null || rc=1
    for pid in $PIDS; do  # zombies count as gone (init reaps them slowly)
        s=$(ps -o stat= -p "$pid" 2>/dev/null || true)
        if [[ -n $s && $s != Z* ]]; then echo "FAIL  pid $pid still running after stack-stop" >&2; rc=1; fi
    done
    # Each component runs in its own session: its children (granian and Celery pool workers,
    # PostgreSQL backends) must be gone too.
    for sid in $SIDS; do
        left=$(ps -eo sid=,stat=,pid=,args= | awk -v sid="$sid" '$1 == sid && $2 !~ /^Z/' || true)
        if [[ -n $left ]]; then echo "FAIL  left in session $sid after stack-stop: $left" >&2; rc=1; fi
    done
    [[ -e var/stack/state.json ]] && { echo "FAIL  var/stack/state.json left behind" >&2; rc=1; }
    [[ $rc -eq 0 ]] && ok "make stack-stop: every recorded process stopped, state.json removed"
    echo "stack smoke: $([[ $rc -eq 0 ]] && echo PASSED || echo FAILED)"
    exit $rc
}

make --no-print-directory stack
trap cleanup EXIT
PIDS=$(state "' '.join(str(c['pid']) for c in s['components'])")
SIDS=$(for pid in $PIDS; do ps -o sid= -p "$pid"; done | sort -u | tr '\n' ' ')
ok "make stack ($LB): $(wc -w <<<"$PIDS") processes"

second=$(make --no-print-directory stack)
grep -q "already running" <<<"$second" || fail "a second make stack was not a no-op"
ok "second make stack: no-op"
make --no-print-directory stack-status >/dev/null || fail "make stack-status reports a component down"
ok "make stack-status: all up"
# Patroni starts each postmaster in a session of its own: stop must find those too.
json=$(make --no-print-directory stack-status JSON=1) || fail "make stack-status JSON=1 reports a component down"
leader=$($PY -c "import json,sys; print(' '.join(str(c['postmaster_pid']) for c in json.load(sys.stdin)['components'] if c['role'] == 'leader'))" <<<"$json")
[[ $leader =~ ^[0-9]+$ ]] || fail "make stack-status JSON=1 names no single PostgreSQL leader: '$leader'"
postmasters=$($PY -c "import json,sys; print(' '.join(str(c['postmaster_pid']) for c in json.load(sys.stdin)['components'] if c.get('postmaster_pid')))" <<<"$json")
PIDS="$PIDS $postmasters"
SIDS="$SIDS $(for pid in $postmasters; do ps -o sid= -p "$pid"; done | sort -u | tr '\n' ' ')"
ok "make stack-status JSON=1: the leader's postmaster is $leader"
$PY -c "
import json, sys
doc = json.load(sys.stdin)
roles = sorted(c['role'] for c in doc['components'] if c['name'].startswith('redis-cluster-'))
assert roles == ['master'] * 3 + ['replica'] * 3, roles
assert doc['redis_cluster_state'] == 'ok', doc['redis_cluster_state']
assert doc['env']['TIMELINE_URL'].startswith('redis-cluster://'), doc['env'].get('TIMELINE_URL')
print('ok    Redis Cluster: 3 masters, 3 replicas, cluster_state:ok, TIMELINE_URL given to the app')" <<<"$json"

code=$(curl -s -o /tmp/stack-smoke-articles.json -w '%{http_code}' "$SITE/api/articles")
n=$($PY -c "import json; print(json.load(open('/tmp/stack-smoke-articles.json'))['articlesCount'])")
[[ $code == 200 && $n -gt 0 ]] || fail "GET /api/articles: $code, $n articles"
ok "GET $SITE/api/articles: 200, $n articles"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SITE/") == 200 ]] || fail "GET / not 200"
ok "GET $SITE/: 200"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SITE/healthz") == 200 ]] || fail "GET /healthz not 200"
ok "GET $SITE/healthz: 200"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SITE/metrics") == 404 ]] || fail "/metrics reachable through $LB"
ok "GET $SITE/metrics: 404 (not routed)"
curl -s "$SITE/readyz" | $PY -c "
import json, sys
checks = json.load(sys.stdin)['checks']
assert set(checks) >= {'database', 'migrations', 'cache', 'broker', 'replicas'}, checks
assert all(v == 'ok' for v in checks.values()), checks
print('ok    GET /readyz: ' + ', '.join(checks) + ' ok')"
rid=$(curl -s -D - -o /dev/null -H 'X-Request-ID: smoke-test-1' "$SITE/healthz" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-request-id"{print $2}')
[[ $rid == smoke-test-1 ]] || fail "X-Request-ID not passed through ($rid)"
ok "X-Request-ID passed through $LB to the app and back"
# A form post through nginx, in Chromium: sign-in needs the CSRF Origin check to see the same
# host and port as the browser (nginx must pass Host with its port) and Secure cookies. Behind
# nginx the browser opens the plain URL and is redirected to HTTPS (ADR 0033), trusting the
# stack's certificate by its public key (Chromium has no flag for a CA file).
https_site=$(state "s.get('https_url', '')")
spki=""
if [[ -n $https_site ]]; then
    spki=$(openssl x509 -in var/stack/tls/server.crt -pubkey -noout | openssl pkey -pubin -outform der \
        | openssl dgst -sha256 -binary | base64)
fi
signin=$($PY - "$SITE" "$https_site" "$spki" <<'PYEOF'
import sys
from playwright.sync_api import sync_playwright
site, https_site, spki = sys.argv[1:4]
args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
if spki:
    args.append(f"--ignore-certificate-errors-spki-list={spki}")
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
    page = browser.new_page()
    response = page.goto(site + "/login")
    home = https_site or site
    if not page.url.startswith(home + "/login"):
        print(f"the browser was not sent to {home}: {page.url}")
    elif https_site and "strict-transport-security" not in response.headers:
        print("no HSTS over HTTPS")
    else:
        page.fill("input[placeholder=Email]", "ada@demo.conduit.local")
        page.fill("input[placeholder=Password]", "conduit-demo")
        page.click("button:has-text('Sign in')")
        page.wait_for_load_state()
        print("ok" if page.url.rstrip("/") == home and "Your Feed" in page.content() else page.url)
    browser.close()
PYEOF
)
[[ $signin == ok ]] || fail "signing in through $LB failed (ended at $signin)"
if [[ -n $https_site ]]; then
    ok "sign in through $LB: redirected from $SITE to $https_site (HSTS), form post with CSRF, session cookie"
else
    ok "sign in through $LB (form post with CSRF, session cookie)"
fi

prom=$(state "s['prometheus_url']")
apps=$(state "sum(c['name'].startswith('app-') for c in s['components'])")
events=$(state "sum(c['name'] == 'events' for c in s['components'])")
expected="conduit-app=$apps conduit-events=$events celery-worker=1 prometheus=1 postgres=2 patroni=2 redis=1"
[[ $LB == haproxy ]] && expected+=" haproxy=1"
command -v prometheus-node-exporter >/dev/null && expected+=" node=1"
curl -s "$prom/api/v1/targets" | $PY -c "
import collections, json, sys
t = json.load(sys.stdin)['data']['activeTargets']
bad = [x['scrapeUrl'] for x in t if x['health'] != 'up']
assert t and not bad, bad
jobs = dict(collections.Counter(x['labels']['job'] for x in t))
want = {k: int(v) for k, v in (p.split('=') for p in sys.argv[1].split())}
assert jobs == want, (jobs, want)
print(f'ok    Prometheus: {len(t)} targets, all up ({sys.argv[1]})')" "$expected"

# Publishing through the balancer: the app enqueues the fan-out on commit, the worker sends one
# email per follower through the SMTP sink, which files them in var/stack/mail/new/.
token=$(curl -s -H 'Content-Type: application/json' \
    -d '{"user":{"email":"ada@demo.conduit.local","password":"conduit-demo"}}' "$SITE/api/users/login" \
    | $PY -c "import json, sys; print(json.load(sys.stdin)['user']['token'])")
followers=$(/usr/lib/postgresql/15/bin/psql "$(state "s['env']['DATABASE_URL']")" -Atc \
    "SELECT count(*) FROM profiles_follow f JOIN users_user u ON u.id = f.followee_id WHERE u.username = 'ada'" 2>/dev/null || echo "?")
before=$(find var/stack/mail/new -type f | wc -l)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Token $token" -H 'Content-Type: application/json' \
    -d '{"article":{"title":"Stack smoke test","description":"smoke","body":"Sent by tools/stack-smoke.sh"}}' \
    "$SITE/api/articles")
[[ $code == 201 ]] || fail "publishing through $LB: $code"
for _ in $(seq 60); do
    (( $(find var/stack/mail/new -type f | wc -l) > before )) && break
    sleep 0.5
done
sleep 2  # the rest of the fan-out's chunks
sent=$(( $(find var/stack/mail/new -type f | wc -l) - before ))
(( sent > 0 )) || fail "no email in var/stack/mail/new 30 s after publishing (see var/stack/logs/celery-worker.log)"
grep -lq "Stack smoke test" var/stack/mail/new/* || fail "the emails do not name the new article"
ok "publish through $LB: $sent emails to ada's followers ($followers) via the Celery worker and the SMTP sink"

# An avatar (a 3.3 MB PNG: more than nginx's default 1 MB body limit) uploaded through the
# balancer; the worker makes the thumbnails; the thumbnail is served with far-future caching
# (by nginx itself from MEDIA_ROOT, or by the app behind HAProxy).
jar=$(mktemp); img=$(mktemp --suffix=.png)
$PY -c "
import os, sys
from PIL import Image
Image.frombytes('RGB', (1100, 1000), os.urandom(1100 * 1000 * 3)).save(sys.argv[1])" "$img"
csrf() { grep -o 'name="csrfmiddlewaretoken" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//'; }
t=$(curl -s -c "$jar" -b "$jar" "$SITE/login" | csrf)
curl -s -o /dev/null -c "$jar" -b "$jar" -H "Origin: $SITE" --data-urlencode "csrfmiddlewaretoken=$t" \
    --data-urlencode "email=ada@demo.conduit.local" --data-urlencode "password=conduit-demo" "$SITE/login"
t=$(curl -s -c "$jar" -b "$jar" "$SITE/settings" | csrf)
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" -H "Origin: $SITE" \
    -F "csrfmiddlewaretoken=$t" -F "avatar=@$img;type=image/png" "$SITE/settings/avatar")
size=$(stat -c %s "$img"); rm -f "$jar" "$img"
[[ $code == 302 ]] || fail "avatar upload of $size bytes through $LB: $code"
image=""
for _ in $(seq 60); do
    image=$(curl -s "$SITE/api/profiles/ada" | $PY -c "import json, sys; print(json.load(sys.stdin)['profile']['image'] or '')")
    image=${image#"$SITE"}  # the API answers with an absolute URL on SITE_URL, the stack's address
    [[ $image == /media/avatars/*/256.jpeg ]] && break
    sleep 0.5
done
[[ $image == /media/avatars/*/256.jpeg ]] || fail "no thumbnail 30 s after the avatar upload ($image)"
headers=$(curl -s -D - -o /dev/null "$SITE$image" | tr -d '\r')
grep -q '^HTTP/1.1 200' <<<"$headers" || fail "GET $image: $(head -1 <<<"$headers")"
grep -qi '^cache-control: public, max-age=31536000, immutable' <<<"$headers" || fail "$image has no far-future Cache-Control"
if [[ $LB == nginx ]]; then
    grep -qi '^server: nginx' <<<"$headers" || fail "$image was not served by nginx itself"
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$SITE/media/exports/x.zip") == 404 ]] || fail "/media/ outside avatars/ is served"
fi
ok "avatar upload ($size bytes) through $LB; thumbnail $image: 200, cacheable for a year$([[ $LB == nginx ]] && echo ', served by nginx')"

primary_port=$(state "s['env']['DATABASE_URL'].rsplit(':', 1)[1].split('/')[0]")
replica_port=$(state "s['env']['DATABASE_REPLICA_URLS'].rsplit(':', 1)[1].split('/')[0]")
psql() { /usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -U postgres -d conduit -Atc "$2" -p "$1"; }
[[ $(psql "$primary_port" "SELECT count(*) FROM pg_stat_replication WHERE state='streaming'") == 1 ]] \
    || fail "no streaming standby in pg_stat_replication"
[[ $(psql "$replica_port" "SELECT pg_is_in_recovery()") == t ]] || fail "replica is not in recovery"
m=$(psql "$primary_port" "SELECT count(*) FROM django_migrations")
[[ $(psql "$replica_port" "SELECT count(*) FROM django_migrations") == "$m" ]] || fail "replica lags the migrations"
ok "PostgreSQL replica streaming from the leader, each reached through HAProxy (pg_stat_replication, pg_is_in_recovery)"
