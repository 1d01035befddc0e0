"""A new person's journey through the site, in Chromium, through the pages only: sign up, write,
edit, sign out; a second person follows, favorites, comments; feeds, pages, tags, settings.

Test data is set up through the factories only where the journey needs volume (pagination, the
tag sidebar); everything a person does is done by placeholder and button text.
"""

import re

from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser.conftest import NewPage, Shot
from tests.factories import UserFactory, make_article, make_articles

BODY = """\
# Training dragons

Dragons need patience and:

- fireproof gloves
- a lot of sheep

## Feeding

```python
def feed(dragon, sheep=3):
    return dragon.eat(sheep, seasoning="a pinch of sulphur", temperature_celsius=1_200)
```

Read the [dragon guide](https://example.com/dragons) first; its mirror is at
https://example.com/mirrors/dragons/training/feeding-and-care-of-the-young-dragon.html
"""

EDITED_BODY = """\
# Training dragons, revised

## Feeding

Feed `dragon` twice a day.
"""

MOBILE = {"width": 375, "height": 812}


def expect_no_horizontal_scroll(page: Page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (
        f"{page.url} scrolls sideways at {width}px: the document is {scroll_width}px wide"
    )


def test_new_user_journey(page: Page, new_page: NewPage, shot: Shot) -> None:
    # --- Ada signs up and lands on the home page, signed in ---------------------------------
    page.goto("/")
    expect(page.get_by_role("heading", name="conduit")).to_be_visible()  # the banner
    shot(page, "home-anonymous")

    ui.register(page, "ada", "ada@example.com")
    expect(page).to_have_url(re.compile(r"/$"))
    ui.expect_signed_in_as(page, "ada")
    expect(page.get_by_role("link", name="Your Feed")).to_be_visible()
    expect(ui.flashes(page)).to_have_text(["Welcome to Conduit, ada!"])

    # --- She writes an article, with two tags as pills ---------------------------------------
    page.get_by_role("link", name="New Article").click()
    expect(page).to_have_url(re.compile(r"/editor$"))
    ui.fill_editor(
        page,
        title="How to train your dragon",
        description="Ever wonder how?",
        body=BODY,
    )
    ui.add_tag_pill(page, "dragons")
    ui.add_tag_pill(page, "training")
    expect(ui.tag_pills(page)).to_have_text(["dragons", "training"])
    expect(page.get_by_placeholder("Enter tags")).to_have_value("")
    expect(page).to_have_url(re.compile(r"/editor$"))  # Enter added a pill, did not submit
    shot(page, "editor")
    ui.publish(page)

    # --- The article page shows the rendered markdown and both tags -------------------------
    expect(page).to_have_url(ui.article_url("how-to-train-your-dragon"))
    article_path = page.url.removeprefix(page.evaluate("location.origin"))
    expect(page.locator(".banner h1")).to_have_text("How to train your dragon")
    content = page.locator(".article-content")
    expect(content.locator("h1")).to_have_text("Training dragons")
    expect(content.locator("h2")).to_have_text("Feeding")
    expect(content.locator("ul:not(.tag-list) > li")).to_have_text(
        ["fireproof gloves", "a lot of sheep"]
    )
    expect(content.locator("pre code")).to_contain_text("def feed(dragon, sheep=3):")
    expect(content.get_by_role("link", name="dragon guide")).to_have_attribute(
        "href", "https://example.com/dragons"
    )
    expect(content.locator(".tag-list li")).to_have_text(["dragons", "training"])
    shot(page, "article")

    # --- ... on a phone too, without sideways scrolling -------------------------------------
    page.set_viewport_size(MOBILE)
    expect(content.locator("pre code")).to_be_visible()
    expect_no_horizontal_scroll(page, MOBILE["width"])
    shot(page, "article-mobile")
    page.goto("/")
    expect(ui.preview_titles(page)).to_have_text(["How to train your dragon"])
    expect_no_horizontal_scroll(page, MOBILE["width"])
    shot(page, "home-mobile")
    page.set_viewport_size({"width": 1280, "height": 720})

    # --- It is in the Global Feed and on her profile under "My Articles" ---------------------
    page.get_by_role("link", name="Global Feed").click()
    expect(ui.preview_titles(page)).to_have_text(["How to train your dragon"])
    expect(ui.previews(page).locator(".tag-list li")).to_have_text(["dragons", "training"])
    sidebar = page.get_by_role("complementary", name="Popular tags")
    expect(sidebar.get_by_role("link")).to_have_text(["dragons", "training"])
    shot(page, "home-signed-in")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="ada").click()
    expect(page).to_have_url(re.compile(r"/profile/ada$"))
    expect(page.get_by_role("link", name="My Articles")).to_have_class(re.compile(r"\bactive\b"))
    expect(ui.preview_titles(page)).to_have_text(["How to train your dragon"])
    expect(page.get_by_role("link", name="Edit Profile Settings")).to_be_visible()
    shot(page, "profile")

    # --- She edits it: a new body, one tag removed with its pill's x -------------------------
    ui.preview_titles(page).first.click()
    page.get_by_role("link", name="Edit Article").first.click()
    expect(page).to_have_url(re.compile(r"/editor/how-to-train-your-dragon"))
    expect(page.get_by_placeholder("Article Title")).to_have_value("How to train your dragon")
    expect(ui.tag_pills(page)).to_have_text(["dragons", "training"])
    page.get_by_placeholder("Write your article (in markdown)").fill(EDITED_BODY)
    page.get_by_role("button", name="Remove tag training").click()
    expect(ui.tag_pills(page)).to_have_text(["dragons"])
    ui.publish(page)
    expect(page).to_have_url(re.compile(re.escape(article_path) + "$"))
    expect(content.locator("h1")).to_have_text("Training dragons, revised")
    expect(content.locator("p code")).to_have_text("dragon")
    expect(content).not_to_contain_text("fireproof gloves")
    expect(content.locator(".tag-list li")).to_have_text(["dragons"])

    # --- She signs out -----------------------------------------------------------------------
    ui.sign_out(page)
    expect(page).to_have_url(re.compile(r"/$"))

    # --- Grace signs up, follows Ada from her profile, favorites and comments ----------------
    grace = new_page()
    ui.register(grace, "grace", "grace@example.com")
    ui.expect_signed_in_as(grace, "grace")
    grace.goto("/")
    grace.get_by_role("link", name="Global Feed").click()
    ui.previews(grace).get_by_role("link", name="ada", exact=True).first.click()
    expect(grace).to_have_url(re.compile(r"/profile/ada$"))
    grace.get_by_role("button", name="Follow ada", exact=True).click()
    expect(grace.get_by_role("button", name="Unfollow ada", exact=True)).to_be_visible()
    expect(grace).to_have_url(re.compile(r"/profile/ada$"))

    ui.preview_titles(grace).first.click()
    expect(grace).to_have_url(re.compile(re.escape(article_path) + "$"))
    favorite = grace.get_by_role("button", name=re.compile(r"^Favorite Article")).first
    expect(favorite.locator(".counter")).to_have_text("(0)")
    favorite.click()
    unfavorite = grace.get_by_role("button", name=re.compile(r"^Unfavorite Article")).first
    expect(unfavorite.locator(".counter")).to_have_text("(1)")
    expect(grace.get_by_role("button", name=re.compile(r"^Unfavorite Article"))).to_have_count(2)
    expect(grace.get_by_role("button", name="Unfollow ada", exact=True)).to_have_count(2)

    grace.get_by_placeholder("Write a comment...").fill("Sheep? How many **exactly**?")
    grace.get_by_role("button", name="Post Comment").click()
    comment = grace.locator(".card:not(.comment-form)", has_text="Sheep? How many")
    expect(comment).to_be_visible()
    expect(comment.locator(".card-text")).to_have_text("Sheep? How many **exactly**?")
    expect(comment.locator(".comment-author").last).to_have_text("grace")
    shot(grace, "article-reader")
    comment.get_by_role("button", name="Delete comment").click()
    expect(grace.get_by_text("Sheep? How many")).to_have_count(0)
    expect(grace).to_have_url(re.compile(re.escape(article_path) + "(#.*)?$"))

    # --- Her feed has Ada's article; her favorites tab too -----------------------------------
    grace.goto("/")
    grace.get_by_role("link", name="Your Feed").click()
    expect(grace).to_have_url(re.compile(r"\?feed=your$"))
    expect(ui.preview_titles(grace)).to_have_text(["How to train your dragon"])
    grace.goto("/profile/grace")
    expect(ui.previews(grace)).to_have_count(0)  # she wrote nothing
    grace.get_by_role("link", name="Favorited Articles").click()
    expect(grace).to_have_url(re.compile(r"/profile/grace/favorites$"))
    expect(ui.preview_titles(grace)).to_have_text(["How to train your dragon"])
    expect(ui.previews(grace).get_by_role("button")).to_have_attribute("aria-pressed", "true")


