#!/usr/bin/env bash
# `make test`: static checks, then the whole suite on PostgreSQL 15 (started here from Debian's
# package unless DATABASE_URL is given), then again on SQLite, the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

step() { printf '\n=== %s\n' "$*"; }

step "ruff"
ruff check .
ruff format --check .
step "mypy"
mypy
step "migrations are up to date"
DEBUG=true python manage.py makemigrations --check --dry-run --verbosity 1

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
    DATABASE_URL=$(python3 tools/postgres.py start --dir "$PG_TEST_DIR" --fast)
    trap 'python3 tools/postgres.py stop --dir "$PG_TEST_DIR"' EXIT
fi

step "tests on PostgreSQL ($DATABASE_URL)"
DATABASE_URL=$DATABASE_URL CONDUIT_EXPECT_DB=postgresql run_pytest --durations=15 ${PYTEST_ARGS:-}

step "tests on SQLite (the embedded default)"
env -u DATABASE_URL CONDUIT_EXPECT_DB=sqlite run_pytest -m "not pg" -q ${PYTEST_ARGS:-}
