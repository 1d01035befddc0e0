"""The pages' flows through their form posts: accounts, settings, the editor, deleting,
favorites, follows and comments, with the errors each shows, and the error pages."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from conduit.api.authentication import token_for
from conduit.articles.models import Article, Favorite
from conduit.comments.models import Comment
from conduit.profiles.models import Follow
from conduit.users.models import User
from tests.factories import UserFactory, favorite, follow, make_article, make_comment
from tests.support import assert_error, unchanged
from tests.web.helpers import (
    PASSWORD,
    error_messages,
    error_page,
    flashes,
    page,
    redirect_target,
)

pytestmark = pytest.mark.django_db


def signed_in_as(client: Client) -> str | None:
    """The username the client's session is signed in as, or None."""
    user_id = client.session.get(SESSION_KEY)
    return User.objects.get(pk=user_id).username if user_id else None


def value_of(doc, name):
    return doc.one(f"form input[name={name}]").attrs.get("value", "")


# --- Register ----------------------------------------------------------------------------------


def test_registering_signs_in_and_redirects_home_with_a_welcome(client, db):
    response = client.post(
        "/register", {"username": "jake", "email": "jake@example.com", "password": PASSWORD}
    )
    assert redirect_target(response) == "/"
    assert signed_in_as(client) == "jake"
    doc = page(client.get("/"))
    assert flashes(doc) == ["Welcome to Conduit, jake!"]
    assert doc.has("nav.navbar a.nav-link[href=/profile/jake]")
    assert User.objects.get(username="jake").check_password(PASSWORD)
    # The flash is shown once.
    assert flashes(page(client.get("/"))) == []


def test_registering_follows_a_safe_next(client, db):
    response = client.post(
        "/register",
        {"username": "jake", "email": "jake@example.com", "password": PASSWORD, "next": "/editor"},
    )
    assert redirect_target(response) == "/editor"


def test_registering_with_blank_fields_lists_every_error(client, db):
    doc = page(client.post("/register", {"username": "", "email": "", "password": ""}), 422)
    assert error_messages(doc) == [
        "username can't be blank",
        "email can't be blank",
        "password can't be blank",
    ]
    assert doc.one("ul.error-messages").attrs["role"] == "alert"
    assert signed_in_as(client) is None
    assert not User.objects.exists()


def test_registering_with_errors_keeps_username_and_email_and_never_echoes_the_password(client, db):
    response = client.post(
        "/register",
        {"username": "jake smith", "email": "not-an-email", "password": "Secret-pw-1234"},
    )
    doc = page(response, 422)
    assert error_messages(doc) == [
        "username may contain only letters, digits and . _ -",
        "email is invalid",
    ]
    assert value_of(doc, "username") == "jake smith"
    assert value_of(doc, "email") == "not-an-email"
    assert "value" not in doc.one("input[name=password]").attrs
    assert b"Secret-pw-1234" not in response.content


def test_registering_a_short_password_says_why(client, db):
    doc = page(
        client.post("/register", {"username": "j", "email": "j@x.io", "password": "short"}), 422
    )
    assert error_messages(doc) == ["password is too short (minimum is 8 characters)"]


def test_registering_a_taken_username_or_email_says_it_has_already_been_taken(client, alice):
    response = client.post(
        "/register", {"username": "ALICE", "email": "new@example.com", "password": PASSWORD}
    )
    assert error_messages(page(response, 422)) == ["username has already been taken"]
    response = client.post(
        "/register", {"username": "alice2", "email": "alice@example.com", "password": PASSWORD}
    )
    assert error_messages(page(response, 422)) == ["email has already been taken"]
    assert User.objects.count() == 1
    assert signed_in_as(client) is None


def test_the_register_form_posts_next_along(client, db):
    doc = page(client.get("/register?next=/settings"))
    assert value_of(doc, "next") == "/settings"
    assert doc.one("p.text-xs-center a").attrs["href"] == "/login?next=/settings"


# --- Sign in, sign out -------------------------------------------------------------------------


def test_signing_in_redirects_home(client, alice):
    response = client.post("/login", {"email": "alice@example.com", "password": PASSWORD})
    assert redirect_target(response) == "/"
    assert signed_in_as(client) == "alice"


def test_signing_in_ignores_the_case_and_spaces_of_the_email(client, alice):
    response = client.post("/login", {"email": " Alice@Example.COM ", "password": PASSWORD})
    assert redirect_target(response) == "/"


