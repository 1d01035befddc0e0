"""With DEBUG off, a guessable SECRET_KEY or a default database password is refused: by the system
check (``manage.py check`` fails) and at settings import, so that granian, which runs no checks,
refuses too."""

import os
import secrets
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from conduit.platform.secrets_policy import (
    check_production_secrets,
    database_password_problems,
    refuse_weak_secrets,
    secret_key_problem,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRONG_KEY = secrets.token_urlsafe(50)

WEAK_KEYS = {
    "placeholder of .env.example": "change-me",
    "compose's old fallback": "compose-only-change-me-in-dot-env",
    "k8s secret example": "replace-me",
    "placeholder, any case": "Change-Me",
    "django's development prefix": "django-insecure-" + STRONG_KEY,
    "shorter than 50": STRONG_KEY[:49],
    "low variety": "abcd" * 20,
    "the old test key (long, varied, but committed)": "test-only-secret-key-not-for-production-"
    + "0123456789abcdef" * 4,
}


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
def test_the_check_fails_on_a_weak_key_with_debug_off(settings, key: str) -> None:
    settings.DEBUG = False
    settings.SECRET_KEY = key
    errors = check_production_secrets()
    assert [e.id for e in errors] == ["conduit.E001"]
    assert secret_key_problem(key) == errors[0].msg


def test_the_check_passes_with_debug_on_or_a_strong_key(settings) -> None:
    settings.DEBUG = True
    settings.SECRET_KEY = "change-me"
    assert check_production_secrets() == []
    settings.DEBUG = False
    settings.SECRET_KEY = STRONG_KEY
    assert check_production_secrets() == []


def test_the_check_is_registered_and_fails_manage_py_check(settings) -> None:
    settings.DEBUG = False
    settings.SECRET_KEY = "change-me"
    with pytest.raises(SystemCheckError, match=r"conduit\.E001"):
        call_command("check")


def test_a_default_database_password_is_a_problem_an_empty_one_is_not() -> None:
    databases = {
        "default": {"PASSWORD": "conduit"},
        "replica1": {"PASSWORD": "Replicator"},
        "replica2": {"PASSWORD": STRONG_KEY},
        "local": {"PASSWORD": ""},  # trust/peer authentication on a local server
    }
    assert database_password_problems(databases) == [
        "the 'default' database password is a known default",
        "the 'replica1' database password is a known default",
    ]


def test_settings_time_refusal_names_every_problem_and_skips_debug() -> None:
    databases = {"default": {"PASSWORD": "conduit"}}
    with pytest.raises(ImproperlyConfigured) as refused:
        refuse_weak_secrets(debug=False, secret_key="change-me", databases=databases)
    assert "known placeholder" in str(refused.value)
    assert "'default' database password" in str(refused.value)
    refuse_weak_secrets(debug=True, secret_key="change-me", databases=databases)
    refuse_weak_secrets(debug=False, secret_key=STRONG_KEY, databases={"default": {}})


def _start(args: list[str], tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


STARTS = {
    "manage.py check": ["manage.py", "check"],
    # what granian imports: it runs no system checks, so the settings refuse
    "config.wsgi": ["-c", "import config.wsgi"],
}


@pytest.mark.parametrize("args", STARTS.values(), ids=STARTS.keys())
def test_production_start_refuses_a_placeholder_key(tmp_path, args: list[str]) -> None:
    done = _start(args, tmp_path, DEBUG="false", SECRET_KEY="change-me")
    assert done.returncode != 0
    assert "Refusing to start with DEBUG off: SECRET_KEY is a known placeholder" in done.stderr


def test_production_start_refuses_a_default_database_password(tmp_path) -> None:
    url = "postgres://conduit:conduit@127.0.0.1:1/conduit"
    done = _start(
        STARTS["config.wsgi"], tmp_path, DEBUG="false", SECRET_KEY=STRONG_KEY, DATABASE_URL=url
    )
    assert done.returncode != 0
    assert "the 'default' database password is a known default" in done.stderr


def test_manage_py_check_passes_with_a_strong_key(tmp_path) -> None:
    done = _start(STARTS["manage.py check"], tmp_path, DEBUG="false", SECRET_KEY=STRONG_KEY)
    assert done.returncode == 0, done.stderr
