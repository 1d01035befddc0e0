"""Reads from a real streaming replica (tests/pg_replica.py): read-your-writes, lag fencing, a
replica that is down, /readyz and the gauges, through the API's real request path."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from conduit.articles.models import Article
from conduit.platform.db import replicas
from conduit.platform.db.router import use_primary
from conduit.users.models import User
from tests.factories import UserFactory
from tests.pg_replica import ALIAS, PgReplica
from tests.services import wait_until

pytestmark = [
    pytest.mark.pg,
    pytest.mark.services,
    # The replica follows the primary's test database: data is committed, not rolled back.
    pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, ALIAS]),
    pytest.mark.usefixtures("replica_registered"),
    pytest.mark.timeout(120),
]


@pytest.fixture(autouse=True)
def _no_article_cache(settings: SettingsWrapper) -> None:
    # These tests are about where reads go: the article cache would answer some of them itself.
    settings.CACHE_ARTICLES = False
    settings.CACHE_ANONYMOUS_SECONDS = 0
    # Long enough that a slow machine never outlives a writer's mark within one test.
    settings.DATABASE_REPLICA_PIN_SECONDS = 300


def token_client(user: User, *, issued_ago: timedelta) -> APIClient:
    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    payload = {"sub": str(user.pk), "iat": now - issued_ago, "exp": now + hour, "iss": "conduit"}
    token = jwt.encode(payload, django_settings.SECRET_KEY, algorithm="HS256")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def old_token_client(user: User) -> APIClient:
    """A client whose token was issued an hour ago: only a write of its own pins it."""
    return token_client(user, issued_ago=timedelta(hours=1))


def caught_up_and_paused(replica: PgReplica) -> None:
    """Pause replay once the replica has everything and a check has seen it so: its lag then
    counts from that check, the moment it stopped being current."""
    usable_again(replica)
    replica.pause()


def usable_again(replica: PgReplica) -> None:
    replica.wait_caught_up()
    wait_until(lambda: replicas.refresh(replicas.state_of(ALIAS)).usable, "usable", 60)


def create_article(client: APIClient, title: str) -> str:
    body = {"article": {"title": title, "description": "d", "body": "b", "tagList": []}}
    response = client.post("/api/articles", body, format="json")
    assert response.status_code == 201, response.content
    return str(response.json()["article"]["slug"])


def listed(client: APIClient) -> list[str]:
    response = client.get("/api/articles")
    assert response.status_code == 200
    return [article["slug"] for article in response.json()["articles"]]


def gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"alias": ALIAS})


def test_a_writer_reads_its_article_at_once_others_once_the_lagging_replica_is_fenced(
    replica_alias: PgReplica, settings: SettingsWrapper
) -> None:
    author, reader = UserFactory(), UserFactory()
    caught_up_and_paused(replica_alias)
    writer, other = old_token_client(author), old_token_client(reader)

    slug = create_article(writer, "Written while the replica is paused")

    # The writer's very next GET and its next list come from the primary.
    assert writer.get(f"/api/articles/{slug}").status_code == 200
    assert slug in listed(writer)
    # Another client reads the paused replica (its lag is within 300 s): not there yet.
    assert other.get(f"/api/articles/{slug}").status_code == 404
    assert slug not in listed(other)
    assert replicas.state_of(ALIAS).usable
    assert gauge("conduit_db_replica_usable") == 1

    # Once the replay lag exceeds the threshold the replica is fenced and the primary answers.
    settings.DATABASE_REPLICA_MAX_LAG = 0.5
    wait_until(lambda: other.get(f"/api/articles/{slug}").status_code == 200, "fenced", 60)
    assert slug in listed(other)
    state = replicas.state_of(ALIAS)
    assert not state.usable
    assert "replay lag" in state.reason
    assert gauge("conduit_db_replica_usable") == 0
    assert (gauge("conduit_db_replica_lag_seconds") or 0) > 0.5

    # Replay resumed: the replica catches up, is usable again and has the article.
    replica_alias.resume()
    usable_again(replica_alias)
    assert gauge("conduit_db_replica_usable") == 1
    with CaptureQueriesContext(connections[ALIAS]) as on_replica:
        assert other.get(f"/api/articles/{slug}").status_code == 200
    assert len(on_replica) > 0


def test_reads_go_to_the_replica_writes_and_transactions_to_the_primary(
    replica_alias: PgReplica,
) -> None:
    from django.db import transaction

    from conduit.platform.db.router import pinned

    user = UserFactory()
    usable_again(replica_alias)  # caught up, and a check has seen it so (not only replayed)
    token = pinned.set(False)  # as at the start of a request
    try:
        assert Article.objects.all().db == ALIAS
        assert User.objects.filter(pk=user.pk).db == ALIAS
        with transaction.atomic():
            assert Article.objects.all().db == DEFAULT_DB_ALIAS
        with use_primary():
            assert Article.objects.all().db == DEFAULT_DB_ALIAS
        assert Article.objects.all().db == ALIAS
        User.objects.filter(pk=user.pk).update(bio="written")  # a write pins what follows
        assert Article.objects.all().db == DEFAULT_DB_ALIAS
    finally:
        pinned.reset(token)


def test_a_replica_that_is_down_gets_no_reads_and_readyz_stays_ready(
    replica_alias: PgReplica,
) -> None:
    author = UserFactory()
    replica_alias.wait_caught_up()
    client, anonymous = old_token_client(author), Client()

    replica_alias.stop()
    slug = create_article(client, "Written while the replica is down")
    assert anonymous.get(f"/api/articles/{slug}").status_code == 200  # the primary answers
    state = replicas.state_of(ALIAS)
    assert not state.usable
    assert state.reason.startswith("unreachable")
    assert gauge("conduit_db_replica_usable") == 0
    assert gauge("conduit_db_replica_lag_seconds") == -1

    response = anonymous.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["replicas"] == "failing"  # why: in the log, not the public answer

    replica_alias.start()
    usable_again(replica_alias)
    assert anonymous.get("/readyz").json()["checks"]["replicas"] == "ok"
    with CaptureQueriesContext(connections[ALIAS]) as on_replica:
        assert anonymous.get(f"/api/articles/{slug}").status_code == 200
    assert len(on_replica) > 0


def test_reads_in_a_transaction_run_on_the_primary(replica_alias: PgReplica) -> None:
    from django.db import transaction

    from conduit.platform.db.router import pinned

    user = UserFactory()
    caught_up_and_paused(replica_alias)
    User.objects.filter(pk=user.pk).update(bio="only on the primary")
    token = pinned.set(False)  # as at the start of a request that has not written
    try:
        assert User.objects.get(pk=user.pk).bio == user.bio  # outside a transaction: the replica
        with transaction.atomic():
            assert User.objects.get(pk=user.pk).bio == "only on the primary"
    finally:
        pinned.reset(token)


def test_a_newly_issued_token_reads_from_the_primary_for_the_window(
    replica_alias: PgReplica, settings: SettingsWrapper
) -> None:
    author, reader = UserFactory(), UserFactory()
    caught_up_and_paused(replica_alias)
    slug = create_article(old_token_client(author), "Seen by fresh tokens only")

    # A client that just signed in (token issued now) may not exist on the replica yet.
    fresh = token_client(reader, issued_ago=timedelta(seconds=1))
    assert fresh.get(f"/api/articles/{slug}").status_code == 200
    # Once its token is older than the window it reads the (paused) replica like anyone.
    settings.DATABASE_REPLICA_PIN_SECONDS = 1
    wait_until(lambda: fresh.get(f"/api/articles/{slug}").status_code == 404, "window over", 30)
    assert slug not in listed(fresh)


def test_a_writer_is_pinned_for_the_window_then_reads_the_replica_again(
    replica_alias: PgReplica, settings: SettingsWrapper
) -> None:
    settings.DATABASE_REPLICA_PIN_SECONDS = 2
    author = UserFactory()
    caught_up_and_paused(replica_alias)
    writer = old_token_client(author)

    slug = create_article(writer, "Pinned for two seconds")
    assert writer.get(f"/api/articles/{slug}").status_code == 200
    # The mark expires with the window: the paused replica answers again, without the article.
    wait_until(lambda: writer.get(f"/api/articles/{slug}").status_code == 404, "unpinned", 30)


def test_a_signed_in_page_user_reads_its_writes_then_others_do_not(
    replica_alias: PgReplica,
) -> None:
    author, reader = UserFactory(), UserFactory()
    caught_up_and_paused(replica_alias)
    writer, other = Client(), Client()
    writer.force_login(author)  # sessions live on the primary
    other.force_login(reader)

    response = writer.post(
        "/editor", {"title": "Written from the editor", "description": "d", "body": "b"}
    )
    assert response.status_code == 302, response.content
    slug = response["Location"].rstrip("/").rsplit("/", 1)[-1]

    assert writer.get(f"/article/{slug}").status_code == 200  # the session is pinned
    assert other.get(f"/article/{slug}").status_code == 404  # the paused replica answers
    replica_alias.resume()
    usable_again(replica_alias)
    assert other.get(f"/article/{slug}").status_code == 200
