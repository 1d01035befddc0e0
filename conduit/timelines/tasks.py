"""The timelines' tasks (ADR 0034). Other apps enqueue them by name after their writes commit
(``enqueue_named_on_commit``), so they never import this app. Each takes ids and is idempotent
(``services.py``); a store that is down is a transient error, retried with backoff."""

from collections.abc import Sequence

from celery import shared_task

from conduit.platform.tasks.enqueue import TRANSIENT_ERRORS
from conduit.timelines import services

LIMITS = {"autoretry_for": TRANSIENT_ERRORS, "soft_time_limit": 300, "time_limit": 360}


@shared_task(name="conduit.timelines.article_published", **LIMITS)
def article_published(article_id: int) -> int:
    return services.article_fan_out(article_id=article_id)


@shared_task(name="conduit.timelines.articles_deleted", **LIMITS)
def articles_deleted(article_ids: Sequence[int], author_ids: Sequence[int]) -> None:
    services.articles_unpublish(article_ids=article_ids, author_ids=author_ids)


@shared_task(name="conduit.timelines.follow_added", **LIMITS)
def follow_added(follower_id: int, followee_id: int) -> None:
    services.follow_backfill(follower_id=follower_id, followee_id=followee_id)


@shared_task(name="conduit.timelines.follow_removed", **LIMITS)
def follow_removed(follower_id: int, followee_id: int) -> int:
    return services.timeline_scrub(user_id=follower_id)


@shared_task(name="conduit.timelines.user_erased", **LIMITS)
def user_erased(user_id: int) -> None:
    services.timeline_drop(user_id=user_id)


@shared_task(name="conduit.timelines.timeline_rebuild", **LIMITS)
def timeline_rebuild(user_id: int) -> int:
    return services.timeline_rebuild(user_id=user_id)
