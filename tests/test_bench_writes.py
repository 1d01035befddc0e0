"""``make bench``'s write side without a load: the ``bare_write`` reference view and its tables,
the write scenarios' fixed actors and hot article and author, and the clean-up that puts a kept
database back as seeded (tools/bench/benchkit/, bench/README.md)."""

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import clear_url_caches, resolve

import config.urls
from conduit.articles.models import Article, Favorite
from conduit.comments.models import Comment
from conduit.demo.bulk.plan import START
from conduit.platform.http import bench as bench_view
from conduit.profiles.models import Follow
from conduit.users.models import User
from conduit.users.services import user_register, user_update
from tests.factories import UserFactory, favorite, follow, make_article, make_comment
from tests.support import assert_counters_consistent, db_state

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools" / "bench"))  # as bench.py finds it
from benchkit import bare_write, cleanup, dataset  # noqa: E402


@pytest.fixture
def bench_urls() -> Iterator[None]:
    """The URL conf as the bench's server loads it (BENCH_ENDPOINTS on); put back afterwards."""
    with override_settings(BENCH_ENDPOINTS=True):
        importlib.reload(config.urls)
        clear_url_caches()
        yield
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture
def bench_tables() -> Iterator[None]:
    bare_write.create()
    yield
    bare_write.drop()


def table_counts() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {bench_view.WRITE_ROWS}")  # noqa: S608
        rows = cursor.fetchone()[0]
        cursor.execute(f"SELECT COALESCE(SUM(n), 0) FROM {bench_view.WRITE_COUNTERS}")  # noqa: S608
        return rows, cursor.fetchone()[0]


# --- the bare_write reference -------------------------------------------------------------------


@pytest.mark.django_db
def test_bare_write_is_routed_only_with_bench_endpoints(bench_urls):
    assert resolve("/bench/bare-write").func is bench_view.bare_write


