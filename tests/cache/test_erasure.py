"""Erasing an account (conduit/privacy) clears what the cache shows of it: no cached list, page
or article still shows the erased author's articles, on each backend."""

import pytest

from conduit.platform.cache.safe import cache
from conduit.platform.http.micro_cache import micro_cache
from tests.factories import UserFactory, favorite, make_article

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]

PASSWORD = "password123"  # UserFactory's


def test_erased_authors_articles_leave_every_cached_list(cache_backend, client_for, api):
    gone = UserFactory(username="gone")
    fan = UserFactory(username="fan")
    theirs = [make_article(gone, title=f"Gone {i}", tags=["shared"]) for i in range(2)]
    make_article(fan, title="Stays", tags=["shared"])
    favorite(fan, theirs[0])
    paths = [
        "/api/articles",
        "/api/articles?tag=shared",
        "/api/articles?author=gone",
        "/api/articles?favorited=fan",
    ]
    reader = client_for(fan)
    cache.clear()
    for path in [*paths, f"/api/articles/{theirs[0].slug}"]:
        for client in (reader, api):
            assert client.get(path).status_code == 200
    micro_cache.clear()
    assert len(api.get("/api/articles").json()["articles"]) == 3  # from the cache

    response = client_for(gone).delete("/api/user", {"user": {"password": PASSWORD}}, format="json")
    assert response.status_code == 204
    UserFactory(username="gone")  # the name is free again: its author list starts empty

    for client in (reader, api):
        for path in paths:
            titles = [a["title"] for a in client.get(path).json()["articles"]]
            assert not [t for t in titles if t.startswith("Gone")], (path, titles)
        assert client.get(f"/api/articles/{theirs[0].slug}").status_code == 404
        assert client.get("/api/articles?author=gone").json()["articlesCount"] == 0
    assert "Gone 0" not in client_for(fan).get("/api/articles?tag=shared").content.decode()
