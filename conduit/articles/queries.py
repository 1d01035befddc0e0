"""The articles app's queries, uncached: the selectors (``selectors.py``) serve them through the
cache, and ``check_plans`` explains them. Every list is one query for the page (author, tags,
counters and the viewer's flags included), its filter resolved and its maintained count read by
subqueries: the number of queries never depends on the page size, and nothing runs ``COUNT(*)``
over articles or favorites.
"""

from typing import Any

from django.db import router
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery, Value

from conduit.articles.data import ArticleData, ArticlePage, ListQuery
from conduit.articles.models import Article, ArticleTag, Favorite, SiteCounter, Tag, sorted_tags
from conduit.platform.db.compiled import CompiledValuesQuery
from conduit.platform.db.statements import instance_of
from conduit.platform.exceptions import NotFound
from conduit.platform.validation import storable
from conduit.profiles.models import Follow
from conduit.profiles.selectors import AUTHOR_FIELDS, author_profile, following_expression
from conduit.users.models import User, identity_key

TAGS_LIST_MAX = 1_000
# Combined filters (e.g. tag and author) have no counter; their count is exact up to this many.
COMBINED_COUNT_MAX = 10_000


CARD_FIELDS = (
    "id",
    "slug",
    "title",
    "description",
    "tag_list",
    "created_at",
    "updated_at",
    "favorites_count",
    "favorited",
    "author_id",
    *AUTHOR_FIELDS,
)


def with_viewer_flags(qs: QuerySet[Article], viewer_id: int | None) -> QuerySet[Article]:
    favorited = (
        Exists(Favorite.objects.filter(user_id=viewer_id, article_id=OuterRef("pk")))
        if viewer_id is not None
        else Value(False)
    )
    return qs.annotate(favorited=favorited, following=following_expression(viewer_id, "author_id"))


def to_data(row: dict[str, Any], *, with_body: bool) -> ArticleData:
    data = ArticleData(
        id=row["id"],
        slug=row["slug"],
        title=row["title"],
        description=row["description"],
        # Sorted here too: rows written before tags were sorted on write (and the demo loader's)
        # keep their stored order. Every read of an article, cached or not, passes here.
        tagList=sorted_tags(row["tag_list"] or []),
        createdAt=row["created_at"],
        updatedAt=row["updated_at"],
        favorited=bool(row["favorited"]),
        favoritesCount=row["favorites_count"],
        author=author_profile(row),
        authorId=row["author_id"],
    )
    if with_body:
        data["body"] = row["body"]
    return data


def article_get(*, slug: str, viewer_id: int | None) -> ArticleData:
    if not storable(slug):
        raise NotFound("article")
    rows = _ARTICLE.rows(number=viewer_id, text=slug)
    if not rows:
        raise NotFound("article")
    return to_data(rows[0], with_body=True)


def _article_query(*, number: int | None, text: str | None) -> QuerySet[Any]:
    """One article by slug (``text``), with the flags of the viewer ``number``."""
    return with_viewer_flags(Article.objects.filter(slug=text), number).values(
        *CARD_FIELDS, "body"
    )[:1]


# Compiled once per shape (signed in or not): a cold article read is Django's compilation no more.
_ARTICLE = CompiledValuesQuery(_article_query, json_fields=("tag_list",))


def article_after_write(*, article_id: int, viewer_id: int) -> ArticleData:
    """An article as a write's response shows it, read in the write's transaction."""
    row = (
        with_viewer_flags(Article.objects.filter(pk=article_id), viewer_id)
        .values(*CARD_FIELDS, "body")
        .get()
    )
    return to_data(row, with_body=True)


def article_get_for_write(*, slug: str) -> Article:
    """The article row itself (its id, author and slug), for a write service to act on."""
    if not storable(slug):
        raise NotFound("article")
    rows = _FOR_WRITE.rows(number=None, text=slug)
    if not rows:
        raise NotFound("article")
    return instance_of(Article, rows[0], router.db_for_read(Article))


def _for_write_query(*, number: int | None, text: str | None) -> QuerySet[Any]:
    return Article.objects.filter(slug=text).values("id", "author_id", "slug")[:1]


_FOR_WRITE = CompiledValuesQuery(_for_write_query)


def page_of(
    qs: QuerySet[Article], viewer_id: int | None, *, offset: int = 0, limit: int
) -> list[ArticleData]:
    rows = with_viewer_flags(qs, viewer_id).order_by("-id").values(*CARD_FIELDS)
    return [to_data(row, with_body=False) for row in rows[offset : offset + limit]]


def _ids_newest_first(qs: QuerySet[Any], column: str, offset: int, limit: int) -> QuerySet[Any]:
    return qs.order_by(f"-{column}").values(column)[offset : offset + limit]


def article_list(query: ListQuery) -> ArticlePage:
    """Articles newest first, optionally filtered by tag, author username or favoriting username."""
    filters = query.filters
    if not all(storable(f) for f in filters):
        return ArticlePage([], 0)  # no tag or username contains NUL
    if len(filters) > 1:
        return _article_list_combined(query)
    kind, text = list_filter(query)
    rows = _LIST_PAGE.rows(
        number=query.viewer_id, text=text, kind=kind, offset=query.offset, limit=query.limit
    )
    if rows:
        total = rows[0]["listed_total"]
    else:  # an empty page: ask the counter on its own
        only = _list_counter(kind, text).first()
        total = next(iter(only.values())) if only else 0
    return ArticlePage([to_data(row, with_body=False) for row in rows], total or 0)


