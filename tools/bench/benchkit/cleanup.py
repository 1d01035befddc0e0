"""Undoing what the write scenarios wrote, so that a kept database (``BENCH_KEEP_DB=1``) stays as
seeded. Every row goes through the domain's write services, which own the counter rules and the
cache invalidation; the bench only finds its rows and checks the counters it touched."""

from __future__ import annotations

from typing import Any

WRITE_TITLE = "Bench write "  # every article the bench creates has a title starting so (lua)
CHUNK = 1_000  # articles per transaction: a bounded lock set and statement size


def undo_writes(writer: str, fav_actor: str) -> dict[str, Any]:
    """Remove what the bench wrote: ``fav_actor``'s favorites made after the bulk data's date
    (``favorite_remove``) and ``writer``'s "Bench write" articles (``article_delete_many``, in
    chunks), then check the counters they touch."""
    from conduit.articles import services
    from conduit.articles.models import Article, Favorite
    from conduit.demo.bulk.plan import START
    from conduit.users.models import User

    actor = User.objects.get(username=fav_actor)
    favorites = Favorite.objects.filter(user=actor, created_at__gt=START).select_related("article")
    removed = 0
    for favorite in favorites:
        services.favorite_remove(user=actor, article=favorite.article)
        removed += 1

    author = User.objects.get(username=writer)
    ids = list(
        Article.objects.filter(author=author, title__startswith=WRITE_TITLE).values_list(
            "pk", flat=True
        )
    )
    deleted = sum(
        services.article_delete_many(ids=ids[start : start + CHUNK])
        for start in range(0, len(ids), CHUNK)
    )
    author.refresh_from_db()
    actor.refresh_from_db()
    return {
        "favorites_removed": removed,
        "articles_deleted": deleted,
        "counter_drift": counter_drift(author, actor),
    }


def counter_drift(writer: Any, fav_actor: Any) -> list[str]:
    """The counters the write scenarios move that disagree with their rows (manage.py
    check_counters checks every counter of every row)."""
    from conduit.articles.models import Article, ArticleTag, Favorite, SiteCounter, Tag

    site = (
        SiteCounter.objects.filter(name=SiteCounter.ARTICLES)
        .values_list("value", flat=True)
        .first()
    )
    drift = []
    if writer.articles_count != Article.objects.filter(author=writer).count():
        drift.append(f"{writer.username}.articles_count")
    if fav_actor.favorites_count != Favorite.objects.filter(user=fav_actor).count():
        drift.append(f"{fav_actor.username}.favorites_count")
    if site != Article.objects.count():
        drift.append("site articles counter")
    drift += [
        f"tag {tag.name}.articles_count"
        for tag in Tag.objects.filter(name__in=["bench", "django"])
        if tag.articles_count != ArticleTag.objects.filter(tag=tag).count()
    ]
    return drift
