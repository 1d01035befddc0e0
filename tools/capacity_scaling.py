"""docs/scaling.md's generated sections (tools/capacity.py): the inputs table, the model scaled to
10M users, 100M articles and 1B favorites, the model against the measured 1M figures, and the
measured 1/2/4-app scaling behind "more cores or more copies"."""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import capacity as cap
from capacity_inputs import COMPONENTS, Inputs, Results

GIB = 1024**3


def sections(inp: Inputs, results: Results | None = None) -> dict[str, str]:
    results = results or Results(inp.directory)
    return {
        "inputs": section_inputs(inp),
        "scaling": section_scaling(inp),
        "validation": "\n\n".join(
            [
                section_validation(results),
                section_storage_validation(results),
                section_timeline_validation(inp, results),
            ]
        ),
        "vertical": section_vertical(inp, results),
        "knees": section_knees(inp, results),
    }


def section_inputs(inp: Inputs) -> str:
    rows = []
    for row in inp.rows.values():
        value = (
            ", ".join(cap.fmt(x) for x in row.value)
            if isinstance(row.value, list)
            else f"{row.value:g}"
        )
        rows.append([f"`{row.key}`", value, row.unit, row.kind, row.source])
    counts = {
        k: sum(1 for r in inp.rows.values() if r.kind == k)
        for k in ("measured", "config", "assumption", "pending")
    }
    return (
        f"{counts['measured']} measured, {counts['config']} read from the deploy files, "
        f"{counts['assumption']} assumed, "
        f"{counts['pending']} pending (stated until this session's runs land).\n\n"
        + cap.table(["input", "value", "unit", "kind", "source"], rows)
    )


# --- 10M users ----------------------------------------------------------------------------------


def timeline_bytes(inp: Inputs, users: float, size: int = 800) -> tuple[float, float]:
    """Bytes of all timelines in Redis with ``FEED_TIMELINE_SIZE`` at ``size`` (800 or 128), and
    the mean entries a timeline holds: the lengths measured at 1M (entries per timeline do not
    grow with the number of users: ``section_timeline_validation``), the ones over 128 entries
    at a skiplist's bytes an entry, the rest at a listpack's."""
    mean = inp.v(f"timeline_entries_mean_{size}")
    big = inp.v(f"timeline_over128_share_{size}") * inp.v(f"timeline_over128_mean_{size}")
    per_user = (
        big * inp.v("timeline_bytes_per_entry_full")
        + (mean - big) * inp.v("timeline_bytes_per_entry_small")
        + inp.v("redis_key_overhead_bytes")
    )
    return users * per_user, mean


def relational_gb(inp: Inputs, scale: float = 1.0) -> dict[str, float]:
    users, articles = inp.v("scale_users") * scale, inp.v("scale_articles") * scale
    rows = {
        "users": users * inp.v("bytes_user"),
        "articles": articles * (inp.v("bytes_article") + inp.v("article_extra_bytes")),
        "favorites": inp.v("scale_favorites") * scale * inp.v("bytes_favorite"),
        "comments": articles
        * inp.v("comments_per_article")
        * (inp.v("bytes_comment") + inp.v("comment_extra_bytes")),
        "follows": users * inp.v("followers_per_user") * inp.v("bytes_follow"),
        "article tags": articles * inp.v("tags_per_article") * inp.v("bytes_article_tag"),
    }
    return {k: v / 1e9 for k, v in rows.items()}


