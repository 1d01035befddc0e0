"""Every way a request can fail, and the error body it gets: ``{"errors": {<key>: [...]}}``,
field-keyed only (no ``body`` summary: ``body`` is only ever an article's or comment's field).

Each failing write is also checked to have written nothing: no row, no counter, no column
(``tests.support.unchanged``)."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from conduit.api.authentication import token_for
from conduit.articles.models import Article
from conduit.comments.models import Comment
from conduit.users.models import User
from tests.factories import UserFactory, favorite, follow, make_article, make_articles, make_comment
from tests.support import JSON_UTF8, assert_counters_consistent, assert_error, unchanged

pytestmark = pytest.mark.django_db

MISSING = object()
BLANK = "can't be blank"


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def alice(db: None) -> User:
    return UserFactory(username="alice", email="alice@example.com")


@pytest.fixture
def bob(db: None) -> User:
    return UserFactory(username="bob", email="bob@example.com")


@pytest.fixture
def alice_api(alice: User, client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(alice)


@pytest.fixture
def bob_api(bob: User, client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(bob)


@pytest.fixture
def article(alice: User, bob: User) -> Article:
    """Alice's article, tagged, favorited and commented on by Bob, who follows Alice."""
    article = make_article(alice, title="Alice writes", tags=["one", "two"])
    favorite(bob, article)
    make_comment(bob, article, "Bob's comment")
    follow(bob, alice)
    return article


@pytest.fixture
def comment(article: Article) -> Comment:
    return Comment.objects.get(article=article)


def raw(client: APIClient, method: str, url: str, body: bytes, **extra: Any) -> Any:
    extra.setdefault("content_type", "application/json")
    return client.generic(method, url, body, **extra)


def send(client: APIClient, method: str, url: str, data: Any) -> Any:
    return getattr(client, method.lower())(url, data, format="json")


def without(data: dict[str, Any], value: Any, field: str) -> dict[str, Any]:
    """``data`` with ``field`` set to ``value``, or removed when ``value`` is MISSING."""
    data = dict(data)
    if value is MISSING:
        del data[field]
    else:
        data[field] = value
    return data


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def jwt_for(user: User, *, key: str | None = None, **claims: Any) -> str:
    now = datetime.now(UTC)
    payload = {"sub": str(user.pk), "iat": now, "exp": now + timedelta(hours=1), "iss": "conduit"}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key or settings.SECRET_KEY, algorithm="HS256")


NEW_USER = {"username": "carol", "email": "carol@example.com", "password": "password123"}
LOGIN = {"email": "alice@example.com", "password": "password123"}
NEW_ARTICLE = {"title": "A title", "description": "A description", "body": "A body"}


# --- the request body: JSON, wrapper object, types ------------------------------------------

# (method, url, wrapper, who): every endpoint that reads a JSON body.
BODY_ENDPOINTS = {
    "register": ("POST", "/api/users", "user", None),
    "login": ("POST", "/api/users/login", "user", None),
    "update-user": ("PUT", "/api/user", "user", "alice"),
    "create-article": ("POST", "/api/articles", "article", "alice"),
    "update-article": ("PUT", "/api/articles/{slug}", "article", "alice"),
    "create-comment": ("POST", "/api/articles/{slug}/comments", "comment", "bob"),
}


@pytest.fixture(params=list(BODY_ENDPOINTS), ids=list(BODY_ENDPOINTS))
def body_endpoint(request, article, alice_api, bob_api):
    method, url, wrapper, who = BODY_ENDPOINTS[request.param]
    client = {"alice": alice_api, "bob": bob_api, None: APIClient()}[who]
    return client, method, url.format(slug=article.slug), wrapper


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        pytest.param(b"{", "request", "is not valid JSON", id="truncated"),
        pytest.param(b'{"W": {"a": 1,}}', "request", "is not valid JSON", id="trailing-comma"),
        pytest.param(b"{'W': {}}", "request", "is not valid JSON", id="single-quotes"),
        pytest.param(b"not json at all", "request", "is not valid JSON", id="text"),
        pytest.param(b"\xff\xfe\x00", "request", "is not valid JSON", id="not-utf8"),
        pytest.param(b"", "W", BLANK, id="empty-body"),
        pytest.param(b"{}", "W", BLANK, id="empty-object"),
        pytest.param(b'{"wrong": {"body": "x"}}', "W", BLANK, id="missing-wrapper"),
        pytest.param(b'{"W": null}', "W", BLANK, id="wrapper-null"),
        pytest.param(b'{"W": "text"}', "W", "must be an object", id="wrapper-string"),
        pytest.param(b'{"W": ["a"]}', "W", "must be an object", id="wrapper-list"),
        pytest.param(b'{"W": 42}', "W", "must be an object", id="wrapper-number"),
        pytest.param(b'{"W": true}', "W", "must be an object", id="wrapper-bool"),
        pytest.param(b"[]", "request", "must be an object", id="top-level-empty-list"),
        pytest.param(b'[{"W": {}}]', "request", "must be an object", id="top-level-list"),
        pytest.param(b'"text"', "request", "must be an object", id="top-level-string"),
        pytest.param(b"42", "request", "must be an object", id="top-level-number"),
        pytest.param(b"null", "request", None, id="top-level-null"),
    ],
)
def test_malformed_bodies_are_422(body_endpoint, body, key, message):
    client, method, url, wrapper = body_endpoint
    with unchanged():
        response = raw(client, method, url, body.replace(b"W", wrapper.encode()))
    errors = assert_error(response, 422, key.replace("W", wrapper), message)
    assert set(errors) == {key.replace("W", wrapper)}


def test_a_body_that_is_not_json_is_415(body_endpoint):
    client, method, url, _ = body_endpoint
    with unchanged():
        response = raw(
            client, method, url, b"user=x", content_type="application/x-www-form-urlencoded"
        )
    assert_error(response, 415, "content type", "must be application/json")


