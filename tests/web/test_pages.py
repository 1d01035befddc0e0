"""Every page renders with RealWorld's markup (shared/realworld/spec/frontend-templates.md): its
structure and class names, placeholders and button texts, the tabs and buttons that depend on
who is looking, a ``<title>`` and a ``<label for>`` for every field (checked by ``page()``)."""

import pytest

from conduit.articles.models import Article
from tests.factories import (
    UserFactory,
    favorite,
    follow,
    make_article,
    make_articles,
    make_comment,
)
from tests.web.helpers import (
    active_nav,
    button_texts,
    error_page,
    fields,
    page,
    preview_titles,
    redirect_target,
)

pytestmark = pytest.mark.django_db


def placeholders(doc):
    """The placeholders of the fields a person fills in, in order."""
    return [field.attrs.get("placeholder") for field in fields(doc)]


def form_fields(form):
    """``{name: value}`` of a form's inputs and text areas (hidden ones included)."""
    values = {}
    for element in form.iter():
        if element.tag == "input" and "name" in element.attrs:
            values[element.attrs["name"]] = element.attrs.get("value", "")
        elif element.tag == "textarea":
            values[element.attrs["name"]] = "".join(
                child for child in element.children if isinstance(child, str)
            )
    return values


# --- Every page ----------------------------------------------------------------------------------


def test_every_page_answers_head_like_get(client, alice):
    """HTTP requires HEAD wherever GET works (RFC 9110, 9.1): link checkers, monitors and
    ``curl -I`` use it. The API answers it; the pages must too."""
    article = make_article(alice)
    visitor_pages = ["/", "/login", "/register", f"/article/{article.slug}", "/profile/alice"]
    signed_in_pages = ["/settings", "/editor", f"/editor/{article.slug}"]
    answers = {}
    for path in [*visitor_pages, "/profile/alice/favorites"]:
        answers[path] = client.head(path).status_code
    client.force_login(alice)
    for path in signed_in_pages:
        answers[path] = client.head(path).status_code
    assert answers == dict.fromkeys(answers, 200)


# --- Navbar ------------------------------------------------------------------------------------


def test_the_navbar_for_visitors_links_home_sign_in_and_sign_up(client):
    doc = page(client.get("/"))
    links = {
        a.text: a.attrs["href"] for a in doc.select("nav.navbar ul.nav li.nav-item a.nav-link")
    }
    assert links == {"Home": "/", "Sign in": "/login", "Sign up": "/register"}
    assert doc.one("nav.navbar a.navbar-brand").text == "conduit"
    assert doc.one("footer a.logo-font").text == "conduit"


def test_the_navbar_for_a_signed_in_user_links_editor_settings_and_their_profile(client, alice):
    client.force_login(alice)
    doc = page(client.get("/"))
    links = {
        a.text: a.attrs["href"] for a in doc.select("nav.navbar ul.nav li.nav-item a.nav-link")
    }
    assert links == {
        "Home": "/",
        "New Article": "/editor",
        "Settings": "/settings",
        "alice": "/profile/alice",
    }
    assert doc.has("nav.navbar a.nav-link[href=/editor] i.ion-compose")
    assert doc.has("nav.navbar a.nav-link[href=/settings] i.ion-gear-a")
    assert doc.has("nav.navbar a.nav-link[href=/profile/alice] img.user-pic")


@pytest.mark.parametrize(
    ("path", "active"),
    [
        ("/", "Home"),
        ("/?tag=x", "Home"),
        ("/editor", "New Article"),
        ("/settings", "Settings"),
        ("/profile/alice", "alice"),
        ("/profile/alice/favorites", "alice"),
        ("/profile/bob", None),
    ],
)
def test_the_navbar_marks_the_current_page_active(client, alice, bob, path, active):
    client.force_login(alice)
    assert active_nav(page(client.get(path))) == ([active] if active else [])


