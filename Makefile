# Conduit: `make run` serves the embedded default, `make test` runs the whole suite.
# Every value below can be overridden from the environment, e.g. `PORT=9000 make run`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE := copy

HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

# uv: the one on PATH, else a private copy installed from PyPI into .tools/.
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
# Python 3.13: pyenv's build when there is one (its shims exit 127 unless selected; without the
# pyenv command, its default root ~/.pyenv), else PATH.
PYENV_ROOT ?= $(or $(shell pyenv root 2>/dev/null),$(HOME)/.pyenv)
PYTHON313 ?= $(or $(lastword $(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python3.13)),$(shell command -v python3.13 2>/dev/null),python3.13)
export PYTHON313
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: help install run test lint fresh-check stack stack-stop stack-status backup backup-status restore drill audit bench bench-ratio bench-gate bench-fanout bench-timelines bench-events bench-tracing bench-capacity locust clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON313) -m venv .tools
	.tools/bin/pip install --quiet uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON313)
	@touch $@

install: $(VENV)/.synced ## install uv and the locked dependencies into .venv

run: install ## serve the site and API on http://$(HOST):$(PORT) (SQLite, demo data)
	@bash tools/run.sh

test: install ## lint, type-check and run every test (PostgreSQL, then SQLite)
	@bash tools/test.sh

lint: install ## ruff, mypy, the migrations check and the deploy-file validation; no tests
	@bash tools/test.sh --lint-only

audit: install ## pip-audit over uv.lock's exact versions; fails on a finding or a package it could not check
	@$(PY) tools/audit.py --uv $(UV)

fresh-check: ## make run, then make test, from a clean clone of HEAD in a throwaway fresh Debian root (root)
	@bash tools/fresh-check.sh

stack: install ## PostgreSQL under Patroni + etcd, Redis, a Redis Cluster, STACK_APPS app servers behind nginx on :8080, Prometheus
	@$(PY) tools/stack start

stack-stop: ## stop exactly what make stack started (by PID)
	@$(PY) tools/stack stop

stack-status: ## what make stack runs where, up or down; JSON=1: as JSON, with the PostgreSQL leader
	@$(PY) tools/stack status $(if $(JSON),--json)

backup: install ## a pgBackRest backup of make stack's leader: incremental (full if none); TYPE=full|diff
	@$(PY) tools/stack backup $(if $(TYPE),--type $(TYPE))

backup-status: ## the stack's backups, last backup time, WAL archive state (pgBackRest info); JSON=1: as JSON
	@$(PY) tools/stack backup-status $(if $(JSON),--json)

restore: install ## TARGET="2026-12-05 10:31:07"|latest: restore into a scratch cluster, print rows and checksums; KEEP=1 leaves it up
	@$(PY) tools/stack restore --target "$(or $(TARGET),$(error make restore needs TARGET="2026-12-05 10:31:07" (a time) or TARGET=latest))" $(if $(KEEP),--keep) $(if $(JSON),--json)

# `make drill primary-kill` (the issue's form) or `make drill NAME=primary-kill`: the word after
# `drill` is the drill's name, made a goal that does nothing of its own.
ifeq (drill,$(firstword $(MAKECMDGOALS)))
DRILL_NAME := $(or $(NAME),$(word 2,$(MAKECMDGOALS)))
ifneq (,$(word 2,$(MAKECMDGOALS)))
$(word 2,$(MAKECMDGOALS)): ; @:
endif
endif

drill: install ## a fault under load against a running make stack: make drill primary-kill (docs/reliability.md)
	@$(PY) tools/drill $(DRILL_NAME)

bench: install ## load benchmarks: BENCH_SIZE=10k|100k|1m, BENCH_DURATION=10; BENCH_STACK_APPS=1,2,4: against make stack; BENCH_EDGE=1: its nginx with the edge cache on and off
	@if [[ -n "$${BENCH_EDGE:-}" ]]; then bash tools/bench/edge.sh; elif [[ -n "$${BENCH_STACK_APPS:-}" ]]; then bash tools/bench/stack.sh; else bash tools/bench/run.sh; fi

bench-ratio: install ## the cache's speed-up in interleaved rounds: BENCH_RATIO_CACHE=redis|locmem, BENCH_ROUNDS=3; BENCH_RATIO_BEFORE=<rev>: before vs after (bench/README.md)
	@$(PY) tools/bench/ratio.py

bench-tracing: install ## what tracing costs a request: OpenTelemetry off and on in interleaved rounds; BENCH_ROUNDS=3, BENCH_CACHE (bench/README.md)
	@$(PY) tools/bench/tracing.py

bench-gate: install ## the regression gate make test runs (~90 s); WRITE_BASELINE=1: refresh bench/gate-baseline.json
	@$(PY) tools/bench/gate.py $$([[ -n "$${WRITE_BASELINE:-}" ]] && echo --write-baseline)

bench-fanout: install ## publish to 10,000 followers via real workers; emails exactly once? (bench/README.md)
	@flock -n /tmp/conduit-bench.lock true || echo "waiting for /tmp/conduit-bench.lock (another benchmark is running)"
	@flock /tmp/conduit-bench.lock $(PY) tools/bench/fanout.py

bench-timelines: install ## home timelines' fan-out: inserts/s, publish-to-visible lag for 10 and 10,000 followers (bench/README.md)
	@flock -n /tmp/conduit-bench.lock true || echo "waiting for /tmp/conduit-bench.lock (another benchmark is running)"
	@flock /tmp/conduit-bench.lock $(PY) tools/bench/timeline_fanout.py

bench-events: install ## live updates: 5,000 idle streams' memory, comment-to-client p99, the API beside them; WSGI vs ASGI (bench/README.md)
	@flock -n /tmp/conduit-bench.lock true || echo "waiting for /tmp/conduit-bench.lock (another benchmark is running)"
	@flock /tmp/conduit-bench.lock $(PY) tools/bench/events.py

bench-capacity: install ## knee per scenario under a stepped open-model load, CPU per request; make stack with 1,2,4 apps (bench/README.md)
	@bash tools/bench/capacity.sh

locust: install ## Locust user journeys against LOCUST_HOST for LOCUST_TIME (headless, CSV summary); LOCUST_UI=1: its web UI
	@bash tools/bench/locust.sh

clean: ## remove the virtualenv and local state under var/
	rm -rf $(VENV) .tools var/conduit.sqlite3* var/static
