"""``make bench``'s pieces that can be checked without running a load: the bare reference view is
routed only when ``BENCH_ENDPOINTS`` is on, the wrk Lua scripts are there, wrk's output becomes
the documented result document, and the scenarios are picked in the bench's order (tools/bench/
bench.py and its ``benchkit`` package, bench/README.md). The write scenarios' pieces:
tests/test_bench_writes.py (the bare_write view, the actors, the clean-up) and
tests/test_bench_load.py (the Lua scripts under wrk, tokens, lock waits, references)."""

import importlib
import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from django.test import override_settings
from django.urls import Resolver404, clear_url_caches, resolve

import config.urls
from conduit.platform.http import bench as bench_view
from tests.support import load_tool

REPO = Path(__file__).resolve().parent.parent
LUA = REPO / "tools" / "bench" / "lua"
sys.path.insert(0, str(REPO / "tools" / "bench"))  # as bench.py and fanout.py find it
from benchkit import (  # noqa: E402
    before_after,
    before_tree,
    cpu,
    dataset,
    net,
    report,
    scenarios,
    servers,
)

SAMPLE_WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:8000/api/articles
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    27.01ms    9.12ms 102.33ms   71.20%
    Req/Sec     1.19k    80.11     1.31k    70.00%
  Latency Distribution
     50%   25.80ms
     75%   31.02ms
     90%   38.44ms
     99%   60.12ms
  11873 requests in 10.01s, 87.21MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1186.10
Transfer/sec:      8.71MB
BENCH_RESULT {"requests": 11873, "duration_s": 10.010000, "requests_per_s": 1186.10, \
"bytes": 91445000, "latency_ms": {"p50": 25.800, "p95": 45.100, "p99": 60.120, \
"mean": 27.010, "max": 102.330}, "errors": {"connect": 0, "read": 2, "write": 0, \
"timeout": 1, "status": 3}}
"""


def load_bench() -> ModuleType:
    return load_tool("conduit_bench_tool", REPO / "tools" / "bench" / "bench.py")


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    return load_bench()


@pytest.fixture
def bench_endpoints_on(tmp_path: Path) -> Iterator[Path]:
    """The URL conf as the bench's server loads it; put back as it was afterwards."""
    with override_settings(BENCH_ENDPOINTS=True, VAR_DIR=tmp_path):
        importlib.reload(config.urls)
        clear_url_caches()
        try:
            yield tmp_path
        finally:
            bench_view._bodies.clear()
    importlib.reload(config.urls)
    clear_url_caches()


# --- the bare reference view ----------------------------------------------------------------


def test_bare_view_is_not_routed_by_default(client):
    with pytest.raises(Resolver404):
        resolve("/bench/bare")
    assert client.get("/bench/bare").status_code == 404


def test_bare_view_is_routed_with_bench_endpoints_and_serves_the_captured_body(
    bench_endpoints_on, client
):
    assert resolve("/bench/bare").func is bench_view.bare
    body = b'{"articles": [], "articlesCount": 0, "padding": "' + b"x" * 7000 + b'"}'
    (bench_endpoints_on / "bench").mkdir()
    (bench_endpoints_on / "bench" / "bare.json").write_bytes(body)

    response = client.get("/bench/bare")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.content == body


def test_bare_view_says_so_when_nothing_was_captured(bench_endpoints_on, client):
    response = client.get("/bench/bare")
    assert response.status_code == 503
    assert "make bench" in response.json()["errors"]["bench"][0]


def test_default_url_conf_is_back_after_the_bench_fixture(client):
    with pytest.raises(Resolver404):
        resolve("/bench/bare")


# --- the wrk scripts and the result document ---------------------------------------------------

SCRIPTS = [
    "report.lua",
    "common.lua",
    "static.lua",
    "paths.lua",
    "toggle.lua",
    "create.lua",
    "comment.lua",
    "register.lua",
    "update.lua",
    "crowd.lua",
    "post.lua",
    "mix.lua",
]


@pytest.mark.parametrize("name", SCRIPTS)
def test_lua_script_exists(name):
    assert (LUA / name).is_file()


