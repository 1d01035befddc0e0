"""The capacity and cost model (ADR 0041): measured per-operation costs, stated assumptions, and
what they add up to: servers for 10M users (docs/scaling.md) and money for 1M-100M requests a day
(docs/cost.md).

    .venv/bin/python tools/capacity.py            # print every generated section
    .venv/bin/python tools/capacity.py --write    # rewrite them in docs/scaling.md and docs/cost.md
    .venv/bin/python tools/capacity.py --check    # exit 1 when the docs differ from the output
    .venv/bin/python tools/capacity.py --results DIR ...   # read results from DIR instead

Every input is a row of one table (`Inputs.rows`): either a measured figure, named by its results
file and key, or an assumption, named as one. Per-operation CPU is `cpu_cores.<component>` over
`requests_per_s` of a `make bench` scenario: what the app, PostgreSQL and Redis spent per request
under load on the bench machine. Each figure comes from the newest run (by `started_at`) of the
right variant that has it. The model is arithmetic on rates (ADR 0041 says why not a queueing
simulation): cores = rate x CPU per request / target utilisation, rounded up to instances.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import capacity_inputs as ci
from capacity_inputs import Inputs

ROOT = Path(__file__).resolve().parent.parent
DOCS = {"scaling": ROOT / "docs" / "scaling.md", "cost": ROOT / "docs" / "cost.md"}
SECONDS_A_DAY = 86_400
HOURS_A_MONTH = 730


def marker(name: str, end: bool = False) -> str:
    return f"<!-- capacity.py:{name}:{'end' if end else 'begin'} -->"


# ---------------------------------------------------------------------------------------------
# The load: requests a second by type, and the CPU they take per component


@dataclass(frozen=True)
class Options:
    """What a deployment has: the shared cache, the edge micro-cache, read replicas, timelines."""

    cache: bool = True
    edge: bool = True
    replicas: bool = True
    timelines: bool = True
    embedded: bool = False  # make run: one process, the in-process cache, no edge, no replica


@dataclass
class Load:
    """Cores by component at the peak of a day of `per_day` requests."""

    per_day: float
    peak_rps: float
    edge_hit: float
    cores: dict[str, float] = field(default_factory=dict)
    publishes_per_s: float = 0.0
    fanout_inserts_per_s: float = 0.0
    emails_per_s: float = 0.0
    redis_ops_per_s: float = 0.0

    def add(self, component: str, cores: float) -> None:
        self.cores[component] = self.cores.get(component, 0.0) + cores


def edge_hit_ratio(inp: Inputs, anonymous_rps: float) -> float:
    """A 1 s micro-cache serves a key's requests after the first in each second: with Poisson
    arrivals at rate r per key, a miss opens a window in which r x 1 s more arrive, so the hit
    ratio is r / (1 + r). Only the hot keys' share of anonymous reads can hit."""
    per_key = anonymous_rps * inp.v("anonymous_hot_share") / inp.v("anonymous_hot_keys")
    ttl = inp.v("edge_ttl_s")
    return inp.v("anonymous_hot_share") * (per_key * ttl) / (1 + per_key * ttl)


def embedded_ms(inp: Inputs, kind: str, component: str) -> float:
    """make run's CPU per request: measured with the in-process cache on one worker where the
    bench has it; else the Redis-cached figure with Redis's share counted in the process."""
    key = f"cpu_{kind}_embedded_{component}"
    if key in inp.rows:
        return inp.v(key)
    if component == "redis":
        return 0.0
    ms = inp.v(f"cpu_{kind}_cached_{component}")
    return ms + inp.v(f"cpu_{kind}_cached_redis") if component == "app" else ms


