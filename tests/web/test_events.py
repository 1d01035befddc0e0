"""The live-update streams (ADR 0030) through a real ASGI server in this process, as make run
serves them: new comments reach anonymous readers, a reconnect resumes after Last-Event-ID, a
feed stream carries only its own user's events, and the WSGI side refuses to hold a stream."""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client

from conduit.platform.events import publish
from conduit.platform.events.ids import now_id
from conduit.users.models import User
from tests.events import SseStream
from tests.factories import UserFactory, follow, make_article, make_comment
from tests.services import RedisServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_broker")]


@pytest.fixture
def streams(events_server: int) -> Iterator[list[SseStream]]:
    opened: list[SseStream] = []
    yield opened
    for stream in opened:
        stream.close()


def open_stream(
    port: int, opened: list[SseStream], path: str, headers: dict[str, str] | None = None
) -> SseStream:
    stream = SseStream(port, path, headers)
    opened.append(stream)
    return stream


def session_cookie(user: User) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


def test_a_new_comment_reaches_an_anonymous_reader(
    events_server: int, streams: list[SseStream]
) -> None:
    author, commenter = UserFactory(), UserFactory(username="bob")
    article = make_article(author)
    stream = open_stream(events_server, streams, f"/events/article/{article.slug}?after={now_id()}")
    assert stream.status == 200
    assert stream.response.getheader("Content-Type") == "text/event-stream"
    assert stream.response.getheader("X-Accel-Buffering") == "no"

    comment = make_comment(commenter, article, body="Hello\n<b>there</b>")

    (event,) = stream.next_events(1)
    assert event.kind == "comment"
    assert event.data["id"] == comment.pk
    assert event.data["body"] == "Hello\n<b>there</b>"  # as written: the page sets it as text
    assert event.data["author"] == {"username": "bob", "image": ""}


def test_a_reconnect_resumes_after_its_last_event_id(
    events_server: int, streams: list[SseStream]
) -> None:
    author = UserFactory()
    article = make_article(author)
    path = f"/events/article/{article.slug}?after={now_id()}"
    first = open_stream(events_server, streams, path)
    make_comment(author, article, body="one")
    (seen,) = first.next_events(1)
    first.close()  # the connection drops; two comments are posted meanwhile
    make_comment(author, article, body="two")
    make_comment(author, article, body="three")

    again = open_stream(events_server, streams, path, {"Last-Event-ID": seen.id})
    missed = again.next_events(2)
    assert [e.data["body"] for e in missed] == ["two", "three"]
    make_comment(author, article, body="four")
    (live,) = again.next_events(1)
    assert live.data["body"] == "four"
    assert again.nothing_within(0.3)  # nothing twice


def test_the_first_connect_gets_what_was_posted_since_the_page_rendered(
    events_server: int, streams: list[SseStream]
) -> None:
    author = UserFactory()
    article = make_article(author)
    rendered = now_id()
    make_comment(author, article, body="between render and connect")
    stream = open_stream(events_server, streams, f"/events/article/{article.slug}?after={rendered}")
    (event,) = stream.next_events(1)
    assert event.data["body"] == "between render and connect"


def test_a_deleted_comment_is_announced(events_server: int, streams: list[SseStream]) -> None:
    author = UserFactory()
    article = make_article(author)
    comment = make_comment(author, article)
    time.sleep(0.002)  # a page rendered in the comment's millisecond would get it (and skip it)
    stream = open_stream(events_server, streams, f"/events/article/{article.slug}?after={now_id()}")
    client = Client()
    client.force_login(author)
    response = client.post(f"/article/{article.slug}/comments/{comment.pk}/delete")
    assert response.status_code == 302
    (event,) = stream.next_events(1)
    assert (event.kind, event.data) == ("comment-deleted", {"id": comment.pk})


def test_an_unknown_article_has_no_stream(events_server: int, streams: list[SseStream]) -> None:
    assert open_stream(events_server, streams, "/events/article/nope").status == 404


