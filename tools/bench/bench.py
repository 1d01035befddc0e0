"""The Python half of ``make bench`` (tools/bench/run.sh starts and stops the servers).

    bench.py seed-args SIZE                      # seed_bulk's arguments for 10k, 100k or 1m
    bench.py port PORT [--not PORT]              # PORT if free (0: a free one), else fail
    bench.py reusable --dir D --size S           # exit 0 if D holds a database seeded at S
    bench.py mark --dir D --size S               # record that D was seeded at S
    bench.py nginx-conf --dir D --port P         # a throw-away nginx serving D/www
    bench.py pgbouncer-conf --dir D --port P --pg-port Q   # a throw-away pgbouncer (transaction)
    bench.py run --size S --base URL --nginx URL ...   # the measurements, the JSON, the table

``run`` picks its inputs from the database through the ORM (the most popular tag, a typical
author, a heavy favoriter, a reader following ~10 authors, 1,000 random articles and users),
signs in through the API, captures ``GET /api/articles`` for the two references, then runs wrk
once per reference and scenario and writes ``bench/results/<commit>-<size>.json``.

Run it with the project's virtualenv (``run`` needs Django; the other commands only the stdlib).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LUA = Path(__file__).resolve().with_name("lua")
RESULTS = REPO / "bench" / "results"
MARKER = "bench-dataset.json"
WRITE_TITLE = "Bench write "  # every article the bench creates has a title starting so (lua)
RNG_SEED = 7  # the same random articles and users for every run on the same data

# BENCH_SIZE -> seed_bulk arguments (favorites and comments: seed_bulk's defaults, 5x and 2x).
SIZES: dict[str, tuple[int, int]] = {
    "10k": (1_000, 10_000),
    "100k": (10_000, 100_000),
    "1m": (100_000, 1_000_000),
}
REFERENCES = ("nginx_static", "bare_django")
CLK_TCK = os.sysconf("SC_CLK_TCK")

NOTES = [
    "Generator: one wrk thread (-t1), so it can use at most one of the cores it shares with the "
    "server; requests are built once in Lua init() where possible, and no response() callback "
    "is defined, so wrk never copies headers or bodies into Lua. Each run records the CPU "
    "seconds of wrk itself (getrusage of the child), of the app server's and PostgreSQL's "
    "process trees and of nginx (/proc/<pid>/stat), and the whole machine's busy time "
    "(/proc/stat): cpu_cores.other is what the rest of the machine used during the run. A "
    "scenario whose wrk + app + db cores add up to nproc was CPU-bound on the shared machine, "
    "not limited by the server alone.",
    "Errors: connect/read/write/timeout are wrk's socket errors; non_2xx is wrk's count of "
    "responses with a status above 399 (no 3xx is expected: APPEND_SLASH is off). Each scenario's "
    "first request is also sent once from Python before the run and must answer 2xx.",
    "Reads are anonymous except the feed; writes are signed in (Authorization: Token, from POST "
    "/api/users/login with the bulk password). favorite_unfavorite POSTs a favorite on each of "
    "1,000 articles, then DELETEs them, and around again: the POST and DELETE of one article are "
    "1,000 requests apart, so they never race and every answer should be a 200.",
    "Writes are undone after the run (the bench's favorites through the favorite service, its "
    "articles in bulk with every counter adjusted), so a kept database stays as seeded.",
    "References: nginx_static is nginx (1 worker, keepalive, access_log off) serving a captured "
    "copy of GET /api/articles; bare_django is /bench/bare on the same app server config "
    "returning the same bytes from memory behind the same middleware. ratio = scenario req/s / "
    "reference req/s.",
]


# --- small helpers ---------------------------------------------------------------------------


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def free_port(avoid: set[int]) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()


def commit_info() -> dict[str, Any]:
    """The commit measured. ``dirty`` means tracked files differ from it (untracked files, e.g.
    a colleague's work in progress, do not count, as with ``git describe --dirty``)."""
    changed = git("diff", "--name-only", "HEAD").splitlines()
    short = git("rev-parse", "--short", "HEAD")
    return {
        "id": short + ("-dirty" if changed else ""),
        "sha": git("rev-parse", "HEAD"),
        "subject": git("log", "-1", "--format=%s"),
        "dirty": bool(changed),
        "changed_files": changed,
    }


def machine_info() -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    meminfo = {
        k: v.strip()
        for k, v in (line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    }
    mem_kb = int(meminfo.get("MemTotal", "0 kB").split()[0])
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "loadavg_at_start": list(os.getloadavg()),
    }


def wrk_version() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (out.stdout + out.stderr).splitlines()[0].strip() if (out.stdout + out.stderr) else ""


def loopback_only(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"make bench sends traffic to loopback only, not to {host!r}")


def http(
    method: str, url: str, body: dict[str, Any] | None = None, token: str | None = None
) -> tuple[int, bytes]:
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - loopback URLs checked by loopback_only
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def wait_until_up(url: str, pid: int | None, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, _ = http("GET", url)
            if status < 500:
                return
        except OSError:
            pass
        if pid is not None and not pid_alive(pid):
            sys.exit(f"the server (pid {pid}) exited before answering {url}")
        if time.monotonic() > deadline:
            sys.exit(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(0.2)


# --- CPU accounting --------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def proc_stats(*, reaped_children: bool = False) -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds: utime + stime of all its threads, and with
    ``reaped_children`` also of its children that exited and were waited for: PostgreSQL's
    backends come and go with connections and their time ends up in the postmaster's)."""
    # fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    last = 15 if reaped_children else 13
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        stats[int(entry.name)] = (int(fields[1]), sum(map(int, fields[11:last])) / CLK_TCK)
    return stats


def tree_cpu(stats: dict[int, tuple[int, float]], root: int) -> float:
    """CPU seconds of ``root`` and every live descendant (processes that exited are lost)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, everything but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK


@dataclass
class CpuWatch:
    """Snapshots CPU time before and after a wrk run."""

    pids: dict[str, int | None]
    _before: dict[str, float] = field(default_factory=dict)
    _wall: float = 0.0

    def _snapshot(self) -> dict[str, float]:
        stats = proc_stats()
        snap = {name: tree_cpu(stats, pid) for name, pid in self.pids.items() if pid}
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        snap["wrk"] = usage.ru_utime + usage.ru_stime
        snap["machine_busy"] = machine_busy_seconds()
        return snap

    def start(self) -> None:
        self._before = self._snapshot()
        self._wall = time.monotonic()

    def stop(self) -> dict[str, float | None]:
        after = self._snapshot()
        wall = time.monotonic() - self._wall
        seconds = {k: max(0.0, after[k] - self._before[k]) for k in after}
        known = sum(v for k, v in seconds.items() if k != "machine_busy")
        seconds["other"] = max(0.0, seconds["machine_busy"] - known)
        cores: dict[str, float | None] = {k: round(v / wall, 3) for k, v in seconds.items()}
        for name, pid in self.pids.items():
            if not pid:
                cores[name] = None  # not ours to watch (BENCH_TARGET)
        cores["wall_s"] = round(wall, 3)
        return cores


# --- wrk output and the result document --------------------------------------------------------


def parse_wrk_output(text: str) -> dict[str, Any]:
    """The ``BENCH_RESULT {...}`` line printed by lua/report.lua's done()."""
    for line in text.splitlines():
        if line.startswith("BENCH_RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_RESULT "))
            return result
    raise ValueError("no BENCH_RESULT line in wrk's output:\n" + text[-2000:])


def scenario_entry(
    raw: dict[str, Any],
    references: dict[str, float | None],
    cpu: dict[str, float | None] | None = None,
    request: str = "",
) -> dict[str, Any]:
    """One scenario (or reference) in the result document, from a parsed wrk result."""
    errors = raw["errors"]
    socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    rps = float(raw["requests_per_s"])
    requests = int(raw["requests"])
    return {
        "request": request,
        "requests_per_s": round(rps, 1),
        "latency_ms": {k: raw["latency_ms"][k] for k in ("p50", "p95", "p99", "mean", "max")},
        "requests": requests,
        "duration_s": round(float(raw["duration_s"]), 3),
        "bytes_per_response": round(raw["bytes"] / requests) if requests else 0,
        "errors": socket_errors + errors["status"],
        "non_2xx": errors["status"],
        "socket_errors": {k: errors[k] for k in ("connect", "read", "write", "timeout")},
        "ratio": {name: (round(rps / ref, 4) if ref else None) for name, ref in references.items()},
        "cpu_cores": cpu,
    }


GENERATOR_BOUND_CORES = 0.8  # wrk -t1 cannot use more than one core


def generator_notes(entries: dict[str, dict[str, Any] | None]) -> list[str]:
    """A note for each run where wrk itself was close to its one core: that req/s is a floor
    set by the generator, not the server's ceiling."""
    notes = []
    for name, entry in entries.items():
        if entry is None:
            continue
        wrk = (entry.get("cpu_cores") or {}).get("wrk")
        if wrk is not None and wrk >= GENERATOR_BOUND_CORES:
            notes.append(
                f"{name}: wrk used {wrk:.2f} cores (its one thread can use at most 1): its "
                f"{entry['requests_per_s']:,.0f} req/s is what the generator could send, a floor "
                "for the server, and the ratios against it are upper bounds."
            )
    return notes


def build_result(
    *,
    commit: dict[str, Any],
    size: dict[str, Any],
    server: dict[str, Any],
    machine: dict[str, Any],
    generator: dict[str, Any],
    check_plans: dict[str, Any],
    references: dict[str, dict[str, Any] | None],
    scenarios: dict[str, dict[str, Any]],
    started_at: str,
    notes: list[str],
    **extra: Any,
) -> dict[str, Any]:
    """The document written to bench/results/<commit>-<size>.json (see bench/README.md)."""
    return {
        "commit": commit,
        "size": size,
        "server": server,
        "machine": machine,
        "generator": generator,
        "check_plans": check_plans,
        "references": references,
        "scenarios": scenarios,
        "started_at": started_at,
        "notes": notes,
        **extra,
    }


def _fmt(value: float | None, spec: str) -> str:
    return format("-", spec.split(".")[0]) if value is None else format(value, spec)


def table(result: dict[str, Any]) -> str:
    """The human-readable summary printed at the end of a run. CPU is in cores (CPU seconds per
    second of the run): "server" is the app server, or nginx for its reference row."""
    head = (
        f"{'':20} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'/nginx':>7} {'/bare':>6} | cores: {'wrk':>4} {'server':>6} {'db':>4} {'other':>5}"
    )
    lines = [head, "-" * len(head)]

    def row(name: str, entry: dict[str, Any] | None) -> str:
        if entry is None:
            return f"{name:20} {'not run':>8}"
        lat, ratio, cpu = entry["latency_ms"], entry["ratio"], entry.get("cpu_cores") or {}
        server = None if cpu.get("app") is None else cpu["app"] + (cpu.get("nginx") or 0.0)
        return (
            f"{name:20} {entry['requests_per_s']:>8,.0f} {lat['p50']:>8.2f} {lat['p95']:>8.2f} "
            f"{lat['p99']:>8.2f} {entry['errors']:>6} {_fmt(ratio.get('nginx_static'), '>7.3f')} "
            f"{_fmt(ratio.get('bare_django'), '>6.3f')} |        "
            f"{_fmt(cpu.get('wrk'), '>4.2f')} {_fmt(server, '>6.2f')} "
            f"{_fmt(cpu.get('db'), '>4.2f')} {_fmt(cpu.get('other'), '>5.2f')}"
        )

    lines += [row(name, result["references"].get(name)) for name in REFERENCES]
    lines.append("")
    lines += [row(name, entry) for name, entry in result["scenarios"].items()]
    return "\n".join(lines)


def plans_summary(check_plans: dict[str, Any]) -> str:
    if check_plans.get("passed") is None:
        return f"check_plans: not run ({check_plans.get('skipped')})"
    if check_plans["passed"]:
        return f"check_plans: passed ({check_plans['queries']} queries)"
    failing = "; ".join(f"{c['case']}: {', '.join(c['problems'])}" for c in check_plans["failing"])
    count = f"{len(check_plans['failing'])} of {check_plans['queries']} queries"
    return f"check_plans: FAILED, {count} ({failing})"


# --- PostgreSQL data directories (make bench's own; tools/postgres.py makes them) ------------


def reusable(data_dir: Path, size: str) -> bool:
    marker = data_dir / MARKER
    if not (marker.exists() and (data_dir / "data" / "PG_VERSION").exists()):
        return False
    return bool(json.loads(marker.read_text()).get("size") == size)


def nginx_conf(directory: Path, port: int) -> Path:
    """A throw-away nginx: one worker, keepalive, no access log, everything under ``directory``.
    It serves ``directory/www/api/articles`` (written by ``run``) as JSON."""
    (directory / "www" / "api").mkdir(parents=True, exist_ok=True)
    (directory / "tmp").mkdir(exist_ok=True)
    temp = "\n".join(
        f"    {kind}_temp_path {directory}/tmp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
pid {directory}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
{temp}
    types {{ }}
    default_type "application/json; charset=utf-8";
    server {{
        listen 127.0.0.1:{port};
        root {directory}/www;
    }}
}}
"""
    )
    return conf


def pgbouncer_conf(directory: Path, port: int, pg_port: int, pool_size: int) -> Path:
    """A throw-away pgbouncer in transaction mode in front of the bench's PostgreSQL (ADR 0017):
    ``pool_size`` server connections shared by every client connection of the app."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "userlist.txt").write_text('"postgres" ""\n')
    conf = directory / "pgbouncer.ini"
    conf.write_text(
        f"""[databases]
* = host=127.0.0.1 port={pg_port}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir = {directory}
logfile = {directory}/pgbouncer.log
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
"""
    )
    return conf


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Inputs:
    """What the scenarios ask for, picked from the database."""

    tag: str
    tag_articles: int
    author: str
    author_articles: int
    favoriter: str
    favoriter_favorites: int
    reader: str
    reader_following: int
    writer: str
    fav_actor: str
    detail_slugs: list[str]
    profile_usernames: list[str]
    favorite_slugs: list[str]


def _random_ids(rng: random.Random, low: int, high: int, k: int) -> list[int]:
    population = range(low, high + 1)
    return rng.sample(population, min(len(population), k))


def pick_inputs(count: int = 1_000) -> Inputs:
    from conduit.articles.models import Article, Favorite, Tag
    from conduit.users.models import User

    rng = random.Random(RNG_SEED)  # noqa: S311 - reproducible choices, not secrets
    # The two users who write are fixed by id, before anything is chosen by a counter: their
    # writes move counters (a run cut short leaves them moved), and the clean-up must find them.
    actors = list(User.objects.order_by("pk").values_list("pk", "username")[:2])
    if len(actors) < 2:
        sys.exit("need at least 5 users: seed the database with manage.py seed_bulk")
    (writer_pk, writer), (fav_actor_pk, fav_actor) = actors
    others = User.objects.exclude(pk__in=[writer_pk, fav_actor_pk])

    tag = Tag.objects.filter(articles_count__gt=0).order_by("-articles_count", "name").first()
    authors = others.filter(articles_count__gt=0).order_by("articles_count", "pk")
    n_authors = authors.count()
    favoriter = others.order_by("-favorites_count", "pk").first()
    reader = (
        others.filter(following_count__gte=10).order_by("following_count", "pk").first()
        or others.order_by("-following_count", "pk").first()
    )
    if tag is None or not n_authors or favoriter is None or reader is None:
        sys.exit("the database has no articles: seed it with manage.py seed_bulk")
    author = authors[n_authors // 2]  # the median author: typical, neither prolific nor rare

    bounds = Article.objects.order_by("pk").values_list("pk", flat=True)
    low, high = bounds.first() or 0, bounds.last() or 0

    def articles(k: int, exclude: set[int]) -> list[str]:
        ids = [i for i in _random_ids(rng, low, high, k * 2) if i not in exclude]
        slugs = dict(Article.objects.filter(pk__in=ids).values_list("pk", "slug"))
        return [slugs[i] for i in ids if i in slugs][:k]

    detail = articles(count, set())
    favorited = set(
        Favorite.objects.filter(user_id=fav_actor_pk).values_list("article_id", flat=True)
    )
    favorite = articles(count, favorited)
    user_bounds = User.objects.order_by("pk").values_list("pk", flat=True)
    user_ids = _random_ids(rng, user_bounds.first() or 0, user_bounds.last() or 0, count * 2)
    names = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "username"))
    profiles = [names[i] for i in user_ids if i in names][:count]
    return Inputs(
        tag=tag.name, tag_articles=tag.articles_count,
        author=author.username, author_articles=author.articles_count,
        favoriter=favoriter.username, favoriter_favorites=favoriter.favorites_count,
        reader=reader.username, reader_following=reader.following_count,
        writer=writer, fav_actor=fav_actor,
        detail_slugs=detail, profile_usernames=profiles, favorite_slugs=favorite,
    )  # fmt: skip


