"""The capacity model's inputs (tools/capacity.py, ADR 0041): one table of rows, each a measured
figure named by its results file and key, or a stated assumption.

A measured per-request CPU figure is `cpu_cores.<component> / requests_per_s` of one scenario of a
`make bench` run, taken from the newest run (by `started_at`) of the right variant that has the
scenario with the app's CPU recorded: `redis` runs for the cached figures (`BENCH_CACHE=redis`),
`off` runs (and runs from before the cache existed) for the uncached ones, `locmem` runs on one
worker for the embedded default. Stack and edge runs (`BENCH_TARGET`) do not record per-process
CPU; they give req/s only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEPLOY = ROOT / "deploy" / "k8s" / "overlays" / "production"

# Request types of the traffic mix: (scenario when cached / on Redis, scenario uncached).
REQUEST_TYPES: dict[str, tuple[str, str]] = {
    "anon_list": ("global_list", "global_list"),
    "anon_article": ("article_detail", "article_detail"),
    "anon_page": ("home_page", "home_page"),
    "signed_list": ("signed_in_list", "signed_in_list"),
    "signed_article": ("article_detail", "article_detail"),
    "profile": ("profile_signed_in", "profile"),
    "feed": ("feed", "feed"),  # Inputs.measure_requests tells a warm timeline from the query
    "favorite": ("favorite_unfavorite", "favorite_unfavorite"),
    "follow": ("follow_unfollow", "follow_unfollow"),
    "comment": ("comment", "comment"),
    "publish": ("create_article", "create_article"),
    "update_user": ("update_user", "update_user"),
    "register": ("register", "register"),
}
# The model's row sizes by table (tools/bench/table_sizes.py measures them).
TABLE_ROWS = {
    "bytes_user": "users_user",
    "bytes_article": "articles_article",
    "bytes_favorite": "articles_favorite",
    "bytes_comment": "comments_comment",
    "bytes_follow": "profiles_follow",
    "bytes_article_tag": "articles_articletag",
    "bytes_timeline_entry_pg": "timelines_entry",
}
ANONYMOUS = frozenset({"anon_list", "anon_article", "anon_page"})
READS = ANONYMOUS | {"signed_list", "signed_article", "profile", "feed"}
CACHEABLE = frozenset({"anon_list", "anon_article", "signed_list", "signed_article", "profile"})
COMPONENTS = ("app", "db", "redis")

# (key, value, unit, why). Every number the model uses that no results file holds.
ASSUMPTIONS: list[tuple[str, float | list[float], str, str]] = [
    ("mix_anon_list", 0.20, "share", "anonymous API lists (reads:writes 95:5 overall)"),
    ("mix_anon_article", 0.18, "share", "anonymous article reads (API)"),
    ("mix_anon_page", 0.12, "share", "anonymous pages (home, article): anonymous share 50 %"),
    ("mix_signed_list", 0.10, "share", "signed-in lists"),
    ("mix_signed_article", 0.12, "share", "signed-in article reads (costed as the anonymous read)"),
    ("mix_profile", 0.08, "share", "signed-in profile reads"),
    ("mix_feed", 0.15, "share", "the personal feed: a third of signed-in reads"),
    ("mix_favorite", 0.020, "share", "favorite or unfavorite"),
    ("mix_follow", 0.006, "share", "follow or unfollow"),
    ("mix_comment", 0.010, "share", "comment"),
    ("mix_publish", 0.004, "share", "publish an article (a fan-out to the author's followers)"),
    ("mix_update_user", 0.005, "share", "profile change"),
    ("mix_register", 0.005, "share", "registration (an Argon2 hash)"),
    ("peak_to_average", 3.0, "x", "the busiest hour's rate over the day's average"),
    (
        "target_utilisation",
        0.6,
        "share",
        "CPU a machine may reach at the peak (headroom for a "
        "lost node and for latency: the stack's p99 grows past ~60-70 % busy)",
    ),
    (
        "cache_hit_ratio",
        0.9,
        "share",
        "cacheable reads served warm (cards, pages, flags); the "
        "rest cost the uncached figure. No production hit ratio exists to measure",
    ),
    (
        "anonymous_hot_share",
        0.6,
        "share",
        "anonymous reads that go to a few hot URLs (front "
        "pages, popular tags and articles); the rest are a long tail the edge never hits",
    ),
    ("anonymous_hot_keys", 50, "keys", "how many hot URLs share them"),
    ("edge_ttl_s", 1.0, "s", "the edge micro-cache's lifetime (`max-age=1`, ADR 0028)"),
    (
        "email_share_of_followers",
        1.0,
        "share",
        "followers who get the new-article email (the "
        "product's default: every follower until they unsubscribe)",
    ),
    (
        "redis_round_trips_per_request",
        1.5,
        "round trips",
        "a warm read is 1 (ADR 0016), a write 3 (docs/performance.md, 'Each write'): mostly reads",
    ),
    (
        "stack_fixed_cores",
        0.5,
        "cores",
        "make stack's idle processes (Prometheus, Celery beat, etcd, HAProxy) on the one machine",
    ),
    ("k8s_other_cpu_requests", 0.55, "cores", "events (0.25), beat (0.05), ingress (0.25)"),
    ("k8s_allocatable_share", 0.85, "share", "of a node's vCPUs left to pods (kubelet, daemons)"),
    ("db_disk_gb", 100, "GB", "gp3 volume per PostgreSQL node for the cost table"),
    ("cost_levels_per_day", [1e6, 10e6, 100e6], "requests/day", "issue 20's three levels"),
    ("savings_extra_levels_per_day", [1e9], "requests/day", "one level past them"),
    ("scale_users", 10e6, "users", "issue 18's target"),
    ("scale_articles", 100e6, "articles", "issue 18's target"),
    ("scale_favorites", 1e9, "favorites", "issue 18's target"),
    ("comments_per_article", 2, "comments", "as seed_bulk makes them (bench/README.md)"),
    ("tags_per_article", 3, "tags", "seed_bulk's 1-5 (3,000,530 links for 1M articles)"),
    ("daily_active_share", 0.2, "share", "users active on a given day"),
    ("requests_per_active_user", 50, "requests/day", "API calls and pages of an active user"),
    ("timeline_size", 800, "entries", "FEED_TIMELINE_SIZE (issue 18's bound)"),
    (
        "streams_share_of_daily_active",
        0.05,
        "share",
        "daily active users holding a live-update stream open at the peak (ADR 0030)",
    ),
    ("redis_key_overhead_bytes", 80, "bytes", "a key's dict entry, name and object header"),
    (
        "redis_shard_usable_gib",
        8,
        "GiB",
        "data per shard on an r6i.large (16 GiB): the rest "
        "for the fork of a snapshot, fragmentation and replication buffers",
    ),
    ("bytes_user", 600, "bytes/row", "user and profile rows with their indexes"),
    ("bytes_article", 2500, "bytes/row", "an article with its body (TOAST) and indexes"),
    ("bytes_favorite", 80, "bytes/row", "two ids, a timestamp, the primary key and one index"),
    ("bytes_comment", 500, "bytes/row", "a comment with its indexes"),
    ("bytes_follow", 80, "bytes/row", "as a favorite"),
    ("bytes_article_tag", 60, "bytes/row", "a link row and its index"),
    (
        "bytes_timeline_entry_pg",
        80,
        "bytes/row",
        "the PostgreSQL store's (user_id, article_id) row (~44 B with its header) and its "
        "primary key",
    ),
    (
        "article_extra_bytes",
        1500,
        "bytes/row",
        "a real article's body over the seed's (~3 KB of text, TOAST-compressed about 2x, "
        "against seed_bulk's ~250 characters)",
    ),
    ("comment_extra_bytes", 200, "bytes/row", "a real comment over the seed's ~35 characters"),
    (
        "pg_single_node_max_gb",
        2000,
        "GB",
        "data one primary keeps comfortably: a restore from "
        "backup and a new replica within hours, vacuum keeping up",
    ),
]

# Instances: AWS EC2 On-Demand list prices, Linux, US East (N. Virginia). name: (vCPU, GiB, $/h).
INSTANCES: dict[str, tuple[int, float, float]] = {
    "m6i.large": (2, 8, 0.096),
    "m6i.xlarge": (4, 16, 0.192),
    "m6i.2xlarge": (8, 32, 0.384),
    "m6i.4xlarge": (16, 64, 0.768),
    "m6i.8xlarge": (32, 128, 1.536),
    "m6i.16xlarge": (64, 256, 3.072),
    "r6i.large": (2, 16, 0.126),
    "r6i.xlarge": (4, 32, 0.252),
    "r6i.2xlarge": (8, 64, 0.504),
}
OTHER_PRICES: list[tuple[str, float, str, str]] = [
    ("price_gp3_gb_month", 0.08, "$/GB-month", "EBS gp3 storage (3,000 IOPS included)"),
    ("price_eks_hour", 0.10, "$/hour", "an EKS cluster's control plane"),
]
PRICE_SOURCE = (
    "AWS EC2 On-Demand **list prices**, Linux, US East (N. Virginia), as published on "
    "aws.amazon.com/ec2/pricing/on-demand and unchanged for these families from their launch "
    "(m6i 2021, r6i 2021) through 2025; **stated on 2026-12-05 from that list, not fetched** "
    "(this machine reaches no network but package registries): check them before budgeting. "
    "No savings plan, reserved or spot discount, no data transfer, no managed-database premium "
    "(PostgreSQL and Redis are costed as instances you run, as make stack and ADR 0026 do)."
)


@dataclass(frozen=True)
class Row:
    key: str
    value: float | list[float]
    unit: str
    source: str  # "bench/results/x.json: scenarios.s.cpu_cores.app / requests_per_s", "assumption"
    kind: str  # measured | config (a deploy file's value) | assumption | pending


def started(doc: dict[str, Any]) -> str:
    return str(doc.get("started_at") or doc.get("started") or "")


def variant_of(doc: dict[str, Any]) -> dict[str, Any]:
    """A run document's variant; runs from before variants were recorded had no cache."""
    server = doc.get("server") or {}
    v = dict(doc.get("variant") or {})
    v.setdefault("cache", "off")
    v.setdefault("db", "pool" if server.get("database_pool") else "persistent")
    v.setdefault("replica", False)
    v["target"] = bool(server.get("target"))
    v["workers"] = server.get("workers")
    return v


