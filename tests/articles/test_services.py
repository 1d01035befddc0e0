"""Article, tag and favorite services: validation, slugs, timestamps and exact counters."""

import contextlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from conduit.articles import selectors as cached
from conduit.articles.counters import find_drift
from conduit.articles.favorites import favorite_add, favorite_remove
from conduit.articles.models import Article, ArticleTag, Favorite, Tag
from conduit.articles.selectors import ListQuery
from conduit.articles.services import (
    article_create,
    article_delete,
    article_delete_many,
    article_update,
)
from conduit.articles.slugs import RESERVED_SLUGS, slug_base
from conduit.comments.models import Comment
from conduit.platform.cache.safe import cache
from conduit.platform.exceptions import Forbidden, InvalidInput, NotFound
from conduit.platform.http.micro_cache import micro_cache
from conduit.platform.timefmt import iso_ms
from conduit.users.models import User
from tests.factories import UserFactory, favorite, make_article, make_comment
from tests.support import assert_counters_consistent, db_state, site_articles, unchanged

pytestmark = pytest.mark.django_db

BLANK = "can't be blank"


@pytest.fixture
def author():
    return UserFactory(username="author")


@pytest.fixture
def reader():
    return UserFactory(username="reader")


def create(author, title="Hello", description="d", body="b", tags=None):
    return article_create(author=author, title=title, description=description, body=body, tags=tags)


def update(article, editor, **changes):
    tags = changes.pop("tags", None)
    fields = set(changes) | ({"tagList"} if tags is not None else set())
    return article_update(article=article, editor=editor, tags=tags, fields=fields, **changes)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def tag_counts() -> dict[str, int]:
    return dict(Tag.objects.values_list("name", "articles_count"))


# --- create ----------------------------------------------------------------------------------


def test_create_stores_the_cleaned_fields(author):
    article = create(author, title="  Hello  ", description=" d ", body="  indented\n\n")
    stored = fresh(article)
    assert stored.title == "Hello"
    assert stored.description == "d"
    # Markdown keeps its leading whitespace (an indented code block), trailing is dropped.
    assert stored.body == "  indented"
    assert stored.slug == "hello"
    assert stored.created_at == stored.updated_at
    assert stored.favorites_count == 0


def test_create_moves_every_counter_exactly_once(author):
    before = site_articles()
    create(author, tags=["a", "b"])
    assert fresh(author).articles_count == 1
    assert site_articles() == before + 1
    assert tag_counts() == {"a": 1, "b": 1}
    create(author, title="Second", tags=["b", "c"])
    assert fresh(author).articles_count == 2
    assert site_articles() == before + 2
    assert tag_counts() == {"a": 1, "b": 2, "c": 1}
    assert_counters_consistent()


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (None, []),
        ([], []),
        (["b", "a", "b", "c", "a"], ["a", "b", "c"]),
        ([" b ", "b", "  ", "", "a"], ["a", "b"]),
        (["django", "Django"], ["Django", "django"]),
        (["zeta", "alpha", "mu"], ["alpha", "mu", "zeta"]),
        (["b", "C", "a"], ["a", "b", "C"]),
        (["t"] * 50, ["t"]),
    ],
)
def test_tags_are_trimmed_deduplicated_and_stored_sorted(author, tags, expected):
    article = create(author, tags=tags)
    assert fresh(article).tag_list == expected
    assert sorted(
        ArticleTag.objects.filter(article=article).values_list("tag__name", flat=True)
    ) == sorted(expected)
    assert tag_counts() == dict.fromkeys(expected, 1)


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"title": None}, {"title": [BLANK]}),
        ({"title": "  "}, {"title": [BLANK]}),
        ({"description": ""}, {"description": [BLANK]}),
        ({"body": " \n\t "}, {"body": [BLANK]}),
        ({"title": "t" * 201}, {"title": ["is too long (maximum is 200 characters)"]}),
        (
            {"description": "d" * 1001},
            {"description": ["is too long (maximum is 1000 characters)"]},
        ),
        ({"body": "b" * 100_001}, {"body": ["is too long (maximum is 100000 characters)"]}),
        ({"title": "a\x00b"}, {"title": ["must not contain NUL characters"]}),
        ({"tags": [f"t{n}" for n in range(11)]}, {"tagList": ["has more than 10 tags"]}),
        ({"tags": ["x" * 41]}, {"tagList": ["has a tag longer than 40 characters"]}),
        ({"tags": ["a,b"]}, {"tagList": ["has a tag with a comma or a NUL character"]}),
        ({"tags": ["a\x00"]}, {"tagList": ["has a tag with a comma or a NUL character"]}),
        (
            {"title": "", "description": None, "body": ""},
            {"title": [BLANK], "description": [BLANK], "body": [BLANK]},
        ),
    ],
)
def test_create_validation_messages(author, changes, errors):
    make_article(author, title="Existing", tags=["keep"])
    with pytest.raises(InvalidInput) as exc, unchanged():
        create(author, **changes)
    assert exc.value.errors == errors


