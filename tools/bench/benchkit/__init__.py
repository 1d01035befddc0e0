"""The parts of ``make bench``, one module per responsibility (``make bench-fanout`` shares some).

The commands stay where the Makefile and run.sh call them (tools/bench/bench.py, fanout.py) and
import this package from their own directory; ratio.py and plot.py only read result files.

* ``net``: free ports, loopback-only HTTP, waiting for a server to answer.
* ``cpu``: CPU seconds of process trees and of the whole machine (/proc), per wrk run or per phase.
* ``facts``: what a result records about its circumstances: commit, machine, versions, database.
* ``servers``: throw-away nginx and pgbouncer configs.
* ``dataset``: the data set's sizes and marker, the inputs picked from it, its row counts, the
  query-plan check.
* ``cleanup``: undoing what the write scenarios wrote, through the domain services.
* ``scenarios``: the wrk scenarios (their Lua scripts are in ../lua) and running wrk.
* ``report``: the result document (bench/README.md), its table and notes.
* ``runner``: ``bench.py run``, which puts the above together.

Only the standard library is imported at module level: ``bench.py port`` and friends run before
Django is set up, and ``run`` sets it up itself.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
RESULTS = REPO / "bench" / "results"
LUA = Path(__file__).resolve().parents[1] / "lua"
