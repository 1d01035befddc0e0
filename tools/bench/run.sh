#!/usr/bin/env bash
# `make bench`: PostgreSQL with bulk data, the app on its production server config (granian, as
# tools/run.sh starts it), a throw-away nginx for the static reference, then wrk per scenario
# (tools/bench/bench.py). Writes bench/results/<commit>-<size>.json. Everything started here is
# stopped by PID on exit, Ctrl-C included. See bench/README.md.
#
#   BENCH_SIZE=10k|100k|1m  BENCH_DURATION=10  BENCH_CONNECTIONS=32  BENCH_WORKERS=2 (1 with locmem)  BENCH_THREADS=4
#   BENCH_PORT=0  BENCH_NGINX_PORT=0  (0: any free port)  BENCH_KEEP_DB=1  (reuse a seeded database)
#   BENCH_PG_DIR=/tmp/conduit-bench-pg-<size>  (the database's directory)
#   BENCH_TARGET=http://127.0.0.1:8080  (load an already running server instead of starting one)
# Variants (ADR 0016, ADR 0017; recorded in the JSON's "variant" and its file name):
#   BENCH_CACHE=locmem|off|redis  (redis: a redis-server of this run's own, stopped by PID)
#   BENCH_REDIS_KILL=1            (with redis: one more global list run, Redis SIGKILLed mid-run)
#   BENCH_BROKER=redis|inline     (redis: tasks go to a broker of this run's own and no worker runs
#                                  them, as in production where workers are elsewhere; inline: they
#                                  run in the request, as in make run)
#   BENCH_REPLICA=1               (a streaming replica, pg_basebackup; DATABASE_REPLICA_URLS)
#   BENCH_DB=persistent|pool|pgbouncer  (CONN_MAX_AGE, DATABASE_POOL, pgbouncer transaction mode)
#   BENCH_TRACING=1               (OpenTelemetry on, exporting to an OTLP sink of this run's own:
#                                  tools/bench/benchkit/otlp_sink.py; ADR 0037)
#   BENCH_SCENARIOS=global_list,signed_in_list  (only these scenarios)
#   BENCH_REFERENCES=0  (skip the references; or name some, e.g. bare_django,bare_write)
#   BENCH_OUT=<file>  (instead of bench/results/)
#   BENCH_APP_DIR=<dir>  (granian serves that tree's code, e.g. an older commit's checkout; migrate,
#                         seeding and the load stay this tree's: make bench-ratio's BENCH_RATIO_BEFORE)
# Every load run holds `flock /tmp/conduit-bench.lock`: benches on one machine queue, not overlap.
set -euo pipefail
cd "$(dirname "$0")/../.."
# python3 below is the project's interpreter: a fresh machine may have no other.
export PATH="$PWD/.venv/bin:$PATH"

SIZE=${BENCH_SIZE:-10k}
DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
CACHE=${BENCH_CACHE:-locmem}
# The in-process cache is per process (deploy/docker/web-workers.sh): one worker, as make run serves.
if [[ $CACHE == locmem ]]; then WORKERS=${BENCH_WORKERS:-1}; else WORKERS=${BENCH_WORKERS:-2}; fi
THREADS=${BENCH_THREADS:-4}
TARGET=${BENCH_TARGET:-}
PY=.venv/bin/python
BENCH=("$PY" tools/bench/bench.py)

step() { printf '\n=== %s\n' "$*"; }

