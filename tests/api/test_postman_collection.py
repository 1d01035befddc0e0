"""RealWorld's Postman collection, replayed over real HTTP against an empty database.

The collection is ``api/Conduit.postman_collection.json`` of RealWorld (MIT), now maintained in
realworld-apps/realworld (its ``info.description`` links there). The index this was written from
holds no copy from that repository; the copy replayed here is its mirror skaschimer/realworld at
commit 5cd08ae2c0736473baf3584b63f22cd1cfb40257 (141,876 characters). It is 86 requests in nine
folders: Auth; Articles; Articles, Favorite, Comments; Profiles; Pagination; Tags; Error Cases -
Auth; Error Cases - Articles & Comments; Error Cases - Profiles & Authorization. ``newman run``
sends them in order with the global variables APIURL, USERNAME, EMAIL and PASSWORD; its scripts
keep token, slug, slug2, commentId, celeb_token, celeb_slug1, celeb_slug2, neg_slug,
neg_comment_id and celeb_neg_slug in globals (``pm.globals.set``).

Each function below replays one folder. Every request has the collection's method, URL with
``{{variables}}``, raw body and headers. Most requests send ``Content-Type: application/json`` and
``X-Requested-With: XMLHttpRequest``. Some send only Content-Type, and the two "All Articles with
limit/offset" requests send no header at all. ``Authorization: Token {{token}}`` or
``{{celeb_token}}`` is sent only where the collection has it. Then every assertion of the request's
test script is recorded under its exact name: the ``tests['...'] =`` lines and the
``pm.test('...')`` blocks (``pm.expect(...).to.eql``, ``.to.be.an('array')``,
``pm.response.to.have.status``). They keep JavaScript's meaning: ``hasOwnProperty``, ``===``,
``||`` and ``&&`` with JavaScript truthiness, ``Number.isInteger``, ``Array.isArray`` and
``regex.test``. A TypeError or a failed ``JSON.parse`` ends a script, which newman reports as a
failed test script, and so does this replay. An exception inside a ``pm.test`` fails only that
test. The scripts guarded by ``if (!(environment.isIntegrationTest))`` run: without ``-e``,
newman's ``environment`` is empty, so the guard is true.

The collection expects a database that nothing else writes to. "All Articles with limit" asserts
``articlesCount === 2``: the two articles it has just created are the only ones. So this replays
it on an empty database. A server that passes every script makes 490 assertions in 86 requests.
On the demo data of ``make run`` (10 more articles), 'articlesCount is exactly 2 (total, not page
size)' and 'articlesCount is still 2 despite offset' fail, by the collection's design.

One request disagrees with Conduit. "Create Article - duplicate title" expects 409 and ``title:
has already been taken`` for a second article with the same title. Conduit gives the taken slug a
random suffix and answers 201 (ADR 0006), and its replay of the Hurl suite
(tests/api/test_realworld_suite.py) asserts that 201. Upstream's own Hurl file has since dropped
the 409 check: api/hurl/errors_articles.hurl has it at 97788cc, specs/api/hurl/errors_articles.hurl
does not at 8dd56ac. No server passes both suites: Conduit follows the current one, and this test
expects exactly that request to fail. newman agrees with this replay assertion by assertion: on an
empty database it reports 86 requests, 488 assertions with 2 failed, and 1 failed test script.
tests/api/postman/README.md has the newman commands and the details.

This replaces a replay of the older collection (gothinkster/realworld at 03f2a04, 32 requests).
That one still checked ``Article has "body" property`` on list items, which the current spec no
longer returns.
"""

import http.client
import json
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api.cookies import CookieJar

pytestmark = pytest.mark.django_db(transaction=True)


ISO_8601 = re.compile(
    r"^\d{4,}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d.\d+(?:[+-][0-2]\d:[0-5]\d|Z)$"
)
UNDEFINED = object()  # JavaScript's undefined: a property that is not there
ENVIRONMENT: dict[str, Any] = {}  # newman's `environment` when no -e is given


class ScriptError(Exception):
    """A JavaScript exception: the rest of the test script does not run."""


# --- JavaScript's meaning ---------------------------------------------------------------------


def get(obj: Any, key: str | int) -> Any:  # obj.key, obj[key]
    if obj is UNDEFINED or obj is None:
        what = "undefined" if obj is UNDEFINED else "null"
        raise ScriptError(f"TypeError: Cannot read properties of {what} (reading '{key}')")
    if isinstance(obj, dict):
        return obj.get(key, UNDEFINED) if isinstance(key, str) else UNDEFINED
    if isinstance(obj, list | str):
        if key == "length":
            return len(obj)
        if isinstance(key, int) and 0 <= key < len(obj):
            return obj[key]
    return UNDEFINED


def has(obj: Any, name: str) -> bool:  # obj.hasOwnProperty(name)
    get(obj, "hasOwnProperty")  # throws on undefined and null
    return isinstance(obj, dict) and name in obj


