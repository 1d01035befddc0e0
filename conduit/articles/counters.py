"""Recompute every maintained counter from the rows it counts, and report (or repair) drift.

The write services keep the counters exact (ADR 0005); this is the independent check that they did,
run nightly and by the tests. Each counter is checked with one set-based query: the stored value
next to a correlated ``COUNT`` of its rows, returning only the rows that disagree.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, IntegerField, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from conduit.articles.models import Article, ArticleTag, Favorite, SiteCounter, Tag
from conduit.profiles.models import Follow
from conduit.users.models import User


@dataclass(frozen=True)
class Drift:
    counter: str  # e.g. "Article.favorites_count"
    key: str  # the row, e.g. "article 42"
    stored: int
    actual: int


def _count_of(model: type[Model], column: str) -> Coalesce:
    rows = (
        model._default_manager.filter(**{column: OuterRef("pk")})
        .order_by()
        .values(column)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


# (model, counter column, counted model, its foreign key to the model)
_CHECKS: list[tuple[type[Model], str, type[Model], str]] = [
    (Article, "favorites_count", Favorite, "article"),
    (User, "articles_count", Article, "author"),
    (User, "favorites_count", Favorite, "user"),
    (User, "followers_count", Follow, "followee"),
    (User, "following_count", Follow, "follower"),
    (Tag, "articles_count", ArticleTag, "tag"),
]


def _disagreeing(model: type[Model], counter: str, counted: type[Model], fk: str) -> QuerySet:
    return (
        model._default_manager.annotate(actual=_count_of(counted, fk))
        .filter(~Q(**{counter: F("actual")}))
        .values("pk", counter, "actual")
    )


def find_drift() -> list[Drift]:
    drift: list[Drift] = []
    for model, counter, counted, fk in _CHECKS:
        label = f"{model.__name__}.{counter}"
        drift.extend(
            Drift(label, f"{model.__name__.lower()} {row['pk']}", row[counter], row["actual"])
            for row in _disagreeing(model, counter, counted, fk)
        )
    stored = (
        SiteCounter.objects.filter(name=SiteCounter.ARTICLES)
        .values_list("value", flat=True)
        .first()
    )
    actual = Article.objects.count()  # the one full count, in a nightly job, not a request
    if stored != actual:
        drift.append(Drift("SiteCounter.value", SiteCounter.ARTICLES, stored or 0, actual))
    return drift


def repair() -> int:
    """Set every drifted counter to its recomputed value; returns how many rows changed."""
    changed = 0
    with transaction.atomic():
        for model, counter, counted, fk in _CHECKS:
            for row in _disagreeing(model, counter, counted, fk):
                changed += model._default_manager.filter(pk=row["pk"]).update(
                    **{counter: row["actual"]}
                )
        actual = Article.objects.count()
        changed += (
            SiteCounter.objects.exclude(value=actual)
            .filter(name=SiteCounter.ARTICLES)
            .update(value=actual)
        )
        if not SiteCounter.objects.filter(name=SiteCounter.ARTICLES).exists():
            SiteCounter.objects.create(name=SiteCounter.ARTICLES, value=actual)
            changed += 1
    return changed
