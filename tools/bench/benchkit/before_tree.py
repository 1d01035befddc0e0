"""``BENCH_RATIO_BEFORE``'s before side: the before commit's files in ``var/bench-before/<sha>``
(a ``git archive``, made once), and the checks that make serving them from this tree's
virtualenv and database sound: both commits lock the same packages for the server and have the
same migrations (benchkit/before_after.py)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from benchkit import REPO
from benchkit.facts import git

TREES = REPO / "var" / "bench-before"
MARKER = ".bench-before"  # written last: a tree without it is an interrupted extraction
MIGRATIONS = ":(glob)conduit/**/migrations/**"


def runtime_packages(lock_text: str) -> dict[str, str]:
    """What the server imports, from a uv.lock: the project's dependencies (not its dependency
    groups) and theirs, extras followed, as name -> version; plus the Python it requires."""
    lock = tomllib.loads(lock_text)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for package in lock["package"]:
        by_name.setdefault(package["name"], []).append(package)
    root = next(p for p in lock["package"] if set(p["source"]) & {"virtual", "editable"})
    found: dict[str, set[str]] = {}
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    todo: list[dict[str, Any]] = list(root.get("dependencies", []))
    while todo:
        dependency = todo.pop()
        for package in by_name.get(dependency["name"], []):
            version = package.get("version", "")
            if dependency.get("version", version) != version:
                continue
            extras = tuple(dependency.get("extra", []))
            if (package["name"], version, extras) in seen:
                continue
            seen.add((package["name"], version, extras))
            found.setdefault(package["name"], set()).add(version)
            todo += package.get("dependencies", [])
            for extra in extras:
                todo += package.get("optional-dependencies", {}).get(extra, [])
    packages = {name: ", ".join(sorted(versions)) for name, versions in sorted(found.items())}
    return {"python": lock.get("requires-python", ""), **packages}


def check_same_dependencies(sha: str) -> str:
    """This tree's virtualenv serves the before code: fail unless both lock the same packages."""
    files = ("uv.lock", "pyproject.toml")
    if all(git("show", f"{sha}:{f}") == (REPO / f).read_text().strip() for f in files):
        return "uv.lock and pyproject.toml are the same at both commits"
    before = runtime_packages(git("show", f"{sha}:uv.lock"))
    after = runtime_packages((REPO / "uv.lock").read_text())
    changed = [
        f"{name} {before.get(name, '-')} -> {after.get(name, '-')}"
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    ]
    if changed:
        sys.exit(
            f"BENCH_RATIO_BEFORE: the server's locked packages differ from {sha[:12]} "
            f"({'; '.join(changed)}): this tree's .venv cannot serve both"
        )
    return (
        f"uv.lock or pyproject.toml differ from {sha[:12]}, but not in the server's "
        f"{len(after) - 1} locked packages (only the dependency groups, e.g. dev)"
    )


def check_same_migrations(sha: str) -> None:
    """One database serves both sides: fail if a migration changed since the before commit."""
    changed = git("diff", "--name-only", sha, "--", MIGRATIONS).split()
    changed += git("ls-files", "--others", "--exclude-standard", "--", MIGRATIONS).split()
    if changed:
        sys.exit(
            f"BENCH_RATIO_BEFORE: migrations differ from {sha[:12]} ({', '.join(changed)}): "
            "one kept database cannot serve both sides"
        )


def before_tree(rev: str) -> tuple[str, Path]:
    """The before commit's files in var/bench-before/<sha> (``git archive``; reused if there)."""
    try:
        sha = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except subprocess.CalledProcessError:
        sys.exit(f"BENCH_RATIO_BEFORE={rev!r} is not a commit of this repository")
    tree = TREES / sha
    if (tree / MARKER).is_file():
        return sha, tree
    TREES.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}.", dir=TREES))
    archive = subprocess.run(
        ["git", "archive", "--format=tar", sha], cwd=REPO, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(partial, filter="data")
    (partial / MARKER).write_text(sha + "\n")
    shutil.rmtree(tree, ignore_errors=True)  # an interrupted extraction's leftovers
    partial.rename(tree)
    return sha, tree
