"""The bulk rows, drawn from one seeded RNG: who follows whom and who writes what (a few users
very popular), which articles are favorited and commented (Zipf-like), which tags they carry (a
few very common). Each generator yields tuples in its table's column order and counts into
``BulkCounters`` as it goes.

The RNG is shared, so the order in which ``seed`` draws the rows is part of the data: the same
plan and order give the same rows, and another order gives other rows.
"""

import json
import random
from array import array
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from conduit.demo.bulk.content import article_text, comment_body, tag_names
from conduit.demo.bulk.counters import BulkCounters
from conduit.demo.bulk.plan import START, BulkPlan

FOLLOW_COLUMNS = ["id", "follower_id", "followee_id", "created_at"]
ARTICLE_COLUMNS = ["id", "slug", "title", "description", "body", "tag_list", "author_id",
                   "favorites_count", "created_at", "updated_at"]  # fmt: skip
ARTICLE_TAG_COLUMNS = ["id", "article_id", "tag_id"]
FAVORITE_COLUMNS = ["id", "user_id", "article_id", "created_at"]
COMMENT_COLUMNS = ["id", "article_id", "author_id", "body", "created_at", "updated_at"]
USER_COLUMNS = ["id", "password", "last_login", "is_superuser", "username", "email",
                "username_key", "email_key", "bio", "image", "is_staff", "is_active",
                "date_joined", "articles_count", "favorites_count", "followers_count",
                "following_count", "token_version"]  # fmt: skip
TAG_COLUMNS = ["id", "name", "articles_count"]


def zipf_weights(n: int, s: float) -> list[float]:
    """Cumulative weights for ``random.choices``: rank 1 is the most popular."""
    total = 0.0
    cumulative = []
    for rank in range(1, n + 1):
        total += 1.0 / rank**s
        cumulative.append(total)
    return cumulative


def distinct(rng: random.Random, k: int, pick: Callable[[], int], exclude: int = -1) -> set[int]:
    chosen: set[int] = set()
    attempts = 0
    while len(chosen) < k and attempts < k * 20:
        value = pick()
        attempts += 1
        if value != exclude:
            chosen.add(value)
    return chosen


class BulkRows:
    """The rows of one ``BulkPlan``, to be drawn in ``seed``'s order."""

    def __init__(self, plan: BulkPlan, counters: BulkCounters) -> None:
        self.plan = plan
        self.counters = counters
        self.rng = random.Random(plan.seed)  # noqa: S311 - reproducible data, not secrets
        self.user_ids = range(1, plan.users + 1)
        # Followees and authors: a few very popular.
        self.popular_users = zipf_weights(plan.users, 1.1)
        self.popular_articles = zipf_weights(plan.articles, 0.8)
        self.popular_tags = zipf_weights(plan.tags, 1.0)
        self.tag_names = tag_names(plan.tags)
        self.step = timedelta(days=5 * 365) / max(plan.articles, 1)  # between two articles
        self.article_authors = array("l", bytes(8 * (plan.articles + 1)))
        self.article_tag_rows: list[tuple[int, int]] = []  # filled by articles()
        self.fav_users = array("l")  # filled by draw_favorites()
        self.fav_articles = array("l")

    def _pick_user(self) -> int:
        return self.rng.choices(self.user_ids, cum_weights=self.popular_users)[0]

    def follows(self) -> Iterator[tuple[Any, ...]]:
        plan, rng, counters = self.plan, self.rng, self.counters
        row_id = 0
        for follower in self.user_ids:
            k = min(plan.users - 1, max(0, int(rng.expovariate(1 / plan.follows_per_user))))
            for followee in sorted(distinct(rng, k, self._pick_user, exclude=follower)):
                row_id += 1
                counters.user_followers[followee] += 1
                counters.user_following[follower] += 1
                yield (row_id, follower, followee, START)

    def draw_favorites(self) -> None:
        """Distinct (user, article) pairs, popular articles more often; ``favorites()`` writes
        them."""
        plan, rng, counters = self.plan, self.rng, self.counters
        seen: set[int] = set()
        width = plan.articles + 1
        attempts = 0
        article_ids = range(1, plan.articles + 1)
        while len(self.fav_users) < plan.favorites and attempts < plan.favorites * 3:
            attempts += 1
            user = rng.randrange(1, plan.users + 1)
            article = rng.choices(article_ids, cum_weights=self.popular_articles)[0]
            key = user * width + article
            if key in seen:
                continue
            seen.add(key)
            self.fav_users.append(user)
            self.fav_articles.append(article)
            counters.user_favorites[user] += 1
            counters.article_favorites[article] += 1

    def articles(self) -> Iterator[tuple[Any, ...]]:
        plan, rng, counters = self.plan, self.rng, self.counters
        authors = rng.choices(self.user_ids, cum_weights=self.popular_users, k=plan.articles)
        tag_ids = range(plan.tags)

        def pick_tag() -> int:
            return rng.choices(tag_ids, cum_weights=self.popular_tags)[0]

        for i in range(1, plan.articles + 1):
            author = authors[i - 1]
            self.article_authors[i] = author
            counters.user_articles[author] += 1
            text = article_text(rng, i)
            n_tags = rng.randint(1, 5)
            tags = sorted(distinct(rng, n_tags, pick_tag))
            for t in tags:
                counters.tag_articles[t + 1] += 1
                self.article_tag_rows.append((i, t + 1))
            created = START + self.step * i
            yield (
                i, text.slug, text.title, text.description, text.body,
                json.dumps([self.tag_names[t] for t in tags]), author,
                counters.article_favorites[i], created, created,
            )  # fmt: skip

    def article_tags(self) -> Iterator[tuple[Any, ...]]:
        for row_id, (article, tag) in enumerate(self.article_tag_rows, start=1):
            yield (row_id, article, tag)

    def favorites(self) -> Iterator[tuple[Any, ...]]:
        for row_id, (user, article) in enumerate(
            zip(self.fav_users, self.fav_articles, strict=True), 1
        ):
            yield (row_id, user, article, START)

    def comments(self) -> Iterator[tuple[Any, ...]]:
        plan, rng = self.plan, self.rng
        article_ids = range(1, plan.articles + 1)
        for i in range(1, plan.comments + 1):
            article = rng.choices(article_ids, cum_weights=self.popular_articles)[0]
            author = rng.randrange(1, plan.users + 1)
            created = START + self.step * article + timedelta(minutes=i % 997)
            yield (i, article, author, comment_body(rng, i), created, created)

    def users(self, password: str) -> Iterator[tuple[Any, ...]]:
        """Last: every user row carries the counts the other rows made."""
        counters = self.counters
        for i in self.user_ids:
            name = f"user{i}"
            yield (
                i, password, None, False, name, f"{name}@bench.conduit.local", name,
                f"{name}@bench.conduit.local", f"Bench user {i}." if i % 3 else None, None,
                False, True, START, counters.user_articles[i], counters.user_favorites[i],
                counters.user_followers[i], counters.user_following[i], 0,
            )  # fmt: skip

    def tags(self) -> Iterator[tuple[Any, ...]]:
        for t in range(self.plan.tags):
            yield (t + 1, self.tag_names[t], self.counters.tag_articles[t + 1])
