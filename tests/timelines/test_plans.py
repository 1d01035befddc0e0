"""``check_plans`` shows partition pruning on the timelines' table (ADR 0034): every statement
the timeline cases run reads one partition of ``timelines_entry``, and a statement that reads
several is reported. PostgreSQL only: elsewhere the table is not partitioned."""

import pytest

from conduit.demo.management.commands.check_plans import _explain, _timeline_cases
from conduit.timelines.models import Entry
from tests.factories import UserFactory, follow, make_article

pytestmark = [pytest.mark.django_db, pytest.mark.pg]


def test_every_timeline_statement_reads_one_partition():
    reader = UserFactory()
    for i in range(3):
        author = UserFactory()
        make_article(author, title=f"A {i}")
        follow(reader, author)
    for other in range(40):  # rows in many partitions
        Entry.objects.create(user_id=10_000 + other, article_id=Entry.BUILT)
    results = [r for case, run in _timeline_cases(reader.pk) for r in _explain(case, run)]
    on_timelines = [r for r in results if Entry._meta.db_table in r.sql]
    assert len(on_timelines) >= 6  # the reads and the writes of the cases were explained
    assert [(r.case, r.sql, p) for r in on_timelines for p in r.problems if "partition" in p] == []


def test_a_statement_over_every_user_is_reported():
    for user_id in range(40):
        Entry.objects.create(user_id=user_id, article_id=Entry.BUILT)
    results = _explain("all", lambda: list(Entry.objects.filter(article_id=Entry.BUILT)))
    assert any("partitions of timelines_entry read, not one" in p for p in results[0].problems)
