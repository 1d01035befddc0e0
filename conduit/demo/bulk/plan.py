"""What a bulk data set is (``BulkPlan``), what loading it did (``BulkReport``), and what other
tools rely on: every bulk user's password, and the date the data starts at."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

BULK_PASSWORD = "bench-password"  # noqa: S105 - the documented password of every bulk user
START = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class BulkPlan:
    users: int
    articles: int
    favorites: int
    comments: int
    follows_per_user: int = 10
    tags: int = 300
    seed: int = 42


@dataclass
class BulkReport:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())
