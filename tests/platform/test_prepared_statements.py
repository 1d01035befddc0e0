"""The one-statement writes are prepared on the PostgreSQL server, once per connection
(``DatabaseWrapper.statement_cursor``), and not behind pgbouncer in transaction mode."""

import pytest
from django.db import connection

from conduit.articles.services import article_create
from conduit.platform.db.statements import write_rows
from conduit.users.models import User
from tests.factories import UserFactory

pytestmark = [pytest.mark.pg, pytest.mark.django_db]


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _publishes() -> list[str]:
    return [s for s in _prepared() if "INSERT INTO" in s and "articles_article" in s]


def test_a_publish_is_prepared_once_and_run_again(django_assert_num_queries):
    author = UserFactory()
    article_create(author=author, title="First", description="d", body="b", tags=["x"])
    assert len(_publishes()) == 1
    with django_assert_num_queries(1):  # still logged and counted like any query
        second = article_create(author=author, title="Second", description="d", body="b")
    assert len(_publishes()) == 1  # the same statement, run again
    assert second.slug.startswith("second")
    assert User.objects.get(pk=author.pk).articles_count == 2


def test_behind_pgbouncer_nothing_is_prepared(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    author = UserFactory()
    article_create(author=author, title="First", description="d", body="b")
    assert _publishes() == []


def test_a_write_with_positional_parameters_returns_its_rows():
    user = UserFactory(bio="old")
    rows = write_rows(
        User, 'UPDATE "users_user" SET "bio" = %s WHERE "id" = %s RETURNING "bio"', ["new", user.pk]
    )
    assert rows == [{"bio": "new"}]
