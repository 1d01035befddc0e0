"""Exact SQL query counts for every page and for the form posts that write.

Each page is measured over the same shape of data at two sizes (``SIZES``): with ``n = 1`` there
is one of everything, with ``n = 12`` every list is longer than a page (10 previews and page
links), the article has 12 comments and 10 tags, and the sidebar is full (20 of 22 tags). A page
whose query count grows with what it shows (an N+1 in a template or a selector) fails here.

What the numbers are made of:

* Signed in, a request reads its session row and then the user row (``SIGN_IN = 2``), once: the
  navbar, the views and the templates share ``request.user``. A visitor costs nothing: no session
  cookie, no session query. Flash messages live in a cookie first (``FallbackStorage``), so they
  add no query either.
* Lists cost one query for the filter's maintained count (site counter, tag row, user row or the
  sum over followed authors) plus one for the page, authors, tags and the viewer's
  ``favorited``/``following`` flags included. Never a ``COUNT(*)``.
* Writes run in pytest-django's per-test transaction, so each ``transaction.atomic()`` of a
  service shows up as ``SAVEPOINT`` and ``RELEASE SAVEPOINT`` (and ``ROLLBACK TO SAVEPOINT`` on
  the error path); Django counts those as queries on SQLite and PostgreSQL alike.
"""

from dataclasses import dataclass
from typing import Any

import pytest

from conduit.articles.models import TAGS_PER_ARTICLE_MAX, Article
from conduit.audit.models import AuditEvent
from conduit.audit.services import audit_record
from conduit.comments.models import Comment
from conduit.users.models import User
from tests.factories import UserFactory, favorite, follow, make_article, make_comment
from tests.support import by_path
from tests.web.helpers import page, preview_titles, redirect_target

pytestmark = pytest.mark.django_db

SIZES = pytest.mark.parametrize("n", [1, 12])
VIEWERS = pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed_in"])
SIGN_IN = 2  # the session row, then the user row


@dataclass
class World:
    n: int
    alice: User  # the author whose profile and article are measured
    bob: User  # the signed-in reader: follows every author, favorites every article
    article: Article  # alice's first article: the most tags, all the comments


def build(n: int) -> World:
    """``n`` articles by alice tagged ``common`` plus up to nine shared tags; ``n`` authors with
    one article each (``common`` and a tag of their own), each favorited by alice and commenting
    on her first article; bob follows everyone and favorites every article."""
    alice = UserFactory(username="alice", bio="Alice writes.")
    bob = UserFactory(username="bob")
    shared = [f"tag{i}" for i in range(min(n, TAGS_PER_ARTICLE_MAX - 1))]
    hers = [make_article(alice, title=f"Alice {i}", tags=["common", *shared]) for i in range(n)]
    follow(bob, alice)
    for mine in hers:
        favorite(bob, mine)
    for i in range(n):
        author = UserFactory(username=f"author{i}")
        theirs = make_article(author, title=f"Other {i}", tags=["common", f"own{i}"])
        favorite(alice, theirs)
        favorite(bob, theirs)
        follow(bob, author)
        make_comment(author, hers[0], body=f"Comment {i}")
    return World(n=n, alice=alice, bob=bob, article=hers[0])


@pytest.fixture
def world(n: int) -> World:
    return build(n)


def sign_in(client: Any, user: User | None) -> None:
    if user is not None:
        client.force_login(user)


def assert_previews(response: Any, total: int, *, flags: bool) -> None:
    """A list page with ``min(total, 10)`` previews, page links when more, and the viewer's
    favorited flags (every article is one of bob's favorites)."""
    doc = page(response)
    assert len(preview_titles(doc)) == min(total, 10)
    assert doc.has("ul.pagination") is (total > 10)
    if flags:
        buttons = doc.select(".article-preview .article-meta button")
        assert {b.attrs["aria-pressed"] for b in buttons} == {"true"}
    else:  # an anonymous reader's button is a link to sign in (ADR 0028)
        assert not doc.select(".article-preview .article-meta form")
        links = doc.select(".article-preview .article-meta a.btn")
        assert links
        assert all(a.attrs["href"].startswith("/login?next=") for a in links)


