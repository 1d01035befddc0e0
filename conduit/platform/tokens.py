"""The caller's API token, decided once: issued, parsed and verified here, and nowhere else.

Tokens are HS256 JWTs signed with ``SECRET_KEY``, carrying the user's id (not the username, so a
token stays valid across a username change), the user's token version (``ver``: authentication
refuses a token whose version is not the user's current one, which is how tokens are revoked), the
issuer ``conduit``, when they were issued and an expiry of ``JWT_TTL``. Three places need the
caller's token: the API's authentication, the read-ahead of a signed-in list, and read-your-writes
(a client that just wrote, or just signed in, reads from the primary). All three ask
``claims_of(request)``, which parses the header and verifies the token once per request and
remembers the answer on it, an error included.

Verified tokens are also remembered per process (``_VERIFIED``): a signed-in client sends the same
token on every request, and verifying it (HMAC, base64, JSON, claims) was a tenth of a warm
signed-in list's CPU. The expiry is still checked every time; the memory's key holds the secret and
algorithm, so a new ``SECRET_KEY`` verifies afresh; it is emptied when full.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from django.conf import settings
from django.http import HttpRequest

ISSUER = "conduit"
SCHEMES = {b"token", b"bearer"}
HEADER_ENCODING = "iso-8859-1"  # what HTTP headers are, as DRF reads them


@dataclass(frozen=True, slots=True)
class Claims:
    token: str
    user_id: int
    issued_at: float
    expires_at: float
    version: int = 0


class TokenError(Exception):
    """A token that names the scheme but cannot be used; ``reason`` is the API's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def issue(user_id: int, version: int) -> str:
    """A token for the user with this id, valid while their token version is ``version``."""
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "ver": version,
        "iat": now,
        "exp": now + settings.JWT_TTL,
        "iss": ISSUER,
    }
    return jwt.encode(payload, settings.SECRET_KEY, algorithm=settings.JWT_ALGORITHM)


_VERIFIED: dict[tuple[str, str, str], Claims] = {}
_VERIFIED_MAX = 10_000


def verify(token: str) -> Claims:
    """The token's claims, or ``TokenError`` ("is invalid", "has expired")."""
    key = (token, settings.SECRET_KEY, settings.JWT_ALGORITHM)
    claims = _VERIFIED.get(key)
    if claims is None:
        claims = _decode(token)
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[key] = claims
    if time.time() >= claims.expires_at:
        raise TokenError("has expired")
    return claims


def _decode(token: str) -> Claims:
    try:
        payload = jwt.decode(
            token,
            settings.SECRET_KEY,
            algorithms=[settings.JWT_ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss", "iat"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("has expired") from None
    except jwt.InvalidTokenError:
        raise TokenError("is invalid") from None
    version = payload.get("ver", 0)  # tokens issued before versions were version 0
    if type(version) is not int or version < 0:
        raise TokenError("is invalid")
    try:
        sub, iat, exp = int(payload["sub"]), float(payload["iat"]), float(payload["exp"])
    except (TypeError, ValueError):
        raise TokenError("is invalid") from None
    return Claims(token, sub, iat, exp, version)


def in_header(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Token <jwt>`` (or ``Bearer <jwt>``) header; None without
    one, or with a Bearer token that is no JWT (``opaque_bearer``); ``TokenError`` when the header
    names the scheme but is malformed."""
    header = request.META.get("HTTP_AUTHORIZATION", b"")
    if isinstance(header, str):
        header = header.encode(HEADER_ENCODING)
    parts = header.split()
    if not parts or parts[0].lower() not in SCHEMES:
        return None
    if len(parts) != 2:
        raise TokenError("is invalid")
    if parts[0].lower() == b"bearer" and parts[1].count(b".") != 2:
        return None  # not a JWT (three dot-separated parts): an OAuth access token
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        raise TokenError("is invalid") from None


def opaque_bearer(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header whose token is not a JWT: an
    OAuth access token (ADR 0031), which the API's OAuth authentication looks up. None
    otherwise."""
    header = request.META.get("HTTP_AUTHORIZATION", b"")
    if isinstance(header, str):
        header = header.encode(HEADER_ENCODING)
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != b"bearer" or parts[1].count(b".") == 2:
        return None
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        return None


_MEMO = "_conduit_token_claims"


def claims_of(request: HttpRequest) -> Claims | None:
    """The claims of the request's token: None without one, ``TokenError`` for a bad one. Decided
    once per request (the outcome is kept on the request), whoever asks first."""
    request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    outcome: Claims | TokenError | bool | None = getattr(request, _MEMO, None)
    if outcome is None:
        try:
            token = in_header(request)
            outcome = verify(token) if token is not None else False  # False: no token
        except TokenError as error:
            outcome = error
        setattr(request, _MEMO, outcome)
    if isinstance(outcome, TokenError):
        raise outcome
    return outcome if isinstance(outcome, Claims) else None


def user_id_of(request: HttpRequest) -> int | None:
    """The user id a valid token names, else None (no token, or a bad one). Not checked against
    the database: for reading ahead and for read-your-writes, never for access."""
    try:
        claims = claims_of(request)
    except TokenError:
        return None
    return claims.user_id if claims is not None else None
