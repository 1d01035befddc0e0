"""The whole OAuth flow over HTTP with a real OAuth client library (Authlib's ``OAuth2Session``)
against a running server: pytest-django's live server by default, or any running Conduit with
``CONDUIT_OAUTH_E2E_URL`` (e.g. ``make run``: ``CONDUIT_OAUTH_E2E_URL=http://127.0.0.1:8000``).

Everything goes through HTTP, so it works against a server with its own database: a user
registers with the API and publishes an article; the same user signs in to the site and
registers a confidential app on the Applications page; the client discovers the endpoints
(RFC 8414), sends the user to the consent page with PKCE (S256), the user allows, the client
exchanges the code, reads and comments with the Bearer token, is refused a comment without the
``write`` scope, refreshes (the old refresh token is then refused), revokes (RFC 7009), and gets
a 401.
"""

import os
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from tests.web.html import parse

REDIRECT_URI = "https://127.0.0.1:9/callback"  # never fetched: the test reads the redirect
TIMEOUT = 10


@pytest.fixture
def sessions() -> Iterator[list[requests.Session]]:
    """Every HTTP session the test opens, closed after it: a kept-alive connection keeps a live
    server thread, and its database connection, past the test (PostgreSQL then refuses to drop
    the test database)."""
    opened: list[requests.Session] = []
    yield opened
    for session in opened:
        session.close()


@pytest.fixture
def base_url(request: pytest.FixtureRequest, live_server: Any, settings: Any) -> str:
    external = os.environ.get("CONDUIT_OAUTH_E2E_URL")
    if external:
        return external.rstrip("/")
    # The metadata's URLs come from SITE_URL: here, the live server's.
    settings.SITE_URL = live_server.url
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": live_server.url}
    return str(live_server.url)


