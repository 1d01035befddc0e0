"""The RealWorld user journey end to end, through HTTP only: accounts, profiles, articles,
the feed, favorites, comments and tags, asserting exact shapes, statuses and headers."""

from typing import Any
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from tests.support import (
    ISO_MS,
    JSON_UTF8,
    assert_article,
    assert_comment,
    assert_error,
    assert_profile,
    assert_user,
)

pytestmark = pytest.mark.django_db


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"] == JSON_UTF8
    return response.json()


def signed_in(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


PASSWORD = "password123"


def register(
    username: str, password: str = PASSWORD, email: str | None = None
) -> tuple[APIClient, dict[str, Any]]:
    email = email or f"{username}@example.com"
    body = {"user": {"username": username, "email": email, "password": password}}
    user = ok(APIClient().post("/api/users", body, format="json"), 201)["user"]
    return signed_in(user["token"]), user


def create_article(client: APIClient, title: str, tags: list[str] | None = None) -> dict[str, Any]:
    article: dict[str, Any] = {
        "title": title,
        "description": f"About {title}",
        "body": f"The body of {title}",
    }
    if tags is not None:
        article["tagList"] = tags
    return ok(client.post("/api/articles", {"article": article}, format="json"), 201)["article"]


def test_account_journey(api):
    # Register.
    response = api.post(
        "/api/users",
        {"user": {"username": "jake", "email": "Jake@Example.com", "password": "jakejake"}},
        format="json",
    )
    user = ok(response, 201)["user"]
    assert_user(user)
    assert user["username"] == "jake"
    assert user["email"] == "Jake@Example.com"
    assert user["bio"] is None
    assert user["image"] is None

    # Login: the email is matched ignoring case.
    for email in ("jake@example.com", "JAKE@EXAMPLE.COM", "Jake@Example.com"):
        response = api.post(
            "/api/users/login",
            {"user": {"email": email, "password": "jakejake"}},
            format="json",
        )
        logged_in = ok(response)["user"]
        assert_user(logged_in)
        assert logged_in["username"] == "jake"
        assert logged_in["bio"] is None
        assert logged_in["image"] is None
    token = logged_in["token"]
    jake = signed_in(token)

    # Current user.
    current = ok(jake.get("/api/user"))["user"]
    assert_user(current)
    assert current == {
        "email": "Jake@Example.com",
        "token": token,
        "username": "jake",
        "bio": None,
        "image": None,
    }

    # Bio: set, then "" and null both clear it to null; other fields are untouched.
    for sent, stored in (("I work at statefarm", "I work at statefarm"), ("", None)):
        updated = ok(jake.put("/api/user", {"user": {"bio": sent}}, format="json"))["user"]
        assert_user(updated)
        assert updated["bio"] == stored
        assert updated["username"] == "jake"
        assert updated["email"] == "Jake@Example.com"
        assert updated["image"] is None
        assert ok(jake.get("/api/user"))["user"]["bio"] == stored
    ok(jake.put("/api/user", {"user": {"bio": "Temporary"}}, format="json"))
    assert ok(jake.put("/api/user", {"user": {"bio": None}}, format="json"))["user"]["bio"] is None
    assert ok(jake.get("/api/user"))["user"]["bio"] is None
    ok(jake.put("/api/user", {"user": {"bio": "Updated bio"}}, format="json"))

    # Image: set, then "" and null both clear it to null.
    image = "https://example.com/photo.jpg"
    updated = ok(jake.put("/api/user", {"user": {"image": image}}, format="json"))["user"]
    assert updated["image"] == image
    assert updated["bio"] == "Updated bio"
    assert ok(jake.get("/api/user"))["user"]["image"] == image
    for cleared in ("", None):
        ok(jake.put("/api/user", {"user": {"image": image}}, format="json"))
        updated = ok(jake.put("/api/user", {"user": {"image": cleared}}, format="json"))["user"]
        assert updated["image"] is None
        assert ok(jake.get("/api/user"))["user"]["image"] is None
    ok(jake.put("/api/user", {"user": {"image": image}}, format="json"))

    # The profile shows bio and image to anyone.
    profile = ok(api.get("/api/profiles/jake"))["profile"]
    assert profile == {"username": "jake", "bio": "Updated bio", "image": image, "following": False}

    # Username and email change: the returned token works, and so does the old one.
    response = jake.put(
        "/api/user",
        {"user": {"username": "jacob", "email": "jacob@example.com"}},
        format="json",
    )
    renamed = ok(response)["user"]
    assert_user(renamed)
    assert renamed["username"] == "jacob"
    assert renamed["email"] == "jacob@example.com"
    assert renamed["bio"] == "Updated bio"
    assert renamed["image"] == image
    for client in (signed_in(renamed["token"]), jake):
        current = ok(client.get("/api/user"))["user"]
        assert current["username"] == "jacob"
        assert current["email"] == "jacob@example.com"
        assert current["bio"] == "Updated bio"
        assert current["image"] == image
    assert_error(api.get("/api/profiles/jake"), 404, "profile", "not found")
    assert ok(api.get("/api/profiles/jacob"))["profile"]["username"] == "jacob"
    login = {"user": {"email": "Jake@Example.com", "password": "jakejake"}}
    assert_error(api.post("/api/users/login", login, format="json"), 401, "credentials", "invalid")

    # Password change: the new password signs in, the old one no longer does, and every token
    # issued before it is revoked; the response carries a fresh one.
    jacob = signed_in(renamed["token"])
    response = jacob.put("/api/user", {"user": {"password": "new-password-1"}}, format="json")
    changed = ok(response)["user"]
    assert_user(changed)
    assert changed["username"] == "jacob"
    assert ok(signed_in(changed["token"]).get("/api/user"))["user"]["username"] == "jacob"
    assert_error(jacob.get("/api/user"), 401, "token", "has been revoked")
    jacob = signed_in(changed["token"])
    new_login = {"user": {"email": "JACOB@example.com", "password": "new-password-1"}}
    assert ok(api.post("/api/users/login", new_login, format="json"))["user"]["username"] == "jacob"
    old_login = {"user": {"email": "jacob@example.com", "password": "jakejake"}}
    assert_error(api.post("/api/users/login", old_login, format="json"), 401, "credentials")

    # A 64-character password is accepted and works.
    long_password = "a" * 64
    ok(jacob.put("/api/user", {"user": {"password": long_password}}, format="json"))
    long_login = {"user": {"email": "jacob@example.com", "password": long_password}}
    ok(api.post("/api/users/login", long_login, format="json"))


def test_profiles_and_following_journey(api):
    fan, _ = register("fan")
    _, celeb = register("celeb")

    anonymous = ok(api.get("/api/profiles/celeb"))["profile"]
    assert_profile(anonymous)
    assert anonymous == {"username": "celeb", "bio": None, "image": None, "following": False}
    assert ok(fan.get("/api/profiles/celeb"))["profile"] == anonymous
    # Usernames are looked up ignoring case; the profile keeps its own spelling.
    assert ok(api.get("/api/profiles/CELEB"))["profile"]["username"] == "celeb"

    followed = ok(fan.post("/api/profiles/celeb/follow"))["profile"]
    assert_profile(followed)
    assert followed == {"username": "celeb", "bio": None, "image": None, "following": True}
    assert ok(fan.get("/api/profiles/celeb"))["profile"]["following"] is True
    # Following is per viewer: anonymous and the followee see false.
    assert ok(api.get("/api/profiles/celeb"))["profile"]["following"] is False
    assert ok(signed_in(celeb["token"]).get("/api/profiles/fan"))["profile"]["following"] is False

    unfollowed = ok(fan.delete("/api/profiles/celeb/follow"))["profile"]
    assert unfollowed == {"username": "celeb", "bio": None, "image": None, "following": False}
    assert ok(fan.get("/api/profiles/celeb"))["profile"]["following"] is False


def test_articles_journey(api):
    jake, _ = register("jake")
    jane, _ = register("jane")

    # Create: 201 with the full article; tags sorted alphabetically, ignoring case.
    created = create_article(jake, "How to train your dragon", ["dragons", "Training", "art"])
    assert_article(created)
    assert created["title"] == "How to train your dragon"
    assert created["description"] == "About How to train your dragon"
    assert created["body"] == "The body of How to train your dragon"
    assert created["slug"] == "how-to-train-your-dragon"
    assert created["tagList"] == ["art", "dragons", "Training"]
    assert created["createdAt"] == created["updatedAt"]
    assert created["favorited"] is False
    assert created["favoritesCount"] == 0
    assert created["author"] == {"username": "jake", "bio": None, "image": None, "following": False}
    slug = created["slug"]

    # Without tagList the article has no tags.
    second = create_article(jake, "Second", None)
    assert second["tagList"] == []
    third = create_article(jane, "Third", ["dragons"])

    # List: newest first, no body, the total count.
    listed = ok(api.get("/api/articles"))
    assert set(listed) == {"articles", "articlesCount"}
    assert listed["articlesCount"] == 3
    assert [a["slug"] for a in listed["articles"]] == [third["slug"], second["slug"], slug]
    for item in listed["articles"]:
        assert_article(item, in_list=True)
    first_item = listed["articles"][2]
    assert {k: v for k, v in created.items() if k != "body"} == first_item

    # Filters: tag, author, favorited; an unknown value is an empty list, not an error.
    by_tag = ok(api.get("/api/articles", {"tag": "dragons"}))
    assert [a["slug"] for a in by_tag["articles"]] == [third["slug"], slug]
    assert by_tag["articlesCount"] == 2
    assert ok(api.get("/api/articles", {"tag": "training"})) == {"articles": [], "articlesCount": 0}
    assert ok(api.get("/api/articles", {"tag": "Training"}))["articlesCount"] == 1
    by_author = ok(api.get("/api/articles", {"author": "jake"}))
    assert [a["slug"] for a in by_author["articles"]] == [second["slug"], slug]
    assert by_author["articlesCount"] == 2
    both = ok(api.get("/api/articles", {"author": "jake", "tag": "dragons"}))
    assert [a["slug"] for a in both["articles"]] == [slug]
    assert both["articlesCount"] == 1
    assert ok(api.get("/api/articles", {"author": "nobody"})) == {
        "articles": [],
        "articlesCount": 0,
    }
    assert ok(api.get("/api/articles", {"favorited": "jane"})) == {
        "articles": [],
        "articlesCount": 0,
    }

    # Paging: limit and offset; the count is always the total.
    page = ok(api.get("/api/articles", {"limit": 2}))
    assert [a["slug"] for a in page["articles"]] == [third["slug"], second["slug"]]
    assert page["articlesCount"] == 3
    page = ok(api.get("/api/articles", {"limit": 2, "offset": 2}))
    assert [a["slug"] for a in page["articles"]] == [slug]
    assert page["articlesCount"] == 3
    assert ok(api.get("/api/articles", {"offset": 10})) == {"articles": [], "articlesCount": 3}

    # Get one: with body, the same strings as at creation.
    fetched = ok(api.get(f"/api/articles/{slug}"))["article"]
    assert_article(fetched)
    assert fetched == created

    # Update the body only: slug, title, tags and createdAt stay; updatedAt moves on.
    response = jake.put(f"/api/articles/{slug}", {"article": {"body": "New body"}}, format="json")
    updated = ok(response)["article"]
    assert_article(updated)
    assert updated["body"] == "New body"
    assert updated["slug"] == slug
    assert updated["title"] == created["title"]
    assert updated["description"] == created["description"]
    assert updated["tagList"] == ["art", "dragons", "Training"]
    assert updated["createdAt"] == created["createdAt"]
    assert updated["updatedAt"] != created["updatedAt"]
    assert updated["updatedAt"] > created["updatedAt"]
    assert ok(api.get(f"/api/articles/{slug}"))["article"] == updated

    # A second update right away still moves updatedAt.
    response = jake.put(f"/api/articles/{slug}", {"article": {"body": "Newer"}}, format="json")
    again = ok(response)["article"]
    assert again["updatedAt"] > updated["updatedAt"]
    assert again["createdAt"] == created["createdAt"]

    # The list shows the edited article's new updatedAt but never its body.
    listed_item = ok(api.get("/api/articles", {"author": "jake"}))["articles"][1]
    assert listed_item["updatedAt"] == again["updatedAt"]
    assert "body" not in listed_item

    # tagList [] removes every tag (and the now-unused tags leave /api/tags).
    response = jake.put(f"/api/articles/{slug}", {"article": {"tagList": []}}, format="json")
    assert ok(response)["article"]["tagList"] == []
    assert ok(api.get(f"/api/articles/{slug}"))["article"]["tagList"] == []
    assert ok(api.get("/api/tags")) == {"tags": ["dragons"]}
    response = jake.put(
        f"/api/articles/{slug}", {"article": {"tagList": ["fantasy", "dragons"]}}, format="json"
    )
    assert ok(response)["article"]["tagList"] == ["dragons", "fantasy"]
    assert ok(api.get("/api/articles", {"tag": "dragons"}))["articlesCount"] == 2

    # A new title gives a new slug; the old slug is gone.
    response = jake.put(
        f"/api/articles/{slug}", {"article": {"title": "Did you train your dragon?"}}, format="json"
    )
    renamed = ok(response)["article"]
    assert renamed["title"] == "Did you train your dragon?"
    assert renamed["slug"] == "did-you-train-your-dragon"
    assert renamed["body"] == "Newer"
    assert renamed["createdAt"] == created["createdAt"]
    assert_error(api.get(f"/api/articles/{slug}"), 404, "article", "not found")
    assert ok(api.get(f"/api/articles/{renamed['slug']}"))["article"] == renamed
    slug = renamed["slug"]

    # Favorite: the single article (with body) comes back favorited.
    favorited = ok(jane.post(f"/api/articles/{slug}/favorite"))["article"]
    assert_article(favorited)
    assert favorited["favorited"] is True
    assert favorited["favoritesCount"] == 1
    assert favorited["body"] == "Newer"
    assert ok(jane.get(f"/api/articles/{slug}"))["article"]["favorited"] is True
    anonymous_view = ok(api.get(f"/api/articles/{slug}"))["article"]
    assert anonymous_view["favorited"] is False
    assert anonymous_view["favoritesCount"] == 1
    assert ok(jake.get(f"/api/articles/{slug}"))["article"]["favorited"] is False

    # Favorited lists never carry the body; the flags are the viewer's.
    for client, flag in ((api, False), (jane, True)):
        by_fan = ok(client.get("/api/articles", {"favorited": "jane"}))
        assert by_fan["articlesCount"] == 1
        [item] = by_fan["articles"]
        assert_article(item, in_list=True)
        assert item["slug"] == slug
        assert item["favorited"] is flag
        assert item["favoritesCount"] == 1
    statuses = {a["slug"]: a["favorited"] for a in ok(jane.get("/api/articles"))["articles"]}
    assert statuses == {slug: True, second["slug"]: False, third["slug"]: False}

    unfavorited = ok(jane.delete(f"/api/articles/{slug}/favorite"))["article"]
    assert_article(unfavorited)
    assert unfavorited["favorited"] is False
    assert unfavorited["favoritesCount"] == 0
    assert unfavorited["body"] == "Newer"
    assert ok(api.get("/api/articles", {"favorited": "jane"})) == {
        "articles": [],
        "articlesCount": 0,
    }

    # Tags: every tag in use.
    tags = ok(api.get("/api/tags"))
    assert set(tags) == {"tags"}
    assert sorted(tags["tags"]) == ["dragons", "fantasy"]

    # Delete: 204 with an empty body; the article and its tags are gone.
    response = jake.delete(f"/api/articles/{slug}")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(api.get(f"/api/articles/{slug}"), 404, "article", "not found")
    assert ok(api.get("/api/articles"))["articlesCount"] == 2
    assert ok(api.get("/api/articles", {"author": "jake"}))["articlesCount"] == 1
    assert ok(api.get("/api/tags")) == {"tags": ["dragons"]}


def test_feed_journey(api):
    reader, _ = register("reader")
    author, _ = register("author")
    other, _ = register("other")
    create_article(other, "Not followed")

    # Nobody followed yet: an empty feed.
    assert ok(reader.get("/api/articles/feed")) == {"articles": [], "articlesCount": 0}

    ok(reader.post("/api/profiles/author/follow"))
    slugs = [create_article(author, f"Post {n}")["slug"] for n in range(3)]
    create_article(reader, "My own post")

    feed = ok(reader.get("/api/articles/feed"))
    assert set(feed) == {"articles", "articlesCount"}
    assert feed["articlesCount"] == 3
    assert [a["slug"] for a in feed["articles"]] == slugs[::-1]
    for item in feed["articles"]:
        assert_article(item, in_list=True)
        assert item["author"]["username"] == "author"
        assert item["author"]["following"] is True

    # limit/offset page through it; articlesCount stays the total.
    page = ok(reader.get("/api/articles/feed", {"limit": 1}))
    assert [a["slug"] for a in page["articles"]] == [slugs[2]]
    assert page["articlesCount"] == 3
    page = ok(reader.get("/api/articles/feed", {"limit": 1, "offset": 1}))
    assert [a["slug"] for a in page["articles"]] == [slugs[1]]
    assert page["articlesCount"] == 3
    page = ok(reader.get("/api/articles/feed", {"limit": 5, "offset": 2}))
    assert [a["slug"] for a in page["articles"]] == [slugs[0]]
    assert page["articlesCount"] == 3

    # The global list shows following too, for the signed-in reader only.
    following = {
        a["author"]["username"]: a["author"]["following"]
        for a in ok(reader.get("/api/articles"))["articles"]
    }
    assert following == {"author": True, "other": False, "reader": False}

    # A deleted article leaves the feed and its count.
    response = author.delete(f"/api/articles/{slugs[1]}")
    assert response.status_code == 204
    feed = ok(reader.get("/api/articles/feed"))
    assert feed["articlesCount"] == 2
    assert [a["slug"] for a in feed["articles"]] == [slugs[2], slugs[0]]

    # Unfollowing empties it again.
    ok(reader.delete("/api/profiles/author/follow"))
    assert ok(reader.get("/api/articles/feed")) == {"articles": [], "articlesCount": 0}


def test_comments_journey(api):
    author, _ = register("author")
    reader, _ = register("reader")
    slug = create_article(author, "Commented")["slug"]

    assert ok(api.get(f"/api/articles/{slug}/comments")) == {"comments": []}

    response = reader.post(
        f"/api/articles/{slug}/comments", {"comment": {"body": "First!"}}, format="json"
    )
    first = ok(response, 201)["comment"]
    assert_comment(first)
    assert first["body"] == "First!"
    assert first["createdAt"] == first["updatedAt"]
    assert first["author"] == {"username": "reader", "bio": None, "image": None, "following": False}

    response = author.post(
        f"/api/articles/{slug}/comments", {"comment": {"body": "Thanks"}}, format="json"
    )
    second = ok(response, 201)["comment"]
    assert_comment(second)
    assert second["id"] != first["id"]

    # Everyone sees the thread, newest first; the ids are the same integers.
    for client in (api, reader, author):
        thread = ok(client.get(f"/api/articles/{slug}/comments"))
        assert set(thread) == {"comments"}
        assert [c["id"] for c in thread["comments"]] == [second["id"], first["id"]]
        for comment in thread["comments"]:
            assert_comment(comment)
    assert ok(api.get(f"/api/articles/{slug}/comments"))["comments"][1] == first

    # following is the viewer's.
    ok(author.post("/api/profiles/reader/follow"))
    thread = ok(author.get(f"/api/articles/{slug}/comments"))["comments"]
    assert {c["author"]["username"]: c["author"]["following"] for c in thread} == {
        "reader": True,
        "author": False,
    }

    # Delete: 204 with an empty body, gone from the list.
    response = reader.delete(f"/api/articles/{slug}/comments/{first['id']}")
    assert response.status_code == 204
    assert response.content == b""
    thread = ok(api.get(f"/api/articles/{slug}/comments"))["comments"]
    assert [c["id"] for c in thread] == [second["id"]]
    assert thread[0]["body"] == "Thanks"


def test_deleting_an_article_cascades_to_comments_and_favorites(api):
    author, _ = register("author")
    fan, _ = register("fan")
    slug = create_article(author, "Doomed", ["doomed"])["slug"]
    keep = create_article(author, "Kept", ["kept"])["slug"]
    ok(fan.post(f"/api/articles/{slug}/favorite"))
    ok(fan.post(f"/api/articles/{keep}/favorite"))
    comment = {"comment": {"body": "Nice"}}
    ok(fan.post(f"/api/articles/{slug}/comments", comment, format="json"), 201)
    ok(author.post(f"/api/articles/{slug}/comments", comment, format="json"), 201)

    response = author.delete(f"/api/articles/{slug}")
    assert response.status_code == 204

    assert_error(api.get(f"/api/articles/{slug}"), 404, "article", "not found")
    assert_error(api.get(f"/api/articles/{slug}/comments"), 404, "article", "not found")
    favorites = ok(api.get("/api/articles", {"favorited": "fan"}))
    assert favorites["articlesCount"] == 1
    assert [a["slug"] for a in favorites["articles"]] == [keep]
    assert ok(api.get("/api/articles")) == ok(api.get("/api/articles", {"author": "author"}))
    assert ok(api.get("/api/articles"))["articlesCount"] == 1
    assert ok(api.get("/api/tags")) == {"tags": ["kept"]}

    # The same title can be used again, and gets the freed slug back.
    assert create_article(author, "Doomed")["slug"] == slug


def test_unicode_and_emoji_round_trip(api):
    client, user = register("José", email="jose@example.com")
    assert user["username"] == "José"
    assert ok(api.get(f"/api/profiles/{quote('José')}"))["profile"]["username"] == "José"

    created = create_article(client, "Привет, мир 🌍", ["日本語", "🐍", "café"])
    assert created["title"] == "Привет, мир 🌍"
    assert created["slug"] == "привет-мир"
    assert created["tagList"] == ["café", "日本語", "🐍"]
    fetched = ok(api.get(f"/api/articles/{quote(created['slug'])}"))["article"]
    assert fetched == created
    for tag in ("日本語", "🐍", "café"):
        listed = ok(api.get("/api/articles", {"tag": tag}))
        assert [a["slug"] for a in listed["articles"]] == [created["slug"]]
    assert sorted(ok(api.get("/api/tags"))["tags"]) == sorted(["日本語", "🐍", "café"])

    # Titles with nothing sluggable fall back to "article", still unique and usable.
    first = create_article(client, "🎉🎉🎉")
    second = create_article(client, "🚀")
    assert first["slug"] == "article"
    assert second["slug"] != first["slug"]
    assert second["slug"].startswith("article-")
    for article in (first, second):
        assert ok(api.get(f"/api/articles/{article['slug']}"))["article"] == article
        response = client.post(
            f"/api/articles/{article['slug']}/comments",
            {"comment": {"body": "🔥 ça marche 🔥"}},
            format="json",
        )
        assert ok(response, 201)["comment"]["body"] == "🔥 ça marche 🔥"

    body = "Emoji 🎉, accents é à ü, CJK 漢字, RTL שלום"
    response = client.put(
        f"/api/articles/{first['slug']}", {"article": {"body": body}}, format="json"
    )
    assert ok(response)["article"]["body"] == body
    # The raw bytes are UTF-8, not ASCII escapes.
    raw = client.get(f"/api/articles/{first['slug']}").content
    assert "🎉".encode() in raw


def test_timestamps_are_iso_with_milliseconds_and_z(api):
    client, _ = register("timer")
    article = create_article(client, "Timed")
    comment = ok(
        client.post(
            f"/api/articles/{article['slug']}/comments", {"comment": {"body": "c"}}, format="json"
        ),
        201,
    )["comment"]
    values = [
        article["createdAt"],
        article["updatedAt"],
        comment["createdAt"],
        comment["updatedAt"],
        ok(api.get("/api/articles"))["articles"][0]["createdAt"],
        ok(api.get(f"/api/articles/{article['slug']}/comments"))["comments"][0]["updatedAt"],
    ]
    for value in values:
        assert ISO_MS.match(value), value


def test_every_json_response_declares_utf8(api):
    client, _ = register("typed")
    slug = create_article(client, "Typed", ["t"])["slug"]
    for response in (
        api.get("/api/articles"),
        api.get("/api/tags"),
        api.get(f"/api/articles/{slug}"),
        api.get(f"/api/articles/{slug}/comments"),
        api.get("/api/profiles/typed"),
        client.get("/api/user"),
        client.get("/api/articles/feed"),
        client.post(f"/api/articles/{slug}/favorite"),
    ):
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == JSON_UTF8
