"""New-article emails, inline (the embedded default's eager mode) through a real SMTP server:
content, exactly-once records, chunking, opt-outs and the signed unsubscribe link."""

from collections.abc import Callable, Iterator
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
from django.core import mail, signing
from django.test import Client, override_settings
from rest_framework.test import APIClient

from conduit.notifications.links import unsubscribe_token
from conduit.notifications.models import ArticleEmail, EmailPreference
from conduit.notifications.tasks import new_article_emails_send, new_article_fan_out
from conduit.users.models import User
from tests.factories import UserFactory, follow, make_article
from tests.services import SmtpSink

pytestmark = pytest.mark.django_db

OnCommit = Callable[..., Any]


@pytest.fixture
def via_smtp(smtp: SmtpSink) -> Iterator[SmtpSink]:
    """Emails go to the real local SMTP sink instead of the locmem outbox."""
    with override_settings(
        MAILERS={
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": smtp.host, "port": smtp.port, "timeout": 10},
            }
        },
        SITE_URL="https://conduit.example",
    ):
        yield smtp


def _parts(message: Message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()  # type: ignore[union-attr]
        for part in message.walk()
        if not part.is_multipart()
    }


def test_publishing_emails_each_follower_once_in_text_and_html(
    via_smtp: SmtpSink, django_capture_on_commit_callbacks: OnCommit
) -> None:
    author = UserFactory(username="ada")
    followers = [UserFactory() for _ in range(3)]
    for user in followers:
        follow(user, author)
    UserFactory()  # not a follower: no email
    with django_capture_on_commit_callbacks(execute=True):
        article = make_article(author, title="Engines <&> looms", description="Notes")

    messages = via_smtp.wait_for(3)
    assert sorted(rcpt for _, (rcpt,) in via_smtp.envelopes) == sorted(u.email for u in followers)
    first = messages[0]
    assert first["Subject"] == "New article by ada: Engines <&> looms"
    parts = _parts(first)
    url = f"https://conduit.example/article/{article.slug}"
    assert url in parts["text/plain"]
    assert "Engines <&> looms" in parts["text/plain"]
    assert f'href="{url}"' in parts["text/html"]
    assert "Engines &lt;&amp;&gt; looms" in parts["text/html"]
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = str(make_header(decode_header(first["List-Unsubscribe"]))).strip("<>")
    assert unsubscribe.startswith("https://conduit.example/notifications/unsubscribe/")
    assert unsubscribe in parts["text/plain"]
    assert ArticleEmail.objects.filter(article=article, sent_at__isnull=False).count() == 3


@override_settings(NOTIFICATIONS_CHUNK_SIZE=2)
def test_fan_out_enqueues_a_task_per_chunk_and_a_rerun_sends_nothing_again(
    via_smtp: SmtpSink, django_capture_on_commit_callbacks: OnCommit
) -> None:
    author = UserFactory()
    for _ in range(5):
        follow(UserFactory(), author)
    article = make_article(author)  # on_commit not run: nothing sent yet
    assert new_article_fan_out.delay(article.pk).get() == 3
    via_smtp.wait_for(5)
    # The whole fan-out and one chunk again, as after a redelivery: no second email.
    new_article_fan_out.delay(article.pk)
    ids = list(User.objects.exclude(pk=author.pk).values_list("pk", flat=True))
    assert new_article_emails_send.delay(article.pk, ids).get() == 0
    assert len(via_smtp.messages) == 5
    assert ArticleEmail.objects.filter(article=article).count() == 5


def test_an_unsent_record_is_sent_on_the_retry(via_smtp: SmtpSink) -> None:
    author, reader, other = UserFactory(), UserFactory(), UserFactory()
    follow(reader, author)
    follow(other, author)
    article = make_article(author)
    # A previous attempt recorded both, sent to reader, then died before sending to other.
    ArticleEmail.objects.create(article=article, recipient=reader, sent_at="2026-01-01T00:00Z")
    ArticleEmail.objects.create(article=article, recipient=other)
    assert new_article_emails_send.delay(article.pk, [reader.pk, other.pk]).get() == 1
    assert [rcpt for _, (rcpt,) in via_smtp.wait_for(1) and via_smtp.envelopes] == [other.email]


def test_unsubscribed_followers_and_deleted_articles_get_nothing(
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    author, keen, done = UserFactory(), UserFactory(), UserFactory()
    follow(keen, author)
    follow(done, author)
    EmailPreference.objects.create(user=done, new_articles=False)
    with django_capture_on_commit_callbacks(execute=True):
        article = make_article(author)
    assert [m.to for m in mail.outbox] == [[keen.email]]
    mail.outbox.clear()
    article_id = article.pk
    article.delete()
    assert new_article_fan_out.delay(article_id).get() == 0
    assert new_article_emails_send.delay(article_id, [keen.pk]).get() == 0
    assert mail.outbox == []


def test_the_publishing_request_enqueues_one_task_per_fan_out(
    auth_api: APIClient, user: User, django_capture_on_commit_callbacks: OnCommit
) -> None:
    for _ in range(3):
        follow(UserFactory(), user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = auth_api.post(
            "/api/articles",
            {"article": {"title": "T", "description": "D", "body": "B"}},
            format="json",
        )
    assert response.status_code == 201
    # Two enqueues (the emails' fan-out and the timelines', ADR 0034), whatever the number of
    # followers.
    assert sum("enqueue_on_commit" in cb.__qualname__ for cb in callbacks) == 2
    assert mail.outbox == []


# --- unsubscribe ----------------------------------------------------------------------------


def test_get_shows_a_confirmation_and_changes_nothing(client: Client) -> None:
    reader = UserFactory()
    response = client.get(f"/notifications/unsubscribe/{unsubscribe_token(reader.pk)}")
    assert response.status_code == 200
    assert b"Unsubscribe</button>" in response.content
    assert not EmailPreference.objects.exists()


def test_post_unsubscribes_without_signing_in_or_csrf_token() -> None:
    reader = UserFactory()
    client = Client(enforce_csrf_checks=True)  # a mail client's one-click POST has no token
    url = f"/notifications/unsubscribe/{unsubscribe_token(reader.pk)}"
    for _ in range(2):  # idempotent
        response = client.post(url, {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert b"no longer get emails" in response.content
    assert EmailPreference.objects.get(user=reader).new_articles is False


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        signing.dumps({"u": 1, "k": "new_articles"}, salt="another.purpose"),
        signing.dumps({"u": "1"}, salt="conduit.notifications.unsubscribe"),
    ],
    # Fixed ids: the signed tokens hold the time they were made, and test workers that
    # collect a second apart must name the tests alike.
    ids=["nonsense", "another-purpose", "no-kind"],
)
def test_a_forged_link_is_refused(client: Client, token: str) -> None:
    response = client.post(f"/notifications/unsubscribe/{token}")
    assert response.status_code == 400
    assert b"This link is not valid." in response.content
    assert not EmailPreference.objects.exists()


def test_an_old_link_has_expired(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = UserFactory()
    token = unsubscribe_token(reader.pk)
    monkeypatch.setattr("conduit.notifications.links.UNSUBSCRIBE_LINK_MAX_AGE", -1)
    response = client.get(f"/notifications/unsubscribe/{token}")
    assert response.status_code == 400
    assert b"has expired" in response.content


def test_a_deleted_account_is_gone(client: Client) -> None:
    reader = UserFactory()
    token = unsubscribe_token(reader.pk)
    reader.delete()
    assert client.post(f"/notifications/unsubscribe/{token}").status_code == 410
