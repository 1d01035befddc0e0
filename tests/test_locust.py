"""``make locust``'s journeys (tools/bench/locustfile.py) run headless against a live server for a
few seconds: every request of every journey answers without a failure (Locust's own CSV)."""

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.factories import UserFactory, make_articles, make_comment

REPO = Path(__file__).resolve().parent.parent
LOCUST = Path(sys.executable).parent / "locust"

# PostgreSQL: the live server answers from several threads, and SQLite's shared in-memory test
# database refuses concurrent writes ("database table is locked").
pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]


def test_every_journey_runs_without_a_failure(live_server: Any, tmp_path: Path) -> None:
    author = UserFactory()
    for article in make_articles(author, 5, tags=["django", "python"]):
        make_comment(author, article)
    prefix = tmp_path / "run"
    env = {**os.environ, "LOCUST_WAIT": "0.05,0.1"}
    done = subprocess.run(  # noqa: S603 - the venv's locust, fixed arguments
        [str(LOCUST), "-f", str(REPO / "tools" / "bench" / "locustfile.py"), "--headless",
         "--users", "10", "--spawn-rate", "10", "--run-time", "3s", "--stop-timeout", "1",
         "--host", live_server.url, "--csv", str(prefix), "--only-summary",
         "--loglevel", "WARNING"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    rows = {row["Name"]: row for row in csv.DictReader(prefix.with_name("run_stats.csv").open())}
    failures = prefix.with_name("run_failures.csv").read_text()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:] + failures
    assert int(rows["Aggregated"]["Failure Count"]) == 0, failures
    # Both kinds of visitor took their journeys: sign-up and sign-in, reads, pages and writes.
    for name in ("/ (home page)", "/api/users", "/api/users/login", "/api/articles/feed",
                 "/article/[slug]", "/api/articles/[slug]/comments"):  # fmt: skip
        assert int(rows[name]["Request Count"]) > 0, (name, sorted(rows))
