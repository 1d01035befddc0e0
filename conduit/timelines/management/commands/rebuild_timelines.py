"""``manage.py rebuild_timelines [--user USERNAME ...]``: rebuild home timelines from the
database (ADR 0034). Without ``--user``: first mark merged exactly the authors now over
``FEED_FANOUT_MAX_FOLLOWERS``, then rebuild every user's timeline, in id order (after a Redis
node was lost, or when the threshold changed)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conduit.timelines import services
from conduit.users.models import User

BATCH = 1_000


class Command(BaseCommand):
    help = "Rebuild home timelines from the database (all, or the given users')."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", action="append", default=[], metavar="USERNAME",
                            help="rebuild this user's timeline (repeatable)")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        names: list[str] = options["user"]
        if names:
            found = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
            missing = sorted(set(names) - set(found))
            if missing:
                raise CommandError(f"no such user: {', '.join(missing)}")
            for name in names:
                entries = services.timeline_rebuild(user_id=found[name])
                self.stdout.write(f"{name}: {entries} entries")
            return
        marked, unmarked = services.merged_authors_refresh()
        self.stdout.write(f"merged authors: {marked} marked, {unmarked} unmarked")
        after, users = 0, 0
        while True:
            ids = list(
                User.objects.filter(pk__gt=after)
                .order_by("pk")
                .values_list("pk", flat=True)[:BATCH]
            )
            for user_id in ids:
                services.timeline_rebuild(user_id=user_id)
            users += len(ids)
            if len(ids) < BATCH:
                break
            after = ids[-1]
        self.stdout.write(f"rebuilt {users} timelines")