@pytest.mark.parametrize(("path", "active"), [("/login", "Sign in"), ("/register", "Sign up")])
def test_the_navbar_marks_sign_in_and_sign_up_active(client, db, path, active):
    assert active_nav(page(client.get(path))) == [active]


# --- Home --------------------------------------------------------------------------------------


def test_home_for_visitors_has_the_banner_and_only_the_global_feed_tab(client, alice):
    make_article(alice, title="Hello world", description="First words", tags=["intro", "hello"])
    doc = page(client.get("/"))
    assert doc.one("title").text == "Conduit"
    assert doc.one(".home-page .banner h1.logo-font").text == "conduit"
    assert doc.one(".home-page .banner p").text == "A place to share your knowledge."
    tabs = doc.select(".feed-toggle ul.nav.nav-pills.outline-active li.nav-item a.nav-link")
    assert [tab.text for tab in tabs] == ["Global Feed"]
    assert "active" in tabs[0].classes
    assert preview_titles(doc) == ["Hello world"]


def test_home_signed_in_has_no_banner_and_your_feed_and_global_feed_tabs(client, alice):
    client.force_login(alice)
    doc = page(client.get("/"))
    assert not doc.has(".banner")
    tabs = doc.select(".feed-toggle a.nav-link")
    assert [tab.text for tab in tabs] == ["Your Feed", "Global Feed"]
    assert [tab.text for tab in tabs if "active" in tab.classes] == ["Global Feed"]
    assert tabs[0].attrs["href"] == "?feed=your"
    assert tabs[1].attrs["href"] == "/"


def test_an_article_preview_has_realworld_markup(client, alice):
    article = make_article(
        alice, title="How to scale", description="The description", tags=["realworld", "scale"]
    )
    favorite(UserFactory(), article)
    doc = page(client.get("/"))
    preview = doc.one("article.article-preview")
    meta = preview.one(".article-meta")
    assert (
        meta.one("a[href=/profile/alice] img").attrs["src"] == "/static/conduit/avatars/default.svg"
    )
    assert meta.one(".info a.author").text == "alice"
    assert meta.one(".info a.author").attrs["href"] == "/profile/alice"
    assert meta.one(".info span.date").text  # e.g. "January 20th, 2026"
    # Not signed in: a link to sign in, styled as the button (no form, no CSRF token: ADR 0028).
    button = meta.one("a.btn.btn-outline-primary.btn-sm")
    assert button.text == "1"
    assert button.has("i.ion-heart")
    assert button.attrs["href"] == "/login?next=/"
    assert "pull-xs-right" in button.classes
    assert not meta.select("form")
    link = preview.one("a.preview-link")
    assert link.attrs["href"] == f"/article/{article.slug}"
    assert link.one("h1").text == "How to scale"
    assert link.one("p").text == "The description"
    assert link.one("span").text == "Read more..."
    assert link.texts("ul.tag-list li.tag-default.tag-pill.tag-outline") == ["realworld", "scale"]


def test_a_favorited_preview_shows_the_filled_button(client, alice, bob):
    article = make_article(alice)
    favorite(bob, article)
    client.force_login(bob)
    button = page(client.get("/")).one(".article-preview .article-meta form button")
    assert {"btn-primary", "btn-sm"} <= button.classes
    assert "btn-outline-primary" not in button.classes
    assert button.attrs["aria-pressed"] == "true"


def test_home_with_no_articles_says_so(client, db):
    doc = page(client.get("/"))
    assert doc.one(".article-preview").text == "No articles are here... yet."
    assert not doc.has("ul.pagination")


def test_your_feed_shows_only_articles_by_followed_authors(client, alice, bob):
    carol = UserFactory(username="carol")
    make_article(alice, title="By alice")
    make_article(carol, title="By carol")
    make_article(bob, title="By bob")
    follow(bob, alice)
    client.force_login(bob)
    doc = page(client.get("/?feed=your"))
    assert preview_titles(doc) == ["By alice"]
    assert [tab.text for tab in doc.select(".feed-toggle a.nav-link.active")] == ["Your Feed"]
    assert preview_titles(page(client.get("/"))) == ["By bob", "By carol", "By alice"]


