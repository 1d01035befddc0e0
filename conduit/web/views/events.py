"""The live-update streams (ADR 0030): Server-Sent Events from async views, served under ASGI.

``/events/article/<slug>``: the article's new and deleted comments, for anyone (public, as the
page is). ``/events/feed``: new articles by the people the signed-in user follows, for that
session's user only; anonymous is a 403 (an ``EventSource`` does not retry after an error
status). The first connect starts after ``?after=<id>`` (the page's render time), a reconnect
after its ``Last-Event-ID``.

Under WSGI these answer 404: a stream would hold one of the server's few threads for its whole
life (make run and the stack route them to an ASGI server instead).
"""

from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.views.decorators.http import require_safe

from conduit.articles import selectors as article_selectors
from conduit.comments.services import article_channel
from conduit.notifications.tasks import feed_channel
from conduit.platform.events.stream import event_stream


@require_safe
async def article_events(request: HttpRequest, slug: str) -> HttpResponseBase:
    if not isinstance(request, ASGIRequest):
        return _not_here(request)
    article_id = await sync_to_async(article_selectors.article_id_by_slug)(slug)
    if article_id is None:
        return HttpResponse(status=404)
    return _stream(request, article_channel(article_id))


@require_safe
async def feed_events(request: HttpRequest) -> HttpResponseBase:
    if not isinstance(request, ASGIRequest):
        return _not_here(request)
    user = await request.auser()
    if not user.is_authenticated:
        return _cors(request, HttpResponse(status=403))
    return _stream(request, feed_channel(user.pk))


def _stream(request: HttpRequest, channel: str) -> HttpResponseBase:
    after = request.headers.get("Last-Event-ID") or request.GET.get("after")
    response = StreamingHttpResponse(
        event_stream(
            channel,
            after,
            heartbeat=settings.EVENTS_HEARTBEAT_SECONDS,
            lifetime=settings.EVENTS_STREAM_SECONDS,
        ),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass every event on at once
    return _cors(request, response)


def _cors(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Streams on another origin than the pages (make run's events port): the browser sends the
    session cookie (same site) and reads the answer only when the site's own origin is allowed
    with credentials. Only that origin: never ``*``."""
    if settings.EVENTS_PUBLIC_URL:
        site = urlsplit(settings.SITE_URL)
        origin = f"{site.scheme}://{site.netloc}"
        if request.headers.get("Origin") == origin:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"
    return response


def _not_here(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "Event streams are served by the events server (ASGI), not here.\n",
        status=404,
        content_type="text/plain; charset=utf-8",
    )
