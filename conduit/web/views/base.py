"""What every page view shares: who is signed in, the sign-in and domain-error decorators, page
numbers, and going back after a form post."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from conduit.platform.exceptions import Forbidden, InvalidInput, NotFound
from conduit.users.models import User
from conduit.web.forms import full_messages, safe_next
from conduit.web.pagination import Pager, page_number, pager

View = Callable[..., HttpResponse]


def viewer(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


def signed_in(request: HttpRequest) -> User:
    """The user of a view behind ``signed_in_required``."""
    user = viewer(request)
    if user is None:
        raise RuntimeError("a view that needs a signed-in user ran without one")
    return user


def viewer_id_of(request: HttpRequest) -> int | None:
    user = viewer(request)
    return user.pk if user is not None else None


def signed_in_required(view: View) -> View:
    """Send anonymous visitors to /login, and back here after they sign in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if viewer(request) is None:
            target = request.get_full_path() if request.method == "GET" else safe_next(request)
            return redirect_to_login(target, login_url=reverse("web:login"))
        return view(request, *args, **kwargs)

    return wrapper


def domain_errors_as_pages(view: View) -> View:
    """A domain NotFound (unknown slug or username) is the site's 404 page, and Forbidden (another
    author's article) its 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        except Forbidden as exc:
            return render(
                request, "web/error.html", {"status": 403, "message": exc.message}, status=403
            )

    return wrapper


def page_or_404(request: HttpRequest) -> int:
    """The ``?page=`` of a list; a page that is not a number or too deep is the 404 page."""
    try:
        return page_number(request, max_offset=settings.API_MAX_OFFSET)
    except InvalidInput:
        raise Http404("no such page") from None


def pager_or_404(
    request: HttpRequest, *, page: int, count: int, kept: tuple[str, ...] = ()
) -> Pager:
    """The page links of a list, carrying the ``kept`` parameters; a page past the last one is
    the 404 page."""
    links = pager(request, page=page, count=count, kept=kept)
    if page > links.pages:
        raise Http404("no such page")
    return links


# --- Home -------------------------------------------------------------------------------------


def back_to(request: HttpRequest, fallback: str) -> HttpResponse:
    return HttpResponseRedirect(safe_next(request, fallback))


def with_flash_on_error(request: HttpRequest, action: Callable[[], object]) -> None:
    """Run ``action``; a rule it breaks (e.g. favoriting twice) is shown as a message."""
    try:
        action()
    except InvalidInput as exc:
        for message in full_messages(exc.errors):
            messages.error(request, message)
