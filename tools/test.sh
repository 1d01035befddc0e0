#!/usr/bin/env bash
# `make test`: static checks, then the whole suite on PostgreSQL 15 (started here from Debian's
# package unless DATABASE_URL is given), then again on SQLite, the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

step() { printf '\n=== %s\n' "$*"; }

# Before any step: the deploy validators already need nginx, haproxy, promtool and docker-compose
# (`make lint` alone installs only those: tools/validate-deploy.sh does).
if [[ "${1:-}" != "--lint-only" ]]; then
    step "Debian packages the suite needs (tools/debian-packages.txt)"
    bash tools/debian-packages.sh -f tools/debian-packages.txt
fi

step "ruff"
ruff check .
ruff format --check .
step "mypy"
mypy
step "import contracts (lint-imports: channels above domain apps above platform, no cycles)"
lint-imports
step "migrations are up to date"
DEBUG=true python manage.py makemigrations --check --dry-run --verbosity 1
step "deploy files (Dockerfile, compose, Kubernetes)"
bash tools/validate-deploy.sh

[[ "${1:-}" == "--lint-only" ]] && exit 0

# pytest exits 5 when it collected nothing: for this suite that is a failure, say so plainly.
run_pytest() {
    local rc=0
    python -m pytest "$@" || rc=$?
    if [[ $rc -eq 5 ]]; then
        echo "pytest collected no tests ($*): the suite is missing" >&2
        return 1
    fi
    return $rc
}

PG_TEST_DIR=${PG_TEST_DIR:-/tmp/conduit-test-pg-$(pwd | md5sum | cut -c1-8)}
if [[ -z "${DATABASE_URL:-}" ]]; then
    step "starting PostgreSQL 15 under $PG_TEST_DIR"
    DATABASE_URL=$(python3 tools/postgres.py start --dir "$PG_TEST_DIR" --fast --fresh)
    trap 'python3 tools/postgres.py stop --dir "$PG_TEST_DIR"' EXIT
fi

# Browser tests drive Debian's Chromium against a live server; they save screenshots here.
export CONDUIT_SCREENSHOTS=${CONDUIT_SCREENSHOTS:-$PWD/var/screenshots}
export DJANGO_ALLOW_ASYNC_UNSAFE=true

step "tests on PostgreSQL ($DATABASE_URL), browser tests included"
DATABASE_URL=$DATABASE_URL CONDUIT_EXPECT_DB=postgresql run_pytest --durations=15 ${PYTEST_ARGS:-}

# The embedded default gets every test but those that need PostgreSQL's row locks and the
# browser tests (the pages are the same code on either database; once is enough for Chromium),
# and those that start real services (they exercise the services, not the database).
step "tests on SQLite (the embedded default)"
(unset DATABASE_URL; CONDUIT_EXPECT_DB=sqlite run_pytest -m "not pg and not browser and not services" -q ${PYTEST_ARGS:-})

# Last, once the code is known to work: is it slower than the committed baseline? Each endpoint
# against the bare Django view in the same rounds, on CPU per request (ADR 0039, bench/README.md).
step "performance regression gate (tools/bench/gate.py: fails on a drop of more than 30%)"
python tools/bench/gate.py

step "done: screenshots of the main pages are in $CONDUIT_SCREENSHOTS"
