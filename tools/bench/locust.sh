#!/usr/bin/env bash
# `make locust`: tools/bench/locustfile.py's user journeys against a running Conduit on this
# machine (bench/README.md, "Locust").
#
#   make locust                                  # headless, 20 users for 60 s, CSV + HTML summary
#   LOCUST_HOST=http://127.0.0.1:9000 LOCUST_USERS=50 LOCUST_TIME=2m make locust
#   LOCUST_UI=1 make locust                      # Locust's web UI on http://127.0.0.1:8089
#
# LOCUST_HOST defaults to make stack's address when var/stack/state.json records one, else make
# run's (http://$HOST:$PORT). Loopback only; every run is bounded by LOCUST_TIME, the UI's too,
# and holds /tmp/conduit-bench.lock (it waits while another benchmark runs).
# The summary goes to var/locust/<UTC time>_stats.csv (and _failures.csv, _history.csv, .html).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
if [[ -z "${LOCUST_HOST:-}" ]]; then
    if [[ -e var/stack/state.json ]]; then
        LOCUST_HOST=$($PY -c "import json; print(json.load(open('var/stack/state.json'))['url'])")
    else
        LOCUST_HOST="http://${HOST:-127.0.0.1}:${PORT:-8000}"
    fi
fi
$PY -c "import sys, urllib.parse as u; h = u.urlsplit(sys.argv[1]).hostname
sys.exit(0 if h in ('127.0.0.1', 'localhost', '::1') else f'LOCUST_HOST: loopback only, not {h!r}')" "$LOCUST_HOST"
curl -sf -o /dev/null --max-time 10 "$LOCUST_HOST/api/tags" \
    || { echo "nothing answers at $LOCUST_HOST: start make run or make stack, or set LOCUST_HOST" >&2; exit 1; }

mkdir -p var/locust
prefix="var/locust/$(date -u +%Y%m%dT%H%M%SZ)"
args=(-f tools/bench/locustfile.py --host "$LOCUST_HOST" --run-time "${LOCUST_TIME:-60s}"
      --users "${LOCUST_USERS:-20}" --spawn-rate "${LOCUST_SPAWN_RATE:-5}" --stop-timeout 5
      --csv "$prefix" --html "$prefix.html" --loglevel WARNING)
# One load run on the machine at a time, as every benchmark here (a shared machine).
LOCK=(flock /tmp/conduit-bench.lock)
flock -n /tmp/conduit-bench.lock true || echo "waiting for /tmp/conduit-bench.lock (another benchmark is running)"
if [[ -n "${LOCUST_UI:-}" ]]; then
    port=${LOCUST_WEB_PORT:-8089}
    $PY tools/bench/bench.py port "$port" >/dev/null  # free, or stop here
    echo "Locust's web UI: http://127.0.0.1:$port  (Ctrl-C to stop; runs stop after ${LOCUST_TIME:-60s})"
    exec "${LOCK[@]}" .venv/bin/locust "${args[@]}" --web-host 127.0.0.1 --web-port "$port" --autostart --autoquit 60
fi
status=0
"${LOCK[@]}" .venv/bin/locust "${args[@]}" --headless --only-summary || status=$?
echo "summary: ${prefix}_stats.csv, ${prefix}_failures.csv, $prefix.html"
exit $status