def truthy(value: Any) -> bool:
    if value is UNDEFINED or value is None or isinstance(value, bool):
        return value is True
    if isinstance(value, int | float):
        return value == value and value != 0  # NaN and 0 are falsy
    if isinstance(value, str):
        return value != ""
    return True  # objects and arrays, even empty ones


def or_(value: Any, default: Any) -> Any:  # value || default
    return value if truthy(value) else default


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def same(a: Any, b: Any) -> bool:  # a === b (and chai's eql for primitives)
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a is b  # true, false, null, undefined; objects by identity


def is_integer(value: Any) -> bool:  # Number.isInteger(value)
    return is_number(value) and math.isfinite(value) and value == int(value)


def iso(value: Any) -> bool:  # /.../.test(value): only a string can match
    return isinstance(value, str) and bool(ISO_8601.search(value))


# --- one newman run ---------------------------------------------------------------------------

Header = tuple[str, str]
JSON_TYPE: Header = ("Content-Type", "application/json")
XHR: Header = ("X-Requested-With", "XMLHttpRequest")
TOKEN: Header = ("Authorization", "Token {{token}}")
CELEB_TOKEN: Header = ("Authorization", "Token {{celeb_token}}")
PLAIN = [JSON_TYPE, XHR]
SIGNED = [JSON_TYPE, XHR, TOKEN]


class Collection:
    """One newman run: globals, and every assertion's (request, name, passed)."""

    def __init__(self, host: str, uid: str) -> None:
        self.globals: dict[str, Any] = {
            "APIURL": host + "/api",
            "USERNAME": uid,
            "EMAIL": f"{uid}@mail.com",
            # The runner's default is "password", refused in production as too common
            # (docs/api.md); the collection takes its PASSWORD variable. (Its duplicate-
            # registration case sends the literal "anything", also common: the replay runs with
            # the list off, as make run does.)
            "PASSWORD": "replayed-conduit-passphrase-7",
        }
        self.results: list[tuple[str, str, bool]] = []
        self.script_errors: list[tuple[str, str]] = []  # newman's "test-scripts failed"
        self.requests = 0
        self.cookies = CookieJar()  # newman keeps a cookie jar for the run
        self.label, self.status, self.raw = "", 0, b""

    def fill(self, text: str) -> str:  # {{name}}; an unknown name stays as it is
        def value(match: re.Match[str]) -> str:
            found = self.globals.get(match[1], UNDEFINED)
            return match[0] if found is UNDEFINED else str(found)

        return re.sub(r"\{\{(\w+)\}\}", value, text)

    def request(
        self,
        label: str,
        method: str,
        url: str,
        headers: list[Header],
        body: str | None,
        script: Callable[["Collection"], None],
    ) -> None:
        target = urlsplit(self.fill(url))
        path = target.path + (f"?{target.query}" if target.query else "")
        data = self.fill(body).encode() if body else None
        sent = {name: self.fill(value) for name, value in headers}
        if cookie := self.cookies.header():  # newman's cookie jar
            sent["Cookie"] = cookie
        connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
        try:
            connection.request(method, path, data, sent)
            response = connection.getresponse()
            raw = response.read()
            self.cookies.keep(response)
        finally:
            connection.close()
        self.requests += 1
        self.label, self.status, self.raw = label, response.status, raw
        try:
            script(self)
        except ScriptError as error:  # the script ends; newman lists it among the failures
            self.script_errors.append((label, str(error)))

    def json(self) -> Any:  # JSON.parse(responseBody)
        try:
            return json.loads(self.raw)
        except ValueError as error:
            raise ScriptError(f"SyntaxError: JSON.parse: {error}") from None

    def test(self, name: str, passed: bool) -> None:  # tests[name] = passed
        self.results.append((self.label, name, passed))

    def passed(self, name: str) -> bool:  # reading tests[name] back
        return any(n == name and ok for label, n, ok in self.results if label == self.label)

    def pm_test(self, name: str, check: Callable[[], bool]) -> None:  # pm.test(name, fn)
        try:
            passed = check()
        except ScriptError:
            passed = False
        self.test(name, passed)


# --- the collection's scripts -----------------------------------------------------------------


def guarded() -> bool:  # if (!(environment.isIntegrationTest)) { ... }
    return not truthy(ENVIRONMENT.get("isIntegrationTest", UNDEFINED))


def user_script(*, guard: bool = False, remember: bool = False) -> Callable[[Collection], None]:
    def script(run: Collection) -> None:
        if guard and not guarded():
            return
        data = run.json()
        run.test('Response contains "user" property', has(data, "user"))
        user = or_(get(data, "user"), {})
        for field in ("email", "username", "bio", "image", "token"):
            run.test(f'User has "{field}" property', has(user, field))
        if remember:
            if run.passed('User has "token" property'):
                run.globals["token"] = get(user, "token")
            run.test(
                'Global variable "token" has been set',
                same(run.globals.get("token", UNDEFINED), get(user, "token")),
            )

    return script


