#!/usr/bin/env bash
# `make bench` against `make stack`, once per app-server count: the scaling-out numbers of
# docs/performance.md ("Scaling out on one machine").
#
#   BENCH_STACK_APPS=1,2,4 bash tools/bench/stack.sh        # or: BENCH_STACK_APPS=1,2,4 make bench
#
# For each count N: `STACK_APPS=N make stack` (nginx in front, or STACK_LB=haproxy; PostgreSQL
# primary + replica, Redis cache and broker, Celery), the stack's database reseeded with
# `seed_bulk` at BENCH_SIZE, then tools/bench/run.sh with BENCH_TARGET=<the stack's URL> (which
# holds `flock /tmp/conduit-bench.lock`: one load run on the machine at a time), then
# `make stack-stop`.
# Each run's result is kept as bench/results/<commit>-<size>-stack-<N>apps.json (run.sh's
# document plus a "stack" entry); bench/results/<commit>-<size>-stack.json puts req/s side by side.
# BENCH_SIZE, BENCH_DURATION and BENCH_CONNECTIONS are run.sh's; STACK_HTTP_PORT defaults to any
# free port here. A stack that is already running is refused: the bench starts and stops its own.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
APPS=${BENCH_STACK_APPS:-1,2,4}
SIZE=${BENCH_SIZE:-10k}
LB=${STACK_LB:-nginx}
[[ $APPS =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "BENCH_STACK_APPS: a list like 1,2,4" >&2; exit 2; }
# shellcheck source=tools/bench/stack-common.sh
source tools/bench/stack-common.sh
bench_stack_prologue  # rate limits lifted, no stack already up; step, state
SEED_ARGS=$($PY tools/bench/bench.py seed-args "$SIZE")
trap 'make --no-print-directory stack-stop >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT TERM

outputs=()
for n in ${APPS//,/ }; do
    step "STACK_APPS=$n STACK_LB=$LB make stack"
    # BENCH_ENDPOINTS=1: the app servers also route /bench/bare, run.sh's bare-Django reference
    # on the very same servers (off in a normal make stack).
    BENCH_ENDPOINTS=1 STACK_APPS=$n make --no-print-directory stack

    url=$(state "s['url']")
    log=$(mktemp)
    (
        # The app servers' environment (database, replica, cache, broker): seeding goes through
        # the same settings, so the stack's cache sees the new data.
        eval "$(state "'\n'.join(f'export {k}={v!r}' for k, v in s['env'].items())")"
        SECRET_KEY=$(cat var/stack/secret_key)
        export SECRET_KEY
        step "seed_bulk --reset $SEED_ARGS ($SIZE) into the stack's primary"
        # shellcheck disable=SC2086  # SEED_ARGS is a list of options
        $PY manage.py seed_bulk --reset $SEED_ARGS
        step "make bench -> $url ($n app servers)"
        # run.sh takes the bench lock itself: taking it here too would wait forever.
        BENCH_TARGET="$url" BENCH_SIZE="$SIZE" bash tools/bench/run.sh
    ) | tee "$log"
    written=$(awk '/^wrote /{print $2}' "$log" | tail -1)
    rm -f "$log"
    [[ -n $written && -f $written ]] || { echo "run.sh wrote no result" >&2; exit 1; }
    out=${written%-target.json}-stack-${n}apps.json
    CACHE_URL=$(state "s['env']['CACHE_URL']") CELERY_BROKER_URL=$(state "s['env']['CELERY_BROKER_URL']") \
        DATABASE_REPLICA_URLS=$(state "s['env']['DATABASE_REPLICA_URLS']") \
        $PY - "$written" "$out" "$n" "$LB" <<'PYEOF'
import json, os, sys
from pathlib import Path
written, out, n, lb = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
doc = json.loads(written.read_text())
doc["stack"] = {
    "apps": n, "lb": lb, "granian_workers_per_app": 1, "blocking_threads_per_app": 4,
    "cache": os.environ.get("CACHE_URL", ""), "replica": bool(os.environ.get("DATABASE_REPLICA_URLS")),
    "broker": os.environ.get("CELERY_BROKER_URL", ""),
}
doc["notes"].append(
    f"make stack with STACK_APPS={n} behind {lb} (tools/bench/stack.sh): every process of the "
    "stack (PostgreSQL primary and replica, Redis, Celery, Prometheus) shares the machine."
)
out.write_text(json.dumps(doc, indent=2) + "\n")
written.unlink()
print(f"kept as {out}")
PYEOF
    outputs+=("$out")
    step "make stack-stop"
    make --no-print-directory stack-stop
done

summary=${outputs[0]%-stack-*apps.json}-stack.json
$PY - "$summary" "${outputs[@]}" <<'PYEOF'
import json, sys
from pathlib import Path
summary, runs = Path(sys.argv[1]), [json.loads(Path(p).read_text()) for p in sys.argv[2:]]
table = {
    str(run["stack"]["apps"]): {
        name: {"requests_per_s": s["requests_per_s"], "p99_ms": s["latency_ms"]["p99"],
               "errors": s["errors"]}
        for name, s in {**run["references"], **run["scenarios"]}.items()
        if s is not None  # a reference that could not run
    }
    for run in runs
}
doc = {"commit": runs[0]["commit"], "size": runs[0]["size"], "lb": runs[0]["stack"]["lb"],
       "machine": runs[0]["machine"], "runs": sys.argv[2:], "apps": table}
summary.write_text(json.dumps(doc, indent=2) + "\n")
apps = list(table)
names = list(table[apps[0]])
print("\nreq/s by app servers (" + ", ".join(apps) + f") -> {summary}")
print(f"{'scenario':24}" + "".join(f"{a + ' apps':>12}" for a in apps))
for name in names:
    cells = (table[a].get(name, {}).get("requests_per_s") for a in apps)
    print(f"{name:24}" + "".join(f"{c:>12.0f}" if c is not None else f"{'-':>12}" for c in cells))
PYEOF
