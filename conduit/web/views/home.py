"""The home page: the global feed, your feed and a tag's feed, with the popular tags."""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from conduit.articles import selectors as article_selectors
from conduit.articles.selectors import ListQuery
from conduit.platform.http import edge_cache
from conduit.timelines.selectors import home_feed
from conduit.web import previews
from conduit.web.pagination import PAGE_SIZE
from conduit.web.views.base import (
    page_or_404,
    pager_or_404,
    viewer_id_of,
)

POPULAR_TAGS = 20  # tags in the home page's sidebar


@edge_cache.public_when_anonymous
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    viewer_id = viewer_id_of(request)
    tag = request.GET.get("tag") or None
    feed = request.GET.get("feed")
    if feed == "your" and viewer_id is None:
        return redirect_to_login(request.get_full_path(), login_url=reverse("web:login"))
    tab = "tag" if tag else ("your" if feed == "your" else "global")
    page = page_or_404(request)
    offset = (page - 1) * PAGE_SIZE
    if tab == "your" and viewer_id is not None:  # anonymous visitors were redirected above
        result = home_feed(viewer_id=viewer_id, limit=PAGE_SIZE, offset=offset)
    else:
        result = article_selectors.article_list(
            ListQuery(viewer_id=viewer_id, limit=PAGE_SIZE, offset=offset, tag=tag)
        )
    links = pager_or_404(request, page=page, count=result.count, kept=("tag", "feed"))
    context = {
        "nav": "home",
        "tab": tab,
        "tag": tag,
        "articles": previews.with_fragments(result.articles),
        "pager": links,
        "tags": article_selectors.tag_list(limit=POPULAR_TAGS),
    }
    return render(request, "web/home.html", context)


# --- Sign in, sign up, sign out, settings -----------------------------------------------------