def case_id(case: tuple[Any, ...]) -> str:
    """``endpoint-field=value`` for a (endpoint, data, key, ...) case."""
    endpoint, data, key = case[:3]
    value = json.dumps(data[key]).replace('"', "'").replace(" ", "").replace("\\u0000", "NUL")
    return f"{endpoint}-{key}={value}"


WRONG_TYPES = [
    ("register", {**NEW_USER, "username": 42}, "username", "must be a string"),
    ("register", {**NEW_USER, "username": True}, "username", "must be a string"),
    ("register", {**NEW_USER, "email": {"address": "a@b.c"}}, "email", "must be a string"),
    ("register", {**NEW_USER, "password": ["password123"]}, "password", "must be a string"),
    ("login", {**LOGIN, "email": 42}, "email", "must be a string"),
    ("login", {**LOGIN, "password": 12345678}, "password", "must be a string"),
    ("update-user", {"bio": 42}, "bio", "must be a string"),
    ("update-user", {"image": False}, "image", "must be a string"),
    ("update-user", {"email": {"a": 1}}, "email", "must be a string"),
    ("create-article", {**NEW_ARTICLE, "title": 42}, "title", "must be a string"),
    ("create-article", {**NEW_ARTICLE, "description": []}, "description", "must be a string"),
    ("create-article", {**NEW_ARTICLE, "body": {"md": "x"}}, "body", "must be a string"),
    ("create-article", {**NEW_ARTICLE, "tagList": "dragons"}, "tagList", None),
    ("create-article", {**NEW_ARTICLE, "tagList": {"a": "b"}}, "tagList", None),
    ("create-article", {**NEW_ARTICLE, "tagList": None}, "tagList", None),
    ("create-article", {**NEW_ARTICLE, "tagList": [None]}, "tagList", None),
    ("create-article", {**NEW_ARTICLE, "tagList": ["ok", 42]}, "tagList", None),
    ("create-article", {**NEW_ARTICLE, "tagList": [["nested"]]}, "tagList", None),
    ("update-article", {"title": 42}, "title", "must be a string"),
    ("update-article", {"tagList": None}, "tagList", None),
    ("update-article", {"tagList": "one"}, "tagList", None),
    ("update-article", {"tagList": ["one", None]}, "tagList", None),
    ("create-comment", {"body": 42}, "body", "must be a string"),
    ("create-comment", {"body": ["a"]}, "body", "must be a string"),
]


@pytest.mark.parametrize(
    ("endpoint", "data", "key", "message"), WRONG_TYPES, ids=[case_id(c) for c in WRONG_TYPES]
)
def test_wrong_json_types_are_422_keyed_by_field(
    endpoint, data, key, message, article, alice_api, bob_api
):
    method, url, wrapper, who = BODY_ENDPOINTS[endpoint]
    client = {"alice": alice_api, "bob": bob_api, None: APIClient()}[who]
    with unchanged():
        response = send(client, method, url.format(slug=article.slug), {wrapper: data})
    errors = assert_error(response, 422, key, message)
    assert set(errors) == {key}


def test_a_body_beyond_the_upload_limit_is_a_json_error(alice_api, settings):
    """Django refuses bodies above DATA_UPLOAD_MAX_MEMORY_SIZE; the API must still answer in
    its own error shape (413 Content Too Large, or 400), never Django's HTML error page."""
    body = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    alice_api.raise_request_exception = False
    data = json.dumps({"article": {**NEW_ARTICLE, "body": body}})
    with unchanged():
        response = raw(alice_api, "POST", "/api/articles", data.encode())
    assert response.status_code in (400, 413), response.status_code
    assert_error(response, response.status_code)


def test_deeply_nested_json_is_422_not_500(alice_api):
    """Nesting deeper than the JSON parser's recursion limit is invalid input, not a crash."""
    alice_api.raise_request_exception = False
    depth = 100_000
    data = b'{"article": ' + b"[" * depth + b"]" * depth + b"}"
    with unchanged():
        response = raw(alice_api, "POST", "/api/articles", data)
    assert_error(response, 422, "request", "is not valid JSON")


def test_read_only_fields_in_a_body_are_ignored(alice_api, article):
    data = {
        **NEW_ARTICLE,
        "slug": "chosen-slug",
        "favoritesCount": 99,
        "favorited": True,
        "author": {"username": "bob"},
        "createdAt": "2000-01-01T00:00:00.000Z",
    }
    response = send(alice_api, "POST", "/api/articles", {"article": data})
    assert response.status_code == 201, response.content
    created = response.json()["article"]
    assert created["slug"] == "a-title"
    assert created["favoritesCount"] == 0
    assert created["favorited"] is False
    assert created["author"]["username"] == "alice"
    assert not created["createdAt"].startswith("2000")
    response = send(alice_api, "PUT", "/api/user", {"user": {"articlesCount": 5, "is_staff": True}})
    assert response.status_code == 200, response.content
    assert not User.objects.get(username="alice").is_staff
    assert_counters_consistent()


# --- required fields -------------------------------------------------------------------------

EMPTY_VALUES = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="spaces"),
    pytest.param(" \t\n ", id="whitespace"),
    pytest.param(None, id="null"),
    pytest.param(MISSING, id="missing"),
]


@pytest.mark.parametrize("value", EMPTY_VALUES)
@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_register_requires_every_field(api, value, field):
    with unchanged():
        response = send(api, "POST", "/api/users", {"user": without(NEW_USER, value, field)})
    errors = assert_error(response, 422, field, BLANK)
    assert set(errors) == {field}


def test_register_reports_every_blank_field_at_once(api):
    with unchanged():
        response = send(api, "POST", "/api/users", {"user": {"username": "", "email": " "}})
    errors = assert_error(response, 422)
    for field in ("username", "email", "password"):
        assert errors[field] == [BLANK]


