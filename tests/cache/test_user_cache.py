"""The signed-in user served from the cache (``conduit.users.selectors.active_user``, ADR 0016).

It holds what authentication needs (``SIGNED_IN_FIELDS``: no counters, no password hash), so a
counter update leaves it as it was, and every change of what it holds or of the credentials
(deactivation, rename, password, erasure) is seen by the next request: the service that makes
it calls ``conduit.users.invalidation``, since no signal does.

Each test first checks that the user is really served from the cache (a signed-in read runs no
query), on each backend (``cache_backend``: LocMem, real Redis, real Memcached).
"""

import io
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conduit.platform.cache.bulk import is_tombstone
from conduit.platform.cache.safe import cache
from conduit.privacy.services import account_erase
from conduit.users.invalidation import SIGNED_IN_FIELDS, user_key
from conduit.users.models import User
from conduit.users.selectors import SIGNED_IN_SECONDS, active_user
from conduit.users.services import user_deactivate
from tests.factories import UserFactory, make_article

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]

ClientFor = Callable[[User], APIClient]


def stored(user: User) -> Any:
    """The entry ``user:<id>`` as the backend holds it (None: absent)."""
    return caches["default"].get(user_key(user.pk), version=cache._version())


def warm(client: APIClient) -> None:
    """Read once (the user is stored), then check the next read comes from the cache: a warm
    signed-in tag list runs no query, the user's included."""
    cache.clear()
    assert client.get("/api/tags").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/tags")
    assert response.status_code == 200
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]


def refused(client: APIClient) -> None:
    for path in ("/api/user", "/api/articles"):  # signing in required, and optional
        response = client.get(path)
        assert response.status_code == 401, (path, response.content)
        assert response.json()["errors"]["token"] == ["is invalid"]


def test_no_signal_receiver_watches_users():
    # Invalidation is explicit in the services (ADR 0001); a receiver would hide a missing call.
    for signal in (pre_save, post_save, pre_delete, post_delete):
        assert not signal.has_listeners(User), signal


# --- What it holds ------------------------------------------------------------------------------


def test_the_cached_user_holds_the_signed_in_fields_only(cache_backend, user, client_for):
    # The cache may sit on the network (Redis, Memcached): no password hash, and no counters,
    # so the services that move counters have nothing to invalidate.
    warm(client_for(user))
    entry = stored(user)
    assert not is_tombstone(entry)
    _, row = entry
    assert row == (user.pk, user.username, user.username_key, True, 0)
    assert User.objects.get(pk=user.pk).password.encode() not in pickle.dumps(entry)
    signed_in = active_user(user.pk)
    assert signed_in is not None
    assert set(signed_in.get_deferred_fields()) >= {"password", "email", "favorites_count"}
    assert {f.attname for f in User._meta.concrete_fields} - signed_in.get_deferred_fields() == (
        set(SIGNED_IN_FIELDS)
    )


def test_the_views_that_show_more_read_the_account(cache_backend, user, client_for):
    client = client_for(user)
    warm(client)
    shown = client.get("/api/user").json()["user"]
    assert (shown["email"], shown["username"], shown["bio"]) == (user.email, user.username, None)
    response = client.put("/api/user", {"user": {"bio": "New bio"}}, format="json")
    assert response.json()["user"]["email"] == user.email
    assert User.objects.get(pk=user.pk).email == user.email  # the key was not recomputed blank


def test_erasure_checks_the_password_from_the_database(cache_backend, user, client_for):
    client = client_for(user)
    warm(client)
    wrong = client.delete("/api/user", {"user": {"password": "not-the-password"}}, format="json")
    assert wrong.status_code == 422, wrong.content
    right = client.delete("/api/user", {"user": {"password": "password123"}}, format="json")
    assert right.status_code == 204, right.content
    assert not User.objects.filter(pk=user.pk).exists()
    refused(client)


# --- Counter updates: nothing to invalidate -------------------------------------------------------