def dataset_counts() -> dict[str, int]:
    from conduit.articles.models import Article, Favorite, Tag
    from conduit.comments.models import Comment
    from conduit.profiles.models import Follow
    from conduit.users.models import User

    return {
        "users": User.objects.count(),
        "articles": Article.objects.count(),
        "favorites": Favorite.objects.count(),
        "comments": Comment.objects.count(),
        "follows": Follow.objects.count(),
        "tags": Tag.objects.count(),
    }


def undo_writes(writer: str, fav_actor: str) -> dict[str, Any]:
    """Remove what the bench wrote: ``fav_actor``'s favorites made after the bulk data's date
    (through the favorite service) and ``writer``'s "Bench write" articles (in bulk, with the
    same counter changes as the delete service), then check the counters they touch."""
    from django.db import transaction
    from django.db.models import Count, F

    from conduit.articles import services
    from conduit.articles.models import Article, ArticleTag, Favorite, SiteCounter, Tag
    from conduit.demo.bulk import START
    from conduit.users.models import User

    actor = User.objects.get(username=fav_actor)
    favorites = Favorite.objects.filter(user=actor, created_at__gt=START).select_related("article")
    removed = 0
    for favorite in favorites:
        services.favorite_remove(user=actor, article=favorite.article)
        removed += 1

    author = User.objects.get(username=writer)
    ids = list(
        Article.objects.filter(author=author, title__startswith=WRITE_TITLE).values_list(
            "pk", flat=True
        )
    )
    for start in range(0, len(ids), 1_000):
        chunk = ids[start : start + 1_000]
        with transaction.atomic():
            tags = (
                ArticleTag.objects.filter(article_id__in=chunk)
                .values("tag_id")
                .annotate(n=Count("id"))
            )
            for tag_row in tags.order_by("tag_id"):
                Tag.objects.filter(pk=tag_row["tag_id"]).update(
                    articles_count=F("articles_count") - tag_row["n"]
                )
            fans = (
                Favorite.objects.filter(article_id__in=chunk)
                .values("user_id")
                .annotate(n=Count("id"))
            )
            for row in fans.order_by("user_id"):
                User.objects.filter(pk=row["user_id"]).update(
                    favorites_count=F("favorites_count") - row["n"]
                )
            User.objects.filter(pk=author.pk).update(
                articles_count=F("articles_count") - len(chunk)
            )
            SiteCounter.objects.filter(name=SiteCounter.ARTICLES).update(
                value=F("value") - len(chunk)
            )
            Article.objects.filter(pk__in=chunk).delete()

    author.refresh_from_db()
    actor.refresh_from_db()
    site = (
        SiteCounter.objects.filter(name=SiteCounter.ARTICLES)
        .values_list("value", flat=True)
        .first()
    )
    drift = []
    if author.articles_count != Article.objects.filter(author=author).count():
        drift.append(f"{writer}.articles_count")
    if actor.favorites_count != Favorite.objects.filter(user=actor).count():
        drift.append(f"{fav_actor}.favorites_count")
    if site != Article.objects.count():
        drift.append("site articles counter")
    drift += [
        f"tag {tag.name}.articles_count"
        for tag in Tag.objects.filter(name__in=["bench", "django"])
        if tag.articles_count != ArticleTag.objects.filter(tag=tag).count()
    ]
    return {"favorites_removed": removed, "articles_deleted": len(ids), "counter_drift": drift}


