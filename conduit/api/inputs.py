"""Request bodies: their shape and JSON types only.

What a value must *be* (not blank, not too long, unique...) is the domain services' business,
so pages and API enforce the same rules. Here a field is a string or null (never a number
quietly turned into a string), and absent fields stay absent so an update changes only what the
client sent.
"""

from typing import Any

from rest_framework import serializers

from conduit.articles.models import TAGS_PER_ARTICLE_MAX


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "must be a string"}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data


class TagListField(serializers.ListField):
    default_error_messages = {
        "not_a_list": "must be a list of strings",
        "null": "must be a list of strings",
        "max_length": f"has more than {TAGS_PER_ARTICLE_MAX} tags",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("child", StrictCharField(allow_null=False))
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)


class Wrapped(serializers.Serializer[dict[str, Any]]):
    """Base for ``{"<wrapper>": {...}}`` bodies; the wrapper itself is required."""


class NewUser(serializers.Serializer[dict[str, Any]]):
    username = StrictCharField(help_text="Required.")
    email = StrictCharField(help_text="Required.")
    password = StrictCharField(help_text="Required; at least 8 characters.")


class NewUserRequest(Wrapped):
    user = NewUser()


class LoginUser(serializers.Serializer[dict[str, Any]]):
    email = StrictCharField(help_text="Required.")
    password = StrictCharField(help_text="Required.")


class LoginUserRequest(Wrapped):
    user = LoginUser()


class UpdateUser(serializers.Serializer[dict[str, Any]]):
    email = StrictCharField()
    username = StrictCharField()
    password = StrictCharField()
    bio = StrictCharField(help_text="An empty string or null clears it.")
    image = StrictCharField(help_text="An http(s) URL; an empty string or null clears it.")


class UpdateUserRequest(Wrapped):
    user = UpdateUser()


class EraseUser(serializers.Serializer[dict[str, Any]]):
    password = StrictCharField(help_text="Required: your current password.")


class EraseUserRequest(Wrapped):
    user = EraseUser()


class NewArticle(serializers.Serializer[dict[str, Any]]):
    title = StrictCharField(help_text="Required; at most 200 characters.")
    description = StrictCharField(help_text="Required; at most 1,000 characters.")
    body = StrictCharField(help_text="Required; Markdown, at most 100,000 characters.")
    tagList = TagListField(help_text="At most 10 tags of at most 40 characters.")


class NewArticleRequest(Wrapped):
    article = NewArticle()


class UpdateArticle(serializers.Serializer[dict[str, Any]]):
    title = StrictCharField(help_text="A new title also gives the article a new slug.")
    description = StrictCharField()
    body = StrictCharField()
    tagList = TagListField(help_text="Replaces the tags; [] removes them all, omitted keeps them.")


class UpdateArticleRequest(Wrapped):
    article = UpdateArticle()


class NewComment(serializers.Serializer[dict[str, Any]]):
    body = StrictCharField(help_text="Required; at most 10,000 characters.")


class NewCommentRequest(Wrapped):
    comment = NewComment()


def parse(serializer_class: type[Wrapped], data: Any) -> dict[str, Any]:
    """The inner object of a wrapped request body, with only the fields the client sent.
    Raises DRF's ValidationError (a 422) for a body of the wrong shape."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    (inner,) = serializer.validated_data.values()
    return dict(inner)
