"""A hypothesis state machine over the writes that keep home timelines (ADR 0034): follow,
unfollow, publish, edit, delete and erasure through the services the API calls, a timeline lost
(as with a Redis node) and ``manage.py rebuild_timelines``. Used by test_state_machine.py with
each store.

After every step, once its tasks have run (the commit callbacks, with the tasks inline as in
the embedded default: the "drain"), for every user:

* every built timeline holds only articles that belong there (by an author they follow), at
  most ``FEED_TIMELINE_SIZE`` of them, and no hole: every article of an author they follow, not
  merged at read, newer than the timeline's oldest entry is in it;
* every page of the feed, from the timeline (``home_feed``), equals the feed's query
  (``article_feed``, today's join) page for page: articles, order and count; and the API's
  answer (``feed_response``, joined from cached renderings) is the query's page's JSON, byte
  for byte.

The first catches a write that left an entry behind even when the read would hide it by falling
back; the second is the contract. Each example runs in a savepoint rolled back at its end, with
the store emptied and the caches cleared at its start (SQLite reuses rolled-back ids).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import ClassVar

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from conduit.api.presenters import articles_json
from conduit.api.rendered import feed_response
from conduit.api.renderers import ConduitJSONRenderer
from conduit.articles.feed import article_feed
from conduit.articles.models import Article
from conduit.articles.services import article_create, article_delete, article_update
from conduit.privacy.services import account_erase
from conduit.profiles.models import Follow
from conduit.profiles.services import follow_add, follow_remove
from conduit.timelines import selectors
from conduit.timelines.models import MergedAuthor
from conduit.timelines.selectors import home_feed
from conduit.timelines.stores import timeline_store
from conduit.users.models import User
from tests.factories import UserFactory

USERS = 3
PASSWORD = "password123"  # tests.factories.UserFactory's
person = st.integers(min_value=0, max_value=USERS - 1)
nth = st.integers(min_value=0, max_value=1_000)
# Edits and deletes mostly hit the newest articles: those the timelines hold.
newest = st.integers(min_value=0, max_value=3)


def drained() -> object:
    """Run the block's commit callbacks (the tasks it enqueued, inline) at its end, and those
    they enqueue in turn."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def reset_caches() -> None:
    from conduit.platform import ratelimit
    from conduit.platform.cache import recent
    from conduit.platform.cache.safe import cache
    from conduit.platform.http.micro_cache import micro_cache

    recent.forget_all()
    ratelimit.forget_local()
    cache.clear()
    micro_cache.clear()
    selectors.forget_failures()