def test_create_accepts_values_at_the_limits(author):
    article = create(
        author,
        title="t" * 200,
        description="d" * 1000,
        body="b" * 100_000,
        tags=[f"{n}" * 40 for n in range(10)],
    )
    assert len(fresh(article).tag_list) == 10


# --- slugs -----------------------------------------------------------------------------------


def test_the_same_title_twice_gets_two_distinct_slugs(author, reader):
    first = create(author, title="Hello")
    second = create(author, title="Hello")
    third = create(reader, title="hello!")
    assert first.slug == "hello"
    assert re.fullmatch(r"hello-[0-9a-f]{6}", second.slug)
    assert re.fullmatch(r"hello-[0-9a-f]{6}", third.slug)
    assert len({first.slug, second.slug, third.slug}) == 3


@pytest.mark.parametrize("title", ["feed", "Feed", "FEED!", "  feed  "])
def test_the_reserved_slug_feed_is_never_used(author, title):
    assert "feed" in RESERVED_SLUGS
    article = create(author, title=title)
    assert article.slug != "feed"
    assert re.fullmatch(r"feed-[0-9a-f]{6}", article.slug)


def test_renaming_to_feed_does_not_take_the_reserved_slug(author):
    article = create(author, title="Anything")
    updated = update(article, author, title="Feed")
    assert updated.slug != "feed"
    assert fresh(article).slug.startswith("feed-")


@pytest.mark.parametrize(
    ("title", "base"),
    [
        ("How to train your dragon", "how-to-train-your-dragon"),
        ("  Hello,   World!  ", "hello-world"),
        ("Привет мир", "привет-мир"),
        ("Café crème", "café-crème"),
        ("🎉🎉🎉", "article"),
        ("!!!", "article"),
        ("x" * 300, "x" * 245),
    ],
)
def test_slug_base(title, base):
    assert slug_base(title) == base


def test_emoji_only_titles_share_the_fallback_slug_uniquely(author):
    slugs = [create(author, title=t).slug for t in ("🎉", "🚀", "🔥")]
    assert slugs[0] == "article"
    assert len(set(slugs)) == 3
    assert all(s.startswith("article-") for s in slugs[1:])


def test_a_new_title_gives_a_new_slug(author):
    article = create(author, title="Old title")
    updated = update(article, author, title="New title")
    assert updated.slug == "new-title"
    assert not Article.objects.filter(slug="old-title").exists()
    assert fresh(article).title == "New title"


def test_a_title_with_the_same_slug_keeps_it(author):
    article = create(author, title="Hello world")
    update(article, author, title="Hello, World!")
    assert fresh(article).slug == "hello-world"
    assert fresh(article).title == "Hello, World!"


def test_a_new_title_whose_slug_is_taken_gets_a_unique_one(author):
    create(author, title="Taken")
    article = create(author, title="Free")
    update(article, author, title="Taken")
    assert re.fullmatch(r"taken-[0-9a-f]{6}", fresh(article).slug)


# --- update ----------------------------------------------------------------------------------


