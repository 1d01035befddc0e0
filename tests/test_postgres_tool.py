"""``tools/postgres.py`` wipes only what it made: ``--dir`` is the parent of the server's data, and
a directory that is not one of its servers (a PostgreSQL data directory passed by mistake) is
kept unless ``--fresh`` says otherwise."""

from pathlib import Path

import pytest

from tests.support import load_tool

REPO = Path(__file__).resolve().parent.parent
postgres = load_tool("postgres_tool", REPO / "tools" / "postgres.py")


@pytest.fixture(autouse=True)
def _installed(monkeypatch):
    monkeypatch.setattr(postgres, "ensure_installed", lambda: None)


def test_a_directory_it_did_not_make_is_kept(tmp_path):
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("15\n")

    with pytest.raises(SystemExit, match="--fresh wipes it"):
        postgres.start(pgdata, 0, fast=True, fresh=False)

    assert (pgdata / "PG_VERSION").read_text() == "15\n"


def test_fresh_wipes_it(tmp_path, monkeypatch):
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("15\n")

    class Stop(Exception):
        pass

    def initdb(*args, **kwargs):
        raise Stop  # the wipe happened; no server needed for this test

    monkeypatch.setattr(postgres.subprocess, "run", initdb)
    with pytest.raises(Stop):
        postgres.start(pgdata, 0, fast=True, fresh=True)

    assert not (pgdata / "PG_VERSION").exists()