def run_check_plans(run_dir: Path) -> dict[str, Any]:
    """``manage.py check_plans`` on the seeded data: its verdict is recorded, never fatal."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {"passed": None, "skipped": f"needs PostgreSQL, the database is {connection.vendor}"}
    out = run_dir / "check_plans.json"
    done = subprocess.run(
        [sys.executable, "manage.py", "check_plans", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    print(done.stdout + done.stderr, end="", flush=True)
    cases = json.loads(out.read_text()) if out.exists() else []
    failing = [
        {"case": c["case"], "problems": c["problems"], "ms": c["ms"], "sql": c["sql"][:300]}
        for c in cases
        if c["problems"]
    ]
    return {
        "passed": done.returncode == 0,
        "queries": len(cases),
        "failing": failing,
        "message": (done.stdout + done.stderr).strip().splitlines()[-1:],
    }


@dataclass
class Scenario:
    name: str
    script: str
    path: str  # the URL's path (what wrk's static requests ask for)
    args: list[str]
    request: str  # what it does, for the JSON
    check: tuple[str, str, str | None] | None  # a request to try first: method, path, token


def database_info() -> dict[str, Any]:
    from django.db import connection

    if connection.vendor != "postgresql":
        return {"vendor": connection.vendor}
    info: dict[str, Any] = {"vendor": "postgresql"}
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        info["version"] = cursor.fetchone()[0]
        for name in ("fsync", "synchronous_commit", "shared_buffers", "max_connections",
                     "random_page_cost"):  # fmt: skip
            cursor.execute(f"SHOW {name}")
            info[name] = cursor.fetchone()[0]
    return info


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_dir: Path = args.run_dir
        self.run_id = f"{os.getpid()}-{int(time.time())}"
        # The variants' servers are watched too (their CPU would otherwise count as "other").
        variant_pids = {"db_replica": args.replica_pid, "redis": args.redis_pid,
                        "pgbouncer": args.pgbouncer_pid}  # fmt: skip
        self.watch = CpuWatch(
            {"app": args.app_pid, "db": args.db_pid, "nginx": args.nginx_pid}
            | {name: pid for name, pid in variant_pids.items() if pid}
        )

    def wrk(
        self, url: str, script: str, args: list[str], duration: int
    ) -> tuple[dict[str, Any], dict[str, float | None]]:
        command = [
            "wrk", "-t1", f"-c{self.args.connections}", f"-d{duration}s", "--latency",
            "--timeout", f"{self.args.timeout}s", "-s", str(LUA / script), url, "--", *args,
        ]  # fmt: skip
        self.watch.start()
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=duration + 60, check=False
            )
        except subprocess.TimeoutExpired:
            sys.exit(f"wrk did not finish within {duration + 60:.0f} s: {' '.join(command)}")
        cpu = self.watch.stop()
        if done.returncode != 0:
            sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return parse_wrk_output(done.stdout), cpu

    def write_lines(self, name: str, lines: list[str]) -> str:
        path = self.run_dir / name
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    def login(self, base: str, username: str) -> str:
        email = f"{username}@bench.conduit.local"
        from conduit.demo.bulk import BULK_PASSWORD

        status, body = http(
            "POST", f"{base}/api/users/login", {"user": {"email": email, "password": BULK_PASSWORD}}
        )
        if status != 200:
            sys.exit(f"could not sign in as {email} ({status}): is the data from seed_bulk?")
        return str(json.loads(body)["user"]["token"])

    def scenarios(self, inputs: Inputs, tokens: dict[str, str]) -> list[Scenario]:
        q = urllib.parse.quote
        details = [f"/api/articles/{q(s)}" for s in inputs.detail_slugs]
        comments = [f"{d}/comments" for d in details]
        profiles = [f"/api/profiles/{q(u)}" for u in inputs.profile_usernames]
        reader, writer, actor = tokens["reader"], tokens["writer"], tokens["fav_actor"]
        return [
            Scenario("global_list", "static.lua", "/api/articles", [],
                     "GET /api/articles (anonymous)", ("GET", "/api/articles", None)),
            Scenario("by_tag", "static.lua", f"/api/articles?tag={q(inputs.tag)}", [],
                     f"GET /api/articles?tag= the most used tag ({inputs.tag}, "
                     f"{inputs.tag_articles} articles)", None),
            Scenario("by_author", "static.lua", f"/api/articles?author={q(inputs.author)}", [],
                     f"GET /api/articles?author= the median author ({inputs.author}, "
                     f"{inputs.author_articles} articles)", None),
            Scenario("favorited_by", "static.lua", f"/api/articles?favorited={q(inputs.favoriter)}",
                     [], f"GET /api/articles?favorited= the heaviest favoriter "
                     f"({inputs.favoriter}, {inputs.favoriter_favorites} favorites)", None),
            Scenario("signed_in_list", "static.lua", "/api/articles", [reader],
                     f"GET /api/articles signed in as {inputs.reader}",
                     ("GET", "/api/articles", reader)),
            Scenario("feed", "static.lua", "/api/articles/feed", [reader],
                     f"GET /api/articles/feed signed in as {inputs.reader} (follows "
                     f"{inputs.reader_following})", ("GET", "/api/articles/feed", reader)),
            Scenario("article_detail", "paths.lua", "/", [self.write_lines("detail.txt", details)],
                     f"GET /api/articles/<slug> over {len(details)} random articles",
                     ("GET", details[0], None)),
            Scenario("comments", "paths.lua", "/", [self.write_lines("comments.txt", comments)],
                     f"GET /api/articles/<slug>/comments over the same {len(details)} articles",
                     ("GET", comments[0], None)),
            Scenario("profile", "paths.lua", "/", [self.write_lines("profiles.txt", profiles)],
                     f"GET /api/profiles/<username> over {len(profiles)} random users",
                     ("GET", profiles[0], None)),
            Scenario("favorite_unfavorite", "favorite.lua", "/",
                     [self.write_lines("favorite.txt", inputs.favorite_slugs), actor],
                     f"POST then DELETE /api/articles/<slug>/favorite as {inputs.fav_actor} over "
                     f"{len(inputs.favorite_slugs)} articles", None),
            Scenario("create_article", "create.lua", "/", [writer, self.run_id],
                     f"POST /api/articles as {inputs.writer}, a unique title each", None),
            Scenario("mix_90_10", "mix.lua", "/", [self.write_lines("mix.txt", details), writer,
                     f"{self.run_id}m"], "9 in 10: anonymous GET /api/articles or an article "
                     "(alternately); 1 in 10: POST /api/articles as the writer", None),
        ]  # fmt: skip

    def selected(self, scenarios: list[Scenario]) -> list[Scenario]:
        """``--scenarios`` (BENCH_SCENARIOS): a subset, in the bench's order; all when empty."""
        wanted = [name for name in self.args.scenarios.split(",") if name]
        unknown = set(wanted) - {scenario.name for scenario in scenarios}
        if unknown:
            sys.exit(f"BENCH_SCENARIOS: unknown {sorted(unknown)}; known: "
                     f"{', '.join(scenario.name for scenario in scenarios)}")  # fmt: skip
        return [scenario for scenario in scenarios if not wanted or scenario.name in wanted]

    def redis_killed(self, base: str, ref_rps: dict[str, float | None]) -> dict[str, Any]:
        """The anonymous global list with Redis SIGKILLed a third into the run: the cache turns
        into misses (conduit/platform/cache.py) and every request must still answer 200."""
        pid = self.args.redis_pid
        if pid is None or not pid_alive(pid):
            sys.exit("BENCH_REDIS_KILL=1: no running redis-server to kill")
        delay = self.args.duration / 3
        timer = threading.Timer(delay, os.kill, (pid, signal.SIGKILL))
        timer.start()
        try:
            raw, cpu = self.wrk(base + "/api/articles", "static.lua", [], self.args.duration)
        finally:
            timer.cancel()
        time.sleep(0.2)
        if pid_alive(pid):
            sys.exit(f"redis-server (pid {pid}) was not killed during the run")
        entry = scenario_entry(raw, ref_rps, cpu, "GET /api/articles (anonymous), Redis "
                               f"SIGKILLed {delay:.1f} s into the run")  # fmt: skip
        entry["redis_killed_after_s"] = round(delay, 1)
        return entry

    def variant(self) -> dict[str, Any]:
        args = self.args
        return {
            "cache": args.cache,
            "replica": bool(args.replica),
            "db": args.db,
            "redis_killed": bool(args.redis_kill),
            "broker": args.broker,
        }

    def main(self) -> None:
        import django

        sys.path.insert(0, str(REPO))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        from django.conf import settings
        from django.db import connection

        from conduit.platform.http.bench import bare_body_path

        args = self.args
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        base, nginx = args.base.rstrip("/"), args.nginx.rstrip("/")
        loopback_only(base)
        loopback_only(nginx)
        print(f"\n=== make bench: size {args.size}, {args.duration} s per scenario, "
              f"{args.connections} connections", flush=True)  # fmt: skip

        inputs = pick_inputs()
        leftovers = undo_writes(inputs.writer, inputs.fav_actor)
        if leftovers["favorites_removed"] or leftovers["articles_deleted"]:
            print(f"undid an interrupted run's writes: {leftovers}", flush=True)
            inputs = pick_inputs()  # from the data as seeded
        check_plans = run_check_plans(self.run_dir)
        size = {"name": args.size, **dataset_counts(), "reused": bool(args.reused)}
        marker = Path(args.pg_dir or "/nonexistent") / MARKER
        if marker.exists():
            size["seeded"] = json.loads(marker.read_text())
        db = database_info()
        connection.close()  # idle during the load: it would only hold a server slot

        wait_until_up(f"{base}/api/tags", args.app_pid)
        wait_until_up(f"{nginx}/", args.nginx_pid)
        tokens = {
            "reader": self.login(base, inputs.reader),
            "writer": self.login(base, inputs.writer),
            "fav_actor": self.login(base, inputs.fav_actor),
        }

        # The references serve a captured copy of the list response.
        status, captured = http("GET", f"{base}/api/articles")
        if status != 200:
            sys.exit(f"GET /api/articles answered {status}")
        Path(args.www, "api", "articles").write_bytes(captured)
        bare_file = bare_body_path()
        bare_file.parent.mkdir(parents=True, exist_ok=True)
        bare_file.write_bytes(captured)
        print(f"captured GET /api/articles: {len(captured):,} bytes, "
              f"{len(json.loads(captured)['articles'])} articles", flush=True)  # fmt: skip

        scenarios = self.selected(self.scenarios(inputs, tokens))
        for scenario in scenarios:
            if scenario.check:
                method, path, token = scenario.check
                status, _ = http(method, base + path, token=token)
                if not 200 <= status < 300:
                    sys.exit(f"{scenario.name}: {method} {path} answered {status} before the run")

        print(f"warming up ({args.warmup} s) ...", flush=True)
        # Every worker process imports, connects and fills its caches before anything counts.
        warm = ["/api/articles", "/bench/bare", "/api/tags"]
        for detail, profile in zip(
            self._lines("detail.txt"), self._lines("profiles.txt"), strict=False
        ):
            warm += [detail, f"{detail}/comments", profile]
        warm_file = self.write_lines("warmup.txt", warm)
        self.wrk(base + "/", "paths.lua", [warm_file], args.warmup)

        references: dict[str, dict[str, Any] | None] = {}
        ref_rps: dict[str, float | None] = {}
        for name, url in (
            ("nginx_static", f"{nginx}/api/articles"),
            ("bare_django", f"{base}/bench/bare"),
        ):
            if not args.references:  # BENCH_REFERENCES=0 (make bench-ratio's rounds)
                references[name], ref_rps[name] = None, None
                continue
            status, body = http("GET", url)
            if status != 200 or len(body) != len(captured):
                print(f"{name}: {url} answered {status} with {len(body)} bytes: not measured")
                references[name], ref_rps[name] = None, None
                continue
            print(f"reference {name} ({args.duration} s) ...", end=" ", flush=True)
            raw, cpu = self.wrk(url, "static.lua", [], args.duration)
            print(f"{raw['requests_per_s']:,.0f} req/s", flush=True)
            references[name] = scenario_entry(
                raw, {}, cpu, f"GET {urllib.parse.urlsplit(url).path}"
            )
            ref_rps[name] = raw["requests_per_s"]
        for entry in references.values():
            if entry is not None:
                entry["ratio"] = {
                    n: (round(entry["requests_per_s"] / r, 4) if r else None)
                    for n, r in ref_rps.items()
                }

        results: dict[str, dict[str, Any]] = {}
        for number, scenario in enumerate(scenarios, start=1):
            print(
                f"scenario {number}/{len(scenarios)} {scenario.name} ({args.duration} s) ...",
                end=" ",
                flush=True,
            )
            raw, cpu = self.wrk(base + scenario.path, scenario.script, scenario.args, args.duration)
            results[scenario.name] = scenario_entry(raw, ref_rps, cpu, scenario.request)
            print(f"{raw['requests_per_s']:,.0f} req/s", flush=True)
        if args.redis_kill:
            print("scenario global_list_redis_killed ...", flush=True)
            results["global_list_redis_killed"] = self.redis_killed(base, ref_rps)

        print("undoing the bench's writes ...", flush=True)
        undone = undo_writes(inputs.writer, inputs.fav_actor)
        connection.close()

        result = build_result(
            commit=commit_info(),
            size=size,
            server={
                "target": args.target,
                "granian": _version("granian"),
                "django": _version("django"),
                "interface": "wsgi",
                "workers": args.workers,
                "threads": args.threads,
                "conn_max_age": os.environ.get("CONN_MAX_AGE", "60 (default)"),
                "database_pool": args.db == "pool",
                "pgbouncer": args.db == "pgbouncer",
                "cache_url_scheme": os.environ.get("CACHE_URL", "").split(":", 1)[0] or "locmem",
                "command": args.server_cmd,
                "database": {**db, "reused_data_dir": bool(args.reused), "data_dir": args.pg_dir},
                "debug": bool(settings.DEBUG),
            },
            machine=machine_info(),
            generator={
                "wrk": wrk_version(),
                "threads": 1,
                "connections": args.connections,
                "duration_s": args.duration,
                "warmup_s": args.warmup,
                "timeout_s": args.timeout,
            },
            check_plans=check_plans,
            references=references,
            scenarios=results,
            started_at=started_at,
            notes=[
                *NOTES,
                *generator_notes({**references, **results}),
                *([args.note] if args.note else []),
            ],
            inputs={
                "tag": inputs.tag, "author": inputs.author, "favoriter": inputs.favoriter,
                "reader": inputs.reader, "writer": inputs.writer, "fav_actor": inputs.fav_actor,
                "random_seed": RNG_SEED, "captured_list_bytes": len(captured),
            },
            cleanup={"before": leftovers, "after": undone},
            variant=self.variant(),
        )  # fmt: skip
        RESULTS.mkdir(parents=True, exist_ok=True)
        suffix = "-target" if args.target else variant_suffix(self.variant())
        out = args.out or RESULTS / f"{result['commit']['id']}-{args.size}{suffix}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print()
        print(table(result))
        print()
        print(plans_summary(check_plans))
        for note in generator_notes({**references, **results}):
            print(f"note: {note}")
        if undone["counter_drift"]:
            print(f"counter drift after undoing the writes: {undone['counter_drift']}")
        print(f"wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
        if args.pg_dir:
            print(f"the database stays in {args.pg_dir} (stopped): BENCH_KEEP_DB=1 reuses it")

    def _lines(self, name: str) -> list[str]:
        return (self.run_dir / name).read_text().split()


def variant_suffix(variant: dict[str, Any]) -> str:
    """The result file's name after ``<commit>-<size>``: empty for the default variant."""
    parts = []
    if variant["cache"] != "locmem":
        parts.append(f"cache-{variant['cache']}")
    if variant["replica"]:
        parts.append("replica")
    if variant["db"] != "persistent":
        parts.append(variant["db"])
    if variant["redis_killed"]:
        parts.append("redis-killed")
    if variant.get("broker", "redis") != "redis":
        parts.append(f"tasks-{variant['broker']}")
    return "".join(f"-{part}" for part in parts)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def main(argv: list[str] | None = None) -> None:
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
    p.add_argument("--references", type=int, default=1, help="0: skip them (BENCH_REFERENCES)")
    p.add_argument("--out", type=Path, help="the result file (BENCH_OUT; default bench/results/)")
    p.add_argument("--cache", choices=("locmem", "off", "redis"), default="locmem")
    p.add_argument("--db", choices=("persistent", "pool", "pgbouncer"), default="persistent")
    p.add_argument("--replica", type=int, default=0)
    p.add_argument("--redis-kill", type=int, default=0)
    p.add_argument("--broker", choices=("redis", "inline"), default="redis")
    p.add_argument("--redis-pid", type=int)
    p.add_argument("--replica-pid", type=int)
    p.add_argument("--pgbouncer-pid", type=int)
    p = sub.add_parser("pgbouncer-conf")
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pg-port", type=int, required=True)
    p.add_argument("--pool-size", type=int, default=20)
    args = parser.parse_args(argv)

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
        users, articles = SIZES[args.size]
        marker = {"size": args.size, "users": users, "articles": articles,
                  "seeded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                  "commit": git("rev-parse", "--short", "HEAD")}  # fmt: skip
        (args.dir / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    elif args.command == "nginx-conf":
        print(nginx_conf(args.dir.resolve(), args.port))
    elif args.command == "pgbouncer-conf":
        print(pgbouncer_conf(args.dir.resolve(), args.port, args.pg_port, args.pool_size))
    else:
        Bench(args).main()


if __name__ == "__main__":
    main()
