"""Races against real PostgreSQL, with real threads.

Each test lines its threads up on a ``threading.Barrier`` (every thread has already opened its
own database connection, so they leave the barrier together and hit the database at once), lets
them race through the services or the API, and then checks that:

* nothing failed except with the domain errors the race is allowed to produce (a taken username,
  favoriting twice...): never an ``IntegrityError``, a deadlock, or a 500;
* every maintained counter equals the rows it counts.

These need ``transaction=True``: in the default per-test transaction the threads (each with its
own connection) would not see the test's data, and nothing would really commit. Each thread
closes its own connection when done, so the database can be flushed after the test.

Most races here have one outcome whatever the interleaving. The two tests that run in rounds
(many articles sharing tags; deletes of articles sharing favoriters) look for deadlocks, which
need an unlucky interleaving: they catch a deadlock-prone write in most runs, not in every one.
"""

import random
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import DatabaseError, connection
from rest_framework.test import APIClient

from conduit.api.authentication import token_for
from conduit.articles.favorites import favorite_add, favorite_remove
from conduit.articles.models import Article, ArticleTag, Favorite, SiteCounter, Tag
from conduit.articles.services import article_create, article_delete
from conduit.platform.exceptions import AlreadyExists, InvalidInput
from conduit.profiles.models import Follow
from conduit.profiles.services import follow_add, follow_remove
from conduit.users.models import User
from conduit.users.services import user_register
from tests.factories import UserFactory, make_article

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]

JOIN_TIMEOUT = 60  # seconds; a thread still running after this is a hang, and fails the test


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None
    trace: str = ""


def open_connection() -> None:
    """Connect this thread, and have PostgreSQL look for deadlocks after 100 ms instead of 1 s:
    a deadlock still fails the test, sooner. (Changing it needs a superuser, which the test
    server's user is; elsewhere the default stays, and only the time to fail grows.)"""
    connection.ensure_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET deadlock_timeout = '100ms'")
    except DatabaseError:
        pass


def race(count: int, target: Callable[[int], Any]) -> list[Outcome]:
    """Run ``target(0)`` ... ``target(count - 1)`` in ``count`` threads started together;
    return each one's value or exception."""
    barrier = threading.Barrier(count)
    outcomes = [Outcome() for _ in range(count)]

    def worker(i: int) -> None:
        try:
            open_connection()
            barrier.wait(timeout=JOIN_TIMEOUT)
            outcomes[i].value = target(i)
        except BaseException as exc:
            outcomes[i].error = exc
            outcomes[i].trace = traceback.format_exc()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,), name=f"racer-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    hung = [t.name for t in threads if t.is_alive()]
    assert not hung, f"threads still running after {JOIN_TIMEOUT}s: {hung}"
    return outcomes


def race_rounds(count: int, rounds: int, target: Callable[[int, int], Any]) -> list[Outcome]:
    """``count`` threads each run ``target(i, 0)``, ``target(i, 1)`` ... and all start each round
    together. The first unexpected exception stops every thread (no point queueing behind a
    failure); the outcomes are those of the calls that ran."""
    barrier = threading.Barrier(count)
    stop = threading.Event()
    lock = threading.Lock()
    outcomes: list[Outcome] = []

    def worker(i: int) -> None:
        try:
            open_connection()
            for r in range(rounds):
                try:
                    barrier.wait(timeout=JOIN_TIMEOUT)
                except threading.BrokenBarrierError:
                    return
                if stop.is_set():
                    return
                outcome = Outcome()
                try:
                    outcome.value = target(i, r)
                except Exception as exc:
                    outcome.error = exc
                    outcome.trace = traceback.format_exc()
                    stop.set()
                    barrier.abort()
                with lock:
                    outcomes.append(outcome)
                if outcome.error is not None:
                    return
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,), name=f"racer-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    hung = [t.name for t in threads if t.is_alive()]
    assert not hung, f"threads still running after {JOIN_TIMEOUT}s: {hung}"
    return outcomes


def assert_no_unexpected_errors(
    outcomes: Sequence[Outcome], allowed: tuple[type[BaseException], ...] = ()
) -> None:
    unexpected = [o for o in outcomes if o.error is not None and not isinstance(o.error, allowed)]
    kinds = sorted({f"{type(o.error).__module__}.{type(o.error).__name__}" for o in unexpected})
    assert not unexpected, (
        f"{len(unexpected)} call(s) failed with {', '.join(kinds)}; the first ones:\n"
        + "\n".join(o.trace for o in unexpected[:2])
    )


