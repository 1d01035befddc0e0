"""Response shapes for the OpenAPI schema only (the views build plain dicts, see presenters).

Names and fields follow RealWorld's ``openapi.yml``; a test compares the two.
"""

from typing import Any

from rest_framework import serializers

Base = serializers.Serializer[dict[str, Any]]

_IMAGE = "An absolute URL (a site path is shown on `SITE_URL`), or null."


class User(Base):
    email = serializers.CharField()
    token = serializers.CharField()
    username = serializers.CharField()
    bio = serializers.CharField(allow_null=True)
    image = serializers.CharField(allow_null=True, help_text=_IMAGE)


class UserResponse(Base):
    user = User()


class Profile(Base):
    username = serializers.CharField()
    bio = serializers.CharField(allow_null=True)
    image = serializers.CharField(allow_null=True, help_text=_IMAGE)
    following = serializers.BooleanField()


class ProfileResponse(Base):
    profile = Profile()


class ArticlePreview(Base):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    tagList = serializers.ListField(
        child=serializers.CharField(), help_text="Sorted alphabetically, ignoring case."
    )
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    favorited = serializers.BooleanField()
    favoritesCount = serializers.IntegerField()
    author = Profile()


class Article(ArticlePreview):
    body = serializers.CharField()


class SingleArticleResponse(Base):
    article = Article()


class MultipleArticlesResponse(Base):
    articles = ArticlePreview(many=True)
    articlesCount = serializers.IntegerField()


class Comment(Base):
    id = serializers.IntegerField()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    body = serializers.CharField()
    author = Profile()


class SingleCommentResponse(Base):
    comment = Comment()


class MultipleCommentsResponse(Base):
    comments = Comment(many=True)


class TagsResponse(Base):
    tags = serializers.ListField(child=serializers.CharField())


class GenericErrorModel(Base):
    # Named like RealWorld's field; it shadows Serializer.errors, harmless for a docs-only class.
    # Unlike RealWorld's openapi.yml, `errors` has no required `body` list (ADR 0006).
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField(), min_length=1),
        help_text=(
            "Messages by the field or thing they are about, and nothing else: a client shows "
            'each as "<key> <message>" (`{"title": ["can\'t be blank"]}` reads "title can\'t be '
            "blank\"). `body` is only ever an article's or comment's own `body` field. "
            "Examples: `email`, `username` (409: `has already been taken`), `credentials` "
            "(401: `invalid`), `token` (401: `is missing`, `is invalid`, `has expired`), "
            "`article`, `comment`, `profile` (403: `forbidden`; 404: `not found`), `request` "
            "(`is not valid JSON`)."
        ),
    )


def errors(*codes: int) -> dict[int, type[Base]]:
    return dict.fromkeys(codes, GenericErrorModel)