@pytest.mark.parametrize("value", EMPTY_VALUES)
@pytest.mark.parametrize("field", ["email", "password"])
def test_login_requires_email_and_password(api, alice, value, field):
    with unchanged():
        response = send(api, "POST", "/api/users/login", {"user": without(LOGIN, value, field)})
    errors = assert_error(response, 422, field, BLANK)
    assert set(errors) == {field}


@pytest.mark.parametrize("value", EMPTY_VALUES)
@pytest.mark.parametrize("field", ["title", "description", "body"])
def test_create_article_requires_title_description_and_body(alice_api, article, value, field):
    with unchanged():
        response = send(
            alice_api, "POST", "/api/articles", {"article": without(NEW_ARTICLE, value, field)}
        )
    errors = assert_error(response, 422, field, BLANK)
    assert set(errors) == {field}


@pytest.mark.parametrize("value", EMPTY_VALUES)
def test_create_comment_requires_a_body(bob_api, article, value):
    data = without({"body": "x"}, value, "body")
    with unchanged():
        response = send(
            bob_api, "POST", f"/api/articles/{article.slug}/comments", {"comment": data}
        )
    assert_error(response, 422, "body", BLANK)


@pytest.mark.parametrize("value", ["", "   ", None])
@pytest.mark.parametrize("field", ["email", "username", "password"])
def test_update_user_cannot_blank_a_required_field(alice_api, value, field):
    with unchanged():
        response = send(alice_api, "PUT", "/api/user", {"user": {field: value}})
    assert_error(response, 422, field, BLANK)


@pytest.mark.parametrize("value", ["", "   ", None])
@pytest.mark.parametrize("field", ["title", "description", "body"])
def test_update_article_cannot_blank_a_required_field(alice_api, article, value, field):
    with unchanged():
        response = send(
            alice_api, "PUT", f"/api/articles/{article.slug}", {"article": {field: value}}
        )
    assert_error(response, 422, field, BLANK)


# --- lengths and counts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "limit"),
    [("title", 200), ("description", 1_000), ("body", 100_000)],
)
def test_article_field_lengths(alice_api, article, field, limit):
    message = f"is too long (maximum is {limit} characters)"
    with unchanged():
        response = send(
            alice_api,
            "POST",
            "/api/articles",
            {"article": {**NEW_ARTICLE, field: "x" * (limit + 1)}},
        )
        assert_error(response, 422, field, message)
        response = send(
            alice_api,
            "PUT",
            f"/api/articles/{article.slug}",
            {"article": {field: "y" * (limit + 1)}},
        )
        assert_error(response, 422, field, message)
    response = send(
        alice_api, "POST", "/api/articles", {"article": {**NEW_ARTICLE, field: "x" * limit}}
    )
    assert response.status_code == 201, response.content
    assert response.json()["article"][field] == "x" * limit
    assert_counters_consistent()


def test_comment_length(bob_api, article):
    url = f"/api/articles/{article.slug}/comments"
    with unchanged():
        response = send(bob_api, "POST", url, {"comment": {"body": "x" * 10_001}})
    assert_error(response, 422, "body", "is too long (maximum is 10000 characters)")
    response = send(bob_api, "POST", url, {"comment": {"body": "x" * 10_000}})
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_too_many_tags(alice_api, article, method):
    url = "/api/articles" if method == "POST" else f"/api/articles/{article.slug}"
    data = NEW_ARTICLE if method == "POST" else {}
    with unchanged():
        response = send(
            alice_api, method, url, {"article": {**data, "tagList": [f"t{n}" for n in range(11)]}}
        )
        assert_error(response, 422, "tagList")
        # Far too many is refused the same way, before any work.
        response = send(
            alice_api, method, url, {"article": {**data, "tagList": [f"t{n}" for n in range(500)]}}
        )
        assert_error(response, 422, "tagList")
    response = send(
        alice_api, method, url, {"article": {**data, "tagList": [f"t{n}" for n in range(10)]}}
    )
    assert response.status_code in (200, 201), response.content
    assert response.json()["article"]["tagList"] == [f"t{n}" for n in range(10)]
    assert_counters_consistent()


def test_duplicate_tags_count_once_towards_the_limit(alice_api):
    tags = [f"t{n}" for n in range(10)] * 3
    response = send(
        alice_api, "POST", "/api/articles", {"article": {**NEW_ARTICLE, "tagList": tags}}
    )
    assert response.status_code == 201, response.content
    assert response.json()["article"]["tagList"] == tags[:10]


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_tag_length(alice_api, article, method):
    url = "/api/articles" if method == "POST" else f"/api/articles/{article.slug}"
    data = NEW_ARTICLE if method == "POST" else {}
    with unchanged():
        response = send(alice_api, method, url, {"article": {**data, "tagList": ["ok", "x" * 41]}})
    assert_error(response, 422, "tagList")
    response = send(alice_api, method, url, {"article": {**data, "tagList": ["x" * 40]}})
    assert response.status_code in (200, 201), response.content
    assert response.json()["article"]["tagList"] == ["x" * 40]


def test_username_length(api):
    with unchanged():
        response = send(api, "POST", "/api/users", {"user": {**NEW_USER, "username": "u" * 41}})
    assert_error(response, 422, "username", "is too long (maximum is 40 characters)")
    response = send(api, "POST", "/api/users", {"user": {**NEW_USER, "username": "u" * 40}})
    assert response.status_code == 201, response.content


# --- unicode and emoji -----------------------------------------------------------------------


def test_unicode_usernames_are_accepted(api):
    for name in ("José", "Zoë_92", "日本語", "Ελένη"):
        data = {"user": {"username": name, "email": f"{len(name)}{ord(name[0])}@example.com"}}
        data["user"]["password"] = "password123"
        response = send(api, "POST", "/api/users", data)
        assert response.status_code == 201, response.content
        assert response.json()["user"]["username"] == name