class Results:
    """The results directory's run documents, newest first."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.docs: list[tuple[str, dict[str, Any]]] = []
        for path in sorted(directory.glob("*.json")):
            doc = json.loads(path.read_text())
            if isinstance(doc, dict):
                self.docs.append((path.name, doc))
        by_name = {name: started(doc) for name, doc in self.docs}
        for _name, doc in self.docs:
            if not started(doc) and isinstance(doc.get("runs"), list):
                # a summary (the stack's, the edge's): as new as the runs it summarises
                times = [by_name.get(Path(str(run)).name, "") for run in doc["runs"]]
                doc["started_at"] = max(times, default="")
        self.docs.sort(key=lambda item: (started(item[1]), item[0]), reverse=True)

    def named(self, suffix: str) -> tuple[str, dict[str, Any]] | None:
        for name, doc in self.docs:
            if name.endswith(suffix) and "ratio" not in name:
                return name, doc
        return None

    def timeline_lengths(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """The newest measured timeline lengths at each data size (tools/bench/timelines_bytes.py:
        ``<commit>-<size>-timelines-bytes.json``): size -> (file, {bound: mean, share over 128,
        mean over 128, timelines})."""
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        for name, doc in self.docs:
            entries = (
                (doc.get("postgresql") or {}).get("entries") if "timeline_size" in doc else None
            )
            size = re.search(r"-(10k|100k|1m)-timelines-bytes\.json$", name)
            if size and isinstance(entries, dict):
                found.setdefault(size.group(1), (name, entries))
        return found

    def runs(
        self, cache: str, workers: int | None = None, *, feed_heads: bool | None = True
    ) -> list[tuple[str, dict[str, Any]]]:
        """The default topology's runs with this cache; ``feed_heads=False``: those whose feed
        reads asked the stores every time (``FEED_HEAD_SECONDS=0``) instead; None: both."""
        out = []
        for name, doc in self.docs:
            if "scenarios" not in doc or not isinstance(doc["scenarios"], dict):
                continue
            v = variant_of(doc)
            if v["target"] or v["replica"] or v["db"] != "persistent" or v["cache"] != cache:
                continue
            if v.get("timelines", "database") != "database":  # the Redis Cluster store's runs
                continue
            if feed_heads is not None and v.get("feed_heads", True) != feed_heads:
                continue
            if workers is not None and v["workers"] != workers:
                continue
            out.append((name, doc))
        return out

    def scenario(
        self, cache: str, scenario: str, workers: int | None = None
    ) -> tuple[str, dict[str, Any]] | None:
        for name, doc in self.runs(cache, workers):
            s = doc["scenarios"].get(scenario)
            if s and (s.get("cpu_cores") or {}).get("app") is not None and quiet(s):
                return name, s
        return None

    def feed(
        self, warm: bool, quiet_only: bool = True, *, feed_heads: bool = True
    ) -> tuple[str, str, dict[str, Any]] | None:
        """The newest feed read with its timeline warm, or without one (the read-time query:
        ``feed_fallback``, or ``feed`` before timelines), from a run of any cache variant (the
        feed's cards are cached alike in each). The 1M runs first: issue 18 sizes the feed there.
        ``feed_heads=False`` (a warm read): from the runs whose reads asked the stores for the
        timeline's head every time (runs from before the heads did too)."""

        def at_1m(item: tuple[str, dict[str, Any]]) -> bool:
            size = item[1].get("size")
            return isinstance(size, dict) and size.get("name") == "1m"

        ordered = [d for d in self.docs if at_1m(d)] + [d for d in self.docs if not at_1m(d)]
        default_topology = {
            n for c in ("off", "redis", "locmem") for n, _d in self.runs(c, feed_heads=None)
        }
        for name, doc in ordered:
            if name not in default_topology:
                continue
            # A run from before the heads recorded none: its reads asked the stores. The query
            # (not warm) is the same read in every run.
            if warm and (variant_of(doc).get("feed_heads") is True) != feed_heads:
                continue
            for scenario in ("feed", "feed_fallback"):
                s = doc["scenarios"].get(scenario)
                if not s or (s.get("cpu_cores") or {}).get("app") is None:
                    continue
                if quiet_only and not quiet(s):
                    continue
                if timeline_warm(s) == warm:
                    return name, scenario, s
        return None


QUIET_OTHER_CORES = 0.3
DB_AS_OTHER_CORES = 0.8  # the runs that counted PostgreSQL as other: 0.38-0.69 cores there


def quiet(s: dict[str, Any]) -> bool:
    """The scenario ran on a machine nothing else kept busy: what the rest of the machine used
    (`cpu_cores.other`) stayed under QUIET_OTHER_CORES, so the CPU per request is the request's.
    Runs that record PostgreSQL's CPU under `other` (with `db` 0) count it as the database's."""
    cores = s.get("cpu_cores") or {}
    if not s.get("requests_per_s"):
        return False
    other = cores.get("other") or 0.0
    return other < QUIET_OTHER_CORES or (not cores.get("db") and other < DB_AS_OTHER_CORES)


def timeline_warm(s: dict[str, Any]) -> bool:
    """A feed scenario read a warm timeline: the timelines bench records the store and the
    state it prepared (tools/bench/benchkit/timelines.py); before timelines there is none."""
    timeline = s.get("timeline") or {}
    return bool(timeline.get("store")) and timeline.get("requested") == "warm"


def per_request_ms(s: dict[str, Any], component: str) -> tuple[float, str]:
    """CPU ms per request of one component, and the key it came from. The runs that record the
    database's CPU as 0 with the rest of the machine busy (docs/performance.md, "Known limits")
    count PostgreSQL under `other`: that is taken instead."""
    cores = s["cpu_cores"]
    value = cores.get(component)
    key = f"cpu_cores.{component}"
    if component == "db" and not value and (cores.get("other") or 0) > 0.1:
        value, key = cores["other"], "cpu_cores.other (PostgreSQL counted there)"
    return 1000 * float(value or 0.0) / float(s["requests_per_s"]), key


class Inputs:
    """Every input of the model, by key; `rows` is the table docs/scaling.md shows."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.directory: Path = RESULTS

    def put(self, key: str, value: float | list[float], unit: str, source: str, kind: str) -> None:
        self.rows[key] = Row(key, value, unit, source, kind)

    def v(self, key: str, default: float | None = None) -> float:
        row = self.rows.get(key)
        if row is None:
            if default is None:
                raise KeyError(key)
            return default
        if isinstance(row.value, list):
            raise TypeError(f"{key} is a list")
        return float(row.value)

    def v_list(self, key: str) -> list[float]:
        value = self.rows[key].value
        return list(value) if isinstance(value, list) else [float(value)]

    # Prices -------------------------------------------------------------------------------
    def price(self, instance: str) -> float:
        return INSTANCES[instance][2]

    def vcpus(self, instance: str) -> int:
        return INSTANCES[instance][0]

    def family(self, family: str) -> list[tuple[str, int]]:
        return sorted(
            ((n, c) for n, (c, _m, _p) in INSTANCES.items() if n.startswith(family + ".")),
            key=lambda item: item[1],
        )

    def instances(self) -> list[tuple[str, int, float]]:
        return [(n, c, m) for n, (c, m, _p) in INSTANCES.items()]

    def price_source(self) -> str:
        return PRICE_SOURCE

    # Loading ------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path = RESULTS) -> Inputs:
        inp = cls()
        inp.directory = directory
        results = Results(directory)
        inp.measure_requests(results)
        inp.measure_rest(results)
        inp.measure_timelines(results)
        inp.read_deploy_files(DEPLOY)
        for key, value, unit, why in ASSUMPTIONS:
            if key not in inp.rows:  # a measurement, when there is one, replaces the stand-in
                inp.put(key, value, unit, f"assumption: {why}", "assumption")
        for key, price, unit, why in OTHER_PRICES:
            inp.put(key, price, unit, f"assumption (list price): {why}", "assumption")
        inp.fill_pending(results)
        return inp

    def measured(self, key: str, value: float, unit: str, file: str, where: str) -> None:
        self.put(key, round(value, 4), unit, f"`{file}`: {where}", "measured")

    def measure_requests(self, results: Results) -> None:
        for kind, (cached, uncached) in REQUEST_TYPES.items():
            if kind == "feed":
                continue  # below: its name does not say whether the timeline was warm
            for label, cache, scenario in (("cached", "redis", cached), ("off", "off", uncached)):
                found = results.scenario(cache, scenario)
                if found is None:
                    continue
                name, s = found
                for component in COMPONENTS:
                    ms, key = per_request_ms(s, component)
                    self.measured(
                        f"cpu_{kind}_{label}_{component}",
                        ms,
                        "ms/request",
                        name,
                        f"scenarios.{scenario}.{key} / requests_per_s",
                    )
            embedded = results.scenario("locmem", cached, workers=1)
            if embedded is not None:
                name, s = embedded
                for component in COMPONENTS:
                    ms, key = per_request_ms(s, component)
                    self.measured(
                        f"cpu_{kind}_embedded_{component}",
                        ms,
                        "ms/request",
                        name,
                        f"scenarios.{cached}.{key} / requests_per_s",
                    )
        for warm, label in ((True, "cached"), (False, "query")):
            # A warm read whose timeline head is read from the stores (FEED_HEAD_SECONDS=0, as
            # after a write renewed it): the model counts no head served from the cache.
            feed = results.feed(warm, feed_heads=False)
            if feed is None:
                continue
            name, scenario, s = feed
            what = (
                "timelines warm, each read's head from the stores"
                if warm
                else "today's query: no timeline"
            )
            for component in COMPONENTS:
                ms, key = per_request_ms(s, component)
                self.measured(
                    f"cpu_feed_{label}_{component}",
                    ms,
                    "ms/request",
                    name,
                    f"scenarios.{scenario}.{key} / requests_per_s ({what})",
                )

    def measure_rest(self, results: Results) -> None:
        for name, doc in results.docs:
            ref = (doc.get("references") or {}).get("nginx_static") or {}
            nginx = (ref.get("cpu_cores") or {}).get("nginx")
            if nginx and ref.get("requests_per_s") and not variant_of(doc)["target"]:
                self.measured(
                    "cpu_nginx_ms",
                    1000 * nginx / ref["requests_per_s"],
                    "ms/request",
                    name,
                    "references.nginx_static.cpu_cores.nginx / requests_per_s",
                )
                break
        for name, doc in results.docs:
            if doc.get("benchmark") == "fanout" and doc.get("delivery", {}).get("received"):
                d = doc["delivery"]
                seconds, n = d["seconds_to_all_emails"], d["received"]
                for key, part in (
                    ("cpu_email_worker_ms", "celery_workers"),
                    ("cpu_email_db_ms", "postgres"),
                ):
                    self.measured(
                        key,
                        1000 * d["cpu_cores"][part] * seconds / n,
                        "ms/email",
                        name,
                        f"delivery.cpu_cores.{part} x seconds_to_all_emails / received",
                    )
                break
        for name, doc in results.docs:
            size = doc.get("size")
            if not (isinstance(size, dict) and size.get("name") == "1m" and size.get("follows")):
                continue
            # The feed bench's shapes (an author every user follows, a user following 1,000)
            # stress the feed; they are not the follow graph's typical shape.
            if not (size.get("seeded") or {}).get("feed_shapes"):
                self.measured(
                    "followers_per_user",
                    size["follows"] / size["users"],
                    "follows",
                    name,
                    "size.follows / size.users (seed_bulk's Zipf-like follows)",
                )
                break
        for name, doc in results.docs:
            events = doc.get("events") or {}
            if events.get("rss_per_stream_kib"):
                self.measured(
                    "events_streams_per_process",
                    events["opened"],
                    "streams",
                    name,
                    "events.opened (idle streams one events process held, none refused)",
                )
                self.measured(
                    "events_kib_per_stream",
                    events["rss_per_stream_kib"],
                    "KiB",
                    name,
                    "events.rss_per_stream_kib",
                )
                break
        for name, doc in results.docs:
            if doc.get("kind") == "table-sizes":
                tables = doc["tables"]
                for key, table in TABLE_ROWS.items():
                    if table in tables:
                        self.measured(
                            key,
                            tables[table]["bytes_per_row"],
                            "bytes/row",
                            name,
                            f"tables.{table}.bytes_per_row (seed_bulk's data)",
                        )
                break
        found = results.scenario("redis", "signed_in_list")
        if found is not None:
            name, s = found
            ms, key = per_request_ms(s, "redis")
            self.measured(
                "redis_ms_per_round_trip",
                ms,
                "ms",
                name,
                f"scenarios.signed_in_list.{key} / requests_per_s (one MGET)",
            )
        edge = results.named("-edge-off.json")
        if edge is not None:
            name, doc = edge
            s = doc["scenarios"].get("home_page")
            if s and s.get("requests_per_s"):
                busy = s["cpu_cores"]["machine_busy"]
                self.measured(
                    "cpu_anon_page_cached_app",
                    1000 * busy / s["requests_per_s"],
                    "ms/request",
                    name,
                    "scenarios.home_page.cpu_cores.machine_busy / "
                    "requests_per_s (the whole machine: an upper bound)",
                )
                self.put(
                    "cpu_anon_page_cached_db",
                    0.0,
                    "ms/request",
                    "counted in cpu_anon_page_cached_app",
                    "measured",
                )
                self.put(
                    "cpu_anon_page_cached_redis",
                    0.0,
                    "ms/request",
                    "counted in cpu_anon_page_cached_app",
                    "measured",
                )

    def read_deploy_files(self, overlay: Path) -> None:
        """The Kubernetes layout's floor, as the production overlay ships it."""
        docs = {}
        for name in ("hpa.yaml", "web.yaml", "worker.yaml"):
            path = overlay / name
            if path.is_file():
                docs[name] = yaml.safe_load(path.read_text())
        where = f"`{overlay.relative_to(ROOT)}/"

        def cpu_request(doc: dict[str, Any]) -> float:
            cpu = str(
                doc["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
            )
            return float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)

        if "hpa.yaml" in docs:
            self.put(
                "k8s_web_min_replicas",
                float(docs["hpa.yaml"]["spec"]["minReplicas"]),
                "pods",
                where + "hpa.yaml`: spec.minReplicas",
                "config",
            )
        if "web.yaml" in docs:
            self.put(
                "k8s_web_cpu_request",
                cpu_request(docs["web.yaml"]),
                "cores",
                where + "web.yaml`: resources.requests.cpu",
                "config",
            )
        if "worker.yaml" in docs:
            self.put(
                "k8s_worker_replicas",
                float(docs["worker.yaml"]["spec"]["replicas"]),
                "pods",
                where + "worker.yaml`: spec.replicas",
                "config",
            )
            self.put(
                "k8s_worker_cpu_request",
                cpu_request(docs["worker.yaml"]),
                "cores",
                where + "worker.yaml`: resources.requests.cpu",
                "config",
            )

    def measure_timelines(self, results: Results) -> None:
        """The timelines bench's summary (tools/bench/timelines_summary.py, issue 18): bytes per
        entry in each store, and the fan-out workers' CPU per timeline insert (also from
        `make bench-timelines`' own result, tools/bench/timeline_fanout.py)."""
        for name, doc in results.docs:
            by_followers = doc.get("by_followers")
            if isinstance(by_followers, dict) and by_followers:
                big = max(by_followers.values(), key=lambda e: e.get("followers") or 0)
                cores = (big.get("cpu_cores") or {}).get("celery_workers")
                rate = (big.get("inserts_per_s") or {}).get("median")
                if cores and rate:
                    self.measured(
                        "cpu_fanout_insert_worker_ms",
                        1000 * cores / rate,
                        "ms/insert",
                        name,
                        f"by_followers (the {big.get('followers')}-follower author)."
                        "cpu_cores.celery_workers / inserts_per_s.median "
                        f"({doc.get('store')})",
                    )
                    break
        self.measure_timeline_lengths(results)
        for name, doc in results.docs:
            costs = doc.get("costs_for_capacity_model")
            if isinstance(doc.get("redis"), dict) and "timeline_size" in doc:
                costs, where = {"bytes_per_timeline_entry": doc}, ""  # timelines_bytes.py's own
            elif isinstance(costs, dict):
                where = "costs_for_capacity_model."
            else:
                continue
            sizes = costs.get("bytes_per_timeline_entry") or {}
            redis = sizes.get("redis") or {}
            if redis.get("bytes_per_entry") and (redis.get("entries") or 0) > 128:
                self.measured(
                    "timeline_bytes_per_entry_full",
                    redis["bytes_per_entry"],
                    "bytes",
                    name,
                    f"{where}bytes_per_timeline_entry.redis.bytes_per_entry "
                    f"({redis['entries']} entries, {redis.get('encoding')})",
                )
            pg = sizes.get("postgresql") or {}
            if pg.get("bytes_per_entry"):
                self.measured(
                    "bytes_timeline_entry_pg",
                    pg["bytes_per_entry"],
                    "bytes/row",
                    name,
                    f"{where}bytes_per_timeline_entry.postgresql.bytes_per_entry",
                )
            fanout = costs.get("fanout") or {}
            cores, rate = (
                fanout.get("worker_cores_during_fanout"),
                fanout.get("timeline_inserts_per_s"),
            )
            if cores and rate and "cpu_fanout_insert_worker_ms" not in self.rows:
                self.measured(
                    "cpu_fanout_insert_worker_ms",
                    1000 * cores / rate,
                    "ms/insert",
                    name,
                    f"{where}fanout.worker_cores_during_fanout / timeline_inserts_per_s "
                    f"({fanout.get('store')})",
                )
            return  # the warm feed's CPU: from the runs themselves, when quiet (Results.feed)

    def measure_timeline_lengths(self, results: Results) -> None:
        """Entries per timeline, from the timelines built for the first users of the 1M data
        (tools/bench/timelines_bytes.py): the mean and the share over 128 entries (a skiplist
        in Redis, not a listpack), with FEED_TIMELINE_SIZE at 800 and at 128. The seed draws
        the followed and the authors by the same popularity, so a timeline holds far more than
        follows x articles per author (tools/capacity_scaling.py checks 10k against 1M)."""
        if "1m" not in (found := results.timeline_lengths()):
            return
        name, entries = found["1m"]
        for bound, lengths in entries.items():
            where = f"postgresql.entries.{bound} ({lengths['timelines']} timelines built)"
            self.measured(f"timeline_entries_mean_{bound}", lengths["mean"], "entries",
                          name, f"{where}.mean")  # fmt: skip
            self.measured(f"timeline_over128_share_{bound}", lengths["over_128_share"],
                          "share", name, f"{where}.over_128_share")  # fmt: skip
            self.measured(f"timeline_over128_mean_{bound}", lengths["over_128_mean"],
                          "entries", name, f"{where}.over_128_mean")  # fmt: skip

    def fill_pending(self, results: Results) -> None:
        """What this session's timeline and capacity runs measure, stated until they land."""
        loud = results.feed(True, quiet_only=False)
        why = (
            f" (`{loud[0]}` has it, measured while other work kept the machine busy: "
            f"`cpu_cores.other` {loud[2]['cpu_cores'].get('other')} cores)"
            if loud
            else ""
        )
        for component in COMPONENTS:
            if f"cpu_feed_cached_{component}" in self.rows:
                continue
            base = self.v(f"cpu_signed_list_cached_{component}")
            extra = self.v("redis_ms_per_round_trip") if component == "redis" else 0.0
            self.put(
                f"cpu_feed_cached_{component}",
                round(base + extra, 4),
                "ms/request",
                "pending (the 1M timelines bench on a quiet machine): a warm signed-in list "
                "plus one round trip for the timeline's ids" + why,
                "pending",
            )
        pending = [
            (
                "timeline_bytes_per_entry_full",
                115.24,
                "bytes",
                "pending (the 1M timelines "
                "bench): `MEMORY USAGE` of an 800-entry sorted set of article ids, 92,192 B / 800 "
                "(skiplist), measured by hand with Redis 7.0.15 here on 2026-12-05",
            ),
            (
                "timeline_bytes_per_entry_small",
                13.36,
                "bytes",
                "pending: the same for 100 "
                "entries, 1,336 B / 100 (listpack: up to 128 entries by default)",
            ),
            (
                "cpu_fanout_insert_worker_ms",
                0.05,
                "ms/insert",
                "pending (the fan-out bench): a "
                "worker's CPU per timeline insert, ZADDs pipelined in chunks",
            ),
            (
                "cpu_fanout_insert_redis_ms",
                0.005,
                "ms/insert",
                "pending: Redis's CPU per ZADD of one id, pipelined",
            ),
        ]
        for key, value, unit, why in pending:
            if key not in self.rows:
                self.put(key, value, unit, why, "pending")