def load_for(inp: Inputs, per_day: float, opts: Options) -> Load:
    peak = per_day / SECONDS_A_DAY * inp.v("peak_to_average")
    anonymous_rps = peak * sum(inp.v(f"mix_{t}") for t in ci.ANONYMOUS)
    hit = edge_hit_ratio(inp, anonymous_rps) if opts.edge and not opts.embedded else 0.0
    load = Load(per_day=per_day, peak_rps=peak, edge_hit=hit)
    warm = inp.v("cache_hit_ratio") if opts.cache else 0.0
    for kind in ci.REQUEST_TYPES:
        rps = peak * inp.v(f"mix_{kind}")
        if kind in ci.ANONYMOUS:
            load.add("edge", rps * hit * inp.v("cpu_nginx_ms") / 1000)
            rps *= 1 - hit
        load.add("proxy", rps * inp.v("cpu_nginx_ms") / 1000 if not opts.embedded else 0.0)
        for component in ("app", "db", "redis"):
            if opts.embedded:
                ms = embedded_ms(inp, kind, component)
            elif kind == "feed" and not opts.timelines:
                ms = inp.v(f"cpu_feed_query_{component}")
            elif kind in ci.CACHEABLE:
                cached, uncached = (inp.v(f"cpu_{kind}_{c}_{component}") for c in ("cached", "off"))
                ms = warm * cached + (1 - warm) * uncached
            else:
                ms = inp.v(f"cpu_{kind}_cached_{component}")
            target = "db_read" if component == "db" and kind in ci.READS else component
            load.add(target, rps * ms / 1000)
            if component == "redis" and ms:
                load.redis_ops_per_s += rps * inp.v("redis_round_trips_per_request")
    load.publishes_per_s = peak * inp.v("mix_publish")
    followers = inp.v("followers_per_user")
    load.fanout_inserts_per_s = load.publishes_per_s * followers if opts.timelines else 0.0
    load.emails_per_s = load.publishes_per_s * followers * inp.v("email_share_of_followers")
    load.add(
        "worker",
        load.fanout_inserts_per_s * inp.v("cpu_fanout_insert_worker_ms") / 1000
        + load.emails_per_s * inp.v("cpu_email_worker_ms") / 1000,
    )
    load.add("db", load.emails_per_s * inp.v("cpu_email_db_ms") / 1000)
    if opts.timelines:
        load.add("redis", load.fanout_inserts_per_s * inp.v("cpu_fanout_insert_redis_ms") / 1000)
        load.redis_ops_per_s += load.fanout_inserts_per_s
    return load


# ---------------------------------------------------------------------------------------------
# Machines and money


@dataclass(frozen=True)
class Bill:
    lines: list[tuple[str, int, str, float]]  # what, how many, instance, $/month for all of them
    fits: bool = True
    note: str = ""

    @property
    def monthly(self) -> float:
        return sum(line[3] for line in self.lines)

    def servers(self) -> int:
        return sum(line[1] for line in self.lines if line[2] != "-")


def monthly(inp: Inputs, instance: str, count: int = 1) -> float:
    return count * inp.price(instance) * HOURS_A_MONTH


def smallest(inp: Inputs, family: str, vcpus_needed: float) -> str | None:
    for name, vcpus in inp.family(family):
        if vcpus >= vcpus_needed:
            return name
    return None


def bill_embedded(inp: Inputs, load: Load) -> Bill:
    """make run on one instance: one granian process (the in-process cache allows one), so one
    core of Python whatever the instance has (the GIL; docs/performance.md, stack 1/2/4)."""
    need = (load.cores.get("app", 0) + load.cores.get("db_read", 0) + load.cores.get("db", 0)) / (
        inp.v("target_utilisation")
    )
    instance = "m6i.large"
    fits = need <= 1.0
    note = "" if fits else f"needs {need:.1f} cores of one process; it has one"
    return Bill([("make run", 1, instance, monthly(inp, instance))], fits, note)


def bill_stack(inp: Inputs, load: Load) -> Bill:
    """make stack on one instance: everything shares its cores; one app server per core."""
    util = inp.v("target_utilisation")
    total = sum(load.cores.values()) / util + inp.v("stack_fixed_cores")
    instance = smallest(inp, "m6i", total)
    if instance is None:
        largest = inp.family("m6i")[-1][0]
        return Bill(
            [("one machine", 1, largest, monthly(inp, largest))],
            False,
            f"needs {total:.0f} vCPUs; the largest has {inp.family('m6i')[-1][1]}",
        )
    lines = [("make stack", 1, instance, monthly(inp, instance))]
    lines.append(("its disk (gp3)", 0, "-", inp.v("db_disk_gb") * inp.v("price_gp3_gb_month")))
    return Bill(lines)


