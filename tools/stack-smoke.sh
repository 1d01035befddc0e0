#!/usr/bin/env bash
# Smoke test for `make stack` (not part of `make test`: it starts the whole topology, ~30 s).
# Starts the stack, checks the request path, Prometheus and replication, stops it and checks that
# no recorded process is left. Fails on the first broken check; the stack is stopped either way.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT=${STACK_HTTP_PORT:-8080}
SITE=http://127.0.0.1:$PORT
PIDS=""

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
    [[ -e var/stack/state.json ]] && { echo "FAIL  var/stack/state.json left behind" >&2; rc=1; }
    [[ $rc -eq 0 ]] && ok "make stack-stop: every recorded process stopped, state.json removed"
    echo "stack smoke: $([[ $rc -eq 0 ]] && echo PASSED || echo FAILED)"
    exit $rc
}

make --no-print-directory stack
trap cleanup EXIT
PIDS=$(state "' '.join(str(c['pid']) for c in s['components'])")
ok "make stack: $(wc -w <<<"$PIDS") processes"

second=$(make --no-print-directory stack)
grep -q "already running" <<<"$second" || fail "a second make stack was not a no-op"
ok "second make stack: no-op"
make --no-print-directory stack-status >/dev/null || fail "make stack-status reports a component down"
ok "make stack-status: all up"

code=$(curl -s -o /tmp/stack-smoke-articles.json -w '%{http_code}' "$SITE/api/articles")
n=$($PY -c "import json; print(json.load(open('/tmp/stack-smoke-articles.json'))['articlesCount'])")
[[ $code == 200 && $n -gt 0 ]] || fail "GET /api/articles: $code, $n articles"
ok "GET $SITE/api/articles: 200, $n articles"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SITE/") == 200 ]] || fail "GET / not 200"
ok "GET $SITE/: 200"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SITE/healthz") == 200 ]] || fail "GET /healthz not 200"
ok "GET $SITE/healthz: 200"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SITE/metrics") == 404 ]] || fail "/metrics reachable through nginx"
ok "GET $SITE/metrics: 404 (not routed)"
rid=$(curl -s -D - -o /dev/null -H 'X-Request-ID: smoke-test-1' "$SITE/healthz" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-request-id"{print $2}')
[[ $rid == smoke-test-1 ]] || fail "X-Request-ID not passed through ($rid)"
ok "X-Request-ID passed through nginx to the app and back"
# A form post through nginx, in Chromium: sign-in needs the CSRF Origin check to see the same
# host and port as the browser (nginx must pass Host with its port) and Secure cookies on HTTP
# loopback.
signin=$($PY - "$SITE" <<'PYEOF'
import sys
from playwright.sync_api import sync_playwright
args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
    page = browser.new_page()
    page.goto(sys.argv[1] + "/login")
    page.fill("input[placeholder=Email]", "ada@demo.conduit.local")
    page.fill("input[placeholder=Password]", "conduit-demo")
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state()
    print("ok" if page.url.rstrip("/") == sys.argv[1] and "Your Feed" in page.content() else page.url)
    browser.close()
PYEOF
)
[[ $signin == ok ]] || fail "signing in through nginx failed (ended at $signin)"
ok "sign in through nginx (form post with CSRF, session cookie)"

prom=$(state "s['prometheus_url']")
curl -s "$prom/api/v1/targets" | $PY -c "
import json, sys
t = json.load(sys.stdin)['data']['activeTargets']
bad = [x['scrapeUrl'] for x in t if x['health'] != 'up']
assert t and not bad, bad
print(f'ok    Prometheus: {len(t)} targets, all up')"

primary_port=$(state "s['env']['DATABASE_URL'].rsplit(':', 1)[1].split('/')[0]")
replica_port=$(state "s['env']['DATABASE_REPLICA_URLS'].rsplit(':', 1)[1].split('/')[0]")
psql() { /usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -U postgres -d conduit -Atc "$2" -p "$1"; }
[[ $(psql "$primary_port" "SELECT count(*) FROM pg_stat_replication WHERE state='streaming'") == 1 ]] \
    || fail "no streaming standby in pg_stat_replication"
[[ $(psql "$replica_port" "SELECT pg_is_in_recovery()") == t ]] || fail "replica is not in recovery"
m=$(psql "$primary_port" "SELECT count(*) FROM django_migrations")
[[ $(psql "$replica_port" "SELECT count(*) FROM django_migrations") == "$m" ]] || fail "replica lags the migrations"
ok "PostgreSQL replica streaming from the primary (pg_stat_replication, pg_is_in_recovery)"
