"""Timelines in the database: ``timelines_entry`` (hash-partitioned by user on PostgreSQL).

Every statement names its users, so on PostgreSQL it is pruned to their partitions; a read or a
one-user write touches one partition (``check_plans`` shows it).

Trimming a timeline reads its ``size``-th newest entry; doing that on every fan-out push would
read ``size`` index entries per follower per article, so a push trims only when the article's id
is a multiple of ``TRIM_EVERY``: a timeline holds about ``size + TRIM_EVERY`` rows at most on
average, and the read never looks past ``size``. A backfill or a build trims at once.
"""

from collections.abc import Sequence

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery

from conduit.timelines.models import Entry

TRIM_EVERY = 64


class DatabaseStore:
    def __init__(self, *, size: int) -> None:
        self.size = size

    def _built(self, user_ids: Sequence[int]) -> list[int]:
        return list(
            Entry.objects.filter(user_id__in=user_ids, article_id=Entry.BUILT).values_list(
                "user_id", flat=True
            )
        )

    def push(self, article_id: int, user_ids: Sequence[int]) -> None:
        built = self._built(user_ids)
        if not built:
            return
        Entry.objects.bulk_create(
            [Entry(user_id=user_id, article_id=article_id) for user_id in built],
            ignore_conflicts=True,
        )
        if article_id % TRIM_EVERY == 0:
            self._trim(built)

    def add(self, user_id: int, article_ids: Sequence[int]) -> bool:
        if not article_ids or not self._built([user_id]):
            return False
        Entry.objects.bulk_create(
            [Entry(user_id=user_id, article_id=article_id) for article_id in article_ids],
            ignore_conflicts=True,
        )
        self._trim([user_id])
        return True

    def remove(self, article_ids: Sequence[int], user_ids: Sequence[int]) -> None:
        if article_ids and user_ids:
            Entry.objects.filter(user_id__in=user_ids, article_id__in=article_ids).delete()

    def replace(self, user_id: int, article_ids: Sequence[int]) -> None:
        newest = sorted(set(article_ids), reverse=True)[: self.size]
        with transaction.atomic():
            Entry.objects.filter(user_id=user_id).delete()
            Entry.objects.bulk_create(
                [Entry(user_id=user_id, article_id=a) for a in [Entry.BUILT, *newest]]
            )

    def window(self, user_id: int, count: int) -> list[int] | None:
        ids = list(
            Entry.objects.filter(user_id=user_id)
            .order_by("-article_id")
            .values_list("article_id", flat=True)[: count + 1]
        )
        return self.unmarked(ids)

    @staticmethod
    def unmarked(ids: list[int]) -> list[int] | None:
        """A timeline's rows newest first (its marker first) as ``window`` answers them."""
        if not ids or ids[0] != Entry.BUILT:
            return None
        return ids[1:]

    def drop(self, user_id: int) -> None:
        Entry.objects.filter(user_id=user_id).delete()

    def _trim(self, user_ids: Sequence[int]) -> None:
        """Keep the marker and the ``size`` newest entries of each of these timelines."""
        past_the_end = (
            Entry.objects.filter(user_id=OuterRef("user_id"))
            .order_by("-article_id")
            .values("article_id")[self.size + 1 : self.size + 2]
        )
        cutoffs = [
            (user_id, cutoff)
            for user_id, cutoff in Entry.objects.filter(
                user_id__in=user_ids, article_id=Entry.BUILT
            )
            .annotate(cutoff=Subquery(past_the_end))
            .values_list("user_id", "cutoff")
            if cutoff is not None
        ]
        if not cutoffs:
            return
        old = Q()
        for user_id, cutoff in cutoffs:
            old |= Q(user_id=user_id, article_id__lte=cutoff)
        Entry.objects.filter(old).delete()
