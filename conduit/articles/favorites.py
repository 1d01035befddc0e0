"""Favorites: the row, the two counters that count it, and the article as the fan now sees it.

A favorite moves ``Article.favorites_count`` and ``User.favorites_count`` exactly when its row
is really inserted or deleted, so a repeated request or a race never drifts them (ADR 0005).
On PostgreSQL the row and both counters are one statement in autocommit, which also returns the
article for the response: one round trip, and a viral article's row locked for that statement
and its commit only, however many fans favorite it at once (ADR 0025). Elsewhere (SQLite) the
same write is an ORM transaction, then the article is read back.
"""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from conduit.articles import invalidation, queries
from conduit.articles.data import ArticleData
from conduit.articles.entries import enabled
from conduit.articles.invalidation import SLUG_ID_SECONDS, slug_id_key
from conduit.articles.models import Article, Favorite
from conduit.platform.cache import bulk
from conduit.platform.cache.safe import cache
from conduit.platform.db.statements import one_statement, sql, write_rows
from conduit.platform.exceptions import InvalidInput, NotFound
from conduit.platform.validation import storable
from conduit.profiles import invalidation as profile_invalidation
from conduit.profiles.models import Follow
from conduit.users.models import User

ALREADY = "is already in your favorites"
NOT_ONE = "is not in your favorites"

# The one-statement forms (``_in_one_statement``): ``{name}`` is a table, ``%(name)s`` a
# parameter. The article is found by its slug in the statement; the change returns the row it
# inserted or deleted, and the counters move only then.
_INSERT = (
    "INSERT INTO {favorite} (user_id, article_id, created_at) "
    "SELECT %(user)s, id, %(now)s FROM {article} WHERE slug = %(slug)s "
    "ON CONFLICT (user_id, article_id) DO NOTHING RETURNING article_id"
)
_DELETE = (
    "DELETE FROM {favorite} WHERE user_id = %(user)s "
    "AND article_id = (SELECT id FROM {article} WHERE slug = %(slug)s) "
    "RETURNING article_id"
)
_COUNTED = (
    "WITH changed AS ({change}), "
    "fan AS (UPDATE {user} SET favorites_count = favorites_count + %(delta)s "
    "WHERE id = %(user)s AND EXISTS (SELECT FROM changed)) "
    "UPDATE {article} AS a SET favorites_count = a.favorites_count + %(delta)s "
    "FROM {user} AS au "
    "WHERE a.id = (SELECT article_id FROM changed) AND au.id = a.author_id "
    "RETURNING a.id, a.slug, a.title, a.description, a.tag_list, a.created_at, a.updated_at, "
    "a.favorites_count, a.author_id, a.body, %(favorited)s AS favorited, "
    'au.username AS "author__username", au.bio AS "author__bio", au.image AS "author__image", '
    "EXISTS (SELECT FROM {follow} AS f WHERE f.follower_id = %(user)s "
    "AND f.followee_id = a.author_id) AS following"
)
_ADD, _REMOVE = _COUNTED.replace("{change}", _INSERT), _COUNTED.replace("{change}", _DELETE)


def favorite_first_read(*, slug: str) -> list[str]:
    """The key a favorite of ``slug`` reads first (none when it is not read): a view can fetch
    it with its authentication's read (``cache.reading_ahead``)."""
    if not (one_statement(Favorite) and enabled() and storable(slug)):
        return []
    return [slug_id_key(slug)]


def favorite_add(*, user: User, slug: str) -> ArticleData:
    """Favorite the article ``slug`` for ``user``, and return it as they now see it; favoriting
    it twice is an error the user can see."""
    if one_statement(Favorite):
        return _in_one_statement(user, slug, _ADD, +1, ALREADY)
    article = queries.article_get_for_write(slug=slug)
    with transaction.atomic():
        # Invalidations first, in one round trip (and one more on commit), before any row is
        # locked; the counters last, the article's (the contended one) the very last.
        _favorites_changed(user=user, article_id=article.pk, slug=slug)
        try:
            with transaction.atomic():
                Favorite.objects.create(user=user, article=article)
        except IntegrityError:
            raise InvalidInput.field("article", ALREADY) from None
        _move_counters(user=user, article=article, delta=+1)
        return queries.article_after_write(article_id=article.pk, viewer_id=user.pk)


