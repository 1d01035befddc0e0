"""The app's side of the edge cache (ADR 0028): what it marks public, private or neither. nginx
stores an answer only when its ``Cache-Control`` says so (tests/stack/test_edge_cache.py runs the
real nginx)."""

import pytest
from rest_framework.test import APIClient

from conduit.platform.http.micro_cache import micro_cache
from conduit.users.models import User
from tests.factories import UserFactory, make_article, make_comment

PUBLIC = "public, max-age=1, stale-while-revalidate=1"
PRIVATE = "private, no-store"


@pytest.fixture
def site(db: None) -> dict[str, str]:
    author = UserFactory(username="writer")
    article = make_article(author, title="Dragons", tags=["dragons"])
    make_comment(author, article)
    return {"slug": article.slug}


def anonymous_reads(slug: str) -> list[str]:
    return [
        "/api/articles",
        "/api/articles?tag=dragons&limit=5",
        f"/api/articles/{slug}",
        f"/api/articles/{slug}/comments",
        "/api/profiles/writer",
        "/api/tags",
    ]


def test_anonymous_reads_are_public_for_a_second_and_vary_on_authorization(api: APIClient, site):
    for path in anonymous_reads(site["slug"]):
        for _ in range(2):  # computed, then from the app's micro-cache: marked the same
            response = api.get(path)
            assert response.status_code == 200, path
            assert response["Cache-Control"] == PUBLIC, path
            assert "Authorization" in response["Vary"], path
            assert not response.cookies, path


def test_signed_in_reads_are_private(client_for, site):
    reader = client_for(UserFactory())
    for path in [*anonymous_reads(site["slug"]), "/api/articles/feed", "/api/user"]:
        response = reader.get(path)
        assert response.status_code == 200, path
        if path in ("/api/articles/feed", "/api/user"):
            assert "public" not in response.get("Cache-Control", ""), path
        else:
            assert response["Cache-Control"] == PRIVATE, path


def test_a_session_or_messages_cookie_makes_an_api_read_private(api: APIClient, site):
    for name in ("sessionid", "messages"):
        api.cookies.clear()
        api.cookies[name] = "x"
        assert api.get("/api/articles")["Cache-Control"] == PRIVATE


def test_errors_and_writes_are_not_marked_public(api: APIClient, client_for, site):
    assert "Cache-Control" not in api.get("/api/articles/nope")  # a 404
    assert "Cache-Control" not in api.get("/api/articles?limit=x")  # a 422
    assert "Cache-Control" not in api.get("/api/profiles/nobody")
    assert api.head("/api/articles").get("Cache-Control") is None
    writer = client_for(User.objects.get(username="writer"))
    response = writer.post(
        f"/api/articles/{site['slug']}/comments", {"comment": {"body": "Hi"}}, format="json"
    )
    assert response.status_code == 201
    assert response["Cache-Control"] == PRIVATE


def test_with_the_micro_cache_off_nothing_is_public(api: APIClient, site, settings):
    settings.CACHE_ANONYMOUS_SECONDS = 0
    assert "Cache-Control" not in api.get("/api/articles")


# --- The pages ------------------------------------------------------------------------------------


def visitor_pages(slug: str) -> list[str]:
    return ["/", "/?tag=dragons", "/?page=1", f"/article/{slug}", "/profile/writer",
            "/profile/writer/favorites"]  # fmt: skip


def test_a_visitor_page_is_public_sets_no_cookie_and_ignores_junk_parameters(client, site):
    for path in visitor_pages(site["slug"]):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == PUBLIC, path
        assert not response.cookies, path
        assert b"csrfmiddlewaretoken" not in response.content, path
        # The edge's key leaves junk out: the page must not show it either (page links, next=).
        joiner = "&" if "?" in path else "?"
        junk = client.get(f"{path}{joiner}utm_source=campaign&junk=1")
        assert junk.content == response.content, path


def test_a_page_for_a_signed_in_reader_or_a_pending_message_is_private(client, site):
    client.cookies["messages"] = "x"
    assert client.get("/")["Cache-Control"] == PRIVATE
    del client.cookies["messages"]
    client.force_login(User.objects.get(username="writer"))
    for path in visitor_pages(site["slug"]):
        assert client.get(path)["Cache-Control"] == PRIVATE, path


def test_pages_that_are_not_for_everyone_are_not_public(client, site):
    assert "Cache-Control" not in client.get("/login")  # a form with a CSRF token, a cookie
    assert "Cache-Control" not in client.get("/?feed=your")  # a redirect to sign in
    assert "Cache-Control" not in client.get("/article/nope")  # the 404 page


def test_a_successful_write_marks_the_writer_fresh_and_a_refused_one_does_not(client_for, site):
    writer = client_for(UserFactory())
    path = f"/api/articles/{site['slug']}/comments"
    written = writer.post(path, {"comment": {"body": "hi"}}, format="json")
    assert written.status_code == 201
    fresh = written.cookies["conduit_fresh"]
    assert (fresh.value, fresh["max-age"], fresh["httponly"]) == ("1", 3, True)
    refused = client_for(UserFactory()).post(path, {"comment": {"body": ""}}, format="json")
    assert refused.status_code == 422
    assert "conduit_fresh" not in refused.cookies


def test_a_fresh_reader_skips_the_micro_cache_and_is_never_public(api: APIClient, site, settings):
    settings.CACHE_ANONYMOUS_SECONDS = 1
    path = f"/api/articles/{site['slug']}"
    micro_cache.clear()
    api.cookies["conduit_fresh"] = "1"
    assert api.get(path)["Cache-Control"] == PRIVATE
    assert micro_cache.bytes == 0
    api.cookies.clear()
    assert api.get(path)["Cache-Control"] == PUBLIC
    assert micro_cache.bytes > 0
