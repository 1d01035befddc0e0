"""Writes for articles and tags (favorites: ``favorites.py``).

Every write keeps the counters exact in the same transaction as the rows they count:
``Article.favorites_count``, ``User.articles_count`` and ``User.favorites_count``,
``Tag.articles_count`` and the global ``SiteCounter``. Counters move only when a row was really
inserted or deleted, so retries and races never drift them.
"""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from conduit.articles import invalidation, publishing, validators
from conduit.articles.models import (
    Article,
    ArticleTag,
    Favorite,
    SiteCounter,
    Tag,
)
from conduit.articles.slugs import save_with_unique_slug, slug_base
from conduit.platform.cache import bulk
from conduit.platform.db.statements import one_statement
from conduit.platform.exceptions import Forbidden, NotFound
from conduit.platform.tasks.enqueue import enqueue_named_on_commit
from conduit.platform.validation import Checker, checked
from conduit.users.models import User

# The notifications and timelines apps' tasks, by name (platform/tasks/enqueue.py says why).
NEW_ARTICLE_FAN_OUT = "conduit.notifications.new_article_fan_out"
TIMELINE_FAN_OUT = "conduit.timelines.article_published"
TIMELINE_UNPUBLISH = "conduit.timelines.articles_deleted"


def _bump_site_articles(delta: int) -> None:
    updated = SiteCounter.objects.filter(name=SiteCounter.ARTICLES).update(value=F("value") + delta)
    if not updated:
        # First article ever; the row is also created by a data migration, this is a safety net.
        SiteCounter.objects.get_or_create(name=SiteCounter.ARTICLES, defaults={"value": 0})
        SiteCounter.objects.filter(name=SiteCounter.ARTICLES).update(value=F("value") + delta)


def _locked_tag_ids(names: list[str]) -> list[int]:
    """Lock the tags' rows in name order, the order every write locks them in (a publish's
    upsert, a deletion). Two articles sharing tags then take the locks in the same order and
    queue instead of deadlocking (a plain UPDATE ... IN locks in scan order)."""
    return list(
        Tag.objects.filter(name__in=names)
        .order_by("name")
        .select_for_update()
        .values_list("id", flat=True)
    )


def _link_tags(article: Article, names: list[str]) -> None:
    if not names:
        return
    # New tags are inserted in name order, for the same reason: two transactions inserting the
    # same new tags in different orders would wait on each other's unique-index entries.
    Tag.objects.bulk_create([Tag(name=name) for name in sorted(names)], ignore_conflicts=True)
    tag_ids = _locked_tag_ids(names)
    ArticleTag.objects.bulk_create([ArticleTag(article=article, tag_id=tid) for tid in tag_ids])
    Tag.objects.filter(id__in=tag_ids).update(articles_count=F("articles_count") + 1)


def _unlink_tags(article: Article, names: list[str]) -> None:
    if not names:
        return
    tag_ids = _locked_tag_ids(names)
    ArticleTag.objects.filter(article=article, tag_id__in=tag_ids).delete()
    Tag.objects.filter(id__in=tag_ids).update(articles_count=F("articles_count") - 1)


def article_create(
    *,
    author: User,
    title: str | None,
    description: str | None,
    body: str | None,
    tags: list[str] | None = None,
) -> Article:
    checker = Checker()
    title = validators.check_title(checker, title)
    description = validators.check_description(checker, description)
    body = validators.check_body(checker, body)
    tag_names = validators.check_tags(checker, tags)
    checker.raise_if_any()
    title, description, body = checked(title), checked(description), checked(body)

    if one_statement(Article):  # PostgreSQL: the whole publish in one statement (ADR 0025)
        with bulk.statement():
            invalidation.invalidate_lists()  # before the statement, and after it
            article = publishing.publish(author=author, title=title, description=description,
                                         body=body, tags=tag_names)  # fmt: skip
        enqueue_named_on_commit(TIMELINE_FAN_OUT, article.pk)  # committed: sent now
        enqueue_named_on_commit(NEW_ARTICLE_FAN_OUT, article.pk)
        return article
    with transaction.atomic():
        invalidation.invalidate_lists()  # before the author's and the site's counter rows lock
        now = timezone.now()
        article = Article(
            author=author,
            title=title,
            description=description,
            body=body,
            tag_list=tag_names,
            created_at=now,
            updated_at=now,
        )
        save_with_unique_slug(article, title)
        _link_tags(article, tag_names)
        User.objects.filter(pk=author.pk).update(articles_count=F("articles_count") + 1)
        _bump_site_articles(+1)
        # Followers' timelines and emails: one task each after commit; they fan out.
        enqueue_named_on_commit(TIMELINE_FAN_OUT, article.pk)
        enqueue_named_on_commit(NEW_ARTICLE_FAN_OUT, article.pk)
    return article