@pytest.mark.parametrize(
    ("email", "password"),
    [("alice@example.com", "wrong-password"), ("nobody@example.com", PASSWORD)],
    ids=["wrong_password", "unknown_email"],
)
def test_a_failed_sign_in_says_email_or_password_is_invalid_and_keeps_the_email(
    client, alice, email, password
):
    response = client.post("/login", {"email": email, "password": password})
    doc = page(response, 422)
    assert error_messages(doc) == ["email or password is invalid"]
    assert value_of(doc, "email") == email
    assert "value" not in doc.one("input[name=password]").attrs
    assert password.encode() not in response.content
    assert signed_in_as(client) is None


def test_signing_in_with_blank_fields_lists_them(client, db):
    doc = page(client.post("/login", {"email": "", "password": ""}), 422)
    assert error_messages(doc) == ["email can't be blank", "password can't be blank"]


def test_signing_in_goes_back_to_the_page_that_asked_for_it(client, alice):
    login_url = redirect_target(client.get("/settings"))
    assert login_url == "/login?next=/settings"
    doc = page(client.get(login_url))
    assert value_of(doc, "next") == "/settings"
    response = client.post(
        "/login", {"email": "alice@example.com", "password": PASSWORD, "next": "/settings"}
    )
    assert redirect_target(response) == "/settings"
    page(client.get("/settings"))


def test_a_failed_sign_in_keeps_next_for_the_next_try(client, alice):
    response = client.post(
        "/login", {"email": "alice@example.com", "password": "nope-nope", "next": "/editor"}
    )
    assert value_of(page(response, 422), "next") == "/editor"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example",
        "https://evil.example/login",
        "//evil.example",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "\\\\evil.example",
        "/\\evil.example",
        "///evil.example",
        "https:evil.example",
    ],
)
def test_an_off_site_next_is_ignored(client, alice, next_url):
    doc = page(client.get("/login", {"next": next_url}))
    assert not doc.has("input[name=next]")
    response = client.post(
        "/login", {"email": "alice@example.com", "password": PASSWORD, "next": next_url}
    )
    assert redirect_target(response) == "/"
    response = client.post(
        "/register",
        {"username": "jake", "email": "jake@example.com", "password": PASSWORD, "next": next_url},
    )
    assert redirect_target(response) == "/"


def test_signing_out_is_a_post(client, alice):
    client.force_login(alice)
    assert client.get("/logout").status_code == 405
    assert signed_in_as(client) == "alice"
    assert redirect_target(client.post("/logout")) == "/"
    assert signed_in_as(client) is None
    assert page(client.get("/")).has(".banner")


# --- Settings ----------------------------------------------------------------------------------


def settings_form(user: User, **changes: str) -> dict[str, str]:
    form = {
        "image": user.image or "",
        "username": user.username,
        "bio": user.bio or "",
        "email": user.email,
        "password": "",
        "current_password": PASSWORD,
    }
    form.update(changes)
    return form


def test_updating_bio_and_image_redirects_to_the_profile(client, alice):
    client.force_login(alice)
    form = settings_form(alice, bio="New bio", image="https://example.com/me.png")
    assert redirect_target(client.post("/settings", form)) == "/profile/alice"
    doc = page(client.get("/profile/alice"))
    assert flashes(doc) == ["Your settings are saved."]
    assert doc.one(".user-info p").text == "New bio"
    assert doc.one(".user-info img.user-img").attrs["src"] == "https://example.com/me.png"
    alice.refresh_from_db()
    assert (alice.bio, alice.image) == ("New bio", "https://example.com/me.png")
    assert alice.check_password(PASSWORD)  # a blank password field changes nothing


def test_clearing_bio_and_image(client, alice):
    alice.image = "https://example.com/me.png"
    alice.save()
    client.force_login(alice)
    redirect_target(client.post("/settings", settings_form(alice, bio="", image="")))
    alice.refresh_from_db()
    assert (alice.bio, alice.image) == (None, None)
    doc = page(client.get("/profile/alice"))
    assert doc.one("img.user-img").attrs["src"] == "/static/conduit/avatars/default.svg"


