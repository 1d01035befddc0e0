"""Passwords are hashed with Argon2 in production, and only HS256 JWTs signed with SECRET_KEY,
with an expiry, are accepted."""

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from rest_framework.test import APIClient

import config.settings as production_settings
from conduit.api.authentication import token_for
from conduit.users.models import User
from tests.factories import UserFactory
from tests.support import assert_error

pytestmark = pytest.mark.django_db

ARGON2 = "conduit.users.hashers.SizedArgon2PasswordHasher"


def test_the_production_password_hasher_is_argon2():
    assert production_settings.PASSWORD_HASHERS[0] == ARGON2


def test_registering_with_the_production_hasher_stores_an_argon2id_hash(api, settings):
    settings.PASSWORD_HASHERS = [ARGON2]
    user = {"username": "jake", "email": "jake@example.com", "password": "password123"}
    response = api.post("/api/users", {"user": user}, format="json")
    assert response.status_code == 201, response.content
    stored = User.objects.get(username="jake").password
    assert stored.startswith("argon2$argon2id$")
    assert "password123" not in stored
    login = {"email": "jake@example.com", "password": "password123"}
    assert api.post("/api/users/login", {"user": login}, format="json").status_code == 200


def test_an_older_hash_is_upgraded_to_argon2_on_sign_in(api, settings):
    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS
    user = UserFactory(username="old", email="old@example.com")
    # A PBKDF2 hash as an older deployment would have stored it (few iterations: fast).
    old_hash = PBKDF2PasswordHasher().encode("password123", "somesalt", iterations=1000)
    User.objects.filter(pk=user.pk).update(password=old_hash)
    login = {"email": "old@example.com", "password": "password123"}
    assert api.post("/api/users/login", {"user": login}, format="json").status_code == 200
    assert User.objects.get(pk=user.pk).password.startswith("argon2$")


# --- tokens ----------------------------------------------------------------------------------


def claims(user, **changes):
    now = datetime.now(UTC)
    payload = {"sub": str(user.pk), "iat": now, "exp": now + timedelta(hours=1), "iss": "conduit"}
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def get_user(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/user")


def b64(data: dict) -> str:
    raw = json.dumps(data, default=lambda d: int(d.timestamp())).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_genuine_token_is_accepted(user, settings):
    token = jwt.encode(claims(user), settings.SECRET_KEY, algorithm="HS256")
    response = get_user(token)
    assert response.status_code == 200
    assert response.json()["user"]["username"] == user.username


def test_issued_tokens_are_hs256_and_expire_after_the_ttl(user, settings):
    token = token_for(user)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    payload = jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"], issuer="conduit")
    assert payload["sub"] == str(user.pk)
    assert payload["exp"] - payload["iat"] == settings.JWT_TTL.total_seconds()


def test_a_token_signed_with_another_key_is_rejected(user):
    token = jwt.encode(claims(user), "another-key-of-a-decent-length-000000", algorithm="HS256")
    assert_error(get_user(token), 401, "token", "is invalid")


def test_an_unsigned_alg_none_token_is_rejected(user):
    token = jwt.encode(claims(user), None, algorithm="none")
    assert_error(get_user(token), 401, "token", "is invalid")
    # Hand-made too, with an empty signature and the header claiming "none" in other spellings.
    for alg in ("none", "None", "NONE"):
        forged = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims(user))}."
        assert_error(get_user(forged), 401, "token", "is invalid")


def test_another_algorithm_with_the_right_key_is_rejected(user, settings):
    token = jwt.encode(claims(user), settings.SECRET_KEY, algorithm="HS512")
    assert_error(get_user(token), 401, "token", "is invalid")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": None}, id="no-exp"),
        pytest.param({"sub": None}, id="no-sub"),
        pytest.param({"iss": None}, id="no-iss"),
        pytest.param({"iss": "someone-else"}, id="wrong-iss"),
        pytest.param({"sub": "not-a-number"}, id="sub-not-an-id"),
        pytest.param({"sub": "999999"}, id="sub-unknown-user"),
    ],
)
def test_tokens_missing_or_with_wrong_claims_are_rejected(user, settings, changes):
    token = jwt.encode(claims(user, **changes), settings.SECRET_KEY, algorithm="HS256")
    assert_error(get_user(token), 401, "token", "is invalid")


def test_an_expired_token_is_rejected(user, settings):
    past = datetime.now(UTC) - timedelta(seconds=1)
    token = jwt.encode(
        claims(user, iat=past - timedelta(days=1), exp=past), settings.SECRET_KEY, algorithm="HS256"
    )
    assert_error(get_user(token), 401, "token", "has expired")


def test_a_tampered_payload_is_rejected(user, settings):
    other = UserFactory(username="victim")
    header, _, signature = token_for(user).split(".")
    forged = f"{header}.{b64(claims(other))}.{signature}"
    assert_error(get_user(forged), 401, "token", "is invalid")
