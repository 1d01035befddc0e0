"""RealWorld's Postman collection, replayed over real HTTP against the demo data of ``make run``.

The collection is ``api/Conduit.postman_collection.json`` in gothinkster/realworld (MIT), at
commit 03f2a04bc7048862bf6f859b1f3760ab535bf1b9: 32 requests in five folders, run in order by
``newman run`` with the global variables APIURL, USERNAME, EMAIL and PASSWORD; scripts keep
``token``, ``slug`` and ``commentId`` in globals. Each function below replays one folder: its
requests in order, with the collection's headers (``Content-Type: application/json``,
``X-Requested-With: XMLHttpRequest``, ``Authorization: Token {{token}}``) and bodies, and every
``tests['...'] = ...`` line of their test scripts under the same name, with JavaScript's meaning
(``hasOwnProperty``, ``Number.isInteger``, ``Array.isArray``, ``regex.test``). How to run the
collection itself with newman: tests/api/postman/README.md.

The collection predates RealWorld's 2024-08-16 change, "the endpoints retrieving a list of
articles do no longer return the body of an article": it still checks ``Article has "body"
property`` on the first item of every list. Conduit follows the current spec and the Hurl suite
(tests/api/test_realworld_suite.py checks ``$.articles[0].body`` does not exist), so those
assertions, and only those, are expected to fail (``LIST_BODY_CHECKS``).
"""

import http.client
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)

ISO_8601 = re.compile(
    r"^\d{4,}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d.\d+(?:[+-][0-2]\d:[0-5]\d|Z)$"
)
UNDEFINED = object()  # JavaScript's undefined: a property that is not there


def prop(obj: Any, name: str) -> Any:
    return obj.get(name, UNDEFINED) if isinstance(obj, dict) else UNDEFINED


def has(obj: Any, name: str) -> bool:  # obj.hasOwnProperty(name)
    return isinstance(obj, dict) and name in obj


def is_integer(value: Any) -> bool:  # Number.isInteger(value)
    return isinstance(value, int | float) and not isinstance(value, bool) and value == int(value)


def iso(value: Any) -> bool:  # /.../.test(value): only a string can match
    return isinstance(value, str) and bool(ISO_8601.search(value))


