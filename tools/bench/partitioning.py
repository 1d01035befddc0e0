"""Would hash partitioning of favorites, comments or follows gain anything? (issue 18 item 3,
ADR 0035). Measured on a seeded database, partitioned copies beside the tables the app uses.

    DATABASE_URL=postgres://...  .venv/bin/python tools/bench/partitioning.py [--partitions 16]

The database must hold ``seed_bulk`` data (1M articles for the ADR's figures). In a schema of its
own (``partition_exp``, dropped first and at the end unless ``--keep``) it copies each table twice
with ``CREATE TABLE ... AS``: once plain with the app's indexes (the same rows, freshly packed, so
the comparison is not with a table that has lived longer), once ``PARTITION BY HASH`` into
``--partitions`` partitions with the same indexes per partition. The app's own tables are only
read. Then, per query the app runs on them (the SQL of the selectors and services, with literal
values as Django's client-side binding sends them), for each layout:

* ``EXPLAIN (ANALYZE, BUFFERS)`` of one execution: the plan's shape, planning and execution time,
  shared buffers touched, and how many partitions the plan reads (pruning);
* ``pgbench -n -M simple -c 1 -t N`` of a script drawing random ids, in the order plain,
  partitioned, partitioned, plain (ABBA; ``--repeats`` times), the median transactions per
  second kept per layout.

Writes ``bench/results/<commit>-partitioning.json`` and prints a table. Run it under
``flock /tmp/conduit-bench.lock``: it is a benchmark.
"""

# ruff: noqa: S608 - the SQL is built from this file's constants and integers, never input

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import REPO, RESULTS
from benchkit.facts import commit_info, machine_info

PGBENCH = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")) / "pgbench"
SCHEMA = "partition_exp"

# table: (partition key, columns copied, the app's indexes: name suffix -> definition)
TABLES = {
    "favorite": ("user_id", "id, user_id, article_id, created_at", {
        "unique": "UNIQUE (user_id, article_id)", "article": "(article_id)"}),
    "comment": ("article_id", "id, article_id, author_id, body, created_at, updated_at", {
        "article_newest": "(article_id, id DESC)", "author": "(author_id)"}),
    "follow": ("follower_id", "id, follower_id, followee_id, created_at", {
        "unique": "UNIQUE (follower_id, followee_id)", "followee": "(followee_id, follower_id)"}),
    # follows again, keyed by whom they follow: the fan-out's side
    "follow_by_followee": ("followee_id", "id, follower_id, followee_id, created_at", {
        "unique": "UNIQUE (follower_id, followee_id)", "followee": "(followee_id, follower_id)"}),
}  # fmt: skip
SOURCE = {"follow_by_followee": "follow"}
APP_TABLE = {
    "favorite": "articles_favorite",
    "comment": "comments_comment",
    "follow": "profiles_follow",
}


def ids(var: str, count: int) -> str:
    return "ARRAY[" + ", ".join(f":{var}{i}" for i in range(count)) + "]"


# name: (table, what the app does, pgbench script with {t} for the table)
QUERIES: dict[str, tuple[str, str, str]] = {
    "favorite_unfavorite": ("favorite", "articles/favorites.py: favorite_add then favorite_remove",
        "\\set u random(1, :users)\n\\set a random(1, :articles)\nBEGIN;\n"
        "INSERT INTO {t} (user_id, article_id, created_at) VALUES (:u, :a, now()) "
        "ON CONFLICT DO NOTHING;\nDELETE FROM {t} WHERE user_id = :u AND article_id = :a;\n"
        "ROLLBACK;\n"),
    "favorited_flags": ("favorite", "articles/queries.py viewer_flags: the 20 cards' favorited",
        "\\set u random(1, :users)\n"
        + "".join(f"\\set a{i} random(1, :articles)\n" for i in range(20))
        + "SELECT article_id FROM {t} WHERE user_id = :u AND article_id = ANY("
        + ids("a", 20) + ");\n"),
    "list_by_favoriter": ("favorite", "articles/queries.py: ?favorited=, the page's ids",
        "\\set u random(1, :users)\n"
        "SELECT article_id FROM {t} WHERE user_id = :u ORDER BY article_id DESC LIMIT 20;\n"),
    "article_comments": ("comment", "comments/selectors.py comment_list",
        "\\set a random(1, :articles)\n"
        "SELECT id, author_id, body, created_at, updated_at FROM {t} WHERE article_id = :a "
        "ORDER BY id DESC LIMIT 100;\n"),
    "follow_flags": ("follow", "articles/queries.py viewer_flags: the 20 cards' following",
        "\\set u random(1, :users)\n"
        + "".join(f"\\set f{i} random(1, :users)\n" for i in range(20))
        + "SELECT followee_id FROM {t} WHERE follower_id = :u AND followee_id = ANY("
        + ids("f", 20) + ");\n"),
    "followers_chunk": ("follow", "notifications/tasks.py: a fan-out chunk of followers",
        "\\set a random(1, :users)\n"
        "SELECT follower_id FROM {t} WHERE followee_id = :a AND follower_id > 0 "
        "ORDER BY follower_id LIMIT 500;\n"),
    "follow_flags_by_followee": ("follow_by_followee", "follow_flags, follows keyed by followee",
        "\\set u random(1, :users)\n"
        + "".join(f"\\set f{i} random(1, :users)\n" for i in range(20))
        + "SELECT followee_id FROM {t} WHERE follower_id = :u AND followee_id = ANY("
        + ids("f", 20) + ");\n"),
    "followers_chunk_by_followee": ("follow_by_followee", "followers_chunk, keyed by followee",
        "\\set a random(1, :users)\n"
        "SELECT follower_id FROM {t} WHERE followee_id = :a AND follower_id > 0 "
        "ORDER BY follower_id LIMIT 500;\n"),
}  # fmt: skip