# --- Home --------------------------------------------------------------------------------------


@SIZES
@VIEWERS
def test_home_global_feed(client, world, signed_in, django_assert_num_queries):
    # The page of previews, with the site's article counter read in the same statement, + the
    # popular tags (+ session + user).
    sign_in(client, world.bob if signed_in else None)
    with django_assert_num_queries(2 + SIGN_IN * signed_in):
        response = client.get("/")
    assert_previews(response, 2 * world.n, flags=signed_in)
    assert len(page(response).select(".sidebar .tag-list a")) == min(
        20, 1 + min(world.n, 9) + world.n
    )


@SIZES
@VIEWERS
def test_home_tag_feed(client, world, signed_in, django_assert_num_queries):
    # The page of previews, with the tag resolved and its maintained count read in the same
    # statement, + the popular tags (+ session + user).
    sign_in(client, world.bob if signed_in else None)
    with django_assert_num_queries(2 + SIGN_IN * signed_in):
        response = client.get("/?tag=common")
    assert_previews(response, 2 * world.n, flags=signed_in)


# Your feed from timelines (ADR 0034), as tests/api/test_query_counts.py counts it: cold (the
# window, then the feed's query: counters and page), warm (window and counters, one statement on
# PostgreSQL, then the page from the card cache, empty here: cards with their authors, the
# viewer's flags), merged (warm plus the merged authors' newest ids, in the same statement on
# PostgreSQL), unavailable (the feed's query only). Plus the popular tags.
def your_feed(state: str) -> int:
    return {
        "cold": 1 + 2,
        "warm": by_path(1, 2) + 2,
        "merged": by_path(1, 3) + 2,
        "unavailable": 2,
    }[state]


YOUR_FEED = ["cold", "warm", "merged", "unavailable"]


@SIZES
@pytest.mark.parametrize("state", YOUR_FEED)
def test_home_your_feed(client, world, state, timeline_state, django_assert_num_queries):
    sign_in(client, world.bob)
    timeline_state(state, world.bob)
    with django_assert_num_queries(SIGN_IN + your_feed(state) + 1):
        response = client.get("/?feed=your")
    assert_previews(response, 2 * world.n, flags=True)


@pytest.mark.parametrize(("n", "number", "shown"), [(12, 2, 10), (12, 3, 4)])
def test_home_later_pages(client, world, number, shown, django_assert_num_queries):
    # The same two queries for any page: the offset is in the page query.
    with django_assert_num_queries(2):
        response = client.get(f"/?page={number}")
    assert len(preview_titles(page(response))) == shown


def test_your_feed_for_a_visitor_is_a_redirect_without_queries(
    client, db, django_assert_num_queries
):
    with django_assert_num_queries(0):
        assert client.get("/?feed=your").status_code == 302


# --- Article -----------------------------------------------------------------------------------


@SIZES
@pytest.mark.parametrize("viewer", ["anonymous", "reader", "author"])
def test_article_page(client, world, viewer, django_assert_num_queries):
    # The article with its author, tags and the viewer's flags + every comment with its author
    # (+ session + user).
    user = {"anonymous": None, "reader": world.bob, "author": world.alice}[viewer]
    sign_in(client, user)
    with django_assert_num_queries(2 + SIGN_IN * (user is not None)):
        response = client.get(f"/article/{world.article.slug}")
    doc = page(response)
    assert len(doc.select("#comments .card .card-text")) == world.n
    assert len(doc.select(".article-content .tag-list li")) == 1 + min(world.n, 9)


# --- Profiles ----------------------------------------------------------------------------------


