"""Bytes per row of each large table, with its indexes and TOAST, for the capacity model
(tools/capacity.py, docs/scaling.md): a PostgreSQL database seeded by ``seed_bulk``, vacuumed,
then ``pg_total_relation_size`` over ``reltuples`` per table.

    DATABASE_URL=postgres://... .venv/bin/python tools/bench/table_sizes.py --size 10k

Writes ``bench/results/<commit>-<size>-table-sizes.json``. It reads only; the ``VACUUM
ANALYZE`` before it makes ``reltuples`` exact and the sizes settled. The seeded texts are
shorter than real ones (their average lengths are recorded), which the model says.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import REPO
from benchkit.facts import commit_info, machine_info

# A partitioned table (the timelines' store, issue 18) counts as the sum of its partitions;
# the partitions are not listed on their own.
TABLES = """
SELECT c.relname, sum(l.reltuples)::bigint, sum(pg_total_relation_size(l.oid))::bigint,
       sum(pg_relation_size(l.oid))::bigint
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class l ON (c.relkind = 'r' AND l.oid = c.oid)
    OR (c.relkind = 'p' AND l.oid IN (SELECT relid FROM pg_partition_tree(c.oid) WHERE isleaf))
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = 'public'
GROUP BY c.relname
HAVING sum(l.reltuples) >= %s
ORDER BY 3 DESC
"""
TEXTS = {
    "article_body_chars": "SELECT avg(length(body)) FROM articles_article",
    "comment_body_chars": "SELECT avg(length(body)) FROM comments_comment",
}


def one(conn: psycopg.Connection[Any], sql: str) -> Any:
    row = conn.execute(sql.encode()).fetchone()
    return row[0] if row else None


def measure(url: str, min_rows: int) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        tables = {
            name: {
                "rows": rows,
                "total_bytes": total,
                "heap_bytes": heap,
                "bytes_per_row": round(total / rows, 1),
            }
            for name, rows, total, heap in conn.execute(TABLES, [min_rows]).fetchall()
        }
        texts = {
            key: float(one(conn, sql) or 0)
            for key, sql in TEXTS.items()
            if one(conn, f"SELECT to_regclass('{sql.rsplit(' ', 1)[1]}')")
        }
        version = one(conn, "SHOW server_version")
    return {"tables": tables, "average_text": texts, "postgresql": version}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", required=True, help="the seed_bulk size, for the file name")
    parser.add_argument("--min-rows", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    commit = commit_info()
    doc = {
        "kind": "table-sizes",
        "commit": commit,
        "machine": machine_info(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "size": args.size,
        **measure(os.environ["DATABASE_URL"], args.min_rows),
    }
    out = args.out or REPO / "bench" / "results" / f"{commit['id']}-{args.size}-table-sizes.json"
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
