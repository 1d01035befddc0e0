"""Writes for comments."""

from django.utils import timezone

from conduit.articles.models import Article
from conduit.comments.models import COMMENT_MAX_LENGTH, Comment
from conduit.platform.exceptions import Forbidden, NotFound
from conduit.platform.validation import Checker, checked
from conduit.users.models import User


def comment_create(*, author: User, article: Article, body: str | None) -> Comment:
    checker = Checker()
    body = checker.text("body", body, max_length=COMMENT_MAX_LENGTH)
    checker.raise_if_any()
    body = checked(body)
    now = timezone.now()
    return Comment.objects.create(
        article=article, author=author, body=body, created_at=now, updated_at=now
    )


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
