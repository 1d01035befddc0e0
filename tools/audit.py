"""make audit: pip-audit over exactly the locked dependency set (ADR 0023).

uv exports uv.lock (every group, hashes, not the project itself) to a requirements file;
pip-audit reads it with ``--disable-pip``, so nothing is resolved or installed and the versions
audited are the locked ones. Findings accepted on purpose are listed in tools/audit-ignore.txt,
one ID and its reason per line.

pip-audit reports "No known vulnerabilities found" and exits 0 even when it could audit no
package at all (its vulnerability service unreachable, or a version it does not know), so the
verdict here is made from its JSON report: a package that was not audited fails the audit as
surely as a finding.

Exit status: 0 every locked package audited and nothing found; 1 a known vulnerability; 2 a package
could not be audited, or the ignore file or pip-audit itself failed.
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
IGNORE_FILE = ROOT / "tools" / "audit-ignore.txt"
_IGNORE_LINE = re.compile(r"^(?P<id>[A-Za-z][A-Za-z0-9._-]*-[A-Za-z0-9._-]+)\s+(?P<reason>\S.*)$")


class AuditError(Exception):
    """The audit could not run or could not be trusted."""


def read_ignores(text: str) -> dict[str, str]:
    """Vulnerability ID -> why it is accepted; blank lines and ``#`` comment lines are skipped."""
    ignores: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _IGNORE_LINE.match(line)
        if match is None:
            raise AuditError(f"{IGNORE_FILE.name}:{number}: want 'ID reason', got {raw!r}")
        ignores[match["id"]] = match["reason"]
    return ignores


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    vuln_id: str
    fixed_in: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    audited: int
    skipped: tuple[str, ...]  # pip-audit's reason, one per package it could not audit
    findings: tuple[Finding, ...]

    @property
    def exit_code(self) -> int:
        if self.findings:
            return 1
        return 2 if self.skipped else 0


def verdict_from_report(report: Mapping[str, Any]) -> Verdict:
    """Read pip-audit's ``--format json`` report (``dependencies``: name, version, vulns or a
    skip_reason)."""
    audited = 0
    skipped: list[str] = []
    findings: list[Finding] = []
    for dependency in report["dependencies"]:
        if "skip_reason" in dependency:
            skipped.append(str(dependency["skip_reason"]))
            continue
        audited += 1
        findings.extend(
            Finding(
                package=dependency["name"],
                version=dependency["version"],
                vuln_id=vuln["id"],
                fixed_in=tuple(vuln.get("fix_versions", [])),
            )
            for vuln in dependency.get("vulns", [])
        )
    return Verdict(audited=audited, skipped=tuple(skipped), findings=tuple(findings))


def summary(verdict: Verdict, ignored: Mapping[str, str]) -> list[str]:
    lines = [
        f"  {f.package} {f.version}: {f.vuln_id}, fixed in {', '.join(f.fixed_in) or 'nothing yet'}"
        for f in verdict.findings
    ]
    total = verdict.audited + len(verdict.skipped)
    lines.append(
        f"audit: {verdict.audited} of {total} locked packages audited, "
        f"{len(verdict.findings)} known vulnerabilities, "
        f"{len(ignored)} ignored ({IGNORE_FILE.name})"
    )
    if verdict.skipped:
        lines.append(f"audit: {len(verdict.skipped)} not audited, e.g. {verdict.skipped[0]}")
        lines.append("audit: FAILED, the vulnerability service did not answer for every package")
    elif verdict.findings:
        lines.append(
            "audit: FAILED, upgrade (uv lock --upgrade-package NAME) or ignore with a reason"
        )
    else:
        lines.append("audit: passed")
    return lines


def run(uv: str, pip_audit: str) -> int:
    ignores = read_ignores(IGNORE_FILE.read_text())
    with tempfile.TemporaryDirectory(prefix="conduit-audit-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        report_path = Path(tmp) / "report.json"
        export = [uv, "export", "--frozen", "--format", "requirements-txt", "--all-groups"]
        export += ["--no-emit-project", "--quiet", "--output-file", str(requirements)]
        subprocess.run(export, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        command = [pip_audit, "--requirement", str(requirements), "--disable-pip"]
        command += ["--progress-spinner", "off", "--format", "json", "--output", str(report_path)]
        for vuln_id in ignores:
            command += ["--ignore-vuln", vuln_id]
        # pip-audit exits 1 on a finding; the report says the rest, and its absence is a failure.
        # Its "No known vulnerabilities found" is dropped: it says so with nothing audited too.
        done = subprocess.run(command, cwd=ROOT, check=False, capture_output=True, text=True)
        for line in done.stderr.splitlines():
            if line.strip() and line.strip() != "No known vulnerabilities found":
                print(line, file=sys.stderr)
        if not report_path.exists():
            raise AuditError(f"pip-audit wrote no report (exit status {done.returncode})")
        verdict = verdict_from_report(json.loads(report_path.read_text()))
    print("\n".join(summary(verdict, ignores)))
    return verdict.exit_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", required=True, help="the uv the Makefile found")
    parser.add_argument("--pip-audit", default=str(Path(sys.executable).parent / "pip-audit"))
    args = parser.parse_args()
    try:
        return run(args.uv, args.pip_audit)
    except (AuditError, subprocess.CalledProcessError) as error:
        print(f"audit: FAILED, {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
