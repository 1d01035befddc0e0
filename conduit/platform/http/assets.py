"""Static files and media, ready for a CDN (ADR 0029).

``STATIC_URL`` and ``MEDIA_URL`` may name another host (``https://cdn.example.com/static/``): a
CDN that pulls from this origin at the same paths, where whitenoise (or nginx in front) still
serves them. What follows from that:

- the Content-Security-Policy allows those hosts' scripts, styles, fonts and images;
- an image's site path in an API answer is shown on the host that serves it (a demo avatar under
  ``/static/`` on the static host, an upload under ``/media/`` on the media host, anything else on
  ``SITE_URL``);
- hashed static files are cached by every proxy for a year, and whitenoise says so with the same
  ``Cache-Control`` as nginx's ``/static/`` location (deploy/nginx/conduit.conf.template).
"""

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from whitenoise.middleware import WhiteNoiseMiddleware

# A year, the furthest RFC 2616 (14.21) let a server date an Expires: whitenoise's own is ten
# years. The same value as nginx's /static/ and /media/avatars/ locations.
IMMUTABLE = f"public, max-age={365 * 24 * 3600}, immutable"


def url_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute URL; ``None`` for a site path (``/static/``)."""
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImproperlyConfigured(f"{url!r} must be a site path or an http(s):// URL")
    return f"{parts.scheme}://{parts.netloc}"


def asset_origins(*urls: str) -> list[str]:
    """The distinct origins among ``urls`` (the static and media URLs), for the CSP."""
    found = [origin for url in urls if (origin := url_origin(url))]
    return list(dict.fromkeys(found))


@lru_cache(maxsize=4)
def _hosts(site_url: str, static_url: str, media_url: str) -> tuple[tuple[str, str], ...]:
    """(path prefix, host) pairs, the static and media hosts first, ``SITE_URL`` for the rest."""
    pairs = [
        (urlsplit(url).path, origin)
        for url in (static_url, media_url)
        if (origin := url_origin(url))
    ]
    return (*pairs, ("/", site_url))


def host_for(path: str, *, site_url: str, static_url: str, media_url: str) -> str:
    """The host that serves the site path ``path``: the CDN's when ``STATIC_URL`` or ``MEDIA_URL``
    names one and ``path`` is under it, else ``SITE_URL``."""
    for prefix, host in _hosts(site_url, static_url, media_url):
        if path.startswith(prefix):
            return host
    return site_url


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """whitenoise, telling caches to keep a hashed file for a year (``immutable``), as nginx does,
    rather than whitenoise's ten years: one ``Cache-Control`` whichever of the two served it."""

    def add_cache_headers(self, headers: Any, path: str, url: str) -> None:
        if self.immutable_file_test(path, url):
            headers["Cache-Control"] = IMMUTABLE
        else:
            super().add_cache_headers(headers, path, url)
