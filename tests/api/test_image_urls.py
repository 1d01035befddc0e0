"""Images in API answers are absolute URLs: a RealWorld front end served from another origin
resolves a site path (``/static/conduit/avatars/ada.svg``, ``/media/avatars/...``) against its
own host and shows a broken picture. Site paths are shown on ``SITE_URL``; absolute URLs and
``null`` as stored. The stored value and the pages keep the site path."""

import io

import pytest
from django.core.files.storage import InMemoryStorage, storages
from rest_framework.test import APIClient

from conduit.platform.cache.safe import cache
from conduit.platform.http.micro_cache import micro_cache
from conduit.users.models import User
from tests.factories import UserFactory, favorite, follow, make_article, make_comment
from tests.media.pictures import picture

pytestmark = pytest.mark.django_db

ADA = "/static/conduit/avatars/ada.svg"
SITE = "https://conduit.example"


@pytest.fixture
def ada(db: None) -> User:
    return UserFactory(username="ada", image=ADA)


def images_in(data: object) -> list[object]:
    """Every ``image`` value anywhere in a JSON document."""
    if isinstance(data, dict):
        found = [data["image"]] if "image" in data else []
        return found + [i for value in data.values() for i in images_in(value)]
    if isinstance(data, list):
        return [i for item in data for i in images_in(item)]
    return []


def get(client: APIClient, path: str) -> object:
    micro_cache.clear()
    response = client.get(path)
    assert response.status_code == 200, (path, response.content)
    return response.json()


@pytest.mark.parametrize("cached", [False, True], ids=["uncached", "cached"])
def test_every_answer_shows_a_site_path_on_site_url(cached, ada, user, client_for, settings):
    settings.CACHE_ARTICLES = cached
    settings.SITE_URL = SITE
    article = make_article(ada, tags=["t"])
    make_comment(ada, article)
    favorite(user, article)
    follow(user, ada)
    viewer, author = client_for(user), client_for(ada)
    expected = f"{SITE}{ADA}"

    answers = [
        author.get("/api/user").json(),
        APIClient()
        .post(
            "/api/users/login",
            {"user": {"email": ada.email, "password": "password123"}},
            format="json",
        )
        .json(),
        author.put("/api/user", {"user": {"bio": "Hi"}}, format="json").json(),
        author.post(
            "/api/articles",
            {"article": {"title": "New", "description": "d", "body": "b"}},
            format="json",
        ).json(),
        author.post(
            f"/api/articles/{article.slug}/comments", {"comment": {"body": "c"}}, format="json"
        ).json(),
        viewer.delete("/api/profiles/ada/follow").json(),
        viewer.post("/api/profiles/ada/follow").json(),
    ]
    for client in (APIClient(), viewer):
        for _ in range(2):  # cold, then warm (cached cards and renderings)
            for path in (
                "/api/profiles/ada",
                f"/api/articles/{article.slug}",
                f"/api/articles/{article.slug}/comments",
                "/api/articles",
                "/api/articles?author=ada",
                "/api/articles?tag=t",
                f"/api/articles?favorited={user.username}",
            ):
                answers.append(get(client, path))
    answers.append(get(viewer, "/api/articles/feed"))
    for answer in answers:
        assert images_in(answer), answer
        assert set(images_in(answer)) == {expected}, answer
    ada.refresh_from_db()
    assert ada.image == ADA  # stored as given


def test_a_warm_list_follows_a_new_site_url(ada, api, settings):
    make_article(ada)
    settings.SITE_URL = "http://one.example"
    for _ in range(2):  # the second read renders the card and caches its bytes
        assert images_in(get(api, "/api/articles")) == [f"http://one.example{ADA}"]
    settings.SITE_URL = "http://two.example"
    assert images_in(get(api, "/api/articles")) == [f"http://two.example{ADA}"]


@pytest.mark.parametrize(
    "image",
    ["https://example.com/me.png", "http://example.com/a/b.jpg?x=1", None],
    ids=["https", "http", "null"],
)
def test_absolute_urls_and_null_are_shown_as_stored(image, auth_api, user, api):
    response = auth_api.put("/api/user", {"user": {"image": image}}, format="json")
    assert response.json()["user"]["image"] == image
    make_article(user)
    assert set(images_in(get(api, "/api/articles"))) == {image}
    assert images_in(get(api, f"/api/profiles/{user.username}")) == [image]


def test_a_site_path_a_user_sets_is_shown_on_site_url(auth_api, user, settings):
    response = auth_api.put("/api/user", {"user": {"image": "/static/me.png"}}, format="json")
    assert response.json()["user"]["image"] == f"{settings.SITE_URL}/static/me.png"
    user.refresh_from_db()
    assert user.image == "/static/me.png"


def test_an_upload_on_a_site_relative_media_url_is_shown_on_site_url(auth_api, user, settings):
    settings.SITE_URL = SITE
    response = auth_api.put("/api/user/image", {"image": io.BytesIO(picture("PNG"))})
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.image.startswith("/")  # InMemoryStorage's MEDIA_URL, a site path
    assert response.json()["user"]["image"] == SITE + user.image


def test_an_upload_under_an_absolute_media_url_is_kept_as_is(auth_api, user, settings):
    # MEDIA_URL on another host (a CDN) is already absolute: SITE_URL must not touch it.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.InMemoryStorage",
            "OPTIONS": {"base_url": "https://cdn.example/media/"},
        },
    }
    assert isinstance(storages["default"], InMemoryStorage)
    response = auth_api.put("/api/user/image", {"image": io.BytesIO(picture("PNG"))})
    assert response.status_code == 200, response.content
    image = response.json()["user"]["image"]
    assert image.startswith("https://cdn.example/media/avatars/"), image
    user.refresh_from_db()
    assert user.image == image


def test_pages_keep_the_site_path(ada, client, settings):
    settings.SITE_URL = SITE
    make_article(ada)
    cache.clear()
    for path in ("/", "/profile/ada"):
        html = client.get(path).content.decode()
        assert f'src="{ADA}"' in html, path
        assert SITE not in html, path


def test_site_paths_under_a_cdn_static_or_media_url_are_shown_on_the_cdn(ada, api, settings):
    # A demo avatar under STATIC_URL, and an upload stored as a site path before MEDIA_URL named
    # a CDN: each is shown on the host that now serves it; any other site path on SITE_URL.
    settings.SITE_URL = SITE
    upload = "/media/avatars/0f/256.jpeg"
    grace = UserFactory(username="grace", image=upload)
    linus = UserFactory(username="linus", image="/elsewhere/linus.png")
    for author in (ada, grace, linus):
        make_article(author)
    lists = images_in(get(api, "/api/articles")) + images_in(get(api, "/api/articles"))
    assert set(lists) == {f"{SITE}{ADA}", f"{SITE}{upload}", f"{SITE}/elsewhere/linus.png"}
    settings.STATIC_URL = "https://cdn.example.com/static/"
    settings.MEDIA_URL = "https://media.example.com/media/"
    expected = {
        f"https://cdn.example.com{ADA}",
        f"https://media.example.com{upload}",
        f"{SITE}/elsewhere/linus.png",
    }
    for _ in range(2):  # a warm list follows the new URLs too
        assert set(images_in(get(api, "/api/articles"))) == expected
    assert images_in(get(api, "/api/profiles/grace")) == [f"https://media.example.com{upload}"]
