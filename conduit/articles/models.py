from django.conf import settings
from django.db import models
from django.utils import timezone

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 1_000
BODY_MAX_LENGTH = 100_000
SLUG_MAX_LENGTH = 255
TAG_MAX_LENGTH = 40
TAGS_PER_ARTICLE_MAX = 10


def tag_order(tag: str) -> tuple[str, str]:
    """An article's tags are shown alphabetically, ignoring case (then by code point, so that
    ``Go`` and ``go`` keep one order): RealWorld's clients and test suites expect them sorted."""
    return tag.casefold(), tag


def sorted_tags(tags: list[str]) -> list[str]:
    return sorted(tags, key=tag_order)


class Article(models.Model):
    """A published article.

    ``tag_list`` is a denormalised copy of the article's tags (sorted by ``tag_order`` when
    written since that rule came in; reads sort them again), so reading a page of articles needs
    no join; ``ArticleTag`` rows are the index used to filter by tag.
    ``favorites_count`` is maintained by the favorite services.
    """

    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, allow_unicode=True)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.TextField(max_length=DESCRIPTION_MAX_LENGTH)
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    tag_list = models.JSONField(default=list)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="articles",
        db_index=False,
    )
    favorites_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Serves "articles by author, newest first" (the author's page and the feed).
            models.Index(fields=["author", "-id"], name="article_author_newest_idx"),
        ]

    def __str__(self) -> str:
        return self.slug


class Tag(models.Model):
    name = models.CharField(max_length=TAG_MAX_LENGTH, unique=True)
    articles_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["-articles_count", "name"], name="tag_popular_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ArticleTag(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="article_links")

    class Meta:
        constraints = [
            # (tag_id, article_id) read backwards is "articles with this tag, newest first".
            models.UniqueConstraint(fields=["tag", "article"], name="articletag_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id}:{self.tag_id}"


class Favorite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="favorites",
        db_index=False,
    )
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="favorites")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # (user_id, article_id) read backwards is "articles this user favorited, newest first".
            models.UniqueConstraint(fields=["user", "article"], name="favorite_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} <3 {self.article_id}"


class SiteCounter(models.Model):
    """Global counters (e.g. the number of articles), kept in step by the write services."""

    ARTICLES = "articles"

    name = models.CharField(max_length=50, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
