"""Read-your-writes across requests and app servers: a client that wrote reads from the primary.

After a successful unsafe request (POST, PUT, PATCH, DELETE; status below 400) the client is
marked in the shared cache for ``DATABASE_REPLICA_PIN_SECONDS``; while marked, all its reads go to
the primary, on whichever app server its next request lands. The client is who the credentials
say, read without a query: the user id of an API token (``conduit.platform.tokens``, which
verifies it once per request for everyone), and the session key
of a signed-in page user (the key, hashed, not the user: looking the user up would cost a query).
A token issued less than the window ago pins its client too: a client that just registered or
signed in holds a token the replica may not know the user of yet.

The window covers the worst staleness a usable replica can have when it is read: its lag is at
most ``DATABASE_REPLICA_MAX_LAG`` at a check, and grows by at most the check interval until the next
one, so the settings refuse a window shorter than the two together (ADR 0017).

When the cache cannot answer, the client is pinned (the primary is always correct) and the error
is logged. The middleware is unused (``MiddlewareNotUsed``) when no replica is configured.
"""

import hashlib
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponseBase

from conduit.platform import tokens
from conduit.platform.db.router import pinned

logger = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_successful_write(request: HttpRequest, response: HttpResponseBase) -> bool:
    """An unsafe method answered below 400: what makes a client a recent writer, here and for
    the shared caches (conduit.platform.http.edge_cache)."""
    return request.method in UNSAFE_METHODS and response.status_code < 400


KEY_PREFIX = "conduit:rw:1:"  # namespaced and versioned


def client_keys(request: HttpRequest) -> list[str]:
    """The cache keys that name this request's client (none for an anonymous one)."""
    keys = []
    user_id = tokens.user_id_of(request)
    if user_id is not None:
        keys.append(f"{KEY_PREFIX}u:{user_id}")
    oauth_token = tokens.opaque_bearer(request)  # an OAuth client: its token names it
    if oauth_token is not None:
        keys.append(f"{KEY_PREFIX}o:{hashlib.sha256(oauth_token.encode()).hexdigest()[:32]}")
    session = getattr(request, "session", None)
    session_key = (
        session.session_key
        if session is not None
        else request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    )
    if session_key:
        digest = hashlib.sha256(session_key.encode()).hexdigest()[:32]
        keys.append(f"{KEY_PREFIX}s:{digest}")
    return keys


def recently_wrote(request: HttpRequest) -> bool:
    try:
        claims = tokens.claims_of(request)
    except tokens.TokenError:
        claims = None
    if (
        claims is not None
        and time.time() - claims.issued_at < settings.DATABASE_REPLICA_PIN_SECONDS
    ):
        return True
    keys = client_keys(request)
    if not keys:
        return False
    try:
        return bool(cache.get_many(keys))
    except Exception:
        logger.exception("read-your-writes: the cache did not answer; reading from the primary")
        return True


def mark_writer(request: HttpRequest) -> None:
    keys = client_keys(request)  # after the view: a sign-in's new session key is the one to mark
    if not keys:
        return
    try:
        cache.set_many(dict.fromkeys(keys, 1), timeout=settings.DATABASE_REPLICA_PIN_SECONDS)
    except Exception:
        logger.exception("read-your-writes: could not mark a writer in the cache")


class ReadYourWritesMiddleware:
    """After ``SessionMiddleware``: it reads the session key, never the session itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        if not getattr(settings, "DATABASE_REPLICAS", []):
            raise MiddlewareNotUsed("no read replicas configured")
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        token = pinned.set(recently_wrote(request))
        try:
            response = self.get_response(request)
            if is_successful_write(request, response):
                mark_writer(request)
            return response
        finally:
            pinned.reset(token)
