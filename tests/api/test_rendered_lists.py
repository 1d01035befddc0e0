"""A warm article list is joined from cached, pre-rendered cards and authors
(conduit/api/rendered.py): its bytes must be exactly what DRF renders for the same page without
a cache, for every viewer, with text that could confuse the splitting (quotes, the flags' and
the author's own key names, U+2028)."""

import pytest
from rest_framework.test import APIClient

from conduit.platform.cache.safe import cache
from conduit.platform.http.micro_cache import micro_cache
from conduit.users.models import User
from tests.factories import UserFactory, favorite, follow, make_article

pytestmark = pytest.mark.django_db

AWKWARD = '"favorited":false, "author":{"following":false}} \u2028 \u00e9\u6f22 \\ </script>'


@pytest.fixture
def page(user: User) -> None:
    # A site-path avatar (shown on SITE_URL) and an absolute one (shown as stored).
    writer = UserFactory(username="writer", bio=AWKWARD, image="/static/conduit/avatars/ada.svg")
    other = UserFactory(username="other", bio=None, image='https://example.com/a.png?q="1"')
    first = make_article(writer, title=f"One {AWKWARD}", description=AWKWARD, tags=["t\u2028"])
    make_article(other, title="Two", tags=[])
    make_article(writer, title="Three", tags=["plain", "more"])
    follow(user, writer)
    favorite(user, first)


def body(client: APIClient, path: str) -> tuple[bytes, str]:
    micro_cache.clear()
    response = client.get(path)
    assert response.status_code == 200, response.content
    return response.content, response["Content-Type"]


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed_in"])
@pytest.mark.parametrize("path", ["/api/articles", "/api/articles?tag=plain&limit=2&offset=0"])
def test_warm_list_bytes_are_what_drf_renders(
    page, signed_in, path, user, api, client_for, settings
):
    client = client_for(user) if signed_in else api
    settings.CACHE_ARTICLES = False
    uncached = body(client, path)
    settings.CACHE_ARTICLES = True
    cache.clear()
    cold, warm = body(client, path), body(client, path)
    assert cold == uncached
    assert warm == uncached
    articles = client.get(path).json()["articles"]
    assert [a["favorited"] for a in articles] == [
        signed_in and a["title"].startswith("One") for a in articles
    ]
    assert [a["author"]["following"] for a in articles] == [
        signed_in and a["author"]["username"] == "writer" for a in articles
    ]