@SIZES
@VIEWERS
def test_profile_page(client, world, signed_in, django_assert_num_queries):
    # The profile by name (+ the viewer's following flag) + the page of previews, with the
    # author's maintained article count read in the same statement (+ session + user).
    sign_in(client, world.bob if signed_in else None)
    with django_assert_num_queries(2 + signed_in + SIGN_IN * signed_in):
        response = client.get("/profile/alice")
    assert_previews(response, world.n, flags=signed_in)


@SIZES
@VIEWERS
def test_profile_favorites_page(client, world, signed_in, django_assert_num_queries):
    # The profile by name (+ the viewer's following flag) + the page of previews, with the
    # user's maintained favorites count read in the same statement (+ session + user).
    sign_in(client, world.bob if signed_in else None)
    with django_assert_num_queries(2 + signed_in + SIGN_IN * signed_in):
        response = client.get("/profile/alice/favorites")
    assert_previews(response, world.n, flags=signed_in)


@SIZES
def test_own_profile_page(client, world, django_assert_num_queries):
    # Looking at yourself costs the same: session + user + profile + page (with its count).
    sign_in(client, world.alice)
    with django_assert_num_queries(SIGN_IN + 2):
        response = client.get("/profile/alice")
    assert page(response).has(".user-info a[href=/settings]")


# --- Forms -------------------------------------------------------------------------------------


@SIZES
def test_settings_page(client, world, django_assert_num_queries):
    # Session + user (the form is filled in from the signed-in user's row) + the latest export
    # request (its status and download link).
    sign_in(client, world.alice)
    with django_assert_num_queries(SIGN_IN + 1):
        response = client.get("/settings")
    assert page(response).one("textarea[name=bio]").text == "Alice writes."


@SIZES
def test_security_page(client, world, django_assert_num_queries):
    # Session + user + one keyset page of the user's audit entries (no count). With n = 12 the
    # 24 entries overflow the page of 20: the "Older entries" link costs nothing more.
    for _ in range(2 * world.n):
        audit_record(
            kind=AuditEvent.Kind.SIGN_IN, actor_id=world.alice.pk, target_user_id=world.alice.pk
        )
    sign_in(client, world.alice)
    with django_assert_num_queries(SIGN_IN + 1):
        response = client.get("/settings/security")
    doc = page(response)
    assert len(doc.select("tr.security-event")) == min(2 * world.n, 20)
    assert doc.has("a.security-older") == (world.n == 12)


@SIZES
def test_new_article_editor(client, world, django_assert_num_queries):
    # Session + user, nothing else.
    sign_in(client, world.alice)
    with django_assert_num_queries(SIGN_IN):
        page(client.get("/editor"))


@SIZES
def test_edit_article_editor(client, world, django_assert_num_queries):
    # Session + user + the article (its author checked against the viewer, its tags inline).
    sign_in(client, world.alice)
    with django_assert_num_queries(SIGN_IN + 1):
        response = client.get(f"/editor/{world.article.slug}")
    tags = page(response).one("input[name=tags]").attrs["value"]
    assert tags.split(", ")[0] == "common"


@SIZES
def test_edit_article_editor_for_another_user_is_refused_after_one_query(
    client, world, django_assert_num_queries
):
    # Session + user + the article, then the 403 page.
    sign_in(client, world.bob)
    with django_assert_num_queries(SIGN_IN + 1):
        assert client.get(f"/editor/{world.article.slug}").status_code == 403


@pytest.mark.parametrize("path", ["/settings", "/editor", "/editor/some-slug"])
def test_signed_in_pages_send_visitors_away_without_queries(
    client, db, path, django_assert_num_queries
):
    with django_assert_num_queries(0):
        assert client.get(path).status_code == 302


@SIZES
@VIEWERS
@pytest.mark.parametrize("path", ["/login", "/register"])
def test_sign_in_and_sign_up_pages(client, world, signed_in, path, django_assert_num_queries):
    # Nothing for a visitor; session + user when signed in (the navbar shows who).
    sign_in(client, world.bob if signed_in else None)
    with django_assert_num_queries(SIGN_IN * signed_in):
        page(client.get(path))


