"""The docs the code can contradict: docs/configuration.md against the environment variables the
code reads, the ADR index against docs/adr/, and the relative links of the README and main docs.

What counts as reading a variable (``variables_read``):

* Python (``config/``, ``conduit/``, ``tools/``): django-environ's ``env("X")``, ``env.str("X")``,
  ``env.bool("X")``... and ``env.get("X")`` (conduit/platform/storages.py reads ``os.environ`` as a
  mapping named ``env``); ``os.environ.get("X")``, ``os.environ["X"]``, ``os.environ.setdefault``,
  ``os.getenv``; and a call of any function that looks its own parameter up in ``os.environ``
  (``env_int("X")`` in tools/bench/fanout.py, ``ports.take("X")`` in tools/stack/cli.py). Those
  helpers are found with ``ast``, so a new one is followed without editing this file.
* Shell (``tools/**/*.sh``, ``deploy/**/*.sh``, and the Python of their heredocs): ``${X:-...}``
  (any default operator), and ``$X`` or ``${X}`` of a name the script never assigns.
* The Makefile: ``X ?= ...``, and ``$${X...}`` in recipes.
* compose.yaml: its ``${X...}`` interpolation.

Not scanned: ``tests/``. The variables only the suite reads are set by the suite for itself
(``CONDUIT_EXPECT_DB`` by tools/test.sh, ``CONDUIT_TEST_DATABASE_NAME`` and ``DRAIN_MARK_DIR`` by
fixtures for the processes they start) or are knobs of the browser tests (``CONDUIT_CHROMIUM``),
which docs/contributing.md describes.
"""

import ast
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = ROOT / "docs" / "configuration.md"
ADR_DIR = ROOT / "docs" / "adr"

# Read by the code, deliberately without a row in docs/configuration.md.
NOT_DOCUMENTED = {
    # The shell's, the operating system's and CI's own (bash sets most of them itself).
    *("PATH", "HOME", "PWD", "OLDPWD", "USER", "TMPDIR", "IFS", "CI", "TERM"),
    # /etc/os-release's, which tools/fresh-check.sh sources for the Debian release's name.
    "VERSION_CODENAME",
    *("BASH_SOURCE", "BASHPID", "EUID", "UID", "PPID", "RANDOM", "SECONDS", "LINENO", "FUNCNAME"),
    # pytest's and pytest-xdist's own (PYTEST_ARGS is tools/test.sh's, and documented).
    *("PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"),
    "PYTEST_XDIST_WORKER",
    # Django's: config/wsgi.py, asgi.py and celery.py default it to config.settings; pytest's
    # configuration (pyproject.toml) to config.settings_test.
    "DJANGO_SETTINGS_MODULE",
    # The official PostgreSQL image sets these; deploy/postgres/primary-init.sh runs inside it.
    "POSTGRES_USER",
    "POSTGRES_DB",
    "PGDATA",
}
# Documented, and read by a library rather than by Conduit's code: no scan can see them.
READ_BY_LIBRARIES = {
    "AWS_ACCESS_KEY_ID": "boto3 (MEDIA_STORAGE=s3)",
    "AWS_SECRET_ACCESS_KEY": "boto3 (MEDIA_STORAGE=s3)",
    # OpenTelemetry's SDK reads its own variables when tracing is on (ADR 0037).
    "OTEL_TRACES_SAMPLER": "opentelemetry-sdk",
    "OTEL_TRACES_SAMPLER_ARG": "opentelemetry-sdk",
    "OTEL_EXPORTER_OTLP_HEADERS": "opentelemetry-exporter-otlp-proto-http",
    "OTEL_RESOURCE_ATTRIBUTES": "opentelemetry-sdk",
    "OTEL_BSP_SCHEDULE_DELAY": "opentelemetry-sdk",
    "OTEL_BSP_MAX_QUEUE_SIZE": "opentelemetry-sdk",
}


def repo_sources() -> dict[str, str]:
    """Every file whose variables docs/configuration.md must list, by path from the repo root."""
    patterns = [
        "config/**/*.py",
        "conduit/**/*.py",
        "tools/**/*.py",
        "tools/**/*.sh",
        "deploy/**/*.sh",
        "Makefile",
        "compose.yaml",
    ]
    paths = sorted({path for pattern in patterns for path in ROOT.glob(pattern)})
    return {str(path.relative_to(ROOT)): path.read_text() for path in paths}


