"""Writes for follows. Counters move only when a row was really inserted or deleted, so a
repeated request, or a race with another one, never drifts them.

On PostgreSQL a follow is one statement in autocommit: the row, both users' counters and the
followee's profile for the response (ADR 0025). Elsewhere (SQLite) it is an ORM transaction.
"""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from conduit.platform.cache import bulk
from conduit.platform.db.statements import one_statement, sql, write_rows
from conduit.platform.exceptions import InvalidInput, NotFound
from conduit.platform.tasks.enqueue import enqueue_named_on_commit
from conduit.profiles import invalidation
from conduit.profiles.models import Follow
from conduit.profiles.selectors import Profile, profile_from_database
from conduit.users.models import User

# The timelines app's tasks, by name (platform/tasks/enqueue.py says why): a follow backfills
# the follower's timeline, an unfollow scrubs it (ADR 0034).
TIMELINE_FOLLOWED = "conduit.timelines.follow_added"
TIMELINE_UNFOLLOWED = "conduit.timelines.follow_removed"

ALREADY = "is already followed"
NOT_ONE = "is not followed"

# The one-statement forms (``_in_one_statement``): ``{name}`` is a table, ``%(name)s`` a
# parameter. The change returns the row it inserted or deleted, and the counters move only then;
# the two user rows are locked in id order first (``locked``), so that A following B while B
# follows A cannot deadlock.
_INSERT = (
    "INSERT INTO {follow} (follower_id, followee_id, created_at) "
    "VALUES (%(follower)s, %(followee)s, %(now)s) "
    "ON CONFLICT (follower_id, followee_id) DO NOTHING RETURNING followee_id"
)
_DELETE = (
    "DELETE FROM {follow} WHERE follower_id = %(follower)s AND followee_id = %(followee)s "
    "RETURNING followee_id"
)
_COUNTED = (
    "WITH changed AS ({change}), "
    "locked AS (SELECT id FROM {user} WHERE id IN (%(follower)s, %(followee)s) "
    "AND EXISTS (SELECT FROM changed) ORDER BY id FOR NO KEY UPDATE) "
    "UPDATE {user} AS u SET following_count = u.following_count "
    "+ CASE WHEN u.id = %(follower)s THEN %(delta)s ELSE 0 END, "
    "followers_count = u.followers_count "
    "+ CASE WHEN u.id = %(followee)s THEN %(delta)s ELSE 0 END "
    "FROM locked WHERE u.id = locked.id RETURNING u.id, u.username, u.bio, u.image"
)
_ADD, _REMOVE = _COUNTED.replace("{change}", _INSERT), _COUNTED.replace("{change}", _DELETE)


def follow_add(*, follower: User, followee: User) -> Profile:
    """Make ``follower`` follow ``followee`` and return the followee's profile as the follower
    now sees it; following twice is an error the user can see."""
    if follower.pk == followee.pk:
        raise InvalidInput.field("profile", "cannot be your own")
    if one_statement(Follow):
        return _in_one_statement(follower, followee, _ADD, +1, ALREADY)
    with transaction.atomic():
        # The follower's `following` flags: before any row is locked (ADR 0016).
        invalidation.invalidate_relations(user_id=follower.pk)
        try:
            with transaction.atomic():
                Follow.objects.create(follower=follower, followee=followee)
        except IntegrityError:
            raise InvalidInput.field("profile", ALREADY) from None
        _move_counters(follower=follower, followee=followee, delta=1)
        enqueue_named_on_commit(TIMELINE_FOLLOWED, follower.pk, followee.pk)
        return profile_from_database(username=followee.username, viewer_id=follower.pk)


def follow_remove(*, follower: User, followee: User) -> Profile:
    """Make ``follower`` stop following ``followee`` (they must be following) and return the
    followee's profile as the follower now sees it."""
    if one_statement(Follow):
        return _in_one_statement(follower, followee, _REMOVE, -1, NOT_ONE)
    with transaction.atomic():
        invalidation.invalidate_relations(user_id=follower.pk)  # before any row is locked
        deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
        if not deleted:
            raise InvalidInput.field("profile", NOT_ONE)
        _move_counters(follower=follower, followee=followee, delta=-1)
        enqueue_named_on_commit(TIMELINE_UNFOLLOWED, follower.pk, followee.pk)
        return profile_from_database(username=followee.username, viewer_id=follower.pk)


def _move_counters(*, follower: User, followee: User, delta: int) -> None:
    # Lock the two user rows in primary-key order, so that A following B while B follows A
    # cannot deadlock.
    updates = sorted([(followee.pk, "followers_count"), (follower.pk, "following_count")])
    for pk, counter in updates:
        User.objects.filter(pk=pk).update(**{counter: F(counter) + delta})


def _in_one_statement(
    follower: User, followee: User, template: str, delta: int, unchanged: str
) -> Profile:
    """``_ADD`` or ``_REMOVE``: the follow and both users' counters as one statement, which
    returns the followee's profile."""
    statement = sql(template, follow=Follow, user=User)
    params = {"follower": follower.pk, "followee": followee.pk, "now": timezone.now(),
              "delta": delta}  # fmt: skip
    with bulk.statement():
        # The follower's `following` flags: before the statement, and after it (ADR 0016).
        invalidation.invalidate_relations(user_id=follower.pk)
        try:
            rows = write_rows(Follow, statement, params)
        except IntegrityError:  # the followee was erased since the view found them
            raise NotFound("profile") from None
    row = next((row for row in rows if row["id"] == followee.pk), None)
    if row is None:
        raise InvalidInput.field("profile", unchanged)
    task = TIMELINE_FOLLOWED if delta > 0 else TIMELINE_UNFOLLOWED
    enqueue_named_on_commit(task, follower.pk, followee.pk)  # committed: sent now
    return Profile(username=row["username"], bio=row["bio"], image=row["image"],
                   following=delta > 0)  # fmt: skip