def psql(url: str, sql: str) -> str:
    done = subprocess.run(["psql", url, "-XAtqv", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode:
        sys.exit(f"psql failed: {done.stderr}\n{sql[:500]}")
    return done.stdout.strip()


def build(url: str, partitions: int) -> dict[str, Any]:
    sizes: dict[str, Any] = {}
    psql(
        url,
        f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}; "
        f"CREATE SEQUENCE {SCHEMA}.ids START 1000000000; "  # new rows' ids, both layouts
        "CREATE EXTENSION IF NOT EXISTS pageinspect",
    )
    for table, (key, columns, indexes) in TABLES.items():
        source = f"public.{APP_TABLE[SOURCE.get(table, table)]}"
        if table in SOURCE:
            plain = f"{SCHEMA}.{SOURCE[table]}_plain"  # the same plain copy serves both
        else:
            plain = f"{SCHEMA}.{table}_plain"
            started = time.monotonic()
            psql(
                url,
                f"CREATE TABLE {plain} AS SELECT {columns} FROM {source}; "
                f"ALTER TABLE {plain} ADD PRIMARY KEY (id); "
                f"ALTER TABLE {plain} ALTER id SET DEFAULT nextval('{SCHEMA}.ids')",
            )
            for suffix, definition in indexes.items():
                psql(url, index_sql(plain, suffix, definition))
            psql(url, f"VACUUM ANALYZE {plain}")
            sizes[f"{table}_plain"] = relation_sizes(url, plain, time.monotonic() - started)
        part = f"{SCHEMA}.{table}_part"
        started = time.monotonic()
        psql(url, f"CREATE TABLE {part} (LIKE {plain}) PARTITION BY HASH ({key})")
        for n in range(partitions):
            psql(
                url,
                f"CREATE TABLE {part}_{n} PARTITION OF {part} "
                f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {n})",
            )
        psql(
            url,
            f"INSERT INTO {part} SELECT {columns} FROM {source}; "
            f"ALTER TABLE {part} ADD PRIMARY KEY (id, {key}); "
            f"ALTER TABLE {part} ALTER id SET DEFAULT nextval('{SCHEMA}.ids')",
        )
        for suffix, definition in indexes.items():
            psql(url, index_sql(part, suffix, definition))
        psql(url, f"VACUUM ANALYZE {part}")
        sizes[f"{table}_part"] = relation_sizes(url, part, time.monotonic() - started)
    return sizes


def index_sql(table: str, suffix: str, definition: str) -> str:
    name = f"{table.split('.')[1]}_{suffix}"
    if definition.startswith("UNIQUE"):
        return f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
    return f"CREATE INDEX {name} ON {table} {definition}"


def relation_sizes(url: str, table: str, seconds: float) -> dict[str, Any]:
    """Rows, heap and index bytes (summed over partitions), and the largest partition's."""
    row = psql(
        url,
        f"""
        WITH parts AS (
            SELECT c.oid, c.reltuples FROM pg_class c
            WHERE c.oid = '{table}'::regclass AND c.relkind = 'r'
            UNION ALL
            SELECT i.inhrelid, c.reltuples FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = '{table}'::regclass)
        SELECT sum(reltuples)::bigint, sum(pg_table_size(oid)), sum(pg_indexes_size(oid)),
               max(pg_total_relation_size(oid)), count(*) FROM parts""",
    )
    rows, heap, index, largest, count = (int(float(v)) for v in row.split("|"))
    # The B-tree levels above the leaves (pageinspect's bt_metap), the deepest index of any
    # partition: a lookup reads that many pages plus the leaf, whatever the layout.
    levels = psql(
        url,
        f"""
        SELECT max((bt_metap(i.indexrelid::regclass::text)).level) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid AND c.relkind = 'i'
        WHERE i.indrelid = '{table}'::regclass OR i.indrelid IN (
            SELECT inhrelid FROM pg_inherits WHERE inhparent = '{table}'::regclass)""",
    )
    return {
        "rows": rows,
        "heap_mb": round(heap / 2**20, 1),
        "indexes_mb": round(index / 2**20, 1),
        "largest_partition_mb": round(largest / 2**20, 1),
        "btree_levels": int(levels),
        "relations": count,
        "build_s": round(seconds, 1),
    }