@pytest.mark.django_db(transaction=True)
def test_bare_write_is_one_insert_and_one_update_in_one_transaction(bench_urls, bench_tables):
    seen: list[tuple[str, bool]] = []

    def record(execute, sql, params, many, context):
        seen.append((sql.split()[0].upper(), connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record), CaptureQueriesContext(connection) as queries:
        response = Client(enforce_csrf_checks=True).post("/bench/bare-write")

    assert response.status_code == 201, response.content
    assert 1 <= response.json()["written"]["counter"] <= bench_view.WRITE_COUNTER_ROWS
    # SQLite's backend sends its BEGIN and COMMIT as statements; PostgreSQL's does not.
    verbs = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert [v for v in verbs if v not in ("BEGIN", "COMMIT")] == ["INSERT", "UPDATE"]
    statements = [s for s in seen if s[0] not in ("BEGIN", "COMMIT")]
    assert statements == [("INSERT", True), ("UPDATE", True)]  # inside the view's atomic block
    assert not connection.in_atomic_block
    assert table_counts() == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_bare_write_without_its_tables_is_a_503_in_the_error_shape(bench_urls):
    bare_write.drop()

    response = Client().post("/bench/bare-write")

    assert response.status_code == 503
    assert set(response.json()) == {"errors"}
    assert "make bench creates them" in response.json()["errors"]["bench"][0]


@pytest.mark.django_db(transaction=True)
def test_bare_write_without_counter_rows_is_a_503_and_writes_nothing(bench_urls, bench_tables):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {bench_view.WRITE_COUNTERS}")  # noqa: S608

    response = Client().post("/bench/bare-write")

    assert response.status_code == 503
    assert "make bench fills it" in response.json()["errors"]["bench"][0]
    assert table_counts() == (0, 0)  # the INSERT was rolled back


@pytest.mark.django_db
def test_bare_write_answers_only_post(bench_urls, bench_tables):
    assert Client().get("/bench/bare-write").status_code == 405


@pytest.mark.django_db
def test_bare_write_tables_are_made_afresh_and_dropped_twice_without_error():
    bare_write.create()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {bench_view.WRITE_COUNTERS} SET n = 5")  # noqa: S608
    bare_write.create()  # an earlier run's tables go first
    assert table_counts() == (0, 0)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {bench_view.WRITE_COUNTERS}")  # noqa: S608
        assert cursor.fetchone()[0] == bench_view.WRITE_COUNTER_ROWS
    bare_write.drop()
    bare_write.drop()
    with connection.cursor() as cursor:
        names = set(connection.introspection.table_names(cursor))
    assert not {bench_view.WRITE_ROWS, bench_view.WRITE_COUNTERS} & names


# --- the actors, the hot article and author ---------------------------------------------------


def small_data() -> dict[str, User | Article]:
    """Five actors, three hot users, four others (in that primary-key order) and three articles:
    a1 favorited by the hot user h1 only, a2 by one other user, a3 by two; o3 followed by h1,
    o4 by the follow actor."""
    names = ["w", "x", "fo", "co", "up", "h1", "h2", "h3", "o1", "o2", "o3", "o4"]
    u = {name: UserFactory(username=name) for name in names}
    a = {"a1": make_article(u["o1"], title="A one", tags=["django"]),
         "a2": make_article(u["o1"], title="A two", tags=["django"]),
         "a3": make_article(u["o2"], title="A three", tags=["django"])}  # fmt: skip
    for user, article in (("h1", "a1"), ("o3", "a2"), ("o3", "a3"), ("o4", "a3")):
        favorite(u[user], a[article])
    for follower, followee in (("o2", "o1"), ("o3", "o1"), ("o3", "o2"), ("o1", "o2"),
                               ("h1", "o3"), ("fo", "o4")):  # fmt: skip
        follow(u[follower], u[followee])
    # As seed_bulk dates them: the clean-up takes everything newer for the bench's.
    Follow.objects.update(created_at=START)
    Favorite.objects.update(created_at=START)
    return {**u, **a}


@pytest.mark.django_db
def test_actors_are_the_first_users_by_id_and_the_hot_users_the_next():
    small_data()

    actors = dataset.pick_actors(hot_users=3)

    assert actors == dataset.Actors("w", "x", "fo", "co", "up", hot_users=["h1", "h2", "h3"])


@pytest.mark.django_db
def test_no_hot_user_has_favorited_the_hot_article_or_follows_the_hot_author():
    data = small_data()

    inputs = dataset.pick_inputs(dataset.pick_actors(hot_users=3), count=50)

    # a1 has the fewest favorites but h1's; among the least followed, o3 is h1's.
    assert (inputs.hot_article, inputs.hot_article_favorites) == (data["a2"].slug, 1)
    assert (inputs.hot_author, inputs.hot_author_followers) == ("o4", 1)
    assert set(inputs.follow_usernames) == set(User.objects.values_list("username", flat=True)) - {
        "fo", "o4"
    }  # fmt: skip


# --- the clean-up -------------------------------------------------------------------------------


def bench_writes(data: dict, actors: dataset.Actors, restore: Path) -> None:
    """What each write scenario leaves behind when its run ends mid-pass."""
    u = {name: User.objects.get(username=name) for name in ("w", "x", "fo", "co", "up")}
    hot = [User.objects.get(username=name) for name in actors.hot_users]
    favorite(u["x"], data["a1"])  # favorite_unfavorite
    make_article(u["w"], title=f"{cleanup.WRITE_TITLE}run1 1", tags=["django"])  # create_article
    follow(u["fo"], data["o1"])  # follow_unfollow
    follow(u["fo"], data["o2"])
    make_comment(u["co"], data["a2"], f"{cleanup.COMMENT_BODY}run1 1: fast enough?")  # comment
    name = "bench-reg-run1-1"
    user_register(username=name, email=f"{name}@register.bench.conduit.local",
                  password=cleanup.REGISTER_PASSWORD)  # fmt: skip
    cleanup.remember_bio("up", restore)  # update_user
    user_update(user=u["up"], bio=f"{cleanup.BIO}run1 7", fields={"bio"})
    for user in hot[:2]:  # hot_favorite, hot_follow
        favorite(user, data["a2"])
        follow(user, data["o4"])


@pytest.mark.django_db
def test_undo_writes_puts_back_every_kind_of_write_through_the_services(tmp_path):
    data = small_data()
    actors = dataset.pick_actors(hot_users=3)
    user_update(user=User.objects.get(username="up"), bio="Seeded bio.", fields={"bio"})
    make_comment(User.objects.get(username="co"), data["a1"], "Not the bench's")
    seeded = db_state()
    restore = tmp_path / "bench-restore.json"
    bench_writes(data, actors, restore)

    undone = cleanup.undo_writes(actors, restore, users=["o4"], articles=[data["a2"].slug])

    assert undone == {
        "favorites_removed": 3, "articles_deleted": 1, "follows_removed": 4,
        "comments_deleted": 1, "accounts_erased": 1, "bio_restored": True, "counter_drift": [],
    }  # fmt: skip
    assert db_state() == seeded
    assert_counters_consistent()
    assert not restore.exists()
    again = cleanup.undo_writes(actors, restore)
    assert not any(v for v in again.values())  # nothing left to undo, nothing drifted


@pytest.mark.django_db
def test_counter_drift_names_each_counter_that_disagrees_and_a_lost_bio(tmp_path):
    data = small_data()
    actors = dataset.pick_actors(hot_users=3)
    hot_author = User.objects.get(username="o4")
    Article.objects.filter(pk=data["a2"].pk).update(favorites_count=7)
    User.objects.filter(username="h1").update(following_count=9)
    User.objects.filter(username="up").update(bio=f"{cleanup.BIO}run0 3")
    cleanup.remember_bio("up", tmp_path / "r.json")  # a bench's bio is not remembered

    drift = cleanup.counter_drift(
        actors, {User.objects.get(username="h1").pk, hot_author.pk}, {data["a2"].pk}
    )

    h1 = User.objects.get(username="h1").pk
    assert drift == [
        f"user {h1}.following_count",
        f"article {data['a2'].pk}.favorites_count",
        "up.bio is still update_user's (the seeded one is lost)",
    ]
    assert not (tmp_path / "r.json").exists()


@pytest.mark.django_db
def test_a_run_cut_short_leaves_the_bio_for_the_next_run_to_restore(tmp_path):
    UserFactory(username="up", bio="Seeded.")
    restore = tmp_path / "bench-restore.json"
    cleanup.remember_bio("up", restore)
    user_update(user=User.objects.get(username="up"), bio=f"{cleanup.BIO}x 1", fields={"bio"})
    cleanup.remember_bio("up", restore)  # the next run's: keeps the seeded one

    assert json.loads(restore.read_text()) == {"username": "up", "bio": "Seeded."}
    assert cleanup._restore_bio(restore) is True
    assert User.objects.get(username="up").bio == "Seeded."


@pytest.mark.django_db
def test_the_comment_clean_up_keeps_the_actors_other_comments():
    author = UserFactory(username="co")
    article = make_article(author, title="Commented")
    kept = make_comment(author, article, "A comment of the seed")
    make_comment(author, article, f"{cleanup.COMMENT_BODY}r 1: fast enough?")

    assert cleanup._delete_comments("co") == 1
    assert list(Comment.objects.values_list("pk", flat=True)) == [kept.pk]
