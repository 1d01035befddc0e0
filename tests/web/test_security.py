"""The pages' defences: CSRF on every form post, inert user content (titles, bodies, tags,
comments, bios, usernames, image URLs, query strings), and the cookie flags."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client

import config.settings as production_settings
from conduit.articles.models import Article, Favorite
from conduit.comments.models import Comment
from conduit.profiles.models import Follow
from conduit.users.models import User
from tests.factories import UserFactory, favorite, make_article, make_comment
from tests.support import production_settings_with, unchanged
from tests.web.helpers import PASSWORD, error_messages, error_page, page, redirect_target
from tests.web.html import Element, parse

pytestmark = pytest.mark.django_db

CSRF_MESSAGE = (
    "This form expired or came from another site. Go back, reload the page and try again."
)


def signed_in_as(client: Client) -> str | None:
    user_id = client.session.get(SESSION_KEY)
    return User.objects.get(pk=user_id).username if user_id else None


def form_data(form: Element) -> dict[str, str]:
    """What a browser would send for ``form`` as rendered: its named inputs and text areas."""
    data = {}
    for element in form.iter():
        if element.tag in {"input", "textarea"} and "name" in element.attrs:
            data[element.attrs["name"]] = element.attrs.get("value", element.text)
    return data


def raw_text(element: Element) -> str:
    """The text of a text area as submitted (whitespace kept)."""
    return "".join(child for child in element.children if isinstance(child, str))


# --- CSRF --------------------------------------------------------------------------------------


@dataclass
class FormCase:
    """A form on a page: who looks at it, what they fill in, and what a successful post does."""

    page: str
    form: str  # a selector for the form on the page
    fill: dict[str, Any]
    as_user: str | None  # None: a visitor
    done: Callable[[], bool] | None  # None: the post changes only the session


@pytest.fixture
def site(alice: User, bob: User) -> dict[str, Any]:
    article = make_article(alice, title="Protected")
    comment = make_comment(bob, article, body="Bob's comment")
    return {"slug": article.slug, "comment": comment.pk}


def csrf_cases(site: dict[str, Any]) -> dict[str, FormCase]:
    slug, comment = site["slug"], site["comment"]
    article = f"/article/{slug}"
    return {
        "login": FormCase(
            "/login",
            "form[action=/login]",
            {"email": "alice@example.com", "password": PASSWORD},
            None,
            None,
        ),
        "register": FormCase(
            "/register",
            "form[action=/register]",
            {"username": "jake", "email": "jake@example.com", "password": PASSWORD},
            None,
            lambda: User.objects.filter(username="jake").exists(),
        ),
        "logout": FormCase("/settings", "form[action=/logout]", {}, "alice", None),
        "settings": FormCase(
            "/settings",
            "form[action=/settings]",
            {"bio": "Changed"},
            "alice",
            lambda: User.objects.get(username="alice").bio == "Changed",
        ),
        "editor": FormCase(
            "/editor",
            "form[action=/editor]",
            {"title": "New", "description": "D", "body": "B"},
            "alice",
            lambda: Article.objects.filter(title="New").exists(),
        ),
        "editor_edit": FormCase(
            f"/editor/{slug}",
            f"form[action=/editor/{slug}]",
            {"body": "Edited"},
            "alice",
            lambda: Article.objects.get(title="Protected").body == "Edited",
        ),
        "article_delete": FormCase(
            article,
            f"form[action=/article/{slug}/delete]",
            {},
            "alice",
            lambda: not Article.objects.exists(),
        ),
        "favorite": FormCase(
            article,
            f"form[action=/article/{slug}/favorite]",
            {},
            "bob",
            lambda: Favorite.objects.exists(),
        ),
        "follow": FormCase(
            "/profile/alice",
            "form[action=/profile/alice/follow]",
            {},
            "bob",
            lambda: Follow.objects.exists(),
        ),
        "comment_create": FormCase(
            article,
            "form.comment-form",
            {"body": "New comment"},
            "bob",
            lambda: Comment.objects.filter(body="New comment").exists(),
        ),
        "comment_delete": FormCase(
            article,
            f"form[action=/article/{slug}/comments/{comment}/delete]",
            {},
            "bob",
            lambda: not Comment.objects.exists(),
        ),
    }


CSRF_FORMS = [
    "login",
    "register",
    "logout",
    "settings",
    "editor",
    "editor_edit",
    "article_delete",
    "favorite",
    "follow",
    "comment_create",
    "comment_delete",
]


def csrf_client(case: FormCase) -> Client:
    client = Client(enforce_csrf_checks=True)
    if case.as_user:
        client.force_login(User.objects.get(username=case.as_user))
    return client


def rendered_form(client: Client, case: FormCase) -> Element:
    return page(client.get(case.page)).select(case.form)[0]


@pytest.mark.parametrize("name", CSRF_FORMS)
def test_a_form_post_without_the_csrf_token_is_the_403_page(site, name):
    case = csrf_cases(site)[name]
    client = csrf_client(case)
    form = rendered_form(client, case)  # the CSRF cookie is set: only the token is missing
    data = {**form_data(form), **case.fill}
    del data["csrfmiddlewaretoken"]
    with unchanged():
        response = client.post(form.attrs["action"], data)
    doc = error_page(response, 403)
    assert doc.select(".error-page p")[0].text == CSRF_MESSAGE
    assert signed_in_as(client) == case.as_user


@pytest.mark.parametrize("name", CSRF_FORMS)
def test_a_form_post_with_a_forged_token_or_no_cookie_is_the_403_page(site, name):
    case = csrf_cases(site)[name]
    client = csrf_client(case)
    form = rendered_form(client, case)
    forged = {**form_data(form), **case.fill, "csrfmiddlewaretoken": "x" * 64}
    with unchanged():
        error_page(client.post(form.attrs["action"], forged), 403)
        # A token copied from the page, sent by a client that never got the CSRF cookie.
        stranger = csrf_client(case)
        assert "csrftoken" not in stranger.cookies
        error_page(stranger.post(form.attrs["action"], {**form_data(form), **case.fill}), 403)


@pytest.mark.parametrize("name", CSRF_FORMS)
def test_a_form_post_with_the_token_from_the_rendered_form_works(site, name):
    case = csrf_cases(site)[name]
    client = csrf_client(case)
    form = rendered_form(client, case)
    assert form.attrs["method"] == "post"
    response = client.post(form.attrs["action"], {**form_data(form), **case.fill})
    redirect_target(response)
    assert case.done is None or case.done()
    expected = {"login": "alice", "register": "jake", "logout": None}.get(name, case.as_user)
    assert signed_in_as(client) == expected


VISITOR_PAGES = [
    "/",
    "/?tag=t",
    "/login",
    "/register",
    "/article/{slug}",
    "/profile/alice",
    "/profile/alice/favorites",
]
SIGNED_IN_PAGES = [
    *VISITOR_PAGES,
    "/?feed=your",
    "/settings",
    "/editor",
    "/editor/{slug}",
    "/profile/bob",
    "/profile/bob/favorites",
]


@pytest.mark.parametrize("viewer", [None, "alice", "bob"])
def test_every_form_on_every_page_carries_a_csrf_token(client, site, viewer):
    article = Article.objects.get()
    make_article(User.objects.get(username="bob"), title="Bob's", tags=["t"])
    favorite(User.objects.get(username="alice"), article)
    if viewer:
        client.force_login(User.objects.get(username=viewer))
    paths = [
        p.format(slug=site["slug"])
        for p in (SIGNED_IN_PAGES if viewer else VISITOR_PAGES)
        if not (p == "/editor/{slug}" and viewer != "alice")
    ]
    forms_seen = 0
    for path in paths:
        response = client.get(path)
        forms = page(response).select("form")
        if viewer is None and path not in ("/login", "/register"):
            # What a visitor reads is the same for every visitor (ADR 0028): no form, so no CSRF
            # token, and no cookie set; the buttons are links to sign in.
            assert forms == [], path
            assert not response.cookies, path
            continue
        for form in forms:
            forms_seen += 1
            assert form.attrs.get("method") == "post", (path, form.attrs)
            token = form.select("input[type=hidden][name=csrfmiddlewaretoken]")
            assert len(token) == 1, (path, form.attrs)
            assert len(token[0].attrs["value"]) == 64, (path, form.attrs)
    assert forms_seen >= (2 if viewer is None else len(paths))
    # Error pages of form posts too.
    for path, data in [("/login", {"email": "x"}), ("/register", {})]:
        for form in page(client.post(path, data), 422).select("form"):
            assert form.has("input[name=csrfmiddlewaretoken]")


# --- XSS ---------------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
IFRAME = '<iframe src="https://evil.example/"></iframe>'
BREAKOUT = "\"'></textarea></title><script>alert(1)</script>"
MARKDOWN_ATTACKS = "\n\n".join(
    [
        SCRIPT,
        "[x](javascript:alert(1))",
        "[y](JaVaScRiPt:alert(1))",
        "[z](  javascript:alert(1) )",
        "[w](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[v](vbscript:msgbox(1))",
        "<javascript:alert(1)>",
        "![i](javascript:alert(1))",
        '![j](https://x/"onerror="alert(1))',
        IMG,
        IFRAME,
        '<a href="javascript:alert(1)">raw link</a>',
        "<svg onload=alert(1)>",
        "<details open ontoggle=alert(1)>",
        '<div style="background:url(javascript:alert(1))">styled</div>',
        BREAKOUT,
    ]
)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
# The only script on a page is the site's own, by URL.
SITE_SCRIPTS = ["/static/conduit/js/conduit.js", "/static/conduit/js/live.js"]


def assert_inert(response: Any) -> Element:
    """No executable content in the page: no script but the site's own, no frames or plug-ins,
    no event-handler attribute, no javascript:/vbscript:/data: URL in any URL attribute."""
    raw = response.content.decode()
    assert raw.lower().count("<script") == len(SITE_SCRIPTS), "an injected <script>"
    assert "<iframe" not in raw.lower()
    doc = parse(raw)
    scripts = doc.select("script")
    assert [s.attrs.get("src") for s in scripts] == SITE_SCRIPTS
    assert all(not s.children for s in scripts), "inline script"
    for element in doc.iter():
        assert element.tag not in {"iframe", "frame", "object", "embed", "svg", "math", "base"}
        for name, value in element.attr_list:
            assert not name.startswith("on"), f"event handler on <{element.tag}>: {name}={value}"
            assert name != "style" or "javascript" not in (value or "").lower()
            if name in URL_ATTRIBUTES:
                url = "".join((value or "").split()).lower()
                assert not url.startswith(BAD_SCHEMES), f"<{element.tag} {name}={value!r}>"
    return doc


@pytest.fixture
def attack(client: Client, alice: User, bob: User) -> Article:
    """An article, tags, a comment and a bio full of attacks, all entered through the pages."""
    client.force_login(alice)
    response = client.post(
        "/editor",
        {
            "title": f"{SCRIPT} {IMG} {BREAKOUT}",
            "description": f'{IFRAME} " onmouseover="alert(1)',
            "body": MARKDOWN_ATTACKS,
            "tags": f"{SCRIPT}, {IMG}",
            "tag": ['"><svg onload=alert(1)>'],
        },
    )
    article = Article.objects.get()
    assert redirect_target(response) == f"/article/{article.slug}"
    assert article.tag_list == ['"><svg onload=alert(1)>', IMG, SCRIPT]  # sorted
    settings = {"bio": f"{SCRIPT}\n{BREAKOUT}", "image": "", "username": "alice"}
    settings["email"] = "alice@example.com"
    redirect_target(client.post("/settings", settings))
    client.force_login(bob)
    redirect_target(client.post(f"/article/{article.slug}/comments", {"body": MARKDOWN_ATTACKS}))
    return article


def test_the_title_is_text_everywhere(client, attack):
    title = f"{SCRIPT} {IMG} {BREAKOUT}"
    doc = assert_inert(client.get(f"/article/{attack.slug}"))
    assert doc.one("head title").text == f"{title} — Conduit"
    assert doc.one(".banner h1").text == title
    assert doc.one("head meta[name=description]").attrs["content"] == (
        f'{IFRAME} " onmouseover="alert(1)'
    )
    doc = assert_inert(client.get("/"))
    assert doc.one(".preview-link h1").text == title
    assert doc.one(".preview-link p").text == f'{IFRAME} " onmouseover="alert(1)'


def test_the_markdown_body_is_sanitised(client, attack):
    doc = assert_inert(client.get(f"/article/{attack.slug}"))
    content = doc.one(".article-content")
    assert SCRIPT in content.text  # shown as text
    for link in content.select("a"):
        assert link.attrs["href"].startswith("https://"), link.attrs
    for image in content.select("img"):
        assert image.attrs["src"].startswith("https://"), image.attrs
    assert not content.has("div[style]")
    assert not content.has("details")


def test_the_comment_body_is_text(client, attack):
    doc = assert_inert(client.get(f"/article/{attack.slug}"))
    comment = doc.one("#comments .card p.card-text")
    assert comment.text.startswith(f"{SCRIPT} [x](javascript:alert(1))")
    assert {child.tag for child in comment.iter()} == {"br"}  # line breaks, nothing else


def test_tags_are_text_in_lists_the_sidebar_and_the_tag_tab(client, attack):
    doc = assert_inert(client.get(f"/article/{attack.slug}"))
    assert doc.texts(".article-content .tag-list li") == ['"><svg onload=alert(1)>', IMG, SCRIPT]
    doc = assert_inert(client.get("/"))
    assert sorted(doc.texts(".sidebar .tag-list a")) == sorted(attack.tag_list)
    for pill in doc.select(".sidebar .tag-list a"):
        assert pill.attrs["href"].startswith("?tag=%")
    doc = assert_inert(client.get("/", {"tag": SCRIPT}))
    assert doc.one("head title").text == f"#{SCRIPT} — Conduit"
    assert doc.one(".feed-toggle a.nav-link.active").text == SCRIPT
    assert doc.one(".preview-link h1").text.startswith(SCRIPT)


def test_the_editor_keeps_attacks_as_values(client, attack, alice):
    client.force_login(alice)
    doc = assert_inert(client.get(f"/editor/{attack.slug}"))
    assert doc.one("input[name=title]").attrs["value"] == attack.title
    assert raw_text(doc.one("textarea[name=body]")) == MARKDOWN_ATTACKS


def test_bio_is_text_on_the_profile_and_in_settings(client, attack, alice):
    doc = assert_inert(client.get("/profile/alice"))
    assert doc.one(".user-info p").text == f"{SCRIPT} {BREAKOUT}"
    client.force_login(alice)
    doc = assert_inert(client.get("/settings"))
    assert raw_text(doc.one("textarea[name=bio]")) == f"{SCRIPT}\n{BREAKOUT}"


@pytest.mark.parametrize(
    "image",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:image/svg+xml;base64,PHN2Zz4=",
        "vbscript:msgbox(1)",
        "//evil.example/x.png",
        "https://x/ onerror=alert(1)",
    ],
)
def test_an_image_url_that_is_not_http_is_refused(client, alice, image):
    client.force_login(alice)
    form = {"image": image, "username": "alice", "bio": "", "email": "alice@example.com"}
    with unchanged():
        doc = page(client.post("/settings", form), 422)
    assert error_messages(doc) == ["image must be an http(s) URL"]
    assert_inert(client.post("/settings", form))


def test_an_image_url_with_a_quote_stays_inside_the_src_attribute(client, alice, bob):
    image = 'https://x/"onerror="alert(1)'
    client.force_login(alice)
    form = {"image": image, "username": "alice", "bio": "", "email": "alice@example.com"}
    redirect_target(client.post("/settings", form))
    article = make_article(alice)
    make_comment(alice, article)
    for path in ["/profile/alice", f"/article/{article.slug}", "/", "/settings"]:
        response = client.get(path)
        doc = assert_inert(response)
        images = [img for img in doc.select("img") if img.attrs.get("src") == image]
        assert images, path
        assert b"&quot;onerror=&quot;" in response.content
    assert assert_inert(client.get("/settings")).one("input[name=image]").attrs["value"] == image
    client.force_login(bob)
    doc = assert_inert(client.get(f"/article/{article.slug}"))
    assert doc.select("img.comment-author-img")[-1].attrs["src"] == image


@pytest.mark.parametrize("username", [SCRIPT, '"><img src=x onerror=alert(1)>', "a'b"])
def test_a_username_with_markup_is_refused_and_echoed_as_a_value(client, db, username):
    response = client.post(
        "/register", {"username": username, "email": "x@example.com", "password": PASSWORD}
    )
    doc = assert_inert(response)
    assert error_messages(doc) == ["username may contain only letters, digits and . _ -"]
    assert doc.one("input[name=username]").attrs["value"] == username
    assert not User.objects.exists()


def test_the_email_is_echoed_as_a_value(client, db):
    email = f"{BREAKOUT}@example.com"
    doc = assert_inert(client.post("/login", {"email": email, "password": "x"}))
    assert doc.one("input[name=email]").attrs["value"] == email


@pytest.mark.parametrize(
    "path",
    [
        '/?tag="><script>alert(1)</script>&page=1',
        "/?feed=<script>alert(1)</script>",
        '/article/{slug}?"><script>alert(1)</script>',
        '/profile/alice?x="><img src=x onerror=alert(1)>',
        '/login?next=/"><script>alert(1)</script>',
        '/register?next=/"><script>alert(1)</script>',
        "/article/<script>alert(1)</script>",
        "/profile/<script>alert(1)</script>",
    ],
)
def test_query_strings_and_paths_are_escaped(client, alice, path):
    article = make_article(alice, tags=["t"])
    client.force_login(alice)
    response = client.get(path.format(slug=article.slug))
    assert response.status_code in {200, 404}
    assert_inert(response)


def test_markdown_still_renders_headings_code_and_nofollow_links(client, alice):
    body = (
        "# Big heading\n\n## Smaller\n\nSome **bold** and `inline <code>`.\n\n"
        "```python\nprint('<b>hi</b>')\n```\n\n"
        "    indented code\n\n"
        "[a link](https://example.com/page?a=1&b=2) and ![pic](https://example.com/p.png)\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~\n\n> quoted\n\n- one\n- two\n"
    )
    article = make_article(alice, body=body)
    doc = assert_inert(client.get(f"/article/{article.slug}"))
    content = doc.one(".article-content .col-md-12")
    assert content.one("h1").text == "Big heading"
    assert content.one("h2").text == "Smaller"
    assert content.one("strong").text == "bold"
    codes = content.select("pre code")
    assert [code.text for code in codes] == ["print('<b>hi</b>')", "indented code"]
    assert codes[0].attrs["class"] == "language-python"
    assert content.select("p code")[0].text == "inline <code>"
    link = content.one("a")
    assert link.attrs["href"] == "https://example.com/page?a=1&b=2"
    assert link.attrs["rel"] == "nofollow noopener noreferrer"
    assert link.text == "a link"
    assert content.one("img").attrs == {"src": "https://example.com/p.png", "alt": "pic"}
    assert content.texts("table td") == ["1", "2"]
    assert content.one("s").text == "gone"
    assert content.one("blockquote").text == "quoted"
    assert content.texts("ul li") == ["one", "two"]


# --- Sessions and cookies ----------------------------------------------------------------------


def test_cookies_are_secure_httponly_and_samesite_lax_when_not_debugging(client, alice, settings):
    settings.DEBUG = False
    response = client.get("/login")
    csrf = response.cookies["csrftoken"]
    assert csrf["secure"] is True
    assert csrf["samesite"] == "Lax"
    response = client.post("/login", {"email": "alice@example.com", "password": PASSWORD})
    redirect_target(response)
    session = response.cookies["sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    csrf = response.cookies["csrftoken"]  # rotated on sign-in
    assert csrf["secure"] is True
    assert csrf["samesite"] == "Lax"


def test_production_settings_make_cookies_secure_unless_debug():
    assert production_settings.SESSION_COOKIE_SECURE is (not production_settings.DEBUG)
    assert production_settings.CSRF_COOKIE_SECURE is production_settings.SESSION_COOKIE_SECURE
    assert production_settings.SESSION_COOKIE_HTTPONLY is True
    assert production_settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert production_settings.CSRF_FAILURE_VIEW == "conduit.web.views.csrf_failure"


@pytest.mark.parametrize(("debug", "secure"), [("false", True), ("true", False)])
def test_the_secure_cookie_default_follows_debug(monkeypatch, debug, secure):
    namespace = production_settings_with(monkeypatch, unset=["SECURE_COOKIES"], DEBUG=debug)
    assert namespace["SESSION_COOKIE_SECURE"] is secure
    assert namespace["CSRF_COOKIE_SECURE"] is secure


def test_signing_in_gives_a_new_session_key(client, alice):
    client.get("/login")
    session = client.session
    session["probe"] = 1
    session.save()
    before = session.session_key
    redirect_target(client.post("/login", {"email": "alice@example.com", "password": PASSWORD}))
    assert client.session.session_key != before
    assert client.session.get("probe") == 1  # same data, new key: no session fixation


def test_signing_out_ends_the_session(client, alice):
    client.force_login(alice)
    key = client.session.session_key
    redirect_target(client.post("/logout"))
    assert not Session.objects.filter(session_key=key).exists()


def test_pages_may_not_be_framed_or_sniffed(client, db):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_a_hidden_next_on_a_page_never_leaves_the_site(client, alice, bob):
    """The ``next`` the follow and favorite forms carry is the page's own path."""
    article = make_article(alice)
    client.force_login(bob)
    doc = page(client.get(f"/article/{article.slug}", {"next": "https://evil.example"}))
    for field in doc.select("input[name=next]"):
        assert field.attrs["value"].startswith(f"/article/{article.slug}")
    UserFactory(username="eve")
    response = client.post(
        "/profile/eve/follow", {"action": "add", "next": "https://evil.example/"}
    )
    assert redirect_target(response) == "/profile/eve"
