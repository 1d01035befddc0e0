"""Writes to home timelines (ADR 0034), run by the tasks in ``tasks.py`` after the writes that
make them stale have committed (the articles, profiles and privacy apps enqueue those by name).

Each is idempotent: it reads the database as it is when it runs and writes what follows from it,
so a task that runs twice, or late, converges on the same timelines. Timelines that were never
built are skipped: a read builds them (``rebuild``).
"""

from collections.abc import Iterator, Sequence

import structlog
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, QuerySet, Subquery, Sum

from conduit.articles import feed
from conduit.articles.models import Article, SiteCounter
from conduit.profiles.models import Follow
from conduit.timelines import heads
from conduit.timelines.models import MergedAuthor
from conduit.timelines.stores import timeline_store
from conduit.users.models import User

logger = structlog.get_logger(__name__)


def _follower_chunks(author_ids: Sequence[int]) -> Iterator[list[int]]:
    """The followers of these authors, in keyset chunks of ``FEED_FANOUT_CHUNK`` (the
    ``(followee, follower)`` index)."""
    size = settings.FEED_FANOUT_CHUNK
    after = 0
    while True:
        followers = (
            Follow.objects.filter(followee_id__in=author_ids, follower_id__gt=after)
            .order_by("follower_id")
            .values_list("follower_id", flat=True)
        )
        if len(author_ids) > 1:  # a reader of several of them once
            followers = followers.distinct()
        chunk = list(followers[:size])
        if not chunk:
            return
        yield chunk
        if len(chunk) < size:
            return
        after = chunk[-1]


def is_merged(author_id: int) -> bool:
    return MergedAuthor.objects.filter(user_id=author_id).exists()


def article_fan_out(*, article_id: int) -> int:
    """Push a new article into its author's followers' timelines, one store write per chunk;
    returns the followers reached. An author over ``FEED_FANOUT_MAX_FOLLOWERS`` followers is
    marked merged instead (for good: ``models.MergedAuthor``) and reached by the read."""
    author = Article.objects.filter(pk=article_id).values("author_id", "author__followers_count")
    row = author.first()
    if row is None:
        return 0  # deleted before its fan-out ran
    author_id = row["author_id"]
    if row["author__followers_count"] > settings.FEED_FANOUT_MAX_FOLLOWERS:
        MergedAuthor.objects.get_or_create(user_id=author_id)
        heads.renew_merged()
        return 0
    if is_merged(author_id):
        heads.renew_merged()  # its followers' counters and merged ids
        return 0
    store, reached = timeline_store(), []
    for chunk in _follower_chunks([author_id]):
        try:
            store.push(article_id, chunk)
        finally:  # a push that failed on one master landed on the others
            heads.renew(chunk)
        reached.extend(chunk)
    if reached and not Article.objects.filter(pk=article_id).exists():
        store.remove([article_id], reached)  # deleted meanwhile: its removal may have run first
        heads.renew(reached)
    logger.info("timeline fan-out", article_id=article_id, followers=len(reached))
    return len(reached)


def newest_ids(authors: QuerySet[Article]) -> list[int]:
    return list(authors.order_by("-id").values_list("id", flat=True)[: settings.FEED_TIMELINE_SIZE])


def follow_backfill(*, follower_id: int, followee_id: int) -> None:
    """A new follow: the follower's built timeline gets the newest ``FEED_TIMELINE_SIZE``
    articles of every author it now fans out (the rebuild's query), added, then trimmed.

    Not the followee's alone: a timeline that was trimmed and then lost entries (a delete, an
    unfollow) is missing, below its oldest entry, articles of the authors already followed,
    and the followee's older ones would sit next to that hole. Added, not replaced: an article
    pushed while this runs stays. The timeline held only articles of these authors, so the
    union's newest ``size`` are exactly theirs."""
    if not Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).exists():
        return  # unfollowed meanwhile
    if is_merged(followee_id):
        return
    if timeline_store().add(follower_id, _fanned_out_newest(follower_id)):
        heads.renew([follower_id])  # only a built timeline has a head in the cache


