"""Token revocation (ADR 0004): every token carries the user's ``token_version``, checked on each
request through the cached signed-in user. A password change, "sign out everywhere" and
deactivation raise it; a password change's response carries the fresh token; an email change is
announced to the old address."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.conf import settings
from django.core import mail

from conduit.api.authentication import token_for
from conduit.users.models import User
from conduit.users.services import user_deactivate
from tests.factories import UserFactory
from tests.support import assert_error

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password"


@pytest.fixture
def user() -> User:
    return UserFactory(username="holder", email="holder@example.com", password=PASSWORD)


def with_token(api, token: str):  # type: ignore[no-untyped-def]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_a_password_change_revokes_older_tokens_and_returns_a_fresh_one(api, user):
    first, second = token_for(user), token_for(user)  # two devices
    response = with_token(api, first).put(
        "/api/user", {"user": {"password": "another-long-password"}}, format="json"
    )
    assert response.status_code == 200, response.content
    fresh = response.json()["user"]["token"]
    for old in (first, second):
        assert_error(with_token(api, old).get("/api/user"), 401, "token", "has been revoked")
    assert with_token(api, fresh).get("/api/user").json()["user"]["username"] == "holder"
    assert User.objects.get(pk=user.pk).token_version == 1


def test_a_bio_or_email_change_keeps_the_tokens(api, user):
    token = token_for(user)
    bio = with_token(api, token).put("/api/user", {"user": {"bio": "hi"}}, format="json")
    assert bio.status_code == 200
    changed = api.put("/api/user", {"user": {"email": "new@example.com"}}, format="json")
    assert changed.status_code == 200
    assert changed.json()["user"]["token"]
    assert with_token(api, token).get("/api/user").status_code == 200


def test_sign_out_everywhere_revokes_every_token_the_callers_included(api, user):
    first, second = token_for(user), token_for(user)
    assert with_token(api, first).post("/api/user/sign-out-everywhere").status_code == 204
    for old in (first, second):
        assert_error(with_token(api, old).get("/api/user"), 401, "token", "has been revoked")
    api.credentials()
    login = {"user": {"email": "holder@example.com", "password": PASSWORD}}
    fresh = api.post("/api/users/login", login, format="json").json()["user"]["token"]
    assert with_token(api, fresh).get("/api/user").status_code == 200


def test_sign_out_everywhere_needs_a_token(api):
    assert_error(api.post("/api/user/sign-out-everywhere"), 401, "token", "is missing")


def test_deactivation_raises_the_version(user):
    user_deactivate(user=user)
    assert User.objects.get(pk=user.pk).token_version == 1


def signed(**claims: object) -> str:
    now = datetime.now(UTC)
    payload = {"iat": now, "exp": now + timedelta(hours=1), "iss": "conduit", **claims}
    return jwt.encode(payload, settings.SECRET_KEY, algorithm="HS256")


def test_a_token_without_a_version_is_version_zero(api, user):
    """Tokens issued before versions existed keep working until the first revocation."""
    old = signed(sub=str(user.pk))
    assert with_token(api, old).get("/api/user").status_code == 200
    assert api.post("/api/user/sign-out-everywhere").status_code == 204
    assert_error(with_token(api, old).get("/api/user"), 401, "token", "has been revoked")


@pytest.mark.parametrize("version", ["1", -1, 1.5, True, None])
def test_a_malformed_version_is_an_invalid_token(api, user, version):
    token = signed(sub=str(user.pk), ver=version)
    assert_error(with_token(api, token).get("/api/user"), 401, "token", "is invalid")


def test_a_newer_version_than_the_users_is_refused(api, user):
    token = signed(sub=str(user.pk), ver=5)
    assert_error(with_token(api, token).get("/api/user"), 401, "token", "has been revoked")


def test_an_email_change_is_announced_to_the_old_address(
    api, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = with_token(api, token_for(user)).put(
            "/api/user", {"user": {"email": "moved@example.org"}}, format="json"
        )
    assert response.status_code == 200
    [notice] = mail.outbox
    assert notice.to == ["holder@example.com"]
    assert "changed" in notice.subject
    assert "m***@example.org" in notice.body
    assert "moved@example.org" not in notice.body  # masked: the old address may not be the owner's


def test_an_email_change_of_case_only_sends_nothing(api, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = with_token(api, token_for(user)).put(
            "/api/user", {"user": {"email": "Holder@Example.com"}}, format="json"
        )
    assert response.status_code == 200
    assert mail.outbox == []
