"""WSGI entry point: what granian (and any WSGI server) imports."""

import gc
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from conduit.platform.observability import tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# OpenTelemetry when OTEL_EXPORTER_OTLP_ENDPOINT is set (ADR 0037): before the application is
# made, whose handler loads MIDDLEWARE with the tracing middleware in it. granian imports this
# module in each worker process, so each sets itself up once.
tracing.setup("web")
application = get_wsgi_application()

# What the process loaded to start (Django, the settings, the URLconf and every view, which
# would otherwise be imported by the first request) lives as long as the process. Frozen, the
# collector's full passes no longer walk it: a full pass stops every thread of the process,
# and on the ~128,000 objects of a started app it took 79 ms, 11 ms frozen (ADR 0002).
get_resolver().url_patterns  # noqa: B018 - loads the URLconf and imports the views

# make run: this one process also serves the live-update streams, from a thread, because the
# in-process broker spans one process (ADR 0030). The stack and deployments have their own.
if settings.EVENTS_PORT:
    from conduit.platform.events.embedded import serve_in_thread
    from config.asgi import application as events_application

    serve_in_thread(events_application, settings.HOST, settings.EVENTS_PORT)
gc.freeze()