def section_scaling(inp: Inputs) -> str:
    users = inp.v("scale_users")
    per_day = users * inp.v("daily_active_share") * inp.v("requests_per_active_user")
    load = cap.load_for(inp, per_day, cap.Options())
    util = inp.v("target_utilisation")
    app_servers = math.ceil(load.cores["app"] / util / 2)
    mem, mean_entries = timeline_bytes(inp, users)
    shard_bytes = inp.v("redis_shard_usable_gib") * GIB
    small_mem, _ = timeline_bytes(inp, users, size=128)
    feed_rps = load.peak_rps * inp.v("mix_feed")
    timeline_ops = feed_rps + load.fanout_inserts_per_s
    shard_ops = util * 1000 / inp.v("redis_ms_per_round_trip")
    shards = max(3, math.ceil(mem / shard_bytes), math.ceil(timeline_ops / shard_ops))
    workers = max(2, math.ceil(load.cores.get("worker", 0) / util))
    streams = users * inp.v("daily_active_share") * inp.v("streams_share_of_daily_active")
    events_pods = max(2, math.ceil(streams / inp.v("events_streams_per_process")))
    gb = relational_gb(inp)
    total_gb = sum(gb.values())
    writes_rps = load.peak_rps * sum(
        inp.v(f"mix_{k}") for k in cap.ci.REQUEST_TYPES if k not in cap.ci.READS
    )
    primary_need = load.cores.get("db", 0) / util
    primary = cap.smallest(inp, "m6i", primary_need) or "beyond one machine"
    replicas = max(1, math.ceil(load.cores.get("db_read", 0) / (2 * util)))
    largest = inp.family("m6i")[-1]
    by_storage = inp.v("pg_single_node_max_gb") / total_gb
    by_writes = largest[1] * util / max(primary_need * util, 1e-9)
    citus_users = users * min(by_storage, by_writes)
    limit = "storage" if by_storage <= by_writes else "write CPU"
    pg_timelines_gb = users * mean_entries * inp.v("bytes_timeline_entry_pg") / 1e9
    rows = [
        [
            "traffic",
            f"{cap.fmt(per_day / 1e6)}M requests/day; peak {cap.fmt(load.peak_rps)} "
            f"req/s; edge hit ratio {cap.fmt(load.edge_hit * 100, 1)} %",
            "users x daily_active_share x requests_per_active_user; peak_to_average",
        ],
        [
            "CPU at the peak",
            ", ".join(f"{k} {v:.2f}" for k, v in sorted(load.cores.items())),
            "cores: rate x measured CPU per request, by request type",
        ],
        [
            "app servers",
            f"**{app_servers}** m6i.large (2 granian processes each: "
            f"{cap.fmt(load.cores['app'] / util, 1)} cores at {cap.fmt(util * 100)} %)",
            "one process per core (the GIL; 1/2/4 apps below)",
        ],
        [
            "Redis Cluster (timelines)",
            f"**{shards} shards** (+{shards} replicas): "
            f"{cap.fmt(mem / GIB, 1)} GiB of timelines, {cap.fmt(timeline_ops)} ops/s "
            f"against {cap.fmt(shard_ops)} per shard",
            f"{cap.fmt(users / 1e6)}M x {cap.fmt(mean_entries, 1)} entries on average "
            "(timeline_entries_*, timeline_bytes_per_entry_*); at least 3 masters",
        ],
        [
            "... with `FEED_TIMELINE_SIZE=128`",
            f"{cap.fmt(small_mem / GIB, 1)} GiB: "
            f"{max(3, math.ceil(small_mem / shard_bytes))} shards",
            "every timeline a listpack (Redis's default `zset-max-listpack-entries 128`); "
            "the deeper pages from the fallback query",
        ],
        [
            "Celery workers",
            f"**{workers}** processes: {cap.fmt(load.fanout_inserts_per_s)} "
            f"timeline inserts/s and {cap.fmt(load.emails_per_s)} emails/s from "
            f"{cap.fmt(load.publishes_per_s, 2)} publishes/s",
            "followers_per_user inserts and emails per publish",
        ],
        [
            "events servers (live updates)",
            f"**{events_pods}** processes for {cap.fmt(streams)} open streams "
            f"({cap.fmt(streams * inp.v('events_kib_per_stream') / 2**20, 1)} GiB)",
            "daily active x streams_share_of_daily_active; events_streams_per_process each",
        ],
        [
            "PostgreSQL data",
            f"{cap.fmt(total_gb)} GB: "
            + ", ".join(f"{k} {cap.fmt(v)}" for k, v in gb.items())
            + f"; timelines there instead of Redis: +{cap.fmt(pg_timelines_gb)} GB",
            "rows x bytes_* (measured on seeded data) + *_extra_bytes",
        ],
        [
            "PostgreSQL nodes",
            f"primary **{primary}** + standby ({cap.fmt(writes_rps)} "
            f"writes/s: about as many WAL flushes/s, group commit merging them), "
            f"**{replicas}** read replica(s) for {load.cores.get('db_read', 0):.2f} cores of reads",
            "measured db CPU per request; 3,000 gp3 IOPS cover the flushes",
        ],
        [
            "Citus",
            f"not needed at 10M users: one primary holds it until about "
            f"**{cap.fmt(citus_users / 1e6)}M users** ({limit} reaches its limit first)",
            "pg_single_node_max_gb, or the largest m6i's cores for writes",
        ],
    ]
    return cap.table(["", "10M users, 100M articles, 1B favorites", "from"], rows)