# --- Reading variables ---------------------------------------------------------------------------

_NAME = r"[A-Z_][A-Z0-9_]*"
_PY_SUBSCRIPT = re.compile(rf"""\bos\.environ\[\s*["']({_NAME})["']\s*\]""")
_SH_WITH_DEFAULT = re.compile(rf"\$\{{({_NAME})(?::?[-=+?])")
_SH_REFERENCE = re.compile(rf"(?<!\$)\$\{{?({_NAME})(?![A-Za-z0-9_])")
_SH_ASSIGNED = re.compile(
    rf"(?:^|[\s;(&|])(?:(?:export|local|readonly|declare(?:\s+-\w+)*)\s+)?({_NAME})\+?=", re.M
)
_SH_LOOP_OR_READ = re.compile(rf"\b(?:for|read(?:\s+-\w+)*)\s+({_NAME})\b")
_MAKE_DEFAULT = re.compile(rf"^({_NAME})\s*\?=", re.M)
_MAKE_SHELL = re.compile(rf"\$\$\{{({_NAME})")
_COMPOSE = re.compile(rf"(?<!\$)\$\{{({_NAME})")


def _environ_key(node: ast.AST) -> ast.expr | None:
    """The key of ``os.environ.get(k)``, ``os.environ.setdefault(k, ...)``, ``os.getenv(k)`` or
    ``os.environ[k]``; None for anything else."""
    lookups = {"os.environ.get", "os.environ.setdefault", "os.getenv"}
    if isinstance(node, ast.Call) and node.args and ast.unparse(node.func) in lookups:
        return node.args[0]
    if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
        return node.slice
    return None


def reader_helpers(python_sources: Iterable[str]) -> set[str]:
    """Functions that look their own parameter up in the environment: ``env_int(name, ...)``."""
    helpers = set()
    for text in python_sources:
        for function in ast.walk(ast.parse(text)):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = {arg.arg for arg in [*function.args.args, *function.args.kwonlyargs]}
            for node in ast.walk(function):
                key = _environ_key(node)
                if isinstance(key, ast.Name) and key.id in params:
                    helpers.add(function.name)
    return helpers


def _python_reads(text: str, helpers: set[str]) -> set[str]:
    callees = [r"\benv(?:\.[a-z_]+)?", r"\bos\.environ\.(?:get|setdefault)", r"\bos\.getenv"]
    callees += [rf"\b{re.escape(name)}" for name in sorted(helpers)]
    call = re.compile(rf"""(?:{"|".join(callees)})\(\s*["']({_NAME})["']""")
    return set(call.findall(text)) | set(_PY_SUBSCRIPT.findall(text))


def _shell_reads(text: str) -> set[str]:
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assigned = set(_SH_ASSIGNED.findall(code)) | set(_SH_LOOP_OR_READ.findall(code))
    return set(_SH_WITH_DEFAULT.findall(code)) | (set(_SH_REFERENCE.findall(code)) - assigned)


def variables_read(sources: Mapping[str, str]) -> dict[str, set[str]]:
    """Variable name -> the files that read it."""
    helpers = reader_helpers(text for path, text in sources.items() if path.endswith(".py"))
    found: dict[str, set[str]] = {}
    for path, text in sources.items():
        if path.endswith(".py"):
            names = _python_reads(text, helpers)
        elif path.endswith(".sh"):
            names = _shell_reads(text) | _python_reads(text, helpers)
        elif Path(path).name == "Makefile":
            names = set(_MAKE_DEFAULT.findall(text)) | set(_MAKE_SHELL.findall(text))
        elif Path(path).name == "compose.yaml":
            names = set(_COMPOSE.findall(text))
        else:
            raise ValueError(f"no scanner for {path}")
        for name in names:
            found.setdefault(name, set()).add(path)
    return found


def variables_documented(markdown: str) -> set[str]:
    """The names in the first column of the tables of docs/configuration.md."""
    names = set()
    for line in markdown.splitlines():
        cells = line.split("|")
        if line.startswith("|") and len(cells) > 2:
            names.update(re.findall(rf"`({_NAME})`", cells[1]))
    return names