class Browser:
    """A person's browser: a cookie session that signs in with the site's form. Loopback is a
    secure context to browsers, so the Secure cookies of a plain-HTTP ``make run`` are sent
    back, as Chromium does."""

    def __init__(self, base: str, sessions: list[requests.Session]) -> None:
        self.base = base
        self.session = requests.Session()
        sessions.append(self.session)

    def _loopback_cookies(self) -> None:
        for cookie in self.session.cookies:
            cookie.secure = False

    def get(self, url: str) -> requests.Response:
        response = self.session.get(urljoin(self.base, url), allow_redirects=False, timeout=TIMEOUT)
        self._loopback_cookies()
        return response

    def post_form(self, url: str, page: requests.Response, data: dict[str, str]) -> Any:
        doc = parse(page.content)
        csrf = doc.select("input[name=csrfmiddlewaretoken]")[0].attrs["value"]
        response = self.session.post(
            urljoin(self.base, url),
            data={"csrfmiddlewaretoken": csrf, **data},
            headers={"Referer": page.url},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        self._loopback_cookies()
        return response

    def sign_in(self, email: str, password: str) -> None:
        page = self.get("/login")
        answer = self.post_form("/login", page, {"email": email, "password": password})
        assert answer.status_code == 302, answer.text[:500]

    def consent(self, authorization_url: str, allow: bool = True) -> str:
        """Open the consent page, press Allow (or Deny): the redirect back to the app."""
        page = self.get(authorization_url)
        assert page.status_code == 200, page.text[:500]
        doc = parse(page.content)
        hidden = {
            field.attrs["name"]: field.attrs.get("value", "")
            for field in doc.select("form.consent-form input[type=hidden]")
        }
        if allow:
            hidden["allow"] = "on"
        answer = self.post_form(authorization_url, page, hidden)
        assert answer.status_code == 302, answer.text[:500]
        return str(answer.headers["Location"])


def register_user(base: str) -> dict[str, str]:
    name = f"oauth{secrets.token_hex(4)}"
    person = {"username": name, "email": f"{name}@example.com", "password": "a-long-password-1"}
    answer = requests.post(f"{base}/api/users", json={"user": person}, timeout=TIMEOUT)
    assert answer.status_code == 201, answer.text
    return {**person, "jwt": answer.json()["user"]["token"]}


def publish(base: str, jwt: str) -> str:
    article = {"title": f"OAuth {secrets.token_hex(4)}", "description": "d", "body": "b"}
    answer = requests.post(
        f"{base}/api/articles",
        json={"article": article},
        headers={"Authorization": f"Token {jwt}"},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["article"]["slug"])


def register_app(browser: Browser) -> tuple[str, str]:
    page = browser.get("/settings/applications")
    answer = browser.post_form(
        "/settings/applications", page, {"name": "E2E client", "redirect_uri": REDIRECT_URI}
    )
    assert answer.status_code == 200, answer.text[:500]
    doc = parse(answer.content)
    return doc.one(".app-client-id").text, doc.one(".app-client-secret").text


def authorize(browser: Browser, client: OAuth2Session, endpoints: dict[str, Any]) -> dict:
    verifier = generate_token(48)
    url, _state = client.create_authorization_url(
        endpoints["authorization_endpoint"], code_verifier=verifier
    )
    back = browser.consent(url)
    return dict(
        client.fetch_token(
            endpoints["token_endpoint"], authorization_response=back, code_verifier=verifier
        )
    )


def test_code_pkce_bearer_refresh_revoke(base_url: str, sessions: list[requests.Session]) -> None:
    person = register_user(base_url)
    slug = publish(base_url, person["jwt"])
    browser = Browser(base_url, sessions)
    browser.sign_in(person["email"], person["password"])
    client_id, client_secret = register_app(browser)

    endpoints = requests.get(
        f"{base_url}/.well-known/oauth-authorization-server", timeout=TIMEOUT
    ).json()
    assert endpoints["issuer"] == base_url
    assert endpoints["code_challenge_methods_supported"] == ["S256"]

    def session(scope: str) -> OAuth2Session:
        client = OAuth2Session(
            client_id,
            client_secret,
            scope=scope,
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
        )
        sessions.append(client)
        return client

    # Code + PKCE with read and write: read a list, write a comment.
    writer = session("read write")
    token = authorize(browser, writer, endpoints)
    assert set(token["scope"].split()) == {"read", "write"}
    listed = writer.get(f"{base_url}/api/articles", params={"author": person["username"]})
    assert listed.status_code == 200
    assert [a["slug"] for a in listed.json()["articles"]] == [slug]
    comment = {"comment": {"body": "Written by an OAuth client"}}
    written = writer.post(f"{base_url}/api/articles/{slug}/comments", json=comment)
    assert written.status_code == 201, written.text

    # Read only: the comment is refused with the API's 403.
    reader = session("read")
    authorize(browser, reader, endpoints)
    refused = reader.post(f"{base_url}/api/articles/{slug}/comments", json=comment)
    assert refused.status_code == 403
    assert refused.json() == {"errors": {"token": ["lacks the scope write"]}}

    # Refresh: a new pair; the old access token no longer works.
    old = dict(writer.token)
    renewed = dict(writer.refresh_token(endpoints["token_endpoint"]))
    assert renewed["refresh_token"] != old["refresh_token"]
    assert renewed["access_token"] != old["access_token"]
    assert writer.get(f"{base_url}/api/articles/{slug}/comments").status_code == 200
    stale = requests.get(
        f"{base_url}/api/tags",
        headers={"Authorization": f"Bearer {old['access_token']}"},
        timeout=TIMEOUT,
    )
    assert stale.status_code == 401

    # Revoke (RFC 7009), then the API says 401 in its own error shape.
    revoked = writer.revoke_token(
        endpoints["revocation_endpoint"],
        token=renewed["access_token"],
        token_type_hint="access_token",
    )
    assert revoked.status_code == 200
    gone = writer.get(f"{base_url}/api/articles/{slug}/comments")
    assert gone.status_code == 401
    assert gone.json() == {"errors": {"token": ["is invalid"]}}

    # The rotated-away refresh token is refused.
    replay = requests.post(
        endpoints["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": old["refresh_token"]},
        auth=(client_id, client_secret),
        timeout=TIMEOUT,
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
