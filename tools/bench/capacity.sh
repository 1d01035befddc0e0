#!/usr/bin/env bash
# `make bench-capacity`: the knee of each scenario under a stepped open-model load, and the CPU per
# request of the app servers, PostgreSQL and Redis, against `make stack` with 1, 2 and 4 app
# servers (ADR 0036, bench/README.md "Capacity").
#
#   make bench-capacity                                   # 1,2,4 app servers, 7 scenarios, ~15 min
#   BENCH_CAPACITY_APPS=2 BENCH_CAPACITY_SCENARIOS=article BENCH_CAPACITY_STEP_SECONDS=2 make bench-capacity
#
# For each count N, as tools/bench/stack.sh does for make bench: `STACK_APPS=N make stack` (rate
# limits lifted, any free HTTP port), `seed_bulk --reset` at BENCH_SIZE into its primary, then
# tools/bench/capacity_run.py under `flock /tmp/conduit-bench.lock` (one load run on the machine at a
# time), then `make stack-stop`. Writes bench/results/<commit>-capacity-<N>apps.json each, and
# the plot docs/img/bench-capacity.png (tools/bench/plot_capacity.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
APPS=${BENCH_CAPACITY_APPS:-1,2,4}
SIZE=${BENCH_SIZE:-10k}
[[ $APPS =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "BENCH_CAPACITY_APPS: a list like 1,2,4" >&2; exit 2; }
# shellcheck source=tools/bench/stack-common.sh
source tools/bench/stack-common.sh
bench_stack_prologue  # rate limits lifted, no stack already up; step, state
SEED_ARGS=$($PY tools/bench/bench.py seed-args "$SIZE")
trap 'make --no-print-directory stack-stop >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT TERM
commit=$(git rev-parse --short HEAD)
[[ -z $(git diff --name-only HEAD) ]] || commit="$commit-dirty"
OUT_DIR=${BENCH_OUT_DIR:-bench/results}

outputs=()
for n in ${APPS//,/ }; do
    step "STACK_APPS=$n make stack"
    STACK_APPS=$n make --no-print-directory stack
    url=$(state "s['url']")
    out="$OUT_DIR/$commit-capacity-${n}apps.json"
    (
        # The app servers' environment: seeding and the clean-up go through the same settings
        # (database, cache), so the stack's caches see the changes.
        eval "$(state "'\n'.join(f'export {k}={v!r}' for k, v in s['env'].items())")"
        SECRET_KEY=$(cat var/stack/secret_key)
        export SECRET_KEY
        step "seed_bulk --reset $SEED_ARGS ($SIZE) into the stack's primary"
        # shellcheck disable=SC2086  # SEED_ARGS is a list of options
        $PY manage.py seed_bulk --reset $SEED_ARGS
        step "bench-capacity -> $url ($n app servers)"
        flock -n /tmp/conduit-bench.lock true || echo "waiting for /tmp/conduit-bench.lock (another benchmark is running)"
        flock /tmp/conduit-bench.lock $PY tools/bench/capacity_run.py run --url "$url" --apps "$n" \
            --out "$out" --scenarios "${BENCH_CAPACITY_SCENARIOS:-}" \
            --step-seconds "${BENCH_CAPACITY_STEP_SECONDS:-3}" \
            ${BENCH_CAPACITY_START_RATE:+--start-rate "$BENCH_CAPACITY_START_RATE"} \
            --factor "${BENCH_CAPACITY_FACTOR:-1.5}" --max-rate "${BENCH_CAPACITY_MAX_RATE:-3000}"
    )
    outputs+=("$out")
    step "make stack-stop"
    make --no-print-directory stack-stop
done
$PY tools/bench/plot_capacity.py "${outputs[@]}"
