#!/usr/bin/env bash
# `make bench`: PostgreSQL with bulk data, the app on its production server config (granian, as
# tools/run.sh starts it), a throw-away nginx for the static reference, then wrk per scenario
# (tools/bench/bench.py). Writes bench/results/<commit>-<size>.json. Everything started here is
# stopped by PID on exit, Ctrl-C included. See bench/README.md.
#
#   BENCH_SIZE=10k|100k|1m  BENCH_DURATION=10  BENCH_CONNECTIONS=32  BENCH_WORKERS=2  BENCH_THREADS=4
#   BENCH_PORT=0  BENCH_NGINX_PORT=0  (0: any free port)  BENCH_KEEP_DB=1  (reuse a seeded database)
#   BENCH_TARGET=http://127.0.0.1:8080  (load an already running server instead of starting one)
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZE=${BENCH_SIZE:-10k}
DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
WORKERS=${BENCH_WORKERS:-2}
THREADS=${BENCH_THREADS:-4}
TARGET=${BENCH_TARGET:-}
PY=.venv/bin/python
BENCH=("$PY" tools/bench/bench.py)

step() { printf '\n=== %s\n' "$*"; }

SEED_ARGS=$("${BENCH[@]}" seed-args "$SIZE")  # also checks BENCH_SIZE
for n in "$DURATION" "$CONNECTIONS" "$WORKERS" "$THREADS"; do
    [[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || { echo "BENCH_DURATION/CONNECTIONS/WORKERS/THREADS must be positive integers" >&2; exit 2; }
done

step "Debian packages the bench needs"
bash tools/debian-packages.sh wrk nginx

RUN_DIR=$(mktemp -d /tmp/conduit-bench-run.XXXXXX)
chmod 755 "$RUN_DIR"  # nginx's worker (user nobody) reads the static copy from here
APP_PID="" NGINX_PID="" PG_DIR=""

alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $s != Z* ]]; }
stop_pid() {  # stop_pid PID SIGNAL NAME: signal, wait up to 30 s, then SIGKILL; reap it
    local pid=$1 sig=$2 name=$3
    alive "$pid" && kill -s "$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 300); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
        echo "$name (pid $pid) did not stop in 30 s: SIGKILL" >&2
        kill -s KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    trap - INT TERM
    [[ -n $APP_PID ]] && stop_pid "$APP_PID" TERM granian
    [[ -n $NGINX_PID ]] && stop_pid "$NGINX_PID" QUIT nginx
    [[ -n $PG_DIR ]] && python3 tools/postgres.py stop --dir "$PG_DIR"
    if [[ $rc -eq 0 || $rc -eq 130 ]]; then  # success or Ctrl-C: nothing to look at
        rm -rf "$RUN_DIR"
    else
        echo "make bench failed ($rc): logs are in $RUN_DIR" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The servers run in their own session (setsid: no fork here, so $! is the server's PID): a
# Ctrl-C reaches only this script and the load, and cleanup stops each server by PID. (Given the
# terminal's SIGINT as well as the stop signal, granian's workers waited out the 30 s kill timeout.)

# The static reference: nginx on its own port, serving a copy of GET /api/articles (bench.py
# captures it from the app before the first measurement).
start_nginx() {
    NGINX_PORT=$("${BENCH[@]}" port "${BENCH_NGINX_PORT:-0}" --not "$1")
    conf=$("${BENCH[@]}" nginx-conf --dir "$RUN_DIR/nginx" --port "$NGINX_PORT")
    setsid nginx -p "$RUN_DIR/nginx" -c "$conf" -e "$RUN_DIR/nginx/error.log" -g 'daemon off;' &
    NGINX_PID=$!
}

if [[ -n $TARGET ]]; then
    # Someone else's server (e.g. `make stack`): no seeding, no app server here. The inputs and
    # the clean-up need its database: DATABASE_URL must point at it (unset: the SQLite default).
    step "loading $TARGET (BENCH_TARGET): no server started, no data seeded"
    export SECRET_KEY=${SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')}
    export DEBUG=false
    port=$(python3 -c "import urllib.parse,sys; print(urllib.parse.urlsplit(sys.argv[1]).port or 80)" "$TARGET")
    start_nginx "$port"
    "${BENCH[@]}" run --size "$SIZE" --base "$TARGET" --nginx "http://127.0.0.1:$NGINX_PORT" \
        --www "$RUN_DIR/nginx/www" --run-dir "$RUN_DIR" --duration "$DURATION" \
        --connections "$CONNECTIONS" --nginx-pid "$NGINX_PID" --target "$TARGET" \
        --note "BENCH_TARGET=$TARGET: the server, its config and its data were not set up by make bench; server.workers/threads are unknown and its CPU was not measured (cpu_cores.other includes it)."
    exit 0
fi

APP_PORT=$("${BENCH[@]}" port "${BENCH_PORT:-0}")

# Durable settings (no --fast): fsync and synchronous_commit on, as in production.
PG_DIR=/tmp/conduit-bench-pg-$SIZE
if [[ ${BENCH_KEEP_DB:-0} == 1 ]] && "${BENCH[@]}" reusable --dir "$PG_DIR" --size "$SIZE"; then
    step "PostgreSQL 15 on the kept $SIZE database in $PG_DIR (BENCH_KEEP_DB=1)"
    DATABASE_URL=$(python3 tools/postgres.py start --dir "$PG_DIR")
    SEED=0
else
    [[ -d $PG_DIR ]] && echo "replacing $PG_DIR (BENCH_KEEP_DB=1 reuses a database seeded at the same size)"
    step "PostgreSQL 15 in $PG_DIR, new"
    DATABASE_URL=$(python3 tools/postgres.py start --dir "$PG_DIR" --fresh)
    SEED=1
fi
export DATABASE_URL
# The app's production settings: a secret made for this run, DEBUG off, persistent connections.
SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY DEBUG=false CONN_MAX_AGE=${CONN_MAX_AGE:-60}

step "migrate"
$PY manage.py migrate --noinput --verbosity 0
if [[ $SEED == 1 ]]; then
    step "seed_bulk $SEED_ARGS ($SIZE)"
    # shellcheck disable=SC2086  # SEED_ARGS is a list of options
    $PY manage.py seed_bulk --reset $SEED_ARGS
    "${BENCH[@]}" mark --dir "$PG_DIR" --size "$SIZE"
fi

step "granian on 127.0.0.1:$APP_PORT, $WORKERS workers x $THREADS threads"
# Exactly the command of tools/run.sh, with the bench's values.
GRANIAN=(.venv/bin/granian --interface wsgi
    --host 127.0.0.1 --port "$APP_PORT"
    --workers "$WORKERS" --blocking-threads "$THREADS"
    --no-ws --respawn-failed-workers --workers-kill-timeout 30
    --log-level "${GRANIAN_LOG_LEVEL:-warning}"
    config.wsgi:application)
BENCH_ENDPOINTS=1 setsid "${GRANIAN[@]}" >"$RUN_DIR/granian.log" 2>&1 &
APP_PID=$!
start_nginx "$APP_PORT"

"${BENCH[@]}" run --size "$SIZE" --base "http://127.0.0.1:$APP_PORT" \
    --nginx "http://127.0.0.1:$NGINX_PORT" --www "$RUN_DIR/nginx/www" --run-dir "$RUN_DIR" \
    --duration "$DURATION" --connections "$CONNECTIONS" --workers "$WORKERS" --threads "$THREADS" \
    --app-pid "$APP_PID" --db-pid "$(cat "$PG_DIR/server.pid")" --nginx-pid "$NGINX_PID" \
    --pg-dir "$PG_DIR" --reused $((1 - SEED)) --server-cmd "BENCH_ENDPOINTS=1 ${GRANIAN[*]}"
