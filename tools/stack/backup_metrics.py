"""pgBackRest's state as Prometheus metrics, in the node exporter's textfile format: the backup
loop runs ``pgbackrest info --output=json``, turns it into text with ``backup_metrics`` and
writes it with ``write_textfile`` into the directory the stack's node exporter reads
(monitoring.TEXTFILE_DIR). The ``ConduitBackupTooOld`` alert and the dashboard's "Last backup
age" panel read ``pgbackrest_backup_last_completed_timestamp_seconds``.

The JSON is pgBackRest 2.45's (``info``'s machine-readable output, which pgBackRest keeps
stable): a list of stanzas, each with ``name``, ``status.code`` (0 ok, 2 no valid backup, ...)
and ``backup``, a list of backups with ``timestamp.start``/``stop`` (unix seconds), ``type``
(full, diff, incr) and ``error`` (true when pgBackRest found page checksum errors in it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# name -> (type, help); the order of the output
FAMILIES = {
    "pgbackrest_backup_last_completed_timestamp_seconds": (
        "gauge",
        "When the newest backup without errors finished (unix seconds; 0: none in the repository).",
    ),
    "pgbackrest_backup_last_duration_seconds": (
        "gauge",
        "How long the newest backup without errors took.",
    ),
    "pgbackrest_backup_last_size_bytes": (
        "gauge",
        "The database size the newest backup without errors covers.",
    ),
    "pgbackrest_backups": ("gauge", "Backups in the repository, by type."),
    "pgbackrest_stanza_status_code": (
        "gauge",
        "pgBackRest's status code of the stanza: 0 ok, 2 no valid backup, others an error.",
    ),
}
BACKUP_TYPES = ("full", "diff", "incr")


def _labels(labels: dict[str, str]) -> str:
    """``{k="v",...}`` with the exposition format's escapes (backslash, double quote, newline)."""

    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def backup_metrics(info: Iterable[dict[str, Any]]) -> str:
    """The text of a .prom file for ``info``, the parsed ``pgbackrest info --output=json``: per
    stanza, when its newest backup without errors finished (0 when it has none, so that the
    alert fires for a stanza that was never backed up), how long it took and the size it covers,
    the number of backups by type, and the stanza's status code."""
    samples: dict[str, list[str]] = {name: [] for name in FAMILIES}
    for stanza in info:
        name = str(stanza["name"])
        labels = _labels({"stanza": name})
        backups = stanza.get("backup") or []
        good = [b for b in backups if not b.get("error")]
        newest = max(good, key=lambda b: b["timestamp"]["stop"], default=None)
        if newest is None:
            samples["pgbackrest_backup_last_completed_timestamp_seconds"].append(f"{labels} 0")
        else:
            stop, start = newest["timestamp"]["stop"], newest["timestamp"]["start"]
            samples["pgbackrest_backup_last_completed_timestamp_seconds"].append(
                f"{labels} {_number(stop)}"
            )
            samples["pgbackrest_backup_last_duration_seconds"].append(
                f"{labels} {_number(stop - start)}"
            )
            samples["pgbackrest_backup_last_size_bytes"].append(
                f"{labels} {_number(newest['info']['size'])}"
            )
        for kind in BACKUP_TYPES:
            count = sum(1 for b in backups if b.get("type") == kind)
            samples["pgbackrest_backups"].append(
                f"{_labels({'stanza': name, 'type': kind})} {count}"
            )
        samples["pgbackrest_stanza_status_code"].append(
            f"{labels} {_number(stanza['status']['code'])}"
        )
    lines = []
    for family, (kind, help_text) in FAMILIES.items():
        if samples[family]:
            lines += [f"# HELP {family} {help_text}", f"# TYPE {family} {kind}"]
            lines += [f"{family}{sample}" for sample in samples[family]]
    return "\n".join(lines) + "\n" if lines else ""


def write_textfile(directory: Path, name: str, text: str) -> Path:
    """``text`` as ``directory``/``name`` (a ``.prom`` file), written whole or not at all: the
    node exporter may read the directory at any moment, and a half-written file is a scrape
    error."""
    path = directory / name
    tmp = directory / f".{name}.{os.getpid()}.tmp"  # not *.prom: the collector skips it
    tmp.write_text(text)
    tmp.replace(path)
    return path
