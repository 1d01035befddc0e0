"""The data a bench runs on: ``seed_bulk``'s sizes, the marker that lets ``BENCH_KEEP_DB=1``
reuse a seeded database, the inputs the scenarios pick from it, its row counts and query plans,
and ``make bench-fanout``'s followers. Django must be set up for all but the sizes and marker."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchkit import REPO
from benchkit.facts import git

MARKER = "bench-dataset.json"
# 2: the feed shapes of benchkit/feed_shapes.py (a celebrity, its fans, a user following 1,000).
# A database marked 1 (or unmarked) is upgraded in place by ``bench.py feed-shapes``.
DATA_VERSION = 2
RNG_SEED = 7  # the same random articles and users for every run on the same data
COLD_ARTICLES = 8_000  # at most: 10k has 10,000 articles, 1,000 of them warmed

# BENCH_SIZE -> seed_bulk arguments (favorites and comments: seed_bulk's defaults, 5x and 2x).
SIZES: dict[str, tuple[int, int]] = {
    "10k": (1_000, 10_000),
    "100k": (10_000, 100_000),
    "1m": (100_000, 1_000_000),
}


def reusable(data_dir: Path, size: str) -> bool:
    marker = data_dir / MARKER
    if not (marker.exists() and (data_dir / "data" / "PG_VERSION").exists()):
        return False
    return bool(json.loads(marker.read_text()).get("size") == size)


def mark(data_dir: Path, size: str, shapes: dict[str, Any] | None = None) -> None:
    """Record that ``data_dir`` holds a database seeded at ``size`` (``reusable`` reads it);
    ``shapes``: what ``feed_shapes.add_feed_shapes`` added (the marker then has version 2)."""
    users, articles = SIZES[size]
    path = data_dir / MARKER
    old = json.loads(path.read_text()) if shapes is not None and path.exists() else {}
    marker = {"size": size, "users": users, "articles": articles,
              "seeded_at": old.get("seeded_at") or datetime.now(UTC).isoformat(timespec="seconds"),
              "commit": old.get("commit") or git("rev-parse", "--short", "HEAD"),
              "version": 1}  # fmt: skip
    if shapes is not None:
        marker |= {"version": DATA_VERSION, "feed_shapes": shapes}
    path.write_text(json.dumps(marker, indent=2) + "\n")


def marked_version(data_dir: Path) -> int:
    marker = data_dir / MARKER
    return int(json.loads(marker.read_text()).get("version", 1)) if marker.exists() else 0


ACTORS = ("writer", "fav_actor", "follow_actor", "comment_actor", "update_actor")
HOT_USERS = 256  # hot_favorite's and hot_follow's users: a POST and its DELETE 256 requests apart


@dataclass
class Actors:
    """The users who write, fixed by primary key before anything is chosen by a counter: their
    writes move counters (a run cut short leaves them moved), and the clean-up must find them
    again. The first five users write one kind each (``ACTORS``), the next ``HOT_USERS`` take
    turns on one article and one author."""

    writer: str
    fav_actor: str
    follow_actor: str
    comment_actor: str
    update_actor: str
    hot_users: list[str]


@dataclass
class Inputs:
    """What the scenarios ask for, picked from the database."""

    actors: Actors
    tag: str
    tag_articles: int
    author: str
    author_articles: int
    favoriter: str
    favoriter_favorites: int
    reader: str
    reader_following: int
    detail_slugs: list[str]
    cold_slugs: list[str]  # articles the warm-up does not read (article_detail_cold)
    profile_usernames: list[str]
    favorite_slugs: list[str]
    follow_usernames: list[str]  # users the follow actor does not follow
    hot_article: str  # the least favorited article none of the hot users favorited
    hot_article_favorites: int
    hot_author: str  # the least followed user none of the hot users follows
    hot_author_followers: int
    # benchkit/feed_shapes.py's readers (None on data without them, e.g. BENCH_TARGET's)
    heavy_reader: str | None = None  # follows ~1,000 authors
    heavy_following: int = 0
    fan_reader: str | None = None  # follows the celebrity and what the reader follows
    fan_following: int = 0
    celebrity_followers: int = 0


def _random_ids(rng: random.Random, low: int, high: int, k: int) -> list[int]:
    population = range(low, high + 1)
    return rng.sample(population, min(len(population), k))


def pick_actors(hot_users: int = HOT_USERS) -> Actors:
    from conduit.users.models import User

    names = list(
        User.objects.order_by("pk").values_list("username", flat=True)[: len(ACTORS) + hot_users]
    )
    if len(names) < len(ACTORS) + 1:
        sys.exit("need more users: seed the database with manage.py seed_bulk")
    writer, fav_actor, follow_actor, comment_actor, update_actor = names[: len(ACTORS)]
    return Actors(writer, fav_actor, follow_actor, comment_actor, update_actor,
                  hot_users=names[len(ACTORS) :])  # fmt: skip


class _Picker:
    """``picker(k, exclude)``: ``column`` of up to ``k`` random rows of ``model``, drawn by id
    between its lowest and highest (the ids in ``exclude`` left out), in the order drawn."""

    def __init__(self, rng: random.Random, model: Any, column: str) -> None:
        bounds = model.objects.order_by("pk").values_list("pk", flat=True)
        self.rng, self.model, self.column = rng, model, column
        self.low, self.high = bounds.first() or 0, bounds.last() or 0

    def __call__(self, k: int, exclude: set[int]) -> list[str]:
        ids = [i for i in _random_ids(self.rng, self.low, self.high, k * 2) if i not in exclude]
        values = dict(self.model.objects.filter(pk__in=ids).values_list("pk", self.column))
        return [values[i] for i in ids if i in values][:k]


def pick_inputs(actors: Actors, count: int = 1_000) -> Inputs:
    from django.db.models import Exists, OuterRef

    from conduit.articles.models import Article, Favorite, Tag
    from conduit.profiles.models import Follow
    from conduit.users.models import User

    rng = random.Random(RNG_SEED)  # noqa: S311 - reproducible choices, not secrets
    # The reads avoid the first two writers only, as before the other writers were added: the
    # same data gives the same read inputs as earlier runs did.
    others = User.objects.exclude(username__in=[actors.writer, actors.fav_actor])

    tag = Tag.objects.filter(articles_count__gt=0).order_by("-articles_count", "name").first()
    authors = others.filter(articles_count__gt=0).order_by("articles_count", "pk")
    n_authors = authors.count()
    favoriter = others.order_by("-favorites_count", "pk").first()
    reader = (
        others.filter(following_count__gte=10).order_by("following_count", "pk").first()
        or others.order_by("-following_count", "pk").first()
    )
    if tag is None or not n_authors or favoriter is None or reader is None:
        sys.exit("the database has no articles: seed it with manage.py seed_bulk")
    author = authors[n_authors // 2]  # the median author: typical, neither prolific nor rare

    articles = _Picker(rng, Article, "slug")

    detail = articles(count, set())
    favorited = set(
        Favorite.objects.filter(user__username=actors.fav_actor).values_list(
            "article_id", flat=True
        )
    )
    favorite = articles(count, favorited)
    users = _Picker(rng, User, "username")

    profiles = users(count, set())
    # Drawn after everything above, so that those stay what they were before these existed.
    follower = User.objects.get(username=actors.follow_actor)
    followed = set(Follow.objects.filter(follower=follower).values_list("followee_id", flat=True))
    follow = users(count, followed | {follower.pk})

    hot = User.objects.filter(username__in=actors.hot_users)
    hot_article = (
        Article.objects.exclude(
            Exists(Favorite.objects.filter(article=OuterRef("pk"), user__in=hot))
        )
        .order_by("favorites_count", "pk")
        .first()
    )
    hot_author = (
        User.objects.exclude(
            username__in=[*(getattr(actors, a) for a in ACTORS), *actors.hot_users]
        )
        .exclude(Exists(Follow.objects.filter(followee=OuterRef("pk"), follower__in=hot)))
        .order_by("followers_count", "pk")
        .first()
    )
    if hot_article is None or hot_author is None:
        sys.exit("no article or author the hot users have not favorited or followed")
    # article_detail_cold's: drawn last, so that every choice above stays what it was.
    cold = articles(COLD_ARTICLES, set(Article.objects.filter(slug__in=detail).values_list(
        "pk", flat=True)))  # fmt: skip
    return Inputs(
        actors=actors, tag=tag.name, tag_articles=tag.articles_count,
        author=author.username, author_articles=author.articles_count,
        favoriter=favoriter.username, favoriter_favorites=favoriter.favorites_count,
        reader=reader.username, reader_following=reader.following_count,
        detail_slugs=detail, profile_usernames=profiles, favorite_slugs=favorite,
        follow_usernames=follow, hot_article=hot_article.slug,
        hot_article_favorites=hot_article.favorites_count, hot_author=hot_author.username,
        hot_author_followers=hot_author.followers_count, cold_slugs=cold,
        **feed_readers(reader.pk),
    )  # fmt: skip


def feed_readers(reader_id: int) -> dict[str, Any]:
    """The feeds of benchkit/feed_shapes.py: the heavy follower and the celebrity's fan whose
    other follows are the typical reader's (``Inputs``' last fields; empty without them)."""
    from benchkit.feed_shapes import CELEBRITY, HEAVY, fan_of
    from conduit.users.models import User

    found = {u.username: u for u in User.objects.filter(
        username__in=[CELEBRITY, HEAVY, fan_of(reader_id)])}  # fmt: skip
    if CELEBRITY not in found:
        return {}
    fan = found.get(fan_of(reader_id))
    return {
        "heavy_reader": HEAVY, "heavy_following": found[HEAVY].following_count,
        "fan_reader": fan.username if fan else None,
        "fan_following": fan.following_count if fan else 0,
        "celebrity_followers": found[CELEBRITY].followers_count,
    }  # fmt: skip


def dataset_counts() -> dict[str, int]:
    from conduit.articles.models import Article, Favorite, Tag
    from conduit.comments.models import Comment
    from conduit.profiles.models import Follow
    from conduit.users.models import User

    return {
        "users": User.objects.count(),
        "articles": Article.objects.count(),
        "favorites": Favorite.objects.count(),
        "comments": Comment.objects.count(),
        "follows": Follow.objects.count(),
        "tags": Tag.objects.count(),
    }


def run_check_plans(run_dir: Path) -> dict[str, Any]:
    """``manage.py check_plans`` on the seeded data: its verdict is recorded, never fatal."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {"passed": None, "skipped": f"needs PostgreSQL, the database is {connection.vendor}"}
    out = run_dir / "check_plans.json"
    done = subprocess.run(
        [sys.executable, "manage.py", "check_plans", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    print(done.stdout + done.stderr, end="", flush=True)
    cases = json.loads(out.read_text()) if out.exists() else []
    failing = [
        {"case": c["case"], "problems": c["problems"], "ms": c["ms"], "sql": c["sql"][:300]}
        for c in cases
        if c["problems"]
    ]
    return {
        "passed": done.returncode == 0,
        "queries": len(cases),
        "failing": failing,
        "message": (done.stdout + done.stderr).strip().splitlines()[-1:],
    }


def seed_followers(followers: int) -> tuple[Any, Any, list[str]]:
    """``make bench-fanout``'s data: an author with ``followers`` followers and one with none,
    counters consistent; returns both authors and the followers' email addresses."""
    from django.db import transaction

    from conduit.profiles.models import Follow
    from conduit.users.models import User, identity_key

    def user(name: str) -> Any:
        email = f"{name}@bench.example"
        return User(
            username=name,
            email=email,
            username_key=identity_key(name),
            email_key=identity_key(email),
            password="!",  # unusable: these accounts never sign in  # noqa: S106
        )

    with transaction.atomic():
        popular, lonely = User.objects.bulk_create([user("fanout-author"), user("lonely-author")])
        fans = User.objects.bulk_create(
            [user(f"fan{n:05d}") for n in range(followers)], batch_size=2000
        )
        Follow.objects.bulk_create(
            [Follow(follower=fan, followee=popular) for fan in fans], batch_size=2000
        )
        User.objects.filter(pk=popular.pk).update(followers_count=followers)
        User.objects.filter(pk__in=[f.pk for f in fans]).update(following_count=1)
    return popular, lonely, [f.email for f in fans]
