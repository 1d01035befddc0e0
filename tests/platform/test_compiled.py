"""CompiledValuesQuery gives exactly what the ORM gives, compiling each shape once."""

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.expressions import RawSQL

from conduit.articles import queries
from conduit.platform.db.compiled import CompiledValuesQuery
from conduit.users.models import User, identity_key
from tests.factories import UserFactory, favorite, follow, make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    for i in range(5):
        article = make_article(alice, title=f"A{i}", tags=["x", f"t{i}"])
        if i % 2:
            favorite(bob, article)
    follow(bob, alice)
    return alice, bob


@pytest.mark.parametrize(
    ("kind", "text"),
    [("global", None), ("tag", "x"), ("author", "alice"), ("favorited", "bob"), ("tag", "none")],
)
@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize(("offset", "limit"), [(0, 20), (1, 2)])
def test_rows_are_the_orms_rows(data, kind, text, signed_in, offset, limit):
    viewer = data[1].pk if signed_in else None
    key = identity_key(text) if kind in ("author", "favorited") and text else text
    shape = {"kind": kind, "offset": offset, "limit": limit}
    compiled = queries._LIST_PAGE.rows(number=viewer, text=key, **shape)
    orm = list(queries._list_page_query(number=viewer, text=key, **shape))
    assert compiled == orm
    # a second call runs the kept SQL with the same result
    assert queries._LIST_PAGE.rows(number=viewer, text=key, **shape) == orm


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("slug", ["a1", "a4", "missing"])
def test_one_articles_rows_are_the_orms_rows(data, slug, signed_in):
    viewer = data[1].pk if signed_in else None
    orm = list(queries._article_query(number=viewer, text=slug))
    assert queries._ARTICLE.rows(number=viewer, text=slug) == orm
    assert queries._ARTICLE.rows(number=viewer, text=slug) == orm
    assert len(orm) == (slug != "missing")


@pytest.mark.pg
def test_each_shape_is_built_once(data):
    built = []

    def build(*, number, text, kind):
        built.append(kind)
        return User.objects.filter(username_key=text).annotate(n=Value(number)).values("id", "n")

    query = CompiledValuesQuery(build)
    for name in ("alice", "bob", "alice"):
        rows = query.rows(number=7, text=name, kind="one")
        assert [r["id"] for r in rows] == [User.objects.get(username=name).pk]
        assert rows[0]["n"] == 7
    assert built == ["one"]


@pytest.mark.pg
def test_a_value_inlined_into_the_sql_is_refused(data):
    def build(*, number, text):
        inlined = RawSQL(f"SELECT '{text}'", ())  # noqa: S611 - the bug this guards against
        return User.objects.annotate(t=inlined).values("id")

    with pytest.raises(ValueError, match="did not compile to a query parameter"):
        CompiledValuesQuery(build).rows(number=None, text="alice")


@pytest.mark.pg
def test_the_cache_is_bounded(data):
    query = CompiledValuesQuery(
        lambda *, number, text, n: User.objects.annotate(k=F("pk") + n).values("k"), maxsize=3
    )
    for n in range(10):
        query.rows(number=None, text=None, n=n)
    assert len(query._cache) == 3


def test_other_databases_run_the_queryset(data, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    calls = []

    def build(*, number, text):
        calls.append((number, text))
        return User.objects.filter(username_key=text).values("username")

    assert CompiledValuesQuery(build).rows(number=None, text="alice") == [{"username": "alice"}]
    assert calls == [(None, "alice")]


@pytest.mark.parametrize("articles", [0, 1, 3, 5])
def test_viewer_flags_are_the_orms_for_any_number_of_ids(data, articles):
    alice, bob = data
    ids = list(alice.articles.order_by("pk").values_list("pk", flat=True))[:articles]
    favorited, followed = queries.viewer_flags(
        viewer_id=bob.pk, article_ids=ids, author_ids=[alice.pk, bob.pk]
    )
    assert favorited == set(
        bob.favorites.filter(article_id__in=ids).values_list("article_id", flat=True)
    )
    assert followed == {alice.pk}
    assert queries.viewer_flags(viewer_id=alice.pk, article_ids=ids, author_ids=[bob.pk]) == (
        set(),
        set(),
    )


@pytest.mark.pg
def test_id_lists_are_array_parameters_compiled_once(data):
    alice, _ = data
    built = []

    def build(*, number, text, lists):
        built.append(len(lists[0]))
        return User.objects.filter(pk__any_of=lists[0]).values("username")

    query = CompiledValuesQuery(build)
    for ids in ([alice.pk], [alice.pk, -1, -2], []):
        assert query.rows(number=None, text=None, lists=(ids,)) == (
            [{"username": "alice"}] if ids else []
        )
    assert built == [1]  # one shape, whatever the length of the list