def test_deleting_an_article_asks_first(page: Page) -> None:
    author = UserFactory(username="linus")
    make_article(author, title="Delete me maybe")
    ui.sign_in(page, author.email)
    page.goto("/profile/linus")
    ui.preview_titles(page).first.click()
    article_url = page.url
    delete = page.get_by_role("button", name="Delete Article").first

    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    delete.click()
    expect(page.locator(".banner h1")).to_have_text("Delete me maybe")
    assert questions == ["Delete this article?"]
    assert page.url == article_url

    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(ui.flashes(page)).to_have_text(["The article is deleted."])
    expect(ui.previews(page)).to_have_count(0)


def test_pages_of_articles(page: Page) -> None:
    author = UserFactory(username="margaret")
    make_articles(author, 12)  # "Article 0" ... "Article 11", the newest last
    page.goto("/")
    expect(ui.previews(page)).to_have_count(10)
    expect(ui.preview_titles(page).first).to_have_text("Article 11")
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages.get_by_role("link")).to_have_text(["1", "2"])
    expect(pages.get_by_role("link", name="1")).to_have_attribute("aria-current", "page")

    pages.get_by_role("link", name="2").click()
    expect(page).to_have_url(re.compile(r"\?page=2$"))
    expect(ui.preview_titles(page)).to_have_text(["Article 1", "Article 0"])
    expect(pages.get_by_role("link", name="2")).to_have_attribute("aria-current", "page")

    # The author's profile pages the same way.
    page.goto("/profile/margaret")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="2").click()
    expect(page).to_have_url(re.compile(r"/profile/margaret\?page=2$"))
    expect(ui.preview_titles(page)).to_have_text(["Article 1", "Article 0"])