@pytest.mark.parametrize("name", [s for s in SCRIPTS if s not in ("report.lua", "common.lua")])
def test_every_scenario_script_reports_through_report_lua(name):
    assert 'dofile(here .. "common.lua")' in (LUA / name).read_text()
    assert 'dofile(here .. "report.lua")' in (LUA / "common.lua").read_text()
    report = (LUA / "report.lua").read_text()
    assert "function done(summary, latency, requests)" in report
    assert "BENCH_RESULT" in report
    assert "latency:percentile(99)" in report


def test_wrk_output_is_parsed_from_the_report_line():
    raw = scenarios.parse_wrk_output(SAMPLE_WRK_OUTPUT)
    assert raw["requests"] == 11873
    assert raw["latency_ms"]["p95"] == 45.1
    assert raw["errors"]["status"] == 3


def test_wrk_output_without_a_report_line_is_an_error():
    with pytest.raises(ValueError, match="BENCH_RESULT"):
        scenarios.parse_wrk_output("Running 10s test @ http://127.0.0.1:8000/\n")


def test_scenario_entry_has_the_documented_numbers_and_ratios():
    raw = scenarios.parse_wrk_output(SAMPLE_WRK_OUTPUT)
    cpu = {"app": 1.1, "db": 0.3, "nginx": 0.0, "wrk": 0.2, "machine_busy": 1.9, "other": 0.3}

    entry = report.scenario_entry(
        raw, {"nginx_static": 40_000.0, "bare_django": 11_861.0}, cpu, "GET /api/articles"
    )

    assert entry["requests_per_s"] == 1186.1
    assert set(entry["latency_ms"]) == {"p50", "p95", "p99", "mean", "max"}
    assert entry["errors"] == 6  # 2 read + 1 timeout + 3 status >= 400
    assert entry["non_2xx"] == 3
    assert entry["ratio"] == {"nginx_static": pytest.approx(0.0297, abs=1e-4), "bare_django": 0.1}
    assert entry["cpu_cores"] == cpu
    assert entry["bytes_per_response"] == round(91445000 / 11873)


def test_a_missing_reference_gives_no_ratio():
    raw = scenarios.parse_wrk_output(SAMPLE_WRK_OUTPUT)
    entry = report.scenario_entry(raw, {"nginx_static": None, "bare_django": 2000.0})
    assert entry["ratio"] == {"nginx_static": None, "bare_django": pytest.approx(0.593, abs=1e-3)}


def test_result_document_has_the_documented_keys_and_prints_as_a_table():
    raw = scenarios.parse_wrk_output(SAMPLE_WRK_OUTPUT)
    refs = {"nginx_static": 40_000.0, "bare_django": 11_861.0}
    entry = report.scenario_entry(raw, refs, {"app": 1.0, "wrk": 0.1, "db": 0.2, "other": 0.1})

    result = report.build_result(
        commit={"id": "abc1234", "sha": "abc1234" + "0" * 33, "dirty": False},
        size={
            "name": "10k",
            "users": 1000,
            "articles": 10000,
            "favorites": 50000,
            "comments": 20000,
        },
        server={"granian": "2.8.7", "workers": 2, "threads": 4, "conn_max_age": "60"},
        machine={"nproc": 2, "cpu_model": "Some CPU", "memory_gib": 23.5},
        generator={"wrk": "wrk 4.1.0", "threads": 1, "connections": 32, "duration_s": 10},
        check_plans={"passed": True, "queries": 22, "failing": []},
        references={"nginx_static": entry, "bare_django": None},
        scenarios=dict.fromkeys(("global_list", "feed", "mix_90_10"), entry),
        started_at="2026-11-24T12:00:00+00:00",
        notes=["a note"],
    )

    assert {
        "commit",
        "size",
        "server",
        "machine",
        "generator",
        "check_plans",
        "scenarios",
        "references",
        "started_at",
        "notes",
    } <= set(result)
    text = report.table(result)
    assert "global_list" in text
    assert "1,186" in text
    assert "bare_django" in text
    assert "not run" in text
    assert report.plans_summary(result["check_plans"]) == "check_plans: passed (22 queries)"


