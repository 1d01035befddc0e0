"""Scopes per endpoint class (docs/api.md): reads need ``read``, writes ``write``, the account
``profile`` (+ ``write`` to change it); erasure, export and sign-out everywhere are closed to apps;
an app never gets a JWT back and never changes the email or password."""

import json

import pytest
from django.test import Client

from conduit.platform import tokens as jwt_tokens
from tests.factories import UserFactory, make_article, make_comment
from tests.oauth import helpers as h

pytestmark = pytest.mark.django_db

ARTICLE = {"article": {"title": "T", "description": "D", "body": "B"}}


@pytest.fixture
def world():
    author = UserFactory(username="author")
    article = make_article(author, title="Post")
    comment = make_comment(author, article)
    reader = UserFactory(username="reader")
    app = h.register("Scoped")
    by_scope = {
        scope: h.tokens_for(reader, app, scope)["access_token"]
        for scope in ("read", "write", "profile", "profile write")
    }
    return {"article": article, "comment": comment, "token": by_scope, "reader": reader}


def call(method, path, token, body=None):
    kwargs = h.bearer(token)
    if body is not None and method != "get":
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(Client(), method)(path, **kwargs)


READS = [
    "/api/articles",
    "/api/articles/feed",
    "/api/articles/post",
    "/api/articles/post/comments",
    "/api/profiles/author",
    "/api/tags",
]


@pytest.mark.parametrize("path", READS)
def test_reads_need_read(world, path):
    assert call("get", path, world["token"]["read"]).status_code == 200
    refused = call("get", path, world["token"]["write"])
    assert refused.status_code == 403
    assert refused.json() == {"errors": {"token": ["lacks the scope read"]}}
    assert 'error="insufficient_scope"' in refused["WWW-Authenticate"]


WRITES = [
    ("post", "/api/articles", ARTICLE, 201),
    ("put", "/api/articles/post", None, None),  # another author's: 403 after the scope passes
    ("post", "/api/articles/post/favorite", None, 200),
    ("delete", "/api/articles/post/favorite", None, 422),  # not a favorite yet: the domain's say
    ("post", "/api/articles/post/comments", {"comment": {"body": "Hi"}}, 201),
    ("post", "/api/profiles/author/follow", None, 200),
    ("delete", "/api/profiles/author/follow", None, 422),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), WRITES)
def test_writes_need_write(world, method, path, body, status):
    refused = call(method, path, world["token"]["read"], body)
    assert refused.status_code == 403
    assert refused.json() == {"errors": {"token": ["lacks the scope write"]}}
    allowed = call(method, path, world["token"]["write"], body or {"article": {"title": "X"}})
    if status is None:
        assert allowed.status_code == 403
        assert allowed.json() == {"errors": {"article": ["forbidden"]}}
    else:
        assert allowed.status_code == status


def test_the_account_needs_profile_and_answers_with_the_apps_own_token(world):
    assert call("get", "/api/user", world["token"]["read"]).status_code == 403
    token = world["token"]["profile"]
    answer = call("get", "/api/user", token)
    assert answer.status_code == 200
    assert answer.json()["user"]["token"] == token  # never a JWT, which carries every scope
    assert answer.json()["user"]["username"] == "reader"


def test_changing_the_profile_needs_profile_and_write(world):
    body = {"user": {"bio": "New bio"}}
    refused = call("put", "/api/user", world["token"]["profile"], body)
    assert refused.json() == {"errors": {"token": ["lacks the scope write"]}}
    token = world["token"]["profile write"]
    answer = call("put", "/api/user", token, body)
    assert answer.status_code == 200
    assert answer.json()["user"]["bio"] == "New bio"
    assert answer.json()["user"]["token"] == token


@pytest.mark.parametrize(
    "change", [{"password": "a-new-password-1"}, {"email": "taken-over@example.com"}]
)
def test_an_app_never_changes_the_email_or_password(world, change):
    refused = call("put", "/api/user", world["token"]["profile write"], {"user": change})
    assert refused.status_code == 403
    assert refused.json() == {
        "errors": {"token": ["from an OAuth app may not change the email or password"]}
    }
    world["reader"].refresh_from_db()
    assert world["reader"].email != "taken-over@example.com"


def test_sending_the_same_email_back_is_fine(world):
    body = {"user": {"email": world["reader"].email, "bio": "Same email"}}
    assert call("put", "/api/user", world["token"]["profile write"], body).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/user"),
        ("post", "/api/user/sign-out-everywhere"),
        ("get", "/api/user/export"),
        ("post", "/api/user/export"),
    ],
)
def test_the_users_own_actions_are_closed_to_apps(world, method, path):
    refused = call(method, path, world["token"]["profile write"], {"user": {"password": "x"}})
    assert refused.status_code == 403
    assert refused.json() == {"errors": {"token": ["from an OAuth app may not do this"]}}


def test_jwt_tokens_are_not_scoped_and_unchanged(world):
    jwt = jwt_tokens.issue(world["reader"].pk, world["reader"].token_version)
    for scheme in ("Token", "Bearer"):
        answer = Client().get("/api/user", HTTP_AUTHORIZATION=f"{scheme} {jwt}")
        assert answer.status_code == 200
        assert answer.json()["user"]["token"] == jwt
    bad = Client().get("/api/user", HTTP_AUTHORIZATION="Token not-a-jwt")
    assert bad.status_code == 401
    assert bad.json() == {"errors": {"token": ["is invalid"]}}
    assert bad["WWW-Authenticate"] == 'Token realm="api"'


def test_the_picture_needs_profile_and_write(world):
    refused = call("delete", "/api/user/image", world["token"]["write"])
    assert refused.json() == {"errors": {"token": ["lacks the scope profile"]}}
    answer = call("delete", "/api/user/image", world["token"]["profile write"])
    assert answer.status_code == 200
    assert answer.json()["user"]["token"] == world["token"]["profile write"]