def status_is(name: str, *codes: int) -> Callable[[Collection], None]:
    return lambda run: run.test(name, run.status in codes)


def stamps(run: Collection, obj: Any, prefix: str) -> None:
    for stamp in ("createdAt", "updatedAt"):
        run.test(f'{prefix.title()} has "{stamp}" property', has(obj, stamp))
        label = "Article's \"" if prefix == "article" else '"'
        run.test(f'{label}{stamp}" property is an ISO 8601 timestamp', iso(get(obj, stamp)))


def article_checks(
    run: Collection,
    article: Any,
    *,
    body: bool,
    tags: bool = False,
    favorited_true: bool = False,
    count: str = "integer",
) -> None:
    """The collection's run of 'Article has ...' lines, with the extras some requests add."""
    run.test('Article has "title" property', has(article, "title"))
    run.test('Article has "slug" property', has(article, "slug"))
    if body:
        run.test('Article has "body" property', has(article, "body"))
    stamps(run, article, "article")
    run.test('Article has "description" property', has(article, "description"))
    run.test('Article has "tagList" property', has(article, "tagList"))
    run.test('Article\'s "tagList" property is an Array', isinstance(get(article, "tagList"), list))
    if tags:
        run.test("The first tag is dragons", same(get(get(article, "tagList"), 0), "dragons"))
        run.test("The second tag is training", same(get(get(article, "tagList"), 1), "training"))
    run.test('Article has "author" property', has(article, "author"))
    run.test('Article has "favorited" property', has(article, "favorited"))
    if favorited_true:
        run.test("Article's 'favorited' property is true", same(get(article, "favorited"), True))
    run.test('Article has "favoritesCount" property', has(article, "favoritesCount"))
    if count == "integer":
        run.test("favoritesCount is an integer", is_integer(get(article, "favoritesCount")))
    elif count == "one":
        run.test("favoritesCount is 1", same(get(article, "favoritesCount"), 1))


def single_script(
    *, guard: bool = False, keep: str | None = None, end: str = ""
) -> Callable[[Collection], None]:
    def script(run: Collection) -> None:
        if guard and not guarded():
            return
        data = run.json()
        run.test('Response contains "article" property', has(data, "article"))
        article = or_(get(data, "article"), {})
        if keep == "slug2":  # Create Second Article: title, slug, and the slug kept
            run.test('Article has "title" property', has(article, "title"))
            run.test('Article has "slug" property', has(article, "slug"))
            run.globals["slug2"] = get(article, "slug")
            return
        if keep == "slug":  # pm.globals.set('slug', article.slug), between slug and body
            run.globals["slug"] = get(article, "slug")
        article_checks(run, article, body=True, favorited_true=end == "favorite")
        if end == "favorite":
            favorites = get(article, "favoritesCount")
            run.test(
                "Article's 'favoritesCount' property is greater than 0",
                is_number(favorites) and favorites > 0,
            )
        elif end == "unfavorite":
            run.test(
                'Article\'s "favorited" property is false', same(get(article, "favorited"), False)
            )

    return script


def list_head(run: Collection, *, integer: bool = True) -> Any:
    """The status line and the response checks that open every list script."""
    run.test("Response code is 200 OK", run.status == 200)
    if run.status != 200:
        return UNDEFINED
    data = run.json()
    run.test('Response contains "articles" property', has(data, "articles"))
    run.test('Response contains "articlesCount" property', has(data, "articlesCount"))
    if integer:
        run.test("articlesCount is an integer", is_integer(get(data, "articlesCount")))
    return data


def list_script(*, equals: bool = False) -> Callable[[Collection], None]:
    def script(run: Collection) -> None:
        data = list_head(run)
        if data is UNDEFINED:
            return
        articles = get(data, "articles")
        if equals:
            run.test(
                "articlesCount equals articles.length when no pagination",
                same(get(data, "articlesCount"), get(articles, "length")),
            )
        if truthy(get(articles, "length")):
            article_checks(run, get(articles, 0), body=False)
        else:
            run.test("articlesCount is 0 when feed is empty", same(get(data, "articlesCount"), 0))

    return script


def page_script(*, offset: bool, feed: bool = False) -> Callable[[Collection], None]:
    """The pagination checks: limit=1 (and offset=1) over the two articles just created."""

    def script(run: Collection) -> None:
        if offset:
            run.test("Response code is 200 OK", run.status == 200)
            if run.status != 200:
                return
            data = run.json()
            run.test("Only 1 article returned", same(get(get(data, "articles"), "length"), 1))
            run.test("articlesCount is still 2 despite offset", same(get(data, "articlesCount"), 2))
            return
        data = list_head(run, integer=not feed)
        if data is UNDEFINED:
            return
        run.test("Only 1 article returned (limit=1)", same(get(get(data, "articles"), "length"), 1))
        total = "total feed" if feed else "total"
        run.test(
            f"articlesCount is exactly 2 ({total}, not page size)",
            same(get(data, "articlesCount"), 2),
        )
        if feed:
            author = get(get(get(data, "articles"), 0), "author")
            celeb = "celeb_" + run.globals["USERNAME"]
            run.test("Feed article author is celeb", same(get(author, "username"), celeb))
            run.test("Feed article author.following is true", same(get(author, "following"), True))

    return script


