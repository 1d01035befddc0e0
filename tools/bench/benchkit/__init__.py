"""The parts of ``make bench`` and ``make bench-fanout``, one module per responsibility.

The commands stay where the Makefile and run.sh call them (tools/bench/bench.py, fanout.py,
ratio.py) and import this package from their own directory; plot.py only reads result files.

* ``net``: free ports, loopback-only HTTP, waiting for a server to answer.
* ``cpu``: CPU seconds of process trees and of the whole machine (/proc), per wrk run or per phase.
* ``facts``: what a result records about its circumstances: commit, machine, versions, database.
* ``servers``: throw-away nginx and pgbouncer configs, the app server's command, processes
  started and stopped by PID.
* ``dataset``: the data set's sizes and marker, the inputs picked from it, its row counts, the
  query-plan check, fanout's followers.
* ``cleanup``: undoing what the write scenarios wrote, through the domain services.
* ``tokens``: the scenarios' API tokens, minted in process (or signed in through the API).
* ``bare_write``: the tables of the ``bare_write`` reference, made and dropped around a run.
* ``scenarios``: the wrk scenarios (their Lua scripts are in ../lua) and running wrk.
* ``locks``: lock waits sampled from PostgreSQL's ``pg_stat_activity`` during a wrk run.
* ``load``: the warm-up, references and scenarios, each a wrk run with its CPU and lock waits.
* ``report``: the result document (bench/README.md), its table and notes.
* ``runner``: ``bench.py run``, which puts the above together.
* ``smtp_sink``, ``latency``: fanout's SMTP sink and latency summaries.
* ``before_after``: ratio.py's ``BENCH_RATIO_BEFORE`` mode: an earlier commit's server against
  this tree's in the same rounds, and issue 15's acceptance criteria; ``before_tree``: the
  earlier commit's files and the checks that it can share this tree's virtualenv and database.

Only the standard library is imported at module level: ``bench.py port`` and friends run before
Django is set up, and ``run`` sets it up itself.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
RESULTS = REPO / "bench" / "results"
LUA = Path(__file__).resolve().parents[1] / "lua"
