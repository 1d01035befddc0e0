"""ASGI entry point: the events servers (ADR 0030), which serve /events/ to browsers.

The API and the pages stay on WSGI granian (config/wsgi.py; ADR 0002 and 0030 measure both);
this application is the same Django project, routed to only for the streams: nginx in
``make stack``, the events Deployment in Kubernetes, the thread that ``make run`` starts
(conduit/platform/events/embedded.py). Run it with ``granian --interface asgi
config.asgi:application`` and ``CONN_MAX_AGE=0`` or ``DATABASE_POOL=true``: a persistent
connection per thread would leak under ASGI, where a request's sync work may run in any thread.
"""

import gc
import os
from typing import Any

import django
from django.core.handlers.asgi import ASGIHandler
from django.urls import get_resolver

from conduit.platform.observability import tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class StreamsHandler(ASGIHandler):
    """Django's ASGI handler without its per-request ``ThreadSensitiveContext``.

    Django opens one for every request, and the first thread-sensitive ``sync_to_async`` call
    inside it (a sync middleware, the request_started signal, the session's read) gets a thread
    of its own that lives until the request ends: for a stream, its whole life. Measured: 30 open
    streams, 30 more threads in the process. Without the context, the sync parts of every
    request run in asgiref's one shared thread (their behaviour before Django 3.2): the few
    milliseconds of a stream's start queue there, and an idle stream holds no thread at all.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}")
        await self.handle(scope, receive, send)


django.setup(set_prefix=False)
tracing.setup("events")  # OTEL_EXPORTER_OTLP_ENDPOINT set: before the handler loads MIDDLEWARE
application = StreamsHandler()

# As config/wsgi.py: what the process loaded to start is never collected (ADR 0002).
get_resolver().url_patterns  # noqa: B018 - loads the URLconf and imports the views
gc.freeze()
