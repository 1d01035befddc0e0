"""Writes of the OAuth provider (ADR 0031): registering and deleting applications, issuing
tokens (the one place a grant happens) and revoking a user's grant to an app (the one place a
revocation by the user happens; RFC 7009 revocation by the app is the toolkit's endpoint)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_grant_model

from conduit.audit.models import AuditEvent
from conduit.audit.services import audit_record
from conduit.oauth.models import AccessTokenVersion, RefreshTokenVersion
from conduit.oauth.selectors import AccessToken, Application, RefreshToken
from conduit.platform.exceptions import InvalidInput, NotFound
from conduit.users.models import User

Grant = get_grant_model()

NAME_MAX = 100


def application_create(
    *, name: str, redirect_uris: list[str], public: bool, user: User | None = None
) -> tuple[Any, str | None]:
    """Register an application for the authorization-code flow; returns it with its client
    secret in plain text (None for a public app). The toolkit stores only the secret's hash:
    the plain text is shown once, here, and never again."""
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["can't be blank"]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"is too long (maximum is {NAME_MAX} characters)"]
    uris = [uri.strip() for uri in redirect_uris if uri.strip()]
    if not uris:
        errors["redirect_uri"] = ["can't be blank"]
    secret = None if public else generate_client_secret()
    application = Application(
        name=name,
        user=user,
        redirect_uris=" ".join(uris),
        client_type=Application.CLIENT_PUBLIC if public else Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        client_secret=secret or "",
        hash_client_secret=not public,  # a public app has no secret: "" stays "", not a hash
        algorithm=Application.NO_ALGORITHM,
    )
    if not errors:
        try:
            application.full_clean(exclude=["client_secret"])
        except ValidationError as invalid:
            for field, messages in invalid.message_dict.items():
                key = "redirect_uri" if field == "redirect_uris" else field
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise InvalidInput(errors)
    application.save()
    return application, secret


def application_delete(*, user: User, application_id: int) -> None:
    """Delete one of ``user``'s own applications, with every token and code it holds."""
    deleted, _ = Application.objects.filter(pk=application_id, user=user).delete()
    if not deleted:
        raise NotFound("application")


def tokens_issued(
    *,
    user: User,
    application: Any,
    version: int,
    access_token: Any,
    refresh_token: Any,
    grant_type: str,
) -> None:
    """Tokens were issued to ``application`` for ``user``: on a code exchange (the user's
    grant, ``grant_type="authorization_code"``) or a refresh. Records the token version they
    were issued at, which the API and the refresh grant compare with the user's. A code
    exchange is the grant the audit log records (ADR 0032); a refresh only renews it."""
    if access_token is not None:
        AccessTokenVersion.objects.create(access_token=access_token, version=version)
    if refresh_token is not None:
        RefreshTokenVersion.objects.create(refresh_token=refresh_token, version=version)
    if grant_type == "authorization_code":
        audit_record(
            kind=AuditEvent.Kind.OAUTH_GRANT,
            actor_id=user.pk,
            target_user_id=user.pk,
            target_object=f"oauth_app:{application.client_id}",
            detail=f"scope: {getattr(access_token, 'scope', '')}",
        )


def authorization_revoke(*, user: User, application_id: int) -> None:
    """The user takes back what they granted ``application_id``: its access and refresh tokens
    and any unused code for the user are deleted, so neither the API nor the refresh grant
    accepts anything the app holds."""
    with transaction.atomic():
        mine = {"user": user, "application_id": application_id}
        refresh, _ = RefreshToken.objects.filter(**mine).delete()
        access, _ = AccessToken.objects.filter(**mine).delete()
        codes, _ = Grant.objects.filter(**mine).delete()
        if not (refresh or access or codes):
            raise NotFound("authorization")
        client_id = Application.objects.filter(pk=application_id).values_list(
            "client_id", flat=True
        )
        audit_record(
            kind=AuditEvent.Kind.OAUTH_REVOKE,
            actor_id=user.pk,
            target_user_id=user.pk,
            target_object=f"oauth_app:{client_id.first() or application_id}",
        )