def test_your_feed_without_follows_is_empty(client, alice, bob):
    make_article(alice)
    client.force_login(bob)
    doc = page(client.get("/?feed=your"))
    assert preview_titles(doc) == []
    assert doc.one(".article-preview").text == "No articles are here... yet."


def test_your_feed_sends_visitors_to_sign_in(client, db):
    assert redirect_target(client.get("/?feed=your")) == "/login?next=/%3Ffeed%3Dyour"


def test_the_tag_tab_shows_the_tag_and_only_its_articles(client, alice):
    make_article(alice, title="Tagged", tags=["python", "django"])
    make_article(alice, title="Other", tags=["rust"])
    doc = page(client.get("/?tag=python"))
    assert doc.one("title").text == "#python — Conduit"
    tabs = doc.select(".feed-toggle a.nav-link")
    assert [tab.text for tab in tabs] == ["Global Feed", "python"]
    assert [tab.text for tab in tabs if "active" in tab.classes] == ["python"]
    assert tabs[1].has("i.ion-pound")
    assert preview_titles(doc) == ["Tagged"]


def test_an_unknown_tag_shows_an_empty_list(client, alice):
    make_article(alice, tags=["python"])
    doc = page(client.get("/?tag=nothing"))
    assert preview_titles(doc) == []
    assert doc.has(".feed-toggle a.nav-link.active")


def test_popular_tags_lists_the_tags_most_used_first(client, alice):
    make_article(alice, tags=["rare", "common"])
    make_article(alice, tags=["common"])
    doc = page(client.get("/"))
    sidebar = doc.one(".col-md-3 .sidebar")
    assert sidebar.one("p").text == "Popular Tags"
    pills = sidebar.select(".tag-list a.tag-pill.tag-default")
    assert [pill.text for pill in pills] == ["common", "rare"]
    assert [pill.attrs["href"] for pill in pills] == ["?tag=common", "?tag=rare"]


def test_popular_tags_with_no_tags_says_so(client, db):
    assert page(client.get("/")).one(".sidebar .tag-list").text == "No tags are here... yet."


def test_home_shows_ten_articles_per_page_with_page_links(client, alice):
    make_articles(alice, 11)
    doc = page(client.get("/"))
    assert preview_titles(doc) == [f"Article {i}" for i in range(10, 0, -1)]
    items = doc.select("ul.pagination li.page-item")
    assert [item.text for item in items] == ["1", "2"]
    assert "active" in items[0].classes
    assert "active" not in items[1].classes
    assert items[1].one("a.page-link").attrs["href"] == "?page=2"

    doc = page(client.get("/?page=2"))
    assert preview_titles(doc) == ["Article 0"]
    assert [item.text for item in doc.select("ul.pagination li.page-item.active")] == ["2"]
    assert doc.one("ul.pagination li.page-item.active a").attrs["aria-current"] == "page"


def test_page_links_keep_the_tag(client, alice):
    make_articles(alice, 11, tags=["t"])
    doc = page(client.get("/?tag=t"))
    hrefs = [a.attrs["href"] for a in doc.select("ul.pagination a.page-link")]
    assert hrefs == ["?tag=t&page=1", "?tag=t&page=2"]
    assert preview_titles(page(client.get("/?tag=t&page=2"))) == ["Article 0"]


def test_many_pages_are_linked_with_gaps(client, alice):
    make_articles(alice, 95)
    doc = page(client.get("/?page=5"))
    assert [item.text for item in doc.select("ul.pagination li.page-item")] == [
        "1",
        "…",
        "3",
        "4",
        "5",
        "6",
        "7",
        "…",
        "10",
    ]
    assert doc.has("ul.pagination li.page-item.disabled span.page-link")


