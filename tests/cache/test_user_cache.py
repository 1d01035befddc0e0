"""The signed-in user served from the cache (conduit/users/cached.py, ADR 0004) is never stale:
a deactivated, deleted, erased, renamed or password-changed user, or one whose counters moved by
a queryset ``.update()``, is read afresh at once; a token for a deleted user is a 401 at once.

Each test first checks that the user is really served from the cache (a signed-in read runs no
query), on each backend (``cache_backend``: LocMem, real Redis, real Memcached).
"""

import pickle
from collections.abc import Callable

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conduit.platform.cache.safe import cache
from conduit.privacy.services import account_erase
from conduit.users.cached import USER_SECONDS, active_user
from conduit.users.models import User
from conduit.users.services import user_update
from tests.factories import UserFactory, make_article

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]

ClientFor = Callable[[User], APIClient]


def warm(client: APIClient) -> None:
    """Read once (the user is stored), then check the next read comes from the cache."""
    cache.clear()  # saving the user buried its entry for a few seconds: as if they were over
    assert client.get("/api/user").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/user")
    assert response.status_code == 200
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]


def refused(client: APIClient) -> None:
    for path in ("/api/user", "/api/articles"):  # signing in required, and optional
        response = client.get(path)
        assert response.status_code == 401, (path, response.content)
        assert response.json()["errors"]["token"] == ["is invalid"]


def test_a_deactivated_user_is_refused_at_once(cache_backend, user, client_for: ClientFor):
    client = client_for(user)
    warm(client)
    user.is_active = False
    user.save(update_fields=["is_active"])
    refused(client)


def test_a_deleted_users_token_is_refused_at_once(cache_backend, user, client_for: ClientFor):
    client = client_for(user)
    warm(client)
    user.delete()
    refused(client)


def test_a_queryset_delete_of_users_is_refused_at_once(cache_backend, user, client_for):
    client = client_for(user)
    warm(client)
    User.objects.filter(pk=user.pk).delete()  # receivers connected: Django sends post_delete
    refused(client)


def test_an_erased_account_is_refused_at_once(cache_backend, client_for: ClientFor):
    user = UserFactory(username="leaving")
    make_article(user, title="Soon gone")
    client = client_for(user)
    warm(client)
    account_erase(user=user, password="password123")
    refused(client)


def test_a_renamed_user_is_read_afresh(cache_backend, user, client_for: ClientFor):
    client = client_for(user)
    warm(client)
    response = client.put("/api/user", {"user": {"username": "renamed"}}, format="json")
    assert response.status_code == 200
    assert client.get("/api/user").json()["user"]["username"] == "renamed"
    # A change made elsewhere (another process, the admin) reaches the cache the same way.
    other = User.objects.get(pk=user.pk)
    other.bio = "Changed elsewhere."
    other.save()
    assert client.get("/api/user").json()["user"]["bio"] == "Changed elsewhere."


def test_a_password_change_is_read_afresh(cache_backend, user, client_for: ClientFor):
    warm(client_for(user))
    user_update(user=User.objects.get(pk=user.pk), fields={"password"}, password="new-password-1")
    cached = active_user(user.pk)
    assert cached is not None
    assert cached.check_password("new-password-1")
    assert not cached.check_password("password123")


def test_the_cached_user_holds_no_password_hash(cache_backend, user, client_for: ClientFor):
    # The cache may sit on the network (Redis, Memcached): the hash stays in the database.
    client = client_for(user)
    warm(client)
    stored = caches["default"].get(f"user:{user.pk}", version=cache._version())
    assert isinstance(stored, User)
    assert "password" in stored.get_deferred_fields()
    secret = User.objects.get(pk=user.pk).password
    assert secret.encode() not in pickle.dumps(stored)
    # A request that needs it (erasure checks the password) still gets it, from the database.
    wrong = client.delete("/api/user", {"user": {"password": "not-the-password"}}, format="json")
    assert wrong.status_code == 422, wrong.content
    assert (
        client.delete("/api/user", {"user": {"password": "password123"}}, format="json").status_code
        == 204
    )
    assert not User.objects.filter(pk=user.pk).exists()


def test_counters_moved_by_update_are_read_afresh(cache_backend, client_for: ClientFor):
    reader, author = UserFactory(username="reader"), UserFactory(username="author")
    article = make_article(author, title="Liked")
    client = client_for(reader)
    warm(client)
    assert client.post(f"/api/articles/{article.slug}/favorite").status_code == 200
    fresh = active_user(reader.pk)
    assert fresh is not None
    assert (fresh.favorites_count, fresh.following_count) == (1, 0)
    warm(client)
    assert client.post("/api/profiles/author/follow").status_code == 200
    fresh = active_user(reader.pk)
    assert fresh is not None
    assert (fresh.favorites_count, fresh.following_count) == (1, 1)
    author_fresh = active_user(author.pk)
    assert author_fresh is not None
    assert (author_fresh.articles_count, author_fresh.followers_count) == (1, 1)


def test_a_load_from_before_a_deactivation_is_not_stored_after_it(cache_backend, user):
    cache.clear()
    stale = User.objects.get(pk=user.pk)  # a request read the active row...
    user.is_active = False
    user.save(update_fields=["is_active"])  # ...the deactivation committed meanwhile...
    cache.add_many({f"user:{user.pk}": stale}, USER_SECONDS)  # ...and it stores what it read
    assert active_user(user.pk) is None


def test_with_the_cache_off_the_user_is_read_every_time(settings, user, client_for: ClientFor):
    settings.CACHE_ARTICLES = False
    client = client_for(user)
    cache.clear()
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/user").status_code == 200
        assert len(queries) == 1