def article_update(
    *,
    article: Article,
    editor: User,
    title: str | None = None,
    description: str | None = None,
    body: str | None = None,
    tags: list[str] | None = None,
    fields: set[str],
) -> Article:
    """Change the given ``fields``. A new title gives a new slug (RealWorld's rule: the URL
    follows the title); the old slug then answers 404."""
    if article.author_id != editor.pk:
        raise Forbidden("article", "only the author may edit this article")
    checker = Checker()
    if "title" in fields:
        title = validators.check_title(checker, title)
    if "description" in fields:
        description = validators.check_description(checker, description)
    if "body" in fields:
        body = validators.check_body(checker, body)
    new_tags = validators.check_tags(checker, tags) if "tagList" in fields else None
    checker.raise_if_any()

    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        invalidation.invalidate_article(article_id=article.pk, slugs=[article.slug])
        if description is not None and "description" in fields:
            article.description = description
        if body is not None and "body" in fields:
            article.body = body
        if new_tags is not None and new_tags != article.tag_list:
            old = list(article.tag_list)
            _unlink_tags(article, [t for t in old if t not in new_tags])
            _link_tags(article, [t for t in new_tags if t not in old])
            article.tag_list = new_tags
            invalidation.invalidate_lists()
        # Strictly later than before, at the millisecond precision the API shows, so a client
        # can always tell that an edit happened.
        article.updated_at = max(timezone.now(), article.updated_at + timedelta(milliseconds=1))
        if title is not None and "title" in fields and title != article.title:
            article.title = title
            if slug_base(title) != slug_base(article.slug):
                save_with_unique_slug(article, title)
                invalidation.invalidate_article(article_id=article.pk, slugs=[article.slug])
                return article
        article.save()
    return article


def article_delete(*, article: Article, user: User) -> None:
    if article.author_id != user.pk:
        raise Forbidden("article", "only the author may delete this article")
    if not _delete_articles([article.pk]):
        raise NotFound("article")  # deleted meanwhile (a second click, another tab)


def article_delete_many(*, ids: Iterable[int]) -> int:
    """Delete the articles with these ids that exist, whoever wrote them, and return how many.

    For maintenance (``make bench`` undoing its writes), not for a request: no author is checked.
    It runs the code path of ``article_delete``, so the counters move exactly as if each article
    had been deleted on its own, and its query count does not grow with the number of articles;
    the caller chooses how many go in one transaction.
    """
    return _delete_articles(list(ids))


def _count_per_row(rows: QuerySet[Any], column: str) -> Coalesce:
    """How many of ``rows`` point at the updated row through ``column``: an UPDATE subtracts
    it, so that one statement moves every counter by its own amount."""
    per_row = (
        rows.filter(**{column: OuterRef("pk")})
        .order_by()
        .values(column)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(per_row, output_field=IntegerField()), 0)


def _delete_articles(ids: list[int]) -> int:
    """Delete the articles ``ids`` (those that exist) with their tag links, favorites, comments
    and delivery records, every counter moved by what went; a constant number of queries."""
    with transaction.atomic():
        # Locks in the order of every other write: the articles (by id), their tags (by name),
        # then the users (by id), so that concurrent writes sharing tags or fans queue, not
        # deadlock.
        rows = list(
            Article.objects.filter(pk__in=ids)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", "slug", "author_id")
        )
        if not rows:
            return 0
        found = [pk for pk, _, _ in rows]
        author_ids = sorted({author_id for _, _, author_id in rows})
        links = ArticleTag.objects.filter(article_id__in=found)
        tag_ids = list(
            Tag.objects.filter(pk__in=links.values("tag_id"))
            .order_by("name")
            .select_for_update()
            .values_list("id", flat=True)
        )
        if tag_ids:
            Tag.objects.filter(pk__in=tag_ids).update(
                articles_count=F("articles_count") - _count_per_row(links, "tag_id")
            )
        favorites = Favorite.objects.filter(article_id__in=found)
        fan_ids = favorites.values("user_id")
        list(  # the row locks; the ids are not needed
            User.objects.filter(Q(pk__in=fan_ids) | Q(pk__in=author_ids))
            .order_by("pk")
            .select_for_update(no_key=True)  # their counters: not the key a new row refers to
            .values_list("pk", flat=True)
        )
        User.objects.filter(pk__in=fan_ids).update(
            favorites_count=F("favorites_count") - _count_per_row(favorites, "user_id")
        )
        User.objects.filter(pk__in=author_ids).update(
            articles_count=F("articles_count")
            - _count_per_row(Article.objects.filter(pk__in=found), "author_id")
        )
        _bump_site_articles(-len(rows))
        invalidation.invalidate_articles(slugs_by_id={pk: [slug] for pk, slug, _ in rows})
        # the fans' favorites lists too: every list has this generation
        invalidation.invalidate_lists()
        # The cascade: tag links, favorites, comments, delivery records, then the articles.
        Article.objects.filter(pk__in=found).only("pk").delete()
        enqueue_named_on_commit(TIMELINE_UNPUBLISH, found, author_ids)
    return len(rows)
