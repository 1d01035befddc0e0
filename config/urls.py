import re
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path, re_path

from conduit.platform.http import bench, probes

# Probes and metrics come first: no auth, no session, nothing the site's URLs might shadow.
# The API first: it takes most requests, and Django tries the patterns in order.
urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", include("conduit.api.urls")),
    path("healthz", probes.healthz, name="healthz"),
    path("readyz", probes.readyz, name="readyz"),
    path("notifications/", include("conduit.notifications.urls")),
    path("", include("conduit.web.urls")),
]

if settings.METRICS_ENABLED:
    from conduit.platform.observability import metrics

    urlpatterns.insert(2, path("metrics", metrics.metrics, name="metrics"))

if settings.MEDIA_SERVE:  # media on the file system: Conduit serves it (ADR 0019)
    from conduit.platform.http.media import media

    # Its path: an absolute MEDIA_URL names a CDN that pulls from here at the same path.
    prefix = urlsplit(settings.MEDIA_URL).path.lstrip("/")
    urlpatterns.insert(2, re_path(rf"^{re.escape(prefix)}(?P<path>.+)$", media, name="media"))

if settings.BENCH_ENDPOINTS:  # `make bench` only: the bare-Django references, off by default
    urlpatterns[:0] = [
        path("bench/bare", bench.bare, name="bench-bare"),
        path("bench/bare-write", bench.bare_write, name="bench-bare-write"),
    ]

handler400 = "config.errors.bad_request"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
