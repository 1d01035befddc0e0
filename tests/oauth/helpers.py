"""Driving the authorization-code flow with PKCE through Django's test client: register an
app, sign in, consent, exchange the code (tests/oauth; the live-server test uses Authlib)."""

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client

from conduit.oauth import services
from conduit.users.models import User

REDIRECT_URI = "https://app.example/callback"


@dataclass
class App:
    application: Any
    client_id: str
    secret: str | None


def register(name: str = "Reader", *, public: bool = False, owner: User | None = None) -> App:
    application, secret = services.application_create(
        name=name, redirect_uris=[REDIRECT_URI], public=public, user=owner
    )
    return App(application, application.client_id, secret)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(app: App, scope: str, challenge: str, state: str = "xyz") -> str:
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"/oauth/authorize/?{urlencode(query)}"


def consent(browser: Client, app: App, scope: str, challenge: str, allow: bool = True) -> dict:
    """GET the consent page, then post its form (Allow or Deny); the redirect's query."""
    url = authorize_url(app, scope, challenge)
    page = browser.get(url)
    assert page.status_code == 200, page.content[:500]
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    if allow:
        data["allow"] = "on"
    answer = browser.post(url, data)
    assert answer.status_code == 302, answer.content[:500]
    target = urlsplit(answer["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT_URI
    return {key: values[0] for key, values in parse_qs(target.query).items()}


def client_auth(app: App) -> dict[str, str]:
    return {"client_id": app.client_id, **({"client_secret": app.secret} if app.secret else {})}


def tokens_for(user: User, app: App, scope: str = "read write profile") -> dict[str, Any]:
    """Sign ``user`` in, consent to ``scope`` and exchange the code: the token response."""
    browser = Client()
    browser.force_login(user)
    verifier, challenge = pkce()
    code = consent(browser, app, scope, challenge)["code"]
    response = Client().post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            **client_auth(app),
        },
    )
    assert response.status_code == 200, response.content
    return response.json()


def refresh(app: App, refresh_token: str) -> Any:
    return Client().post(
        "/oauth/token/",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, **client_auth(app)},
    )


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
