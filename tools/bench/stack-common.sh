# What tools/bench/stack.sh and tools/bench/edge.sh both do before they start `make stack`:
# sourced by them (from the checkout's root), never run on its own.
#
#   bench_stack_prologue    # after the script's own checks of its variables
#
# Lifts the rate limits the load would trip, takes any free HTTP port, refuses to run beside a
# stack that is already up, and defines step (a heading in the log) and state (a Python
# expression over var/stack/state.json's `s`).

bench_stack_prologue() {
    export STACK_HTTP_PORT=${STACK_HTTP_PORT:-0}
    # The load comes from one address, a few users at thousands of requests a second: the app's
    # rate limits and nginx's per-address limit_req would refuse the load itself (ADR 0024).
    export RATE_LIMITS_ENABLED=${RATE_LIMITS_ENABLED:-false}
    export STACK_NGINX_REQUESTS_PER_SECOND=${STACK_NGINX_REQUESTS_PER_SECOND:-1000000}
    export STACK_NGINX_REQUESTS_BURST=${STACK_NGINX_REQUESTS_BURST:-1000000}
    if [[ -e var/stack/state.json ]]; then
        echo "a stack is recorded in var/stack/state.json: make stack-stop first (the bench runs its own)" >&2
        exit 1
    fi
}

step() { printf '\n##### %s\n' "$*"; }
state() { .venv/bin/python -c "import json,sys; s=json.load(open('var/stack/state.json')); print(eval(sys.argv[1]))" "$1"; }