@SIZES
def test_not_found_page(client, world, django_assert_num_queries):
    # The failed article lookup, then the 404 page (+ session + user for the navbar).
    sign_in(client, world.bob)
    with django_assert_num_queries(SIGN_IN + 1):
        assert client.get("/article/no-such-article").status_code == 404


# --- Form posts --------------------------------------------------------------------------------


@SIZES
def test_favorite_add(client, world, django_assert_num_queries):
    # Session + user + the one statement (the article's id, for the invalidations before it,
    # was cached by the world's favorites of the slug); or the article, SAVEPOINT, SAVEPOINT,
    # INSERT favorite, RELEASE + UPDATE user's favorites_count + UPDATE article's
    # favorites_count + the article read back + RELEASE.
    reader = UserFactory(username="reader")
    sign_in(client, reader)
    with django_assert_num_queries(SIGN_IN + by_path(1, 9)):
        response = client.post(f"/article/{world.article.slug}/favorite", {"action": "add"})
    assert redirect_target(response) == f"/article/{world.article.slug}"
    world.article.refresh_from_db()
    assert world.article.favorites_count == 2


@SIZES
def test_favorite_add_twice(client, world, django_assert_num_queries):
    # As above up to the INSERT, which changes nothing (one statement: then the article, to
    # tell "already" from "not found") or fails on the unique pair: ROLLBACK TO and RELEASE of
    # both savepoints instead of the updates. The flash message goes to a cookie: no session
    # write.
    sign_in(client, world.bob)
    with django_assert_num_queries(SIGN_IN + by_path(2, 8)):
        response = client.post(f"/article/{world.article.slug}/favorite", {"action": "add"})
    assert redirect_target(response) == f"/article/{world.article.slug}"
    assert "messages" in response.cookies


@SIZES
def test_favorite_remove(client, world, django_assert_num_queries):
    # Session + user + the one statement; or the article, SAVEPOINT, DELETE favorite, UPDATE
    # user's count, UPDATE article's count, the article read back, RELEASE.
    sign_in(client, world.bob)
    with django_assert_num_queries(SIGN_IN + by_path(1, 7)):
        response = client.post(f"/article/{world.article.slug}/favorite", {"action": "remove"})
    redirect_target(response)
    world.article.refresh_from_db()
    assert world.article.favorites_count == 0


@SIZES
def test_follow_add(client, world, django_assert_num_queries):
    # Session + user + the followee + the one statement; or SAVEPOINT, SAVEPOINT, INSERT follow,
    # RELEASE + UPDATE followers_count + UPDATE following_count (in primary-key order) + the
    # profile read back + RELEASE.
    reader = UserFactory(username="reader")
    sign_in(client, reader)
    with django_assert_num_queries(SIGN_IN + by_path(2, 9)):
        response = client.post("/profile/alice/follow", {"action": "add"})
    assert redirect_target(response) == "/profile/alice"
    world.alice.refresh_from_db()
    assert world.alice.followers_count == 2


@SIZES
def test_follow_remove(client, world, django_assert_num_queries):
    # Session + user + the followee + the one statement; or SAVEPOINT, DELETE follow, two
    # counter UPDATEs, the profile read back, RELEASE.
    sign_in(client, world.bob)
    with django_assert_num_queries(SIGN_IN + by_path(2, 7)):
        response = client.post("/profile/alice/follow", {"action": "remove"})
    redirect_target(response)
    world.alice.refresh_from_db()
    assert world.alice.followers_count == 0


@SIZES
def test_comment_create(client, world, django_assert_num_queries):
    # Session + user + INSERT comment, which finds the article by slug (one statement).
    sign_in(client, world.bob)
    with django_assert_num_queries(SIGN_IN + 1):
        response = client.post(f"/article/{world.article.slug}/comments", {"body": "Hello"})
    comment = Comment.objects.get(body="Hello")
    assert redirect_target(response) == f"/article/{world.article.slug}#comment-{comment.pk}"