# --- the model against the measured 1M figures --------------------------------------------------


def _following(scenario: dict[str, Any]) -> str | None:
    """How many authors a feed scenario's reader follows ("(follows 840)" in its request): the
    same read at both sizes only if the same (the 10k data has 1,000 users to follow)."""
    found = re.search(r"\(follows (\d+)\)", str(scenario.get("request", "")))
    return found.group(1) if found else None


def size_pairs(results: Results) -> list[tuple[str, str, str, float, float, float]]:
    """For every commit with a 10k and a 1M run of the same variant: each scenario's req/s at 1M
    predicted from its CPU per request at 10k (the model's claim: per-operation cost does not
    grow with the data), against the measured."""
    by_key: dict[tuple[str, str], dict[str, tuple[str, dict[str, Any]]]] = {}
    for name, doc in results.docs:
        if "scenarios" not in doc or cap.ci.variant_of(doc)["target"]:
            continue
        size = doc["size"].get("name") if isinstance(doc.get("size"), dict) else None
        variant = cap.ci.variant_of(doc)
        timelines = variant.get("timelines", "database")
        heads = "heads" if variant.get("feed_heads", True) else "no-heads"
        key = (doc["commit"]["id"], f"{variant['cache']}/{variant['db']}/{timelines}/{heads}")
        by_key.setdefault(key, {}).setdefault(str(size), (name, doc))
    out = []
    for (_commit, _variant), sizes in sorted(by_key.items()):
        if "10k" not in sizes or "1m" not in sizes:
            continue
        (small_name, small), (big_name, big) = sizes["10k"], sizes["1m"]
        for scenario, s in small["scenarios"].items():
            b = big["scenarios"].get(scenario)
            if not (s and b and cap.ci.quiet(s) and cap.ci.quiet(b)):
                continue
            if _following(s) != _following(b):  # e.g. the heavy reader: 840 authors at 10k
                continue
            busy_small = s["cpu_cores"]["machine_busy"] / s["requests_per_s"]
            predicted = b["cpu_cores"]["machine_busy"] / busy_small
            out.append(
                (
                    small_name,
                    big_name,
                    scenario,
                    s["requests_per_s"],
                    b["requests_per_s"],
                    predicted,
                )
            )
    return out


def section_validation(results: Results) -> str:
    rows = [
        [
            f"`{small}` -> `{big}`",
            scenario,
            cap.fmt(r10),
            cap.fmt(predicted),
            cap.fmt(r1m),
            f"{predicted / r1m:.2f}",
        ]
        for small, big, scenario, r10, r1m, predicted in size_pairs(results)
    ]
    worst = max((abs(r[5] / r[4] - 1) for r in size_pairs(results)), default=0.0)
    return (
        f"Largest error: **{worst * 100:.1f} %** (tests/test_capacity.py allows "
        f"{VALIDATION_TOLERANCE * 100:.0f} %).\n\n"
        + cap.table(
            [
                "runs (10k -> 1M)",
                "scenario",
                "req/s 10k",
                "predicted 1M",
                "measured 1M",
                "predicted / measured",
            ],
            rows,
        )
    )


VALIDATION_TOLERANCE = 0.15
SIZE_ORDER = {"10k": 1, "100k": 2, "1m": 3}


def storage_pairs(results: Results) -> list[tuple[str, str, str, int, float, float]]:
    """For each pair of table-size measurements at two sizes: each table's bytes at the larger
    size predicted from its bytes per row at the smaller (the model's row sizes), against the
    measured. Tables under 10,000 rows at the smaller size are left out: a few pages' rounding."""
    newest: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, doc in results.docs:
        if doc.get("kind") == "table-sizes" and doc.get("size") in SIZE_ORDER:
            newest.setdefault(doc["size"], (name, doc))
    sizes = sorted(newest, key=SIZE_ORDER.__getitem__)
    out = []
    for small_size, big_size in itertools.pairwise(sizes):
        (small_name, small), (big_name, big) = newest[small_size], newest[big_size]
        for table, s in small["tables"].items():
            b = big["tables"].get(table)
            if not b or s["rows"] < 10_000:
                continue
            predicted = b["rows"] * s["total_bytes"] / s["rows"]
            out.append((small_name, big_name, table, b["rows"], predicted, b["total_bytes"]))
    return out


