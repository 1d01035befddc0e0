"""What a result records about its circumstances: the commit, the machine, the versions of the
tools and the database's settings."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchkit import REPO


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()


def commit_info() -> dict[str, Any]:
    """The commit measured. ``dirty`` means tracked files differ from it (untracked files, e.g.
    a colleague's work in progress, do not count, as with ``git describe --dirty``)."""
    changed = git("diff", "--name-only", "HEAD").splitlines()
    short = git("rev-parse", "--short", "HEAD")
    return {
        "id": short + ("-dirty" if changed else ""),
        "sha": git("rev-parse", "HEAD"),
        "subject": git("log", "-1", "--format=%s"),
        "dirty": bool(changed),
        "changed_files": changed,
    }


def machine_info() -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    meminfo = {
        k: v.strip()
        for k, v in (line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    }
    mem_kb = int(meminfo.get("MemTotal", "0 kB").split()[0])
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "loadavg_at_start": list(os.getloadavg()),
    }


def wrk_version() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (out.stdout + out.stderr).splitlines()[0].strip() if (out.stdout + out.stderr) else ""


def package_version(package: str) -> str:
    return version(package)


def database_info() -> dict[str, Any]:
    """The server's version and the settings that move the numbers (Django must be set up)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {"vendor": connection.vendor}
    info: dict[str, Any] = {"vendor": "postgresql"}
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        info["version"] = cursor.fetchone()[0]
        for name in ("fsync", "synchronous_commit", "shared_buffers", "max_connections",
                     "random_page_cost"):  # fmt: skip
            cursor.execute(f"SHOW {name}")
            info[name] = cursor.fetchone()[0]
    return info