def kubernetes_parts(inp: Inputs, load: Load, opts: Options) -> list[tuple[str, int, str, float]]:
    util = inp.v("target_utilisation")
    web_pods = max(int(inp.v("k8s_web_min_replicas")), math.ceil(load.cores.get("app", 0) / util))
    worker_pods = max(
        int(inp.v("k8s_worker_replicas")), math.ceil(load.cores.get("worker", 0) / util)
    )
    requested = (
        web_pods * inp.v("k8s_web_cpu_request")
        + worker_pods * inp.v("k8s_worker_cpu_request")
        + inp.v("k8s_other_cpu_requests")
        + (load.cores.get("edge", 0) + load.cores.get("proxy", 0)) / util
    )
    node = "m6i.large"
    nodes = max(2, math.ceil(requested / (inp.vcpus(node) * inp.v("k8s_allocatable_share"))))
    lines = [
        ("EKS control plane", 0, "-", inp.v("price_eks_hour") * HOURS_A_MONTH),
        (
            f"nodes ({web_pods} web and {worker_pods} worker pods)",
            nodes,
            node,
            monthly(inp, node, nodes),
        ),
    ]
    lines += database_lines(inp, load, opts)
    redis = "r6i.large"
    lines.append(("Redis and its replica", 2, redis, monthly(inp, redis, 2)))
    return lines


def database_lines(inp: Inputs, load: Load, opts: Options) -> list[tuple[str, int, str, float]]:
    util = inp.v("target_utilisation")
    reads, writes = load.cores.get("db_read", 0), load.cores.get("db", 0)
    replicas = 0
    if opts.replicas:
        per_replica = inp.vcpus("m6i.large") * util
        replicas = max(1, math.ceil(reads / per_replica))
        primary_need = writes / util
    else:
        primary_need = (reads + writes) / util
    primary = smallest(inp, "m6i", primary_need) or inp.family("m6i")[-1][0]
    standby = 1  # a synchronous standby for failover (ADR 0026), whatever the reads
    disk = inp.v("db_disk_gb") * inp.v("price_gp3_gb_month") * (1 + standby + replicas)
    lines = [
        ("PostgreSQL primary and standby", 1 + standby, primary, monthly(inp, primary, 1 + standby))
    ]
    if replicas:
        lines.append(
            ("PostgreSQL read replicas", replicas, "m6i.large", monthly(inp, "m6i.large", replicas))
        )
    lines.append(("PostgreSQL disks (gp3)", 0, "-", disk))
    return lines


def bill_kubernetes(inp: Inputs, load: Load, opts: Options) -> Bill:
    return Bill(kubernetes_parts(inp, load, opts))


# ---------------------------------------------------------------------------------------------
# The sections