def test_exactly_ten_articles_have_no_page_links(client, alice):
    make_articles(alice, 10)
    doc = page(client.get("/"))
    assert len(preview_titles(doc)) == 10
    assert not doc.has("ul.pagination")


@pytest.mark.parametrize("number", ["abc", "", "1.5", "0", "-1", "100002", "99999999999999999999"])
def test_a_page_number_that_is_not_a_page_is_the_404_page(client, alice, number):
    make_article(alice)
    error_page(client.get(f"/?page={number}"), 404)


def test_a_page_past_the_last_one_is_the_404_page(client, alice):
    make_articles(alice, 11)
    page(client.get("/?page=2"))
    error_page(client.get("/?page=3"), 404)


def test_page_one_of_an_empty_list_is_not_a_404(client, db):
    page(client.get("/?page=1"))
    page(client.get("/?tag=nothing&page=1"))


# --- Sign in, sign up -------------------------------------------------------------------------


def test_login_page(client, db):
    doc = page(client.get("/login"))
    assert doc.one("title").text == "Sign in — Conduit"
    auth = doc.one(".auth-page .container.page .row .col-md-6.offset-md-3.col-xs-12")
    assert auth.one("h1.text-xs-center").text == "Sign in"
    assert auth.one("p.text-xs-center a").text == "Need an account?"
    assert auth.one("p.text-xs-center a").attrs["href"] == "/register"
    form = auth.one("form[method=post][action=/login]")
    assert placeholders(form) == ["Email", "Password"]
    # type=email (RealWorld end-to-end suites select input[type=email]); the form is novalidate,
    # so the server still reports a malformed address in the page's error list.
    assert form.one("input[name=email]").attrs["type"] == "email"
    assert "novalidate" in form.attrs
    assert form.one("input[name=password]").attrs["type"] == "password"
    assert form.select("fieldset.form-group input.form-control.form-control-lg")
    assert form.one("button.btn.btn-lg.btn-primary.pull-xs-right").text == "Sign in"
    assert not doc.has("ul.error-messages")


def test_login_page_carries_next_into_the_form_and_the_sign_up_link(client, db):
    doc = page(client.get("/login?next=/editor"))
    assert doc.one("form input[type=hidden][name=next]").attrs["value"] == "/editor"
    assert doc.one("p.text-xs-center a").attrs["href"] == "/register?next=/editor"


def test_register_page(client, db):
    doc = page(client.get("/register"))
    assert doc.one("title").text == "Sign up — Conduit"
    auth = doc.one(".auth-page .col-md-6.offset-md-3.col-xs-12")
    assert auth.one("h1.text-xs-center").text == "Sign up"
    assert auth.one("p.text-xs-center a").text == "Have an account?"
    assert auth.one("p.text-xs-center a").attrs["href"] == "/login"
    form = auth.one("form[method=post][action=/register]")
    assert placeholders(form) == ["Username", "Email", "Password"]
    assert form.one("input[name=password]").attrs["type"] == "password"
    assert form.one("button.btn.btn-lg.btn-primary.pull-xs-right").text == "Sign up"


# --- Settings ----------------------------------------------------------------------------------


def test_settings_sends_visitors_to_sign_in(client, db):
    assert redirect_target(client.get("/settings")) == "/login?next=/settings"


def test_settings_page_is_filled_in_with_the_users_values(client, alice):
    alice.image = "https://example.com/alice.png"
    alice.save()
    client.force_login(alice)
    doc = page(client.get("/settings"))
    assert doc.one("title").text == "Settings — Conduit"
    settings_page = doc.one(".settings-page .col-md-6.offset-md-3.col-xs-12")
    assert settings_page.one("h1.text-xs-center").text == "Your Settings"
    form = settings_page.one("form[action=/settings]")
    assert placeholders(form) == [
        "URL of profile picture",
        "Your Name",
        "Short bio about you",
        "Email",
        "New Password",
        "Current password",
    ]
    assert form_fields(form) == {
        "csrfmiddlewaretoken": form.one("input[name=csrfmiddlewaretoken]").attrs["value"],
        "image": "https://example.com/alice.png",
        "username": "alice",
        "bio": "Alice writes.",
        "email": "alice@example.com",
        "password": "",
        "current_password": "",
    }
    assert form.one("input[name=password]").attrs["type"] == "password"
    assert form.one("input[name=current_password]").attrs["type"] == "password"
    assert form.one("textarea[name=bio]").attrs["rows"] == "8"
    assert form.one("button.btn.btn-lg.btn-primary.pull-xs-right").text == "Update Settings"
    logout = settings_page.one("form[action=/logout]")
    assert logout.attrs["method"] == "post"
    assert logout.one("button.btn.btn-outline-danger").text == "Or click here to logout."