SEED_ARGS=$("${BENCH[@]}" seed-args "$SIZE")  # also checks BENCH_SIZE
for n in "$DURATION" "$CONNECTIONS" "$WORKERS" "$THREADS"; do
    [[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || { echo "BENCH_DURATION/CONNECTIONS/WORKERS/THREADS must be positive integers" >&2; exit 2; }
done
REPLICA=${BENCH_REPLICA:-0}
DB_MODE=${BENCH_DB:-persistent}
REDIS_KILL=${BENCH_REDIS_KILL:-0}
TRACING=${BENCH_TRACING:-0}
[[ $TRACING =~ ^[01]$ ]] || { echo "BENCH_TRACING is 0 or 1" >&2; exit 2; }
BROKER=${BENCH_BROKER:-redis}
TIMELINES=${BENCH_TIMELINES:-database}
[[ $TIMELINES =~ ^(database|redis-cluster)$ ]] || { echo "BENCH_TIMELINES must be database or redis-cluster" >&2; exit 2; }
[[ $BROKER =~ ^(redis|inline)$ ]] || { echo "BENCH_BROKER must be redis or inline" >&2; exit 2; }
[[ $CACHE =~ ^(locmem|off|redis)$ ]] || { echo "BENCH_CACHE must be locmem, off or redis" >&2; exit 2; }
[[ $DB_MODE =~ ^(persistent|pool|pgbouncer)$ ]] || { echo "BENCH_DB must be persistent, pool or pgbouncer" >&2; exit 2; }
[[ $REPLICA =~ ^[01]$ && $REDIS_KILL =~ ^[01]$ ]] || { echo "BENCH_REPLICA and BENCH_REDIS_KILL are 0 or 1" >&2; exit 2; }
[[ $REDIS_KILL == 0 || $CACHE == redis ]] || { echo "BENCH_REDIS_KILL=1 needs BENCH_CACHE=redis" >&2; exit 2; }
[[ $CACHE != locmem || $WORKERS == 1 || -n $TARGET ]] || {
    echo "BENCH_WORKERS=$WORKERS with BENCH_CACHE=locmem: the in-process cache is correct for one process only (deploy/docker/web-workers.sh); use BENCH_CACHE=redis for more" >&2; exit 2; }
[[ -z $TARGET || ($CACHE == locmem && $REPLICA == 0 && $DB_MODE == persistent) ]] || {
    echo "BENCH_TARGET loads someone else's server: the BENCH_CACHE/REPLICA/DB variants do not apply" >&2; exit 2; }

step "Debian packages the bench needs"
PACKAGES=(wrk nginx)
[[ $CACHE == redis || $TIMELINES == redis-cluster || ($BROKER == redis && -z $TARGET) ]] && PACKAGES+=(redis-server)
[[ $DB_MODE == pgbouncer ]] && PACKAGES+=(pgbouncer)
bash tools/debian-packages.sh "${PACKAGES[@]}"

RUN_DIR=$(mktemp -d /tmp/conduit-bench-run.XXXXXX)
chmod 755 "$RUN_DIR"  # nginx's worker (user nobody) reads the static copy from here
APP_PID="" NGINX_PID="" PG_DIR="" REDIS_PID="" BROKER_PID="" REPLICA_PID="" PGBOUNCER_PID="" SINK_PID="" CLUSTER_PID=""

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
    [[ -n $REDIS_PID ]] && stop_pid "$REDIS_PID" TERM redis-server
    [[ -n $BROKER_PID ]] && stop_pid "$BROKER_PID" TERM "redis-server (broker)"
    [[ -n $CLUSTER_PID ]] && stop_pid "$CLUSTER_PID" TERM "Redis Cluster (tools/bench/cluster.py)"
    [[ -n $PGBOUNCER_PID ]] && stop_pid "$PGBOUNCER_PID" INT pgbouncer
    [[ -n $SINK_PID ]] && stop_pid "$SINK_PID" TERM "OTLP sink"
    [[ -n $REPLICA_PID ]] && stop_pid "$REPLICA_PID" INT "PostgreSQL replica"
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

# One load at a time on this machine (other benches, other checkouts): wait for the lock here
# and hold it until this script exits. A caller that holds it across several runs (make
# bench-tracing) hands its descriptor down as fd 9: flock on that same open file succeeds at once.
[[ /proc/$$/fd/9 -ef /tmp/conduit-bench.lock ]] || exec 9>/tmp/conduit-bench.lock
if ! flock -n 9; then
    step "waiting for /tmp/conduit-bench.lock (another bench is running)"
    flock 9
fi

if [[ -n $TARGET ]]; then
    # Someone else's server (e.g. `make stack`): no seeding, no app server here. The inputs and
    # the clean-up need its database: DATABASE_URL must point at it (unset: the SQLite default).
    step "loading $TARGET (BENCH_TARGET): no server started, no data seeded"
    export SECRET_KEY=${SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')}
    export DEBUG=false SECURE_SSL_REDIRECT=false SECURE_HSTS_SECONDS=0
    # A few users at thousands of requests a second: the limits would refuse the load itself.
    export RATE_LIMITS_ENABLED=${RATE_LIMITS_ENABLED:-false}
    port=$(python3 -c "import urllib.parse,sys; print(urllib.parse.urlsplit(sys.argv[1]).port or 80)" "$TARGET")
    start_nginx "$port"
    "${BENCH[@]}" run --size "$SIZE" --base "$TARGET" --nginx "http://127.0.0.1:$NGINX_PORT" \
        --www "$RUN_DIR/nginx/www" --run-dir "$RUN_DIR" --duration "$DURATION" \
        --connections "$CONNECTIONS" --nginx-pid "$NGINX_PID" --target "$TARGET" \
        --scenarios "${BENCH_SCENARIOS:-}" --references "${BENCH_REFERENCES:-1}" \
        ${BENCH_OUT:+--out "$BENCH_OUT"} \
        --note "BENCH_TARGET=$TARGET: the server, its config and its data were not set up by make bench; server.workers/threads are unknown and its CPU was not measured (cpu_cores.other includes it)."
    exit 0
fi

APP_PORT=$("${BENCH[@]}" port "${BENCH_PORT:-0}")

# Durable settings (no --fast): fsync and synchronous_commit on, as in production.
PG_DIR=${BENCH_PG_DIR:-/tmp/conduit-bench-pg-$SIZE}
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
# The app's production settings: a secret made for this run, DEBUG off, persistent connections;
# plain HTTP on loopback, so no redirect to HTTPS and no HSTS.
SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY DEBUG=false CONN_MAX_AGE=${CONN_MAX_AGE:-60}
export SECURE_SSL_REDIRECT=false SECURE_HSTS_SECONDS=0
# A few users at thousands of requests a second: the limits would refuse the load itself.
export RATE_LIMITS_ENABLED=${RATE_LIMITS_ENABLED:-false}
PRIMARY_URL=$DATABASE_URL
VARIANT_ARGS=(--cache "$CACHE" --db "$DB_MODE" --replica "$REPLICA" --redis-kill "$REDIS_KILL" --broker "$BROKER" --tracing "$TRACING" --timelines "$TIMELINES")

step "migrate"
$PY manage.py migrate --noinput --verbosity 0
if [[ $SEED == 1 ]]; then
    step "seed_bulk $SEED_ARGS ($SIZE)"
    # shellcheck disable=SC2086  # SEED_ARGS is a list of options
    $PY manage.py seed_bulk --reset $SEED_ARGS
    "${BENCH[@]}" mark --dir "$PG_DIR" --size "$SIZE"
fi
step "feed shapes (benchkit/feed_shapes.py: once per database)"
"${BENCH[@]}" feed-shapes --dir "$PG_DIR" --size "$SIZE"

# --- the variants: each server is started here and stopped by PID in cleanup ----------------
as_postgres() { if [[ $(id -u) == 0 ]]; then setpriv --reuid=postgres --regid=postgres --init-groups "$@"; else "$@"; fi; }
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).port)' "$PRIMARY_URL")
wait_port() {  # wait_port PORT PID NAME: until PORT answers, or fail when PID is gone
    for _ in $(seq 300); do
        python3 -c "import socket,sys; sys.exit(socket.socket().connect_ex(('127.0.0.1', $1)) != 0)" && return 0
        alive "$2" || { echo "$3 (pid $2) exited; logs in $RUN_DIR" >&2; exit 1; }
        sleep 0.1
    done
    echo "$3 did not answer on port $1 within 30 s" >&2; exit 1
}
AVOID=(--not "$APP_PORT" --not "$PG_PORT")
APP_ENV=(BENCH_ENDPOINTS=1)  # the app server's own variables (the bench process reads PostgreSQL directly)

case $CACHE in
    off) export CACHE_ARTICLES=false CACHE_ANONYMOUS_SECONDS=0 ;;
    locmem) export CACHE_URL="" ;;
    redis)
        REDIS_PORT=$("${BENCH[@]}" port 0 "${AVOID[@]}"); AVOID+=(--not "$REDIS_PORT")
        step "redis-server on 127.0.0.1:$REDIS_PORT (BENCH_CACHE=redis)"
        setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$RUN_DIR" >"$RUN_DIR/redis.log" 2>&1 &
        REDIS_PID=$!
        wait_port "$REDIS_PORT" "$REDIS_PID" redis-server
        export CACHE_URL="redis://127.0.0.1:$REDIS_PORT/0"
        VARIANT_ARGS+=(--redis-pid "$REDIS_PID")
        ;;
