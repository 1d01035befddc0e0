"""The metadata document (RFC 8414), introspection (RFC 7662) for confidential clients, and
``manage.py create_oauth_app``."""

import base64
import json
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.test import Client
from oauth2_provider.models import Application

from conduit.users import services as user_services
from tests.factories import UserFactory
from tests.oauth import helpers as h

pytestmark = pytest.mark.django_db


def test_metadata_lists_the_endpoints_from_site_url(settings):
    site = settings.SITE_URL
    data = Client().get("/.well-known/oauth-authorization-server").json()
    assert data["issuer"] == site
    assert data["authorization_endpoint"] == f"{site}/oauth/authorize/"
    assert data["token_endpoint"] == f"{site}/oauth/token/"
    assert data["revocation_endpoint"] == f"{site}/oauth/revoke/"
    assert data["introspection_endpoint"] == f"{site}/oauth/introspect/"
    assert data["scopes_supported"] == ["profile", "read", "write"]
    assert data["response_types_supported"] == ["code"]
    assert data["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert data["introspection_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]


def basic(app: h.App) -> dict[str, str]:
    pair = f"{app.client_id}:{app.secret}".encode()
    return {"HTTP_AUTHORIZATION": f"Basic {base64.b64encode(pair).decode()}"}


def introspect(token: str, **auth: str):
    return Client().post("/oauth/introspect/", {"token": token}, **auth)


def test_introspection_of_an_active_token():
    app = h.register("Server")
    user = UserFactory(username="reader")
    tokens = h.tokens_for(user, app, "read write")
    answer = introspect(tokens["access_token"], **basic(app))
    assert answer.status_code == 200
    data = answer.json()
    assert data["active"] is True
    assert data["scope"] == "read write"
    assert data["client_id"] == app.client_id
    assert data["username"] == "reader"
    assert data["sub"] == str(user.pk)
    assert data["exp"] > 0
    assert answer["Cache-Control"] == "no-store"
    # Credentials in the form body work as well.
    body = {
        "token": tokens["access_token"],
        "client_id": app.client_id,
        "client_secret": app.secret,
    }
    assert Client().post("/oauth/introspect/", body).json()["active"] is True


def test_introspection_says_inactive_for_dead_or_foreign_tokens():
    app, other = h.register("Server"), h.register("Other")
    user = UserFactory()
    tokens = h.tokens_for(user, app, "read")
    assert introspect(tokens["access_token"], **basic(other)).json() == {"active": False}
    assert introspect("no-such-token", **basic(app)).json() == {"active": False}
    user_services.user_sign_out_everywhere(user=user)
    assert introspect(tokens["access_token"], **basic(app)).json() == {"active": False}


def test_introspection_needs_a_confidential_client_and_its_secret():
    app = h.register("Server")
    spa = h.register("Spa", public=True)
    tokens = h.tokens_for(UserFactory(), spa, "read")
    for auth in (
        {},
        {
            "HTTP_AUTHORIZATION": "Basic "
            + base64.b64encode(f"{app.client_id}:wrong".encode()).decode()
        },
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{spa.client_id}:".encode()).decode()},
    ):
        refused = introspect(tokens["access_token"], **auth)
        assert refused.status_code == 401
        assert refused.json() == {"error": "invalid_client"}
    refused = Client().post(
        "/oauth/introspect/", {"token": tokens["access_token"], "client_id": spa.client_id}
    )
    assert refused.status_code == 401
    assert Client().get("/oauth/introspect/", {"token": "x"}, **basic(app)).status_code == 405


def test_introspection_without_a_token_is_a_400():
    app = h.register("Server")
    answer = Client().post("/oauth/introspect/", {}, **basic(app))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def run_command(*args: str) -> dict:
    out = StringIO()
    call_command("create_oauth_app", *args, stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1  # exactly one JSON object
    return json.loads(lines[0])


def test_create_oauth_app_confidential_prints_its_secret_once():
    data = run_command("Server", "--redirect-uri", "https://server.example/cb")
    assert set(data) == {"client_id", "client_secret", "client_type", "name", "redirect_uris"}
    assert data["client_type"] == "confidential"
    assert data["redirect_uris"] == ["https://server.example/cb"]
    stored = Application.objects.get(client_id=data["client_id"])
    assert stored.client_secret != data["client_secret"]  # only its hash is kept
    assert check_password(data["client_secret"], stored.client_secret)
    assert stored.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE


def test_create_oauth_app_public_has_no_secret():
    data = run_command(
        "Spa",
        "--redirect-uri",
        "https://spa.example/cb",
        "--redirect-uri",
        "https://127.0.0.1/cb",
        "--public",
    )
    assert "client_secret" not in data
    assert data["client_type"] == "public"
    assert data["redirect_uris"] == ["https://spa.example/cb", "https://127.0.0.1/cb"]
    assert Application.objects.get(client_id=data["client_id"]).client_secret == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["", "--redirect-uri", "https://a.example/cb"], "name can't be blank"),
        (["App", "--redirect-uri", "not a uri"], "redirect_uri"),
        (["App", "--redirect-uri", "ftp://a.example/cb"], "redirect_uri"),
        (["App", "--redirect-uri", "http://a.example/cb"], "redirect_uri"),  # https only
    ],
)
def test_create_oauth_app_refuses_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_oauth_app", *args, stdout=StringIO())
    assert Application.objects.count() == 0
