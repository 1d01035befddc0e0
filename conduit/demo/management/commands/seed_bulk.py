"""``manage.py seed_bulk``: load a large, deterministic data set for benchmarks and query plans."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conduit.articles.counters import find_drift
from conduit.articles.models import Article
from conduit.demo.bulk.plan import BULK_PASSWORD, BulkPlan
from conduit.demo.bulk.seed import seed
from conduit.demo.bulk.writer import reset
from conduit.users.models import User


class Command(BaseCommand):
    help = (
        "Load users, skewed follows, articles with Zipf-like tags, favorites and comments "
        "(deterministic with --seed), with every counter consistent. Uses COPY on PostgreSQL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=1_000)
        parser.add_argument("--articles", type=int, default=10_000)
        parser.add_argument("--favorites", type=int, help="default: 5 per article")
        parser.add_argument("--comments", type=int, help="default: 2 per article")
        parser.add_argument("--follows-per-user", type=int, default=10, help="on average")
        parser.add_argument("--tags", type=int, default=300)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--reset", action="store_true", help="empty every Conduit table first (required "
            "when there is data already)"
        )  # fmt: skip
        parser.add_argument("--check", action="store_true", help="run check_counters after")

    def handle(self, *args: Any, **options: Any) -> None:
        plan = BulkPlan(
            users=options["users"],
            articles=options["articles"],
            favorites=options["favorites"]
            if options["favorites"] is not None
            else 5 * options["articles"],
            comments=options["comments"]
            if options["comments"] is not None
            else 2 * options["articles"],
            follows_per_user=options["follows_per_user"],
            tags=options["tags"],
            seed=options["seed"],
        )
        if plan.users < 2 or plan.articles < 1 or plan.tags < 5:
            raise CommandError("need at least 2 users, 1 article and 5 tags")
        if User.objects.exists() or Article.objects.exists():
            if not options["reset"]:
                raise CommandError("the database has data: add --reset to replace all of it")
            reset()
        report = seed(plan, out=self.stdout.write)
        rate = report.total_rows / report.seconds if report.seconds else 0
        for table, count in report.rows.items():
            self.stdout.write(f"  {table:<24} {count:>12,} rows")
        self.stdout.write(
            f"seeded {report.total_rows:,} rows in {report.seconds:.1f} s ({rate:,.0f} rows/s); "
            f"every user's password is {BULK_PASSWORD!r}"
        )
        if options["check"]:
            drift = find_drift()
            if drift:
                raise CommandError(f"{len(drift)} counters drifted after seeding")
            self.stdout.write("check_counters: no drift")
