"""Per-call cost of the Redis cache backend, run by hand (not a test: timings vary by machine).

    .venv/bin/python tools/bench/cache_calls.py                 # this tree
    .venv/bin/python tools/bench/cache_calls.py --before 0215d6f  # against an earlier commit

It starts a ``redis-server`` of its own on a free loopback port and times the calls the warm
lists make: a 21-key ``get_many`` (a page of cards), a one-key ``get`` and a 20-key fill
(``add_many``: SET NX for every key) through ``conduit.platform.cache.portable.add_many``, the
function that ``SafeCache.add_many`` calls at every commit that has it. Each call is timed alone:
wall time (round trip included) and the thread's CPU time; the median of all calls is printed.

With ``--before``, each round runs both sides, in alternating order, as separate processes: the
earlier commit's ``conduit`` and ``config`` (``git archive``, under a temporary directory) and
this tree's, both on this tree's virtualenv and the same Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
KEYS = 21  # a page of 20 cards and the viewer's flags
FILL = 20


def card(n: int) -> dict[str, Any]:
    """About the size and shape of a cached article card."""
    return {
        "id": n,
        "slug": f"how-to-train-your-dragon-{n}",
        "title": f"How to train your dragon {n}",
        "description": "Ever wonder how? " * 3,
        "tags": ["dragons", "training", "howto"],
        "author_id": 1000 + n,
        "created": "2026-12-01T10:00:00.000Z",
        "favorites": n * 3,
    }


def timed(call: Callable[[], Any], calls: int, between: Callable[[], Any] | None = None) -> Any:
    wall, cpu = [], []
    for _ in range(calls):
        if between is not None:
            between()
        started_cpu, started = time.thread_time_ns(), time.perf_counter_ns()
        call()
        wall.append(time.perf_counter_ns() - started)
        cpu.append(time.thread_time_ns() - started_cpu)
    return {"wall_us": statistics.median(wall) / 1000, "cpu_us": statistics.median(cpu) / 1000}


def side(calls: int) -> dict[str, Any]:
    """One side's measurements, in this process (``--side``: the app is on ``sys.path``)."""
    import django
    from django.core.cache import caches

    django.setup()
    try:  # the fill path of SafeCache.add_many (in safe.py before 2026-12-05)
        from conduit.platform.cache.portable import add_many as _add_many
    except ImportError:
        from conduit.platform.cache.safe import _add_many  # type: ignore[attr-defined,no-redef]

    backend: Any = caches["default"]
    backend.clear()
    page = {f"card:{n}": card(n) for n in range(KEYS)}
    backend.set_many(page, 300, version=1)
    keys = list(page)
    fill = {f"fill:{n}": card(n) for n in range(FILL)}
    results = {"backend": type(backend).__module__}
    for name, call, between in [
        ("get_many_21", lambda: backend.get_many(keys, version=1), None),
        ("get_1", lambda: backend.get("card:0", version=1), None),
        (
            "add_many_20",
            lambda: _add_many(backend, fill, 60, 1),
            lambda: backend.delete_many(list(fill), version=1),
        ),
    ]:
        timed(call, 200, between)  # warm-up: connections, pipelines' connection, caches
        results[name] = timed(call, calls, between)
    return results


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_side(app_dir: Path, url: str, calls: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": str(app_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "CACHE_URL": url,
    }
    command = [sys.executable, __file__, "--side", "--calls", str(calls)]
    out = subprocess.run(command, env=env, cwd=app_dir, check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", help="compare with this commit")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--side", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.calls)))
        return

    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    with tempfile.TemporaryDirectory(prefix="cache-calls-") as tmp:
        try:
            sides = {"after": REPO}
            if args.before:
                before = Path(tmp) / "before"
                before.mkdir()
                archive = subprocess.run(
                    ["git", "archive", args.before, "conduit", "config"],
                    cwd=REPO,
                    check=True,
                    capture_output=True,
                )
                subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
                sides = {"before": before, "after": REPO}
            time.sleep(0.3)
            rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
            for number in range(args.rounds):
                order = list(sides) if number % 2 == 0 else list(reversed(sides))
                for name in order:
                    url = f"redis://127.0.0.1:{port}/{list(sides).index(name)}"
                    rounds[name].append(run_side(sides[name], url, args.calls))
        finally:
            server.terminate()
            server.wait()
    for name, results in rounds.items():
        print(f"{name}: {results[0]['backend']}")
        for call in ("get_many_21", "get_1", "add_many_20"):
            wall = [r[call]["wall_us"] for r in results]
            cpu = [r[call]["cpu_us"] for r in results]
            print(
                f"  {call:12} wall {statistics.median(wall):6.1f} µs (rounds {min(wall):.1f}-"
                f"{max(wall):.1f}), CPU {statistics.median(cpu):6.1f} µs "
                f"(rounds {min(cpu):.1f}-{max(cpu):.1f})"
            )


if __name__ == "__main__":
    main()