# --- Editor ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/editor", "/editor/some-slug"])
def test_the_editor_sends_visitors_to_sign_in(client, db, path):
    assert redirect_target(client.get(path)) == f"/login?next={path}"


def test_new_article_editor(client, alice):
    client.force_login(alice)
    doc = page(client.get("/editor"))
    assert doc.one("title").text == "New article — Conduit"
    form = doc.one(".editor-page .col-md-10.offset-md-1.col-xs-12 form[method=post]")
    assert form.attrs["action"] == "/editor"
    assert placeholders(form) == [
        "Article Title",
        "What's this article about?",
        "Write your article (in markdown)",
        "Enter tags",
    ]
    assert form.one("input[name=title]").classes >= {"form-control", "form-control-lg"}
    assert form.one("textarea[name=body]").attrs["rows"] == "8"
    assert form.has("fieldset.form-group input[name=tags]")
    assert form.has("fieldset.form-group .tag-list")
    assert form.one("button.btn.btn-lg.pull-xs-right.btn-primary").text == "Publish Article"
    assert set(form_fields(form)) == {"csrfmiddlewaretoken", "title", "description", "body", "tags"}
    assert all(
        value == "" for name, value in form_fields(form).items() if name != "csrfmiddlewaretoken"
    )


def test_edit_article_editor_is_filled_in(client, alice):
    article = make_article(
        alice, title="Old title", description="Old desc", body="# Old body", tags=["a", "b"]
    )
    client.force_login(alice)
    doc = page(client.get(f"/editor/{article.slug}"))
    assert doc.one("title").text == "Edit article — Conduit"
    form = doc.one(".editor-page form")
    assert form.attrs["action"] == f"/editor/{article.slug}"
    values = form_fields(form)
    del values["csrfmiddlewaretoken"]
    assert values == {
        "title": "Old title",
        "description": "Old desc",
        "body": "# Old body",
        "tags": "a, b",
    }
    assert button_texts(form) == ["Publish Article"]


def test_editing_another_authors_article_is_the_403_page(client, alice, bob):
    article = make_article(alice)
    client.force_login(bob)
    doc = error_page(client.get(f"/editor/{article.slug}"), 403)
    assert "author" in doc.one(".error-page").text


def test_editing_an_unknown_article_is_the_404_page(client, alice):
    client.force_login(alice)
    error_page(client.get("/editor/no-such-article"), 404)


# --- Article -----------------------------------------------------------------------------------


@pytest.fixture
def article(alice) -> Article:
    return make_article(
        alice,
        title="How to build webapps",
        description="About webapps",
        body="Intro paragraph.\n\n## Introducing RealWorld\n\nIt's *great*.",
        tags=["realworld", "implementations"],
    )


