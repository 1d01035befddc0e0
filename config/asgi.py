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

from django.core.asgi import get_asgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()

# As config/wsgi.py: what the process loaded to start is never collected (ADR 0002).
get_resolver().url_patterns  # noqa: B018 - loads the URLconf and imports the views
gc.freeze()
