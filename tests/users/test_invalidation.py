"""The users app's cache keys and which of them each change reaches (conduit/users/invalidation.py),
and that the write services call it: no signal does (ADR 0001)."""

from typing import Any

import pytest

from conduit.articles.favorites import favorite_add
from conduit.articles.services import article_create
from conduit.platform.cache import bulk
from conduit.platform.cache.keys import digest
from conduit.platform.cache.safe import cache
from conduit.privacy.services import account_erase
from conduit.profiles.services import follow_add
from conduit.users import invalidation, selectors
from conduit.users.invalidation import name_generation, profile_by_name_key, profile_key, user_key
from conduit.users.models import User
from conduit.users.services import user_authenticate, user_deactivate, user_update
from tests.factories import UserFactory, make_article

pytestmark = pytest.mark.django_db


def test_the_keys():
    assert user_key(7) == "user:7"
    assert profile_key(7) == "profile:7"
    assert invalidation.PROFILE_PREFIX == "profile"
    assert name_generation("élise") == f"gen:name:{digest('élise')}"
    assert digest("élise").isascii()
    assert len(digest("x" * 500)) == 24
    assert selectors._signed_in.key(7) == user_key(7)  # the family reads what is buried


def test_every_cached_field_of_the_signed_in_user_buries_it_when_it_changes():
    derived = {"id", "username_key"}  # the id never changes; the key follows the username
    assert set(invalidation.SIGNED_IN_FIELDS) - derived <= invalidation.SIGNED_IN_CHANGES


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """What reached ``bulk`` from the users app: ("bury", keys) and ("renew", keys)."""
    seen: list[tuple[str, Any]] = []
    monkeypatch.setattr(bulk, "bury", lambda keys: seen.append(("bury", sorted(keys))))
    monkeypatch.setattr(bulk, "renew", lambda keys: seen.append(("renew", sorted(keys))))
    return seen


@pytest.mark.parametrize(
    ("fields", "buried"),
    [
        ({"bio"}, ["profile"]),
        ({"image"}, ["profile"]),
        ({"email"}, ["user"]),
        ({"password"}, ["user"]),
        ({"is_active"}, ["user"]),
        ({"bio", "password"}, ["profile", "user"]),
        ({"favorites_count"}, []),  # counters are cached nowhere
        ({"last_login"}, []),
    ],
)
def test_user_changed_buries_what_shows_the_fields(calls, fields, buried):
    user = User(pk=5, username="jake", username_key="jake")
    invalidation.user_changed(user, fields=fields)
    expected = {"user": ["user:5"], "profile": sorted(["profile:5", profile_by_name_key("jake")])}
    assert sorted(calls) == [("bury", expected[kind]) for kind in buried]


def test_a_rename_buries_both_entries_and_renews_both_names(calls):
    user = User(pk=5, username="Jacob", username_key="jacob")
    invalidation.user_changed(user, fields={"username"}, old_username_key="jake")
    assert calls == [
        ("bury", ["user:5"]),
        ("bury", sorted(["profile:5", profile_by_name_key("jacob"), profile_by_name_key("jake")])),
        ("renew", sorted([name_generation("jacob"), name_generation("jake")])),
    ]


def test_a_misspelt_field_is_an_error(calls):
    with pytest.raises(ValueError, match="active"):
        invalidation.user_changed(User(pk=5), fields={"active"})
    assert calls == []


def test_a_deleted_user_loses_every_entry_and_their_names_lists(calls):
    invalidation.user_deleted(User(pk=5, username="jake", username_key="jake"))
    assert calls == [
        ("bury", ["user:5"]),
        ("bury", sorted(["profile:5", profile_by_name_key("jake")])),
        ("renew", [name_generation("jake")]),
    ]


# --- The services call it -----------------------------------------------------------------------


def test_user_update_tells_the_caches_what_changed(calls):
    jake = UserFactory(username="jake")
    user_update(user=jake, bio="Hi", image="https://example.com/j.png", fields={"bio", "image"})
    assert calls == [("bury", sorted([f"profile:{jake.pk}", profile_by_name_key("jake")]))]
    calls.clear()
    user_update(
        user=jake, username="Jacob", password="new-password-1", fields={"username", "password"}
    )
    assert calls == [
        ("bury", [f"user:{jake.pk}"]),
        ("bury", sorted([f"profile:{jake.pk}", *map(profile_by_name_key, ["jacob", "jake"])])),
        ("renew", sorted([name_generation("jacob"), name_generation("jake")])),
    ]


def test_a_bio_saved_with_the_names_unchanged_invalidates_only_the_profile(calls):
    # What a settings form or a RealWorld client sends: the whole user, only the bio new. The
    # signed-in user's entry and the lists by this name are left alone.
    jake = UserFactory(username="jake")
    signed_in = selectors.active_user(jake.pk)
    assert signed_in is not None
    account = user_update(
        user=signed_in,
        username="jake",
        email=jake.email,
        bio="Hi",
        fields={"username", "email", "bio"},
    )
    assert calls == [("bury", sorted([f"profile:{jake.pk}", profile_by_name_key("jake")]))]
    assert (account.bio, account.email, account.username) == ("Hi", jake.email, "jake")
    assert User.objects.get(pk=jake.pk).bio == "Hi"


def test_an_update_that_changes_nothing_invalidates_nothing(calls):
    user_update(user=UserFactory(), fields=set())
    assert calls == []


def test_deactivation_and_erasure_bury_the_signed_in_user(calls):
    jake, ann = UserFactory(username="jake"), UserFactory(username="ann")
    user_deactivate(user=jake)
    assert calls == [("bury", [f"user:{jake.pk}"])]
    assert not User.objects.get(pk=jake.pk).is_active
    calls.clear()
    ann_id = ann.pk
    account_erase(user=ann, password="password123")
    assert ("bury", [f"user:{ann_id}"]) in calls
    assert ("bury", sorted([f"profile:{ann_id}", profile_by_name_key("ann")])) in calls
    assert ("renew", [name_generation("ann")]) in calls


def test_counter_updates_and_sign_in_invalidate_no_user_entry(calls):
    reader, author = UserFactory(username="reader"), UserFactory(username="author")
    article = make_article(author, title="Liked")
    calls.clear()
    favorite_add(user=reader, slug=article.slug)
    follow_add(follower=reader, followee=author)
    article_create(author=reader, title="Mine", description="d", body="b")
    user_authenticate(email=reader.email, password="password123")
    touched = [key for _, keys in calls for key in keys]
    assert not [k for k in touched if k.startswith(("user:", "profile:", "gen:name:"))], touched


def test_the_invalidation_is_repeated_on_commit(django_capture_on_commit_callbacks):
    # Through bulk: a tombstone at once, and again when the transaction commits (a reader that
    # read the old row while the write was in flight stored it in between).
    jake = UserFactory(username="jake")
    key = user_key(jake.pk)
    with django_capture_on_commit_callbacks(execute=True):
        user_deactivate(user=jake)
        first = cache.get(key)
        cache.set(key, "stale", 60)  # a reader that read the row before the commit
    assert bulk.is_tombstone(first)
    assert bulk.is_tombstone(cache.get(key))


def test_the_profile_by_name_is_cached_under_the_key_its_invalidation_buries():
    from conduit.users.selectors import PROFILES_BY_NAME

    assert PROFILES_BY_NAME.key("jake") == profile_by_name_key("jake")