def test_sizes_match_the_documented_seed_arguments():
    assert dataset.SIZES == {
        "10k": (1_000, 10_000),
        "100k": (10_000, 100_000),
        "1m": (100_000, 1_000_000),
    }


def test_nginx_config_is_loopback_keepalive_no_access_log(tmp_path):
    conf = servers.nginx_conf(tmp_path, 18080).read_text()
    assert "listen 127.0.0.1:18080;" in conf
    assert "access_log off;" in conf
    assert "worker_processes 1;" in conf
    assert f"pid {tmp_path}/nginx.pid;" in conf
    assert (tmp_path / "www" / "api").is_dir()


def test_a_run_where_wrk_was_near_its_one_core_gets_a_note():
    raw = scenarios.parse_wrk_output(SAMPLE_WRK_OUTPUT)
    busy = report.scenario_entry(raw, {}, {"wrk": 0.93, "app": 0.9})
    calm = report.scenario_entry(raw, {}, {"wrk": 0.05, "app": 1.6})

    notes = report.generator_notes({"nginx_static": busy, "global_list": calm, "bare_django": None})

    assert len(notes) == 1
    assert notes[0].startswith("nginx_static: wrk used 0.93 cores")


@pytest.mark.parametrize(
    ("variant", "suffix"),
    [
        ({"cache": "locmem", "replica": False, "db": "persistent", "redis_killed": False}, ""),
        (
            {"cache": "off", "replica": False, "db": "persistent", "redis_killed": False},
            "-cache-off",
        ),
        (
            {"cache": "redis", "replica": True, "db": "pgbouncer", "redis_killed": True},
            "-cache-redis-replica-pgbouncer-redis-killed",
        ),
        (
            {
                "cache": "locmem",
                "replica": False,
                "db": "persistent",
                "redis_killed": False,
                "broker": "inline",
            },
            "-tasks-inline",
        ),
        (
            {
                "cache": "locmem",
                "replica": False,
                "db": "persistent",
                "redis_killed": False,
                "timelines": "redis-cluster",
            },
            "-timelines-redis-cluster",
        ),
        (
            {
                "cache": "locmem",
                "replica": False,
                "db": "persistent",
                "redis_killed": False,
                "feed_heads": False,
            },
            "-feed-heads-off",
        ),
    ],
)
def test_the_result_file_is_named_after_its_variant(variant, suffix):
    assert report.variant_suffix(variant) == suffix


def test_pgbouncer_config_is_loopback_transaction_mode(tmp_path):
    conf = servers.pgbouncer_conf(tmp_path, 6543, 5432, 20).read_text()
    assert "listen_addr = 127.0.0.1\n" in conf
    assert "listen_port = 6543\n" in conf
    assert "pool_mode = transaction\n" in conf
    assert "default_pool_size = 20\n" in conf
    assert "port=5432" in conf
    assert (tmp_path / "userlist.txt").exists()


# --- the command line, the scenarios and the clean-up ------------------------------------------


def test_the_command_line_prints_seed_bulks_arguments_and_marks_a_data_dir(tool, tmp_path, capsys):
    tool.main(["seed-args", "100k"])
    assert capsys.readouterr().out == "--users 10000 --articles 100000\n"
    with pytest.raises(SystemExit, match="BENCH_SIZE must be one of 10k, 100k, 1m"):
        tool.main(["seed-args", "5k"])

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "PG_VERSION").write_text("15\n")
    assert not dataset.reusable(tmp_path, "10k")  # no marker yet
    tool.main(["mark", "--dir", str(tmp_path), "--size", "10k"])
    assert dataset.reusable(tmp_path, "10k")
    assert not dataset.reusable(tmp_path, "1m")
    assert dataset.marked_version(tmp_path) == 1  # feed-shapes upgrades it in place
    dataset.mark(tmp_path, "10k", {"added": True, "fans": 300})
    marker = json.loads((tmp_path / dataset.MARKER).read_text())
    assert (marker["version"], marker["feed_shapes"]) == (2, {"added": True, "fans": 300})
    assert dataset.marked_version(tmp_path) == dataset.DATA_VERSION
    tool.main(["feed-shapes", "--dir", str(tmp_path), "--size", "10k"])  # done: a no-op


