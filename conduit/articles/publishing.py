"""A publish on PostgreSQL as one statement (ADR 0025): the article, its tags upserted with their
counters, the tag links, the author's and the site's counters, and the author's profile for the
response, in one round trip and in autocommit. The rows everybody's publish touches (the site
counter, a popular tag, a prolific author) are locked for that statement and its commit only.

A taken slug makes the ``INSERT`` do nothing and the whole statement with it; the next candidate
slug (``slugs.candidate_slugs``: a random suffix) is tried, so a retry costs a round trip only
when the title's slug is taken. ``services.article_create`` validates and calls this; SQLite
takes the ORM path there.
"""

import json
from typing import Any

from django.db import router
from django.utils import timezone

from conduit.articles.models import Article, ArticleTag, SiteCounter, Tag
from conduit.articles.slugs import candidate_slugs
from conduit.platform.db.statements import instance_of, sql, write_rows
from conduit.platform.exceptions import InvalidInput
from conduit.users.models import User

# ``{name}`` is a table, ``%(name)s`` a parameter. Every part after ``article`` runs only when
# the article was inserted. Tags are upserted in name order (the order every write locks them
# in, services._locked_tag_ids), and ``author`` waits for them (its ``tags`` subquery), so a
# publish locks tags, then the author, then the site counter, as a deletion does.
_PUBLISH = (
    "WITH article AS ("
    "INSERT INTO {article} (slug, title, description, body, tag_list, author_id, "
    "favorites_count, created_at, updated_at) "
    "VALUES (%(slug)s, %(title)s, %(description)s, %(body)s, %(tag_list)s::jsonb, %(author)s, "
    "0, %(now)s, %(now)s) ON CONFLICT (slug) DO NOTHING "
    "RETURNING id, slug, title, description, body, tag_list, author_id, favorites_count, "
    "created_at, updated_at), "
    "tags AS (INSERT INTO {tag} (name, articles_count) "
    "SELECT name, 1 FROM unnest(%(tags)s::varchar[]) AS name "
    "WHERE EXISTS (SELECT FROM article) ORDER BY name "
    "ON CONFLICT (name) DO UPDATE SET articles_count = {tag}.articles_count + 1 RETURNING id), "
    "links AS (INSERT INTO {article_tag} (article_id, tag_id) "
    "SELECT article.id, tags.id FROM article, tags), "
    "author AS (UPDATE {user} SET articles_count = articles_count + 1 "
    "WHERE id = %(author)s AND EXISTS (SELECT FROM article) "
    "AND (SELECT count(*) FROM tags) >= 0 RETURNING username, bio, image), "
    "site AS (INSERT INTO {site} (name, value) SELECT %(site)s, 1 "
    "WHERE EXISTS (SELECT FROM author) "
    "ON CONFLICT (name) DO UPDATE SET value = {site}.value + 1) "
    "SELECT article.*, author.username, author.bio, author.image FROM article, author"
)


def publish(*, author: User, title: str, description: str, body: str, tags: list[str]) -> Article:
    """Insert the article under the first free candidate slug; returns it, its ``author`` the
    author as the statement read them (username, bio, image)."""
    statement = sql(_PUBLISH, article=Article, tag=Tag, article_tag=ArticleTag, user=User,
                    site=SiteCounter)  # fmt: skip
    now = timezone.now()
    params = {"title": title, "description": description, "body": body, "now": now,
              "tag_list": json.dumps(tags), "tags": tags, "author": author.pk,
              "site": SiteCounter.ARTICLES}  # fmt: skip
    for slug in candidate_slugs(title):
        rows = write_rows(Article, statement, {**params, "slug": slug}, json_fields=("tag_list",))
        if rows:
            return _article_of(rows[0])
    raise InvalidInput.field("title", "could not be turned into a unique slug; try another title")


def _article_of(row: dict[str, Any]) -> Article:
    profile = {name: row.pop(name) for name in ("username", "bio", "image")}
    article = instance_of(Article, row, router.db_for_write(Article))
    article.author = User(pk=row["author_id"], **profile)
    return article
