"""The new-article email: plain text and HTML, with a one-click unsubscribe (RFC 8058)."""

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.urls import reverse

from conduit.notifications.links import unsubscribe_url


@dataclass(frozen=True)
class NewArticle:
    id: int
    title: str
    description: str
    slug: str
    author: str

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL}{reverse('web:article', args=[self.slug])}"


@dataclass(frozen=True)
class Recipient:
    id: int
    username: str
    email: str


def new_article_email(
    article: NewArticle, recipient: Recipient, *, connection: BaseEmailBackend
) -> EmailMultiAlternatives:
    unsubscribe = unsubscribe_url(recipient.id)
    context = {"article": article, "recipient": recipient, "unsubscribe_url": unsubscribe}
    message = EmailMultiAlternatives(
        subject=f"New article by {article.author}: {article.title}"[:200],
        body=render_to_string("notifications/new_article.txt", context),
        to=[recipient.email],
        connection=connection,
        headers={
            # The same id for the same (article, recipient): a resend after a crash in the
            # window between SMTP accepting and the record being saved is recognisable.
            "Message-ID": f"<article-{article.id}.user-{recipient.id}@{_domain()}>",
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        render_to_string("notifications/new_article.html", context), "text/html"
    )
    return message


def _domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].rstrip(">").strip() or "conduit.local"


def masked(email: str) -> str:
    """``a***@example.com``: enough for the owner to recognise, not a copy for whoever reads it."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


def email_changed_email(*, username: str, old_email: str, new_email: str) -> EmailMultiAlternatives:
    """The notice to the old address after an account's email changed."""
    context = {
        "username": username,
        "new_email": masked(new_email),
        "settings_url": f"{settings.SITE_URL}{reverse('web:settings')}",
    }
    return EmailMultiAlternatives(
        subject="The email address of your Conduit account was changed",
        body=render_to_string("notifications/email_changed.txt", context),
        to=[old_email],
    )
