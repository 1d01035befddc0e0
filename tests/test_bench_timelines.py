"""Issue 18's bench numbers (tools/bench/timelines_summary.py): the feed from timelines against
the fallback in the same run and today's tree, the p99 at 1M over 10k, the capacity model's
per-operation costs, and the plot."""

import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import load_tool

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools" / "bench"))


@pytest.fixture(scope="module")
def summary_tool() -> ModuleType:
    return load_tool("timelines_summary", REPO / "tools/bench/timelines_summary.py")


def entry(rps: float, p99: float, app: float, *, fallbacks: float = 0, hits: float | None = None):
    metrics = {"timeline_fallbacks": fallbacks, "cache_hit_ratio": hits}
    return {"requests_per_s": rps, "latency_ms": {"p50": p99 / 2, "p99": p99},
            "errors": {"total": 0}, "cpu_cores": {"app": app, "db": 0.2, "other": 0.05},
            "app_metrics": metrics}  # fmt: skip


def run(scenarios: dict, load: float = 0.3) -> dict:
    return {"commit": {"id": "abc1234"}, "machine": {"loadavg_at_start": [load, 0, 0]},
            "scenarios": scenarios}  # fmt: skip


def write(tmp_path: Path, name: str, doc: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_the_summary_compares_each_reader_and_records_the_costs(summary_tool, tmp_path):
    one_m = run({"feed_fallback": entry(400, 110, 1.4, fallbacks=4000),
                 "feed": entry(2400, 20, 1.2),
                 "feed_following_1000_fallback": entry(300, 150, 1.4),
                 "feed_following_1000": entry(1500, 30, 1.3)})  # fmt: skip
    ten_k = run({"feed_fallback": entry(410, 100, 1.4), "feed": entry(2500, 18, 1.2)})
    today = run({"feed_fallback": entry(380, 120, 1.4), "feed": entry(390, 118, 1.4)})
    cached = run({"feed_fallback": entry(500, 90, 1.4), "feed": entry(5000, 9, 1.0, hits=0.99)})
    small = {"followers": 10, "store_writes_per_publish": 1, "inserts_per_s": {"median": 300},
             "cpu_cores": {"celery_workers": 0.1}}  # fmt: skip
    big = {"followers": 10_000, "store_writes_per_publish": 10,
           "inserts_per_s": {"median": 20_000}, "cpu_cores": {"celery_workers": 1.1}}  # fmt: skip
    fanout = {"store": "DatabaseStore", "by_followers": {"10": small, "10000": big}}
    out = tmp_path / "summary.json"
    argv = ["--run-1m", write(tmp_path, "1m.json", one_m),
            "--run-10k", write(tmp_path, "10k.json", ten_k),
            "--today-1m", write(tmp_path, "t.json", today),
            "--cached-1m", write(tmp_path, "c.json", cached),
            "--uncached-1m", write(tmp_path, "1m.json", one_m),
            "--fanout", write(tmp_path, "f.json", fanout),
            "--bytes", write(tmp_path, "b.json", {"postgresql": {"bytes_per_entry": 60.0}}),
            "--out", str(out), "--img", str(tmp_path / "plot.png")]  # fmt: skip
    img = tmp_path / "plot.png"
    sys_argv, sys.argv = sys.argv, ["timelines_summary.py", *argv]
    try:
        summary_tool.main()
    finally:
        sys.argv = sys_argv

    doc = json.loads(out.read_text())
    feed = doc["feeds"]["feed"]
    assert feed["speedup_vs_fallback_same_run"] == 6.0
    assert feed["speedup_vs_today"] == round(2400 / 380, 2)
    assert feed["p99_1m_over_10k"] == round(20 / 18, 2)
    assert feed["fallback_1m_same_run"]["timeline_fallbacks"] == 4000
    assert feed["timelines_1m"]["app_cpu_ms_per_request"] == 0.5  # 1.2 cores / 2,400 req/s
    assert doc["feeds"]["feed_following_1000"]["timelines_10k"] is None
    assert doc["acceptance"]["typical_feed_speedup_same_run"] == 6.0
    assert doc["machine"]["quiet"] is True
    costs = doc["costs_for_capacity_model"]
    assert costs["feed_read_cpu_ms_uncached"]["fallback_app"] == 3.5
    assert costs["feed_read_cpu_ms"]["timelines_warm_app"] == 0.2
    assert costs["card_cache_hit_ratio_during_feed"] == 0.99
    assert costs["fanout"]["timeline_inserts_per_s"] == 20_000
    assert costs["bytes_per_timeline_entry"]["postgresql"]["bytes_per_entry"] == 60.0
    assert img.stat().st_size > 10_000


@pytest.fixture(scope="module")
def fanout_tool() -> ModuleType:
    return load_tool("timeline_fanout", REPO / "tools/bench/timeline_fanout.py")


@pytest.mark.django_db
def test_the_fanout_bench_sees_which_followers_timelines_hold_an_article(fanout_tool):
    from conduit.timelines.stores import timeline_store

    assert fanout_tool.build_empty_timelines([1, 2, 3]) == "DatabaseStore"
    timeline_store().push(42, [1, 3])

    assert fanout_tool.Visibility().holding(42, [1, 2, 3]) == {1, 3}
    assert fanout_tool.Visibility().holding(42, [2]) == set()
    assert timeline_store().window(2, 5) == []  # built, empty


@pytest.mark.services
def test_bytes_per_entry_in_redis_come_from_the_stores_own_script():
    bytes_tool = load_tool("timelines_bytes", REPO / "tools/bench/timelines_bytes.py")

    measured = bytes_tool.redis_bytes(800)

    assert measured["entries"] == 801  # and the built marker
    assert measured["encoding"] == "skiplist"  # over zset-max-listpack-entries (128)
    assert 40 < measured["bytes_per_entry"] < 200
