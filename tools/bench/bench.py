"""The Python half of ``make bench`` (tools/bench/run.sh starts and stops the servers).

    bench.py seed-args SIZE                      # seed_bulk's arguments for 10k, 100k or 1m
    bench.py port PORT [--not PORT]              # PORT if free (0: a free one), else fail
    bench.py reusable --dir D --size S           # exit 0 if D holds a database seeded at S
    bench.py mark --dir D --size S               # record that D was seeded at S
    bench.py feed-shapes --dir D --size S        # add issue 18's feeds to D's data (once)
    bench.py nginx-conf --dir D --port P         # a throw-away nginx serving D/www
    bench.py pgbouncer-conf --dir D --port P --pg-port Q   # a throw-away pgbouncer (transaction)
    bench.py run --size S --base URL --nginx URL ...   # the measurements, the JSON, the table

The work is done by the ``benchkit`` package next to this file (its ``__init__`` lists the
modules); ``run`` is ``benchkit.runner``. Run it with the project's virtualenv (``run`` needs
Django; the other commands only the standard library).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchkit, also when loaded by path
from benchkit import REPO
from benchkit.dataset import DATA_VERSION, SIZES, mark, marked_version, reusable
from benchkit.net import free_port, port_is_free
from benchkit.report import REFERENCES, references_wanted
from benchkit.servers import nginx_conf, pgbouncer_conf


def references(value: str) -> tuple[str, ...]:
    try:
        return references_wanted(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("seed-args")
    p.add_argument("size")
    p = sub.add_parser("port")
    p.add_argument("port", type=int)
    p.add_argument("--not", dest="avoid", type=int, action="append", default=[])
    for name in ("reusable", "mark"):
        p = sub.add_parser(name)
        p.add_argument("--dir", type=Path, required=True)
        p.add_argument("--size", required=True)
    p = sub.add_parser("feed-shapes")
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--size", required=True)
    p = sub.add_parser("nginx-conf")
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--port", type=int, required=True)
    p = sub.add_parser("run")
    p.add_argument("--size", required=True)
    p.add_argument("--base", required=True, help="the app's base URL")
    p.add_argument("--nginx", required=True, help="the reference nginx's base URL")
    p.add_argument("--www", required=True, help="the reference nginx's document root")
    p.add_argument("--run-dir", type=Path, required=True)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--timeout", type=int, default=5)
    p.add_argument("--workers", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("--app-pid", type=int)
    p.add_argument("--db-pid", type=int)
    p.add_argument("--nginx-pid", type=int)
    p.add_argument("--pg-dir")
    p.add_argument("--reused", type=int, default=0)
    p.add_argument("--server-cmd", default="")
    p.add_argument("--target", default=None)
    p.add_argument("--note", default="")
    p.add_argument("--scenarios", default="", help="comma-separated subset (BENCH_SCENARIOS)")
    p.add_argument("--references", type=references, default=REFERENCES,
                   help="1: all, 0: none, or some by name (BENCH_REFERENCES)")  # fmt: skip
    p.add_argument("--out", type=Path, help="the result file (BENCH_OUT; default bench/results/)")
    p.add_argument("--cache", choices=("locmem", "off", "redis"), default="locmem")
    p.add_argument("--db", choices=("persistent", "pool", "pgbouncer"), default="persistent")
    p.add_argument("--replica", type=int, default=0)
    p.add_argument("--redis-kill", type=int, default=0)
    p.add_argument("--broker", choices=("redis", "inline"), default="redis")
    p.add_argument("--tracing", type=int, default=0)
    p.add_argument("--timelines", choices=("database", "redis-cluster"), default="database")
    p.add_argument("--redis-pid", type=int)
    p.add_argument("--replica-pid", type=int)
    p.add_argument("--pgbouncer-pid", type=int)
    p = sub.add_parser("pgbouncer-conf")
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pg-port", type=int, required=True)
    p.add_argument("--pool-size", type=int, default=20)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "seed-args":
        if args.size not in SIZES:
            sys.exit(f"BENCH_SIZE must be one of {', '.join(SIZES)}, not {args.size!r}")
        users, articles = SIZES[args.size]
        print(f"--users {users} --articles {articles}")
    elif args.command == "port":
        if args.port == 0:
            print(free_port(set(args.avoid)))
        elif port_is_free(args.port) and args.port not in args.avoid:
            print(args.port)
        else:
            sys.exit(f"port {args.port} on 127.0.0.1 is taken: choose another, or 0 for any")
    elif args.command == "reusable":
        sys.exit(0 if reusable(args.dir, args.size) else 1)
    elif args.command == "mark":
        mark(args.dir, args.size)
    elif args.command == "feed-shapes":
        feed_shapes(args.dir, args.size)
    elif args.command == "nginx-conf":
        print(nginx_conf(args.dir.resolve(), args.port))
    elif args.command == "pgbouncer-conf":
        print(pgbouncer_conf(args.dir.resolve(), args.port, args.pg_port, args.pool_size))
    else:
        from benchkit.runner import Bench

        Bench(args).main()


def feed_shapes(data_dir: Path, size: str) -> None:
    """Upgrade a database marked below ``DATA_VERSION`` in place (benchkit/feed_shapes.py)."""
    if marked_version(data_dir) >= DATA_VERSION:
        return
    import django

    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from benchkit.feed_shapes import add_feed_shapes

    added = add_feed_shapes(SIZES[size][0])
    print(f"feed shapes: {added}", flush=True)
    mark(data_dir, size, added)


if __name__ == "__main__":
    main()
