"""Background tasks on real workers and real brokers (ADR 0015): what publishing starts arrives
once, a worker killed mid-task loses nothing and repeats nothing, a broker restart loses no
queued task, and a task that keeps failing ends as a dead letter with a log line and a metric."""

from collections import Counter
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from conduit.articles.models import Article
from conduit.notifications.models import ArticleEmail
from conduit.platform.models import DeadLetter
from conduit.platform.tasks import sender
from conduit.users.models import User
from tests.factories import UserFactory, follow, make_article
from tests.services import wait_until
from tests.tasks.conftest import Broker, StallingSink, Worker, metric_value

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.pg,
    pytest.mark.services,
    pytest.mark.timeout(120),
]

StartWorker = Callable[..., Worker]


def _author_with_followers(count: int) -> tuple[User, list[User]]:
    author = UserFactory()
    followers = [UserFactory() for _ in range(count)]
    for user in followers:
        follow(user, author)
    return author, followers


def _assert_each_once(sink: StallingSink, followers: list[User]) -> None:
    assert sink.recipients() == sorted(u.email for u in followers)
    duplicates = [mid for mid, n in Counter(sink.message_ids()).items() if n > 1]
    assert duplicates == []


def test_publishing_emails_followers_through_the_broker_and_a_worker(
    broker: Broker,
    start_worker: StartWorker,
    sink: StallingSink,
    client_for: Callable[[User], APIClient],
) -> None:
    worker = start_worker(broker.url)
    author, followers = _author_with_followers(3)
    response = client_for(author).post(
        "/api/articles",
        {"article": {"title": "Looms", "description": "d", "body": "b"}},
        format="json",
        HTTP_X_REQUEST_ID="publish-42",
    )
    assert response.status_code == 201  # committed: the fan-out task was published
    article = Article.objects.get(slug=response.json()["article"]["slug"])

    sink.wait_for(3, timeout=30)
    _assert_each_once(sink, followers)
    wait_until(
        lambda: ArticleEmail.objects.filter(article=article, sent_at__isnull=False).count() == 3,
        "the delivery records",
        timeout=10,
    )
    # Each task logs after its work (the chunk after its last delivery record and the SMTP
    # session's QUIT): wait for both lines before asserting on them.
    wait_until(
        lambda: (
            bool(worker.events("new article emails sent"))
            and bool(worker.events("new article fan-out"))
        ),
        "the tasks' log lines",
        timeout=10,
    )
    sent = worker.events("new article emails sent")
    assert [(e["sent"], e["task"]) for e in sent] == [
        (3, "conduit.notifications.new_article_emails_send")
    ]
    # The request's id travelled in the message headers, through the fan-out to each chunk.
    assert all(e["task_id"] and e["request_id"] == "publish-42" for e in sent)
    fan_out = worker.events("new article fan-out")
    assert [(e["request_id"], e["chunks"]) for e in fan_out] == [("publish-42", 1)]


def test_a_worker_started_as_deployed_consumes_the_email_queue(
    redis_broker: Broker, start_worker: StartWorker, sink: StallingSink
) -> None:
    start_worker(redis_broker.url, queues=[])  # compose.yaml and Kubernetes give no -Q
    author, followers = _author_with_followers(2)
    make_article(author)
    sink.wait_for(2, timeout=30)
    _assert_each_once(sink, followers)


def test_a_worker_killed_mid_task_loses_nothing_and_sends_nothing_twice(
    broker: Broker, start_worker: StartWorker, sink: StallingSink
) -> None:
    sink.stall_after = 2  # the third email hangs: the chunk task is half done
    # Redis: redelivery in test time. A task that outlives it runs twice (what the production
    # timeout must prevent): the delivery records make the second run send nothing.
    redeliver = {"CELERY_VISIBILITY_TIMEOUT": "3"}
    first = start_worker(broker.url, **redeliver)
    author, followers = _author_with_followers(5)
    article = make_article(author)

    assert sink.stalled.wait(30), "the chunk task never reached the third email"
    assert len(sink.messages) == 2
    first.kill_all()  # SIGKILL, pool process included: no acknowledgement, no clean-up
    sink.release.set()

    # Nothing finished the task, so nothing acknowledged it: the broker gives it to the next
    # worker (RabbitMQ when the connection drops; Redis after the visibility timeout, 3 s here).
    second = start_worker(broker.url, **redeliver)
    sink.wait_for(5, timeout=30)
    wait_until(
        lambda: any(e["sent"] == 3 for e in second.events("new article emails sent")),
        "the redelivered chunk to finish",
        timeout=15,
    )
    _assert_each_once(sink, followers)
    records = ArticleEmail.objects.filter(article=article)
    assert records.count() == 5
    assert not records.filter(sent_at=None).exists()
    # The redelivered chunk sent only the three that were missing (a run after it, if the
    # 3 s timeout gave it back once more on a slow machine, sends none).
    assert sorted(e["sent"] for e in second.events("new article emails sent"))[-1:] == [3]
    assert sum(e["sent"] for e in second.events("new article emails sent")) == 3


def test_tasks_queued_before_a_broker_restart_still_run(
    redis_broker: Broker, start_worker: StartWorker, sink: StallingSink
) -> None:
    # Redis only: the same test on RabbitMQ (durable queues, persistent messages) passes too,
    # but its restart takes ~13 s on this machine.
    broker = redis_broker
    authors = [_author_with_followers(2) for _ in range(3)]
    for author, _ in authors:
        make_article(author)  # three fan-out tasks wait in the queue: no worker yet
    assert sender.flush()  # published by this process's sender thread, after each response
    assert broker.queued("email") == 3
    # SIGTERM, then start again on the same port and data directory: Redis replays its
    # append-only file (without it the queue would be empty now).
    broker.server.restart()
    assert broker.queued("email") == 3

    start_worker(broker.url)
    sink.wait_for(6, timeout=30)
    _assert_each_once(sink, [f for _, followers in authors for f in followers])


def test_a_task_that_keeps_failing_is_dead_lettered_with_a_log_line_and_a_metric(
    redis_broker: Broker, start_worker: StartWorker
) -> None:
    from tests.tasks.probe_tasks import always_unavailable

    worker = start_worker(redis_broker.url)  # CELERY_RETRY_MAX=2, backoff at most 1 s
    always_unavailable.delay(41)

    wait_until(DeadLetter.objects.exists, "the dead letter", timeout=30)
    letter = DeadLetter.objects.get()
    assert letter.task_name == "tests.tasks.always_unavailable"
    assert letter.args == [41]
    assert letter.retries == 2
    assert "ConnectionError" in letter.error
    assert "probe 41" in letter.error

    lines = worker.events("task dead-lettered")
    assert len(lines) == 1
    assert lines[0]["level"] == "error"
    assert lines[0]["task"] == "tests.tasks.always_unavailable"
    assert lines[0]["task_id"] == letter.task_id
    assert lines[0]["retries"] == 2

    name = "tests.tasks.always_unavailable"
    # task_postrun counts the failure after on_failure has written the dead letter: wait for it.
    wait_until(
        lambda: (
            metric_value(worker.metrics(), "conduit_celery_tasks_total", task=name, state="failed")
            == 1.0
        ),
        "the failure's metric",
        timeout=10,
    )
    metrics = worker.metrics()
    assert metric_value(metrics, "conduit_celery_dead_letters_total", task=name) == 1.0
    assert metric_value(metrics, "conduit_celery_tasks_total", task=name, state="retried") == 2.0
    assert metric_value(metrics, "conduit_celery_tasks_total", task=name, state="failed") == 1.0