class Collection:
    """One newman run: globals, the variables, and every assertion's (request, name, passed)."""

    def __init__(self, host: str, uid: str) -> None:
        self.host = host
        self.vars = {"USERNAME": uid, "EMAIL": f"{uid}@mail.com", "PASSWORD": "password123"}
        self.globals: dict[str, Any] = {}
        self.results: list[tuple[str, str, bool]] = []
        self.requests = 0

    def send(self, label: str, method: str, path: str, body: str = "", auth: bool = False) -> Any:
        def fill(text: str) -> str:
            return re.sub(
                r"\{\{(\w+)\}\}", lambda m: str({**self.vars, **self.globals}[m[1]]), text
            )

        headers = {"Content-Type": "application/json", "X-Requested-With": "XMLHttpRequest"}
        if auth:
            headers["Authorization"] = fill("Token {{token}}")
        url = urlsplit(self.host)
        connection = http.client.HTTPConnection(url.hostname or "localhost", url.port, timeout=30)
        try:
            connection.request(method, "/api" + fill(path), fill(body).encode() or None, headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        self.requests += 1
        self.label, self.status, self.raw = label, response.status, raw
        return self

    def json(self) -> Any:  # JSON.parse(responseBody): an error ends the script
        try:
            return json.loads(self.raw)
        except ValueError:
            self.test("the test script ran (JSON.parse)", False)
            return None

    def test(self, name: str, passed: bool) -> None:  # tests[name] = passed
        self.results.append((self.label, name, passed))


def user_checks(run: Collection) -> Any:
    data = run.json()
    run.test('Response contains "user" property', has(data, "user"))
    user = prop(data, "user") if has(data, "user") and data["user"] else {}
    for field in ("email", "username", "bio", "image", "token"):
        run.test(f'User has "{field}" property', has(user, field))
    return user


def article_checks(
    run: Collection, article: Any, *, tags: bool = False, count: bool = True
) -> None:
    if article is UNDEFINED:  # article.hasOwnProperty(...) throws: the script ends here
        run.test("the test script ran (article is undefined)", False)
        return
    run.test('Article has "title" property', has(article, "title"))
    run.test('Article has "slug" property', has(article, "slug"))
    run.test('Article has "body" property', has(article, "body"))
    for stamp in ("createdAt", "updatedAt"):
        run.test(f'Article has "{stamp}" property', has(article, stamp))
        run.test(
            f'Article\'s "{stamp}" property is an ISO 8601 timestamp', iso(prop(article, stamp))
        )
    run.test('Article has "description" property', has(article, "description"))
    run.test('Article has "tagList" property', has(article, "tagList"))
    tag_list = prop(article, "tagList")
    run.test('Article\'s "tagList" property is an Array', isinstance(tag_list, list))
    if tags and isinstance(tag_list, list):
        run.test("The first tag is dragons", tag_list[0:1] == ["dragons"])
        run.test("The second tag is training", tag_list[1:2] == ["training"])
    run.test('Article has "author" property', has(article, "author"))
    run.test('Article has "favorited" property', has(article, "favorited"))
    run.test('Article has "favoritesCount" property', has(article, "favoritesCount"))
    if count:
        run.test("favoritesCount is an integer", is_integer(prop(article, "favoritesCount")))


def single_article(run: Collection, **extra: bool) -> Any:
    data = run.json()
    run.test('Response contains "article" property', has(data, "article"))
    article = data["article"] if has(data, "article") and data["article"] else {}
    if extra.get("slug"):
        run.globals["slug"] = prop(article, "slug")
    article_checks(run, article)
    return article


def list_head(run: Collection) -> Any:
    run.test("Response code is 200 OK", run.status == 200)
    if run.status != 200:
        return None
    data = run.json()
    run.test('Response contains "articles" property', has(data, "articles"))
    run.test('Response contains "articlesCount" property', has(data, "articlesCount"))
    run.test("articlesCount is an integer", is_integer(prop(data, "articlesCount")))
    return data


def article_list(run: Collection) -> None:
    data = list_head(run)
    if data is None:
        return
    if data["articles"]:
        article_checks(run, data["articles"][0])
    else:
        run.test("articlesCount is 0 when feed is empty", data["articlesCount"] == 0)


def comment_checks(run: Collection, comment: Any) -> None:
    for name in ("id", "body", "createdAt", "updatedAt", "author"):
        run.test(f'Comment has "{name}" property', has(comment, name))
        if name in ("createdAt", "updatedAt"):
            run.test(f'"{name}" property is an ISO 8601 timestamp', iso(prop(comment, name)))


def profile_checks(run: Collection, following: bool | None = None) -> None:
    run.test("Response code is 200 OK", run.status == 200)
    if run.status == 200:
        data = run.json()
        run.test('Response contains "profile" property', has(data, "profile"))
        profile = data["profile"] if has(data, "profile") and data["profile"] else {}
        for field in ("username", "bio", "image", "following"):
            run.test(f'Profile has "{field}" property', has(profile, field))
        if following is not None:
            word = "true" if following else "false"
            run.test(
                f'Profile\'s "following" property is {word}',
                prop(profile, "following") is following,
            )


REGISTER = '{"user":{"email":"{{EMAIL}}", "password":"{{PASSWORD}}", "username":"{{USERNAME}}"}}'
LOGIN = '{"user":{"email":"{{EMAIL}}", "password":"{{PASSWORD}}"}}'


def auth(run: Collection) -> None:
    user_checks(run.send("Auth / Register", "POST", "/users", REGISTER))
    user_checks(run.send("Auth / Login", "POST", "/users/login", LOGIN))
    user = user_checks(run.send("Auth / Login and Remember Token", "POST", "/users/login", LOGIN))
    if has(user, "token"):
        run.globals["token"] = user["token"]
    run.test(
        'Global variable "token" has been set', run.globals.get("token") == prop(user, "token")
    )
    user_checks(run.send("Auth / Current User", "GET", "/user", auth=True))
    user_checks(
        run.send("Auth / Update User", "PUT", "/user", '{"user":{"email":"{{EMAIL}}"}}', True)
    )


def articles(run: Collection) -> None:
    article_list(run.send("Articles / All Articles", "GET", "/articles"))
    article_list(run.send("Articles / Articles by Author", "GET", "/articles?author=johnjacob"))
    path = "/articles?favorited={{USERNAME}}"
    article_list(run.send("Articles / Articles Favorited by Username", "GET", path))
    article_list(run.send("Articles / Articles by Tag", "GET", "/articles?tag=dragons"))


def articles_favorite_comments(run: Collection) -> None:
    folder = "Articles, Favorite, Comments / "
    new = '{"article":{"title":"How to train your dragon", "description":"Ever wonder how?", '
    new += '"body":"Very carefully.", "tagList":["training", "dragons"]}}'
    single_article(run.send(folder + "Create Article", "POST", "/articles", new, True), slug=True)
    for name, path in [
        ("Feed", "/articles/feed"),
        ("All Articles", "/articles"),
        ("All Articles with auth", "/articles"),
        ("Articles by Author", "/articles?author={{USERNAME}}"),
        ("Articles by Author with auth", "/articles?author={{USERNAME}}"),
    ]:
        article_list(run.send(folder + name, "GET", path, auth=True))
    single_article(
        run.send(folder + "Single Article by slug", "GET", "/articles/{{slug}}", auth=True)
    )
    data = list_head(
        run.send(folder + "Articles by Tag", "GET", "/articles?tag=dragons", auth=True)
    )
    if data is not None:
        first = data["articles"][0] if data["articles"] else UNDEFINED
        run.test("An article was returned", first is not UNDEFINED)
        article_checks(run, first, tags=True)
    body = '{"article":{"body":"With two hands"}}'
    single_article(run.send(folder + "Update Article", "PUT", "/articles/{{slug}}", body, True))
    run.send(folder + "Favorite Article", "POST", "/articles/{{slug}}/favorite", auth=True)
    article = single_article(run)  # its two extra lines: favorited true, favoritesCount > 0
    run.test("Article's 'favorited' property is true", prop(article, "favorited") is True)
    count = prop(article, "favoritesCount")
    run.test(
        "Article's 'favoritesCount' property is greater than 0", is_integer(count) and count > 0
    )
    for name in ("Articles Favorited by Username", "Articles Favorited by Username with auth"):
        data = list_head(
            run.send(folder + name, "GET", "/articles?favorited={{USERNAME}}", auth=True)
        )
        if data is not None:
            first = data["articles"][0] if data["articles"] else UNDEFINED
            article_checks(run, first, count=False)
            if first is not UNDEFINED:
                count = prop(first, "favoritesCount")
                run.test("favoritesCount is 1", is_integer(count) and count == 1)
    run.send(folder + "Unfavorite Article", "DELETE", "/articles/{{slug}}/favorite", auth=True)
    run.test(
        'Article\'s "favorited" property is false', prop(single_article(run), "favorited") is False
    )
    body = '{"comment":{"body":"Thank you so much!"}}'
    data = run.send(
        folder + "Create Comment for Article", "POST", "/articles/{{slug}}/comments", body, True
    ).json()
    run.test('Response contains "comment" property', has(data, "comment"))
    comment = data["comment"] if has(data, "comment") and data["comment"] else {}
    run.globals["commentId"] = prop(comment, "id")
    comment_checks(run, comment)
    for name, signed_in in [
        ("All Comments for Article", True),
        ("All Comments for Article without login", False),
    ]:
        run.send(folder + name, "GET", "/articles/{{slug}}/comments", auth=signed_in)
        run.test("Response code is 200 OK", run.status == 200)
        if run.status == 200:
            data = run.json()
            run.test('Response contains "comments" property', has(data, "comments"))
            if data["comments"]:
                comment_checks(run, data["comments"][0])
    run.send(
        folder + "Delete Comment for Article",
        "DELETE",
        "/articles/{{slug}}/comments/{{commentId}}",
        auth=True,
    )
    run.send(folder + "Delete Article", "DELETE", "/articles/{{slug}}", auth=True)


def profiles(run: Collection) -> None:
    celeb = '{"user":{"email":"celeb_{{EMAIL}}", "password":"{{PASSWORD}}", '
    celeb += '"username":"celeb_{{USERNAME}}"}}'
    user_checks(run.send("Profiles / Register Celeb", "POST", "/users", celeb))
    path = "/profiles/celeb_{{USERNAME}}"
    profile_checks(run.send("Profiles / Profile", "GET", path, auth=True))
    body = '{"user":{"email":"{{EMAIL}}"}}'
    profile_checks(
        run.send("Profiles / Follow Profile", "POST", path + "/follow", body, True), True
    )
    profile_checks(
        run.send("Profiles / Unfollow Profile", "DELETE", path + "/follow", auth=True), False
    )


def tags(run: Collection) -> None:
    run.send("Tags / All Tags", "GET", "/tags")
    run.test("Response code is 200 OK", run.status == 200)
    if run.status == 200:
        data = run.json()
        run.test('Response contains "tags" property', has(data, "tags"))
        run.test('"tags" property returned as array', isinstance(prop(data, "tags"), list))


FOLDERS = [auth, articles, articles_favorite_comments, profiles, tags]
# Lists whose first page has an article when the collection runs on make run's demo data.
LIST_BODY_CHECKS = {
    (f"{folder} / {name}", 'Article has "body" property')
    for folder, names in [
        ("Articles", ["All Articles"]),
        (
            "Articles, Favorite, Comments",
            [
                "All Articles",
                "All Articles with auth",
                "Articles by Author",
                "Articles by Author with auth",
                "Articles by Tag",
                "Articles Favorited by Username",
                "Articles Favorited by Username with auth",
            ],
        ),
    ]
    for name in names
}


def test_the_postman_collection_passes_but_for_bodies_in_lists(live_server):
    call_command("seed_demo")  # what make run serves
    run = Collection(live_server.url, "pm_replay")
    for folder in FOLDERS:
        folder(run)
    failed = {(label, name) for label, name, passed in run.results if not passed}
    # newman's summary against make run: 32 requests, 331 assertions, 8 failed (all of these).
    assert (run.requests, len(run.results)) == (32, 331)
    assert failed == LIST_BODY_CHECKS, sorted(failed ^ LIST_BODY_CHECKS)