@SIZES
def test_comment_create_blank(client, world, django_assert_num_queries):
    # Session + user + the article (a missing one is "not found"); the blank body is refused
    # before any write.
    sign_in(client, world.bob)
    with django_assert_num_queries(SIGN_IN + 1):
        response = client.post(f"/article/{world.article.slug}/comments", {"body": " "})
    assert redirect_target(response).endswith("#comment-form")


@SIZES
def test_comment_delete(client, world, django_assert_num_queries):
    # Session + user + the article + the comment (id, author) + DELETE comment.
    comment = make_comment(world.bob, world.article, body="Mine")
    sign_in(client, world.bob)
    with django_assert_num_queries(SIGN_IN + 3):
        response = client.post(f"/article/{world.article.slug}/comments/{comment.pk}/delete")
    redirect_target(response)
    assert not Comment.objects.filter(pk=comment.pk).exists()


# --- Warm and cold cache (ADR 0016) -------------------------------------------------------------
# The tests above read with the cache the writes left (the list pages are not cached yet: cold).
# Warm: the cache is emptied (the writes left short-lived tombstones on cards), the page is read
# once, and read again. Then a list page needs no query of its own: the page's ids, the cards,
# the popular tags, the profile and a signed-in viewer's favorited/following flags (kept by the
# first read) come from the cache. The previews' HTML fragments (conduit/web/previews.py) come
# from the cache too: on the warm path no preview link is rendered, on the cold path each one is.

PREVIEW_LINK = "web/_article_preview_link.html"
LIST_PAGES = pytest.mark.parametrize(
    ("path", "own_queries"),
    [("/", 0), ("/?tag=common", 0), ("/profile/alice", 0), ("/profile/alice/favorites", 0)],
    ids=["home", "tag", "profile", "favorites"],
)


def rendered(response: Any, name: str) -> int:
    return sum(1 for template in response.templates if template.name == name)


@SIZES
@VIEWERS
@LIST_PAGES
def test_list_pages_warm(client, world, signed_in, path, own_queries, django_assert_num_queries):
    from conduit.platform.cache.safe import cache

    sign_in(client, world.bob if signed_in else None)
    cache.clear()
    first = client.get(path)
    assert rendered(first, PREVIEW_LINK) == len(preview_titles(page(first))) > 0
    with django_assert_num_queries(own_queries + SIGN_IN * signed_in):
        response = client.get(path)
    assert rendered(response, PREVIEW_LINK) == 0
    assert preview_titles(page(response)) == preview_titles(page(first))


@SIZES
@VIEWERS
@LIST_PAGES
def test_list_pages_cold(client, world, signed_in, path, own_queries, django_assert_num_queries):
    # An empty cache: the same queries as the tests above (the page, with the count, + the
    # popular tags on the home page or the profile on a profile page, and the viewer's
    # following flag there), every preview rendered.
    from conduit.platform.cache.safe import cache

    sign_in(client, world.bob if signed_in else None)
    cache.clear()
    flag = signed_in and path.startswith("/profile")
    with django_assert_num_queries(2 + flag + SIGN_IN * signed_in):
        response = client.get(path)
    assert rendered(response, PREVIEW_LINK) == len(preview_titles(page(response))) > 0


@SIZES
def test_a_changed_card_renders_only_its_own_preview(client, world):
    # The fragments are keyed by the card's content: a new title is a new fragment, the other
    # previews on the page are still cached.
    from conduit.articles.services import article_update
    from conduit.platform.cache.safe import cache

    cache.clear()
    client.get("/profile/alice")
    newest = Article.objects.filter(author=world.alice).latest("created_at")  # on page 1
    article_update(article=newest, editor=world.alice, title="Renamed", fields={"title"})
    response = client.get("/profile/alice")
    assert rendered(response, PREVIEW_LINK) == 1
    assert "Renamed" in preview_titles(page(response))