@pytest.mark.parametrize("name", ["😀", "cool😎guy", "has space", "a/b", "a?b", "a#b", "../etc"])
def test_usernames_outside_letters_digits_dot_dash_underscore_are_422(api, alice_api, name):
    with unchanged():
        response = send(api, "POST", "/api/users", {"user": {**NEW_USER, "username": name}})
        assert_error(response, 422, "username")
        response = send(alice_api, "PUT", "/api/user", {"user": {"username": name}})
        assert_error(response, 422, "username")


def test_emoji_only_titles_get_the_fallback_slug(alice_api, api):
    slugs = []
    for title in ("🎉", "🎉🎉", "!!!"):
        response = send(
            alice_api, "POST", "/api/articles", {"article": {**NEW_ARTICLE, "title": title}}
        )
        assert response.status_code == 201, response.content
        slug = response.json()["article"]["slug"]
        assert slug == "article" or slug.startswith("article-")
        slugs.append(slug)
        assert api.get(f"/api/articles/{slug}").json()["article"]["title"] == title
    assert len(set(slugs)) == 3


def test_emoji_and_unicode_tags_and_bodies(alice_api, api):
    data = {**NEW_ARTICLE, "body": "💥 Ünïcödé 漢字", "tagList": ["🐍", "ñandú", "漢字"]}
    response = send(alice_api, "POST", "/api/articles", {"article": data})
    assert response.status_code == 201, response.content
    article = response.json()["article"]
    assert article["body"] == "💥 Ünïcödé 漢字"
    assert article["tagList"] == ["ñandú", "漢字", "🐍"]
    assert api.get("/api/articles", {"tag": "🐍"}).json()["articlesCount"] == 1
    assert_counters_consistent()


# --- uniqueness and sign-in ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "keys"),
    [
        ({"username": "ALICE", "email": "new@example.com"}, {"username"}),
        ({"username": "alice", "email": "new@example.com"}, {"username"}),
        ({"username": "newbie", "email": "Alice@EXAMPLE.com"}, {"email"}),
        ({"username": "Alice", "email": "ALICE@example.com"}, {"username", "email"}),
    ],
)
def test_taken_username_or_email_is_409(api, alice, data, keys):
    with unchanged():
        response = send(api, "POST", "/api/users", {"user": {**data, "password": "password123"}})
    errors = assert_error(response, 409)
    assert set(errors) == {*keys}
    for key in keys:
        assert errors[key] == ["has already been taken"]


@pytest.mark.parametrize(
    ("first", "second"),
    [("Élise", "élise"), ("ΑΘΗΝΑ", "αθηνα"), ("ÖZIL", "özil")],
    ids=["latin", "greek", "umlaut"],
)
def test_usernames_are_unique_ignoring_case_in_any_script(api, first, second):
    """Usernames may use letters of any script, and "Jake"/"jake" are one person: so are
    "Élise"/"élise"."""
    user = {"username": first, "email": "first@example.com", "password": "password123"}
    assert send(api, "POST", "/api/users", {"user": user}).status_code == 201
    with unchanged():
        response = send(
            api,
            "POST",
            "/api/users",
            {
                "user": {
                    "username": second,
                    "email": "second@example.com",
                    "password": "password123",
                }
            },
        )
    assert_error(response, 409, "username", "has already been taken")


@pytest.mark.parametrize("name", ["Élise", "ΑΘΗΝΑ", "ÖZIL"], ids=["latin", "greek", "umlaut"])
def test_profiles_are_found_ignoring_case_in_any_script(api, name):
    user = {"username": name, "email": "someone@example.com", "password": "password123"}
    assert send(api, "POST", "/api/users", {"user": user}).status_code == 201
    for spelling in (name, name.lower(), name.upper()):
        response = api.get(f"/api/profiles/{quote(spelling)}")
        assert response.status_code == 200, (spelling, response.content)
        assert response.json()["profile"]["username"] == name


def test_sign_in_ignores_the_case_of_non_ascii_email_letters(api):
    user = {"username": "idn", "email": "jake@ÉXAMPLE.com", "password": "password123"}
    assert send(api, "POST", "/api/users", {"user": user}).status_code == 201
    login = {"email": "jake@éxample.com", "password": "password123"}
    response = send(api, "POST", "/api/users/login", {"user": login})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"username": "BOB"}, "username"),
        ({"email": "Bob@Example.COM"}, "email"),
    ],
)
def test_update_to_a_taken_username_or_email_is_409(alice_api, bob, data, key):
    with unchanged():
        response = send(alice_api, "PUT", "/api/user", {"user": data})
    assert_error(response, 409, key, "has already been taken")


def test_update_to_your_own_name_in_another_case_is_allowed(alice_api):
    response = send(alice_api, "PUT", "/api/user", {"user": {"username": "Alice"}})
    assert response.status_code == 200, response.content
    assert response.json()["user"]["username"] == "Alice"


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "alice@example.com", "password": "wrong-password"},
        {"email": "alice@example.com", "password": "PASSWORD123"},
        {"email": "nobody@example.com", "password": "password123"},
        {"email": "not-even-an-email", "password": "password123"},
    ],
)
def test_bad_credentials_are_401_without_telling_which(api, alice, credentials):
    with unchanged():
        response = send(api, "POST", "/api/users/login", {"user": credentials})
    errors = assert_error(response, 401, "credentials", "invalid")
    assert set(errors) == {"credentials"}


def test_inactive_users_cannot_sign_in(api, alice):
    User.objects.filter(pk=alice.pk).update(is_active=False)
    response = send(api, "POST", "/api/users/login", {"user": LOGIN})
    assert_error(response, 401, "credentials", "invalid")


# --- user field rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox",
        "//evil.example/x.png",
        "ftp://example.com/x.png",
        "not a url",
        "https://",
    ],
)
def test_invalid_image_urls_are_422(alice_api, image):
    with unchanged():
        response = send(alice_api, "PUT", "/api/user", {"user": {"image": image}})
    assert_error(response, 422, "image")


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com"])
def test_invalid_emails_are_422(api, alice_api, email):
    with unchanged():
        response = send(api, "POST", "/api/users", {"user": {**NEW_USER, "email": email}})
        assert_error(response, 422, "email", "is invalid")
        response = send(alice_api, "PUT", "/api/user", {"user": {"email": email}})
        assert_error(response, 422, "email", "is invalid")


