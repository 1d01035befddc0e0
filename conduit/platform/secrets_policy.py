"""Production refuses weak secrets: a ``SECRET_KEY`` or database password anyone could guess.

With ``DEBUG`` off, a key shorter than Django's minimum, of too few distinct characters, or equal
to a placeholder written somewhere in this repository (``.env.example``, compose's old fallback,
the Kubernetes secret example, ...) stops the process. So does a database password that is one of
the defaults the deploy files used to ship. Two ways in, one policy:

- ``refuse_weak_secrets`` runs at the end of ``config/settings.py``, so every start path refuses
  before serving anything (granian imports ``config.wsgi`` and runs no system checks; Celery
  workers and beat, every ``manage.py`` command);
- ``check_production_secrets`` is the system check ``conduit.E001`` / ``conduit.E002``, for
  settings modules that change ``SECRET_KEY`` after importing ``config.settings``.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

# Every literal key this repository has carried, and the usual stand-ins. Compared lowercased.
PLACEHOLDER_SECRET_KEYS = frozenset(
    {
        "change-me",
        "changeme",
        "change_me",
        "replace-me",
        "replaceme",
        "secret",
        "secret-key",
        "secret_key",
        "your-secret-key",
        "compose-only-change-me-in-dot-env",
        "collectstatic-only-not-a-secret",
        "insecure-debug-only-key-never-use-in-production",
        "test-only-secret-key-not-for-production-" + "0123456789abcdef" * 4,
    }
)
# The database passwords compose and the examples defaulted to, and the usual stand-ins.
PLACEHOLDER_DATABASE_PASSWORDS = frozenset(
    {
        "conduit",
        "replicator",
        "postgres",
        "password",
        "change-me",
        "changeme",
        "replace-me",
        "secret",
    }
)

GENERATE_HINT = "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is not fit for production, or ``None`` when it is."""
    if key.strip().lower() in PLACEHOLDER_SECRET_KEYS:
        return "SECRET_KEY is a known placeholder"
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"SECRET_KEY starts with {SECRET_KEY_INSECURE_PREFIX!r} (a development key)"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"SECRET_KEY has {len(key)} characters, fewer than {SECRET_KEY_MIN_LENGTH}"
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return (
            f"SECRET_KEY has {len(set(key))} distinct characters, "
            f"fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS}"
        )
    return None


def database_password_problems(databases: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per database alias whose password is a known default (an empty one is not:
    a local server with trust or peer authentication has none)."""
    return [
        f"the {alias!r} database password is a known default"
        for alias, config in databases.items()
        if str(config.get("PASSWORD") or "").lower() in PLACEHOLDER_DATABASE_PASSWORDS
    ]


def refuse_weak_secrets(
    *, debug: bool, secret_key: str, databases: Mapping[str, Mapping[str, Any]]
) -> None:
    """Raise ``ImproperlyConfigured`` naming every weak secret, unless ``debug``."""
    if debug:
        return
    problems = [p for p in [secret_key_problem(secret_key)] if p]
    problems += database_password_problems(databases)
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start with DEBUG off: "
            + "; ".join(problems)
            + f". Set a long random SECRET_KEY ({GENERATE_HINT}) and real database passwords, "
            "or set DEBUG=true for local development only."
        )


def check_production_secrets(
    app_configs: Iterable[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The system check: ``conduit.E001`` for the key, ``conduit.E002`` for a database password."""
    if settings.DEBUG:
        return []
    errors: list[CheckMessage] = []
    key_problem = secret_key_problem(str(settings.SECRET_KEY))
    if key_problem:
        errors.append(Error(key_problem, hint=GENERATE_HINT.capitalize() + ".", id="conduit.E001"))
    errors += [
        Error(problem, hint="Set a real password in DATABASE_URL.", id="conduit.E002")
        for problem in database_password_problems(settings.DATABASES)
    ]
    return errors