def test_article_page_renders_title_markdown_tags_and_author(client, article):
    doc = page(client.get(f"/article/{article.slug}"))
    assert doc.one("title").text == "How to build webapps — Conduit"
    assert doc.one("head meta[name=description]").attrs["content"] == "About webapps"
    article_page = doc.one(".article-page")
    assert article_page.one(".banner .container h1").text == "How to build webapps"
    content = article_page.one(".container.page .row.article-content .col-md-12")
    assert content.texts("p") == ["Intro paragraph.", "It's great."]
    assert content.one("h2").text == "Introducing RealWorld"
    assert content.one("em").text == "great"
    assert content.texts("ul.tag-list li.tag-default.tag-pill.tag-outline") == [
        "implementations",
        "realworld",
    ]
    # The author's meta block, above the body and again after it.
    metas = article_page.select(".article-meta")
    assert len(metas) == 2
    assert article_page.has(".article-actions .article-meta")
    for meta in metas:
        assert meta.one("a[href=/profile/alice] img").attrs["alt"] == "alice"
        assert meta.one(".info a.author[href=/profile/alice]").text == "alice"
        assert (
            meta.one(".info span.date time")
            .attrs["datetime"]
            .startswith(str(article.created_at.year))
        )


def test_article_page_for_a_visitor_has_follow_and_favorite_buttons(client, article):
    # Links to sign in, styled as the buttons: a visitor's page has no form and no CSRF token,
    # so it is the same for every visitor and the edge may cache it (ADR 0028).
    doc = page(client.get(f"/article/{article.slug}?utm_source=x"))
    sign_in = f"/login?next=/article/{article.slug}"
    assert not doc.select("form")
    for meta in doc.select(".article-meta"):
        follow, favorite = meta.select("a.btn.btn-sm")
        assert follow.attrs["href"] == sign_in
        assert "btn-outline-secondary" in follow.classes
        assert follow.text == "Follow alice"
        assert follow.has("i.ion-plus-round")
        assert favorite.attrs["href"] == sign_in
        assert "btn-outline-primary" in favorite.classes
        assert favorite.text == "Favorite Article (0)"
        assert favorite.one("span.counter").text == "(0)"
        assert favorite.has("i.ion-heart")
    assert "Edit Article" not in doc.text
    assert "Delete Article" not in doc.text


def test_article_page_for_a_follower_who_favorited_shows_unfollow_and_unfavorite(
    client, article, bob
):
    follow(bob, article.author)
    favorite(bob, article)
    client.force_login(bob)
    doc = page(client.get(f"/article/{article.slug}"))
    meta = doc.select(".article-meta")[0]
    follow_form = meta.one("form[action=/profile/alice/follow]")
    assert follow_form.one("input[name=action]").attrs["value"] == "remove"
    assert follow_form.one("button.btn-secondary").text == "Unfollow alice"
    assert follow_form.has("i.ion-minus-round")
    favorite_form = meta.one(f"form[action=/article/{article.slug}/favorite]")
    assert favorite_form.one("input[name=action]").attrs["value"] == "remove"
    assert favorite_form.one("button.btn-primary").text == "Unfavorite Article (1)"


def test_article_page_for_its_author_has_edit_and_delete_and_no_follow(client, article, alice):
    client.force_login(alice)
    doc = page(client.get(f"/article/{article.slug}"))
    for meta in doc.select(".article-meta"):
        edit = meta.one("a.btn.btn-sm.btn-outline-secondary")
        assert edit.text == "Edit Article"
        assert edit.attrs["href"] == f"/editor/{article.slug}"
        assert edit.has("i.ion-edit")
        delete = meta.one(f"form[method=post][action=/article/{article.slug}/delete]")
        assert delete.one("button.btn.btn-sm.btn-outline-danger").text == "Delete Article"
        assert delete.has("i.ion-trash-a")
        assert not meta.has("form[action=/profile/alice/follow]")
        assert not meta.has(f"form[action=/article/{article.slug}/favorite]")


def test_article_page_for_another_reader_has_no_edit_or_delete(client, article, bob):
    client.force_login(bob)
    doc = page(client.get(f"/article/{article.slug}"))
    assert "Edit Article" not in doc.text
    assert not doc.has(f"form[action=/article/{article.slug}/delete]")
    assert not doc.has(f"a[href=/editor/{article.slug}]")
    assert len(doc.select("form[action=/profile/alice/follow]")) == 2