def test_counter_updates_leave_the_cached_user_as_it_was(cache_backend, client_for: ClientFor):
    reader, author = UserFactory(username="reader"), UserFactory(username="author")
    article = make_article(author, title="Liked")
    client = client_for(reader)
    warm(client)
    before = stored(reader)
    assert client.post(f"/api/articles/{article.slug}/favorite").status_code == 200
    assert client.post("/api/profiles/author/follow").status_code == 200
    published = {"article": {"title": "Mine", "description": "d", "body": "b"}}
    assert client.post("/api/articles", published, format="json").status_code == 201
    assert client_for(author).post("/api/profiles/reader/follow").status_code == 200
    User.objects.filter(pk=reader.pk).update(articles_count=7)  # drift, then the repair
    call_command("check_counters", "--fix", stdout=io.StringIO())
    # Every counter of the reader moved, and their entry is the one stored before.
    row = User.objects.get(pk=reader.pk)
    counts = (row.articles_count, row.favorites_count, row.following_count, row.followers_count)
    assert counts == (1, 1, 1, 1)
    assert stored(reader) == before
    with CaptureQueriesContext(connection) as queries:
        signed_in = active_user(reader.pk)
    assert len(queries) == 0
    assert signed_in is not None
    assert (signed_in.pk, signed_in.username, signed_in.is_active) == (reader.pk, "reader", True)


# --- Changes that matter: seen by the next request ----------------------------------------------


def test_a_deactivated_user_is_refused_at_once(cache_backend, user, client_for: ClientFor):
    client = client_for(user)
    warm(client)
    user_deactivate(user=user)
    refused(client)


def test_an_erased_account_is_refused_at_once(cache_backend, client_for: ClientFor):
    user = UserFactory(username="leaving")
    make_article(user, title="Soon gone")
    client = client_for(user)
    warm(client)
    account_erase(user=user, password="password123")
    refused(client)


def test_a_renamed_user_is_read_afresh(cache_backend, client_for: ClientFor):
    # The signed-in user's username key names their favorites list: a stale one would renew
    # the old name's list on the next favorite, and the new name's would not show it.
    user, author = UserFactory(username="before"), UserFactory(username="author")
    article = make_article(author, title="Liked later")
    client = client_for(user)
    warm(client)
    response = client.put("/api/user", {"user": {"username": "after"}}, format="json")
    assert response.status_code == 200, response.content
    assert client.get("/api/articles", {"favorited": "after"}).json()["articlesCount"] == 0
    assert client.post(f"/api/articles/{article.slug}/favorite").status_code == 200
    favorites = client.get("/api/articles", {"favorited": "after"}).json()
    assert [a["slug"] for a in favorites["articles"]] == [article.slug]
    signed_in = active_user(user.pk)
    assert signed_in is not None
    assert (signed_in.username, signed_in.username_key) == ("after", "after")


def test_a_password_change_buries_the_entry(cache_backend, user, client_for: ClientFor):
    # Nothing of the password is cached, but the token version is: the entry goes, the next
    # request reads the user again, and the token from before the change is refused.
    client = client_for(user)
    warm(client)
    changed = client.put("/api/user", {"user": {"password": "new-password-1"}}, format="json")
    assert changed.status_code == 200, changed.content
    assert is_tombstone(stored(user))
    assert client.get("/api/tags").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {changed.json()['user']['token']}")
    assert client.get("/api/tags").status_code == 200
    assert User.objects.get(pk=user.pk).check_password("new-password-1")


def test_a_load_from_before_a_deactivation_is_not_stored_after_it(cache_backend, user, client_for):
    client = client_for(user)
    warm(client)
    entry = stored(user)  # a request read the active row...
    user_deactivate(user=user)  # ...the deactivation committed meanwhile...
    cache.add_many({user_key(user.pk): entry}, SIGNED_IN_SECONDS)  # ...and it stores what it read
    assert active_user(user.pk) is None
    refused(client)


def test_with_the_cache_off_the_user_is_read_every_time(settings, user):
    settings.CACHE_ARTICLES = False
    cache.clear()
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert active_user(user.pk) is not None
        assert len(queries) == 1
