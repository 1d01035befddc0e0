"""``manage.py check_counters [--fix]``: exit 1 when a counter disagrees with its rows."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conduit.articles.counters import find_drift, repair


class Command(BaseCommand):
    help = "Recompute every maintained counter from its rows; report drift (exit 1) or --fix it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fix", action="store_true", help="repair drifted counters")
        parser.add_argument("--limit", type=int, default=20, help="drifted rows to print")

    def handle(self, *args: Any, fix: bool, limit: int, **options: Any) -> None:
        drift = find_drift()
        for item in drift[:limit]:
            self.stdout.write(
                f"drift {item.counter} {item.key}: stored {item.stored}, actual {item.actual}"
            )
        if len(drift) > limit:
            self.stdout.write(f"... and {len(drift) - limit} more")
        if not drift:
            self.stdout.write("counters: no drift")
            return
        if fix:
            self.stdout.write(f"repaired {repair()} counters")
            return
        raise CommandError(f"{len(drift)} counters drifted (run with --fix to repair)")
