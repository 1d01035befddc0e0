"""Issue 18's numbers from the runs that measured them: the feed from timelines against the
read-time query (the fallback, in the same run, and today's tree), the p99 at 1M against 10k,
the fan-out, and the per-operation costs ``tools/capacity.py`` reads; and a plot.

    .venv/bin/python tools/bench/timelines_summary.py \\
        --run-1m bench/results/<c>-1m-timelines-cache-off.json \\
        --run-10k bench/results/<c>-10k-timelines-cache-off.json \\
        --today-1m bench/results/<t>-1m-feed-today-cache-off.json \\
        --today-10k bench/results/<t>-10k-feed-today-cache-off.json \\
        [--cached-1m bench/results/<c>-1m-timelines.json] \\
        [--uncached-1m bench/results/<c>-1m-timelines-cache-off.json] \\
        [--fanout bench/results/<c>-timelines-fanout.json] [--bytes <bytes.json>] \\
        --out bench/results/<c>-1m-timelines-summary.json

``--bytes``: the output of ``timelines_bytes.py`` (bytes per timeline entry in each store).
Writes the summary and docs/img/bench-timelines.png; prints the table docs/performance.md shows.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

READERS = {"": "typical reader (follows ~10)", "_following_1000": "follows 1,000 authors",
           "_celebrity_fan": "follows the 100k-follower author"}  # fmt: skip
OUT_IMG = Path(__file__).resolve().parents[2] / "docs" / "img" / "bench-timelines.png"


def load(path: str | None) -> dict[str, Any] | None:
    return json.loads(Path(path).read_text()) if path else None


def per_request(entry: dict[str, Any]) -> dict[str, Any]:
    """req/s, latency and the CPU ms per request of the app and of PostgreSQL."""
    rps = entry["requests_per_s"]
    cpu = entry.get("cpu_cores") or {}

    def ms(name: str) -> float | None:
        value = cpu.get(name)
        return round(1000 * value / rps, 3) if value is not None and rps else None

    metrics = entry.get("app_metrics") or {}
    return {
        "requests_per_s": round(rps, 1),
        "p50_ms": entry["latency_ms"]["p50"],
        "p99_ms": entry["latency_ms"]["p99"],
        "errors": entry.get("errors"),
        "app_cpu_ms_per_request": ms("app"),
        "db_cpu_ms_per_request": ms("db"),
        "other_cores": cpu.get("other"),
        "timeline_fallbacks": metrics.get("timeline_fallbacks"),
        "card_cache_hit_ratio": metrics.get("cache_hit_ratio"),
        "timeline": entry.get("timeline"),
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def feeds(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: per_request(e) for name, e in run["scenarios"].items() if name.startswith("feed")}


def compare(args: argparse.Namespace) -> dict[str, Any]:
    run1m, run10k = load(args.run_1m), load(args.run_10k)
    today1m, today10k = load(args.today_1m), load(args.today_10k)
    if run1m is None:
        raise SystemExit("--run-1m is required")
    f1m = feeds(run1m)
    f10k = feeds(run10k) if run10k else {}
    t1m = feeds(today1m) if today1m else {}
    t10k = feeds(today10k) if today10k else {}
    rows: dict[str, dict[str, Any]] = {}
    for suffix, label in READERS.items():
        warm, cold = f"feed{suffix}", f"feed{suffix}_fallback"
        if warm not in f1m:
            continue
        w, c = f1m[warm], f1m.get(cold, {})
        today = t1m.get(cold, {})  # today's tree: both names are the query; the cold one first
        rows[warm] = {
            "reader": label,
            "timelines_1m": w,
            "fallback_1m_same_run": c,
            "today_1m": today,
            "timelines_10k": f10k.get(warm),
            "fallback_10k_same_run": f10k.get(cold),
            "today_10k": t10k.get(cold),
            "speedup_vs_fallback_same_run": ratio(w["requests_per_s"], c.get("requests_per_s")),
            "speedup_vs_today": ratio(w["requests_per_s"], today.get("requests_per_s")),
            "app_cpu_ratio_fallback_over_timelines": ratio(
                c.get("app_cpu_ms_per_request"), w["app_cpu_ms_per_request"]),
            "p99_1m_over_10k": ratio(w["p99_ms"], (f10k.get(warm) or {}).get("p99_ms")),
        }  # fmt: skip
    return {
        "feeds": rows,
        "acceptance": {
            "speedup_target": 5.0,
            "p99_ratio_target": 1.2,
            "typical_feed_speedup_same_run": rows.get("feed", {}).get(
                "speedup_vs_fallback_same_run"
            ),
            "typical_feed_p99_1m_over_10k": rows.get("feed", {}).get("p99_1m_over_10k"),
        },
        "machine": {
            "loadavg_at_start_1m": run1m["machine"].get("loadavg_at_start"),
            "loadavg_at_start_10k": run10k["machine"].get("loadavg_at_start") if run10k else None,
            "quiet": all((row["timelines_1m"]["other_cores"] or 0) < 0.2 for row in rows.values()),
        },
        "runs": {k: v for k, v in vars(args).items() if k not in ("out", "img") and v},
        "commit": run1m["commit"],
    }


def feed_costs(run: dict[str, Any], source: str) -> dict[str, Any]:
    """The typical reader's feed, warm timeline against the fallback query, per request."""
    warm = per_request(run["scenarios"]["feed"])
    fallback = per_request(run["scenarios"]["feed_fallback"])
    return {
        "timelines_warm_app": warm["app_cpu_ms_per_request"],
        "timelines_warm_db": warm["db_cpu_ms_per_request"],
        "fallback_app": fallback["app_cpu_ms_per_request"],
        "fallback_db": fallback["db_cpu_ms_per_request"],
        "requests_per_s": {"timelines": warm["requests_per_s"],
                           "fallback": fallback["requests_per_s"]},
        "source": source,
    }  # fmt: skip


