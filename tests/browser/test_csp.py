"""The Content-Security-Policy, enforced in Chromium (SECURE_CSP, docs/security.md): the pages
and the API's docs page run under it without a violation (every browser test fails on one, as
on any console error), and a violation is caught."""

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import PageErrors

pytestmark = pytest.mark.browser


def test_the_home_page_is_served_with_the_strict_policy(page: Page) -> None:
    response = page.goto("/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_the_api_docs_page_works_under_its_policy(page: Page) -> None:
    response = page.goto("/api/docs")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.get_by_text(re.compile("/api/articles"))).not_to_have_count(0)


def test_a_violation_is_an_error_the_tests_catch(
    transactional_db: None, context: BrowserContext
) -> None:
    errors = PageErrors()
    page = errors.watch(context.new_page())
    page.goto("/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1'; document.body.append(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.injected") is None  # refused
    assert any("Content Security Policy" in error for error in errors.errors), errors.errors