# --- OAuth pages (ADR 0031) ---------------------------------------------------------------------


@SIZES
def test_oauth_applications_page(client, n, django_assert_num_queries):
    from tests.oauth import helpers as oauth

    owner = UserFactory(username="owner")
    for i in range(n):
        oauth.register(f"App {i}", owner=owner)
    sign_in(client, owner)
    # Session + user + the user's applications.
    with django_assert_num_queries(SIGN_IN + 1):
        response = client.get("/settings/applications")
    assert len(page(response).select(".app-item")) == n


@SIZES
def test_oauth_authorized_apps_page(client, n, django_assert_num_queries):
    from tests.oauth import helpers as oauth

    owner = UserFactory(username="owner")
    for i in range(n):
        oauth.tokens_for(owner, oauth.register(f"App {i}"), "read")
    sign_in(client, owner)
    # Session + user + the live tokens with their applications' names.
    with django_assert_num_queries(SIGN_IN + 1):
        response = client.get("/settings/authorized-apps")
    assert len(page(response).select(".authorized-item")) == n


@SIZES
def test_oauth_consent_page(client, n, django_assert_num_queries):
    from tests.oauth import helpers as oauth

    app = oauth.register("Reader")
    sign_in(client, UserFactory(username="owner"))
    _, challenge = oauth.pkce()
    # Session + user + the application, read by the toolkit's validation and again for the page.
    with django_assert_num_queries(SIGN_IN + 2):
        response = client.get(oauth.authorize_url(app, "read write", challenge))
    assert page(response).one("h1").text == "Authorize Reader?"


@SIZES
def test_oauth_consent_allow(client, n, django_assert_num_queries):
    from tests.oauth import helpers as oauth

    app = oauth.register("Reader")
    sign_in(client, UserFactory(username="owner"))
    _, challenge = oauth.pkce()
    url = oauth.authorize_url(app, "read", challenge)
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    # Session + user + the toolkit: the application (by client_id, twice) and the code's INSERT.
    with django_assert_num_queries(SIGN_IN + OAUTH_CONSENT_POST):
        response = client.post(url, {**data, "allow": "on"})
    assert "code=" in redirect_target(response)


@SIZES
def test_oauth_application_register(client, n, django_assert_num_queries):
    sign_in(client, UserFactory(username="owner"))
    form = {"name": "New app", "redirect_uri": "https://new.example/cb"}
    # Session + user + full_clean's checks (the owner exists, the client_id is unique) + the
    # INSERT + the user's applications for the page.
    with django_assert_num_queries(SIGN_IN + OAUTH_REGISTER_POST):
        response = client.post("/settings/applications", form)
    assert page(response).one(".app-client-id").text


@SIZES
def test_oauth_authorized_app_revoke(client, n, django_assert_num_queries):
    from tests.oauth import helpers as oauth

    owner = UserFactory(username="owner")
    app = oauth.register("Reader")
    for _ in range(n):
        oauth.tokens_for(owner, app, "read")
    sign_in(client, owner)
    # Session + user + in one transaction (a savepoint here): the refresh tokens, then the
    # access tokens, each deleted as Django's collector does (read the rows, delete their
    # version rows, unlink the other token, delete), then the codes; the app's client id and
    # the audit entry (SAVEPOINT, INSERT, RELEASE; ADR 0032).
    with django_assert_num_queries(SIGN_IN + OAUTH_REVOKE_POST):
        response = client.post(f"/settings/authorized-apps/{app.application.pk}/revoke")
    assert redirect_target(response) == "/settings/authorized-apps"


OAUTH_CONSENT_POST = 3
OAUTH_REGISTER_POST = 4
OAUTH_REVOKE_POST = 11 + 1 + 3