def test_free_ports_are_distinct_and_free():
    ports = net.free_ports(5)
    assert len(set(ports)) == 5
    assert all(net.port_is_free(port) for port in ports)


ACTORS = dataset.Actors("w", "x", "fo", "co", "up", hot_users=["h1", "h2"])
TOKENS = {"r": "R", "w": "W", "x": "X", "fo": "FO", "co": "CO", "up": "UP", "h1": "H1",
          "h2": "H2"}  # fmt: skip
READS = ["global_list", "by_tag", "by_author", "favorited_by", "signed_in_list",
         "feed_fallback", "feed",
         "article_detail", "comments", "article_detail_cold", "profile",
         "profile_signed_in", "article_one", "home_page", "article_page"]  # fmt: skip
WRITES = ["favorite_unfavorite", "create_article", "follow_unfollow", "comment", "register",
          "update_user", "hot_favorite", "hot_follow"]  # fmt: skip


def inputs() -> dataset.Inputs:
    return dataset.Inputs(
        actors=ACTORS, tag="django", tag_articles=10, author="a", author_articles=3,
        favoriter="f", favoriter_favorites=7, reader="r", reader_following=10,
        detail_slugs=["one", "two"], cold_slugs=["three"], profile_usernames=["a", "r"],
        favorite_slugs=["one"],
        follow_usernames=["a", "f"], hot_article="one", hot_article_favorites=0,
        hot_author="a", hot_author_followers=2,
    )  # fmt: skip


def test_every_scenario_runs_a_lua_script_that_exists(tmp_path):
    every = scenarios.all_scenarios(inputs(), TOKENS, tmp_path, "run1")

    assert [s.name for s in every] == [*READS, *WRITES, "mix_90_10"]
    assert [s.name for s in every if s.kind == scenarios.WRITE] == WRITES
    assert {s.script for s in every} <= set(SCRIPTS)
    assert scenarios.read_lines(tmp_path, "detail.txt") == [
        "/api/articles/one",
        "/api/articles/two",
    ]
    assert scenarios.read_lines(tmp_path, "cold.txt") == ["/api/articles/three"]


def test_the_feed_shapes_readers_read_their_feed_cold_then_warm(tmp_path):
    shaped = inputs()
    shaped.heavy_reader, shaped.heavy_following = "heavy", 1000
    shaped.fan_reader, shaped.fan_following = "fan", 11
    tokens = TOKENS | {"heavy": "HEAVY", "fan": "FAN"}

    feeds = [s for s in scenarios.all_scenarios(shaped, tokens, tmp_path, "run1")
             if s.name.startswith("feed")]  # fmt: skip

    assert [(s.name, s.reader, s.timelines, s.args) for s in feeds] == [
        ("feed_fallback", "r", "cold", ["R"]),
        ("feed_following_1000_fallback", "heavy", "cold", ["HEAVY"]),
        ("feed_celebrity_fan_fallback", "fan", "cold", ["FAN"]),
        ("feed", "r", "warm", ["R"]),
        ("feed_following_1000", "heavy", "warm", ["HEAVY"]),
        ("feed_celebrity_fan", "fan", "warm", ["FAN"]),
    ]
    assert all(s.path == "/api/articles/feed" and s.kind == scenarios.READ for s in feeds)
    assert "follows 1000" in feeds[1].request


def test_bench_scenarios_picks_a_subset_in_the_bench_order(tmp_path):
    every = scenarios.all_scenarios(inputs(), TOKENS, tmp_path, "run1")

    assert scenarios.selected(every, "") == every
    picked = scenarios.selected(every, "create_article,global_list")
    assert [s.name for s in picked] == ["global_list", "create_article"]
    picked = scenarios.selected(every, "hot_follow,register,follow_unfollow,comment")
    assert [s.name for s in picked] == ["follow_unfollow", "comment", "register", "hot_follow"]
    with pytest.raises(SystemExit, match=r"unknown \['nope'\]"):
        scenarios.selected(every, "global_list,nope")