esac

if [[ $BROKER == redis ]]; then
    # The request path as deployed: a publish enqueues its follower fan-out and returns; the
    # workers run elsewhere (make bench-fanout measures them). Nothing consumes this queue and it
    # goes with the process: the bench's writes send no email.
    BROKER_PORT=$("${BENCH[@]}" port 0 "${AVOID[@]}"); AVOID+=(--not "$BROKER_PORT")
    step "redis-server as the Celery broker on 127.0.0.1:$BROKER_PORT, no worker (BENCH_BROKER=redis)"
    setsid redis-server --port "$BROKER_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$RUN_DIR" >"$RUN_DIR/broker.log" 2>&1 &
    BROKER_PID=$!
    wait_port "$BROKER_PORT" "$BROKER_PID" "redis-server (broker)"
    APP_ENV+=("CELERY_BROKER_URL=redis://127.0.0.1:$BROKER_PORT/0")
fi

if [[ $TRACING == 1 ]]; then
    # What a collector would receive, received and dropped (counted): the app's side of tracing
    # (spans made, batched, encoded and sent) is what the app's CPU then includes.
    SINK_PORT=$("${BENCH[@]}" port 0 "${AVOID[@]}"); AVOID+=(--not "$SINK_PORT")
    step "OTLP sink on 127.0.0.1:$SINK_PORT, tracing on (BENCH_TRACING=1)"
    setsid "$PY" tools/bench/benchkit/otlp_sink.py --port "$SINK_PORT" >"$RUN_DIR/otlp-sink.log" 2>&1 &
    SINK_PID=$!
    wait_port "$SINK_PORT" "$SINK_PID" "OTLP sink"
    APP_ENV+=("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$SINK_PORT")
