"""tools/capacity.py, the capacity and cost model (ADR 0041): docs/cost.md and docs/scaling.md
hold its current output, its per-operation costs predict the measured 1M-article figures, and
every input names its results file or says it is an assumption."""

import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import load_tool

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"


@pytest.fixture(scope="module")
def capacity() -> ModuleType:
    module = load_tool("capacity", REPO / "tools" / "capacity.py")
    assert "capacity_inputs" in sys.modules
    return module


@pytest.fixture(scope="module")
def scaling(capacity: ModuleType) -> ModuleType:
    import capacity_scaling  # importable once capacity.py has put tools/ on the path

    return capacity_scaling


def test_docs_hold_the_current_output(capacity: ModuleType) -> None:
    """The test the brief asks for: regenerate with `tools/capacity.py --write` when it fails."""
    assert capacity.main(["--check"]) == 0


def test_the_check_fails_when_the_results_change(capacity: ModuleType, tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(RESULTS, results)
    inputs = capacity.ci.Inputs.load(results)
    newest_cached = inputs.rows["cpu_signed_list_cached_app"].source.split("`")[1]
    (results / newest_cached).unlink()
    assert capacity.main(["--check", "--results", str(results)]) == 1


def test_model_predicts_the_measured_1m_figures(scaling: ModuleType) -> None:
    """Issue 18: the per-operation costs measured at 10k articles predict the req/s measured at
    1M in the same commit's run, within the stated tolerance."""
    pairs = scaling.size_pairs(scaling.Results(RESULTS))
    assert len(pairs) >= 10
    assert {p[2] for p in pairs} >= {"feed", "global_list", "article_detail", "create_article"}
    for small, big, scenario, _r10k, r1m, predicted in pairs:
        error = abs(predicted / r1m - 1)
        assert error <= scaling.VALIDATION_TOLERANCE, (small, big, scenario, predicted, r1m)


def test_every_input_is_measured_or_stated(capacity: ModuleType) -> None:
    inputs = capacity.ci.Inputs.load(RESULTS)
    kinds = {row.kind for row in inputs.rows.values()}
    assert kinds <= {"measured", "config", "assumption", "pending"}
    assert inputs.rows["k8s_web_min_replicas"].kind == "config"
    for row in inputs.rows.values():
        if row.kind == "measured" and row.source.startswith("`"):
            name = row.source.split("`")[1]
            assert (RESULTS / name).is_file(), row
        elif row.kind == "config":
            assert (REPO / row.source.split("`")[1].split(":")[0]).is_file(), row
        elif row.kind != "measured":
            assert row.source.startswith(("assumption", "pending")), row
    # the per-request CPU of each request type comes from a measurement
    for kind in capacity.ci.REQUEST_TYPES:
        if kind != "feed":
            assert inputs.rows[f"cpu_{kind}_cached_app"].kind == "measured", kind


def test_mix_shares_add_up(capacity: ModuleType) -> None:
    inputs = capacity.ci.Inputs.load(RESULTS)
    total = sum(inputs.v(f"mix_{kind}") for kind in capacity.ci.REQUEST_TYPES)
    assert total == pytest.approx(1.0)


def test_edge_hit_ratio_follows_the_rate_per_key(capacity: ModuleType) -> None:
    """A 1 s micro-cache hits r/(1+r) of a key's requests at r a second: little at 1M requests a
    day, most of the hot keys' at 100M."""
    inputs = capacity.ci.Inputs.load(RESULTS)
    hot = inputs.v("anonymous_hot_share")
    per_key = 10.0
    rps = per_key * inputs.v("anonymous_hot_keys") / hot
    assert capacity.edge_hit_ratio(inputs, rps) == pytest.approx(hot * 10 / 11)
    low = capacity.load_for(inputs, 1e6, capacity.Options()).edge_hit
    high = capacity.load_for(inputs, 100e6, capacity.Options()).edge_hit
    assert 0 < low < high < hot


def test_cost_doc_states_dated_list_prices() -> None:
    text = (REPO / "docs" / "cost.md").read_text()
    assert "list prices" in text
    assert re.search(r"stated on \d{4}-\d{2}-\d{2}", text)
    for level in ("1M", "10M", "100M"):
        assert f"| {level} |" in text


def test_row_sizes_predict_the_larger_seed(scaling: ModuleType) -> None:
    """The model's storage is rows x bytes per row: the bytes per row measured on the smaller
    seed predict each large table's size at the larger one."""
    pairs = scaling.storage_pairs(scaling.Results(RESULTS))
    assert {p[2] for p in pairs} >= {"articles_article", "articles_favorite", "comments_comment"}
    for small, big, table, _rows, predicted, measured in pairs:
        assert abs(predicted / measured - 1) <= scaling.VALIDATION_TOLERANCE, (small, big, table)


def test_timeline_lengths_hold_across_sizes(scaling: ModuleType) -> None:
    """The model takes entries per timeline as measured at 1M for any number of users: the same
    measurement at 10k (100 times fewer users, the same follows and articles per user) agrees."""
    found = scaling.Results(RESULTS).timeline_lengths()
    small, big = found["10k"][1]["800"], found["1m"][1]["800"]
    assert small["timelines"] >= 100
    assert big["timelines"] >= 100
    assert abs(small["mean"] / big["mean"] - 1) <= scaling.VALIDATION_TOLERANCE