def section_timeline_validation(inp: Inputs, results: Results) -> str:
    """Entries per timeline: the model takes them as measured at 1M for any number of users;
    checked against the same measurement at 10k (100 times fewer users, the same follows and
    articles per user)."""
    found = results.timeline_lengths()
    if "10k" not in found or "1m" not in found:
        return "Timelines: pending timelines_bytes.py runs at 10k and 1M."
    (small_name, small), (big_name, big) = found["10k"], found["1m"]
    small, big = small["800"], big["800"]
    ratio = small["mean"] / big["mean"]
    per_author = inp.v("scale_articles") / inp.v("scale_users")
    return (
        f"Timelines: entries per timeline (the first {big['timelines']} users' timelines built, "
        f"`FEED_TIMELINE_SIZE` 800): **{small['mean']:.1f}** at 10k (`{small_name}`) against "
        f"**{big['mean']:.1f}** at 1M (`{big_name}`): {ratio:.2f}x. "
        f"{big['over_128_share'] * 100:.0f} % of the 1M timelines hold more than 128 entries "
        f"(a skiplist in Redis). The seed draws the followed and the authors by the same "
        f"popularity, as real graphs are: follows x articles per author "
        f"({inp.v('followers_per_user') * per_author:.0f}) would have been "
        f"{big['mean'] / (inp.v('followers_per_user') * per_author):.1f}x too few."
    )


def section_storage_validation(results: Results) -> str:
    pairs = storage_pairs(results)
    if not pairs:
        return "Pending: table sizes measured at two sizes (`tools/bench/table_sizes.py`)."
    rows = [
        [
            f"`{small}` -> `{big}`",
            table,
            cap.fmt(n),
            cap.fmt(predicted / 1e6, 1),
            cap.fmt(measured / 1e6, 1),
            f"{predicted / measured:.2f}",
        ]
        for small, big, table, n, predicted, measured in pairs
    ]
    worst = max(abs(p[4] / p[5] - 1) for p in pairs)
    return (
        f"Storage: each table's size at the larger seed predicted from its bytes per row at "
        f"the smaller. Largest error: **{worst * 100:.1f} %**.\n\n"
        + cap.table(
            [
                "measurements",
                "table",
                "rows",
                "predicted MB",
                "measured MB",
                "predicted / measured",
            ],
            rows,
        )
    )


# --- more cores or more copies ------------------------------------------------------------------


def section_vertical(inp: Inputs, results: Results) -> str:
    found = results.named("-stack.json")
    parts = []
    if found is not None:
        name, doc = found
        apps = doc["apps"]
        counts = sorted(apps, key=int)
        rows = []
        for scenario in apps[counts[0]]:
            rps = [apps[c].get(scenario, {}).get("requests_per_s") or 0 for c in counts]
            ratios = [
                f"{rps[i] / rps[i - 1]:.2f}x" if rps[i - 1] else "-" for i in range(1, len(rps))
            ]
            rows.append([scenario, *(cap.fmt(r) for r in rps), *ratios])
        header = [
            "scenario",
            *(f"{c} app(s) req/s" for c in counts),
            *(f"{counts[i - 1]} -> {counts[i]}" for i in range(1, len(counts))),
        ]
        parts.append(
            f"Measured: `{name}` (`apps.<n>.<scenario>.requests_per_s`), one "
            f"{doc['machine']['nproc']}-core machine.\n\n" + cap.table(header, rows)
        )
    rows = []
    for kind in ("anon_list", "signed_list", "signed_article", "feed", "favorite", "publish"):
        for label in ("cached", "off"):
            keys = [f"cpu_{kind}_{label}_{c}" for c in COMPONENTS]
            if kind == "feed" and label == "off":
                keys = [f"cpu_feed_query_{c}" for c in COMPONENTS]
            if not all(k in inp.rows for k in keys):
                continue
            ms = [inp.v(k) for k in keys]
            total = sum(ms) or 1.0
            rows.append(
                [
                    kind,
                    label
                    if kind != "feed"
                    else ("timelines" if label == "cached" else "today's query"),
                    *(f"{m:.3f} ({m / total * 100:.0f} %)" for m in ms),
                ]
            )
    parts.append(
        "CPU per request by component (ms, share), from the inputs above:\n\n"
        + cap.table(["request", "cache", "app", "PostgreSQL", "Redis"], rows)
    )
    return "\n\n".join(parts)


