"""A token is verified once per process and remembered (conduit/platform/tokens.py): the
memory must never accept what verification would refuse."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from conduit.platform import tokens
from tests.api.test_errors import bearer, jwt_for

pytestmark = pytest.mark.django_db


def test_a_remembered_token_is_refused_once_it_expires(user, monkeypatch):
    token = jwt_for(user, exp=datetime.now(UTC) + timedelta(seconds=30))
    client = bearer(token)
    assert client.get("/api/user").status_code == 200
    assert client.get("/api/user").status_code == 200  # remembered
    later = time.time() + 31
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    response = client.get("/api/user")
    assert response.status_code == 401
    assert response.json()["errors"]["token"] == ["has expired"]


def test_a_new_secret_verifies_remembered_tokens_again(user, settings):
    client = bearer(jwt_for(user))
    assert client.get("/api/user").status_code == 200
    settings.SECRET_KEY = "another-secret-" + "x" * 40
    response = client.get("/api/user")
    assert response.status_code == 401
    assert response.json()["errors"]["token"] == ["is invalid"]


def test_only_verified_tokens_are_remembered(user):
    forged = jwt_for(user, key="not-the-secret-" + "y" * 40)
    for _ in range(2):
        assert bearer(forged).get("/api/user").status_code == 401
    assert not [key for key in tokens._VERIFIED if key[0] == forged]


def test_the_memory_is_bounded(user, monkeypatch):
    monkeypatch.setattr(tokens, "_VERIFIED_MAX", 3)
    tokens._VERIFIED.clear()
    for seconds in range(5):
        token = jwt_for(user, exp=datetime.now(UTC) + timedelta(hours=1, seconds=seconds))
        assert bearer(token).get("/api/user").status_code == 200
    assert len(tokens._VERIFIED) <= 3