def configuration_problems(sources: Mapping[str, str], markdown: str) -> list[str]:
    read = variables_read(sources)
    documented = variables_documented(markdown)
    problems = [
        f"{name} is read by {', '.join(sorted(paths))} and has no row in docs/configuration.md"
        for name, paths in sorted(read.items())
        if name not in documented and name not in NOT_DOCUMENTED
    ]
    problems += [
        f"{name} has a row in docs/configuration.md and nothing reads it"
        for name in sorted(documented - read.keys() - READ_BY_LIBRARIES.keys())
    ]
    return problems


def test_configuration_md_lists_exactly_the_variables_the_code_reads() -> None:
    problems = configuration_problems(repo_sources(), CONFIGURATION.read_text())
    assert not problems, "\n".join(problems)


def test_the_scan_sees_every_kind_of_read() -> None:
    read = variables_read(repo_sources())
    assert {"env_int", "positive", "take"} <= reader_helpers(
        text for path, text in repo_sources().items() if path.endswith(".py")
    )
    expected = {
        "SECRET_KEY": "config/settings.py",  # env.str
        "AWS_STORAGE_BUCKET_NAME": "conduit/platform/storages.py",  # a mapping's env.get
        "STACK_PG_REPLICA_PORT": "tools/stack/cli.py",  # ports.take, a helper
        "BENCH_ROUNDS": "tools/bench/ratio.py",  # positive, a helper
        "GRANIAN_LOG_LEVEL": "tools/run.sh",  # ${X:-default}
        "PYTHON313": "Makefile",  # ?=
        "BENCH_STACK_APPS": "Makefile",  # $${X:-} in a recipe
        "PUBLIC_HOST": "compose.yaml",  # ${X:-default}
        "REPLICATION_PASSWORD": "deploy/postgres/primary-init.sh",  # "$X", never assigned
    }
    for name, path in expected.items():
        assert path in read.get(name, set()), name


@pytest.mark.parametrize(
    "name",
    [
        "SITE_URL",
        "AWS_S3_REGION_NAME",
        "STACK_LB_STATS_PORT",
        "BENCH_FOLLOWERS",
        "GRANIAN_LOG_LEVEL",
        "PYTHON313",
        "HTTP_PORT",
    ],
)
def test_a_row_removed_from_configuration_md_fails(name: str) -> None:
    markdown = CONFIGURATION.read_text()
    row = next(line for line in markdown.splitlines() if line.startswith(f"| `{name}`"))

    problems = configuration_problems(repo_sources(), markdown.replace(row + "\n", ""))

    assert any(problem.startswith(f"{name} is read by") for problem in problems), problems


def new_problems(sources: Mapping[str, str], markdown: str) -> set[str]:
    """The problems a change brings, beside any the repository has today (those fail one test,
    test_configuration_md_lists_exactly_the_variables_the_code_reads, not all of these)."""
    today = configuration_problems(repo_sources(), CONFIGURATION.read_text())
    return set(configuration_problems(sources, markdown)) - set(today)


@pytest.mark.parametrize(
    ("path", "added"),
    [
        ("config/settings.py", 'NEW = env("CONDUIT_NEW_SETTING")'),
        ("config/settings.py", 'NEW = env.bool("CONDUIT_NEW_SETTING", default=False)'),
        ("config/settings.py", 'NEW = os.environ.get("CONDUIT_NEW_SETTING")'),
        ("config/settings.py", 'NEW = os.environ["CONDUIT_NEW_SETTING"]'),
        ("config/settings.py", 'NEW = os.getenv("CONDUIT_NEW_SETTING")'),
        ("tools/stack/core.py", 'NEW = TIMEOUT + int(os.environ.get("CONDUIT_NEW_SETTING", "0"))'),
        (
            "tools/stack/core.py",
            'def knob(name: str) -> str:\n    return os.environ.get(name, "")\n\n\n'
            'NEW = knob("CONDUIT_NEW_SETTING")',
        ),
        ("tools/run.sh", 'echo "${CONDUIT_NEW_SETTING:-1}"'),
        ("tools/run.sh", 'echo "$CONDUIT_NEW_SETTING"'),
        ("Makefile", "CONDUIT_NEW_SETTING ?= 1"),
        ("compose.yaml", "x-new: ${CONDUIT_NEW_SETTING:-1}"),
    ],
)
def test_a_new_variable_without_a_row_fails(path: str, added: str) -> None:
    sources = repo_sources()
    sources[path] += "\n" + added + "\n"

    problems = new_problems(sources, CONFIGURATION.read_text())

    assert problems == {
        f"CONDUIT_NEW_SETTING is read by {path} and has no row in docs/configuration.md"
    }