def tag_script(run: Collection) -> None:
    data = list_head(run)
    if data is UNDEFINED:
        return
    article = get(get(data, "articles"), 0)
    run.test("An article was returned", article is not UNDEFINED)
    article_checks(run, article, body=False, tags=True)


def favorited_by_script(run: Collection) -> None:
    run.test("Response code is 200 OK", run.status == 200)
    if run.status != 200:
        return
    data = run.json()
    article = get(get(data, "articles"), 0)  # read before the first check, as the script does
    run.test('Response contains "articles" property', has(data, "articles"))
    run.test('Response contains "articlesCount" property', has(data, "articlesCount"))
    run.test("articlesCount is an integer", is_integer(get(data, "articlesCount")))
    article_checks(run, article, body=False, count="one")


def comment_script(run: Collection) -> None:
    data = run.json()
    run.test('Response contains "comment" property', has(data, "comment"))
    comment = or_(get(data, "comment"), {})
    run.test('Comment has "id" property', has(comment, "id"))
    run.globals["commentId"] = get(comment, "id")
    run.test('Comment has "body" property', has(comment, "body"))
    stamps(run, comment, "comment")
    run.test('Comment has "author" property', has(comment, "author"))
    run.test("Comment body is correct", same(get(comment, "body"), "Thank you so much!"))
    author = get(comment, "author")  # comment.author && comment.author.username === USERNAME
    run.test(
        "Comment author username is correct",
        truthy(author) and same(get(author, "username"), run.globals["USERNAME"]),
    )


def comments_script(run: Collection) -> None:
    run.test("Response code is 200 OK", run.status == 200)
    if run.status != 200:
        return
    data = run.json()
    run.test('Response contains "comments" property', has(data, "comments"))
    if truthy(get(get(data, "comments"), "length")):
        comment = get(get(data, "comments"), 0)
        run.test('Comment has "id" property', has(comment, "id"))
        run.test('Comment has "body" property', has(comment, "body"))
        stamps(run, comment, "comment")
        run.test('Comment has "author" property', has(comment, "author"))


def profile_script(following: bool | None = None) -> Callable[[Collection], None]:
    def script(run: Collection) -> None:
        if not guarded():
            return
        run.test("Response code is 200 OK", run.status == 200)
        if run.status != 200:
            return
        data = run.json()
        run.test('Response contains "profile" property', has(data, "profile"))
        profile = or_(get(data, "profile"), {})
        for field in ("username", "bio", "image", "following"):
            run.test(f'Profile has "{field}" property', has(profile, field))
        if following is None:  # Profile: the celeb as registered, not followed
            celeb = "celeb_" + run.globals["USERNAME"]
            run.test("Profile username is celeb_USERNAME", same(get(profile, "username"), celeb))
            run.test("Profile bio is null", same(get(profile, "bio"), None))
            run.test("Profile image is null", same(get(profile, "image"), None))
            run.test("Profile following is false", same(get(profile, "following"), False))
        else:
            run.test(
                f'Profile\'s "following" property is {str(following).lower()}',
                same(get(profile, "following"), following),
            )

    return script


def verify_script(*checks: tuple[str, Callable[[Any], bool]]) -> Callable[[Collection], None]:
    """var responseJSON = JSON.parse(responseBody); pm.test('Response code is 200', ...); ..."""

    def script(run: Collection) -> None:
        data = run.json()
        run.pm_test("Response code is 200", lambda: run.status == 200)
        for name, check in checks:
            run.pm_test(name, lambda check=check: check(data))

    return script


def error_script(status: int, key: str, message: str) -> Callable[[Collection], None]:
    def script(run: Collection) -> None:
        run.test(f"Response code is {status}", run.status == status)
        data = run.json()
        errors = get(data, "errors")  # typeof errors === 'object' && errors !== null
        run.test("Response has errors object", isinstance(errors, dict | list))
        run.test(f"Errors contains {key} key", isinstance(get(errors, key), list))
        run.test(f"{key} error is {message}", same(get(get(errors, key), 0), message))

    return script


def conflict_script(run: Collection) -> None:  # Register - duplicate credentials
    run.test("Response code is 409", run.status == 409)
    errors = get(run.json(), "errors")
    run.test("Response has errors object", isinstance(errors, dict | list))

    def taken(key: str) -> bool:
        values = get(errors, key)
        return isinstance(values, list) and same(get(values, 0), "has already been taken")

    run.test("Errors contains username or email conflict", taken("username") or taken("email"))


