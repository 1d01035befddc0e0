"""Reading form posts and showing the domain's errors; the rules themselves are the services'."""

from collections.abc import Mapping

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def full_messages(errors: Mapping[str, list[str]]) -> list[str]:
    """``{"title": ["can't be blank"]}`` as ``["title can't be blank"]``, for an error list."""
    return [f"{field} {message}" for field, messages in errors.items() for message in messages]


def split_tags(*values: str) -> list[str]:
    """Tags from the editor: pills (one value each) and typed text (comma-separated)."""
    tags: list[str] = []
    for value in values:
        tags.extend(part.strip() for part in value.split(","))
    return [tag for tag in tags if tag]


def safe_next(request: HttpRequest, fallback: str = "/") -> str:
    """The ``next`` URL of a form or query string, if it points back into this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback
