"""The pages' middleware (sessions, Django's user, messages) is skipped for the API's paths
(conduit/platform/http/channels.py) and still runs for every page."""

import pytest
from django.contrib.messages import get_messages
from django.utils.functional import SimpleLazyObject

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_api_request_has_no_session_user_or_messages(api):
    response = api.get("/api/tags")
    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "_messages")
    # No lazy Django user: the one there is DRF's, from the token's authentication.
    assert not isinstance(request.__dict__.get("user"), SimpleLazyObject)
    assert "sessionid" not in response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_a_page_still_has_its_session_user_and_messages(client):
    user = UserFactory(password="a-long-enough-password")
    response = client.post(
        "/login", {"email": user.email, "password": "a-long-enough-password"}, follow=True
    )
    assert response.status_code == 200
    request = response.wsgi_request
    assert request.user == user
    assert request.session.session_key
    list(get_messages(request))  # the messages framework is installed for pages


def test_an_api_request_still_gets_the_security_headers(api):
    response = api.get("/api/tags")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_html_gets_the_content_security_policy_and_json_does_not(client, api):
    page = client.get("/")
    assert page["Content-Security-Policy"].startswith("default-src 'self'")
    assert "Content-Security-Policy" not in api.get("/api/tags")