fi

if [[ $TIMELINES == redis-cluster ]]; then
    step "Redis Cluster for the timelines, 3 masters + 3 replicas (BENCH_TIMELINES=redis-cluster)"
    setsid "$PY" tools/bench/cluster.py --dir "$RUN_DIR/cluster" --url-file "$RUN_DIR/cluster.url" \
        >"$RUN_DIR/cluster.log" 2>&1 &
    CLUSTER_PID=$!
    for _ in $(seq 600); do
        [[ -s $RUN_DIR/cluster.url ]] && break
        alive "$CLUSTER_PID" || { echo "the Redis Cluster did not start: $RUN_DIR/cluster.log" >&2; exit 1; }
        sleep 0.1
    done
    [[ -s $RUN_DIR/cluster.url ]] || { echo "the Redis Cluster did not start in 60 s" >&2; exit 1; }
    TIMELINE_URL=$(cat "$RUN_DIR/cluster.url")
    export TIMELINE_URL  # the app's and the bench's (which makes the feeds' timelines cold or warm)
fi

if [[ $REPLICA == 1 ]]; then
    REPLICA_PORT=$("${BENCH[@]}" port 0 "${AVOID[@]}"); AVOID+=(--not "$REPLICA_PORT")
    step "streaming replica on 127.0.0.1:$REPLICA_PORT (BENCH_REPLICA=1, pg_basebackup)"
    mkdir -p "$RUN_DIR/replica"
    [[ $(id -u) == 0 ]] && chown postgres:postgres "$RUN_DIR/replica"
    as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres \
        -D "$RUN_DIR/replica/data" -R -X stream -c fast
    if [[ $(id -u) == 0 ]]; then
        setsid setpriv --reuid=postgres --regid=postgres --init-groups "$PG_BIN/postgres" \
            -D "$RUN_DIR/replica/data" -c "port=$REPLICA_PORT" -c listen_addresses=127.0.0.1 \
            -c "unix_socket_directories=$RUN_DIR/replica" -c hot_standby=on \
            -c max_connections=200 -c shared_buffers=256MB -c random_page_cost=1.1 \
            >"$RUN_DIR/replica.log" 2>&1 &
    else
        setsid "$PG_BIN/postgres" -D "$RUN_DIR/replica/data" -c "port=$REPLICA_PORT" \
            -c listen_addresses=127.0.0.1 -c "unix_socket_directories=$RUN_DIR/replica" \
            -c hot_standby=on -c max_connections=200 -c shared_buffers=256MB \
            -c random_page_cost=1.1 >"$RUN_DIR/replica.log" 2>&1 &
    fi
    REPLICA_PID=$!
    for _ in $(seq 300); do
        "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$REPLICA_PORT" -q && break
        alive "$REPLICA_PID" || { echo "the replica exited: $RUN_DIR/replica.log" >&2; exit 1; }
        sleep 0.1
    done
    APP_ENV+=("DATABASE_REPLICA_URLS=postgres://postgres@127.0.0.1:$REPLICA_PORT/conduit")
    VARIANT_ARGS+=(--replica-pid "$REPLICA_PID")
fi

