"""One list of the Debian packages the suite needs (tools/debian-packages.txt), installed by
tools/test.sh before its first step. A fresh machine once failed `make test` because a validator
used nginx before the install step that brought it: these tests keep every package that a script
of the suite or of `make stack` installs on that one list."""

# ruff: noqa: S603, S607  (the command is this repo's own installer, run by bash)

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIST = ROOT / "tools" / "debian-packages.txt"
INSTALLER = ROOT / "tools" / "debian-packages.sh"


def listed() -> list[str]:
    names = []
    for line in LIST.read_text().splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.append(name)
    return names


def named_in_scripts(*paths: Path) -> set[str]:
    """Package names passed literally to tools/debian-packages.sh in shell scripts."""
    names: set[str] = set()
    for path in paths:
        for args in re.findall(r"debian-packages\.sh ([a-z0-9 .+-]+)", path.read_text()):
            names.update(arg for arg in args.split() if not arg.startswith("-"))
    return names


def test_the_list_is_read_as_the_installer_reads_it(tmp_path: Path) -> None:
    # The installer with -f on a list of packages that are all installed does nothing and exits 0;
    # a name it cannot find in dpkg's database is reported (as root it would try apt-get).
    assert "postgresql-15" in listed()
    assert len(listed()) == len(set(listed()))
    present = tmp_path / "present.txt"
    present.write_text("# a comment\n\nbash   # always there\ncoreutils\n")
    result = subprocess.run(["bash", str(INSTALLER), "-f", str(present)], capture_output=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""


def test_test_sh_installs_the_list_before_any_other_step() -> None:
    commands = [
        line.strip()
        for line in (ROOT / "tools" / "test.sh").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]

    def first(text: str) -> int:
        return next(i for i, line in enumerate(commands) if text in line)

    install = first("debian-packages.sh -f tools/debian-packages.txt")
    for use in ("ruff check", "mypy", "manage.py", "validate-deploy.sh", "postgres.py", "pytest"):
        assert install < first(use), use


def test_the_validators_and_the_stack_install_only_listed_packages() -> None:
    from_scripts = named_in_scripts(ROOT / "tools" / "validate-deploy.sh")
    assert {"nginx", "haproxy", "prometheus", "docker-compose"} <= from_scripts
    stack = (ROOT / "tools" / "stack" / "cli.py").read_text()
    packages_block = re.search(r"PACKAGES = \[(.*?)\]", stack, re.DOTALL)
    assert packages_block is not None
    from_stack = set(re.findall(r'"([a-z0-9.+-]+)"', packages_block.group(1)))
    assert "postgresql-15" in from_stack
    assert (from_scripts | from_stack) - set(listed()) == set()