def test_short_passwords_are_422(api, alice_api):
    with unchanged():
        response = send(api, "POST", "/api/users", {"user": {**NEW_USER, "password": "short7c"}})
        assert_error(response, 422, "password")
        response = send(alice_api, "PUT", "/api/user", {"user": {"password": "short7c"}})
        assert_error(response, 422, "password")
    # The old password still works after the refused change.
    assert send(api, "POST", "/api/users/login", {"user": LOGIN}).status_code == 200


def test_eight_and_sixty_four_character_passwords_are_accepted(api):
    for n, password in enumerate(("bonjour1", "a" * 64)):
        user = {"username": f"pw{n}", "email": f"pw{n}@example.com", "password": password}
        assert send(api, "POST", "/api/users", {"user": user}).status_code == 201
        login = {"email": user["email"], "password": password}
        assert send(api, "POST", "/api/users/login", {"user": login}).status_code == 200


# --- NUL characters --------------------------------------------------------------------------


NUL_BODIES = [
    ("register", {**NEW_USER, "username": "nul\x00user"}, "username"),
    ("register", {**NEW_USER, "email": "nul\x00@example.com"}, "email"),
    ("register", {**NEW_USER, "password": "password\x00123"}, "password"),
    ("login", {**LOGIN, "email": "alice@example.com\x00"}, "email"),
    ("login", {**LOGIN, "password": "password123\x00"}, "password"),
    ("update-user", {"bio": "a\x00b"}, "bio"),
    ("update-user", {"image": "https://example.com/\x00.png"}, "image"),
    ("update-user", {"username": "\x00"}, "username"),
    ("create-article", {**NEW_ARTICLE, "title": "a\x00b"}, "title"),
    ("create-article", {**NEW_ARTICLE, "description": "a\x00b"}, "description"),
    ("create-article", {**NEW_ARTICLE, "body": "a\x00b"}, "body"),
    ("create-article", {**NEW_ARTICLE, "tagList": ["a\x00b"]}, "tagList"),
    ("update-article", {"body": "\x00"}, "body"),
    ("update-article", {"tagList": ["ok", "\x00"]}, "tagList"),
    ("create-comment", {"body": "a\x00b"}, "body"),
]


@pytest.mark.parametrize(
    ("endpoint", "data", "key"), NUL_BODIES, ids=[case_id(c) for c in NUL_BODIES]
)
def test_nul_characters_in_bodies_are_422(endpoint, data, key, article, alice_api, bob_api):
    method, url, wrapper, who = BODY_ENDPOINTS[endpoint]
    client = {"alice": alice_api, "bob": bob_api, None: APIClient()}[who]
    with unchanged():
        response = send(client, method, url.format(slug=article.slug), {wrapper: data})
    assert_error(response, 422, key)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("/api/articles/a%00b", "article"),
        ("/api/articles/a%00b/comments", "article"),
        ("/api/profiles/a%00b", "profile"),
    ],
)
def test_nul_characters_in_paths_are_404_not_500(url, key, article):
    client = APIClient(raise_request_exception=False)
    assert_error(client.get(url), 404, key, "not found")


@pytest.mark.parametrize("param", ["tag", "author", "favorited"])
def test_nul_characters_in_list_filters_are_not_500(param, article):
    client = APIClient(raise_request_exception=False)
    response = client.get(f"/api/articles?{param}=a%00b")
    assert response.status_code in (200, 422), (response.status_code, response.content)
    if response.status_code == 200:
        assert response.json() == {"articles": [], "articlesCount": 0}
    else:
        assert_error(response, 422, param)


@pytest.mark.parametrize(
    ("method", "url", "data", "key"),
    [
        ("POST", "/api/articles/a%00b/favorite", None, "article"),
        ("PUT", "/api/articles/a%00b", {"article": {"body": "x"}}, "article"),
        ("POST", "/api/articles/a%00b/comments", {"comment": {"body": "x"}}, "article"),
        ("POST", "/api/profiles/a%00b/follow", None, "profile"),
    ],
)
def test_nul_characters_in_signed_in_paths_are_404_not_500(
    bob_api, article, method, url, data, key
):
    bob_api.raise_request_exception = False
    with unchanged():
        response = _call(bob_api, method, url, data, article, None)
    assert_error(response, 404, key, "not found")


# --- authentication --------------------------------------------------------------------------

# Every endpoint that needs a signed-in user, on an existing article/profile/comment.
SIGNED_IN_ONLY = [
    ("GET", "/api/user", None),
    ("PUT", "/api/user", {"user": {"bio": "test"}}),
    ("GET", "/api/articles/feed", None),
    ("POST", "/api/articles", {"article": NEW_ARTICLE}),
    ("PUT", "/api/articles/{slug}", {"article": {"body": "hijacked"}}),
    ("DELETE", "/api/articles/{slug}", None),
    ("POST", "/api/articles/{slug}/favorite", None),
    ("DELETE", "/api/articles/{slug}/favorite", None),
    ("POST", "/api/articles/{slug}/comments", {"comment": {"body": "x"}}),
    ("DELETE", "/api/articles/{slug}/comments/{comment}", None),
    ("POST", "/api/profiles/alice/follow", None),
    ("DELETE", "/api/profiles/bob/follow", None),
    # Authentication comes before existence: unknown things are still a 401.
    ("PUT", "/api/articles/no-such-slug", {"article": {"body": "x"}}),
    ("DELETE", "/api/articles/no-such-slug", None),
    ("POST", "/api/articles/no-such-slug/favorite", None),
    ("DELETE", "/api/articles/no-such-slug/favorite", None),
    ("POST", "/api/articles/no-such-slug/comments", {"comment": {"body": "x"}}),
    ("DELETE", "/api/articles/no-such-slug/comments/1", None),
    ("DELETE", "/api/articles/{slug}/comments/99999", None),
    ("DELETE", "/api/articles/{slug}/comments/not-an-integer", None),
    ("POST", "/api/profiles/no-such-user/follow", None),
    ("DELETE", "/api/profiles/no-such-user/follow", None),
]