def test_changing_the_username_redirects_to_the_new_profile(client, alice):
    client.force_login(alice)
    response = client.post("/settings", settings_form(alice, username="alicia"))
    assert redirect_target(response) == "/profile/alicia"
    doc = page(client.get("/profile/alicia"))
    assert doc.one(".user-info h4").text == "alicia"
    assert doc.has(".user-info a[href=/settings]")  # still her own, still signed in
    error_page(client.get("/profile/alice"), 404)


def test_changing_the_password_keeps_you_signed_in(client, alice):
    client.force_login(alice)
    response = client.post("/settings", settings_form(alice, password="a-new-password"))
    assert redirect_target(response) == "/profile/alice"
    assert signed_in_as(client) == "alice"
    page(client.get("/settings"))  # not sent to sign in: the session follows the new hash
    fresh = Client()
    old = {"email": "alice@example.com", "password": PASSWORD}
    assert page(fresh.post("/login", old), 422)
    new = {"email": "alice@example.com", "password": "a-new-password"}
    assert redirect_target(fresh.post("/login", new)) == "/"


@pytest.mark.parametrize(
    "change", [{"password": "a-new-password"}, {"email": "alice.new@example.com"}]
)
@pytest.mark.parametrize("current", ["", "not-her-password"])
def test_a_new_password_or_email_needs_the_current_password(client, alice, change, current):
    client.force_login(alice)
    with unchanged():
        doc = page(
            client.post("/settings", settings_form(alice, current_password=current, **change)), 422
        )
    assert error_messages(doc) == ["current_password is invalid"]


def test_a_bio_change_needs_no_current_password(client, alice):
    client.force_login(alice)
    response = client.post("/settings", settings_form(alice, bio="New bio", current_password=""))
    assert redirect_target(response) == "/profile/alice"


def test_a_password_change_signs_out_every_other_session(client, alice):
    other = Client()
    other.force_login(alice)
    assert signed_in_as(other) == "alice"
    client.force_login(alice)
    client.post("/settings", settings_form(alice, password="a-new-password"))
    assert redirect_target(other.get("/settings")).startswith("/login?next=")
    assert signed_in_as(other) is None
    page(client.get("/settings"))  # this one follows the new hash


def test_sign_out_everywhere_ends_every_session_and_token(client, alice, api):
    token = token_for(alice)
    other = Client()
    other.force_login(alice)
    client.force_login(alice)
    response = client.post("/settings/sign-out-everywhere")
    assert redirect_target(response) == "/login"
    assert signed_in_as(client) is None
    assert redirect_target(other.get("/settings")).startswith("/login?next=")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/user").status_code == 401


def test_settings_errors_are_shown_with_the_entered_values_kept(client, alice):
    client.force_login(alice)
    form = settings_form(
        alice,
        image="javascript:alert(1)",
        username="al ice",
        bio="Kept bio",
        email="not-an-email",
        password="Pw-5x",
    )
    with unchanged():
        response = client.post("/settings", form)
    doc = page(response, 422)
    assert error_messages(doc) == [
        "username may contain only letters, digits and . _ -",
        "email is invalid",
        "password is too short (minimum is 8 characters)",
        "image must be an http(s) URL",
    ]
    assert value_of(doc, "image") == "javascript:alert(1)"
    assert value_of(doc, "username") == "al ice"
    assert doc.one("textarea[name=bio]").text == "Kept bio"
    assert value_of(doc, "email") == "not-an-email"
    assert "value" not in doc.one("input[name=password]").attrs
    assert b"Pw-5x" not in response.content
    # The navbar still shows who is signed in, not the rejected name.
    assert doc.one("nav.navbar a.nav-link[href=/profile/alice]").text == "alice"


def test_settings_with_a_taken_username_or_email(client, alice, bob):
    client.force_login(alice)
    with unchanged():
        doc = page(client.post("/settings", settings_form(alice, username="BOB")), 422)
        assert error_messages(doc) == ["username has already been taken"]
        doc = page(client.post("/settings", settings_form(alice, email="bob@example.com")), 422)
        assert error_messages(doc) == ["email has already been taken"]


def test_a_blank_username_or_email_is_refused(client, alice):
    client.force_login(alice)
    with unchanged():
        doc = page(client.post("/settings", settings_form(alice, username="", email=" ")), 422)
    assert error_messages(doc) == ["username can't be blank", "email can't be blank"]


def test_settings_sends_a_signed_out_post_to_sign_in(client, alice):
    with unchanged():
        response = client.post("/settings", settings_form(alice, bio="x"))
    assert redirect_target(response).startswith("/login?next=")


