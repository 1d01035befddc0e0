"""The Security settings page in Chromium (ADR 0032): reached from the settings tabs, it lists
the person's own sign-ins and failures, newest first, without a console error, and fits a phone
without scrolling sideways."""

import re

from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser.conftest import Shot
from tests.browser.test_journey import MOBILE, expect_no_horizontal_scroll
from tests.factories import UserFactory


def test_security_page_lists_sign_ins(page: Page, shot: Shot) -> None:
    UserFactory(username="grace", email="grace@example.com")
    ui.sign_in(page, "grace@example.com", "not-her-password")
    expect(ui.error_messages(page)).to_have_text(["email or password is invalid"])
    ui.sign_in(page, "grace@example.com")
    ui.expect_signed_in_as(page, "grace")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Security").click()
    expect(page).to_have_url(re.compile(r"/settings/security$"))
    rows = page.locator("tr.security-event")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Signed in")
    expect(rows.nth(1)).to_contain_text("Failed sign-in")
    expect(rows.nth(0)).to_contain_text("127.0.0.0/24")
    expect(rows.nth(0).locator("td.security-agent")).to_contain_text("Chrome")
    shot(page, "settings-security")
    page.set_viewport_size(MOBILE)
    expect_no_horizontal_scroll(page, MOBILE["width"])
    shot(page, "settings-security-mobile")