# --- knees: make bench-capacity (ADR 0036) -------------------------------------------------------

# make bench-capacity's scenarios -> the model's CPU-per-request inputs for the app.
KNEE_INPUTS = {  # the cached global list is the edge's in the stack: no app CPU to compare
    "feed": "cpu_feed_query_app",  # the query: make bench-capacity ran before timelines
    "global_list_uncached": "cpu_anon_list_off_app",
    "signed_in_list": "cpu_signed_list_cached_app",
    "article": "cpu_anon_article_cached_app",
    "favorite": "cpu_favorite_cached_app",
    "publish": "cpu_publish_cached_app",
}


def capacity_runs(results: Results) -> dict[int, tuple[str, dict[str, Any]]]:
    """The newest `make bench-capacity` run for each number of app servers, all of one commit
    (the newest that has any)."""
    runs = [(n, d) for n, d in results.docs if d.get("kind") == "capacity" and d.get("apps")]
    if not runs:
        return {}
    commit = runs[0][1]["commit"]["id"]
    out: dict[int, tuple[str, dict[str, Any]]] = {}
    for name, doc in runs:
        if doc["commit"]["id"] == commit:
            out.setdefault(int(doc["apps"]), (name, doc))
    return dict(sorted(out.items()))


def knee_step(s: dict[str, Any]) -> dict[str, Any] | None:
    for step in s.get("steps") or []:
        if step.get("offered_rps") == s.get("knee_rps"):
            return dict(step)
    return None


def section_knees(inp: Inputs, results: Results) -> str:
    runs = capacity_runs(results)
    if not runs:
        return (
            "Pending: no `bench/results/<commit>-capacity-<n>apps.json` yet (`make "
            "bench-capacity`, ADR 0036). The model then shows each scenario's knee with 1, 2 "
            "and 4 app servers, the machine's busy share at the knee against the assumed "
            "`target_utilisation`, and one app server's knee against the model's `1,000 / "
            "app ms` from `make bench`'s CPU per request."
        )
    counts = list(runs)
    names = list(runs[counts[0]][1]["scenarios"])
    rows = []
    busy_shares: list[tuple[float, float]] = []
    for scenario in names:
        knees = []
        for n in counts:
            s = runs[n][1]["scenarios"].get(scenario) or {}
            knees.append(s.get("knee_rps"))
            step = knee_step(s)
            nproc = runs[n][1]["machine"]["nproc"]
            if step and step.get("cpu_cores"):
                cores = step["cpu_cores"]
                own = sum(v or 0 for k, v in cores.items() if k not in ("other", "generator"))
                busy_shares.append((own / nproc, sum(v or 0 for v in cores.values()) / nproc))
        one = runs[counts[0]][1]["scenarios"].get(scenario) or {}
        cpu = (one.get("cpu_ms_per_request") or {}).get("app")
        key = KNEE_INPUTS.get(scenario)
        model = 1000 / inp.v(key) if key and key in inp.rows and inp.v(key) else None
        rows.append(
            [
                scenario,
                *(cap.fmt(k) if k else "-" for k in knees),
                f"{cpu:.2f}" if cpu else "-",
                cap.fmt(model) if model else "-",
            ]
        )
    files = ", ".join(f"`{runs[n][0]}`" for n in counts)
    own = sorted(b[0] for b in busy_shares)
    whole = sorted(b[1] for b in busy_shares)
    note = (
        f"At the median knee the stack's own processes used {own[len(own) // 2] * 100:.0f} % "
        f"of the cores ({own[0] * 100:.0f}-{own[-1] * 100:.0f} %) and the whole machine, "
        f"the generator and other work included, {whole[len(whole) // 2] * 100:.0f} %; the "
        f"model sizes for {inp.v('target_utilisation') * 100:.0f} % "
        f"(`target_utilisation`)."
        if busy_shares
        else ""
    )
    return (
        f"Knees (the highest offered rate with p99 <= 100 ms and no errors, req/s) from {files} "
        f"(`scenarios.<name>.knee_rps`, `cpu_ms_per_request.app`); the last column is one app "
        f"process's ceiling by the model, 1,000 ms over `make bench`'s app CPU per request. "
        f"{note}\n\n"
        + cap.table(
            [
                "scenario",
                *(f"{n} app(s)" for n in counts),
                f"app ms/request at the {counts[0]}-app knee",
                "model: one process's ceiling",
            ],
            rows,
        )
    )
