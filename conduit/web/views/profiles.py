"""Profiles: an author's articles and favorites, and following them."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from conduit.articles import selectors as article_selectors
from conduit.articles.selectors import ListQuery
from conduit.platform.http import edge_cache
from conduit.profiles import selectors as profile_selectors
from conduit.profiles import services as profile_services
from conduit.users.selectors import user_by_username
from conduit.web import previews
from conduit.web.pagination import PAGE_SIZE
from conduit.web.views.base import (
    back_to,
    domain_errors_as_pages,
    page_or_404,
    pager_or_404,
    signed_in,
    signed_in_required,
    viewer_id_of,
    with_flash_on_error,
)


def _profile_page(request: HttpRequest, username: str, *, favorites: bool) -> HttpResponse:
    viewer_id = viewer_id_of(request)
    profile = profile_selectors.profile_get(username=username, viewer_id=viewer_id)
    page = page_or_404(request)
    name = profile["username"]
    result = article_selectors.article_list(
        ListQuery(
            viewer_id=viewer_id,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            favorited=name if favorites else None,
            author=None if favorites else name,
        )
    )
    links = pager_or_404(request, page=page, count=result.count)
    context = {
        "nav": "profile" if request.user.get_username() == profile["username"] else "",
        "profile": profile,
        "tab": "favorites" if favorites else "articles",
        "articles": previews.with_fragments(result.articles),
        "pager": links,
        "is_self": request.user.get_username() == profile["username"],
    }
    return render(request, "web/profile.html", context)


@edge_cache.public_when_anonymous
@require_safe
@domain_errors_as_pages
def profile(request: HttpRequest, username: str) -> HttpResponse:
    return _profile_page(request, username, favorites=False)


@edge_cache.public_when_anonymous
@require_safe
@domain_errors_as_pages
def profile_favorites(request: HttpRequest, username: str) -> HttpResponse:
    return _profile_page(request, username, favorites=True)


@require_POST
@signed_in_required
@domain_errors_as_pages
def follow(request: HttpRequest, username: str) -> HttpResponse:
    user = signed_in(request)
    followee = user_by_username(username)  # through the cached profile by name, as the API
    if request.POST.get("action") == "remove":
        with_flash_on_error(
            request, lambda: profile_services.follow_remove(follower=user, followee=followee)
        )
    else:
        with_flash_on_error(
            request, lambda: profile_services.follow_add(follower=user, followee=followee)
        )
    return back_to(request, reverse("web:profile", args=[followee.username]))


# --- Errors -----------------------------------------------------------------------------------
