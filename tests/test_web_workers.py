"""deploy/docker/web-workers.sh: how many app server processes tools/run.sh and the image start.
The in-process cache is per process, so more than one process needs a shared cache (ADR 0016)."""

import os
import secrets
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "deploy" / "docker" / "web-workers.sh"


def workers(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CACHE_URL", "CACHE_ARTICLES", "WEB_WORKERS")
    }
    return subprocess.run(  # noqa: S603 - our own script
        ["sh", str(SCRIPT)],  # noqa: S607
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "1"),
        ({"WEB_WORKERS": "1"}, "1"),
        ({"CACHE_URL": "redis://127.0.0.1:6379/0"}, "2"),
        ({"CACHE_URL": "pymemcache://127.0.0.1:11211", "WEB_WORKERS": "4"}, "4"),
        ({"CACHE_ARTICLES": "false", "WEB_WORKERS": "3"}, "3"),
        ({"CACHE_ARTICLES": "False"}, "2"),
    ],
)
def test_worker_count(env, expected):
    done = workers(**env)
    assert (done.returncode, done.stdout.strip()) == (0, expected), done.stderr


def test_several_processes_on_the_in_process_cache_are_refused():
    done = workers(WEB_WORKERS="2")
    assert done.returncode == 2
    assert "Set CACHE_URL" in done.stderr
    assert done.stdout == ""


def test_make_run_refuses_before_doing_anything(tmp_path):
    # tools/run.sh stops at the check, before migrating or serving anything.
    env = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "CACHE_ARTICLES")}
    done = subprocess.run(  # noqa: S603 - our own script
        ["bash", str(ROOT / "tools" / "run.sh")],  # noqa: S607
        env={**env, "WEB_WORKERS": "2", "PORT": "1", "SECRET_KEY": secrets.token_urlsafe(50)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Set CACHE_URL" in done.stderr