def costs(args: argparse.Namespace) -> dict[str, Any]:
    """The per-operation costs of issue 18's capacity model (helper E's tools/capacity.py)."""
    cached = load(args.cached_1m)
    fanout = load(args.fanout)
    sizes = load(args.bytes)
    uncached = load(args.uncached_1m)
    out: dict[str, Any] = {}
    if uncached:
        out["feed_read_cpu_ms_uncached"] = feed_costs(
            uncached, "the 1M run without the card cache (BENCH_CACHE=off), typical reader"
        )
    if cached:
        out["feed_read_cpu_ms"] = feed_costs(
            cached, "the 1M run with the in-process card cache (make bench's default)"
        )
        warm = per_request(cached["scenarios"]["feed"])
        out["card_cache_hit_ratio_during_feed"] = warm["card_cache_hit_ratio"]
    if fanout:
        big = max(fanout["by_followers"].values(), key=lambda e: e["followers"])
        out["fanout"] = {
            "inserts_per_publish": "one per follower of an author at or under "
            "FEED_FANOUT_MAX_FOLLOWERS (0 above it: merged at read)",
            "store_writes_per_publish": big["store_writes_per_publish"],
            "timeline_inserts_per_s": big["inserts_per_s"]["median"],
            "worker_cores_during_fanout": big["cpu_cores"].get("celery_workers"),
            "store": fanout["store"],
        }
    if sizes:
        out["bytes_per_timeline_entry"] = sizes
    return out


def _rps(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def table(summary: dict[str, Any]) -> str:
    lines = [
        "| reader | timelines req/s | fallback req/s (same run) | x | today req/s | p99 1M / 10k "
        "(ms) | app CPU ms/req timelines / fallback |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in summary["feeds"].values():
        w, c, t = row["timelines_1m"], row["fallback_1m_same_run"], row["today_1m"]
        ten = row["timelines_10k"] or {}
        lines.append(
            f"| {row['reader']} | {w['requests_per_s']:,.0f} | {c.get('requests_per_s', 0):,.0f} "
            f"| {row['speedup_vs_fallback_same_run']} | {_rps(t.get('requests_per_s'))} | "
            f"{w['p99_ms']} / {ten.get('p99_ms')} ({row['p99_1m_over_10k']}) | "
            f"{w['app_cpu_ms_per_request']} / {c.get('app_cpu_ms_per_request')} |"
        )
    return "\n".join(lines)


def plot(summary: dict[str, Any], out: Path = OUT_IMG) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = summary["feeds"]
    names = list(rows)
    sides = (("timelines 1M", "timelines_1m"), ("fallback 1M (same run)", "fallback_1m_same_run"),
             ("timelines 10k", "timelines_10k"))  # fmt: skip
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.27
    for i, (label, key) in enumerate(sides):
        xs = [x + i * width for x in range(len(names))]
        ax.bar(xs, [(rows[n][key] or {}).get("requests_per_s", 0) for n in names], width,
               label=label, color=f"C{i}")  # fmt: skip
        bx.bar(xs, [(rows[n][key] or {}).get("p99_ms", 0) for n in names], width, label=label,
               color=f"C{i}")  # fmt: skip
    for axis, ylabel in ((ax, "requests per second"), (bx, "p99 latency (ms)")):
        axis.set_xticks([x + width for x in range(len(names))])
        axis.set_xticklabels([rows[n]["reader"] for n in names], rotation=12, fontsize=8)
        axis.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    commit = summary["commit"]["id"]
    machine = "a quiet machine" if summary["machine"]["quiet"] else "a loaded machine"
    fig.suptitle(f"GET /api/articles/feed at 1M articles, wrk -c32 ({commit}); {machine}")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    names = ("run-1m", "run-10k", "today-1m", "today-10k", "cached-1m", "uncached-1m", "fanout",
             "bytes")  # fmt: skip
    for name in names:
        parser.add_argument(f"--{name}")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--img", type=Path, default=OUT_IMG)
    args = parser.parse_args()
    summary = compare(args)
    summary["costs_for_capacity_model"] = costs(args)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(table(summary))
    print(json.dumps(summary["acceptance"], indent=2))
    plot(summary, args.img)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