def explain(url: str, script: str, table: str, variables: dict[str, int]) -> dict[str, Any]:
    """One execution's plan, with the script's random ids replaced by fixed ones."""
    statements = [s for s in script.split("\n") if s and not s.startswith(("\\", "BEGIN"))]
    # A toggle's DELETE of a row that is not there: EXPLAIN ANALYZE of it changes nothing.
    sql = next(s for s in statements if s.startswith(("SELECT", "DELETE")))
    values = {**variables, "u": 4242, "a": 424242}
    values |= {f"a{i}": 1 + i * 49_999 for i in range(20)} | {
        f"f{i}": 1 + i * 4_999 for i in range(20)
    }
    sql = re.sub(r":(\w+)", lambda m: str(values[m.group(1)]), sql.replace("{t}", table))
    plan = json.loads(psql(url, f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql.rstrip(';')}"))[0]
    text = psql(url, f"EXPLAIN (COSTS OFF) {sql.rstrip(';')}")
    scanned = len(set(re.findall(r"on (\w+_part_\d+)", text)))
    top = plan["Plan"]
    return {
        "sql": sql,
        "planning_ms": plan["Planning Time"],
        "execution_ms": plan["Execution Time"],
        "shared_buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
        "partitions_scanned": scanned,
        "plan": text.splitlines(),
    }


def pgbench(url: str, script: str, table: str, variables: dict[str, int], tx: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script.replace("{t}", table))
    parts = urllib.parse.urlsplit(url)
    command = [
        str(PGBENCH),
        "-n",
        "-M",
        "simple",
        "-c",
        "1",
        "-t",
        str(tx),
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
        "-f",
        f.name,
        *(f"-D{k}={v}" for k, v in variables.items()),
        parts.path.lstrip("/"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    os.unlink(f.name)
    found = re.search(r"tps = ([\d.]+)", done.stdout)
    if done.returncode or not found:
        sys.exit(f"pgbench failed: {done.stdout}{done.stderr}")
    return float(found.group(1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--partitions", type=int, default=16)
    p.add_argument("--transactions", type=int, default=5000)
    p.add_argument("--repeats", type=int, default=1, help="ABBA orders of pgbench runs")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    url = os.environ["DATABASE_URL"]
    commit = commit_info()
    counts = psql(
        url, "SELECT (SELECT max(id) FROM users_user), (SELECT max(id) FROM articles_article)"
    ).split("|")
    variables = {"users": int(counts[0]), "articles": int(counts[1])}
    sizes = build(url, args.partitions)
    results: dict[str, Any] = {}
    for name, (table, what, script) in QUERIES.items():
        layouts = {
            "plain": f"{SCHEMA}.{SOURCE.get(table, table)}_plain",
            "partitioned": f"{SCHEMA}.{table}_part",
        }
        plans = {k: explain(url, script, t, variables) for k, t in layouts.items()}
        tps: dict[str, list[float]] = {"plain": [], "partitioned": []}
        for layout in ("plain", "partitioned", "partitioned", "plain") * args.repeats:
            tps[layout].append(pgbench(url, script, layouts[layout], variables, args.transactions))
        median = {k: statistics.median(v) for k, v in tps.items()}
        results[name] = {
            "table": table,
            "what": what,
            "tps": tps,
            "median_tps": median,
            "partitioned_over_plain": round(median["partitioned"] / median["plain"], 3),
            "explain": plans,
        }
        ratio = results[name]["partitioned_over_plain"]
        print(
            f"{name:<28} plain {median['plain']:>8.0f} tps  partitioned "
            f"{median['partitioned']:>8.0f} tps  ratio {ratio:.2f}  planning "
            f"{plans['plain']['planning_ms']:.3f} vs {plans['partitioned']['planning_ms']:.3f} ms"
            f"  partitions read {plans['partitioned']['partitions_scanned']}",
            flush=True,
        )
    if not args.keep:
        psql(url, f"DROP SCHEMA {SCHEMA} CASCADE")
    out = RESULTS / f"{commit['id']}-partitioning.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "commit": commit,
                "machine": machine_info(),
                "database": variables,
                "command": "DATABASE_URL=... tools/bench/partitioning.py "
                f"--partitions {args.partitions} --repeats {args.repeats} "
                f"--transactions {args.transactions}",
                "partitions": args.partitions,
                "sizes": sizes,
                "queries": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(json.dumps(sizes, indent=1))
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
