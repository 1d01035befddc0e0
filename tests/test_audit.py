"""make audit's parts that need no network: the ignore file, and the verdict read from pip-audit's
JSON report (tools/audit.py, ADR 0023)."""

import re
from pathlib import Path

import pytest

from tests.support import load_tool

REPO = Path(__file__).resolve().parent.parent


audit = load_tool("conduit_audit_tool", REPO / "tools" / "audit.py")


def test_the_makefile_has_an_audit_target_after_install() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^audit: install ## \S", makefile, re.MULTILINE)
    assert "tools/audit.py" in makefile


def test_the_committed_ignore_file_parses() -> None:
    ignores = audit.read_ignores(audit.IGNORE_FILE.read_text())
    assert all(reason.strip() for reason in ignores.values())


def test_an_ignore_line_names_an_id_and_a_reason() -> None:
    text = (
        "# accepted\n\nGHSA-abcd-efgh-ijkl  Windows only; re-check at 7.0\nPYSEC-2026-1 dev tool\n"
    )
    assert audit.read_ignores(text) == {
        "GHSA-abcd-efgh-ijkl": "Windows only; re-check at 7.0",
        "PYSEC-2026-1": "dev tool",
    }
    with pytest.raises(audit.AuditError, match="2: want 'ID reason'"):
        audit.read_ignores("# fine\nGHSA-abcd-efgh-ijkl\n")


def test_a_finding_fails_with_1_and_names_the_fix() -> None:
    report = {
        "dependencies": [
            {
                "name": "django",
                "version": "6.1.3",
                "vulns": [{"id": "PYSEC-2026-9", "fix_versions": ["6.1.4"], "aliases": []}],
            },
            {"name": "redis", "version": "8.1.0", "vulns": []},
        ],
        "fixes": [],
    }
    verdict = audit.verdict_from_report(report)
    assert verdict.exit_code == 1
    lines = audit.summary(verdict, {})
    assert "  django 6.1.3: PYSEC-2026-9, fixed in 6.1.4" in lines
    assert "audit: 2 of 2 locked packages audited, 1 known vulnerabilities" in lines[-2]


def test_nothing_found_passes_only_when_every_package_was_audited() -> None:
    clean = {"dependencies": [{"name": "redis", "version": "8.1.0", "vulns": []}]}
    assert audit.verdict_from_report(clean).exit_code == 0
    unreachable = {
        "dependencies": [
            {"name": "redis", "version": "8.1.0", "vulns": []},
            {"name": "six", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        ]
    }
    verdict = audit.verdict_from_report(unreachable)
    assert verdict.exit_code == 2
    assert audit.summary(verdict, {})[-1].startswith("audit: FAILED")
