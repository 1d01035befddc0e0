"""A Redis Cluster for ``BENCH_TIMELINES=redis-cluster`` (tools/bench/run.sh): 3 masters, each
with a replica, on free loopback ports (tools/stack/redis_cluster.py, as ``make stack`` and the
suite start it). Runs until SIGTERM or SIGINT, then stops every node by PID.

    python tools/bench/cluster.py --dir DIR --url-file FILE   # FILE: redis-cluster://... once up
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/: the stack package
from stack.redis_cluster import RedisCluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--url-file", type=Path, required=True)
    args = parser.parse_args()
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    cluster = RedisCluster.on_free_ports(args.dir)
    try:
        cluster.create()
        args.url_file.write_text(cluster.url + "\n")
        print(f"Redis Cluster up: {cluster.url}", flush=True)
        done.wait()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