def test_the_comment_form_is_only_for_signed_in_readers(client, article, bob):
    doc = page(client.get(f"/article/{article.slug}"))
    assert not doc.has("form.comment-form")
    assert "Write a comment..." not in placeholders(doc)
    links = doc.select("#comments p a")
    assert [(a.text, a.attrs["href"]) for a in links] == [
        ("Sign in", f"/login?next=/article/{article.slug}"),
        ("sign up", f"/register?next=/article/{article.slug}"),
    ]

    client.force_login(bob)
    doc = page(client.get(f"/article/{article.slug}"))
    form = doc.one("form.card.comment-form[method=post]")
    assert form.attrs["action"] == f"/article/{article.slug}/comments"
    assert form.one(".card-block textarea.form-control[name=body]").attrs == {
        "id": "comment-body",
        "name": "body",
        "class": "form-control",
        "placeholder": "Write a comment...",
        "rows": "3",
    }
    footer = form.one(".card-footer")
    assert footer.has("img.comment-author-img")
    assert footer.one("button.btn.btn-sm.btn-primary").text == "Post Comment"


def test_comments_are_listed_newest_first_with_their_author(client, article, alice, bob):
    make_comment(bob, article, body="First!\nSecond line")
    make_comment(alice, article, body="Thanks")
    doc = page(client.get(f"/article/{article.slug}"))
    cards = doc.select("#comments .card")
    assert [card.one(".card-block p.card-text").text for card in cards] == [
        "Thanks",
        "First! Second line",
    ]
    assert cards[1].one("p.card-text").has("br")
    footer = cards[1].one(".card-footer")
    assert footer.select("a.comment-author")[0].has("img.comment-author-img")
    assert footer.select("a.comment-author")[1].text == "bob"
    assert footer.select("a.comment-author")[1].attrs["href"] == "/profile/bob"
    assert footer.one("span.date-posted").text
    assert not doc.has(".mod-options")  # a visitor deletes nothing


def test_only_a_comments_author_gets_its_delete_button(client, article, alice, bob):
    bobs = make_comment(bob, article, body="By bob")
    make_comment(alice, article, body="By alice")
    client.force_login(bob)
    doc = page(client.get(f"/article/{article.slug}"))
    forms = doc.select("#comments .card .card-footer form.mod-options")
    assert [form.attrs["action"] for form in forms] == [
        f"/article/{article.slug}/comments/{bobs.pk}/delete"
    ]
    assert forms[0].attrs["method"] == "post"
    assert forms[0].has("button i.ion-trash-a")
    # The article's author may not delete bob's comment either: only its own.
    client.force_login(alice)
    forms = page(client.get(f"/article/{article.slug}")).select("form.mod-options")
    assert len(forms) == 1
    assert forms[0].attrs["action"] != f"/article/{article.slug}/comments/{bobs.pk}/delete"


def test_an_unknown_article_is_the_404_page(client, db):
    error_page(client.get("/article/no-such-article"), 404)


# --- Profile -----------------------------------------------------------------------------------


def test_profile_page_of_another_user(client, alice, bob):
    make_article(alice, title="Alice's article")
    liked = make_article(bob, title="Bob's article")
    favorite(alice, liked)
    client.force_login(bob)
    doc = page(client.get("/profile/alice"))
    assert doc.one("title").text == "alice — Conduit"
    info = doc.one(".profile-page .user-info .container .row .col-xs-12.col-md-10.offset-md-1")
    assert info.one("img.user-img").attrs["src"] == "/static/conduit/avatars/default.svg"
    assert info.one("h4").text == "alice"
    assert info.one("p").text == "Alice writes."
    form = info.one("form[method=post][action=/profile/alice/follow]")
    button = form.one("button.btn.btn-sm.btn-outline-secondary.action-btn")
    assert button.text == "Follow alice"
    assert button.has("i.ion-plus-round")
    assert form.one("input[name=action]").attrs["value"] == "add"
    assert form.one("input[name=next]").attrs["value"] == "/profile/alice"
    assert "Edit Profile Settings" not in doc.text
    tabs = doc.select(".articles-toggle ul.nav.nav-pills.outline-active li.nav-item a.nav-link")
    assert [(tab.text, tab.attrs["href"]) for tab in tabs] == [
        ("My Articles", "/profile/alice"),
        ("Favorited Articles", "/profile/alice/favorites"),
    ]
    assert [tab.text for tab in tabs if "active" in tab.classes] == ["My Articles"]
    assert preview_titles(doc) == ["Alice's article"]


