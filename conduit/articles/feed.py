"""The feed: articles by the authors a viewer follows, newest first (ADR 0010). Not cached: each
viewer's feed is their own, and its two plans keep it flat at a million articles."""

from django.db import connection
from django.db.models import Max, Subquery, Sum
from django.db.models.expressions import RawSQL

from conduit.articles.data import ArticlePage
from conduit.articles.models import Article, SiteCounter
from conduit.articles.queries import page_of
from conduit.profiles.models import Follow

# The feed's page comes from one of two plans (ADR 0010). Per author: at most offset+limit newest
# ids of each followed author through the (author_id, id) index, merged; it reads
# following * (offset+limit) index entries. Scan: all articles newest first, keeping the followed
# authors'; it reads about (offset+limit) * all_articles / feed_articles rows. The cheaper one is
# picked from the counters, and the per-author plan is never used past FEED_FANOUT_MAX entries.
FEED_FANOUT_MAX = 50_000

_FEED_IDS_PER_AUTHOR = """
    SELECT a.id FROM {follow} f
    CROSS JOIN LATERAL (
        SELECT id FROM {article} WHERE author_id = f.followee_id ORDER BY id DESC LIMIT %s
    ) a
    WHERE f.follower_id = %s
    ORDER BY a.id DESC LIMIT %s OFFSET %s
"""


# Below this many index entries the per-author plan is cheap whatever the data: PostgreSQL's own
# plan for the scan query then tends to read every article of the followed authors and sort them.
FEED_PER_AUTHOR_ALWAYS = 2_000


def per_author_is_cheaper(
    *, following: int, feed_articles: int, all_articles: int, window: int
) -> bool:
    if connection.vendor != "postgresql" or not feed_articles:
        return False
    work = following * window
    if work <= FEED_PER_AUTHOR_ALWAYS:
        return True
    if work > FEED_FANOUT_MAX:
        return False
    # following * window  <  window * all_articles / feed_articles
    return following * feed_articles < all_articles


def article_feed(*, viewer_id: int, limit: int, offset: int) -> ArticlePage:
    """Articles by the authors ``viewer_id`` follows, newest first. The count is the sum of those
    authors' maintained article counters."""
    followed = Follow.objects.filter(follower_id=viewer_id)
    site_articles = SiteCounter.objects.filter(name=SiteCounter.ARTICLES).values("value")
    totals = followed.aggregate(
        articles=Sum("followee__articles_count"),
        following=Max("follower__following_count"),
        all_articles=Max(Subquery(site_articles)),
    )
    count = totals["articles"] or 0
    if per_author_is_cheaper(
        following=totals["following"] or 0,
        feed_articles=count,
        all_articles=totals["all_articles"] or 0,
        window=offset + limit,
    ):
        sql = _FEED_IDS_PER_AUTHOR.format(
            follow=Follow._meta.db_table, article=Article._meta.db_table
        )
        ids = RawSQL(sql, (offset + limit, viewer_id, limit, offset))  # noqa: S611 - no user text
        return ArticlePage(
            page_of(Article.objects.filter(id__in=ids), viewer_id, limit=limit), count
        )
    qs = Article.objects.filter(author_id__in=followed.values("followee_id"))
    return ArticlePage(page_of(qs, viewer_id, offset=offset, limit=limit), count)