def test_update_changes_only_the_given_fields(author):
    article = create(author, title="T", description="D", body="B", tags=["x"])
    update(article, author, body="New body")
    stored = fresh(article)
    assert (stored.title, stored.description, stored.body) == ("T", "D", "New body")
    assert stored.slug == "t"
    assert stored.tag_list == ["x"]


def test_updated_at_strictly_increases_even_for_quick_updates(author):
    article = create(author)
    created = fresh(article).created_at
    stamps = [fresh(article).updated_at]
    for n in range(5):
        update(article, author, body=f"edit {n}")
        stamps.append(fresh(article).updated_at)
    assert stamps == sorted(set(stamps))  # strictly increasing
    # Still distinct at the millisecond precision the API shows.
    shown = [iso_ms(s) for s in stamps]
    assert len(set(shown)) == len(shown)
    assert fresh(article).created_at == created


def test_update_tags_moves_tag_counters_exactly(author):
    article = create(author, tags=["keep", "drop"])
    other = create(author, title="Other", tags=["drop"])
    update(article, author, tags=["new", "keep"])
    assert fresh(article).tag_list == ["keep", "new"]  # stored sorted
    assert tag_counts() == {"keep": 1, "drop": 1, "new": 1}
    update(article, author, tags=["new", "keep"])  # the same tags in another order
    assert fresh(article).tag_list == ["keep", "new"]
    assert tag_counts() == {"keep": 1, "drop": 1, "new": 1}
    update(article, author, tags=[])
    assert fresh(article).tag_list == []
    assert tag_counts() == {"keep": 0, "drop": 1, "new": 0}
    update(other, author, tags=["keep", "keep", " drop "])
    assert fresh(other).tag_list == ["drop", "keep"]
    assert tag_counts() == {"keep": 1, "drop": 1, "new": 0}
    assert_counters_consistent()


def test_update_without_tags_keeps_them(author):
    article = create(author, tags=["a", "b"])
    update(article, author, title="Renamed", description="New", body="New")
    assert fresh(article).tag_list == ["a", "b"]
    assert tag_counts() == {"a": 1, "b": 1}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"title": ""}, {"title": [BLANK]}),
        ({"title": None}, {"title": [BLANK]}),
        ({"description": "  "}, {"description": [BLANK]}),
        ({"body": None}, {"body": [BLANK]}),
        ({"title": "t" * 201}, {"title": ["is too long (maximum is 200 characters)"]}),
        ({"tags": [f"t{n}" for n in range(11)]}, {"tagList": ["has more than 10 tags"]}),
        ({"body": "ok", "tags": ["x" * 41]}, {"tagList": ["has a tag longer than 40 characters"]}),
    ],
)
def test_update_validation_changes_nothing(author, changes, errors):
    article = create(author, tags=["a"])
    with pytest.raises(InvalidInput) as exc, unchanged():
        update(article, author, **changes)
    assert exc.value.errors == errors


def test_only_the_author_may_update(author, reader):
    article = create(author, tags=["a"])
    with pytest.raises(Forbidden) as exc, unchanged():
        update(article, reader, title="Hijacked", tags=[])
    assert exc.value.what == "article"


# --- delete ----------------------------------------------------------------------------------


def test_delete_cascades_and_moves_every_counter_back(author, reader):
    kept = create(author, title="Kept", tags=["shared"])
    article = create(author, tags=["shared", "own"])
    favorite(reader, article)
    favorite(author, article)
    favorite(reader, kept)
    make_comment(reader, article)
    make_comment(author, article)
    before = site_articles()

    article_delete(article=article, user=author)

    assert not Article.objects.filter(pk=article.pk).exists()
    assert not Comment.objects.filter(article_id=article.pk).exists()
    assert not Favorite.objects.filter(article_id=article.pk).exists()
    assert fresh(author).articles_count == 1
    assert fresh(author).favorites_count == 0
    assert fresh(reader).favorites_count == 1
    assert site_articles() == before - 1
    assert tag_counts() == {"shared": 1, "own": 0}
    assert fresh(kept).favorites_count == 1
    assert_counters_consistent()


