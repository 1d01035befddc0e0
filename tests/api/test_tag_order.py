"""Every API answer lists an article's tags alphabetically, ignoring case (RealWorld's Postman
collection checks ``tagList`` of a ``["training", "dragons"]`` article is ``["dragons",
"training"]``): on create, read, update, every list and the feed, from the cache or not, and for
rows stored before tags were sorted on write."""

import pytest
from rest_framework.test import APIClient

from conduit.articles.models import Article
from conduit.platform.cache.safe import cache
from conduit.platform.http.micro_cache import micro_cache
from conduit.users.models import User
from tests.factories import UserFactory, favorite, follow, make_article

pytestmark = pytest.mark.django_db

GIVEN = ["training", "Dragons", "art", "Zebra", "ápice", "dragons"]
# Case is ignored; past that, code point order (an accented letter sorts after z).
SORTED = ["art", "Dragons", "dragons", "training", "Zebra", "ápice"]
LISTS = [
    "/api/articles",
    "/api/articles?tag=art",
    "/api/articles?author=writer",
    "/api/articles?favorited=reader",
    "/api/articles?tag=art&author=writer",  # combined filters: never cached
    "/api/articles/feed",
]


@pytest.fixture
def reader(db: None) -> User:
    return UserFactory(username="reader")


@pytest.fixture
def writer(db: None) -> User:
    return UserFactory(username="writer")


def tag_lists(client: APIClient, path: str) -> list[list[str]]:
    micro_cache.clear()
    response = client.get(path)
    assert response.status_code == 200, response.content
    data = response.json()
    return (
        [a["tagList"] for a in data["articles"]]
        if "articles" in data
        else [data["article"]["tagList"]]
    )


def test_create_and_update_answer_sorted_tags(writer, client_for):
    client = client_for(writer)
    data = {"title": "Dragons", "description": "d", "body": "b", "tagList": GIVEN}
    created = client.post("/api/articles", {"article": data}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["article"]["tagList"] == SORTED
    slug = created.json()["article"]["slug"]
    assert Article.objects.get(slug=slug).tag_list == SORTED  # stored in the same order

    updated = client.put(
        f"/api/articles/{slug}", {"article": {"tagList": ["b", "C", "a"]}}, format="json"
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["article"]["tagList"] == ["a", "b", "C"]
    assert tag_lists(client, f"/api/articles/{slug}") == [["a", "b", "C"]]


@pytest.mark.parametrize("cached", [False, True], ids=["uncached", "cached"])
@pytest.mark.parametrize("stored", ["sorted", "legacy"])
def test_every_read_answers_sorted_tags(cached, stored, reader, writer, api, client_for, settings):
    settings.CACHE_ARTICLES = cached
    article = make_article(writer, title="Dragons", tags=GIVEN)
    if stored == "legacy":  # written before tags were sorted on write
        Article.objects.filter(pk=article.pk).update(tag_list=GIVEN)
        cache.clear()
    favorite(reader, article)
    follow(reader, writer)
    signed_in = client_for(reader)
    for client in (api, signed_in):
        # Cold then warm: the second read comes from the cached cards or rendered bytes.
        for _ in range(2):
            assert tag_lists(client, f"/api/articles/{article.slug}") == [SORTED]
            for path in LISTS:
                if path.endswith("/feed") and client is api:
                    continue
                assert tag_lists(client, path) == [SORTED], path
