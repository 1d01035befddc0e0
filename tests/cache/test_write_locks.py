"""Writes hold row locks without a network call but PostgreSQL's (issue 22, ADR 0016): a write's
cache invalidations go out before its first locking statement, in one round trip, and again
in one after the commit. On every cache backend."""

from collections.abc import Callable
from typing import Any

import pytest
from celery import current_task
from django.core.cache import caches
from django.db import connection

from conduit.articles.favorites import favorite_add, favorite_remove
from conduit.articles.services import article_create
from conduit.profiles.services import follow_add, follow_remove
from conduit.users.services import user_update
from tests.factories import UserFactory, make_article
from tests.support import by_path

pytestmark = pytest.mark.django_db

CALLS = ("get_many", "set_many", "set_groups", "add_many", "delete_many", "get", "set", "add")
LOCKING = ("INSERT", "UPDATE", "DELETE", "SELECT ... FOR UPDATE")


@pytest.fixture
def events(cache_backend: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Cache calls ("cache", method) and SQL statements ("sql", first word) in order."""
    seen: list[tuple[str, str]] = []
    backend: Any = caches["default"]
    for name in CALLS:
        real = getattr(backend, name, None)
        if real is None:
            continue

        def spy(*args: Any, _name: str = name, _real: Any = real, **kwargs: Any) -> Any:
            seen.append(("cache", _name))
            return _real(*args, **kwargs)

        monkeypatch.setattr(backend, name, spy)
    return seen


def locking(statement: str) -> bool:
    text = statement.lstrip().upper()
    if text.startswith("WITH"):  # a data-modifying WITH (a one-statement write, ADR 0025)
        return any(f"{verb} " in text for verb in ("INSERT", "UPDATE", "DELETE"))
    return text.startswith(("INSERT", "UPDATE", "DELETE")) or "FOR UPDATE" in text


def run(
    events: list[tuple[str, str]], write: Callable[[], Any], capture: Any
) -> tuple[list[tuple[str, str]], int]:
    """The events of ``write`` up to its commit, and the cache calls its on-commit work makes."""

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        events.append(("sql", "lock" if locking(sql) else "read"))
        return execute(sql, params, many, context)

    events.clear()
    with capture(execute=False) as callbacks, connection.execute_wrapper(record):
        write()
    during = list(events)
    events.clear()
    for callback in callbacks:
        callback()
    return during, sum(1 for kind, _ in events if kind == "cache")


def assert_no_cache_call_under_a_lock(during: list[tuple[str, str]]) -> int:
    first_lock = next(i for i, event in enumerate(during) if event == ("sql", "lock"))
    assert ("cache", "set_groups") not in during[first_lock:]
    assert not [e for e in during[first_lock:] if e[0] == "cache"], during
    return sum(1 for kind, _ in during[:first_lock] if kind == "cache")


@pytest.fixture
def people() -> tuple[Any, Any, Any]:
    author, fan = UserFactory(), UserFactory()
    return author, fan, make_article(author, title="Locks")


def test_a_favorite_invalidates_before_it_locks_in_one_round_trip_and_one_after(
    events, people, django_capture_on_commit_callbacks, cache_backend
):
    author, fan, article = people
    favorite_add(user=author, slug=article.slug)  # the slug's id is cached (``slugid:``)
    during, after = run(events, lambda: favorite_add(user=fan, slug=article.slug),
                        django_capture_on_commit_callbacks)  # fmt: skip
    before_locks = assert_no_cache_call_under_a_lock(during)
    if cache_backend == "redis":  # one pipeline each time; Django's backends take several
        # The invalidations; on PostgreSQL the slug's id before them (the API reads it ahead
        # with the user).
        assert (before_locks, after) == (by_path(2, 1), 1)
    during, after = run(events, lambda: favorite_remove(user=fan, slug=article.slug),
                        django_capture_on_commit_callbacks)  # fmt: skip
    assert_no_cache_call_under_a_lock(during)


@pytest.mark.parametrize("action", ["follow", "unfollow"])
def test_a_follow_invalidates_before_it_locks(
    events, people, django_capture_on_commit_callbacks, action, cache_backend
):
    author, fan, _ = people
    if action == "unfollow":
        follow_add(follower=fan, followee=author)
    write = follow_add if action == "follow" else follow_remove
    during, after = run(events, lambda: write(follower=fan, followee=author),
                        django_capture_on_commit_callbacks)  # fmt: skip
    before_locks = assert_no_cache_call_under_a_lock(during)
    if cache_backend != "locmem":  # the in-process cache's set_many calls its own set per key
        assert (before_locks, after) == (1, 1)


def test_a_publish_invalidates_before_it_locks(events, people, django_capture_on_commit_callbacks):
    author, _, _ = people
    during, _ = run(
        events,
        lambda: article_create(author=author, title="New", description="d", body="b", tags=["x"]),
        django_capture_on_commit_callbacks,
    )
    assert_no_cache_call_under_a_lock(during)


@pytest.mark.pg
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["favorite", "unfavorite", "follow", "unfollow", "bio"])
def test_a_one_statement_write_invalidates_before_it_and_again_after_its_commit(
    events, people, action, cache_backend
):
    # Outside a transaction the statement commits as it ends: the second round trip goes out
    # then, not at once with the first (which is what on_commit does outside a transaction).
    author, fan, article = people
    if action in ("favorite", "unfavorite"):  # the slug's id is cached (``slugid:``)
        favorite_add(user=author if action == "favorite" else fan, slug=article.slug)
    if action == "unfollow":
        follow_add(follower=fan, followee=author)
    write = {
        "favorite": lambda: favorite_add(user=fan, slug=article.slug),
        "unfavorite": lambda: favorite_remove(user=fan, slug=article.slug),
        "follow": lambda: follow_add(follower=fan, followee=author),
        "unfollow": lambda: follow_remove(follower=fan, followee=author),
        "bio": lambda: user_update(user=author, bio="Rewritten", fields={"bio"}),
    }[action]

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # A follow's timeline task runs inline after the commit (tasks are eager here): its
        # queries are the task's, not the write's.
        if not (current_task and current_task.name.startswith("conduit.timelines.")):
            events.append(("sql", "lock" if locking(sql) else "read"))
        return execute(sql, params, many, context)

    events.clear()
    with connection.execute_wrapper(record):
        write()
    kinds = [kind for kind, _ in events]
    assert kinds.count("sql") == 1  # the whole write
    statement = kinds.index("sql")
    assert "cache" in kinds[:statement]
    assert "cache" in kinds[statement + 1 :]
    if cache_backend == "redis":  # one pipeline each time
        # A favorite reads the slug's id first, which the API reads ahead with the user.
        read_first = ["cache"] if action in ("favorite", "unfavorite") else []
        assert kinds == [*read_first, "cache", "sql", "cache"]


@pytest.mark.parametrize("change", ["bio", "username"])
def test_a_profile_update_invalidates_before_it_locks(
    events, people, django_capture_on_commit_callbacks, change, cache_backend
):
    author, _, _ = people
    values = {"bio": "Rewritten", "username": "renamed"}
    during, after = run(
        events,
        lambda: user_update(user=author, fields={change}, **{change: values[change]}),
        django_capture_on_commit_callbacks,
    )
    before_locks = assert_no_cache_call_under_a_lock(during)
    if cache_backend == "redis":  # one pipeline each time
        assert (before_locks, after) == (1, 1)
