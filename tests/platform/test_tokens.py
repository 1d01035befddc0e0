"""The caller's token is decided once (conduit/platform/tokens.py): the API's authentication,
the list's read-ahead and read-your-writes ask the same parser, which verifies the issuer and
expiry and keeps its verdict on the request."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.conf import settings
from django.test import RequestFactory
from rest_framework.request import Request

from conduit.api.authentication import JWTAuthentication
from conduit.platform import tokens
from conduit.platform.db.read_your_writes import recently_wrote

pytestmark = pytest.mark.django_db


def signed(**claims: object) -> str:
    now = datetime.now(UTC)
    payload = {"sub": "7", "iat": now, "exp": now + timedelta(hours=1), "iss": "conduit", **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, settings.SECRET_KEY, algorithm="HS256")


def request_with(token: str):  # type: ignore[no-untyped-def]
    return RequestFactory().get("/api/articles", HTTP_AUTHORIZATION=f"Token {token}")


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each token ``jwt.decode`` is asked to verify (the process memory emptied first)."""
    seen: list[str] = []
    real = tokens.jwt.decode

    def counting(token: str, *args: object, **kwargs: object) -> object:
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(tokens.jwt, "decode", counting)
    tokens._VERIFIED.clear()
    return seen


def test_every_reader_of_one_request_shares_one_verification(user, decodes, settings) -> None:
    settings.DATABASE_REPLICA_PIN_SECONDS = 60
    token = tokens.issue(user.pk, user.token_version)
    request = request_with(token)
    assert tokens.user_id_of(request) == user.pk  # the read-ahead
    assert recently_wrote(request)  # read-your-writes: issued a moment ago
    authenticated = JWTAuthentication().authenticate(Request(request))  # DRF wraps the request
    assert authenticated is not None
    assert authenticated[0] == user
    assert decodes == [token]


def test_a_bad_token_is_refused_once_per_request_for_every_reader(decodes) -> None:
    request = request_with(signed(iss="someone-else"))
    for _ in range(2):
        with pytest.raises(tokens.TokenError, match="is invalid"):
            tokens.claims_of(request)
    assert tokens.user_id_of(request) is None
    assert len(decodes) == 1


@pytest.mark.parametrize(
    "token",
    [
        signed(iss="someone-else"),  # read-your-writes once accepted any issuer
        signed(iss=None),
        signed(iat=None),
        signed(exp=datetime.now(UTC) - timedelta(seconds=1)),
    ],
    ids=["other issuer", "no issuer", "no issued-at", "expired"],
)
def test_read_your_writes_trusts_only_what_authentication_accepts(token: str, settings) -> None:
    settings.DATABASE_REPLICA_PIN_SECONDS = 60
    assert not recently_wrote(request_with(token))
    assert tokens.user_id_of(request_with(token)) is None


@pytest.mark.parametrize(
    ("header", "jwt_token", "oauth_token"),
    [
        ("Bearer abcDEF123opaque", None, "abcDEF123opaque"),  # an OAuth access token
        ("Bearer a.b.c", "a.b.c", None),  # JWT-shaped: still the JWT's (and "is invalid")
        ("Token abcDEF123opaque", "abcDEF123opaque", None),  # "Token" is only ever a JWT
        ("Basic abc", None, None),
    ],
)
def test_a_bearer_token_that_is_no_jwt_is_left_to_oauth(header, jwt_token, oauth_token) -> None:
    request = RequestFactory().get("/api/articles", HTTP_AUTHORIZATION=header)
    assert tokens.in_header(request) == jwt_token
    assert tokens.opaque_bearer(request) == oauth_token


def test_read_your_writes_names_an_oauth_client_by_its_token() -> None:
    from conduit.platform.db.read_your_writes import client_keys

    def keys(token: str) -> list[str]:
        return client_keys(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}"))

    first, again, other = keys("tokenOne"), keys("tokenOne"), keys("tokenTwo")
    assert len(first) == 1
    assert first == again != other
    assert "tokenOne" not in first[0]  # hashed, not the token itself in the cache key
