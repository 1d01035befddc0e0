"""Production's password rules (NIST 800-63B): at least 8 characters, not one of the 20,000 most
common passwords, not too like the username or email. The rest of the suite registers with
upstream RealWorld's common passwords (config/settings_test.py), as make run allows."""

from typing import Any

import pytest
from django.conf import settings as django_settings

from conduit.platform.exceptions import InvalidInput
from conduit.users.services import user_register, user_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

COMMON = {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"}


@pytest.fixture
def production_rules(settings: Any) -> None:
    settings.AUTH_PASSWORD_VALIDATORS = [*django_settings.AUTH_PASSWORD_VALIDATORS, COMMON]


def errors_of(call: Any) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as raised:
        call()
    return raised.value.errors


@pytest.mark.parametrize("password", ["password", "password123", "12345678", "iloveyou"])
def test_a_common_password_is_refused(production_rules, password):
    errors = errors_of(
        lambda: user_register(username="ada", email="ada@example.com", password=password)
    )
    assert errors == {"password": ["is too common"]}


def test_a_password_like_the_username_or_email_is_refused(production_rules):
    errors = errors_of(
        lambda: user_register(username="lovelace", email="ada@example.com", password="lovelace1")
    )
    assert errors == {"password": ["is too similar to the username"]}
    user = UserFactory(username="grace", email="gracehopper@example.com")
    errors = errors_of(lambda: user_update(user=user, password="gracehopper", fields={"password"}))
    assert errors == {"password": ["is too similar to the email"]}


def test_a_long_uncommon_password_is_accepted(production_rules):
    user = user_register(username="ada", email="ada@example.com", password="engine-analytical-1843")
    assert user.check_password("engine-analytical-1843")


def test_production_refuses_common_passwords_unless_told_not_to(monkeypatch):
    from tests.support import production_settings_with

    names = [v["NAME"] for v in production_settings_with(monkeypatch)["AUTH_PASSWORD_VALIDATORS"]]
    assert COMMON["NAME"] in names
    relaxed = production_settings_with(monkeypatch, PASSWORD_REJECT_COMMON="false")
    assert COMMON["NAME"] not in [v["NAME"] for v in relaxed["AUTH_PASSWORD_VALIDATORS"]]
