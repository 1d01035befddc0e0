"""Slugs: how an article's title becomes its unique URL part (ADR 0006)."""

import secrets
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from conduit.articles.models import SLUG_MAX_LENGTH, Article
from conduit.platform.exceptions import InvalidInput

_SLUG_BASE_MAX = SLUG_MAX_LENGTH - 10  # room for "-" and a random suffix
_SLUG_ATTEMPTS = 5


def slug_base(title: str) -> str:
    """The readable part of a slug: the title slugified (any script kept), or "article" when a
    title has nothing sluggable in it (e.g. only emoji)."""
    return slugify(title, allow_unicode=True)[:_SLUG_BASE_MAX].strip("-") or "article"


# Slugs that would collide with a fixed route such as /api/articles/feed.
RESERVED_SLUGS = frozenset({"feed"})


def candidate_slugs(title: str) -> Iterable[str]:
    """The title's slug (unless reserved), then the same with random suffixes."""
    base = slug_base(title)
    if base not in RESERVED_SLUGS:
        yield base
    for _ in range(_SLUG_ATTEMPTS):
        yield f"{base}-{secrets.token_hex(3)}"


def save_with_unique_slug(article: Article, title: str) -> None:
    """Save ``article`` under the title's slug, or the slug plus a random suffix if it is taken.

    The unique index decides (not a prior SELECT), so two concurrent "Hello" articles get two
    distinct slugs instead of one of them failing.
    """
    for slug in candidate_slugs(title):
        if slug == article.slug:
            article.save()
            return
        article.slug = slug
        try:
            with transaction.atomic():
                article.save()
        except IntegrityError:
            if not Article.objects.filter(slug=slug).exclude(pk=article.pk).exists():
                raise
            continue
        return
    raise InvalidInput.field("title", "could not be turned into a unique slug; try another title")