def setup_script(status: int, kept: str, key: str, field: str) -> Callable[[Collection], None]:
    """var responseJSON = ...; tests[code]; if (responseJSON.<key>) { pm.globals.set(...) }"""

    def script(run: Collection) -> None:
        data = run.json()
        run.test(f"Response code is {status}", run.status == status)
        if truthy(get(data, key)):
            run.globals[kept] = get(get(data, key), field)

    return script


def pagination_setup(
    name: str, check: Callable[[Collection, Any], bool], kept: str, key: str, field: str
) -> Callable[[Collection], None]:
    """var responseJSON = ...; tests[name] = ...; pm.globals.set(kept, responseJSON.key.field)"""

    def script(run: Collection) -> None:
        data = run.json()
        run.test(name, check(run, data))
        run.globals[kept] = get(get(data, key), field)

    return script


NO_TOKEN = error_script(401, "token", "is missing")
BLANK = "can't be blank"


# --- the folders ------------------------------------------------------------------------------

REGISTER = '{"user":{"email":"{{EMAIL}}", "password":"{{PASSWORD}}", "username":"{{USERNAME}}"}}'
LOGIN = '{"user":{"email":"{{EMAIL}}", "password":"{{PASSWORD}}"}}'
API = "{{APIURL}}"


def auth(run: Collection) -> None:
    f = "Auth / "
    run.request(f + "Register", "POST", API + "/users", PLAIN, REGISTER, user_script(guard=True))
    run.request(f + "Login", "POST", API + "/users/login", PLAIN, LOGIN, user_script())
    run.request(
        f + "Login and Remember Token",
        "POST",
        API + "/users/login",
        PLAIN,
        LOGIN,
        user_script(remember=True),
    )
    run.request(f + "Current User", "GET", API + "/user", SIGNED, "", user_script())
    body = '{"user":{"email":"{{EMAIL}}"}}'
    run.request(f + "Update User", "PUT", API + "/user", SIGNED, body, user_script())
    email = run.globals["EMAIL"]
    run.request(
        f + "Verify Update User Persisted",
        "GET",
        API + "/user",
        SIGNED,
        "",
        verify_script(
            (
                "User email matches updated value",
                lambda d: same(get(get(d, "user"), "email"), email),
            )
        ),
    )


def articles(run: Collection) -> None:
    f = "Articles / "
    for name, query in [
        ("All Articles", ""),
        ("Articles by Author", "?author=johnjacob"),
        ("Articles Favorited by Username", "?favorited={{USERNAME}}"),
        ("Articles by Tag", "?tag=dragons"),
    ]:
        run.request(f + name, "GET", API + "/articles" + query, PLAIN, "", list_script())


def articles_favorite_comments(run: Collection) -> None:
    f = "Articles, Favorite, Comments / "
    slug = API + "/articles/{{slug}}"
    new = '{"article":{"title":"How to train your dragon", "description":"Ever wonder how?", '
    new += '"body":"Very carefully.", "tagList":["training", "dragons"]}}'
    run.request(
        f + "Create Article", "POST", API + "/articles", SIGNED, new, single_script(keep="slug")
    )
    second = (
        '{\n  "article": {\n    "title": "Second article for pagination test",\n'
        '    "description": "A second article to test articlesCount",\n'
        '    "body": "This article exists to verify pagination counts",\n'
        '    "tagList": [\n      "testing"\n    ]\n  }\n}'
    )
    run.request(
        f + "Create Second Article",
        "POST",
        API + "/articles",
        SIGNED,
        second,
        single_script(keep="slug2"),
    )
    run.request(
        f + "All Articles with limit (articlesCount pagination check)",
        "GET",
        API + "/articles?limit=1",
        [],
        None,
        page_script(offset=False),
    )
    run.request(
        f + "All Articles with offset (articlesCount still total)",
        "GET",
        API + "/articles?limit=1&offset=1",
        [],
        None,
        page_script(offset=True),
    )
    run.request(
        f + "Delete Second Article (pagination cleanup)",
        "DELETE",
        API + "/articles/{{slug2}}",
        [JSON_TYPE, TOKEN],
        None,
        status_is("Response code is 204 or 200", 204, 200),
    )
    for name, query, equals in [
        ("Feed", "/feed", True),
        ("All Articles", "", True),
        ("All Articles with auth", "", True),
        ("Articles by Author", "?author={{USERNAME}}", False),
        ("Articles by Author with auth", "?author={{USERNAME}}", False),
    ]:
        run.request(
            f + name, "GET", API + "/articles" + query, SIGNED, "", list_script(equals=equals)
        )
    run.request(f + "Single Article by slug", "GET", slug, SIGNED, "", single_script())
    run.request(f + "Articles by Tag", "GET", API + "/articles?tag=dragons", SIGNED, "", tag_script)
    body = '{"article":{"body":"With two hands"}}'
    run.request(f + "Update Article", "PUT", slug, SIGNED, body, single_script(guard=True))
    favorite = slug + "/favorite"
    run.request(f + "Favorite Article", "POST", favorite, SIGNED, "", single_script(end="favorite"))
    for name in ("Articles Favorited by Username", "Articles Favorited by Username with auth"):
        path = API + "/articles?favorited={{USERNAME}}"
        run.request(f + name, "GET", path, SIGNED, "", favorited_by_script)
    run.request(
        f + "Unfavorite Article", "DELETE", favorite, SIGNED, "", single_script(end="unfavorite")
    )
    run.request(
        f + "Verify Unfavorite Persisted",
        "GET",
        slug,
        SIGNED,
        "",
        verify_script(
            (
                "Article is no longer favorited",
                lambda d: same(get(get(d, "article"), "favorited"), False),
            ),
            ("Favorites count is 0", lambda d: same(get(get(d, "article"), "favoritesCount"), 0)),
        ),
    )
    comments = slug + "/comments"
    body = '{"comment":{"body":"Thank you so much!"}}'
    run.request(f + "Create Comment for Article", "POST", comments, SIGNED, body, comment_script)
    run.request(f + "All Comments for Article", "GET", comments, SIGNED, "", comments_script)
    run.request(
        f + "All Comments for Article without login", "GET", comments, PLAIN, "", comments_script
    )
    run.request(
        f + "Delete Comment for Article",
        "DELETE",
        comments + "/{{commentId}}",
        SIGNED,
        "",
        status_is("Response code is 204", 204),
    )

    def no_comments_remain(data: Any) -> bool:  # to.be.an('array'), then length eql 0
        listed = get(data, "comments")
        return isinstance(listed, list) and same(get(listed, "length"), 0)

    run.request(
        f + "Verify Comment Deleted",
        "GET",
        comments,
        SIGNED,
        "",
        verify_script(("No comments remain", no_comments_remain)),
    )
    run.request(
        f + "Delete Article", "DELETE", slug, SIGNED, "", status_is("Response code is 204", 204)
    )