def test_each_reference_gets_its_ratio_to_both():
    raw = scenarios.parse_wrk_output(SAMPLE_WRK_OUTPUT)
    nginx = report.scenario_entry(raw, {})
    references = {"nginx_static": nginx, "bare_django": None}

    report.cross_ratios(references, {"nginx_static": 1186.1, "bare_django": None})

    assert nginx["ratio"] == {"nginx_static": 1.0, "bare_django": None}


@pytest.mark.parametrize(
    ("value", "wanted"),
    [("1", ("nginx_static", "bare_django", "bare_write")),
     ("", ("nginx_static", "bare_django", "bare_write")),
     ("0", ()), ("bare_django", ("bare_django",)),
     ("bare_django,bare_write", ("bare_django", "bare_write"))],
)  # fmt: skip
def test_bench_references_is_all_none_or_some_by_name(value, wanted):
    assert report.references_wanted(value) == wanted


def test_an_unknown_reference_is_an_error():
    with pytest.raises(ValueError, match="unknown bare"):
        report.references_wanted("bare")


# --- make bench-ratio with BENCH_RATIO_BEFORE (benchkit/before_after.py) ----------------------


def test_before_after_orders_put_each_side_once_in_each_place_and_after_each_other_once():
    orders = [before_after.round_order(number) for number in range(1, 5)]

    for position in range(4):
        assert sorted(order[position] for order in orders) == sorted(before_after.SIDES)
    successions = [(a, b) for order in orders for a, b in itertools.pairwise(order)]
    assert len(set(successions)) == len(successions) == 12
    assert before_after.round_order(5) == orders[0]


def ratio_round(number, sides, bare=4000.0):
    """A round as before_after records it: per side, req/s of (signed_in_list, global_list)."""
    return {
        "round": number,
        "bare_django_requests_per_s": bare,
        "sides": {
            side: {
                "signed_in_list": {"requests_per_s": signed_in, "errors": 0},
                "global_list": {"requests_per_s": anonymous, "errors": 0},
            }
            for side, (signed_in, anonymous) in sides.items()
        },
    }


def test_before_after_criteria_are_medians_of_per_round_ratios():
    rounds = [
        ratio_round(1, {"before-off": (400, 800), "before-cached": (1200, 3000),
                        "after-off": (400, 800), "after-cached": (1400, 3600)}),
        ratio_round(2, {"before-off": (500, 1000), "before-cached": (1500, 3400),
                        "after-off": (450, 960), "after-cached": (1800, 3500)}, bare=4100.0),
        ratio_round(3, {"before-off": (400, 800), "before-cached": (1000, 3000),
                        "after-off": (410, 840), "after-cached": (1400, 3000)}),
    ]  # fmt: skip

    summary = before_after.criteria(rounds)

    speedup = summary["signed_in_speedup"]
    assert speedup["after"]["ratios"] == [3.5, 4.0, 3.415]
    assert (speedup["after"]["median"], speedup["after"]["pass"]) == (3.5, True)
    assert (speedup["before"]["median"], speedup["before"]["pass"]) == (3.0, False)
    share = summary["anonymous_share_of_bare"]
    assert share["after"]["ratios"] == [0.9, 0.854, 0.75]
    assert (share["after"]["median"], share["after"]["pass"]) == (0.854, True)
    assert share["before"]["median"] == 0.75
    uncached = summary["uncached_after_over_before"]["scenarios"]
    assert uncached["signed_in_list"]["ratios"] == [1.0, 0.9, 1.025]
    assert uncached["global_list"]["median"] == 1.0
    assert summary["pass"] is True
    printed = before_after.table(rounds, summary, "38f577f")
    assert "signed_in_list cached/off" in printed
    assert printed.endswith("all three criteria: PASS")


@pytest.mark.parametrize(
    ("after_off", "passed", "within"),
    [(940, False, False), (950, True, True), (1050, True, True), (1080, True, False)],
)
def test_uncached_fails_only_when_more_than_5_percent_slower_than_before(after_off, passed, within):
    sides = {"before-off": (1000, 1000), "before-cached": (4000, 4000),
             "after-off": (after_off, after_off), "after-cached": (4000, 4000)}  # fmt: skip

    summary = before_after.criteria([ratio_round(1, sides)])

    entry = summary["uncached_after_over_before"]["scenarios"]["signed_in_list"]
    assert (entry["pass"], entry["within_5_percent"]) == (passed, within)
    assert summary["pass"] is passed