def test_a_shell_variable_the_script_assigns_is_not_an_environment_variable() -> None:
    sources = repo_sources()
    sources["tools/run.sh"] += '\nCONDUIT_LOCAL=1\necho "$CONDUIT_LOCAL"\n'

    assert new_problems(sources, CONFIGURATION.read_text()) == set()


def test_a_row_nothing_reads_fails() -> None:
    markdown = CONFIGURATION.read_text() + "\n| `CONDUIT_NOBODY_READS_THIS` | `1` | nothing |\n"

    assert new_problems(repo_sources(), markdown) == {
        "CONDUIT_NOBODY_READS_THIS has a row in docs/configuration.md and nothing reads it"
    }


# --- The ADR index -------------------------------------------------------------------------------

_LINK = re.compile(r"\]\(([^)\s]+)\)")


def adr_index_problems(adr_dir: Path) -> list[str]:
    index = (adr_dir / "README.md").read_text()
    targets = {target for target in _LINK.findall(index) if "://" not in target}
    problems = [
        f"docs/adr/README.md links {target}, which does not exist"
        for target in sorted(targets)
        if not (adr_dir / target.split("#")[0]).is_file()
    ]
    problems += [
        f"{adr.name} is not in docs/adr/README.md"
        for adr in sorted(adr_dir.glob("[0-9][0-9][0-9][0-9]-*.md"))
        if adr.name not in targets
    ]
    return problems


def test_the_adr_index_lists_every_adr() -> None:
    problems = adr_index_problems(ADR_DIR)
    assert not problems, "\n".join(problems)


def test_an_adr_missing_from_the_index_fails(tmp_path: Path) -> None:
    adr_dir = tmp_path / "adr"
    shutil.copytree(ADR_DIR, adr_dir)
    (adr_dir / "0999-a-new-decision.md").write_text("# 0999. A new decision\n")
    index = adr_dir / "README.md"
    index.write_text(
        "\n".join(
            line for line in index.read_text().splitlines() if "0013-observability.md" not in line
        )
    )

    assert adr_index_problems(adr_dir) == [
        "0013-observability.md is not in docs/adr/README.md",
        "0999-a-new-decision.md is not in docs/adr/README.md",
    ]


def test_an_index_row_without_its_file_fails(tmp_path: Path) -> None:
    adr_dir = tmp_path / "adr"
    shutil.copytree(ADR_DIR, adr_dir)
    (adr_dir / "0005-maintained-counters.md").rename(adr_dir / "0005-counters.md")

    assert adr_index_problems(adr_dir) == [
        "docs/adr/README.md links 0005-maintained-counters.md, which does not exist",
        "0005-counters.md is not in docs/adr/README.md",
    ]


# --- Links ---------------------------------------------------------------------------------------

PAGES = [
    "README.md",
    "docs/adr/README.md",
    "docs/configuration.md",
    "docs/contributing.md",
    "docs/deploy.md",
    "docs/operations.md",
    "docs/reliability.md",
    "docs/roadmap.md",
]


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_point_at_files_that_exist(page: str) -> None:
    path = ROOT / page
    missing = [
        target
        for target in _LINK.findall(path.read_text())
        if "://" not in target
        and not target.startswith(("#", "mailto:"))
        and not (path.parent / target.split("#")[0]).exists()
    ]
    assert missing == [], f"{page} links to files that do not exist"


def test_the_readme_stays_a_newcomers_page() -> None:
    """What Conduit is, the two commands, what you get, the other targets and links: the rest
    lives in docs/ (issue 14 set the bound)."""
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines; move detail to docs/"
