"""Reads of OAuth applications, tokens and their versions (ADR 0031)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import (
    AbstractRefreshToken,
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
)

from conduit.oauth.models import RefreshTokenVersion

Application = get_application_model()
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()


@dataclass(frozen=True, slots=True)
class Access:
    """What an API request's bearer token grants: whose it is, to which app, with which scopes.
    ``version`` is the user's token version at issue (None: unknown, so never valid)."""

    token_id: int
    user_id: int
    application_id: int
    scopes: frozenset[str]
    expires: datetime
    version: int | None

    def expired(self) -> bool:
        return timezone.now() >= self.expires


def access_of(token: str) -> Access | None:
    """The access a bearer token string grants, in one query; None for an unknown token.
    Expiry and version are the caller's to check (they have their own errors)."""
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    row = (
        AccessToken.objects.filter(token_checksum=checksum, user__isnull=False)
        .values_list(
            "pk", "user_id", "application_id", "scope", "expires", "conduit_version__version"
        )
        .first()
    )
    if row is None:
        return None
    pk, user_id, application_id, scope, expires, version = row
    return Access(pk, user_id, application_id, frozenset(scope.split()), expires, version)


def refresh_token_version(refresh_token: AbstractRefreshToken) -> int | None:
    return (
        RefreshTokenVersion.objects.filter(refresh_token=refresh_token)
        .values_list("version", flat=True)
        .first()
    )


@dataclass(frozen=True, slots=True)
class AuthorizedApp:
    application_id: int
    name: str
    scopes: list[str]
    since: datetime


def authorized_apps(user_id: int, token_version: int) -> list[AuthorizedApp]:
    """The applications holding a live token of the user (an unexpired access token, or one
    with an unrevoked refresh token, issued at the user's current token version), newest grant
    first, with the scopes their tokens carry; one query."""
    now = timezone.now()
    live = Q(expires__gt=now) | Q(refresh_token__isnull=False, refresh_token__revoked__isnull=True)
    rows = (
        AccessToken.objects.filter(live, user_id=user_id, conduit_version__version=token_version)
        .order_by("created")
        .values_list("application_id", "application__name", "scope", "created")
    )
    apps: dict[int, AuthorizedApp] = {}
    for application_id, name, scope, created in rows:
        known = apps.get(application_id)
        scopes = sorted(set(scope.split()) | set(known.scopes if known else ()))
        since = known.since if known else created
        apps[application_id] = AuthorizedApp(application_id, name, scopes, since)
    return sorted(apps.values(), key=lambda app: app.since, reverse=True)


def applications_of(user_id: int) -> list[Any]:
    """The applications a user registered, newest first."""
    return list(
        Application.objects.filter(user_id=user_id)
        .order_by("-created")
        .only("pk", "name", "client_id", "client_type", "redirect_uris", "created")
    )


def application_by_client_id(client_id: str) -> Any | None:
    return Application.objects.filter(client_id=client_id).first()
