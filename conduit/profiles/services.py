"""Writes for follows. Counters move only when a row was really inserted or deleted, so a
repeated request, or a race with another one, never drifts them."""

from django.db import IntegrityError, transaction
from django.db.models import F

from conduit.platform.exceptions import InvalidInput
from conduit.profiles import invalidation
from conduit.profiles.models import Follow
from conduit.users.models import User


def follow_add(*, follower: User, followee: User) -> None:
    """Make ``follower`` follow ``followee``; following twice is an error the user can see."""
    if follower.pk == followee.pk:
        raise InvalidInput.field("profile", "cannot be your own")
    with transaction.atomic():
        # The follower's `following` flags: before any row is locked (ADR 0016).
        invalidation.invalidate_relations(user_id=follower.pk)
        try:
            with transaction.atomic():
                Follow.objects.create(follower=follower, followee=followee)
        except IntegrityError:
            raise InvalidInput.field("profile", "is already followed") from None
        _move_counters(follower=follower, followee=followee, delta=1)


def follow_remove(*, follower: User, followee: User) -> None:
    """Make ``follower`` stop following ``followee``; they must be following."""
    with transaction.atomic():
        invalidation.invalidate_relations(user_id=follower.pk)  # before any row is locked
        deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
        if not deleted:
            raise InvalidInput.field("profile", "is not followed")
        _move_counters(follower=follower, followee=followee, delta=-1)


def _move_counters(*, follower: User, followee: User, delta: int) -> None:
    # Lock the two user rows in primary-key order, so that A following B while B follows A
    # cannot deadlock.
    updates = sorted([(followee.pk, "followers_count"), (follower.pk, "following_count")])
    for pk, counter in updates:
        User.objects.filter(pk=pk).update(**{counter: F(counter) + delta})
