"""Settings for the test suite: the real settings with test-only speed-ups.

``DATABASE_URL`` picks the database exactly as in production (``make test`` starts PostgreSQL and
sets it; unset means SQLite). Only the password hasher is swapped: Argon2 is deliberately slow, and
one test checks the production hasher separately.
"""

import os
import secrets

# A fresh key per test run (subprocesses inherit it from the environment): a literal one would be
# a placeholder that production must refuse (conduit/platform/secrets_policy.py).
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The tests and the replayed RealWorld suites register with upstream's passwords ("password123",
# "jakejake"), as make run and make stack let them (PASSWORD_REJECT_COMMON=false there);
# tests/users/test_password_rules.py checks production's list of common passwords.
AUTH_PASSWORD_VALIDATORS = [
    v
    for v in AUTH_PASSWORD_VALIDATORS  # noqa: F405
    if not v["NAME"].endswith("CommonPasswordValidator")
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "exports": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Django's test client and the servers the tests start speak plain HTTP: an HTTPS redirect would
# answer every request with a 301 (tests/web/test_security.py checks the production default).
SECURE_SSL_REDIRECT = False
# Static files come from the finders in tests; no collectstatic run is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Emails stay in django.core.mail.outbox; tests that read real SMTP use the smtp fixture.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# A key prefix per test process (pytest-xdist workers share a CACHE_URL): no test reads another's.
CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"  # noqa: F405
# Tests read log lines with structlog.testing.capture_logs, which cannot see a logger that was
# cached on its first use (by an earlier test in the same process): three access-log tests failed
# after the API tests had run in the same command.
structlog.configure(cache_logger_on_first_use=False)  # noqa: F405
