"""docs/compliance.md makes no claim without its evidence, and every piece of evidence exists.

Each row of the document's tables is one claim; its last column names the evidence in backticks:

* ``tests/x/test_y.py::test_name`` — a test function (or class) that exists in that file;
* ``path/to/file`` or ``path/to/dir/`` — a file or directory of the repository;
* ``make target`` — a target of the Makefile;
* ``manage.py command`` — a management command of one of Conduit's apps.

A row whose evidence column has none of these fails, and so does any name that does not resolve:
renaming a test or a file without updating the map breaks the build, not the audit.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPLIANCE = ROOT / "docs" / "compliance.md"

TICKED = re.compile(r"`([^`]+)`")


def claim_rows(markdown: str) -> list[tuple[str, str]]:
    """(claim, evidence cell) for each body row of every table."""
    rows = []
    for line in markdown.splitlines():
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[-1].lower() == "evidence":
            continue
        rows.append((cells[0], cells[-1]))
    return rows


def evidence_problem(item: str) -> str | None:
    """Why ``item`` is not evidence that exists, or None when it is; '' when it is no evidence."""
    if item.startswith("make "):
        target = item.removeprefix("make ").split()[0]
        makefile = (ROOT / "Makefile").read_text()
        found = re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE)
        return None if found else f"no Makefile target {target!r}"
    if item.startswith("manage.py "):
        command = item.removeprefix("manage.py ").split()[0]
        commands = ROOT.glob(f"conduit/*/management/commands/{command}.py")
        return None if any(commands) else f"no management command {command!r}"
    path, _, name = item.partition("::")
    if "/" not in path and "." not in path:
        return ""  # a word in backticks (a setting, a header): not evidence
    if not (ROOT / path).exists():
        return f"{path} does not exist"
    if name:
        source = (ROOT / path).read_text()
        found = re.search(rf"^\s*(?:async )?(?:def|class) {re.escape(name)}\b", source, re.M)
        return None if found else f"{path} has no {name}"
    return None


def compliance_problems(markdown: str) -> list[str]:
    problems = []
    for claim, evidence in claim_rows(markdown):
        outcomes = [evidence_problem(item) for item in TICKED.findall(evidence)]
        problems += [f"{claim}: {outcome}" for outcome in outcomes if outcome]
        if None not in outcomes:
            problems.append(f"{claim}: no evidence")
    return problems


def test_every_claim_in_compliance_md_has_evidence_that_exists() -> None:
    assert compliance_problems(COMPLIANCE.read_text()) == []


def test_the_check_catches_a_claim_without_evidence_and_a_missing_test() -> None:
    table = "\n".join(
        [
            "| claim | evidence |",
            "|---|---|",
            "| exported | `tests/privacy/test_export.py::test_export_contains_everything` |",
            "| nothing | a promise |",
            "| renamed | `tests/privacy/test_export.py::test_that_does_not_exist` |",
            "| gone | `docs/nowhere.md` |",
            "| target | `make nothing-like-this` |",
            "| command | `manage.py seed_demo` |",
        ]
    )
    assert compliance_problems(table) == [
        "nothing: no evidence",
        "renamed: tests/privacy/test_export.py has no test_that_does_not_exist",
        "renamed: no evidence",
        "gone: docs/nowhere.md does not exist",
        "gone: no evidence",
        "target: no Makefile target 'nothing-like-this'",
        "target: no evidence",
    ]
