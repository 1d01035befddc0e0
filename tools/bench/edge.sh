#!/usr/bin/env bash
# `make bench` through the stack's nginx with the edge micro-cache on and off, in one run: the
# figures of docs/performance.md ("The edge cache") and ADR 0028.
#
#   BENCH_EDGE=1 make bench          # or: bash tools/bench/edge.sh
#
# `STACK_APPS=$BENCH_STACK_APPS make stack` (2 app servers by default; nginx in front with the
# edge cache on, as always), the stack's database reseeded with `seed_bulk` at BENCH_SIZE, and a
# second nginx rendered by tools/stack from the same template with STACK_EDGE_CACHE=off, in front
# of the same app servers on a free port. Then tools/bench/run.sh (which holds
# `flock /tmp/conduit-bench.lock`) with BENCH_TARGET at each: the anonymous reads the edge keeps
# (BENCH_EDGE_SCENARIOS: the global list, one article and 1,000 random ones, the home page and
# an article page) next
# to the references (nginx serving a static file, /bench/bare through the same nginx). Writes
# bench/results/<commit>-<size>-edge-on.json and -edge-off.json (run.sh's documents) and
# <commit>-<size>-edge.json: both side by side and the acceptance of issue 19 (the global list
# with the edge on at least 5x the app's own cached figure, the same list with it off; its p99
# at most 10 ms at BENCH_CONNECTIONS, 32 by default).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
SIZE=${BENCH_SIZE:-10k}
APPS=${BENCH_STACK_APPS:-2}
SCENARIOS=${BENCH_EDGE_SCENARIOS:-global_list,article_one,article_detail,home_page,article_page}
[[ $APPS =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_STACK_APPS: one count with BENCH_EDGE" >&2; exit 2; }
[[ ${STACK_LB:-nginx} == nginx ]] || { echo "BENCH_EDGE: the edge cache is nginx's" >&2; exit 2; }
# shellcheck source=tools/bench/stack-common.sh
source tools/bench/stack-common.sh
bench_stack_prologue  # rate limits lifted, no stack already up; step, state
SEED_ARGS=$($PY tools/bench/bench.py seed-args "$SIZE")
OFF_PID=
OFF_DIR=var/stack/nginx-edge-off
cleanup() {
    if [[ -n $OFF_PID ]] && kill -0 "$OFF_PID" 2>/dev/null; then
        kill -QUIT "$OFF_PID" 2>/dev/null || true
        wait "$OFF_PID" 2>/dev/null || true
    fi
    make --no-print-directory stack-stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "STACK_APPS=$APPS make stack (nginx with the edge cache on)"
BENCH_ENDPOINTS=1 STACK_APPS=$APPS make --no-print-directory stack
on_url=$(state "s['url']")

step "a second nginx from the same template, STACK_EDGE_CACHE=off, in front of the same apps"
rm -rf "$OFF_DIR"
mkdir -p "$OFF_DIR/tmp"
read -r off_port off_conf < <($PY - "$OFF_DIR" <<'PYEOF'
import json, socket, sys
from pathlib import Path
sys.path.insert(0, "tools")
import stack  # tools/stack/
state = json.loads(stack.core.STATE.read_text())
apps = [int(c["address"].rsplit(":", 1)[1]) for c in state["components"] if c["name"].startswith("app-")]
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
prefix = Path(sys.argv[1]).resolve()
print(port, stack.nginx_conf(prefix, port, apps, stack.core.STACK, edge_cache=False))
PYEOF
)
setsid nginx -p "$PWD/$OFF_DIR" -c "$off_conf" -e "$PWD/$OFF_DIR/error.log" -g 'daemon off;' &
OFF_PID=$!
off_url="http://127.0.0.1:$off_port"
for _ in $(seq 100); do
    curl -fsS -o /dev/null "$off_url/healthz" 2>/dev/null && break
    kill -0 "$OFF_PID" 2>/dev/null || { cat "$OFF_DIR/error.log" >&2; exit 1; }
    sleep 0.1
done
curl -fsS -o /dev/null "$off_url/healthz"

results=()
(
    eval "$(state "'\n'.join(f'export {k}={v!r}' for k, v in s['env'].items())")"
    SECRET_KEY=$(cat var/stack/secret_key)
    export SECRET_KEY
    step "seed_bulk --reset $SEED_ARGS ($SIZE) into the stack's primary"
    # shellcheck disable=SC2086  # SEED_ARGS is a list of options
    $PY manage.py seed_bulk --reset $SEED_ARGS
) || exit 1
for side in on off; do
    url=$on_url
    [[ $side == off ]] && url=$off_url
    log=$(mktemp)
    (
        eval "$(state "'\n'.join(f'export {k}={v!r}' for k, v in s['env'].items())")"
        SECRET_KEY=$(cat var/stack/secret_key)
        export SECRET_KEY
        step "make bench -> $url (edge cache $side, $APPS app servers)"
        BENCH_TARGET="$url" BENCH_SIZE="$SIZE" BENCH_SCENARIOS="$SCENARIOS" bash tools/bench/run.sh
    ) | tee "$log"
    written=$(awk '/^wrote /{print $2}' "$log" | tail -1)
    rm -f "$log"
    [[ -n $written && -f $written ]] || { echo "run.sh wrote no result" >&2; exit 1; }
    out=${written%-target.json}-edge-$side.json
    mv "$written" "$out"
    results+=("$out")
done

$PY - "$APPS" "${results[@]}" <<'PYEOF'
import json, sys
from pathlib import Path
apps, paths = int(sys.argv[1]), sys.argv[2:]
runs = {side: json.loads(Path(p).read_text()) for side, p in zip(("on", "off"), paths)}
def figures(run):
    rows = {**{k: v for k, v in run["references"].items() if v}, **run["scenarios"]}
    return {name: {"requests_per_s": s["requests_per_s"], "p99_ms": s["latency_ms"]["p99"],
                   "errors": s["errors"]} for name, s in rows.items()}
table = {side: figures(run) for side, run in runs.items()}
on, off = table["on"]["global_list"], table["off"]["global_list"]
speedup = on["requests_per_s"] / off["requests_per_s"]
acceptance = {
    "global_list_edge_over_app_cache": round(speedup, 2),
    "speedup_at_least_5": speedup >= 5,
    "global_list_edge_p99_ms": on["p99_ms"],
    "p99_at_most_10_ms": on["p99_ms"] <= 10,
    "connections": runs["on"]["generator"].get("connections"),
    "errors": on["errors"] + off["errors"],
}
doc = {"commit": runs["on"]["commit"], "size": runs["on"]["size"], "apps": apps,
       "machine": runs["on"]["machine"], "runs": paths, "edge": table, "acceptance": acceptance}
summary = Path(paths[0].removesuffix("-edge-on.json") + "-edge.json")
summary.write_text(json.dumps(doc, indent=2) + "\n")
print(f"\nreq/s and p99 through the stack's nginx ({apps} app servers) -> {summary}")
print(f"{'':22}{'edge on':>12}{'p99 ms':>9}{'edge off':>12}{'p99 ms':>9}")
for name in table["on"]:
    a, b = table["on"][name], table["off"].get(name, {})
    print(f"{name:22}{a['requests_per_s']:>12.0f}{a['p99_ms']:>9.2f}"
          f"{b.get('requests_per_s', 0):>12.0f}{b.get('p99_ms', 0):>9.2f}")
print(json.dumps(acceptance))
PYEOF
