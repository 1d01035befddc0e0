"""RequestBodyLimitMiddleware: the app's own cap on request bodies (REQUEST_MAX_BYTES)."""

import json

import pytest

from conduit.articles.models import Article

pytestmark = pytest.mark.django_db

NEW_ARTICLE = {"article": {"title": "T", "description": "D", "body": "B", "tagList": []}}


def test_an_api_body_over_the_cap_is_413_in_the_api_error_shape(auth_api, settings):
    body = json.dumps(NEW_ARTICLE).encode()
    settings.REQUEST_MAX_BYTES = len(body) - 1
    response = auth_api.generic("POST", "/api/articles", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"errors": {"request": ["is too large"]}}
    assert not Article.objects.exists()


def test_the_cap_is_judged_from_the_declared_length_before_reading(auth_api, settings):
    # The test client's payload raises if read past what was sent: a 413 means nothing was read.
    settings.REQUEST_MAX_BYTES = 1000
    response = auth_api.generic(
        "POST",
        "/api/articles",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert response.json() == {"errors": {"request": ["is too large"]}}


def test_a_page_body_over_the_cap_is_a_plain_413(client, settings):
    settings.REQUEST_MAX_BYTES = 10
    response = client.post("/login", {"email": "someone@example.com", "password": "x" * 50})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")


def test_a_body_at_the_cap_goes_through(auth_api, settings):
    body = json.dumps(NEW_ARTICLE).encode()
    settings.REQUEST_MAX_BYTES = len(body)
    response = auth_api.generic("POST", "/api/articles", body, content_type="application/json")
    assert response.status_code == 201
