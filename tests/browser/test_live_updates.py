"""Live updates in the browser (ADR 0030): a comment another reader posts appears on an open
article page without a reload, and a signed-in reader's home page counts the new articles of
the people they follow. The streams come from make run's events server (uvicorn in a thread of
this process, beside the live server; conftest.py's ``live_events``), on another origin: CSP's
connect-src and CORS for it."""

import re

from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser.conftest import NewPage, Shot
from tests.factories import UserFactory, follow, make_article, make_comment


def test_another_readers_comment_appears_without_a_reload(
    page: Page, new_page: NewPage, shot: Shot
) -> None:
    author = UserFactory(username="ada")
    commenter = UserFactory(username="grace", email="grace@example.com")
    article = make_article(author, title="Live and kicking")
    make_comment(author, article, body="First!")

    page.goto(f"/article/{article.slug}")  # an anonymous reader
    expect(page.locator(".card .card-text")).to_have_text(["First!"])
    page.evaluate("window.notReloaded = true")

    other = new_page()
    ui.sign_in(other, commenter.email)
    other.goto(f"/article/{article.slug}")
    other.get_by_placeholder("Write a comment...").fill("Hello from <b>grace</b>\nline two")
    other.get_by_role("button", name="Post Comment").click()

    cards = page.locator("#comments .card:not(.comment-form)")
    expect(cards.locator(".card-text")).to_have_text(
        ["Hello from <b>grace</b>line two", "First!"]  # text, never markup; the newest first
    )
    expect(cards.first.locator(".card-text br")).to_have_count(1)
    expect(cards.first.get_by_role("link", name="grace", exact=True)).to_have_attribute(
        "href", "/profile/grace"
    )
    assert page.evaluate("window.notReloaded") is True
    shot(page, "live-comment")


def test_the_home_page_counts_new_articles_in_the_feed(page: Page, shot: Shot) -> None:
    reader = UserFactory(username="reader", email="reader@example.com")
    writer, stranger = UserFactory(username="writer"), UserFactory(username="stranger")
    follow(reader, writer)
    ui.sign_in(page, reader.email)
    page.goto("/")
    notice = page.locator(".feed-news")
    expect(notice).to_be_hidden()
    expect(notice).to_have_attribute("data-live", "open")  # the stream is connected

    make_article(writer, title="One")
    make_article(stranger, title="Not followed")
    make_article(writer, title="Two")

    expect(notice).to_be_visible()
    expect(notice.get_by_role("link")).to_have_text("2 new articles in your feed")
    shot(page, "live-feed-count")
    notice.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"\?feed=your$"))
    expect(ui.preview_titles(page)).to_have_text(["Two", "One"])


def test_pages_work_without_javascript(new_page: NewPage) -> None:
    author = UserFactory()
    article = make_article(author, title="Static")
    make_comment(author, article, body="Still here")
    page = new_page(java_script_enabled=False)
    page.goto(f"/article/{article.slug}")
    expect(page.locator(".card-text")).to_have_text(["Still here"])
