"""The task outbox (ADR 0015): a publish that fails after its transaction committed, because the
broker is down or unreachable, keeps the task in ``OutboxTask``; beat's ``outbox_relay``
publishes it once the broker is back. Against a real Redis broker that the test stops and
starts, a port where nothing listens, and a real worker running beat."""

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from conduit.articles.models import Article
from conduit.notifications.tasks import new_article_fan_out
from conduit.platform.models import OutboxTask
from conduit.platform.tasks import enqueue, sender
from conduit.users.models import User
from tests.factories import UserFactory, follow, make_article
from tests.services import free_port
from tests.tasks.conftest import (
    Broker,
    StallingSink,
    Worker,
    _point_app_at,
    metric_value,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.pg,
    pytest.mark.services,
    pytest.mark.timeout(120),
]

FAN_OUT = "conduit.notifications.new_article_fan_out"
TIMELINES = "conduit.timelines.article_published"  # each publish also fans out to timelines


@pytest.fixture(autouse=True)
def broker_not_marked_down() -> Iterator[None]:
    """Each test starts with this process trying the broker (the bypass is per process)."""
    enqueue._broker_down_until = 0.0
    yield
    enqueue._broker_down_until = 0.0


def _publish(client: APIClient, title: str, request_id: str) -> Article:
    response = client.post(
        "/api/articles",
        {"article": {"title": title, "description": "d", "body": "b"}},
        format="json",
        HTTP_X_REQUEST_ID=request_id,
    )
    assert response.status_code == 201, response.content  # the write stands, broker or not
    assert sender.flush()  # the response did not wait for the publish; the test does
    return Article.objects.get(slug=response.json()["article"]["slug"])


def test_publishes_while_the_broker_is_down_are_kept_and_sent_by_beat_once_it_is_back(
    redis_broker: Broker,
    start_worker: Callable[..., Worker],
    sink: StallingSink,
    client_for: Callable[[User], APIClient],
) -> None:
    author, followers = UserFactory(), [UserFactory() for _ in range(2)]
    for user in followers:
        follow(user, author)
    client = client_for(author)

    redis_broker.server.stop()
    try:
        first = _publish(client, "Looms", "outbox-1")
        second = _publish(client, "Shuttles", "outbox-2")
    finally:
        redis_broker.server.start()

    # The publishes' tasks (the follows' timeline tasks, sent by the sender thread after the
    # setup, may be kept too: they carry no request id).
    rows = OutboxTask.objects.order_by("pk").values("task_name", "args", "headers", "error")
    kept = [row for row in rows if row["headers"]]
    assert [(k["task_name"], k["args"], k["headers"]) for k in kept] == [
        (TIMELINES, [first.pk], {"request_id": "outbox-1"}),
        (FAN_OUT, [first.pk], {"request_id": "outbox-1"}),
        (TIMELINES, [second.pk], {"request_id": "outbox-2"}),
        (FAN_OUT, [second.pk], {"request_id": "outbox-2"}),
    ]
    assert "Error" in kept[0]["error"]  # the broker client's own error, for the operator
    # The next tasks did not wait on the dead broker again: they went straight to the outbox.
    assert {k["error"] for k in kept[1:]} == {"not tried: the broker failed moments ago"}

    worker = start_worker(redis_broker.url, beat=True, CELERY_OUTBOX_RELAY_INTERVAL="1")
    sink.wait_for(4, timeout=60)
    assert sink.recipients() == sorted(u.email for u in followers for _ in range(2))
    assert not OutboxTask.objects.exists()
    # The relayed tasks still carry the request that caused them.
    fan_outs = worker.events("new article fan-out")
    assert sorted(e["request_id"] for e in fan_outs) == ["outbox-1", "outbox-2"]
    metrics = worker.metrics()
    assert metric_value(metrics, "conduit_task_outbox_total", task=FAN_OUT, event="relayed") == 2.0


def test_the_relay_keeps_what_the_broker_still_refuses_and_sends_it_once_it_answers(
    redis_broker: Broker,
) -> None:
    _point_app_at(f"redis://127.0.0.1:{free_port()}/1")  # nothing listens there
    enqueue.publish(new_article_fan_out, (41,), {})
    enqueue.publish(new_article_fan_out, (42,), {})
    assert OutboxTask.objects.count() == 2

    assert enqueue.outbox_relay() == 0  # it tries the broker, whatever publish's bypass says
    rows = list(OutboxTask.objects.order_by("pk"))
    assert [(r.args, r.attempts) for r in rows] == [([41], 2), ([42], 2)]
    assert "Error" in rows[0].error

    _point_app_at(redis_broker.url)
    assert enqueue.outbox_relay() == 2
    assert not OutboxTask.objects.exists()
    assert redis_broker.queued("email") == 2
    assert enqueue.outbox_relay() == 0  # nothing is published twice


def test_an_inline_task_never_goes_to_the_outbox() -> None:
    """The embedded default (no broker): the task runs in the request, as before."""
    author, follower = UserFactory(), UserFactory()
    follow(follower, author)
    make_article(author)
    assert not OutboxTask.objects.exists()


def test_a_response_does_not_wait_for_the_broker(
    redis_broker: Broker, client_for: Callable[[User], APIClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The publish is held until the test lets it go: the response comes back before it (had the
    # request waited for the publish, the publish would have run, after the hold's timeout).
    release, published = threading.Event(), threading.Event()
    real = enqueue.publish

    def held_publish(*args: Any) -> None:
        release.wait(10)
        real(*args)
        published.set()

    monkeypatch.setattr(enqueue, "publish", held_publish)
    response = client_for(UserFactory()).post(
        "/api/articles",
        {"article": {"title": "Patience", "description": "d", "body": "b"}},
        format="json",
    )
    assert response.status_code == 201
    assert not published.is_set()
    assert redis_broker.queued("email") == 0
    release.set()
    assert sender.flush()
    assert published.is_set()
    assert redis_broker.queued("email") == 1
