#!/usr/bin/env bash
# Compare app-server configs on make bench's bare Django JSON view (same middleware, no database
# work): the measurement behind ADR 0002. Needs a captured body in $VAR_DIR/bench/bare.json (make
# bench writes one; or: curl -s 127.0.0.1:8000/api/articles > $VAR_DIR/bench/bare.json), wrk, and
# gunicorn in the venv for the last two rows (`uv pip install --python .venv/bin/python gunicorn`;
# not a project dependency). Set SECRET_KEY, DATABASE_URL, VAR_DIR; runs on 127.0.0.1:$PORT.
set -uo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-18001}
export BENCH_ENDPOINTS=1
run() {
    local name=$1; shift
    setsid "$@" >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 1 50); do curl -sf -o /dev/null "127.0.0.1:$PORT/bench/bare" && break; sleep 0.2; done
    wrk -t1 -c32 -d3s "http://127.0.0.1:$PORT/bench/bare" >/dev/null 2>&1
    local out; out=$(wrk -t1 -c32 -d10s --latency "http://127.0.0.1:$PORT/bench/bare" 2>&1)
    printf "| %s | %s | %s |\n" "$name" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
        "$(awk '/ 99%/ {print $2}' <<<"$out")"
    kill -TERM -- "-$pid" 2>/dev/null; sleep 2
}
G=(.venv/bin/granian --interface wsgi --host 127.0.0.1 --port "$PORT" --no-ws --log-level warning)
echo "| server config | req/s | p99 |"
echo "|---|---:|---:|"
run "granian wsgi, 2 workers x 4 threads" "${G[@]}" --workers 2 --blocking-threads 4 config.wsgi:application
run "granian wsgi, 2 workers x 1 thread" "${G[@]}" --workers 2 --blocking-threads 1 config.wsgi:application
run "granian wsgi, 2 workers x 16 threads" "${G[@]}" --workers 2 --blocking-threads 16 config.wsgi:application
run "granian wsgi, 4 workers x 2 threads" "${G[@]}" --workers 4 --blocking-threads 2 config.wsgi:application
if [[ -x .venv/bin/gunicorn ]]; then
    run "gunicorn sync, 2 workers" .venv/bin/gunicorn -b "127.0.0.1:$PORT" -w 2 config.wsgi:application
    run "gunicorn gthread, 2 workers x 4 threads" .venv/bin/gunicorn -b "127.0.0.1:$PORT" -w 2 \
        -k gthread --threads 4 config.wsgi:application
fi