def test_only_the_author_may_delete(author, reader):
    article = create(author, tags=["a"])
    favorite(reader, article)
    with pytest.raises(Forbidden) as exc, unchanged():
        article_delete(article=article, user=reader)
    assert exc.value.what == "article"


def test_deleting_an_article_deleted_meanwhile_is_not_found(author):
    article = create(author)
    Article.objects.filter(pk=article.pk).delete()
    with pytest.raises(NotFound), unchanged():
        article_delete(article=article, user=author)


# --- bulk delete (maintenance: make bench undoes its writes with it) --------------------------


class _RolledBack(Exception):
    pass


def doomed_world(author, reader):
    """Articles by two authors sharing tags and fans, with comments; one article is kept."""
    other = UserFactory(username="other")
    kept = create(author, title="Kept", tags=["shared"])
    doomed = [
        create(author, title="One", tags=["shared", "own"]),
        create(other, title="Two", tags=["shared", "theirs"]),
        create(other, title="Three"),
    ]
    for fan in (reader, other):
        favorite(fan, doomed[0])
        favorite(fan, doomed[1])
    favorite(reader, kept)
    favorite(author, doomed[2])
    make_comment(reader, doomed[0])
    make_comment(author, doomed[1])
    return other, kept, doomed


def test_delete_many_moves_every_counter_back(author, reader):
    other, kept, doomed = doomed_world(author, reader)
    ids = [a.pk for a in doomed]
    before = site_articles()

    assert article_delete_many(ids=[*ids, max(ids) + 1000]) == 3  # an unknown id is skipped

    assert not Article.objects.filter(pk__in=ids).exists()
    for dependent in (ArticleTag, Favorite, Comment):
        assert not dependent.objects.filter(article_id__in=ids).exists(), dependent
    assert (fresh(author).articles_count, fresh(author).favorites_count) == (1, 0)
    assert (fresh(other).articles_count, fresh(other).favorites_count) == (0, 0)
    assert fresh(reader).favorites_count == 1
    assert fresh(kept).favorites_count == 1
    assert site_articles() == before - 3
    assert tag_counts() == {"shared": 1, "own": 0, "theirs": 0}
    assert find_drift() == []  # manage.py check_counters' check
    assert_counters_consistent()


def state_rolled_back(write: Callable[[], object]) -> dict[str, Any]:
    """The database as ``write()`` leaves it; then rolled back."""
    state: dict[str, Any] = {}
    with contextlib.suppress(_RolledBack), transaction.atomic():
        write()
        state = db_state()
        raise _RolledBack
    return state


def test_delete_many_leaves_exactly_what_one_delete_at_a_time_leaves(author, reader):
    _, _, doomed = doomed_world(author, reader)
    one_at_a_time = state_rolled_back(
        lambda: [article_delete(article=a, user=a.author) for a in doomed]
    )
    assert one_at_a_time["articles"] != db_state()["articles"]

    article_delete_many(ids=[a.pk for a in doomed])

    assert db_state() == one_at_a_time


@pytest.mark.parametrize("n", [1, 12])
def test_delete_many_runs_the_same_queries_for_one_article_or_many(n, django_assert_num_queries):
    fans = [UserFactory(username=f"fan{i}") for i in range(3)]
    ids = []
    for i in range(n):
        article = create(UserFactory(username=f"writer{i}"), title=f"T{i}", tags=["all", f"t{i}"])
        for fan in fans:
            favorite(fan, article)
        make_comment(fans[0], article)
        ids.append(article.pk)
    # SAVEPOINT; the articles (FOR UPDATE); their tags (FOR UPDATE), decremented in one UPDATE;
    # the authors and fans (FOR UPDATE), the fans decremented, the authors, the site counter;
    # the cascade (the articles' ids, DELETE tag links, favorites, comments, delivery records,
    # articles); RELEASE.
    with django_assert_num_queries(15):
        assert article_delete_many(ids=ids) == n
    assert_counters_consistent()


