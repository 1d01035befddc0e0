"""Content negotiation (conduit/api/negotiation.py): what clients send gets JSON without DRF's
parse, and everything else gets exactly DRF's answer."""

import pytest
from django.test import RequestFactory
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request

from conduit.api.negotiation import ConduitContentNegotiation
from conduit.api.renderers import ConduitJSONRenderer

pytestmark = pytest.mark.django_db

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json, text/plain, */*",
    "application/*",
    "*/*;q=0.8",
    "application/json; indent=2",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
]


def choose(negotiation, accept: str | None, query: str = "") -> object:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(RequestFactory().get(f"/api/tags{query}", **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, [ConduitJSONRenderer()])
    except Exception as exc:  # DRF's 406 and 404
        return type(exc).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("accept", [*ACCEPTS, "text/csv", ""])
@pytest.mark.parametrize("query", ["", "?format=json", "?format=xml"])
def test_the_same_choice_as_drf(accept, query):
    ours = choose(ConduitContentNegotiation(), accept, query)
    assert ours == choose(DefaultContentNegotiation(), accept, query)


@pytest.mark.parametrize("accept", ACCEPTS)
def test_clients_get_json(api, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = api.get("/api/tags", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"


def test_unacceptable_is_406_in_the_error_format(api):
    response = api.get("/api/tags", HTTP_ACCEPT="text/csv")
    assert response.status_code == 406
