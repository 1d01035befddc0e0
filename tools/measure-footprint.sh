#!/usr/bin/env bash
# The memory and CPU the Kubernetes resource requests are sized from (deploy/k8s, ADR 0038):
# the image's web command (granian WSGI, 2 workers x 4 threads, as deploy/docker/entrypoint.sh)
# on PostgreSQL 15 and Redis with the demo data, its per-process RSS idle and after 10 s of wrk
# at 16 connections on the anonymous article list and on the home page (CPU per request of the
# app's processes, from /proc), then a Celery worker's RSS at --concurrency 2.
# Usage: tools/measure-footprint.sh  (everything on free loopback ports, under a temporary
# directory, stopped at the end; the load runs under flock /tmp/conduit-bench.lock).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
work=$(mktemp -d)
chmod 755 "$work"  # PostgreSQL runs as postgres, which must enter it
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
db_url=$($py tools/postgres.py start --dir "$work/pg" --fast --fresh)
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
redis_pid=$!
web_pid="" celery_pid=""
cleanup() {
    for pid in $web_pid $celery_pid $redis_pid; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    $py tools/postgres.py stop --dir "$work/pg"
    rm -rf "$work"
}
trap cleanup EXIT
export DATABASE_URL=$db_url CACHE_URL=redis://127.0.0.1:$redis_port/0
export CELERY_BROKER_URL=redis://127.0.0.1:$redis_port/1
export SECRET_KEY=measure-footprint-only-0123456789-abcdefghijklmnopqrstuvwxyz DEBUG=false
export ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=false SECURE_HSTS_SECONDS=0
export DATABASE_POOL=true CONN_MAX_AGE=60 RATE_LIMITS_ENABLED=false
export PROMETHEUS_MULTIPROC_DIR=$work/prom
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
$py manage.py migrate --noinput >/dev/null
$py manage.py seed_demo >/dev/null
[[ -f var/static/staticfiles.json ]] || $py manage.py collectstatic --noinput >/dev/null
port=$(free_port)
(exec .venv/bin/granian --interface wsgi --host 127.0.0.1 --port "$port" --workers 2 \
    --blocking-threads 4 --no-ws --log-level warning config.wsgi:application) >"$work/web.log" 2>&1 &
web_pid=$!
for _ in $(seq 150); do
    curl -sf -o /dev/null -H 'Host: localhost' "http://127.0.0.1:$port/healthz" && break
    sleep 0.2
done
processes() { echo "$1" $(pgrep -P "$1"); }
rss_kib() { for pid in $(processes "$1"); do awk '/VmRSS/{printf "%s ", $2}' "/proc/$pid/status"; done; }
cpu_ticks() {
    local total=0
    for pid in $(processes "$1"); do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
    echo "$total"
}
echo "web RSS KiB idle (main, workers): $(rss_kib $web_pid)"
for path in /api/articles /; do
    before=$(cpu_ticks $web_pid)
    out=$(flock /tmp/conduit-bench.lock wrk -t1 -c16 -d10s -H 'Host: localhost' "http://127.0.0.1:$port$path")
    after=$(cpu_ticks $web_pid)
    requests=$(echo "$out" | awk '/requests in/{print $1}')
    errors=$(echo "$out" | grep -E 'Non-2xx|Socket errors' || echo "no errors")
    tick_ms=$((1000 / $(getconf CLK_TCK)))
    echo "GET $path: $requests requests in 10 s, $errors;" \
        "app CPU $(python3 -c "print(round(($after - $before) * $tick_ms / $requests, 3))") ms/request"
done
echo "web RSS KiB after load (main, workers): $(rss_kib $web_pid)"
(exec .venv/bin/celery -A config worker --loglevel WARNING --concurrency 2) >"$work/celery.log" 2>&1 &
celery_pid=$!
sleep 8
echo "celery worker RSS KiB (main, 2 children): $(rss_kib $celery_pid)"
echo "$(nproc) cores, $(git rev-parse --short HEAD)"
