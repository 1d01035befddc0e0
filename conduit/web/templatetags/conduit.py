from typing import Any

from django import template
from django.templatetags.static import static

register = template.Library()


@register.filter
def avatar(image: str | None) -> str:
    """A user's picture, or the default avatar when they have none."""
    return image or static("conduit/avatars/default.svg")


@register.simple_tag(takes_context=True)
def active(context: dict[str, Any], name: str) -> str:
    """``active`` when the current page is ``name`` (for the navbar and tabs)."""
    return "active" if context.get("nav") == name else ""
