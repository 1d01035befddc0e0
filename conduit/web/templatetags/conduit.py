from datetime import datetime
from typing import Any

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

from conduit.platform.events.ids import before

register = template.Library()


@register.filter
def avatar(image: str | None) -> str:
    """A user's picture, or the default avatar when they have none."""
    return image or static("conduit/avatars/default.svg")


@register.simple_tag(takes_context=True)
def active(context: dict[str, Any], name: str) -> str:
    """``active`` when the current page is ``name`` (for the navbar and tabs)."""
    return "active" if context.get("nav") == name else ""


@register.simple_tag
def events_url(name: str, *args: Any) -> str:
    """Where the browser opens a live-update stream: this site, or EVENTS_PUBLIC_URL."""
    return settings.EVENTS_PUBLIC_URL + reverse(f"web:events-{name}", args=args)


@register.simple_tag
def events_after(*moments: datetime) -> str:
    """The id a page's first stream starts after: just before the newest of ``moments`` (the
    newest thing the page shows; ADR 0030). From the page's data, not the clock, so the same
    data renders the same bytes (the micro-cache, the cache-fault tests)."""
    return before(max(moments))
