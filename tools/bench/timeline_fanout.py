"""``make bench-timelines``: the home timelines' fan-out (issue 18, ADR 0034) through the real HTTP
API, a real Redis broker and real Celery workers: timeline inserts per second, and the lag from
a publish until each follower's timeline (so their feed) shows the article.

On PostgreSQL 15 (durable settings, ``/tmp/conduit-bench-pg-timelines``, new each run), a Redis
broker with the stack's append-only file, the app on granian as ``make bench`` starts it, and
``BENCH_FANOUT_WORKERS`` Celery workers on the ``default`` queue only (the timelines' tasks; the
notification emails each publish also queues, on ``email``, are left unsent: ``make
bench-fanout`` measures those). The timelines live where ``TIMELINE_URL`` says (the database
store when unset). An author with 10,000 followers and one with 10 (``BENCH_TL_FOLLOWERS``);
every follower's timeline is built (empty) first, as a reader's would be.

Each author publishes ``BENCH_TL_PUBLISHES`` times, one at a time: ``POST /api/articles``, then
this process polls the store every ``BENCH_TL_POLL_MS`` ms for which followers hold the new id,
until all do. A follower's lag is the time its entry was first seen minus the time the POST's
answer arrived (the commit is before it: the lag is understated by the answer's own time, ~1 ms).
Then one follower's ``GET /api/articles/feed`` must show the article first.

Writes ``bench/results/<commit>-timelines-fanout.json``. Everything started here is stopped by
PID at the end, Ctrl-C included. Traffic stays on 127.0.0.1; the run is bounded by
``BENCH_TIMEOUT`` seconds per publish.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchkit, also when loaded by path
from benchkit import REPO, RESULTS
from benchkit.cpu import cpu_cores, cpu_snapshot
from benchkit.facts import commit_info, machine_info
from benchkit.fanout_stack import VENV_BIN, Stack, env_int, start, step
from benchkit.latency import summary
from benchkit.net import http
from benchkit.servers import Processes, celery_worker_command

PG_DIR = Path("/tmp/conduit-bench-pg-timelines")


def add_small_author(stack: Stack, followers: int) -> Any:
    """``stack``'s author without followers gets the first ``followers`` fans of the other."""
    from django.db.models import F

    from conduit.profiles.models import Follow
    from conduit.users.models import User

    lonely = User.objects.get(username="lonely-author")
    fans = list(User.objects.filter(username__startswith="fan").order_by("pk")[:followers])
    Follow.objects.bulk_create([Follow(follower=fan, followee=lonely) for fan in fans])
    User.objects.filter(pk=lonely.pk).update(followers_count=followers)
    User.objects.filter(pk__in=[f.pk for f in fans]).update(
        following_count=F("following_count") + 1
    )
    return lonely


def build_empty_timelines(user_ids: list[int]) -> str:
    """Every follower's timeline built and empty (as after their first feed read)."""
    from conduit.timelines.models import Entry
    from conduit.timelines.stores import timeline_store
    from conduit.timelines.stores.database import DatabaseStore

    store = timeline_store()
    if isinstance(store, DatabaseStore):
        Entry.objects.bulk_create(
            [Entry(user_id=u, article_id=Entry.BUILT) for u in user_ids], batch_size=5000
        )
    else:
        for user_id in user_ids:
            store.replace(user_id, [])
    return type(store).__name__


class Visibility:
    """Which followers' timelines hold an article, read straight from the store."""

    def __init__(self) -> None:
        from conduit.timelines.stores import timeline_store
        from conduit.timelines.stores.database import DatabaseStore

        self.store = timeline_store()
        self.database = isinstance(self.store, DatabaseStore)

    def holding(self, article_id: int, pending: list[int]) -> set[int]:
        if self.database:
            from django.db import connection

            with connection.cursor() as cur:
                cur.execute(
                    "SELECT user_id FROM timelines_entry WHERE article_id = %s", [article_id]
                )
                return {row[0] for row in cur.fetchall()} & set(pending)
        from conduit.timelines.stores.redis_cluster import timeline_key

        pipe = self.store.client.pipeline()  # type: ignore[attr-defined]
        for user_id in pending:
            pipe.zscore(timeline_key(user_id), article_id)
        scores = pipe.execute()
        return {u for u, score in zip(pending, scores, strict=True) if score is not None}