def assert_user_counters_match_rows(users: Sequence[User]) -> None:
    for user in User.objects.filter(pk__in=[u.pk for u in users]):
        assert user.favorites_count == Favorite.objects.filter(user=user).count(), user.username
        assert user.articles_count == Article.objects.filter(author=user).count(), user.username
        assert user.followers_count == Follow.objects.filter(followee=user).count(), user.username
        assert user.following_count == Follow.objects.filter(follower=user).count(), user.username


# --- (a) Registration of one name, differing only in case ---------------------------------------

REGISTRANTS = 10


def case_variants(word: str, count: int) -> list[str]:
    """``count`` distinct spellings of ``word`` that differ only in letter case."""
    variants: list[str] = []
    mask = 0
    while len(variants) < count:
        spelled = "".join(c.upper() if mask >> k & 1 else c.lower() for k, c in enumerate(word))
        variants.append(spelled)
        mask += 1
    assert len(set(variants)) == count
    return variants


@pytest.mark.parametrize("clash", ["username", "email"])
def test_concurrent_registration_through_the_service(clash: str) -> None:
    names = case_variants("racer", REGISTRANTS)
    emails = case_variants("same", REGISTRANTS)

    def register(i: int) -> User:
        if clash == "username":
            username, email = names[i], f"racer{i}@example.com"
        else:
            username, email = f"racer{i}", f"{emails[i]}@example.com"
        return user_register(username=username, email=email, password="password123")

    outcomes = race(REGISTRANTS, register)

    assert_no_unexpected_errors(outcomes, allowed=(AlreadyExists,))
    winners = [o for o in outcomes if o.error is None]
    losers = [o for o in outcomes if o.error is not None]
    assert len(winners) == 1, [o.value for o in winners]
    assert len(losers) == REGISTRANTS - 1
    for loser in losers:
        assert isinstance(loser.error, AlreadyExists)
        assert clash in loser.error.errors, loser.error.errors
    if clash == "username":
        assert User.objects.filter(username__iexact="racer").count() == 1
    else:
        assert User.objects.filter(email__iexact="same@example.com").count() == 1


def test_concurrent_registration_through_the_api() -> None:
    names = case_variants("racer", REGISTRANTS)

    def register(i: int) -> tuple[int, Any]:
        payload = {
            "user": {
                "username": names[i],
                "email": f"racer{i}@example.com",
                "password": "password123",
            }
        }
        response = APIClient().post("/api/users", payload, format="json")
        return response.status_code, response.json()

    outcomes = race(REGISTRANTS, register)

    # A 500 would surface here as an exception (the test client re-raises it).
    assert_no_unexpected_errors(outcomes)
    statuses = sorted(o.value[0] for o in outcomes)
    assert statuses == [201] + [409] * (REGISTRANTS - 1), [o.value for o in outcomes]
    for code, body in (o.value for o in outcomes):
        if code == 409:
            assert "username" in body["errors"], body
    assert User.objects.filter(username__iexact="racer").count() == 1


# --- (b) Favorites ------------------------------------------------------------------------------

FANS = 50


def keeps_it(i: int) -> bool:
    """Which racers leave their favorite/follow in place (a third of them)."""
    return i % 3 == 0


@pytest.mark.parametrize("via", ["service", "api"])
def test_concurrent_favorites_keep_counters_exact(via: str) -> None:
    article = make_article(UserFactory(username="author"), title="Popular")
    fans = UserFactory.create_batch(FANS)
    clients = [_client(fan) for fan in fans] if via == "api" else []

    def by_service(i: int) -> None:
        fan = User.objects.get(pk=fans[i].pk)
        target = Article.objects.get(pk=article.pk)
        favorite_add(user=fan, slug=target.slug)
        with pytest.raises(InvalidInput):
            favorite_add(user=fan, slug=target.slug)
        if not keeps_it(i):
            favorite_remove(user=fan, slug=target.slug)
            with pytest.raises(InvalidInput):
                favorite_remove(user=fan, slug=target.slug)

    def by_api(i: int) -> None:
        url = f"/api/articles/{article.slug}/favorite"
        assert clients[i].post(url).status_code == 200
        assert clients[i].post(url).status_code == 422
        if not keeps_it(i):
            assert clients[i].delete(url).status_code == 200
            assert clients[i].delete(url).status_code == 422

    outcomes = race(FANS, by_service if via == "service" else by_api)

    assert_no_unexpected_errors(outcomes)
    article.refresh_from_db()
    rows = Favorite.objects.filter(article=article).count()
    assert rows == sum(keeps_it(i) for i in range(FANS))
    assert article.favorites_count == rows
    assert_user_counters_match_rows(fans)


def _client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


# --- (c) Follows --------------------------------------------------------------------------------