# --- Editor ------------------------------------------------------------------------------------


def editor_form(**changes):
    form = {"title": "A title", "description": "A description", "body": "A *body*", "tags": ""}
    form.update(changes)
    return form


def test_publishing_an_article_redirects_to_it(client, alice):
    client.force_login(alice)
    response = client.post(
        "/editor", editor_form(title="Hello World", body="# Heading\n\ntext", tags="intro, hello")
    )
    article = Article.objects.get()
    assert article.slug == "hello-world"
    assert redirect_target(response) == "/article/hello-world"
    doc = page(client.get("/article/hello-world"))
    assert doc.one(".banner h1").text == "Hello World"
    assert doc.one(".article-content h1").text == "Heading"
    assert doc.texts(".article-content .tag-list li") == ["hello", "intro"]
    assert article.author == alice


def test_tags_from_pills_and_typed_text_are_merged_and_deduplicated(client, alice):
    client.force_login(alice)
    form = editor_form(tags=" django, python ,, django ,", tag=["python", "web", " ", "web"])
    redirect_target(client.post("/editor", form))
    assert Article.objects.get().tag_list == ["django", "python", "web"]


def test_tags_from_pills_only(client, alice):
    client.force_login(alice)
    redirect_target(client.post("/editor", {**editor_form(), "tag": ["b", "a"]}))
    assert Article.objects.get().tag_list == ["a", "b"]


def test_publishing_with_errors_shows_them_and_keeps_every_value(client, alice):
    client.force_login(alice)
    form = editor_form(title=" ", description="Kept", body="Kept *body*", tags="x, y")
    with unchanged():
        response = client.post("/editor", {**form, "tag": ["z"]})
    doc = page(response, 422)
    assert error_messages(doc) == ["title can't be blank"]
    assert value_of(doc, "description") == "Kept"
    assert doc.one("textarea[name=body]").text == "Kept *body*"
    assert value_of(doc, "tags") == "z, x, y"
    assert doc.one("form").attrs["action"] == "/editor"


def test_publishing_with_every_field_blank_lists_them_all(client, alice):
    client.force_login(alice)
    doc = page(client.post("/editor", editor_form(title="", description="", body="")), 422)
    assert error_messages(doc) == [
        "title can't be blank",
        "description can't be blank",
        "body can't be blank",
    ]


def test_a_signed_out_post_to_the_editor_creates_nothing(client, db):
    with unchanged():
        response = client.post("/editor", editor_form())
    assert redirect_target(response).startswith("/login?next=")


def test_editing_a_title_gives_a_new_slug_and_redirects_to_it(client, alice):
    article = make_article(alice, title="Old title", tags=["keep", "drop"])
    client.force_login(alice)
    form = editor_form(title="New title", description="New desc", body="New body", tags="keep, add")
    response = client.post(f"/editor/{article.slug}", form)
    assert redirect_target(response) == "/article/new-title"
    article.refresh_from_db()
    assert (article.slug, article.title, article.description, article.body) == (
        "new-title",
        "New title",
        "New desc",
        "New body",
    )
    assert article.tag_list == ["add", "keep"]
    error_page(client.get("/article/old-title"), 404)
    doc = page(client.get("/article/new-title"))
    assert doc.texts(".article-content .tag-list li") == ["add", "keep"]


def test_editing_without_changing_the_title_keeps_the_slug(client, alice):
    article = make_article(alice, title="Same title")
    client.force_login(alice)
    response = client.post(f"/editor/{article.slug}", editor_form(title="Same title", body="B2"))
    assert redirect_target(response) == "/article/same-title"
    article.refresh_from_db()
    assert article.body == "B2"


def test_editing_with_errors_shows_them_on_the_edit_form(client, alice):
    article = make_article(alice, title="Title")
    client.force_login(alice)
    with unchanged():
        response = client.post(f"/editor/{article.slug}", editor_form(body=" ", title="Changed"))
    doc = page(response, 422)
    assert error_messages(doc) == ["body can't be blank"]
    assert value_of(doc, "title") == "Changed"
    assert doc.one("form").attrs["action"] == f"/editor/{article.slug}"


def test_only_the_author_may_edit(client, alice, bob):
    article = make_article(alice, title="Title")
    client.force_login(bob)
    with unchanged():
        response = client.post(f"/editor/{article.slug}", editor_form(title="Hijacked"))
    error_page(response, 403)