def profiles(run: Collection) -> None:
    f = "Profiles / "
    celeb = '{"user":{"email":"celeb_{{EMAIL}}", "password":"{{PASSWORD}}", '
    celeb += '"username":"celeb_{{USERNAME}}"}}'
    run.request(f + "Register Celeb", "POST", API + "/users", PLAIN, celeb, user_script(guard=True))
    profile = API + "/profiles/celeb_{{USERNAME}}"
    run.request(f + "Profile", "GET", profile, SIGNED, "", profile_script())
    body = '{"user":{"email":"{{EMAIL}}"}}'
    run.request(
        f + "Follow Profile", "POST", profile + "/follow", SIGNED, body, profile_script(True)
    )
    run.request(
        f + "Unfollow Profile", "DELETE", profile + "/follow", SIGNED, "", profile_script(False)
    )
    run.request(
        f + "Verify Unfollow Persisted",
        "GET",
        profile,
        SIGNED,
        "",
        verify_script(
            (
                "Unfollow persisted - following is false",
                lambda d: same(get(get(d, "profile"), "following"), False),
            )
        ),
    )


def pagination(run: Collection) -> None:
    f = "Pagination / "
    follow = API + "/profiles/celeb_{{USERNAME}}/follow"
    ok = status_is("Response code is 200 OK", 200)
    run.request(f + "Follow celeb for feed test", "POST", follow, [JSON_TYPE, TOKEN], None, ok)
    login = '{"user": {"email": "celeb_{{EMAIL}}", "password": "{{PASSWORD}}"}}'
    run.request(
        f + "Celeb login",
        "POST",
        API + "/users/login",
        [JSON_TYPE],
        login,
        pagination_setup(
            "Response contains user",
            lambda run, data: has(data, "user"),
            "celeb_token",
            "user",
            "token",
        ),
    )
    for n, (number, which) in enumerate([("one", "First"), ("two", "Second")], start=1):
        body = f'{{"article": {{"title": "Celeb article {number}", "description": "{which} '
        body += f'celeb article for feed pagination", "body": "Content {number}"}}}}'
        run.request(
            f + f"Celeb creates article {n}",
            "POST",
            API + "/articles",
            [JSON_TYPE, CELEB_TOKEN],
            body,
            pagination_setup(
                "Article created",
                lambda run, data: run.status == 201,
                f"celeb_slug{n}",
                "article",
                "slug",
            ),
        )
    feed = API + "/articles/feed?limit=1"
    run.request(
        f + "Feed with limit (pagination check)",
        "GET",
        feed,
        [JSON_TYPE, TOKEN],
        None,
        page_script(offset=False, feed=True),
    )
    run.request(
        f + "Feed with offset (pagination check)",
        "GET",
        feed + "&offset=1",
        [JSON_TYPE, TOKEN],
        None,
        page_script(offset=True, feed=True),
    )
    for n in (1, 2):
        run.request(
            f + f"Celeb delete article {n}",
            "DELETE",
            API + f"/articles/{{{{celeb_slug{n}}}}}",
            [JSON_TYPE, CELEB_TOKEN],
            None,
            status_is("Deleted", 204, 200),
        )
    run.request(f + "Unfollow celeb (cleanup)", "DELETE", follow, [JSON_TYPE, TOKEN], None, ok)