FOLLOWERS = 50
FOLLOW_BACKS = 10


def test_concurrent_follows_keep_counters_exact() -> None:
    """50 users follow (and most unfollow) one author while the author follows 10 of them back,
    so pairs lock each other's rows in both directions at once."""
    author = UserFactory(username="author")
    followers = UserFactory.create_batch(FOLLOWERS)

    def follower(i: int) -> None:
        me = User.objects.get(pk=followers[i].pk)
        them = User.objects.get(pk=author.pk)
        follow_add(follower=me, followee=them)
        with pytest.raises(InvalidInput):
            follow_add(follower=me, followee=them)
        if not keeps_it(i):
            follow_remove(follower=me, followee=them)
            with pytest.raises(InvalidInput):
                follow_remove(follower=me, followee=them)

    def follow_back(i: int) -> None:
        follow_add(
            follower=User.objects.get(pk=author.pk),
            followee=User.objects.get(pk=followers[i].pk),
        )

    outcomes = race(
        FOLLOWERS + FOLLOW_BACKS,
        lambda i: follower(i) if i < FOLLOWERS else follow_back(i - FOLLOWERS),
    )

    assert_no_unexpected_errors(outcomes)
    author.refresh_from_db()
    rows = Follow.objects.filter(followee=author).count()
    assert rows == sum(keeps_it(i) for i in range(FOLLOWERS))
    assert author.followers_count == rows
    assert author.following_count == Follow.objects.filter(follower=author).count()
    assert author.following_count == FOLLOW_BACKS
    assert_user_counters_match_rows([author, *followers])


# --- (d) Articles with the same title -----------------------------------------------------------

WRITERS = 20


@pytest.mark.parametrize(
    "counter_row", ["present", "missing"], ids=["site-counter", "site-counter-row-missing"]
)
def test_concurrent_articles_with_one_title(counter_row: str) -> None:
    """All succeed under distinct slugs, and the site and author counters count every one.

    ``missing``: the ``SiteCounter`` row is normally made by a data migration; without it (a
    flushed database) the first articles create it, racing each other to do so."""
    author = UserFactory(username="author")
    if counter_row == "missing":
        SiteCounter.objects.filter(name=SiteCounter.ARTICLES).delete()
    else:
        SiteCounter.objects.update_or_create(name=SiteCounter.ARTICLES, defaults={"value": 0})

    def write(i: int) -> str:
        article = article_create(
            author=User.objects.get(pk=author.pk),
            title="Hello World",
            description="d",
            body="b",
            tags=[],
        )
        return article.slug

    outcomes = race(WRITERS, write)

    assert_no_unexpected_errors(outcomes)
    slugs = [o.value for o in outcomes]
    assert len(set(slugs)) == WRITERS, slugs
    assert "hello-world" in slugs
    assert all(s == "hello-world" or s.startswith("hello-world-") for s in slugs), slugs
    assert Article.objects.count() == WRITERS
    assert SiteCounter.objects.get(name=SiteCounter.ARTICLES).value == WRITERS
    author.refresh_from_db()
    assert author.articles_count == WRITERS


# --- (e) A new tag, created by many articles at once --------------------------------------------

TAGGERS = 20
TAG_RACERS = 30
TAG_ROUNDS = 15


def assert_tag_counters_match_rows() -> None:
    for tag in Tag.objects.all():
        assert tag.articles_count == ArticleTag.objects.filter(tag=tag).count(), tag.name


def test_concurrent_first_use_of_one_new_tag() -> None:
    authors = UserFactory.create_batch(TAGGERS)

    def write(i: int) -> None:
        article_create(
            author=User.objects.get(pk=authors[i].pk),
            title=f"Post {i}",
            description="d",
            body="b",
            tags=["brand-new"],
        )

    outcomes = race(TAGGERS, write)

    assert_no_unexpected_errors(outcomes)
    assert Tag.objects.filter(name="brand-new").count() == 1
    assert Tag.objects.get(name="brand-new").articles_count == TAGGERS
    assert_tag_counters_match_rows()
    assert_user_counters_match_rows(authors)


