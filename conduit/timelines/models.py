"""Home timelines kept in the database (ADR 0034), when ``TIMELINE_URL`` names no Redis Cluster.

``Entry`` is one article id in one user's timeline. No foreign keys: the rows are a derived
copy of the follows and articles, rebuilt from them (``manage.py rebuild_timelines``), and on
PostgreSQL the table is hash-partitioned by ``user_id`` (migration 0001), which a foreign key
would not change but every cascade would have to visit. A timeline that has been built holds
a marker row (``BUILT``) so that a timeline never built, or lost, is told apart from an empty one.

``MergedAuthor`` is an author whose new articles are not fanned out (more than
``FEED_FANOUT_MAX_FOLLOWERS`` followers when they published): the read merges their newest
articles in. It is sticky (an author who falls back under the threshold stays merged until a
full ``rebuild_timelines``), so a write and a read never disagree about an author.
"""

from django.db import models


class Entry(models.Model):
    pk = models.CompositePrimaryKey("user_id", "article_id")
    user_id = models.BigIntegerField()
    article_id = models.BigIntegerField()

    # The marker row of a built timeline: above every article id, so a window read newest first
    # meets it first.
    BUILT = 2**62

    class Meta:
        db_table = "timelines_entry"

    def __str__(self) -> str:
        return f"{self.user_id}: {self.article_id}"


class MergedAuthor(models.Model):
    user_id = models.BigIntegerField(primary_key=True)
    since = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "timelines_merged_author"

    def __str__(self) -> str:
        return str(self.user_id)