def favorite_remove(*, user: User, slug: str) -> ArticleData:
    """Remove the article ``slug`` from ``user``'s favorites (it must be one), and return it as
    they now see it."""
    if one_statement(Favorite):
        return _in_one_statement(user, slug, _REMOVE, -1, NOT_ONE)
    article = queries.article_get_for_write(slug=slug)
    with transaction.atomic():
        _favorites_changed(user=user, article_id=article.pk, slug=slug)  # as in favorite_add
        deleted, _ = Favorite.objects.filter(user=user, article=article).delete()
        if not deleted:
            raise InvalidInput.field("article", NOT_ONE)
        _move_counters(user=user, article=article, delta=-1)
        return queries.article_after_write(article_id=article.pk, viewer_id=user.pk)


def _move_counters(*, user: User, article: Article, delta: int) -> None:
    User.objects.filter(pk=user.pk).update(favorites_count=F("favorites_count") + delta)
    Article.objects.filter(pk=article.pk).update(favorites_count=F("favorites_count") + delta)


def _in_one_statement(
    user: User, slug: str, template: str, delta: int, unchanged: str
) -> ArticleData:
    """``_ADD`` or ``_REMOVE``: the favorite and both counters as one statement, which finds the
    article by slug and returns its card and body, its author and the fan's flags. The fan's own
    counter is a side statement of the ``WITH``; the article's, the contended row, is the main
    statement, so that it also returns the article.

    The invalidations before the statement name the article's id: the id this slug named when
    a favorite last looked (``slugid:``, read ahead with authentication), else the article's
    lookup. The statement does not trust it: it finds the article by slug, and an id that
    changed since (the slug's article deleted and the slug taken again) is invalidated after
    the statement and put right."""
    if not storable(slug):
        raise NotFound("article")
    known = cache.get(slug_id_key(slug)) if enabled() else None
    article_id = known if isinstance(known, int) else queries.article_get_for_write(slug=slug).pk
    statement = sql(template, favorite=Favorite, user=User, article=Article, follow=Follow)
    params = {"user": user.pk, "slug": slug, "now": timezone.now(), "delta": delta,
              "favorited": delta > 0}  # fmt: skip
    with bulk.statement():
        with cache.pipelined():  # before the statement (and after it), in one round trip
            _favorites_changed(user=user, article_id=article_id, slug=slug)
            if article_id != known and enabled():
                cache.set(slug_id_key(slug), article_id, SLUG_ID_SECONDS)
        try:
            rows = write_rows(Article, statement, params, json_fields=("tag_list",))
        except IntegrityError:  # the article was deleted since the statement found it
            raise NotFound("article") from None
        if rows and rows[0]["id"] != article_id:  # the slug names another article now
            _favorites_changed(user=user, article_id=rows[0]["id"], slug=slug)
            cache.set(slug_id_key(slug), rows[0]["id"], SLUG_ID_SECONDS)
    if not rows:  # nothing changed: no such article, or the user's error
        queries.article_get_for_write(slug=slug)
        raise InvalidInput.field("article", unchanged)
    return queries.to_data(rows[0], with_body=True)


def _favorites_changed(*, user: User, article_id: int, slug: str) -> None:
    # The article's count is on its card; the user's favorites list and flags changed too.
    with bulk.batch():
        invalidation.invalidate_article(article_id=article_id, slugs=[slug])
        invalidation.invalidate_lists(favorites_of=user.username_key)
        profile_invalidation.invalidate_relations(user_id=user.pk)
