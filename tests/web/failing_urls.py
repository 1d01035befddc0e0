"""The site's URLs plus two that fail, to see the 500 pages (``settings.ROOT_URLCONF``)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [
    path("fail", fail),
    path("api/fail", fail),
    path("", include("config.urls")),
]

handler400 = "config.errors.bad_request"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
