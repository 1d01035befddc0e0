"""The app's side of the edge cache (ADR 0028): what it marks public, private or neither. nginx
stores an answer only when its ``Cache-Control`` says so (tests/stack/test_edge_cache.py runs the
real nginx)."""

import pytest
from rest_framework.test import APIClient

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