def test_editing_an_unknown_article_is_the_404_page(client, alice):
    client.force_login(alice)
    error_page(client.post("/editor/no-such-article", editor_form()), 404)


# --- Delete ------------------------------------------------------------------------------------


def test_the_author_deletes_an_article_with_a_post(client, alice):
    article = make_article(alice, tags=["t"])
    favorite(UserFactory(), article)
    client.force_login(alice)
    assert client.get(f"/article/{article.slug}/delete").status_code == 405
    assert redirect_target(client.post(f"/article/{article.slug}/delete")) == "/"
    assert not Article.objects.exists()
    doc = page(client.get("/"))
    assert flashes(doc) == ["The article is deleted."]
    error_page(client.get(f"/article/{article.slug}"), 404)


def test_only_the_author_may_delete(client, alice, bob):
    article = make_article(alice)
    client.force_login(bob)
    with unchanged():
        error_page(client.post(f"/article/{article.slug}/delete"), 403)


def test_a_signed_out_delete_goes_to_sign_in(client, alice):
    article = make_article(alice)
    with unchanged():
        response = client.post(f"/article/{article.slug}/delete")
    assert redirect_target(response).startswith("/login?next=")


def test_deleting_an_unknown_article_is_the_404_page(client, alice):
    client.force_login(alice)
    error_page(client.post("/article/nope/delete"), 404)


# --- Favorites ---------------------------------------------------------------------------------


@pytest.fixture
def article(alice) -> Article:
    return make_article(alice, title="Favorite me")


def test_favorite_and_unfavorite_go_back_to_next(client, article, bob):
    client.force_login(bob)
    url = f"/article/{article.slug}/favorite"
    assert redirect_target(client.post(url, {"action": "add", "next": "/?page=1"})) == "/?page=1"
    assert Favorite.objects.filter(user=bob, article=article).exists()
    doc = page(client.get("/"))
    assert doc.one(".article-preview button").text == "1"
    assert doc.one(".article-preview input[name=action]").attrs["value"] == "remove"

    assert redirect_target(client.post(url, {"action": "remove", "next": "/"})) == "/"
    assert not Favorite.objects.exists()
    article.refresh_from_db()
    assert article.favorites_count == 0


def test_favorite_without_next_goes_back_to_the_article(client, article, bob):
    client.force_login(bob)
    response = client.post(f"/article/{article.slug}/favorite", {"action": "add"})
    assert redirect_target(response) == f"/article/{article.slug}"
    response = client.post(
        f"/article/{article.slug}/favorite", {"action": "remove", "next": "https://evil.example"}
    )
    assert redirect_target(response) == f"/article/{article.slug}"


def test_favoriting_twice_shows_a_flash_error_not_a_500(client, article, bob):
    client.force_login(bob)
    url = f"/article/{article.slug}/favorite"
    redirect_target(client.post(url, {"action": "add"}))
    with unchanged():
        response = client.post(url, {"action": "add", "next": f"/article/{article.slug}"})
    assert redirect_target(response) == f"/article/{article.slug}"
    doc = page(client.get(f"/article/{article.slug}"))
    assert flashes(doc) == ["article is already in your favorites"]
    assert doc.one(".flash-messages .flash").classes == {"flash", "flash-error"}


def test_unfavoriting_what_is_not_a_favorite_shows_a_flash_error(client, article, bob):
    client.force_login(bob)
    with unchanged():
        response = client.post(f"/article/{article.slug}/favorite", {"action": "remove"})
    assert flashes(page(client.get(redirect_target(response)))) == [
        "article is not in your favorites"
    ]


def test_a_signed_out_favorite_goes_to_sign_in_and_comes_back(client, article):
    with unchanged():
        response = client.post(
            f"/article/{article.slug}/favorite",
            {"action": "add", "next": f"/article/{article.slug}"},
        )
    assert redirect_target(response) == f"/login?next=/article/{article.slug}"
    assert client.get(f"/article/{article.slug}/favorite").status_code == 405


def test_favoriting_an_unknown_article_is_the_404_page(client, bob):
    client.force_login(bob)
    error_page(client.post("/article/nope/favorite", {"action": "add"}), 404)


# --- Follows -----------------------------------------------------------------------------------


