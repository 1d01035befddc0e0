"""``manage.py check --deploy`` is clean with only the production essentials set: ``DEBUG`` off,
a strong ``SECRET_KEY``, a real host and an SMTP ``EMAIL_URL``. The rest must default safely."""

import os
import secrets
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "conduit.example.com",
    "EMAIL_URL": "smtp+tls://conduit:mail-password@smtp.example.com:587",
}


def _check_deploy(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    # Exactly this environment (PATH only to run; HOME outside the checkout): nothing inherited
    # from the test run may supply a setting.
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_the_production_essentials(tmp_path) -> None:
    done = _check_deploy(tmp_path, **PRODUCTION)
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_warns_about_plain_http(tmp_path) -> None:
    # What make run sets: fine on loopback, a warning anywhere else.
    done = _check_deploy(
        tmp_path, **PRODUCTION, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0"
    )
    assert done.returncode != 0
    assert "security.W004" in done.stderr
    assert "security.W008" in done.stderr


def test_check_deploy_refuses_console_email(tmp_path) -> None:
    production = {**PRODUCTION, "EMAIL_URL": "consolemail://"}
    done = _check_deploy(tmp_path, **production)
    assert done.returncode != 0
    assert "mail.E001" in done.stderr