def test_a_criterion_that_was_not_measured_fails_the_run():
    sides = dict.fromkeys(before_after.SIDES, (1000, 4000))

    summary = before_after.criteria([ratio_round(1, sides, bare=None)])

    share = summary["anonymous_share_of_bare"]["after"]
    assert (share["ratios"], share["median"], share["pass"]) == ([], None, None)
    assert summary["pass"] is False
    assert "not measured" in before_after.table([ratio_round(1, sides, bare=None)], summary, "x")


UV_LOCK = """\
version = 1
requires-python = "==3.13.*"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "django" }, { name = "celery", extra = ["redis"] }]

[package.dev-dependencies]
dev = [{ name = "pytest" }]

[[package]]
name = "celery"
version = "5.7.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "kombu" }]

[package.optional-dependencies]
redis = [{ name = "redis" }]
sqs = [{ name = "boto3" }]

[[package]]
name = "django"
version = "6.1.3"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "kombu"
version = "5.7.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "redis"
version = "8.1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "boto3"
version = "1.44.8"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "9.1.0"
source = { registry = "https://pypi.org/simple" }
"""


def test_the_servers_packages_are_the_projects_dependencies_with_their_extras_not_its_groups():
    assert before_tree.runtime_packages(UV_LOCK) == {
        "python": "==3.13.*", "celery": "5.7.0", "django": "6.1.3", "kombu": "5.7.0",
        "redis": "8.1.0",
    }  # fmt: skip
    bumped = UV_LOCK.replace('"6.1.3"', '"6.1.4"')
    assert before_tree.runtime_packages(bumped)["django"] == "6.1.4"
    a_new_dev_tool = UV_LOCK.replace(
        '[{ name = "pytest" }]', '[{ name = "pytest" }, { name = "x" }]'
    )
    assert before_tree.runtime_packages(a_new_dev_tool) == before_tree.runtime_packages(UV_LOCK)


def test_a_ratio_side_counts_each_error_once():
    ratio = load_tool("conduit_bench_ratio", REPO / "tools" / "bench" / "ratio.py")
    raw = json.loads(SAMPLE_WRK_OUTPUT.split("BENCH_RESULT ", 1)[1])
    entry = report.scenario_entry(raw, {}, {"app": 1.0}, "GET /api/articles")
    summary = ratio.side_summary({"scenarios": {"global_list": entry}})["global_list"]
    assert summary["errors"] == 6  # 2 read, 1 timeout and 3 non-2xx
    assert summary["app_cpu_ms_per_request"] == round(1.0 / 1186.10 * 1000, 3)


def test_the_plot_takes_runs_without_the_bare_view_and_with_different_scenarios(tmp_path):
    plot = load_tool("conduit_bench_plot", REPO / "tools" / "bench" / "plot.py")
    results = REPO / "bench" / "results"
    subset = results / "4e00907-10k-cache-redis.json"  # bare_django not run, 3 write scenarios
    full = results / "aa20e1d-10k-cache-redis.json"
    plot.main([str(subset), str(full)], out=tmp_path)
    assert (tmp_path / "bench-requests.png").stat().st_size > 10_000
    assert (tmp_path / "bench-p99.png").stat().st_size > 10_000


def test_a_child_that_exits_during_a_run_keeps_its_cpu_in_the_tree():
    """A PostgreSQL backend ended mid-run (a recycled connection) is an exited child of the
    postmaster: its CPU stays in the tree's count (the postmaster's waited-for children), where
    it used to vanish and leave the run's database time at 0."""
    import os
    import subprocess

    watch = cpu.CpuWatch({"tree": os.getpid()})
    watch.start()
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    # Started, burned, exited and waited for between the two snapshots.
    subprocess.run([sys.executable, "-c", burn], check=True)  # noqa: S603 - our own code
    cores = watch.stop()
    assert (cores["tree"] or 0) * cores["wall_s"] >= 0.25
