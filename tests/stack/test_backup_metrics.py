"""tools/stack/backup_metrics.py on what pgBackRest 2.45 printed here: ``pgbackrest info
--output=json`` for a stanza with a full and an incremental backup, and one created with no
backup yet (pgbackrest-info-2.45.json, from Debian's pgbackrest 2.45 on a scratch cluster)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.stack.conftest import stack

backup_metrics = stack.backup_metrics
SAMPLE = Path(__file__).with_name("pgbackrest-info-2.45.json")


def sample() -> list[dict[str, Any]]:
    return list(json.loads(SAMPLE.read_text()))


def parsed(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``text`` by (name, sorted labels), through prometheus_client's parser."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_newest_backup_of_each_stanza() -> None:
    found = parsed(backup_metrics.backup_metrics(sample()))
    demo, empty = (("stanza", "demo"),), (("stanza", "empty"),)
    # demo: the incremental backup (stopped 1796463203) is newer than the full (1796463201).
    assert found[("pgbackrest_backup_last_completed_timestamp_seconds", demo)] == 1796463203
    assert found[("pgbackrest_backup_last_duration_seconds", demo)] == 1
    assert found[("pgbackrest_backup_last_size_bytes", demo)] == 23033544
    assert found[("pgbackrest_stanza_status_code", demo)] == 0
    counts = {t: found[("pgbackrest_backups", (("stanza", "demo"), ("type", t)))]
              for t in ("full", "diff", "incr")}  # fmt: skip
    assert counts == {"full": 1, "diff": 0, "incr": 1}
    # empty: created, never backed up: 0 (the alert's "older than 26 h" holds), status 2.
    assert found[("pgbackrest_backup_last_completed_timestamp_seconds", empty)] == 0
    assert found[("pgbackrest_stanza_status_code", empty)] == 2
    assert ("pgbackrest_backup_last_duration_seconds", empty) not in found


def test_a_backup_with_checksum_errors_does_not_count() -> None:
    info = copy.deepcopy(sample())
    info[0]["backup"][1]["error"] = True  # the incremental found page checksum errors
    found = parsed(backup_metrics.backup_metrics(info))
    assert found[("pgbackrest_backup_last_completed_timestamp_seconds", (("stanza", "demo"),))] == (
        1796463201
    )


def test_each_family_is_declared_once_and_labels_are_escaped() -> None:
    info = copy.deepcopy(sample())
    info[1]["name"] = 'odd "name" \\ here'
    text = backup_metrics.backup_metrics(info)
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert families["pgbackrest_backup_last_completed_timestamp_seconds"] == "gauge"
    assert text.count("# TYPE pgbackrest_backup_last_completed_timestamp_seconds ") == 1
    stanzas = {s.labels["stanza"] for f in text_string_to_metric_families(text) for s in f.samples}
    assert stanzas == {"demo", 'odd "name" \\ here'}
    assert backup_metrics.backup_metrics([]) == ""


def test_promtool_accepts_the_text() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian's prometheus) is not installed")
    text = backup_metrics.backup_metrics(sample())
    result = subprocess.run(  # noqa: S603 - promtool from PATH, our own text on stdin
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_file_is_replaced_whole(tmp_path: Path) -> None:
    (tmp_path / "pgbackrest.prom").write_text("old\n")
    path = backup_metrics.write_textfile(tmp_path, "pgbackrest.prom", "new\n")
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["pgbackrest.prom"]