class TimelineMachine(RuleBasedStateMachine):
    """``empty_store`` (set by the test): make the configured store hold no timeline."""

    empty_store: ClassVar[Callable[[], None]] = staticmethod(lambda: None)

    def __init__(self) -> None:
        super().__init__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        reset_caches()
        type(self).empty_store()
        self.users: list[User | None] = [UserFactory() for _ in range(USERS)]

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    # --- helpers -------------------------------------------------------------------------------

    def live(self, i: int) -> User | None:
        return self.users[i % USERS]

    def article(self, n: int) -> Article | None:
        """The ``n``-th newest article (wrapping round)."""
        ids = list(Article.objects.order_by("-pk").values_list("pk", flat=True))
        return Article.objects.get(pk=ids[n % len(ids)]) if ids else None

    # --- rules: the writes, through the API's services ----------------------------------------

    @initialize(
        authors=st.lists(person, min_size=2, max_size=10),
        follows=st.lists(st.tuples(person, nth), max_size=4),
    )
    def seed(self, authors: list[int], follows: list[tuple[int, int]]) -> None:
        """Articles by these authors in this order, then follows, before any timeline is
        built (the first reads build them): timelines that start full and trimmed."""
        for a in authors:
            self.publish(a)
        for a, n in follows:
            self.follow(a, n)

    @rule(a=person, n=nth)
    def follow(self, a: int, n: int) -> None:
        follower = self.live(a)
        if follower is None:
            return
        followed = Follow.objects.filter(follower=follower).values("followee_id")
        others = list(User.objects.exclude(pk=follower.pk).exclude(pk__in=followed).order_by("pk"))
        if not others:
            return
        with drained():
            follow_add(follower=follower, followee=others[n % len(others)])

    @rule(a=person, n=nth)
    def unfollow(self, a: int, n: int) -> None:
        follower = self.live(a)
        if follower is None:
            return
        follows = list(Follow.objects.filter(follower=follower).order_by("pk"))
        if not follows:
            return
        followee = follows[n % len(follows)].followee
        with drained():
            follow_remove(follower=follower, followee=followee)

    @rule(a=person)
    def publish(self, a: int) -> None:
        author = self.live(a)
        if author is None:
            return
        with drained():
            article_create(author=author, title="A title", description="About", body="Body")

    @rule(n=newest)
    def edit(self, n: int) -> None:
        article = self.article(n)
        if article is None:
            return
        with drained():
            article_update(article=article, editor=article.author, title=f"Edited {n}",
                           body="Edited body", fields={"title", "body"})  # fmt: skip

    @rule(n=newest)
    def delete(self, n: int) -> None:
        article = self.article(n)
        if article is None:
            return
        with drained():
            article_delete(article=article, user=article.author)

    @rule(a=person)
    def erase(self, a: int) -> None:
        user = self.live(a)
        if user is None or sum(u is not None for u in self.users) < USERS:  # one erasure
            return
        with drained():
            account_erase(user=user, password=PASSWORD)
        self.users[a % USERS] = None

    @rule(a=person)
    def lose_timeline(self, a: int) -> None:
        """The timeline gone, as with the Redis node that held it: the read rebuilds it."""
        user = self.live(a)
        if user is not None:
            timeline_store().drop(user.pk)

    @rule()
    def rebuild_all(self) -> None:
        with drained():
            call_command("rebuild_timelines", stdout=io.StringIO())

    # --- invariants, after the step's tasks have run -----------------------------------------

    @invariant()
    def timelines_and_feeds(self) -> None:
        """The timelines first: a feed read that meets a stale entry rebuilds the timeline."""
        self.timelines_hold_what_belongs()
        self.feed_equals_the_query()

    def timelines_hold_what_belongs(self) -> None:
        size = settings.FEED_TIMELINE_SIZE
        merged = set(MergedAuthor.objects.values_list("user_id", flat=True))
        for user in filter(None, self.users):
            # The database store trims lazily (stores/database.py): it may hold more than the
            # window the read takes, and every entry it holds must belong.
            held = timeline_store().window(user.pk, 100 * size)
            if held is None:
                continue  # not built (yet): the read falls back and builds it
            followed = Follow.objects.filter(follower=user).values("followee_id")
            articles = dict(
                Article.objects.filter(author_id__in=followed).values_list("pk", "author_id")
            )
            assert held == sorted(held, reverse=True), (user.pk, held)
            stale = [i for i in held if i not in articles]
            assert not stale, f"user {user.pk}: {stale} left in the timeline {held}"
            window = held[:size]
            if window:
                oldest = window[-1]
                holes = [i for i, author in articles.items()
                         if author not in merged and i > oldest and i not in window]  # fmt: skip
                assert not holes, f"user {user.pk}: {holes} missing from the timeline {window}"

    def feed_equals_the_query(self) -> None:
        """The first page of the timeline's size (the whole window the read may take) and the
        last page of one within it (the read's offset); a page past the bound is the query's
        own answer."""
        size = settings.FEED_TIMELINE_SIZE
        for user in filter(None, self.users):
            pages = [(size, 0), (1, size - 1)]
            for limit, offset in pages:
                expected = article_feed(viewer_id=user.pk, limit=limit, offset=offset)
                with drained():  # a cold or stale read enqueues a rebuild
                    got = home_feed(viewer_id=user.pk, limit=limit, offset=offset)
                assert got == expected, f"user {user.pk}, limit {limit}, offset {offset}"
                # The API's read: joined from cached renderings, the same bytes as the query's.
                with drained():
                    answer = feed_response(viewer_id=user.pk, limit=limit, offset=offset)
                rendered = articles_json(expected.articles, expected.count)
                assert answer.content == ConduitJSONRenderer().render(rendered), (user.pk, limit)