def _call(client, method, url, data, article, comment):
    url = url.format(slug=article.slug, comment=comment.pk if comment else 0)
    return send(client, method, url, data) if data is not None else client.generic(method, url)


@pytest.mark.parametrize(("method", "url", "data"), SIGNED_IN_ONLY)
def test_no_token_is_401_is_missing(api, method, url, data, article, comment):
    with unchanged():
        response = _call(api, method, url, data, article, comment)
    errors = assert_error(response, 401, "token", "is missing")
    assert set(errors) == {"token"}
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize(("method", "url", "data"), SIGNED_IN_ONLY)
def test_garbage_token_is_401_is_invalid(method, url, data, article, comment):
    with unchanged():
        response = _call(bearer("garbage"), method, url, data, article, comment)
    assert_error(response, 401, "token", "is invalid")


@pytest.mark.parametrize(("method", "url", "data"), SIGNED_IN_ONLY)
def test_expired_token_is_401_has_expired(bob, method, url, data, article, comment):
    expired = jwt_for(
        bob, iat=datetime.now(UTC) - timedelta(days=8), exp=datetime.now(UTC) - timedelta(seconds=5)
    )
    with unchanged():
        response = _call(bearer(expired), method, url, data, article, comment)
    assert_error(response, 401, "token", "has expired")


@pytest.mark.parametrize(
    "header",
    [
        "Token garbage",
        "Token a.b.c",
        "Token eyJhbGciOiJIUzI1NiJ9.e30.invalid-signature",
        "Token",
        "Bearer",
        "Token one two",
        "Token tökén",
    ],
)
@pytest.mark.parametrize(
    "url",
    [
        "/api/user",
        "/api/articles",
        "/api/articles/{slug}",
        "/api/articles/{slug}/comments",
        "/api/profiles/alice",
    ],
)
def test_a_bad_token_is_401_even_where_signing_in_is_optional(header, url, article):
    client = APIClient()
    response = client.get(url.format(slug=article.slug), HTTP_AUTHORIZATION=header)
    assert_error(response, 401, "token", "is invalid")


def test_token_of_a_deleted_or_inactive_user_is_invalid(alice, bob):
    alice_token, bob_token = token_for(alice), token_for(bob)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    bob.delete()
    for token in (alice_token, bob_token):
        assert_error(bearer(token).get("/api/user"), 401, "token", "is invalid")


def test_token_signed_with_another_key_is_invalid(alice):
    forged = jwt_for(alice, key="not-the-secret-key-but-long-enough-for-hs256")
    assert_error(bearer(forged).get("/api/user"), 401, "token", "is invalid")


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token", "bearer"])
def test_token_and_bearer_schemes_are_accepted(alice, scheme):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token_for(alice)}")
    response = client.get("/api/user")
    assert response.status_code == 200, response.content
    assert response.json()["user"]["username"] == "alice"


def test_another_scheme_counts_as_no_token(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token_for(alice)}")
    assert_error(client.get("/api/user"), 401, "token", "is missing")


# --- authorization ---------------------------------------------------------------------------


def test_editing_another_users_article_is_403(bob_api, article):
    with unchanged():
        response = send(bob_api, "PUT", f"/api/articles/{article.slug}", {"article": {"body": "x"}})
        assert_error(response, 403, "article", "forbidden")
        response = send(
            bob_api,
            "PUT",
            f"/api/articles/{article.slug}",
            {"article": {"title": "Hijacked", "tagList": []}},
        )
        assert_error(response, 403, "article", "forbidden")


def test_deleting_another_users_article_is_403(bob_api, article):
    with unchanged():
        response = bob_api.delete(f"/api/articles/{article.slug}")
    assert_error(response, 403, "article", "forbidden")
    assert Article.objects.filter(pk=article.pk).exists()


def test_deleting_another_users_comment_is_403(article, comment, client_for):
    # Carol is neither the comment's author (Bob) nor the article's (Alice).
    carol = UserFactory(username="carol")
    with unchanged():
        response = client_for(carol).delete(f"/api/articles/{article.slug}/comments/{comment.pk}")
    assert_error(response, 403, "comment", "forbidden")


# --- not found -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "data", "key"),
    [
        ("GET", "/api/articles/no-such-slug", None, "article"),
        ("PUT", "/api/articles/no-such-slug", {"article": {"body": "x"}}, "article"),
        ("DELETE", "/api/articles/no-such-slug", None, "article"),
        ("POST", "/api/articles/no-such-slug/favorite", None, "article"),
        ("DELETE", "/api/articles/no-such-slug/favorite", None, "article"),
        ("GET", "/api/articles/no-such-slug/comments", None, "article"),
        ("POST", "/api/articles/no-such-slug/comments", {"comment": {"body": "x"}}, "article"),
        # "not found" comes before "invalid", though the body is checked before the write
        ("POST", "/api/articles/no-such-slug/comments", {"comment": {"body": " "}}, "article"),
        ("POST", "/api/articles/no-such-slug/comments", {"comment": 1}, "article"),
        ("POST", "/api/articles/no%00slug/comments", {"comment": {"body": "x"}}, "article"),
        ("DELETE", "/api/articles/no-such-slug/comments/1", None, "article"),
        ("DELETE", "/api/articles/no-such-slug/comments/{comment}", None, "article"),
        ("DELETE", "/api/articles/no-such-slug/comments/not-an-integer", None, "article"),
        ("DELETE", "/api/articles/{slug}/comments/99999", None, "comment"),
        ("DELETE", "/api/articles/{slug}/comments/0", None, "comment"),
        ("DELETE", "/api/articles/{slug}/comments/-1", None, "comment"),
        ("DELETE", "/api/articles/{slug}/comments/99999999999999999999999", None, "comment"),
        ("GET", "/api/profiles/no-such-user", None, "profile"),
        ("POST", "/api/profiles/no-such-user/follow", None, "profile"),
        ("DELETE", "/api/profiles/no-such-user/follow", None, "profile"),
    ],
)
def test_unknown_things_are_404(bob_api, method, url, data, key, article, comment):
    with unchanged():
        response = _call(bob_api, method, url, data, article, comment)
    errors = assert_error(response, 404, key, "not found")
    assert set(errors) == {key}