def timeline_scrub(*, user_id: int) -> int:
    """Remove from the user's timeline what no longer belongs there: articles deleted, or by
    authors they no longer follow (an unfollow; an erased author, whose articles and follows
    went in one transaction). Returns how many entries went."""
    store = timeline_store()
    ids = store.window(user_id, 4 * settings.FEED_TIMELINE_SIZE)
    if not ids:
        return 0
    followed = Follow.objects.filter(follower_id=user_id).values("followee_id")
    kept = set(
        Article.objects.filter(id__in=ids, author_id__in=followed).values_list("id", flat=True)
    )
    gone = [article_id for article_id in ids if article_id not in kept]
    store.remove(gone, [user_id])
    if gone:
        heads.renew([user_id])
    return len(gone)


def articles_unpublish(*, article_ids: Sequence[int], author_ids: Sequence[int]) -> None:
    """Deleted articles out of their authors' followers' timelines."""
    store = timeline_store()
    for chunk in _follower_chunks(sorted(set(author_ids))):
        try:
            store.remove(article_ids, chunk)
        finally:  # their counters changed too, merged authors' followers included
            heads.renew(chunk)


def timeline_drop(*, user_id: int) -> None:
    """An erased user: their timeline, and their mark as a merged author (their follows went
    first, one by one: each follower's relations token, and so their head, was renewed)."""
    timeline_store().drop(user_id)
    MergedAuthor.objects.filter(user_id=user_id).delete()


def timeline_rebuild(*, user_id: int) -> int:
    """Build the user's timeline from the database: the newest ``FEED_TIMELINE_SIZE`` articles
    of the authors they follow, merged authors left to the read. Returns its length."""
    ids = _fanned_out_newest(user_id)
    timeline_store().replace(user_id, ids)
    heads.renew([user_id])
    return len(ids)


# The newest ids of each followed author through the (author_id, id) index, merged: the feed's
# per-author plan (ADR 0010), for readers of a few quiet authors, whose articles are rare among
# all the others (a newest-first scan would read most of the table for them).
_NEWEST_PER_AUTHOR = """
    SELECT a.id FROM {follow} f
    CROSS JOIN LATERAL (
        SELECT id FROM {article} WHERE author_id = f.followee_id ORDER BY id DESC LIMIT %s
    ) a
    WHERE f.follower_id = %s AND f.followee_id NOT IN (SELECT user_id FROM {merged})
    ORDER BY a.id DESC LIMIT %s
"""


def _fanned_out_newest(user_id: int) -> list[int]:
    """The newest ``FEED_TIMELINE_SIZE`` articles of the authors the user follows, merged
    authors left to the read, by the cheaper of the feed's two plans (PostgreSQL)."""
    size = settings.FEED_TIMELINE_SIZE
    followed = Follow.objects.filter(follower_id=user_id).exclude(
        followee_id__in=MergedAuthor.objects.values("user_id")
    )
    if connection.vendor == "postgresql":
        site = SiteCounter.objects.filter(name=SiteCounter.ARTICLES).values("value")
        totals = followed.aggregate(
            following=Count("pk"),
            articles=Sum("followee__articles_count"),
            all_articles=Max(Subquery(site)),
        )
        if feed.per_author_is_cheaper(
            following=totals["following"],
            feed_articles=totals["articles"] or 0,
            all_articles=totals["all_articles"] or 0,
            window=size,
        ):
            sql = _NEWEST_PER_AUTHOR.format(
                follow=Follow._meta.db_table,
                article=Article._meta.db_table,
                merged=MergedAuthor._meta.db_table,
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, (size, user_id, size))
                return [row[0] for row in cursor.fetchall()]
    return newest_ids(Article.objects.filter(author_id__in=followed.values("followee_id")))


def merged_authors_refresh() -> tuple[int, int]:
    """Mark merged exactly the authors now over ``FEED_FANOUT_MAX_FOLLOWERS`` (before a full
    rebuild: a threshold changed, or authors fell under it). Returns (marked, unmarked)."""
    over = User.objects.filter(followers_count__gt=settings.FEED_FANOUT_MAX_FOLLOWERS)
    unmarked, _ = MergedAuthor.objects.exclude(user_id__in=over.values("pk")).delete()
    marked = MergedAuthor.objects.bulk_create(
        [MergedAuthor(user_id=pk) for pk in over.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )
    heads.renew_merged()
    return len(marked), unmarked