def publish(base: str, token: str, title: str) -> tuple[str, float, float]:
    """POST /api/articles: the slug, and perf_counter before the request and at its answer."""
    before = time.perf_counter()
    body = {"article": {"title": title, "description": "Timeline bench", "body": "Hello."}}
    status, answer = http("POST", f"{base}/api/articles", body, token=token)
    answered = time.perf_counter()
    if status != 201:
        raise SystemExit(f"POST /api/articles answered {status}: {answer[:300]!r}")
    return json.loads(answer)["article"]["slug"], before, answered


def one_publish(
    stack: Stack, seen: Visibility, author: Any, token: str, followers: list[int], n: int,
    *, poll: float, timeout: float,
) -> dict[str, Any]:  # fmt: skip
    from conduit.articles.models import Article

    slug, before, answered = publish(stack.base, token, f"{author.username} {n} {time.time()}")
    article_id = Article.objects.values_list("pk", flat=True).get(slug=slug)
    first_seen: dict[int, float] = {}
    pending = list(followers)
    deadline = time.perf_counter() + timeout
    while pending and time.perf_counter() < deadline:
        found = seen.holding(article_id, pending)
        now = time.perf_counter()
        for user_id in found:
            first_seen[user_id] = now
        pending = [u for u in pending if u not in first_seen]
        if pending:
            time.sleep(poll)
    if pending:
        raise SystemExit(f"{len(pending)} of {len(followers)} timelines lack article "
                         f"{article_id} after {timeout:.0f} s")  # fmt: skip
    lags = [(t - answered) * 1000 for t in first_seen.values()]
    last = max(first_seen.values())
    return {
        "article_id": article_id,
        "request_ms": round((answered - before) * 1000, 2),
        "lags_ms": lags,
        "all_visible_after_ms": round((last - answered) * 1000, 2),
        "inserts_per_s": round(len(followers) / max(last - answered, 1e-6), 1),
    }


