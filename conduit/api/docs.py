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


class GenericErrorBody(Base):
    body = serializers.ListField(child=serializers.CharField())


class GenericErrorModel(Base):
    # Named like RealWorld's field; it shadows Serializer.errors, harmless for a docs-only class.
    errors = GenericErrorBody(  # type: ignore[assignment]
        help_text="Always has `body`; field-keyed messages (e.g. `title`) may sit beside it."
    )


def errors(*codes: int) -> dict[int, type[Base]]:
    return dict.fromkeys(codes, GenericErrorModel)