case $DB_MODE in
    persistent) ;;
    pool) APP_ENV+=(DATABASE_POOL=true) ;;  # the app only: the bench process needs no pool
    pgbouncer)
        PGB_PORT=$("${BENCH[@]}" port 0 "${AVOID[@]}"); AVOID+=(--not "$PGB_PORT")
        step "pgbouncer (transaction mode) on 127.0.0.1:$PGB_PORT in front of PostgreSQL (BENCH_DB=pgbouncer)"
        conf=$("${BENCH[@]}" pgbouncer-conf --dir "$RUN_DIR/pgbouncer" --port "$PGB_PORT" \
            --pg-port "$PG_PORT" --pool-size "${BENCH_PGBOUNCER_POOL:-20}")
        [[ $(id -u) == 0 ]] && chown -R postgres:postgres "$RUN_DIR/pgbouncer"
        # pgbouncer refuses to run as root
        if [[ $(id -u) == 0 ]]; then
            setsid setpriv --reuid=postgres --regid=postgres --init-groups pgbouncer "$conf" \
                >"$RUN_DIR/pgbouncer.out" 2>&1 &
        else
            setsid pgbouncer "$conf" >"$RUN_DIR/pgbouncer.out" 2>&1 &
        fi
        PGBOUNCER_PID=$!
        wait_port "$PGB_PORT" "$PGBOUNCER_PID" pgbouncer
        VARIANT_ARGS+=(--pgbouncer-pid "$PGBOUNCER_PID")
        # The app (and its replica check of the primary) goes through pgbouncer; the bench's own
        # inputs and clean-up read the database directly.
        APP_ENV+=(DATABASE_PGBOUNCER=true "DATABASE_URL=postgres://postgres@127.0.0.1:$PGB_PORT/conduit")
        ;;
esac

# BENCH_APP_DIR: another tree's code behind the same server, on this tree's virtualenv (the
# caller checks that both lock the same packages). granian puts the directory it resolves the
# target in, relative to its own working directory, first on sys.path (--working-dir alone left
# this tree's `conduit` in front), so the server starts in that tree. The check runs granian's own
# resolution there and fails unless `conduit` and `config` come from that tree. VAR_DIR stays
# this tree's: the bench writes the bare reference's captured body there.
HERE=$(pwd -P)
APP_DIR=$(realpath -e "${BENCH_APP_DIR:-.}")
APP_DIR_ARGS=()
if [[ $APP_DIR != "$HERE" ]]; then
    APP_ENV+=("VAR_DIR=${VAR_DIR:-$HERE/var}")
    APP_DIR_ARGS=(--working-dir "$APP_DIR")
    app_code=$(cd "$APP_DIR" && env "${APP_ENV[@]}" "$HERE/$PY" - <<'PYTHON'
import importlib.util
import sys
from pathlib import Path

from granian._internal import patch_pypath, prepare_import

tree = Path.cwd().resolve()
patch_pypath(tree)  # --working-dir
prepare_import("config.wsgi")  # the target, from the working directory
for name in ("conduit", "config"):
    spec = importlib.util.find_spec(name)
    origin = Path(spec.origin).resolve() if spec and spec.origin else None
    if origin is None or not origin.is_relative_to(tree):
        sys.exit(f"BENCH_APP_DIR={tree}: the server would import {name} from {origin}")
    print(origin.parent)
PYTHON
    )
    step "the app server runs the code in $APP_DIR (BENCH_APP_DIR): ${app_code//$'\n'/, }"
fi

step "granian on 127.0.0.1:$APP_PORT, $WORKERS workers x $THREADS threads"
# Exactly the command of tools/run.sh, with the bench's values.
GRANIAN=(.venv/bin/granian --interface wsgi
    --host 127.0.0.1 --port "$APP_PORT"
    --workers "$WORKERS" --blocking-threads "$THREADS"
    --no-ws --respawn-failed-workers --workers-kill-timeout 30
    --log-level "${GRANIAN_LOG_LEVEL:-warning}"
    "${APP_DIR_ARGS[@]}" config.wsgi:application)
(cd "$APP_DIR" && exec setsid env "${APP_ENV[@]}" "$HERE/${GRANIAN[0]}" "${GRANIAN[@]:1}") \
    >"$RUN_DIR/granian.log" 2>&1 &
APP_PID=$!
start_nginx "$APP_PORT"

"${BENCH[@]}" run --size "$SIZE" --base "http://127.0.0.1:$APP_PORT" \
    --nginx "http://127.0.0.1:$NGINX_PORT" --www "$RUN_DIR/nginx/www" --run-dir "$RUN_DIR" \
    --duration "$DURATION" --connections "$CONNECTIONS" --workers "$WORKERS" --threads "$THREADS" \
    --app-pid "$APP_PID" --db-pid "$(cat "$PG_DIR/server.pid")" --nginx-pid "$NGINX_PID" \
    --pg-dir "$PG_DIR" --reused $((1 - SEED)) --server-cmd "${APP_ENV[*]} ${GRANIAN[*]}" \
    --scenarios "${BENCH_SCENARIOS:-}" --references "${BENCH_REFERENCES:-1}" \
    ${BENCH_OUT:+--out "$BENCH_OUT"} "${VARIANT_ARGS[@]}"