def test_popular_tag_filters_the_list(page: Page) -> None:
    author = UserFactory(username="ken")
    make_article(author, title="Unix history", tags=["unix", "history"])
    make_article(author, title="Plan 9", tags=["unix"])
    make_article(author, title="Go at Google", tags=["go"])
    page.goto("/")
    sidebar = page.get_by_role("complementary", name="Popular tags")
    expect(sidebar.get_by_role("link")).to_have_text(["unix", "go", "history"])  # most used first

    sidebar.get_by_role("link", name="unix").click()
    expect(page).to_have_url(re.compile(r"\?tag=unix$"))
    tab = page.locator(".feed-toggle .nav-link.active")
    expect(tab).to_have_text("unix")
    expect(page.get_by_role("link", name="Global Feed")).not_to_have_class(
        re.compile(r"\bactive\b")
    )
    expect(ui.preview_titles(page)).to_have_text(["Plan 9", "Unix history"])
    for preview in ui.previews(page).all():
        expect(preview.locator(".tag-list li", has_text=re.compile(r"^unix$"))).to_have_count(1)

    page.get_by_role("link", name="Global Feed").click()
    expect(ui.previews(page)).to_have_count(3)


def test_settings_update_shows_on_the_profile(page: Page, shot: Shot) -> None:
    UserFactory(username="barbara", email="barbara@example.com")
    ui.sign_in(page, "barbara@example.com")
    ui.expect_signed_in_as(page, "barbara")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"/settings$"))
    expect(page.get_by_placeholder("Your Name")).to_have_value("barbara")
    expect(page.get_by_placeholder("Email")).to_have_value("barbara@example.com")
    page.get_by_placeholder("Short bio about you").fill("I design languages.")
    page.get_by_placeholder("URL of profile picture").fill("/static/conduit/avatars/ada.svg")
    shot(page, "settings")
    page.get_by_role("button", name="Update Settings").click()

    expect(page).to_have_url(re.compile(r"/profile/barbara$"))
    expect(ui.flashes(page)).to_have_text(["Your settings are saved."])
    expect(page.locator(".user-info p")).to_have_text("I design languages.")
    expect(page.locator(".user-info img.user-img")).to_have_attribute(
        "src", "/static/conduit/avatars/ada.svg"
    )
    nav_picture = page.get_by_role("navigation", name="Main").locator("img.user-pic")
    expect(nav_picture).to_have_attribute("src", "/static/conduit/avatars/ada.svg")
    # Loaded, not only referenced (waiting for it: under load the picture may still be coming).
    loaded = (
        "img => img.complete ? img.naturalWidth"
        " : new Promise(done => img.addEventListener('load', () => done(img.naturalWidth)))"
    )
    assert page.locator("img.user-img").evaluate(loaded) > 0

    # The settings form shows the saved values; signing out works from there.
    page.get_by_role("link", name="Edit Profile Settings").click()
    expect(page.get_by_placeholder("Short bio about you")).to_have_value("I design languages.")
    ui.sign_out(page)
    page.goto("/settings")
    expect(page).to_have_url(re.compile(r"/login\?next=/settings$"))
