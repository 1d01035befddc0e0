"""Sentry is configured only when SENTRY_DSN is set (checked in a fresh process: init is global)."""

import os
import subprocess
import sys
import textwrap

from django.conf import settings

CODE = """
    import django
    django.setup()
    import sentry_sdk
    client = sentry_sdk.get_client()
    print(client.is_active(), client.options["environment"], client.options["traces_sample_rate"])
    print(sorted(client.integrations))
"""


def _run(**extra: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings_test", LOG_LEVEL="WARNING", **extra)
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", textwrap.dedent(CODE)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_no_dsn_no_sentry() -> None:
    assert _run()[0].startswith("False")


def test_a_dsn_turns_sentry_on_with_the_django_integration() -> None:
    lines = _run(
        SENTRY_DSN="https://public@o0.ingest.example.invalid/1",
        SENTRY_ENVIRONMENT="staging",
        SENTRY_TRACES_SAMPLE_RATE="0.25",
    )
    assert lines[0] == "True staging 0.25"
    assert "'django'" in lines[1]