def test_concurrent_articles_sharing_several_tags() -> None:
    """Thirty authors publish at once, round after round, each article with the same ten tags in
    its own order (an author's tag order is theirs to choose): five tags every article has, and
    five new ones each round, created by whichever article gets there first. No request may fail
    (a deadlock would be a 500), and every tag's counter ends exact.

    A race test is a sample: a deadlock-prone write shows up in most runs of this test, not
    necessarily in every one. A run that passes proves nothing by itself; one that fails does."""
    authors = UserFactory.create_batch(TAG_RACERS)
    shared = [f"shared{k}" for k in range(5)]
    make_article(authors[0], title="Seed", tags=shared)

    def write(i: int, r: int) -> None:
        tags = [*shared, *(f"round{r}-{k}" for k in range(5))]
        random.Random(f"{i}-{r}").shuffle(tags)  # noqa: S311 - an order, not a secret
        article_create(
            author=User.objects.get(pk=authors[i].pk),
            title=f"Post {i}-{r}",
            description="d",
            body="b",
            tags=tags,
        )

    outcomes = race_rounds(TAG_RACERS, TAG_ROUNDS, write)

    assert_no_unexpected_errors(outcomes)
    for name in shared:
        assert Tag.objects.get(name=name).articles_count == 1 + TAG_RACERS * TAG_ROUNDS
    for r in range(TAG_ROUNDS):
        assert Tag.objects.get(name=f"round{r}-0").articles_count == TAG_RACERS
    assert_tag_counters_match_rows()
    assert_user_counters_match_rows(authors)


# --- Deleting articles that share favoriters ---------------------------------------------------

DELETERS = 30
DELETE_ROUNDS = 3
SHARED_FANS = 20


def test_concurrent_deletes_of_articles_with_the_same_fans() -> None:
    """Thirty authors delete an article each at once, round after round; every article is a
    favorite of the same twenty users, so each delete decrements those twenty users' counters in
    one UPDATE. No delete may fail, and the fans' counters end exact (a sample, like the test
    above).

    The favorites are inserted in bulk, with the counters set to match, to keep the setup fast;
    the deletes under test go through the service."""
    authors = UserFactory.create_batch(DELETERS)
    fans = UserFactory.create_batch(SHARED_FANS)
    articles = {
        (i, r): make_article(authors[i], title=f"Post {i}-{r}")
        for i in range(DELETERS)
        for r in range(DELETE_ROUNDS)
    }
    Favorite.objects.bulk_create(
        Favorite(user=fan, article=article) for article in articles.values() for fan in fans
    )
    Article.objects.update(favorites_count=SHARED_FANS)
    User.objects.filter(pk__in=[f.pk for f in fans]).update(favorites_count=len(articles))

    def delete(i: int, r: int) -> None:
        article_delete(
            article=Article.objects.get(pk=articles[i, r].pk),
            user=User.objects.get(pk=authors[i].pk),
        )

    outcomes = race_rounds(DELETERS, DELETE_ROUNDS, delete)

    assert_no_unexpected_errors(outcomes)
    assert Article.objects.count() == 0
    assert Favorite.objects.count() == 0
    for fan in User.objects.filter(pk__in=[f.pk for f in fans]):
        assert fan.favorites_count == 0, fan.username
    assert SiteCounter.objects.get(name=SiteCounter.ARTICLES).value == 0


# --- Publishing and deleting articles with the same tags ---------------------------------------

MIXERS = 20
MIX_ROUNDS = 4


def test_concurrent_publishes_and_deletes_sharing_tags() -> None:
    """Half the racers publish and half delete, each round, articles with the same five tags, by
    the same authors: a publish locks the tags, its author and the site counter, a deletion the
    article, the tags, the authors and the site counter. The tags' ids run opposite to their
    names, so a write locking them by id and another by name would deadlock in most runs; every
    write locks them by name (ADR 0025). No write may fail, and every counter ends exact."""
    tags = [f"t{k}" for k in range(5)]
    for name in reversed(tags):  # ids ascending, names descending
        Tag.objects.create(name=name)
    authors = UserFactory.create_batch(MIXERS // 2)
    doomed = {
        (i, r): make_article(authors[i], title=f"Doomed {i}-{r}", tags=tags)
        for i in range(MIXERS // 2)
        for r in range(MIX_ROUNDS)
    }

    def write(i: int, r: int) -> None:
        author = User.objects.get(pk=authors[i // 2].pk)
        if i % 2:
            article_delete(article=Article.objects.get(pk=doomed[i // 2, r].pk), user=author)
        else:
            article_create(author=author, title=f"Fresh {i}-{r}", description="d", body="b",
                           tags=list(reversed(tags)))  # fmt: skip

    outcomes = race_rounds(MIXERS, MIX_ROUNDS, write)

    assert_no_unexpected_errors(outcomes)
    for name in tags:
        assert Tag.objects.get(name=name).articles_count == MIXERS // 2 * MIX_ROUNDS
    assert_tag_counters_match_rows()
    assert_user_counters_match_rows(authors)
    assert SiteCounter.objects.get(name=SiteCounter.ARTICLES).value == Article.objects.count()
