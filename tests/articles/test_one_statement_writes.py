"""The one-statement writes (ADR 0025) answer what the ORM reads answer, and move the same rows.

A favorite, a follow and a publish are hand-written SQL on PostgreSQL, beside the ORM path SQLite
takes. What each returns for its response is compared here with the ORM's read of the same row
after the write, field by field, so the SQL cannot drift from the models or the read queries; on
SQLite the same tests run the ORM path, which reads back with those very queries.
"""

import pytest
from django.db import connection

from conduit.articles import queries, selectors
from conduit.articles.data import ListQuery
from conduit.articles.entries import enabled
from conduit.articles.favorites import favorite_add, favorite_remove
from conduit.articles.invalidation import slug_id_key
from conduit.articles.models import Article, ArticleTag, Tag
from conduit.articles.services import article_create, article_delete
from conduit.platform.cache.safe import cache
from conduit.profiles.selectors import profile_from_database
from conduit.profiles.services import follow_add, follow_remove
from tests.factories import UserFactory, follow, make_article
from tests.support import assert_counters_consistent, site_articles

pytestmark = pytest.mark.django_db


def test_a_favorite_returns_the_article_as_the_fan_now_reads_it():
    author, fan = UserFactory(bio="Writes", image="https://example.com/a.png"), UserFactory()
    follow(fan, author)
    article = make_article(author, title="Counted", tags=["b", "a"])
    shown = favorite_add(user=fan, slug=article.slug)
    assert shown == queries.article_after_write(article_id=article.pk, viewer_id=fan.pk)
    assert (shown["favorited"], shown["favoritesCount"], shown["author"]["following"]) == (
        True, 1, True,
    )  # fmt: skip
    shown = favorite_remove(user=fan, slug=article.slug)
    assert shown == queries.article_after_write(article_id=article.pk, viewer_id=fan.pk)
    assert (shown["favorited"], shown["favoritesCount"]) == (False, 0)
    assert_counters_consistent()


def test_a_follow_returns_the_profile_as_the_follower_now_reads_it():
    followee = UserFactory(username="ada", bio="Counts", image="https://example.com/ada.png")
    follower = UserFactory()
    shown = follow_add(follower=follower, followee=followee)
    assert shown == profile_from_database(username="ada", viewer_id=follower.pk)
    assert shown["following"] is True
    shown = follow_remove(follower=follower, followee=followee)
    assert shown == profile_from_database(username="ada", viewer_id=follower.pk)
    assert shown["following"] is False
    followee.refresh_from_db()
    follower.refresh_from_db()
    assert (followee.followers_count, follower.following_count) == (0, 0)
    assert_counters_consistent()


def test_a_publish_returns_the_article_as_its_author_reads_it():
    author = UserFactory(bio="Prolific", image="https://example.com/p.png")
    Tag.objects.create(name="known", articles_count=0)
    before = site_articles()
    article = article_create(author=author, title="Fresh", description="d", body="b",
                             tags=["new", "known"])  # fmt: skip
    shown = selectors.article_as_published(article)
    assert shown == queries.article_after_write(article_id=article.pk, viewer_id=author.pk)
    stored = Article.objects.get(pk=article.pk)
    assert (article.slug, article.tag_list, article.created_at) == (
        stored.slug, stored.tag_list, stored.created_at,
    )  # fmt: skip
    assert sorted(ArticleTag.objects.filter(article=article).values_list("tag__name", flat=True)) \
        == ["known", "new"]  # fmt: skip
    assert dict(Tag.objects.values_list("name", "articles_count")) == {"known": 1, "new": 1}
    assert site_articles() == before + 1
    author.refresh_from_db()
    assert author.articles_count == 1
    assert_counters_consistent()


def test_a_taken_slug_costs_one_more_try_and_nothing_else():
    author = UserFactory()
    first = make_article(author, title="Same", tags=["t"])
    second = make_article(author, title="Same", tags=["t"])
    assert first.slug == "same"
    assert second.slug.startswith("same-")
    assert len(second.slug) == len("same-") + 6
    assert Tag.objects.get(name="t").articles_count == 2
    assert_counters_consistent()


@pytest.mark.pg
def test_on_postgresql_each_is_one_statement(django_assert_num_queries):
    assert connection.vendor == "postgresql"
    author, fan = UserFactory(), UserFactory()
    with django_assert_num_queries(1):
        article = article_create(author=author, title="One", description="d", body="b",
                                 tags=["x", "y"])  # fmt: skip
    # The first favorite of a slug looks up the article's id for its invalidations before the
    # statement; later ones find it in the cache (``slugid:``).
    with django_assert_num_queries(2):
        favorite_add(user=fan, slug=article.slug)
    for write in (
        lambda: favorite_remove(user=fan, slug=article.slug),
        lambda: favorite_add(user=fan, slug=article.slug),
        lambda: follow_add(follower=fan, followee=author),
        lambda: follow_remove(follower=fan, followee=author),
    ):
        with django_assert_num_queries(1):
            write()


def test_the_article_a_write_acts_on_is_the_one_its_slug_names():
    # Built from the compiled query's row: each value in its own field, the rest deferred.
    author = UserFactory()
    article = make_article(author, title="Aimed")
    found = queries.article_get_for_write(slug=article.slug)
    assert (found.pk, found.slug, found.author_id) == (article.pk, "aimed", author.pk)
    assert found.get_deferred_fields() >= {"title", "body", "tag_list"}


def test_a_slug_taken_again_is_favorited_as_its_new_article():
    """The id a favorite finds cached for a slug (``slugid:``) only names what it invalidates
    first: the statement finds the article by slug, and a slug whose article was deleted and
    taken again is favorited as the new one, its card invalidated and the id put right."""
    author, fan = UserFactory(), UserFactory()
    old = make_article(author, title="Again")
    favorite_add(user=fan, slug=old.slug)  # the slug's id is cached
    article_delete(article=old, user=author)
    new = make_article(author, title="Again")
    assert new.slug == old.slug
    page = ListQuery(viewer_id=None, limit=10, offset=0)
    assert [a["favoritesCount"] for a in selectors.article_list(page).articles] == [0]  # cached
    assert selectors.article_get(slug=new.slug, viewer_id=None)["favoritesCount"] == 0
    shown = favorite_add(user=fan, slug=new.slug)
    assert (shown["id"], shown["favoritesCount"], shown["favorited"]) == (new.pk, 1, True)
    assert [a["favoritesCount"] for a in selectors.article_list(page).articles] == [1]
    assert selectors.article_get(slug=new.slug, viewer_id=None)["favoritesCount"] == 1
    if connection.vendor == "postgresql" and enabled():
        assert cache.get(slug_id_key(new.slug)) == new.pk
    assert_counters_consistent()
