"""Errors in Chromium: every form shows its errors in ``ul.error-messages`` and keeps what was
typed; nothing anyone writes runs as script; and the site works with JavaScript turned off."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser.conftest import NewPage, Shot
from tests.factories import UserFactory, make_article

XSS = "window.__xss=1"
JS_URLS = """() => [...document.querySelectorAll("[href], [src], [action], [formaction]")]
    .flatMap(e => ["href", "src", "action", "formaction"].map(a => e.getAttribute(a)))
    .filter(v => v !== null && /^\\s*javascript:/i.test(v))"""


# --- Forms show their errors and keep what was typed ------------------------------------------


@pytest.mark.parametrize(
    ("username", "email", "password", "errors"),
    [
        pytest.param(
            "",
            "",
            "",
            ["username can't be blank", "email can't be blank", "password can't be blank"],
            id="empty",
        ),
        pytest.param(
            "taken",
            "new@example.com",
            "password123",
            ["username has already been taken"],
            id="duplicate-username",
        ),
        pytest.param(
            "newcomer", "not-an-email", "password123", ["email is invalid"], id="bad-email"
        ),
        pytest.param(
            "newcomer",
            "newcomer@example.com",
            "short",
            [re.compile(r"^password .*too short.*8 characters")],
            id="short-password",
        ),
    ],
)
def test_registration_errors(
    page: Page, username: str, email: str, password: str, errors: list[str | re.Pattern[str]]
) -> None:
    UserFactory(username="taken", email="taken@example.com")
    ui.register(page, username, email, password)
    expect(page).to_have_url(re.compile(r"/register$"))
    expect(ui.error_messages(page)).to_have_text(errors)
    expect(page.get_by_placeholder("Username")).to_have_value(username)
    expect(page.get_by_placeholder("Email")).to_have_value(email)
    expect(page.get_by_placeholder("Password")).to_have_value("")  # never sent back
    ui.expect_signed_out(page)


def test_wrong_password_on_sign_in(page: Page, shot: Shot) -> None:
    UserFactory(username="ada", email="ada@example.com")
    ui.sign_in(page, "ada@example.com", "not-her-password")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(ui.error_messages(page)).to_have_text(["email or password is invalid"])
    expect(page.get_by_placeholder("Email")).to_have_value("ada@example.com")
    expect(page.get_by_placeholder("Password")).to_have_value("")
    ui.expect_signed_out(page)
    shot(page, "login-errors")

    # An unknown email reads the same (no hint about which accounts exist).
    ui.sign_in(page, "nobody@example.com", "password123")
    expect(ui.error_messages(page)).to_have_text(["email or password is invalid"])


def test_empty_article_errors_keep_what_was_typed(page: Page, shot: Shot) -> None:
    user = UserFactory(username="ada")
    ui.sign_in(page, user.email)
    page.get_by_role("link", name="New Article").click()
    ui.publish(page)
    expect(page).to_have_url(re.compile(r"/editor$"))
    expect(ui.error_messages(page)).to_have_text(
        ["title can't be blank", "description can't be blank", "body can't be blank"]
    )

    ui.fill_editor(page, title="Half an idea", description="More to come")
    ui.add_tag_pill(page, "drafts")
    ui.add_tag_pill(page, "ideas")
    ui.publish(page)
    expect(page).to_have_url(re.compile(r"/editor$"))
    expect(ui.error_messages(page)).to_have_text(["body can't be blank"])
    expect(page.get_by_placeholder("Article Title")).to_have_value("Half an idea")
    expect(page.get_by_placeholder("What's this article about?")).to_have_value("More to come")
    expect(page.get_by_placeholder("Write your article (in markdown)")).to_have_value("")
    expect(ui.tag_pills(page)).to_have_text(["drafts", "ideas"])
    shot(page, "editor-errors")

    # Fixing the one error publishes everything that was kept.
    page.get_by_placeholder("Write your article (in markdown)").fill("Now with a body.")
    ui.publish(page)
    expect(page).to_have_url(ui.article_url("half-an-idea"))
    expect(page.locator(".article-content .tag-list li")).to_have_text(["drafts", "ideas"])


def test_settings_with_an_empty_username(page: Page) -> None:
    user = UserFactory(username="ada", bio="Counts.")
    ui.sign_in(page, user.email)
    page.goto("/settings")
    page.get_by_placeholder("Your Name").fill("")
    page.get_by_placeholder("Short bio about you").fill("Counts, and writes programs.")
    page.get_by_role("button", name="Update Settings").click()
    expect(page).to_have_url(re.compile(r"/settings$"))
    expect(ui.error_messages(page)).to_have_text(["username can't be blank"])
    expect(page.get_by_placeholder("Your Name")).to_have_value("")
    expect(page.get_by_placeholder("Short bio about you")).to_have_value(
        "Counts, and writes programs."
    )
    expect(page.get_by_placeholder("Email")).to_have_value(user.email)
    ui.expect_signed_in_as(page, "ada")  # the nav still shows the saved name

    page.goto("/profile/ada")  # nothing was saved
    expect(page.locator(".user-info p")).to_have_text("Counts.")


@pytest.mark.parametrize("body", ["", "   \n  "], ids=["empty", "blank"])
def test_blank_comment_shows_a_flash_error(page: Page, body: str) -> None:
    author = UserFactory(username="grace")
    reader = UserFactory(username="ada")
    article = make_article(author, title="Comments welcome")
    ui.sign_in(page, reader.email)
    page.goto(f"/article/{article.slug}")
    page.get_by_placeholder("Write a comment...").fill(body)
    page.get_by_role("button", name="Post Comment").click()
    expect(page).to_have_url(re.compile(rf"/article/{article.slug}#comment-form$"))
    expect(page.locator(".flash-messages .flash-error")).to_have_text(["body can't be blank"])
    expect(page.locator("#comments .card:not(.comment-form)")).to_have_count(0)


# --- Nothing anyone writes runs as script ------------------------------------------------------


def expect_no_script_ran(page: Page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined", f"script ran on {page.url}"
    assert page.evaluate(JS_URLS) == [], f"a javascript: URL on {page.url}"
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("main script")).to_have_count(0)


def test_xss_walkthrough(page: Page) -> None:
    title = f"<img src=x onerror={XSS}>"
    UserFactory(username="mallory", email="mallory@example.com")
    ui.sign_in(page, "mallory@example.com")
    page.get_by_role("link", name="New Article").click()
    ui.fill_editor(
        page,
        title=title,
        description=f'<b onmouseover="{XSS}">hover me</b>',
        body=(
            f"<script>{XSS}</script>\n\n"
            f"[click](javascript:{XSS})\n\n"
            f'<a href="javascript:{XSS}">raw link</a>\n\n'
            f"![img](javascript:{XSS})\n"
        ),
    )
    ui.add_tag_pill(page, f"<svg onload={XSS}>")
    ui.publish(page)

    expect(page.locator(".banner h1")).to_have_text(title)  # shown as text
    content = page.locator(".article-content")
    expect(content).to_contain_text(f"<script>{XSS}</script>")
    expect(content.locator(".tag-list li")).to_have_text([f"<svg onload={XSS}>"])
    expect_no_script_ran(page)

    page.get_by_placeholder("Write a comment...").fill(f"<script>{XSS}</script>")
    page.get_by_role("button", name="Post Comment").click()
    expect(page.locator("#comments .card-text")).to_have_text([f"<script>{XSS}</script>"])
    expect_no_script_ran(page)

    page.goto("/")
    expect(ui.preview_titles(page)).to_have_text([title])
    expect_no_script_ran(page)
    page.get_by_role("complementary", name="Popular tags").get_by_role("link").first.click()
    expect(ui.preview_titles(page)).to_have_text([title])
    expect_no_script_ran(page)
    page.goto("/profile/mallory")
    expect(ui.preview_titles(page)).to_have_text([title])
    expect_no_script_ran(page)


# --- Without JavaScript: plain form posts ------------------------------------------------------


def test_works_without_javascript(new_page: NewPage) -> None:
    UserFactory(username="ada", email="ada@example.com")
    grace = UserFactory(username="grace")
    make_article(grace, title="Grace's article")
    page = new_page(java_script_enabled=False)

    ui.sign_in(page, "ada@example.com")
    ui.expect_signed_in_as(page, "ada")

    # Publish, with the tags typed comma-separated (there are no pills without JavaScript).
    page.get_by_role("link", name="New Article").click()
    ui.fill_editor(
        page,
        title="Plain forms",
        description="No script needed",
        body="Works *everywhere*.",
        tags="forms, html",
    )
    expect(ui.tag_pills(page)).to_have_count(0)
    ui.publish(page)
    expect(page).to_have_url(ui.article_url("plain-forms"))
    expect(page.locator(".article-content em")).to_have_text("everywhere")
    expect(page.locator(".article-content .tag-list li")).to_have_text(["forms", "html"])
    page.get_by_role("link", name="Edit Article").first.click()
    expect(page.get_by_placeholder("Enter tags")).to_have_value("forms, html")

    # Favorite it from the Global Feed: the button posts and comes back to the list.
    page.goto("/")
    mine = ui.previews(page).filter(has_text="Plain forms")
    mine.get_by_role("button", name="Favorite article (0)").click()
    expect(page).to_have_url(re.compile(r"/$"))
    mine = ui.previews(page).filter(has_text="Plain forms")
    expect(mine.get_by_role("button")).to_have_accessible_name("Unfavorite article (1)")
    expect(mine.get_by_role("button")).to_have_attribute("aria-pressed", "true")

    # Favorite Grace's from its page, and follow her.
    ui.previews(page).filter(has_text="Grace's article").locator(".preview-link").click()
    page.get_by_role("button", name=re.compile(r"^Favorite Article")).first.click()
    expect(
        page.get_by_role("button", name=re.compile(r"^Unfavorite Article")).first.locator(
            ".counter"
        )
    ).to_have_text("(1)")
    page.goto("/profile/grace")
    page.get_by_role("button", name="Follow grace", exact=True).click()
    expect(page).to_have_url(re.compile(r"/profile/grace$"))
    expect(page.get_by_role("button", name="Unfollow grace", exact=True)).to_be_visible()
    page.goto("/?feed=your")
    expect(ui.preview_titles(page)).to_have_text(["Grace's article"])

    ui.sign_out(page)