def tags(run: Collection) -> None:
    def script(run: Collection) -> None:
        run.test("Response code is 200 OK", run.status == 200)
        if run.status == 200:
            data = run.json()
            run.test('Response contains "tags" property', has(data, "tags"))
            run.test('"tags" property returned as array', isinstance(get(data, "tags"), list))

    run.request("Tags / All Tags", "GET", API + "/tags", PLAIN, "", script)


def error_cases_auth(run: Collection) -> None:
    f = "Error Cases - Auth / "
    users, login = API + "/users", API + "/users/login"
    for name, url, body, script in [
        (
            "Register - empty username",
            users,
            '{"user":{"email":"neg@test.com","password":"negpass","username":""}}',
            error_script(422, "username", BLANK),
        ),
        (
            "Register - empty email",
            users,
            '{"user":{"email":"","password":"negpass","username":"neguser"}}',
            error_script(422, "email", BLANK),
        ),
        (
            "Register - empty password",
            users,
            '{"user":{"email":"neg@test.com","password":"","username":"neguser"}}',
            error_script(422, "password", BLANK),
        ),
        (
            "Register - duplicate credentials",
            users,
            '{"user":{"email":"{{EMAIL}}","password":"anything","username":"{{USERNAME}}"}}',
            conflict_script,
        ),
        (
            "Login - empty email",
            login,
            '{"user":{"email":"","password":"pass"}}',
            error_script(422, "email", BLANK),
        ),
        (
            "Login - empty password",
            login,
            '{"user":{"email":"{{EMAIL}}","password":""}}',
            error_script(422, "password", BLANK),
        ),
        (
            "Login - wrong password",
            login,
            '{"user":{"email":"{{EMAIL}}","password":"wrongpassword123"}}',
            error_script(401, "credentials", "invalid"),
        ),
    ]:
        run.request(f + name, "POST", url, PLAIN, body, script)
    run.request(f + "Current User - no auth", "GET", API + "/user", PLAIN, "", NO_TOKEN)
    body = '{"user":{"email":"x@test.com"}}'
    run.request(f + "Update User - no auth", "PUT", API + "/user", PLAIN, body, NO_TOKEN)


def error_cases_articles_comments(run: Collection) -> None:
    f = "Error Cases - Articles & Comments / "
    new, neg, unknown = API + "/articles", API + "/articles/{{neg_slug}}", "nonexistent-slug-xxx"
    not_found = error_script(404, "article", "not found")

    def article(title: str, description: str, body: str, tag_list: str = "[]") -> str:
        return (
            f'{{"article":{{"title":"{title}","description":"{description}",'
            f'"body":"{body}","tagList":{tag_list}}}}}'
        )

    steps: list[tuple[str, str, str, list[Header], str | None, Any]] = [
        (
            "Create Article - no auth",
            "POST",
            new,
            PLAIN,
            article("No Auth Article", "desc", "body"),
            NO_TOKEN,
        ),
        (
            "Create Article - empty title",
            "POST",
            new,
            SIGNED,
            article("", "desc", "body"),
            error_script(422, "title", BLANK),
        ),
        (
            "Create Article - empty description",
            "POST",
            new,
            SIGNED,
            article("Some Title", "", "body"),
            error_script(422, "description", BLANK),
        ),
        (
            "Create Article - empty body",
            "POST",
            new,
            SIGNED,
            article("Some Title", "desc", ""),
            error_script(422, "body", BLANK),
        ),
        (
            "Setup: Create test article",
            "POST",
            new,
            SIGNED,
            article("Negative Test Article", "For error testing", "Test body content", '["test"]'),
            setup_script(201, "neg_slug", "article", "slug"),
        ),
        (
            "Create Article - duplicate title",
            "POST",
            new,
            SIGNED,
            article("Negative Test Article", "duplicate", "duplicate body"),
            error_script(409, "title", "has already been taken"),
        ),
        ("Get Article - unknown slug", "GET", f"{new}/{unknown}", PLAIN, "", not_found),
        (
            "Update Article - no auth",
            "PUT",
            neg,
            PLAIN,
            '{"article":{"body":"updated body"}}',
            NO_TOKEN,
        ),
        (
            "Update Article - unknown slug",
            "PUT",
            f"{new}/{unknown}",
            SIGNED,
            '{"article":{"body":"updated body"}}',
            not_found,
        ),
        ("Delete Article - no auth", "DELETE", neg, PLAIN, None, NO_TOKEN),
        ("Delete Article - unknown slug", "DELETE", f"{new}/{unknown}", SIGNED, None, not_found),
        ("Get Feed - no auth", "GET", API + "/articles/feed", PLAIN, "", NO_TOKEN),
        ("Favorite - no auth", "POST", neg + "/favorite", PLAIN, "", NO_TOKEN),
        ("Unfavorite - no auth", "DELETE", neg + "/favorite", PLAIN, None, NO_TOKEN),
        (
            "Post Comment - no auth",
            "POST",
            neg + "/comments",
            PLAIN,
            '{"comment":{"body":"No auth comment"}}',
            NO_TOKEN,
        ),
        (
            "Post Comment - empty body",
            "POST",
            neg + "/comments",
            SIGNED,
            '{"comment":{"body":""}}',
            error_script(422, "body", BLANK),
        ),
        (
            "Setup: Create test comment",
            "POST",
            neg + "/comments",
            SIGNED,
            '{"comment":{"body":"Test comment for error cases"}}',
            setup_script(201, "neg_comment_id", "comment", "id"),
        ),
        (
            "Delete Comment - no auth",
            "DELETE",
            neg + "/comments/{{neg_comment_id}}",
            PLAIN,
            None,
            NO_TOKEN,
        ),
        (
            "Delete Comment - unknown article",
            "DELETE",
            f"{new}/{unknown}/comments/1",
            SIGNED,
            None,
            not_found,
        ),
        (
            "Cleanup: Delete article",
            "DELETE",
            neg,
            SIGNED,
            None,
            status_is("Response code is 204", 204),
        ),
    ]
    for name, method, url, headers, body, script in steps:
        run.request(f + name, method, url, headers, body, script)


