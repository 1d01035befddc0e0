"""The OAuth provider end to end through Django's test client (ADR 0031): the authorization-code
flow with PKCE, what is refused (no PKCE, "plain", implicit, password grant), refresh rotation,
RFC 7009 revocation, and the token version ending OAuth tokens as it ends JWTs."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from conduit.users import services as user_services
from tests.factories import UserFactory, make_article
from tests.oauth import helpers as h

pytestmark = pytest.mark.django_db


@pytest.fixture
def app():
    return h.register("Reader")


def test_code_flow_gives_a_bearer_token_the_api_accepts(app):
    user = UserFactory(username="reader")
    make_article(user, title="Hello")
    tokens = h.tokens_for(user, app, "read")
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "read"
    assert tokens["expires_in"] == 3600
    response = Client().get("/api/articles", **h.bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert [a["title"] for a in response.json()["articles"]] == ["Hello"]
    # Tokens are stored as hashes only (RFC 9700): the database has no usable copy.
    assert AccessToken.objects.get().token == ""
    assert RefreshToken.objects.get().token == ""


def test_consent_says_who_asks_for_what(app):
    browser = Client()
    browser.force_login(UserFactory(username="reader"))
    _, challenge = h.pkce()
    page = browser.get(h.authorize_url(app, "read profile", challenge))
    html = page.content.decode()
    assert "Authorize Reader?" in html
    assert 'data-scope="read"' in html
    assert 'data-scope="profile"' in html
    assert 'data-scope="write"' not in html
    assert "csrfmiddlewaretoken" in html


def test_allow_redirects_with_code_state_and_issuer(app, settings):
    browser = Client()
    browser.force_login(UserFactory())
    _, challenge = h.pkce()
    query = h.consent(browser, app, "read", challenge)
    assert set(query) == {"code", "state", "iss"}
    assert query["state"] == "xyz"
    assert query["iss"] == settings.SITE_URL  # RFC 9207: the app can tell servers apart


def test_deny_redirects_with_access_denied(app):
    browser = Client()
    browser.force_login(UserFactory())
    _, challenge = h.pkce()
    query = h.consent(browser, app, "read", challenge, allow=False)
    assert query["error"] == "access_denied"
    assert query["state"] == "xyz"
    assert AccessToken.objects.count() == 0


def test_signed_out_visitors_sign_in_first_and_come_back(app):
    user = UserFactory(password="password123")
    _, challenge = h.pkce()
    url = h.authorize_url(app, "read", challenge)
    browser = Client()
    response = browser.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login?next=")
    login_page = browser.get(response["Location"])
    assert login_page.status_code == 200
    signed_in = browser.post(
        response["Location"], {"email": user.email, "password": "password123", "next": url}
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == url
    assert browser.get(url).status_code == 200


def test_pkce_is_required(app):
    browser = Client()
    browser.force_login(UserFactory())
    url = h.authorize_url(app, "read", "x" * 43).replace("code_challenge=", "nothing=")
    response = browser.get(url)
    assert response.status_code == 302
    assert "error=invalid_request" in response["Location"]


def test_plain_pkce_is_refused(app):
    browser = Client()
    browser.force_login(UserFactory())
    verifier, _ = h.pkce()
    url = h.authorize_url(app, "read", verifier).replace("S256", "plain")
    page = browser.get(url)
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = browser.post(url, {**data, "allow": "on"})
    assert response.status_code == 302
    assert "error=invalid_request" in response["Location"]
    assert "code=" not in response["Location"]


def test_a_wrong_verifier_gets_no_token(app):
    browser = Client()
    browser.force_login(UserFactory())
    _, challenge = h.pkce()
    code = h.consent(browser, app, "read", challenge)["code"]
    other_verifier, _ = h.pkce()
    response = Client().post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": h.REDIRECT_URI,
            "code_verifier": other_verifier,
            **h.client_auth(app),
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_the_implicit_flow_is_refused(app):
    browser = Client()
    browser.force_login(UserFactory())
    _, challenge = h.pkce()
    url = h.authorize_url(app, "read", challenge).replace(
        "response_type=code", "response_type=token"
    )
    response = browser.get(url)
    assert "access_token" not in response.get("Location", "")
    assert response.status_code in (302, 400)
    assert "unsupported_response_type" in (response.get("Location", "") + response.content.decode())


def test_the_password_grant_is_refused(app):
    user = UserFactory(password="password123")
    response = Client().post(
        "/oauth/token/",
        {
            "grant_type": "password",
            "username": user.username,
            "password": "password123",
            **h.client_auth(app),
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_refresh_rotates_and_the_old_refresh_token_is_dead(app):
    user = UserFactory()
    first = h.tokens_for(user, app, "read")
    renewed = h.refresh(app, first["refresh_token"])
    assert renewed.status_code == 200
    second = renewed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert Client().get("/api/user", **h.bearer(first["access_token"])).status_code == 401
    replay = h.refresh(app, first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # Reuse protection: replaying a rotated token revokes its whole family, the new one too.
    assert h.refresh(app, second["refresh_token"]).status_code == 400


def test_revocation_ends_the_access_token(app):
    user = UserFactory()
    tokens = h.tokens_for(user, app, "read")
    assert Client().get("/api/tags", **h.bearer(tokens["access_token"])).status_code == 200
    response = Client().post(
        "/oauth/revoke/", {"token": tokens["access_token"], **h.client_auth(app)}
    )
    assert response.status_code == 200
    answer = Client().get("/api/tags", **h.bearer(tokens["access_token"]))
    assert answer.status_code == 401
    assert answer.json() == {"errors": {"token": ["is invalid"]}}


def test_another_app_cannot_revoke_a_token(app):
    tokens = h.tokens_for(UserFactory(), app, "read")
    other = h.register("Other")
    Client().post("/oauth/revoke/", {"token": tokens["access_token"], **h.client_auth(other)})
    assert Client().get("/api/tags", **h.bearer(tokens["access_token"])).status_code == 200


def test_a_public_client_uses_pkce_without_a_secret():
    app = h.register("Spa", public=True)
    assert app.secret is None
    tokens = h.tokens_for(UserFactory(), app, "read")
    assert h.refresh(app, tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    "bump",
    [
        lambda user: user_services.user_sign_out_everywhere(user=user),
        lambda user: user_services.user_update(
            user=user, password="another-password-9", fields={"password"}
        ),
        lambda user: user_services.user_deactivate(user=user),
    ],
    ids=["sign-out-everywhere", "password-change", "deactivation"],
)
def test_a_new_token_version_ends_access_and_refresh_tokens(app, bump):
    user = UserFactory()
    tokens = h.tokens_for(user, app, "read profile")
    assert Client().get("/api/user", **h.bearer(tokens["access_token"])).status_code == 200
    bump(user)
    answer = Client().get("/api/user", **h.bearer(tokens["access_token"]))
    assert answer.status_code == 401
    assert answer.json()["errors"]["token"] in (["has been revoked"], ["is invalid"])
    refused = h.refresh(app, tokens["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_consenting_again_after_signing_out_everywhere_works(app):
    user = UserFactory()
    old = h.tokens_for(user, app, "read")
    user_services.user_sign_out_everywhere(user=user)
    user.refresh_from_db()
    new = h.tokens_for(user, app, "read")
    assert Client().get("/api/tags", **h.bearer(new["access_token"])).status_code == 200
    assert Client().get("/api/tags", **h.bearer(old["access_token"])).status_code == 401


def test_an_expired_access_token_is_a_401(app):
    tokens = h.tokens_for(UserFactory(), app, "read")
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    answer = Client().get("/api/tags", **h.bearer(tokens["access_token"]))
    assert answer.status_code == 401
    assert answer.json() == {"errors": {"token": ["has expired"]}}


def test_an_unknown_bearer_token_is_a_401_in_the_api_shape():
    answer = Client().get("/api/tags", **h.bearer("not-a-token-at-all"))
    assert answer.status_code == 401
    assert answer.json() == {"errors": {"token": ["is invalid"]}}


def test_the_consent_pages_policy_lets_the_form_redirect_to_the_app_only(app):
    browser = Client()
    browser.force_login(UserFactory())
    _, challenge = h.pkce()
    page = browser.get(h.authorize_url(app, "read", challenge))
    policy = page["Content-Security-Policy"]
    assert "form-action 'self' https://app.example;" in policy + ";"
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    # Any other page keeps form-action 'self' alone.
    assert "form-action 'self';" in browser.get("/settings")["Content-Security-Policy"] + ";"


@pytest.mark.parametrize("path", ["/oauth/token/", "/oauth/revoke/"])
def test_token_and_revocation_endpoints_share_the_sign_in_limit(app, settings, path):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_in_per_ip": "2/h"}
    body = {"grant_type": "refresh_token", "refresh_token": "x", "token": "x", **h.client_auth(app)}
    for _ in range(2):
        assert Client().post(path, body).status_code in (200, 400)
    refused = Client().post(path, body)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert Client().post(path, body, REMOTE_ADDR="10.0.0.9").status_code in (200, 400)


def test_the_consent_post_shares_the_sign_in_limit(app, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_in_per_ip": "1/h"}
    browser = Client()
    browser.force_login(UserFactory())
    _, challenge = h.pkce()
    h.consent(browser, app, "read", challenge)
    url = h.authorize_url(app, "read", challenge)
    page = browser.get(url)  # reads are not route-limited
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    assert browser.post(url, {**data, "allow": "on"}).status_code == 429