def phase(stack: Stack, seen: Visibility, author: Any, publishes: int, **kw: Any) -> dict[str, Any]:
    from conduit.api.authentication import token_for
    from conduit.articles.models import Article
    from conduit.profiles.models import Follow
    from conduit.timelines.stores import timeline_store
    from conduit.users.models import User

    followers = list(Follow.objects.filter(followee=author).values_list("follower_id", flat=True))
    step(f"{author.username}: {publishes} publishes to {len(followers):,} followers each")
    token = token_for(author)
    runs = []
    for n in range(publishes):
        runs.append(one_publish(stack, seen, author, token, followers, n, **kw))
        print(f"  {n + 1}/{publishes}: all {len(followers):,} visible after "
              f"{runs[-1]['all_visible_after_ms']:.0f} ms", flush=True)  # fmt: skip
        time.sleep(0.2)
    # The feed itself: one follower's first article is the last one published.
    follower = User.objects.get(pk=followers[-1])
    status, body = http("GET", f"{stack.base}/api/articles/feed?limit=1", token=token_for(follower))
    first = json.loads(body)["articles"][0]["slug"] if status == 200 else None
    last_slug = Article.objects.values_list("slug", flat=True).get(pk=runs[-1]["article_id"])
    lags = [lag for run in runs for lag in run["lags_ms"]]
    rates = sorted(run["inserts_per_s"] for run in runs)
    window = timeline_store().window(followers[-1], 5)
    return {
        "followers": len(followers),
        "publishes": publishes,
        "lag_ms": {k: v for k, v in summary(lags).items() if k != "samples"},
        "all_visible_after_ms": summary([run["all_visible_after_ms"] for run in runs]),
        "publish_request_ms": summary([run["request_ms"] for run in runs]),
        "inserts_per_s": {"median": rates[len(rates) // 2], "min": rates[0], "max": rates[-1]},
        "inserts_per_publish": len(followers),
        "store_writes_per_publish": math.ceil(len(followers) / _chunk()),
        "feed_shows_it_first": first == last_slug,
        "timeline_head": window,
    }


def _chunk() -> int:
    from django.conf import settings

    return int(settings.FEED_FANOUT_CHUNK)


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sizes = [int(n) for n in os.environ.get("BENCH_TL_FOLLOWERS", "10,10000").split(",")]
    publishes = env_int("BENCH_TL_PUBLISHES", 10)
    workers, concurrency = (
        env_int("BENCH_FANOUT_WORKERS", 2),
        env_int("BENCH_FANOUT_CONCURRENCY", 2),
    )
    poll = env_int("BENCH_TL_POLL_MS", 10) / 1000
    timeout = env_int("BENCH_TIMEOUT", 120)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    commit, machine = commit_info(), machine_info()
    run_dir = Path(subprocess.check_output(
        ["mktemp", "-d", "/tmp/conduit-bench-timelines.XXXXXX"], text=True).strip())  # fmt: skip
    procs = Processes(run_dir)
    pg_started = ok = False
    try:
        step(f"PostgreSQL 15 in {PG_DIR}, new (durable settings)")
        url = subprocess.check_output(
            ["python3", "tools/postgres.py", "start", "--dir", str(PG_DIR), "--fresh"],
            cwd=REPO, text=True,
        ).strip()  # fmt: skip
        pg_started = True
        big, small = max(sizes), min(sizes)
        stack = start(procs, run_dir, url, followers=big, web_workers=2, web_threads=4)
        from conduit.users.models import User

        small_author = add_small_author(stack, small)
        fans = list(User.objects.filter(username__startswith="fan").values_list("pk", flat=True))
        store_name = build_empty_timelines(fans)
        step(f"{workers} Celery workers x {concurrency} processes (queue default)")
        started = []
        for n in range(workers):
            argv = celery_worker_command(VENV_BIN, f"bench-timelines-{n + 1}", concurrency)
            argv[argv.index("email,default")] = "default"
            started.append(procs.start(f"celery-worker-{n + 1}", argv, stack.env))
        for worker in started:
            procs.wait_for(worker, worker.logged(b" ready."))
        seen = Visibility()
        groups = {"celery_workers": [w.process.pid for w in started],
                  "app_server": [stack.app.process.pid],
                  "postgres": [int((PG_DIR / "server.pid").read_text().split()[0])],
                  "redis_broker": [stack.redis.process.pid]}  # fmt: skip
        results = {}
        for author in (small_author, stack.popular):
            cpu_before, t0 = cpu_snapshot(groups), time.perf_counter()
            entry = phase(stack, seen, author, publishes, poll=poll, timeout=timeout)
            entry["cpu_cores"] = cpu_cores(
                cpu_before, cpu_snapshot(groups), time.perf_counter() - t0
            )
            results[str(entry["followers"])] = entry
        ok = all(entry["feed_shows_it_first"] for entry in results.values())
        stack.controller.stop()
        from django.conf import settings

        result = {
            "commit": commit, "started_at": started_at, "ok": ok, "store": store_name,
            "timeline_url_scheme": (settings.TIMELINE_URL or "database").split(":", 1)[0],
            "by_followers": results,
            "config": {"celery_workers": workers, "celery_concurrency": concurrency,
                       "queues": "default (the timelines' tasks)", "poll_ms": poll * 1000,
                       "fanout_chunk": _chunk(), "timeline_size": settings.FEED_TIMELINE_SIZE,
                       "app_server": " ".join(stack.app_command[1:]),
                       "database": "PostgreSQL 15, durable (fsync, synchronous_commit on)"},
            "machine": machine,
            "notes": [__doc__.split("\n\n")[2].replace("\n", " ") if __doc__ else ""],
        }  # fmt: skip
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"{commit['id']}-timelines-fanout.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        step("result")
        for count, entry in results.items():
            print(f"{count:>6} followers: lag p50 {entry['lag_ms']['p50']} ms, p99 "
                  f"{entry['lag_ms']['p99']} ms; {entry['inserts_per_s']['median']:,.0f} "
                  f"inserts/s; feed shows it first: {entry['feed_shows_it_first']}")  # fmt: skip
        print(f"wrote {out.relative_to(REPO)}")
        return 0 if ok else 1
    finally:
        procs.stop_all()
        if pg_started:
            stop = ["python3", "tools/postgres.py", "stop", "--dir", str(PG_DIR)]
            subprocess.run(stop, cwd=REPO, check=False)
        if ok:
            subprocess.run(["rm", "-rf", str(run_dir)], check=False)
        else:
            print(f"logs are in {run_dir}", flush=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
