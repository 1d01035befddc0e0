"""The layering contracts of pyproject.toml ([tool.importlinter], run by `make test`): channels
above domain apps above platform, no import cycles between domain apps, and invalidation modules
that are leaves. Each contract is shown to fail on a copy of the code with one deliberately
wrong import."""

# ruff: noqa: S603  (lint-imports from this interpreter's environment, on a copy of the code)

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import grimp
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
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # platform must not know any domain app
        ("platform/cache/flight.py", "import conduit.articles.models", "Channels above domain"),
        # the audit log sits below every domain app (ADR 0032), and the platform below it
        ("audit/services.py", "import conduit.users.models", "Channels above domain"),
        ("platform/ratelimit.py", "import conduit.audit.services", "Channels above domain"),
        # a domain app must not import a channel
        ("articles/selectors.py", "import conduit.api.presenters", "Channels above domain"),
        # comments import articles already: articles importing comments closes a cycle
        ("articles/selectors.py", "import conduit.comments.models", "No import cycles"),
        # articles read users' profiles: users burying article cards was a cycle (ADR 0022)
        ("users/services.py", "import conduit.articles.invalidation", "No import cycles"),
        # the micro-cache listens to the cache: the cache calling it back would be a cycle
        ("platform/cache/safe.py", "import conduit.platform.http.micro_cache", "No import cycles"),
        # an invalidation module imports the platform and its app's models, nothing else
        ("users/invalidation.py", "import conduit.users.selectors", "Invalidation modules"),
        ("users/invalidation.py", "import conduit.articles.models", "Invalidation modules"),
    ],
)
def test_a_wrong_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    result = lint(tmp_path, add_import(module, line))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{broken}" in result.stdout.split("Broken contracts")[-1], result.stdout


def test_invalidation_modules_import_the_platform_and_their_apps_models_only() -> None:
    # The contract forbids the other apps and every app's reads and writes; this is the exact
    # rule, for any module an app adds later too.
    graph = grimp.build_graph("conduit")
    leaves = sorted(m for m in graph.modules if m.endswith(".invalidation"))
    assert "conduit.users.invalidation" in leaves
    for leaf in leaves:
        own_models = leaf.rsplit(".", 1)[0] + ".models"
        imported = graph.find_modules_directly_imported_by(leaf)
        wrong = {m for m in imported if not m.startswith("conduit.platform.") and m != own_models}
        assert not wrong, (leaf, wrong)
