"""Bytes per home-timeline entry in each store (issue 18's capacity model), measured:

* PostgreSQL: the partitioned ``timelines_entry`` (every partition, its indexes and TOAST) over
  its rows, after building the timelines of the first ``--build`` users by id (the rest of the
  table as it is); the database is ``DATABASE_URL`` (e.g. the kept 1M bench database).
* Redis: ``MEMORY USAGE`` of one timeline of ``FEED_TIMELINE_SIZE`` entries, written by the
  store's own script (``_REPLACE``, the same encoding as in the cluster) into a throw-away
  ``redis-server`` on a free loopback port (stopped by PID), over its entries.

    DATABASE_URL=... .venv/bin/python tools/bench/timelines_bytes.py --build 1000 --out bytes.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import REPO
from benchkit.net import free_port, port_answers


def postgres_bytes(build: int) -> dict[str, Any]:
    from django.db import connection

    from conduit.timelines import services
    from conduit.users.models import User

    services.merged_authors_refresh()
    started = time.monotonic()
    ids = list(User.objects.order_by("pk").values_list("pk", flat=True)[:build])
    for user_id in ids:
        services.timeline_rebuild(user_id=user_id)
    seconds = time.monotonic() - started
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE timelines_entry")  # autocommit: outside a transaction
        cur.execute(
            "SELECT count(*), (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
            "WHERE inhparent = 'timelines_entry'::regclass), count(DISTINCT user_id) "
            "FROM timelines_entry"
        )
        rows, size, users = cur.fetchone()
        # The built timelines' lengths (less the marker row): the model's entries per timeline.
        cur.execute(
            "SELECT count(*) - 1 FROM timelines_entry WHERE user_id = ANY(%s) GROUP BY user_id",
            [ids],
        )
        lengths = [n for (n,) in cur.fetchall()]
    return {
        "rows": rows,
        "timelines": users,
        "bytes": int(size),
        "bytes_per_entry": round(int(size) / rows, 1) if rows else None,
        "built_timelines": len(ids),
        "build_seconds": round(seconds, 1),
        "build_ms_per_timeline": round(1000 * seconds / max(len(ids), 1), 1),
        "entries": {str(bound): entries_within(lengths, bound) for bound in (128, 800)},
        "what": "sum of pg_total_relation_size over timelines_entry's partitions (heap, "
        "primary key index, free space map, visibility map) / rows, after VACUUM ANALYZE; "
        "rows include each timeline's marker row",
    }


def entries_within(lengths: list[int], bound: int) -> dict[str, float]:
    """The built timelines' entries with ``FEED_TIMELINE_SIZE`` at ``bound``: the mean, and the
    share (and mean) of those over 128 entries, which Redis keeps as a skiplist rather than a
    listpack (``zset-max-listpack-entries``)."""
    capped = [min(n, bound) for n in lengths]
    big = [n for n in capped if n > 128]
    return {
        "timelines": len(capped),
        "mean": round(sum(capped) / len(capped), 1) if capped else 0.0,
        "over_128_share": round(len(big) / len(capped), 4) if capped else 0.0,
        "over_128_mean": round(sum(big) / len(big), 1) if big else 0.0,
    }


def redis_bytes(size: int) -> dict[str, Any]:
    import redis

    from conduit.timelines.stores.redis_cluster import _REPLACE, timeline_key

    port = free_port(set())
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(100):
                if port_answers(port):
                    break
                time.sleep(0.05)
            client = redis.Redis(port=port)
            # Ids as a 1M-article site's: the newest ``size`` of a reader's authors, spread out.
            ids = [1_000_000 - 37 * n for n in range(size)]
            key = timeline_key(100_000)
            client.eval(_REPLACE, 1, key, *ids)
            usage = int(client.memory_usage(key, samples=0) or 0)
            encoding = client.object("encoding", key)
            entries = int(client.zcard(key))
            client.close()
        finally:
            server.terminate()
            server.wait(10)
    return {
        "entries": entries,
        "memory_usage_bytes": usage,
        "bytes_per_entry": round(usage / entries, 1),
        "encoding": encoding.decode() if isinstance(encoding, bytes) else encoding,
        "what": f"MEMORY USAGE <key> SAMPLES 0 of one timeline of {size} entries plus its "
        "marker, written by the store's _REPLACE script, / entries (key and object overhead "
        "included; the cluster's per-key slot bookkeeping and replicas are not)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--build", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import django

    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.conf import settings

    result = {
        "postgresql": postgres_bytes(args.build),
        "redis": redis_bytes(settings.FEED_TIMELINE_SIZE),
        "timeline_size": settings.FEED_TIMELINE_SIZE,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