def test_anonymous_reads_of_unknown_things_are_404(api):
    assert_error(api.get("/api/articles/no-such-slug"), 404, "article", "not found")
    assert_error(api.get("/api/articles/no-such-slug/comments"), 404, "article", "not found")
    assert_error(api.get("/api/profiles/no-such-user"), 404, "profile", "not found")


def test_a_comment_of_another_article_is_not_found(bob, bob_api, article, comment):
    other = make_article(bob, title="Bob's own")
    with unchanged():
        response = bob_api.delete(f"/api/articles/{other.slug}/comments/{comment.pk}")
    assert_error(response, 404, "comment", "not found")


@pytest.mark.parametrize("comment_id", ["not-an-integer", "1.5", "0x1f", "1e3", "%20"])
def test_a_non_integer_comment_id_is_422(bob_api, article, comment_id):
    with unchanged():
        response = bob_api.delete(f"/api/articles/{article.slug}/comments/{comment_id}")
    errors = assert_error(response, 422, "id", "must be an integer")
    assert set(errors) == {"id"}


def test_anonymous_feed_is_401(api):
    assert_error(api.get("/api/articles/feed"), 401, "token", "is missing")


# --- paging ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/articles", "/api/articles/feed"])
@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("limit", "-1", "must be at least 1"),
        ("limit", "0", "must be at least 1"),
        ("limit", "abc", "must be an integer"),
        ("limit", "1.5", "must be an integer"),
        ("limit", "1e3", "must be an integer"),
        ("offset", "-1", "must be at least 0"),
        ("offset", "abc", "must be an integer"),
        ("offset", "2.0", "must be an integer"),
    ],
)
def test_bad_limit_or_offset_is_422(bob_api, article, url, param, value, message):
    response = bob_api.get(url, {param: value})
    errors = assert_error(response, 422, param, message)
    assert set(errors) == {param}


@pytest.mark.parametrize("url", ["/api/articles", "/api/articles/feed"])
def test_offset_beyond_the_maximum_is_422(bob_api, article, url):
    response = bob_api.get(url, {"offset": settings.API_MAX_OFFSET + 1})
    assert_error(response, 422, "offset")
    response = bob_api.get(url, {"offset": settings.API_MAX_OFFSET})
    assert response.status_code == 200, response.content
    assert response.json()["articles"] == []
    assert response.json()["articlesCount"] == 1


def test_limit_above_the_page_size_is_capped_not_refused(alice, api):
    assert settings.API_MAX_PAGE_SIZE == 100
    make_articles(alice, 101)
    for limit in (101, 1000, 2**31 - 1):
        response = api.get("/api/articles", {"limit": limit})
        assert response.status_code == 200, (limit, response.content)
        data = response.json()
        assert len(data["articles"]) == 100
        assert data["articlesCount"] == 101
    assert len(api.get("/api/articles", {"limit": 1000, "offset": 100}).json()["articles"]) == 1


@pytest.mark.parametrize("url", ["/api/articles", "/api/articles/feed"])
def test_a_limit_beyond_any_integer_column_is_capped_too(bob_api, article, url):
    """ "limit above the page size is capped, not an error": however large the number."""
    response = bob_api.get(url, {"limit": 10**20})
    assert response.status_code == 200, response.content
    assert response.json()["articlesCount"] == 1
    assert len(response.json()["articles"]) == 1


def test_the_page_size_cap_follows_the_setting(alice, bob, bob_api, settings):
    settings.API_MAX_PAGE_SIZE = 2
    make_articles(alice, 3)
    follow(bob, alice)
    for url in ("/api/articles", "/api/articles/feed"):
        data = bob_api.get(url, {"limit": 50}).json()
        assert len(data["articles"]) == 2
        assert data["articlesCount"] == 3


# --- URLs and methods ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "/api/users/"),
        ("POST", "/api/users/login/"),
        ("GET", "/api/user/"),
        ("PUT", "/api/user/"),
        ("GET", "/api/profiles/alice/"),
        ("POST", "/api/profiles/alice/follow/"),
        ("GET", "/api/articles/"),
        ("POST", "/api/articles/"),
        ("GET", "/api/articles/feed/"),
        ("GET", "/api/articles/{slug}/"),
        ("PUT", "/api/articles/{slug}/"),
        ("DELETE", "/api/articles/{slug}/"),
        ("POST", "/api/articles/{slug}/favorite/"),
        ("GET", "/api/articles/{slug}/comments/"),
        ("POST", "/api/articles/{slug}/comments/"),
        ("DELETE", "/api/articles/{slug}/comments/{comment}/"),
        ("GET", "/api/tags/"),
        ("GET", "/api/nothing-here"),
    ],
)
def test_trailing_slashes_and_unknown_urls_are_404_json_not_redirects(
    bob_api, method, url, article, comment
):
    with unchanged():
        response = bob_api.generic(
            method,
            url.format(slug=article.slug, comment=comment.pk),
            b'{"article": {"body": "x"}}',
            content_type="application/json",
        )
    assert_error(response, 404)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PATCH", "/api/user"),
        ("GET", "/api/users"),
        ("DELETE", "/api/tags"),
        ("PUT", "/api/articles"),
    ],
)
def test_unsupported_methods_are_405(bob_api, method, url):
    with unchanged():
        response = bob_api.generic(method, url, b"{}", content_type="application/json")
    assert_error(response, 405)


