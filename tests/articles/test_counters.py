"""check_counters recomputes every maintained counter and finds (and repairs) drift."""

import pytest
from django.core.management import CommandError, call_command

from conduit.articles.counters import find_drift, repair
from conduit.articles.models import Article, SiteCounter, Tag
from conduit.demo.management.commands.seed_demo import Command as SeedDemo
from conduit.users.models import User
from tests.factories import UserFactory, favorite, follow, make_article

pytestmark = pytest.mark.django_db


def test_the_demo_data_has_no_drift(capsys):
    SeedDemo().handle()
    assert find_drift() == []
    call_command("check_counters")
    assert "no drift" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("model", "column"),
    [
        (Article, "favorites_count"),
        (User, "articles_count"),
        (User, "favorites_count"),
        (User, "followers_count"),
        (User, "following_count"),
        (Tag, "articles_count"),
    ],
)
def test_each_counter_is_checked_and_repaired(model, column):
    author, reader = UserFactory(), UserFactory()
    article = make_article(author, tags=["t"])
    favorite(reader, article)
    follow(reader, author)
    assert find_drift() == []

    row = model.objects.order_by("pk").first()
    model.objects.filter(pk=row.pk).update(**{column: 7})
    drift = find_drift()
    assert [(d.counter, d.stored) for d in drift] == [(f"{model.__name__}.{column}", 7)]

    with pytest.raises(CommandError, match="1 counters drifted"):
        call_command("check_counters")
    assert repair() == 1
    assert find_drift() == []


def test_the_global_article_counter_is_checked(capsys):
    make_article(UserFactory())
    SiteCounter.objects.update(value=5)
    assert [(d.counter, d.stored, d.actual) for d in find_drift()] == [("SiteCounter.value", 5, 1)]
    call_command("check_counters", "--fix")
    assert "repaired 1 counters" in capsys.readouterr().out
    assert SiteCounter.objects.get().value == 1
