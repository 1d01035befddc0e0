"""`make drill`'s verdicts and refusals (tools/drill/cli.py) without a stack: issue 17's targets per
drill, the result file's variant, the balancer's retries read from its access log, and the
errors for an unknown drill and a stack that is not running."""

import json
from pathlib import Path
from typing import Any

import pytest
from drill import cli, faults


def figures(errors: int = 0, window: float = 0.0, lost: int = 0) -> dict[str, Any]:
    return {"errors": errors, "error_window_s": window, "writes": {"lost": lost}}


def test_primary_kill_must_stay_within_15_s_and_lose_nothing_in_synchronous_mode() -> None:
    assert cli.targets("primary-kill", figures(errors=9, window=14.9), True) == {
        "error_window_at_most_15_s": True,
        "no_acknowledged_write_lost": True,
        "all_met": True,
    }
    missed = cli.targets("primary-kill", figures(errors=9, window=15.2, lost=1), True)
    assert missed["error_window_at_most_15_s"] is False
    assert missed["no_acknowledged_write_lost"] is False
    assert missed["all_met"] is False


def test_without_synchronous_mode_primary_kill_reports_a_loss_without_a_target_on_it() -> None:
    found = cli.targets("primary-kill", figures(window=3, lost=2), False)
    assert found == {"error_window_at_most_15_s": True, "all_met": True}


def test_switchover_app_kill_and_the_others() -> None:
    assert cli.targets("primary-switchover", figures(window=5.5), True)["all_met"] is False
    assert cli.targets("primary-switchover", figures(window=4.9), True)["all_met"] is True
    assert cli.targets("app-kill", figures(errors=1, window=0.1), True) == {
        "no_failed_request_after_the_balancers_retry": False, "no_acknowledged_write_lost": True,
        "all_met": False}  # fmt: skip
    assert cli.targets("redis-kill", figures(errors=40, window=5), True) == {
        "no_acknowledged_write_lost": True, "all_met": True}  # fmt: skip
    assert cli.targets("etcd-kill", figures(lost=1), True)["all_met"] is False


def test_the_result_file_names_a_stack_that_is_not_the_default() -> None:
    assert cli.variant({"balancer": "nginx", "patroni_synchronous_mode": True}) == ""
    assert cli.variant({"balancer": "nginx", "patroni_synchronous_mode": False}) == "-sync-off"
    assert cli.variant({"balancer": "haproxy", "patroni_synchronous_mode": None}) == "-haproxy"


def test_balancer_retries_are_read_past_the_offset_from_either_balancers_log(
    tmp_path: Path,
) -> None:
    before = json.dumps({"upstream": "127.0.0.1:1, 127.0.0.1:2"}) + "\n"
    lines = [
        {"upstream": "127.0.0.1:1, 127.0.0.1:2", "status": 200},  # nginx tried two servers
        {"upstream": "127.0.0.1:2", "status": 200},
        {"server": "app2", "retries": 1},  # HAProxy's count
        {"server": "app1", "retries": 0},
    ]
    log = tmp_path / "access.log"
    log.write_text(before + "".join(json.dumps(e) + "\n" for e in lines) + "not json\n")
    assert cli.balancer_retries(log, offset=len(before)) == 2
    assert cli.balancer_retries(log, offset=0) == 3
    assert cli.balancer_retries(tmp_path / "missing.log", offset=0) == 0


def test_unknown_drills_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["nope"]) == 2
    assert "no drill named 'nope'" in capsys.readouterr().err
    assert "pitr" in cli.DRILLS
    assert cli.main([]) == 2


def test_pitr_is_met_only_when_every_row_came_back_as_it_was() -> None:
    figures = {"writes": {"lost": 0}, "pitr": {"restored": True, "rows_lost": 0,
                                                "checksum_matches": True}}  # fmt: skip
    assert cli.targets("pitr", figures, True)["restored_to_the_instant_before_the_mistake"]
    figures["pitr"]["checksum_matches"] = False
    assert not cli.targets("pitr", figures, True)["all_met"]
    figures["pitr"] = {"restored": True, "rows_lost": 3, "checksum_matches": True}
    assert not cli.targets("pitr", figures, True)["all_met"]
    figures["pitr"] = {"restored": False, "error": "no mistake was made"}
    assert not cli.targets("pitr", figures, True)["all_met"]


def test_the_drill_needs_a_running_stack(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(faults, "stack_status", lambda: {"running": False, "components": []})
    assert cli.main(["primary-kill"]) == 3
    assert "needs a running `make stack`" in capsys.readouterr().err
    down = {
        "running": False,
        "complete": True,
        "components": [{"name": "etcd", "up": False}, {"name": "redis", "up": True}],
    }
    monkeypatch.setattr(faults, "stack_status", lambda: down)
    assert cli.main(["primary-kill"]) == 3
    assert "down: etcd" in capsys.readouterr().err
