"""The performance regression gate (tools/bench/gate.py, ADR 0039): its arithmetic, and a real run
with one endpoint deliberately slowed, which must fail and name that endpoint only."""

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools" / "bench"))  # as gate.py finds it
from benchkit import gate  # noqa: E402

BY_NAME = {e.name: e for e in gate.ENDPOINTS}


def test_each_endpoint_runs_right_next_to_its_own_servers_bare_view():
    endpoints = list(gate.ENDPOINTS)
    for number in range(4):
        pairs = gate.round_pairs(endpoints, number)
        assert len(pairs) == len(endpoints)
        for pair in pairs:
            server = pair[0].split(":")[0]
            assert pair[1].split(":")[0] == server
            assert gate.run_key(server, gate.BARE) in pair


def test_the_order_rotates_and_the_bare_view_alternates_sides():
    endpoints = list(gate.ENDPOINTS)
    first, second = gate.round_pairs(endpoints, 0), gate.round_pairs(endpoints, 1)
    assert all(pair[0].endswith(":bare") for pair in first)
    assert all(pair[1].endswith(":bare") for pair in second)
    assert first[0][1] != second[0][0]  # another endpoint leads the next round


def test_speed_is_requests_per_cpu_second():
    assert gate.speed(500, 250_000_000) == 2000
    assert gate.speed(500, 0) == 0
    assert gate.pair_ratio(1000, 4000) == 0.25


def test_a_drop_of_up_to_30_percent_passes_and_more_fails():
    baseline = {"article": 1.0, "uncached_list": 0.25}
    rounds = [
        {"article": 0.71, "uncached_list": 0.17},
        {"article": 0.70, "uncached_list": 0.16},
        {"article": 0.72, "uncached_list": 0.1},
    ]
    verdicts = gate.judge(rounds, baseline)
    assert verdicts["article"]["median_ratio"] == 0.71
    assert verdicts["article"]["pass"]
    assert verdicts["uncached_list"]["change"] == pytest.approx(-0.36)
    assert gate.failed(verdicts) == ["uncached_list"]
    assert "FAIL" in gate.table(verdicts)


def test_one_disturbed_round_does_not_move_the_median():
    verdicts = gate.judge([{"article": 1.0}, {"article": 0.2}, {"article": 0.98}], {"article": 1.0})
    assert verdicts["article"]["pass"]


def test_an_endpoint_without_a_baseline_fails():
    verdicts = gate.judge([{"article": 1.0}], {})
    assert gate.failed(verdicts) == ["article"]


def test_the_committed_baseline_has_every_endpoint_and_says_how_it_was_made():
    baseline = json.loads((REPO / "bench" / "gate-baseline.json").read_text())
    assert set(baseline["median_ratios"]) == set(BY_NAME)
    assert all(0 < ratio < 5 for ratio in baseline["median_ratios"].values())
    assert baseline["command"].startswith("tools/bench/gate.py --write-baseline")
    assert len(baseline["commit"]["sha"]) == 40


def test_the_slowed_path_patterns_match_only_their_endpoints_paths():
    import re

    article = re.compile(BY_NAME["article"].slow_pattern)
    assert article.search("/api/articles/how-to-train-your-dragon-1a2b")
    assert not article.search("/api/articles")
    assert not article.search("/api/articles/slug/comments")
    assert not article.search("/bench/bare")
    assert not re.compile(BY_NAME["cached_list"].slow_pattern).search("/bench/bare")


@pytest.mark.services
def test_a_deliberately_slowed_endpoint_trips_the_gate_and_only_it(tmp_path):
    """The article gets 1 ms more CPU per request (benchkit/gate_slow.py, in its server process
    only); the cached list on the same server does not. Against the committed baseline the gate
    must fail, name the article, and pass the list."""
    out = tmp_path / "gate.json"
    started = time.monotonic()
    tree = hashlib.md5(bytes(REPO)).hexdigest()[:8]  # noqa: S324 - a name, not security
    done = subprocess.run(  # noqa: S603 - our own script
        [
            sys.executable,
            "tools/bench/gate.py",
            "--endpoints",
            "cached_list,article",
            "--slow",
            "article:1",
            "--rounds",
            "3",
            "--out",
            str(out),
            "--pg-dir",
            f"/tmp/conduit-gate-pg-trip-{tree}",  # noqa: S108 - postgres cannot enter /root
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,  # it may first wait for /tmp/conduit-bench.lock behind another bench
        check=False,
    )
    print(f"gate with a slowed article: {time.monotonic() - started:.0f} s\n{done.stdout[-3000:]}")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "REGRESSION GATE FAILED: article more than 30%" in done.stdout
    result = json.loads(out.read_text())
    assert result["settings"]["slow"] == "article:1"
    assert not result["verdicts"]["article"]["pass"]
    assert result["verdicts"]["article"]["change"] < -0.5
    assert result["confirmation_rounds"], "a failing endpoint is measured again before failing"
    assert result["verdicts"]["cached_list"]["pass"]


def test_the_slowed_server_burns_cpu_on_its_endpoints_path_only(monkeypatch):
    import re

    from benchkit import gate_slow

    seen: list[str] = []
    monkeypatch.setattr(gate_slow, "PATTERN", re.compile(BY_NAME["article"].slow_pattern))
    monkeypatch.setattr(gate_slow, "SECONDS", 0.004)
    monkeypatch.setattr(
        gate_slow, "conduit_application", lambda environ, start: seen.append(environ["PATH_INFO"])
    )
    started = time.thread_time()
    gate_slow.application({"PATH_INFO": "/api/articles/a-slug"}, lambda *a: None)
    assert time.thread_time() - started >= 0.004
    started = time.thread_time()
    gate_slow.application({"PATH_INFO": "/bench/bare"}, lambda *a: None)
    assert time.thread_time() - started < 0.004
    assert seen == ["/api/articles/a-slug", "/bench/bare"]  # both still answered by Conduit


def test_cpu_is_counted_per_thread_so_an_exited_one_never_makes_it_negative():
    before = {"10/10": 5_000_000, "20/20": 900_000_000}  # 20 (an autovacuum worker) exits
    after = {"10/10": 7_000_000, "30/30": 1_000_000}  # 30 started meanwhile
    assert gate.cpu_used_ns(before, after) == 3_000_000


def test_a_process_trees_cpu_is_read_from_the_kernel_per_thread():
    import os

    before = gate.tree_cpu_ns([os.getpid()])
    until = time.thread_time() + 0.02
    while time.thread_time() < until:
        pass
    used = gate.cpu_used_ns(before, gate.tree_cpu_ns([os.getpid()]))
    assert used >= 20_000_000
    assert f"{os.getpid()}/{os.getpid()}" in before
