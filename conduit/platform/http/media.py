"""Serving ``MEDIA_ROOT`` at ``MEDIA_URL`` in the embedded default (``make run``).

Django's static file view, with two additions: only the avatar folder is reachable (nothing else
that might land in MEDIA_ROOT is published by accident), and responses are cacheable for a year,
since an upload's files live under a fresh random folder and never change. In ``make stack`` nginx
serves the same folder itself.
"""

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from django.views.static import serve

from conduit.platform.http.assets import IMMUTABLE


@require_safe
def media(request: HttpRequest, path: str) -> HttpResponse | FileResponse:
    if not path.startswith("avatars/"):
        raise Http404(path)
    # Rooted at the avatar folder itself, so "avatars/../x" cannot climb out of it (serve()
    # normalises the path and refuses anything outside its root).
    root = Path(settings.MEDIA_ROOT) / "avatars"
    response = serve(request, path.removeprefix("avatars/"), document_root=str(root))
    response["Cache-Control"] = IMMUTABLE
    response["X-Content-Type-Options"] = "nosniff"
    return response
