"""seed_bulk (conduit/demo/bulk/) writes rows column by column (COPY on PostgreSQL): a model field
it leaves out is a NULL the database refuses, as token_version was on the day it was added."""

import pytest
from django.core.management import call_command
from django.db.models import NOT_PROVIDED, Model

from conduit.articles.models import Article, ArticleTag, Favorite, Tag
from conduit.comments.models import Comment
from conduit.demo.bulk import rows
from conduit.profiles.models import Follow
from conduit.users.models import User

TABLES: list[tuple[type[Model], list[str]]] = [
    (User, rows.USER_COLUMNS),
    (Article, rows.ARTICLE_COLUMNS),
    (ArticleTag, rows.ARTICLE_TAG_COLUMNS),
    (Favorite, rows.FAVORITE_COLUMNS),
    (Comment, rows.COMMENT_COLUMNS),
    (Follow, rows.FOLLOW_COLUMNS),
    (Tag, rows.TAG_COLUMNS),
]


@pytest.mark.parametrize(("model", "columns"), TABLES, ids=[m.__name__ for m, _ in TABLES])
def test_every_required_column_is_written(model, columns):
    required = {
        field.column
        for field in model._meta.concrete_fields
        if not field.null and field.db_default is NOT_PROVIDED
    }
    assert required <= set(columns), sorted(required - set(columns))


@pytest.mark.django_db(transaction=True)
def test_a_small_seed_loads_and_its_counters_hold(capsys):
    call_command("seed_bulk", users=20, articles=40, tags=5, check=True)
    assert User.objects.count() == 20
    assert set(User.objects.values_list("token_version", flat=True)) == {0}