def test_follow_and_unfollow_go_back_to_next(client, alice, bob):
    client.force_login(bob)
    response = client.post("/profile/alice/follow", {"action": "add", "next": "/profile/alice"})
    assert redirect_target(response) == "/profile/alice"
    assert Follow.objects.filter(follower=bob, followee=alice).exists()
    doc = page(client.get("/profile/alice"))
    assert doc.one(".user-info button").text == "Unfollow alice"

    response = client.post("/profile/alice/follow", {"action": "remove"})
    assert redirect_target(response) == "/profile/alice"
    assert not Follow.objects.exists()
    alice.refresh_from_db()
    assert alice.followers_count == 0


def test_following_from_an_article_comes_back_to_it(client, article, bob):
    client.force_login(bob)
    next_url = f"/article/{article.slug}"
    response = client.post("/profile/alice/follow", {"action": "add", "next": next_url})
    assert redirect_target(response) == next_url
    assert page(client.get(next_url)).select(".article-meta form button")[0].text == (
        "Unfollow alice"
    )


@pytest.mark.parametrize(
    ("who", "action", "message"),
    [
        ("alice", "add", "profile is already followed"),
        ("carol", "remove", "profile is not followed"),
        ("bob", "add", "profile cannot be your own"),
    ],
)
def test_a_follow_that_breaks_a_rule_shows_a_flash_error(client, alice, bob, who, action, message):
    UserFactory(username="carol")
    follow(bob, alice)
    client.force_login(bob)
    with unchanged():
        response = client.post(f"/profile/{who}/follow", {"action": action})
    assert redirect_target(response) == f"/profile/{who}"
    assert flashes(page(client.get(f"/profile/{who}"))) == [message]


def test_a_signed_out_follow_goes_to_sign_in(client, alice):
    with unchanged():
        response = client.post("/profile/alice/follow", {"action": "add", "next": "/profile/alice"})
    assert redirect_target(response) == "/login?next=/profile/alice"


def test_following_an_unknown_profile_is_the_404_page(client, bob):
    client.force_login(bob)
    error_page(client.post("/profile/nobody/follow", {"action": "add"}), 404)


# --- Comments ----------------------------------------------------------------------------------


def test_posting_a_comment_shows_it_on_the_article(client, article, bob):
    client.force_login(bob)
    response = client.post(f"/article/{article.slug}/comments", {"body": "  Nice post!  "})
    comment = Comment.objects.get()
    assert comment.body == "Nice post!"
    assert redirect_target(response) == f"/article/{article.slug}#comment-{comment.pk}"
    doc = page(client.get(f"/article/{article.slug}"))
    card = doc.one(f"#comment-{comment.pk}")
    assert card.one("p.card-text").text == "Nice post!"
    assert card.select("a.comment-author")[1].text == "bob"


def test_a_blank_comment_shows_a_flash_error(client, article, bob):
    client.force_login(bob)
    with unchanged():
        response = client.post(f"/article/{article.slug}/comments", {"body": " \n "})
    assert redirect_target(response) == f"/article/{article.slug}#comment-form"
    doc = page(client.get(f"/article/{article.slug}"))
    assert flashes(doc) == ["body can't be blank"]
    assert doc.one(".flash-messages .flash").classes == {"flash", "flash-error"}


def test_deleting_your_comment(client, article, bob):
    comment = make_comment(bob, article)
    client.force_login(bob)
    url = f"/article/{article.slug}/comments/{comment.pk}/delete"
    assert client.get(url).status_code == 405
    assert redirect_target(client.post(url)) == f"/article/{article.slug}#comments"
    assert not Comment.objects.exists()


def test_deleting_another_users_comment_is_the_403_page(client, article, alice, bob):
    comment = make_comment(bob, article)
    client.force_login(alice)  # the article's author, not the comment's
    with unchanged():
        error_page(client.post(f"/article/{article.slug}/comments/{comment.pk}/delete"), 403)


def test_deleting_a_comment_of_another_article_is_the_404_page(client, article, alice, bob):
    other = make_article(alice, title="Other")
    comment = make_comment(bob, other)
    client.force_login(bob)
    with unchanged():
        error_page(client.post(f"/article/{article.slug}/comments/{comment.pk}/delete"), 404)
        error_page(client.post(f"/article/{article.slug}/comments/999999/delete"), 404)


def test_a_signed_out_comment_goes_to_sign_in(client, article):
    with unchanged():
        response = client.post(f"/article/{article.slug}/comments", {"body": "Hi"})
    assert redirect_target(response).startswith("/login?next=")