def test_delete_many_of_nothing_changes_nothing(author, django_assert_num_queries):
    unknown = create(author, tags=["a"]).pk + 1
    with unchanged(), django_assert_num_queries(3):  # SAVEPOINT, the articles, RELEASE
        assert article_delete_many(ids=[unknown]) == 0


@pytest.fixture
def empty_cache():
    cache.clear()
    micro_cache.clear()
    yield
    cache.clear()
    micro_cache.clear()


def test_delete_many_takes_the_articles_out_of_every_cached_read(
    empty_cache, author, reader, django_capture_on_commit_callbacks, django_assert_num_queries
):
    kept = create(author, title="Kept", tags=["shared"])
    doomed = [create(author, title=f"Doomed {i}", tags=["shared"]) for i in range(2)]
    favorite(reader, doomed[0])
    favorite(reader, kept)
    filters = [{}, {"tag": "shared"}, {"author": "author"}, {"favorited": "reader"}]

    def lists() -> list[tuple[list[str], int]]:
        pages = [
            cached.article_list(ListQuery(viewer_id=None, limit=20, offset=0, **f)) for f in filters
        ]
        return [([a["slug"] for a in page.articles], page.count) for page in pages]

    cache.clear()  # the setup's writes left tombstones
    warm = lists()
    for article in doomed:
        cached.article_get(slug=article.slug, viewer_id=None)
    with django_assert_num_queries(0):  # served from the cache from now on
        assert lists() == warm
        assert cached.article_get(slug=doomed[0].slug, viewer_id=None)["slug"] == "doomed-0"

    with django_capture_on_commit_callbacks(execute=True):
        article_delete_many(ids=[a.pk for a in doomed])

    assert lists() == [(["kept"], 1)] * 4
    for article in doomed:
        with pytest.raises(NotFound):
            cached.article_get(slug=article.slug, viewer_id=None)


# --- favorites -------------------------------------------------------------------------------


def test_favorite_moves_both_counters_once(author, reader):
    article = create(author)
    favorite_add(user=reader, slug=article.slug)
    assert fresh(article).favorites_count == 1
    assert fresh(reader).favorites_count == 1
    favorite_add(user=author, slug=article.slug)
    assert fresh(article).favorites_count == 2
    assert_counters_consistent()


def test_favoriting_twice_is_refused_and_counts_once(author, reader):
    article = create(author)
    favorite_add(user=reader, slug=article.slug)
    with pytest.raises(InvalidInput) as exc, unchanged():
        favorite_add(user=reader, slug=article.slug)
    assert exc.value.errors == {"article": ["is already in your favorites"]}
    assert fresh(article).favorites_count == 1
    assert fresh(reader).favorites_count == 1


def test_unfavorite_moves_both_counters_back_once(author, reader):
    article = create(author)
    favorite_add(user=reader, slug=article.slug)
    favorite_remove(user=reader, slug=article.slug)
    assert fresh(article).favorites_count == 0
    assert fresh(reader).favorites_count == 0
    with pytest.raises(InvalidInput) as exc, unchanged():
        favorite_remove(user=reader, slug=article.slug)
    assert exc.value.errors == {"article": ["is not in your favorites"]}
    assert fresh(article).favorites_count == 0
    assert_counters_consistent()


def test_counters_stay_exact_through_a_busy_history(author, reader):
    third = UserFactory(username="third")
    articles = [create(author, title=f"A{n}", tags=["t", f"t{n}"]) for n in range(3)]
    for user in (reader, third):
        for article in articles:
            favorite_add(user=user, slug=article.slug)
    favorite_remove(user=third, slug=articles[0].slug)
    update(articles[1], author, tags=["t1", "u"])
    article_delete(article=articles[2], user=author)
    create(reader, title="Reader's", tags=["u"])
    assert_counters_consistent()
    assert User.objects.get(pk=author.pk).articles_count == 2
    assert tag_counts() == {"t": 1, "t0": 1, "t1": 1, "t2": 0, "u": 2}
