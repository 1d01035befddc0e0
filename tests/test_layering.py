"""The layering contracts of pyproject.toml ([tool.importlinter], run by `make test`): channels
above domain apps above platform, and no import cycles between domain apps. Each contract is
shown to fail on a copy of the code with one deliberately wrong import."""

# ruff: noqa: S603  (lint-imports from this interpreter's environment, on a copy of the code)

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint(
    tmp_path: Path, change: Callable[[Path], None] | None = None
) -> subprocess.CompletedProcess:
    shutil.copytree(
        ROOT / "conduit", tmp_path / "conduit", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if change is not None:
        change(tmp_path / "conduit")
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(tmp_path / "pyproject.toml"), "--no-cache"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def add_import(module: str, line: str) -> Callable[[Path], None]:
    def change(package: Path) -> None:
        path = package / module
        path.write_text(path.read_text() + f"\n{line}\n")

    return change


def test_the_code_keeps_every_contract(tmp_path: Path) -> None:
    result = lint(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # platform must not know any domain app
        ("platform/cache/flight.py", "import conduit.articles.models", "Channels above domain"),
        # a domain app must not import a channel
        ("articles/selectors.py", "import conduit.api.presenters", "Channels above domain"),
        # comments import articles already: articles importing comments closes a cycle
        ("articles/selectors.py", "import conduit.comments.models", "No import cycles"),
        # articles read users' profiles: users burying article cards was a cycle (ADR 0022)
        ("users/services.py", "import conduit.articles.invalidation", "No import cycles"),
        # the micro-cache listens to the cache: the cache calling it back would be a cycle
        ("platform/cache/safe.py", "import conduit.platform.http.micro_cache", "No import cycles"),
    ],
)
def test_a_wrong_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    result = lint(tmp_path, add_import(module, line))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{broken}" in result.stdout.split("Broken contracts")[-1], result.stdout
