"""The OAuth consent page in Chromium (ADR 0031): a signed-in person opens an app's
authorization URL, sees the app's name and the scopes it asks for, and Allow sends the browser
back to the app with a code; Deny sends it back with ``error=access_denied``. Strict CSP, no
console error (every browser test fails on one)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser import ui
from tests.factories import UserFactory
from tests.oauth import helpers as oauth

pytestmark = pytest.mark.browser


def _app_callback(page: Page) -> list[str]:
    """The app's redirect URI, answered in the browser (no network): the URLs it was sent."""
    arrived: list[str] = []

    def answer(route: Route) -> None:
        arrived.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>App</title>back")

    page.route(f"{oauth.REDIRECT_URI}**", answer)
    return arrived


def _open_consent(page: Page, scope: str) -> None:
    UserFactory(username="ada", email="ada@example.com")
    app = oauth.register("Dragon Reader")
    ui.sign_in(page, "ada@example.com")
    ui.expect_signed_in_as(page, "ada")
    _, challenge = oauth.pkce()
    page.goto(oauth.authorize_url(app, scope, challenge, state="s1"))
    expect(page.get_by_role("heading", name="Authorize Dragon Reader?")).to_be_visible()


def test_allow_redirects_back_with_a_code(page: Page) -> None:
    arrived = _app_callback(page)
    _open_consent(page, "read write")
    scopes = page.locator(".consent-scopes li")
    expect(scopes).to_have_count(2)
    expect(scopes.nth(0)).to_contain_text("read")
    expect(scopes.nth(1)).to_contain_text("write")
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_title("App")
    query = parse_qs(urlsplit(arrived[-1]).query)
    assert query["code"][0]
    assert query["state"] == ["s1"]


def test_deny_redirects_back_with_access_denied(page: Page) -> None:
    arrived = _app_callback(page)
    _open_consent(page, "read")
    page.get_by_role("button", name="Deny").click()
    expect(page).to_have_title("App")
    query = parse_qs(urlsplit(arrived[-1]).query)
    assert query["error"] == ["access_denied"]
    assert "code" not in query