def test_the_feed_stream_is_its_own_users_only(
    events_server: int, streams: list[SseStream]
) -> None:
    writer, reader, other = UserFactory(), UserFactory(), UserFactory()
    follow(reader, writer)
    after = now_id()
    path = f"/events/feed?after={after}"
    mine = open_stream(events_server, streams, path, session_cookie(reader))
    theirs = open_stream(events_server, streams, path, session_cookie(other))
    assert (mine.status, theirs.status) == (200, 200)

    article = make_article(writer, title="Fresh news")  # inline tasks: the fan-out runs now

    (event,) = mine.next_events(1)
    assert event.kind == "article"
    assert event.data == {
        "id": article.pk,
        "slug": article.slug,
        "title": "Fresh news",
        "author": writer.username,
    }
    assert theirs.nothing_within(0.5)  # the other user follows nobody: nothing leaks to them


def test_the_feed_stream_needs_a_session(events_server: int, streams: list[SseStream]) -> None:
    assert open_stream(events_server, streams, "/events/feed").status == 403
    forged = {"Cookie": "sessionid=not-a-session"}
    assert open_stream(events_server, streams, "/events/feed", forged).status == 403


def test_streams_are_not_served_under_wsgi() -> None:
    author = UserFactory()
    article = make_article(author)
    # In a thread of its own: the browser tests' Playwright may keep a loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        response = pool.submit(Client().get, f"/events/article/{article.slug}").result(10)
    assert response.status_code == 404


def test_a_heartbeat_keeps_an_idle_stream_open(
    events_server: int, streams: list[SseStream], settings: object
) -> None:
    settings.EVENTS_HEARTBEAT_SECONDS = 0.2  # type: ignore[attr-defined]
    article = make_article(UserFactory())
    stream = open_stream(events_server, streams, f"/events/article/{article.slug}")
    assert stream.nothing_within(0.7)
    assert stream.comments.count(": ping") >= 2


def test_cross_origin_streams_allow_only_the_site(
    events_server: int, streams: list[SseStream], settings: object
) -> None:
    settings.EVENTS_PUBLIC_URL = f"http://127.0.0.1:{events_server}"  # type: ignore[attr-defined]
    settings.SITE_URL = "http://127.0.0.1:8123"  # type: ignore[attr-defined]
    article = make_article(UserFactory())
    path = f"/events/article/{article.slug}"
    site = open_stream(events_server, streams, path, {"Origin": "http://127.0.0.1:8123"})
    assert site.response.getheader("Access-Control-Allow-Origin") == "http://127.0.0.1:8123"
    assert site.response.getheader("Access-Control-Allow-Credentials") == "true"
    other = open_stream(events_server, streams, path, {"Origin": "http://evil.example"})
    assert other.response.getheader("Access-Control-Allow-Origin") is None


def test_a_failing_broker_never_fails_the_write(settings: object) -> None:
    settings.EVENTS_URL = "redis://127.0.0.1:9/0"  # type: ignore[attr-defined]  # nothing listens
    publish.broker.cache_clear()
    errors = publish.EVENTS_PUBLISHED.labels("error")
    skipped = publish.EVENTS_PUBLISHED.labels("skipped")
    before = errors._value.get(), skipped._value.get()
    author = UserFactory()
    article = make_article(author)
    comment = make_comment(author, article, body="still saved")
    make_comment(author, article, body="skipped without trying")
    assert comment.pk is not None
    assert errors._value.get() == before[0] + 1
    assert skipped._value.get() == before[1] + 1


@pytest.mark.services
def test_comments_travel_through_redis_and_resume_from_its_history(
    events_server: int, streams: list[SseStream], settings: object, running_redis: RedisServer
) -> None:
    settings.EVENTS_URL = running_redis.url_for(3)  # type: ignore[attr-defined]
    publish.broker.cache_clear()
    author = UserFactory()
    article = make_article(author)
    path = f"/events/article/{article.slug}?after={now_id()}"
    first = open_stream(events_server, streams, path)
    make_comment(author, article, body="one")
    (seen,) = first.next_events(1)
    assert seen.id.split("-")[0].isdigit()  # a Redis stream id
    first.close()
    make_comment(author, article, body="two")
    again = open_stream(events_server, streams, path, {"Last-Event-ID": seen.id})
    assert [e.data["body"] for e in again.next_events(1)] == ["two"]
    make_comment(author, article, body="three")
    assert [e.data["body"] for e in again.next_events(1)] == ["three"]
    assert again.nothing_within(0.3)