def test_error_responses_declare_utf8_json(api, bob_api, article):
    responses = {
        "401": api.get("/api/user"),
        "404-view": api.get("/api/articles/no-such-slug"),
        "404-url": api.get("/api/articles/"),
        "405": bob_api.patch("/api/user", {}, format="json"),
        "415": api.post("/api/users", "x=1", content_type="application/x-www-form-urlencoded"),
        "422": raw(api, "POST", "/api/users", b"{"),
    }
    types = {name: r["Content-Type"] for name, r in responses.items()}
    assert types == dict.fromkeys(responses, JSON_UTF8)


# --- the whole body: each message once, under a key it reads well after -------------------
# RealWorld front ends show every entry as "<key> <message>" (ADR 0006).


def test_an_article_with_every_field_blank_names_each_field_once(alice_api):
    blank = {"title": " ", "description": "", "body": None}
    response = send(alice_api, "POST", "/api/articles", {"article": blank})
    assert response.status_code == 422
    assert response.json() == {
        "errors": {"title": [BLANK], "description": [BLANK], "body": [BLANK]}
    }


@pytest.mark.parametrize(
    ("request_", "status", "errors"),
    [
        pytest.param(
            ("POST", "/api/users/login", {"user": {**LOGIN, "password": "wrong-password"}}),
            401,
            {"credentials": ["invalid"]},  # RealWorld's Hurl suite checks exactly this
            id="sign-in",
        ),
        pytest.param(("GET", "/api/user", None), 401, {"token": ["is missing"]}, id="no-token"),
        pytest.param(
            ("GET", "/api/articles/no-such-slug", None),
            404,
            {"article": ["not found"]},
            id="no-article",
        ),
        pytest.param(
            ("POST", "/api/articles/{slug}/comments", {"comment": {"body": ""}}),
            401,
            {"token": ["is missing"]},
            id="comment-no-token",
        ),
        pytest.param(
            ("GET", "/api/articles/", None), 404, {"resource": ["not found"]}, id="no-url"
        ),
        pytest.param(
            ("PATCH", "/api/user", {}), 405, {"method": ["is not allowed here"]}, id="405"
        ),
        pytest.param(
            ("POST", "/api/users", [{"user": {}}]),
            422,
            {"request": ["must be an object"]},
            id="not-an-object",
        ),
        pytest.param(
            ("POST", "/api/users", {"user": {**NEW_USER, "password": "short"}}),
            422,
            {"password": ["is too short (minimum is 8 characters)"]},
            id="short-password",
        ),
    ],
)
def test_error_bodies_are_exactly_field_keyed(api, alice_api, article, request_, status, errors):
    method, url, data = request_
    url = url.format(slug=article.slug)
    client = alice_api if status == 405 else api  # signing in comes before the method
    response = send(client, method, url, data) if data is not None else client.generic(method, url)
    assert response.status_code == status, response.content
    assert response.json() == {"errors": errors}


def test_a_comment_with_a_blank_body_is_keyed_by_its_body(bob_api, article):
    response = send(
        bob_api, "POST", f"/api/articles/{article.slug}/comments", {"comment": {"body": " "}}
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {"body": [BLANK]}}


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([f"t{n}" for n in range(11)], "has more than 10 tags"),
        ([f"t{n}" for n in range(101)], "has more than 10 tags"),
        (["x" * 41], "has a tag longer than 40 characters"),
        (["a,b"], "has a tag with a comma or a NUL character"),
        (["ok", 42, None], "may contain only strings"),
    ],
    ids=["11", "101", "long", "comma", "not-strings"],
)
def test_tag_list_messages_read_after_their_key(alice_api, tags, message):
    response = send(
        alice_api, "POST", "/api/articles", {"article": {**NEW_ARTICLE, "tagList": tags}}
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {"tagList": [message]}}


def test_the_json_error_pages_are_field_keyed_too(db, settings):
    from django.test import Client

    settings.ROOT_URLCONF = "tests.web.failing_urls"
    client = Client(raise_request_exception=False)
    assert client.get("/api/fail").json() == {"errors": {"server": ["had an unexpected error"]}}
    assert client.get("/api/nothing-here").json() == {"errors": {"resource": ["not found"]}}


def test_the_accept_header_and_content_type_errors_read_well(api):
    response = api.get("/api/tags", HTTP_ACCEPT="text/csv")
    assert response.status_code == 406
    assert response.json() == {"errors": {"Accept header": ["cannot be satisfied"]}}
    response = api.post("/api/users", "x=1", content_type="text/plain")
    assert response.status_code == 415
    assert response.json() == {"errors": {"content type": ["must be application/json"]}}


# --- favorites and follows -------------------------------------------------------------------


def test_favoriting_twice_is_422(bob_api, article):
    with unchanged():
        response = bob_api.post(f"/api/articles/{article.slug}/favorite")
    assert_error(response, 422, "article")
    article.refresh_from_db()
    assert article.favorites_count == 1
    assert_counters_consistent()


def test_unfavoriting_a_non_favorite_is_422(alice_api, article):
    with unchanged():
        response = alice_api.delete(f"/api/articles/{article.slug}/favorite")
    assert_error(response, 422, "article")
    assert_counters_consistent()


def test_following_yourself_is_422(alice_api, alice, article):
    with unchanged():
        assert_error(alice_api.post("/api/profiles/alice/follow"), 422, "profile")
        assert_error(alice_api.post("/api/profiles/ALICE/follow"), 422, "profile")
        assert_error(alice_api.delete("/api/profiles/alice/follow"), 422, "profile")


def test_following_twice_is_422(bob_api, article):
    with unchanged():
        response = bob_api.post("/api/profiles/alice/follow")
    assert_error(response, 422, "profile")
    assert_counters_consistent()


def test_unfollowing_when_not_following_is_422(alice_api, article):
    with unchanged():
        response = alice_api.delete("/api/profiles/bob/follow")
    assert_error(response, 422, "profile")
    assert_counters_consistent()
