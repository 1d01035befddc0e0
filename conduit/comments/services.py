"""Writes for comments."""

from django.db import IntegrityError, connections, router
from django.utils import timezone

from conduit.articles.models import Article
from conduit.comments.models import COMMENT_MAX_LENGTH, Comment
from conduit.platform.db.statements import instance_of, sql, write_rows
from conduit.platform.events.publish import publish_on_commit
from conduit.platform.exceptions import Forbidden, NotFound
from conduit.platform.validation import Checker, checked, storable
from conduit.users.models import User

# The comment's row, its article found by slug in the same statement (no article, no row), and
# its author's public profile for the response (the signed-in user as authentication cached
# them holds no bio or image). An INSERT ... SELECT ... RETURNING: PostgreSQL's and SQLite's.
_INSERT = (
    "INSERT INTO {comment} (article_id, author_id, body, created_at, updated_at) "
    "SELECT id, %(author)s, %(body)s, %(now)s, %(now)s FROM {article} WHERE slug = %(slug)s "
    "RETURNING id, article_id, "
    "(SELECT username FROM {user} WHERE id = author_id) AS username, "
    "(SELECT bio FROM {user} WHERE id = author_id) AS bio, "
    "(SELECT image FROM {user} WHERE id = author_id) AS image"
)


def comment_create(*, author: User, slug: str, body: str | None) -> Comment:
    """A comment by ``author`` on the article ``slug``, in one statement that finds the article
    as it inserts: one round trip. The body is checked first, so a channel that answers "not
    found" before "invalid" checks the article on that error."""
    body = _body(body)
    if not storable(slug):
        raise NotFound("article")
    now = timezone.now()
    alias = router.db_for_write(Comment)
    stored_now = connections[alias].ops.adapt_datetimefield_value(now)
    params = {"author": author.pk, "body": body, "now": stored_now, "slug": slug}
    statement = sql(_INSERT, comment=Comment, article=Article, user=User)
    try:
        rows = write_rows(Comment, statement, params)
    except IntegrityError:  # the article was deleted between the statement's read and insert
        raise NotFound("article") from None
    if not rows:
        raise NotFound("article")
    returned = rows[0]
    row = {**returned, "author_id": author.pk, "body": body, "created_at": now, "updated_at": now}
    comment = instance_of(Comment, row, alias)
    # The author as the statement read them: the profile the response shows.
    comment.author = User(
        pk=author.pk, username=returned["username"], bio=returned["bio"], image=returned["image"]
    )
    # Readers with the article open see it without a reload (ADR 0030); best-effort.
    publish_on_commit(
        article_channel(comment.article_id),
        "comment",
        {
            "id": comment.pk,
            "body": body,
            "createdAt": now.isoformat(),
            "author": {"username": returned["username"], "image": returned["image"] or ""},
        },
    )
    return comment


def article_channel(article_id: int) -> str:
    """The events channel of an article's comments (public: anyone may stream it)."""
    return f"article:{article_id}"


def _body(body: str | None) -> str:
    checker = Checker()
    body = checker.text("body", body, max_length=COMMENT_MAX_LENGTH)
    checker.raise_if_any()
    return checked(body)


def comment_delete(*, user: User, article: Article, comment_id: int) -> None:
    """Delete a comment of ``article``; only its author may. A comment id that belongs to
    another article is "not found" here, not "forbidden"."""
    comment = (
        Comment.objects.filter(pk=comment_id, article_id=article.pk).only("id", "author_id").first()
    )
    if comment is None:
        raise NotFound("comment")
    if comment.author_id != user.pk:
        raise Forbidden("comment", "only the author may delete this comment")
    comment.delete()
    publish_on_commit(article_channel(article.pk), "comment-deleted", {"id": comment_id})
