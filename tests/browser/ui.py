"""What a person does on the site, by placeholders and button texts (RealWorld's markup), as an
independent end-to-end suite would: no ids, no knowledge of the views."""

import re

from playwright.sync_api import Locator, Page, expect

PASSWORD = "password123"  # tests.factories.UserFactory's


def register(page: Page, username: str, email: str, password: str = PASSWORD) -> None:
    page.goto("/register")
    page.get_by_placeholder("Username").fill(username)
    page.get_by_placeholder("Email").fill(email)
    page.get_by_placeholder("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_placeholder("Email").fill(email)
    page.get_by_placeholder("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def expect_signed_in_as(page: Page, username: str) -> None:
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name=username, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Sign in")).to_have_count(0)


def expect_signed_out(page: Page) -> None:
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    expect(nav.get_by_role("link", name="Sign up")).to_be_visible()
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)


def sign_out(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Or click here to logout.").click()
    expect_signed_out(page)


def fill_editor(
    page: Page, *, title: str = "", description: str = "", body: str = "", tags: str = ""
) -> None:
    """Fill the editor's fields; ``tags`` is typed into "Enter tags" as it is (no Enter)."""
    page.get_by_placeholder("Article Title").fill(title)
    page.get_by_placeholder("What's this article about?").fill(description)
    page.get_by_placeholder("Write your article (in markdown)").fill(body)
    page.get_by_placeholder("Enter tags").fill(tags)


def add_tag_pill(page: Page, tag: str) -> None:
    """Type a tag into "Enter tags" and press Enter, as in every RealWorld client."""
    field = page.get_by_placeholder("Enter tags")
    field.fill(tag)
    field.press("Enter")


def tag_pills(page: Page) -> Locator:
    """The tags the editor will publish, shown as pills under "Enter tags"."""
    return page.locator(".editor-page form .tag-list .tag-pill")


def publish(page: Page) -> None:
    page.get_by_role("button", name="Publish Article").click()


def previews(page: Page) -> Locator:
    return page.locator(".article-preview:not(.empty-state)")


def preview_titles(page: Page) -> Locator:
    return previews(page).locator(".preview-link h1")


def error_messages(page: Page) -> Locator:
    return page.locator("ul.error-messages li")


def flashes(page: Page) -> Locator:
    return page.locator(".flash-messages .flash")


def article_url(slug_hint: str = "") -> re.Pattern[str]:
    return re.compile(r"/article/" + re.escape(slug_hint) + r"[^/]*$")