def fmt(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def money(x: float) -> str:
    return f"-${-x:,.0f}" if x < -0.5 else f"${x:,.0f}"


def table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    head = list(header)
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


DEPLOYMENTS: dict[str, tuple[Options, Callable[[Inputs, Load, Options], Bill]]] = {
    "embedded default (make run)": (
        Options(embedded=True, edge=False, replicas=False),
        lambda i, lo, o: bill_embedded(i, lo),
    ),
    "one-machine stack (make stack)": (Options(), lambda i, lo, o: bill_stack(i, lo)),
    "Kubernetes (deploy/k8s, production overlay)": (Options(), bill_kubernetes),
}


def section_cost(inp: Inputs) -> str:
    levels = [int(x) for x in inp.v_list("cost_levels_per_day")]
    parts = [
        f"Generated by `tools/capacity.py` from the inputs in "
        f"[scaling.md](scaling.md#inputs-of-the-model) and the prices below. "
        f"Peak = {fmt(inp.v('peak_to_average'), 1)}x the day's average rate; "
        f"instances sized for {fmt(inp.v('target_utilisation') * 100)} % CPU at the peak."
    ]
    rows = []
    for name, (opts, bill_of) in DEPLOYMENTS.items():
        for per_day in levels:
            load = load_for(inp, per_day, opts)
            bill = bill_of(inp, load, opts)
            cost = money(bill.monthly) if bill.fits else "does not fit"
            per_million = f"${bill.monthly / (per_day * 30 / 1e6):,.2f}" if bill.fits else "-"
            rows.append(
                [
                    name,
                    f"{fmt(per_day / 1e6)}M",
                    fmt(load.peak_rps, 1),
                    fmt(sum(load.cores.values()), 2),
                    "; ".join(f"{what}: {n} x {inst}" for what, n, inst, _m in bill.lines if n)
                    or "-",
                    cost,
                    per_million,
                    bill.note or "",
                ]
            )
    parts.append(
        table(
            [
                "deployment",
                "requests/day",
                "peak req/s",
                "CPU cores at peak",
                "servers",
                "$/month",
                "$ per million requests",
                "note",
            ],
            rows,
        )
    )
    parts.append(section_savings(inp, levels))
    parts.append(section_prices(inp))
    return "\n\n".join(parts)


def section_savings(inp: Inputs, levels: list[int]) -> str:
    variants = {
        "everything on": Options(),
        "no edge cache": Options(edge=False),
        "no shared cache (CACHE_ARTICLES=false)": Options(cache=False),
        "no read replicas": Options(replicas=False),
        "none of the three": Options(edge=False, cache=False, replicas=False),
    }
    rows = []
    for per_day in [*levels, *(int(x) for x in inp.v_list("savings_extra_levels_per_day"))]:
        base = bill_kubernetes(inp, load_for(inp, per_day, Options()), Options()).monthly
        for label, opts in variants.items():
            load = load_for(inp, per_day, opts)
            bill = bill_kubernetes(inp, load, opts)
            stack = bill_stack(inp, load)
            rows.append(
                [
                    f"{fmt(per_day / 1e6)}M",
                    label,
                    fmt(load.edge_hit * 100, 1),
                    fmt(load.cores.get("app", 0), 2),
                    fmt(load.cores.get("db", 0) + load.cores.get("db_read", 0), 2),
                    money(bill.monthly),
                    money(bill.monthly - base),
                    money(stack.monthly) if stack.fits else "does not fit",
                ]
            )
    return (
        "### What caching, the edge cache and replicas save\n\n"
        "Each variant turns one of them off (`Options` in tools/capacity.py); the last level is "
        "beyond issue 20's three, where the Kubernetes layout's floor no longer hides the load.\n\n"
        + table(
            [
                "requests/day",
                "variant",
                "edge hit %",
                "app cores",
                "PostgreSQL cores",
                "Kubernetes $/month",
                "against everything on",
                "make stack $/month",
            ],
            rows,
        )
    )


def section_prices(inp: Inputs) -> str:
    rows = [
        [name, vcpus, fmt(mem), f"${inp.price(name):.4f}", money(monthly(inp, name))]
        for name, vcpus, mem in inp.instances()
    ]
    return (
        "### Prices (assumptions)\n\n"
        + inp.price_source()
        + "\n\n"
        + table(["instance", "vCPU", "GiB", "$/hour", "$/month (730 h)"], rows)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=ci.RESULTS)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    sys.modules.setdefault("capacity", sys.modules[__name__])  # as capacity_scaling imports it
    import capacity_scaling

    inp = Inputs.load(args.results)
    sections = {"cost": {"cost": section_cost(inp)}, "scaling": capacity_scaling.sections(inp)}
    if not (args.write or args.check):
        for texts in sections.values():
            for name, text in texts.items():
                print(f"{marker(name)}\n{text}\n{marker(name, end=True)}\n")
        return 0
    stale = []
    for doc_name, parts in sections.items():
        path = DOCS[doc_name]
        text = path.read_text()
        new = text
        for name, body in parts.items():
            new = replace_between(new, name, body)
        if new != text:
            stale.append(str(path.relative_to(ROOT)))
            if args.write:
                path.write_text(new)
    if args.check and stale:
        print("out of date (run .venv/bin/python tools/capacity.py --write): " + ", ".join(stale))
        return 1
    return 0


def replace_between(text: str, name: str, body: str) -> str:
    begin, end = marker(name), marker(name, end=True)
    if begin not in text or end not in text:
        raise SystemExit(f"markers {begin} ... {end} missing")
    head, rest = text.split(begin, 1)
    _old, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}\n{end}{tail}"


if __name__ == "__main__":
    raise SystemExit(main())