def test_commenting_on_an_unknown_article_is_the_404_page(client, bob):
    client.force_login(bob)
    error_page(client.post("/article/nope/comments", {"body": "Hi"}), 404)


# --- Error pages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/article/no-such-article", "/profile/nobody", "/no/such/page", "/article/"]
)
def test_not_found_is_the_sites_404_page(client, db, path):
    doc = error_page(client.get(path), 404)
    assert doc.one("title").text == "404 — Conduit"
    assert doc.select(".error-page p")[0].text == "We couldn't find that page."
    assert doc.one(".error-page a.btn").attrs["href"] == "/"


def test_the_404_page_knows_who_is_signed_in(client, alice):
    client.force_login(alice)
    doc = error_page(client.get("/article/no-such-article"), 404)
    assert doc.has("nav.navbar a.nav-link[href=/profile/alice]")


@pytest.mark.parametrize("path", ["/api/no-such-endpoint", "/api/articles/no-such-article"])
def test_not_found_under_api_is_json(client, db, path):
    response = client.get(path)
    assert_error(response, 404)
    assert b"<html" not in response.content


# --- Odd input ---------------------------------------------------------------------------------
# NUL characters cannot be stored in PostgreSQL text, and ids past the bigint range cannot be
# looked up: both must be a refusal or a not-found, never a server error.


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/?tag=%00", 200),
        ("/?page=%00", 404),
        ("/profile/a%00b", 404),
        ("/profile/a%00b/favorites", 404),
        ("/article/a%00b", 404),
        ("/editor/a%00b", 404),
        ("/article/" + "x" * 300, 404),
    ],
)
def test_odd_paths_and_queries_are_not_server_errors(client, alice, path, status):
    client.force_login(alice)
    page(client.get(path), status)


@pytest.mark.parametrize(
    ("path", "data", "status"),
    [
        ("/article/a%00b/favorite", {"action": "add"}, 404),
        ("/profile/a%00b/follow", {"action": "add"}, 404),
        ("/editor", {"title": "a\x00", "description": "d", "body": "b", "tags": "t\x00"}, 422),
        ("/settings", {"username": "alice", "email": "alice@example.com", "bio": "\x00"}, 422),
        ("/login", {"email": "a\x00@example.com", "password": "x"}, 422),
        ("/register", {"username": "a\x00", "email": "b@x.io", "password": "p\x00ssword"}, 422),
    ],
)
def test_odd_form_posts_are_not_server_errors(client, alice, path, data, status):
    client.force_login(alice)
    with unchanged():
        page(client.post(path, data), status)


def test_a_nul_comment_is_a_flash_error(client, alice):
    article = make_article(alice)
    client.force_login(alice)
    with unchanged():
        response = client.post(f"/article/{article.slug}/comments", {"body": "a\x00b"})
    assert flashes(page(client.get(redirect_target(response)))) == [
        "body must not contain NUL characters"
    ]


@pytest.mark.parametrize("comment_id", ["9223372036854775807", "9223372036854775808", "9" * 20])
def test_a_comment_id_past_the_bigint_range_is_the_404_page(client, alice, comment_id):
    article = make_article(alice)
    client.force_login(alice)
    error_page(client.post(f"/article/{article.slug}/comments/{comment_id}/delete"), 404)


def test_a_bad_host_is_the_sites_400_page_and_json_under_api(db):
    client = Client()
    doc = error_page(client.get("/", headers={"host": "evil.example"}), 400)
    assert doc.one("title").text == "400 — Conduit"
    assert_error(client.get("/api/articles", headers={"host": "evil.example"}), 400)


def test_a_server_error_is_the_sites_500_page_without_touching_the_database(
    db, settings, alice, django_assert_num_queries
):
    settings.ROOT_URLCONF = "tests.web.failing_urls"
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    with django_assert_num_queries(0):
        response = client.get("/fail")
    doc = page(response, 500)
    assert doc.one("main .error-page h1").text == "500"
    assert doc.one("title").text == "Something went wrong — Conduit"
    assert not doc.has("nav.navbar a.nav-link")  # no user, no session: the database may be down


def test_a_server_error_under_api_is_json(db, settings):
    settings.ROOT_URLCONF = "tests.web.failing_urls"
    response = Client(raise_request_exception=False).get("/api/fail")
    assert_error(response, 500)
