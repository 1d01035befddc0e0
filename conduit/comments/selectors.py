"""Reads of comments: one query for a whole thread, the viewer's ``following`` flag included."""

from datetime import datetime
from typing import Any, TypedDict

from conduit.comments.models import Comment
from conduit.profiles.selectors import AUTHOR_FIELDS, Profile, author_profile, following_expression

COMMENTS_PER_ARTICLE_MAX = 500

_FIELDS = (
    "id",
    "body",
    "created_at",
    "updated_at",
    *AUTHOR_FIELDS,
)


class CommentData(TypedDict):
    id: int
    body: str
    createdAt: datetime
    updatedAt: datetime
    author: Profile


def _to_data(row: dict[str, Any]) -> CommentData:
    return CommentData(
        id=row["id"],
        body=row["body"],
        createdAt=row["created_at"],
        updatedAt=row["updated_at"],
        author=author_profile(row),
    )


def comment_list(*, article_id: int, viewer_id: int | None) -> list[CommentData]:
    """The article's comments, newest first (the newest ``COMMENTS_PER_ARTICLE_MAX``)."""
    rows = (
        Comment.objects.filter(article_id=article_id)
        .annotate(following=following_expression(viewer_id, "author_id"))
        .order_by("-id")
        .values(*_FIELDS)[:COMMENTS_PER_ARTICLE_MAX]
    )
    return [_to_data(row) for row in rows]


def comment_as_created(comment: Comment) -> CommentData:
    """A new comment as its author sees it in the response, without reading it back: its row as
    written, its author's profile as that write read it (``services.comment_create``), and no
    ``following`` flag (nobody follows themselves)."""
    author = comment.author
    return CommentData(
        id=comment.pk,
        body=comment.body,
        createdAt=comment.created_at,
        updatedAt=comment.updated_at,
        author=Profile(
            username=author.username, bio=author.bio, image=author.image, following=False
        ),
    )