def list_filter(query: ListQuery) -> tuple[str, str | None]:
    """The list's kind and its filter text (a tag name or a username's identity key), for a list
    with at most one filter."""
    if query.tag is not None:
        return "tag", query.tag
    if query.author is not None:
        return "author", identity_key(query.author)
    if query.favorited is not None:
        return "favorited", identity_key(query.favorited)
    return "global", None


def article_cards(*, ids: list[int]) -> list[ArticleData]:
    """Articles by id without the viewer's flags (both False), for the card cache."""
    rows = with_viewer_flags(Article.objects.filter(id__in=ids), None).values(*CARD_FIELDS)
    return [to_data(row, with_body=False) for row in rows]


def _viewer_flags_query(
    *, number: int | None, text: str | None, lists: tuple[list[int], list[int]]
) -> QuerySet[Any]:
    article_ids, author_ids = lists
    favorites = Favorite.objects.filter(user_id=number or 0, article_id__any_of=article_ids).values(
        kind=Value(1), ident=F("article_id")
    )
    follows = Follow.objects.filter(follower_id=number or 0, followee_id__any_of=author_ids).values(
        kind=Value(2), ident=F("followee_id")
    )
    return favorites.union(follows, all=True)


# Compiled once (the id lists are array parameters): building this union in the ORM cost more
# CPU than the rest of a warm signed-in list together (docs/performance.md).
_VIEWER_FLAGS = CompiledValuesQuery(_viewer_flags_query)


def viewer_flags(
    *, viewer_id: int, article_ids: list[int], author_ids: list[int]
) -> tuple[set[int], set[int]]:
    """``(favorited article ids, followed author ids)`` among the given ones, in one query."""
    favorited: set[int] = set()
    followed: set[int] = set()
    rows = _VIEWER_FLAGS.rows(number=viewer_id, text=None, lists=(article_ids, author_ids))
    for row in rows:
        (favorited if row["kind"] == 1 else followed).add(row["ident"])
    return favorited, followed


def _list_counter(kind: str, text: str | None) -> QuerySet[Any]:
    """The maintained counter of a list, as a one-column query."""
    if kind == "tag":
        return Tag.objects.filter(name=text).values("articles_count")
    if kind == "author":
        return User.objects.filter(username_key=text).values("articles_count")
    if kind == "favorited":
        return User.objects.filter(username_key=text).values("favorites_count")
    return SiteCounter.objects.filter(name=SiteCounter.ARTICLES).values("value")


def _list_page_query(
    *, number: int | None, text: str | None, kind: str, offset: int, limit: int
) -> QuerySet[Any]:
    """The page of a list in one query: the filter is resolved and its counter read by
    uncorrelated subqueries (evaluated once), so no list needs a second round trip. ``number`` is
    the viewer's id, ``text`` the tag name or the username's identity key."""
    page_offset = offset
    if kind == "tag":
        tag_id = Subquery(Tag.objects.filter(name=text).values("id")[:1])
        ids = _ids_newest_first(
            ArticleTag.objects.filter(tag_id=tag_id), "article_id", offset, limit
        )
        qs, page_offset = Article.objects.filter(id__in=ids), 0
    elif kind == "author":
        user_id = Subquery(User.objects.filter(username_key=text).values("id")[:1])
        qs = Article.objects.filter(author_id=user_id)
    elif kind == "favorited":
        user_id = Subquery(User.objects.filter(username_key=text).values("id")[:1])
        ids = _ids_newest_first(
            Favorite.objects.filter(user_id=user_id), "article_id", offset, limit
        )
        qs, page_offset = Article.objects.filter(id__in=ids), 0
    else:
        qs = Article.objects.all()
    return (
        with_viewer_flags(qs, number)
        .annotate(listed_total=Subquery(_list_counter(kind, text)[:1]))
        .order_by("-id")
        .values(*CARD_FIELDS, "listed_total")[page_offset : page_offset + limit]
    )


# Compiled once per shape (filter kind, signed in or not, offset, limit): platform/db/compiled.py.
_LIST_PAGE = CompiledValuesQuery(_list_page_query, json_fields=("tag_list",))


def _article_list_combined(query: ListQuery) -> ArticlePage:
    """Two or more filters at once. No counter covers an intersection, so the count is taken from
    a bounded scan of matching ids (exact up to ``COMBINED_COUNT_MAX``)."""
    qs = Article.objects.all()
    if query.tag is not None:
        qs = qs.filter(tag_links__tag__name=query.tag)
    if query.author is not None:
        qs = qs.filter(author__username_key=identity_key(query.author))
    if query.favorited is not None:
        favoriting = User.objects.filter(username_key=identity_key(query.favorited))
        qs = qs.filter(favorites__user__in=favoriting)
    count = len(qs.order_by().values_list("id", flat=True)[:COMBINED_COUNT_MAX])
    page = page_of(qs, query.viewer_id, offset=query.offset, limit=query.limit)
    return ArticlePage(page, count)


def tag_list(*, limit: int = TAGS_LIST_MAX) -> list[str]:
    """Tags in use, most used first (at most ``limit``)."""
    return list(
        Tag.objects.filter(articles_count__gt=0)
        .order_by("-articles_count", "name")
        .values_list("name", flat=True)[: min(limit, TAGS_LIST_MAX)]
    )