def test_profile_favorites_tab_lists_the_articles_they_favorited(client, alice, bob):
    make_article(alice, title="Alice's article")
    liked = make_article(bob, title="Bob's article")
    make_article(bob, title="Not liked")
    favorite(alice, liked)
    doc = page(client.get("/profile/alice/favorites"))
    assert doc.one("title").text == "alice — favorites — Conduit"
    tabs = doc.select(".articles-toggle a.nav-link")
    assert [tab.text for tab in tabs if "active" in tab.classes] == ["Favorited Articles"]
    assert preview_titles(doc) == ["Bob's article"]


def test_a_followed_profile_shows_unfollow(client, alice, bob):
    follow(bob, alice)
    client.force_login(bob)
    form = page(client.get("/profile/alice")).one(".user-info form")
    assert form.one("button.btn-secondary").text == "Unfollow alice"
    assert form.one("input[name=action]").attrs["value"] == "remove"


def test_your_own_profile_has_edit_profile_settings_and_no_follow(client, alice):
    alice.image = "https://example.com/a.png"
    alice.save()
    client.force_login(alice)
    doc = page(client.get("/profile/alice"))
    link = doc.one(".user-info a.btn.btn-sm.btn-outline-secondary.action-btn")
    assert link.text == "Edit Profile Settings"
    assert link.attrs["href"] == "/settings"
    assert link.has("i.ion-gear-a")
    assert not doc.has(".user-info form")
    assert doc.one(".user-info img.user-img").attrs["src"] == "https://example.com/a.png"
    assert doc.one("nav.navbar img.user-pic").attrs["src"] == "https://example.com/a.png"


def test_a_profile_without_bio_has_no_empty_paragraph(client, bob):
    assert not page(client.get("/profile/bob")).has(".user-info p")


def test_a_profile_pages_its_articles(client, alice):
    make_articles(alice, 12)
    doc = page(client.get("/profile/alice"))
    assert len(preview_titles(doc)) == 10
    assert [a.attrs["href"] for a in doc.select("ul.pagination a.page-link")] == [
        "?page=1",
        "?page=2",
    ]
    assert preview_titles(page(client.get("/profile/alice?page=2"))) == ["Article 1", "Article 0"]
    error_page(client.get("/profile/alice?page=x"), 404)


@pytest.mark.parametrize("path", ["/profile/nobody", "/profile/nobody/favorites"])
def test_an_unknown_profile_is_the_404_page(client, db, path):
    error_page(client.get(path), 404)


def test_your_feed_pages_keep_the_feed(client, alice, bob):
    make_articles(alice, 11)
    follow(bob, alice)
    client.force_login(bob)
    doc = page(client.get("/?feed=your"))
    assert [a.attrs["href"] for a in doc.select("ul.pagination a.page-link")] == [
        "?feed=your&page=1",
        "?feed=your&page=2",
    ]
    doc = page(client.get("/?feed=your&page=2"))
    assert preview_titles(doc) == ["Article 0"]
    assert [tab.text for tab in doc.select(".feed-toggle a.nav-link.active")] == ["Your Feed"]


def test_a_profile_url_ignores_the_case_of_the_username(client, alice):
    doc = page(client.get("/profile/ALICE"))
    assert doc.one(".user-info h4").text == "alice"
    assert doc.one(".articles-toggle a.nav-link.active").attrs["href"] == "/profile/alice"