def error_cases_profiles_authorization(run: Collection) -> None:
    f = "Error Cases - Profiles & Authorization / "
    follow = API + "/profiles/celeb_{{USERNAME}}/follow"
    celeb_article = API + "/articles/{{celeb_neg_slug}}"
    forbidden = error_script(403, "article", "forbidden")
    run.request(
        f + "Get Profile - unknown user",
        "GET",
        API + "/profiles/nonexistent-user-xxx",
        PLAIN,
        "",
        error_script(404, "profile", "not found"),
    )
    run.request(f + "Follow - no auth", "POST", follow, PLAIN, "", NO_TOKEN)
    run.request(f + "Unfollow - no auth", "DELETE", follow, PLAIN, None, NO_TOKEN)
    run.request(
        f + "Setup: Celeb login",
        "POST",
        API + "/users/login",
        PLAIN,
        '{"user":{"email":"celeb_{{EMAIL}}","password":"{{PASSWORD}}"}}',
        setup_script(200, "celeb_token", "user", "token"),
    )
    body = '{"article":{"title":"Celeb Neg Test Article","description":"Celeb article for auth '
    body += 'testing","body":"Celeb body content","tagList":["test"]}}'
    run.request(
        f + "Setup: Celeb creates article",
        "POST",
        API + "/articles",
        [JSON_TYPE, XHR, CELEB_TOKEN],
        body,
        setup_script(201, "celeb_neg_slug", "article", "slug"),
    )
    run.request(
        f + "Delete Article - wrong author", "DELETE", celeb_article, SIGNED, None, forbidden
    )
    body = '{"article":{"body":"hijacked body"}}'
    run.request(f + "Update Article - wrong author", "PUT", celeb_article, SIGNED, body, forbidden)
    run.request(
        f + "Cleanup: Celeb deletes article",
        "DELETE",
        celeb_article,
        [JSON_TYPE, XHR, CELEB_TOKEN],
        None,
        status_is("Response code is 204", 204),
    )


FOLDERS = [
    auth,
    articles,
    articles_favorite_comments,
    profiles,
    pagination,
    tags,
    error_cases_auth,
    error_cases_articles_comments,
    error_cases_profiles_authorization,
]


DUPLICATE_TITLE = "Error Cases - Articles & Comments / Create Article - duplicate title"


def test_the_postman_collection_passes_on_an_empty_database(live_server):
    run = Collection(live_server.url, "pm_replay")
    for folder in FOLDERS:
        folder(run)
    failed = [(label, name) for label, name, passed in run.results if not passed]
    # newman's summary counts the same: requests, assertions (and failed), test-scripts failed
    # (script errors). Every assertion passes but the duplicate title's, where this legacy
    # collection (409) and the current Hurl suite (201, a unique slug; ADR 0006) disagree: its
    # status check and the error check after it fail, and its script stops on the missing error
    # (2 of the 490 assertions a 409 would make are never reached).
    assert run.requests == 86
    assert len(run.results) == 488
    assert len(failed) == 2, failed
    assert {label for label, _ in failed} == {DUPLICATE_TITLE}, failed
    assert [label for label, _ in run.script_errors] == [DUPLICATE_TITLE], run.script_errors
