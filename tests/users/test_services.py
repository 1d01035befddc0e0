"""Account services: registration, sign-in and profile updates, and their messages."""

import pytest

from conduit.platform.exceptions import AlreadyExists, InvalidCredentials, InvalidInput
from conduit.users.models import User
from conduit.users.services import user_authenticate, user_register, user_update
from tests.factories import UserFactory
from tests.support import unchanged

pytestmark = pytest.mark.django_db

BLANK = "can't be blank"
TAKEN = "has already been taken"
PASSWORD = "password123"


def register(**overrides):
    data = {"username": "jake", "email": "jake@example.com", "password": PASSWORD}
    data.update(overrides)
    return user_register(**data)


# --- registration ----------------------------------------------------------------------------


def test_register_stores_a_hashed_password_and_no_bio_or_image():
    user = register(username="  jake  ", email=" Jake@Example.com ")
    user.refresh_from_db()
    assert user.username == "jake"
    assert user.email == "Jake@Example.com"
    assert user.bio is None
    assert user.image is None
    assert user.password != PASSWORD
    assert user.check_password(PASSWORD)
    assert (user.articles_count, user.favorites_count) == (0, 0)
    assert (user.followers_count, user.following_count) == (0, 0)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_register_reports_every_blank_field_at_once(value):
    with pytest.raises(InvalidInput) as exc, unchanged():
        user_register(username=value, email=value, password=value)
    assert exc.value.errors == {"username": [BLANK], "email": [BLANK], "password": [BLANK]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "u" * 41, "is too long (maximum is 40 characters)"),
        ("username", "two words", "may contain only letters, digits and . _ -"),
        ("username", "a/b", "may contain only letters, digits and . _ -"),
        ("username", "🙂", "may contain only letters, digits and . _ -"),
        ("email", "not-an-email", "is invalid"),
        ("email", "x" * 250 + "@example.com", "is too long (maximum is 254 characters)"),
        ("password", "p" * 129, "is too long (maximum is 128 characters)"),
        ("password", "a\x00bcdefgh", "must not contain NUL characters"),
        ("username", "ja\x00ke", "must not contain NUL characters"),
    ],
)
def test_register_field_rules(field, value, message):
    with pytest.raises(InvalidInput) as exc, unchanged():
        register(**{field: value})
    assert exc.value.errors == {field: [message]}
    assert not isinstance(exc.value, AlreadyExists)


def test_register_rejects_a_short_password_with_the_minimum_in_the_message():
    with pytest.raises(InvalidInput) as exc, unchanged():
        register(password="short7c")
    [message] = exc.value.errors["password"]
    assert "8 characters" in message


@pytest.mark.parametrize("password", ["bonjour1", "a" * 64, "a" * 128, "  spaces kept  "])
def test_register_accepts_passwords_of_8_to_128_characters_as_typed(password):
    user = register(password=password)
    assert user.check_password(password)
    assert user_authenticate(email="jake@example.com", password=password) == user


def test_blank_fields_are_reported_before_format_rules():
    with pytest.raises(InvalidInput) as exc:
        register(email="", username="bad name")
    assert exc.value.errors == {
        "email": [BLANK],
        "username": ["may contain only letters, digits and . _ -"],
    }


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"username": "JAKE", "email": "new@example.com"}, {"username": [TAKEN]}),
        ({"username": "new", "email": "JAKE@EXAMPLE.COM"}, {"email": [TAKEN]}),
        (
            {"username": "Jake", "email": "jake@example.com"},
            {"username": [TAKEN], "email": [TAKEN]},
        ),
    ],
)
def test_register_refuses_taken_names_and_emails_ignoring_case(overrides, errors):
    register()
    with pytest.raises(AlreadyExists) as exc, unchanged():
        register(**overrides)
    assert exc.value.errors == errors


# --- sign-in ---------------------------------------------------------------------------------


def test_authenticate_ignores_email_case_and_surrounding_spaces():
    user = register(email="Jake@Example.com")
    for email in ("jake@example.com", "JAKE@EXAMPLE.COM", "  jake@example.com  "):
        assert user_authenticate(email=email, password=PASSWORD) == user


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("jake@example.com", "wrong-password"),
        ("jake@example.com", "PASSWORD123"),
        ("jake@example.com", f" {PASSWORD}"),
        ("nobody@example.com", PASSWORD),
    ],
)
def test_authenticate_refuses_bad_credentials_alike(email, password):
    register()
    with pytest.raises(InvalidCredentials):
        user_authenticate(email=email, password=password)


def test_authenticate_refuses_inactive_users():
    user = register()
    User.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(InvalidCredentials):
        user_authenticate(email="jake@example.com", password=PASSWORD)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_authenticate_requires_both_fields(value):
    with pytest.raises(InvalidInput) as exc:
        user_authenticate(email=value, password=value)
    assert exc.value.errors == {"email": [BLANK], "password": [BLANK]}


# --- updates ---------------------------------------------------------------------------------


@pytest.fixture
def jake():
    return UserFactory(username="jake", email="jake@example.com", bio="Old bio")


def stored(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_update_changes_only_the_given_fields(jake):
    user_update(user=jake, bio="New bio", fields={"bio"})
    after = stored(jake)
    assert after.bio == "New bio"
    assert after.username == "jake"
    assert after.email == "jake@example.com"
    assert after.image is None
    assert after.check_password(PASSWORD)


def test_update_with_no_fields_changes_nothing(jake):
    with unchanged():
        user_update(user=jake, fields=set())


@pytest.mark.parametrize("field", ["bio", "image"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_update_clears_bio_and_image_to_null(jake, field, value):
    user_update(user=jake, bio="x", image="https://example.com/a.png", fields={"bio", "image"})
    user_update(user=jake, fields={field}, **{field: value})
    assert getattr(stored(jake), field) is None


@pytest.mark.parametrize(
    "image", ["https://example.com/me.jpg", "http://example.com/me.png", "/static/me.png"]
)
def test_update_accepts_http_urls_and_site_paths_as_image(jake, image):
    user_update(user=jake, image=image, fields={"image"})
    assert stored(jake).image == image


@pytest.mark.parametrize(
    "image",
    ["javascript:alert(1)", "data:image/png;base64,AAAA", "//evil.example/x", "ftp://x.y/z"],
)
def test_update_refuses_other_image_urls(jake, image):
    with pytest.raises(InvalidInput) as exc, unchanged():
        user_update(user=jake, image=image, fields={"image"})
    assert exc.value.errors == {"image": ["must be an http(s) URL"]}


@pytest.mark.parametrize("field", ["username", "email", "password"])
@pytest.mark.parametrize("value", [None, "", "  "])
def test_update_refuses_to_blank_required_fields(jake, field, value):
    with pytest.raises(InvalidInput) as exc, unchanged():
        user_update(user=jake, fields={field}, **{field: value})
    assert exc.value.errors == {field: [BLANK]}


def test_update_password(jake):
    user_update(user=jake, password="new-password", fields={"password"})
    assert stored(jake).check_password("new-password")
    assert not stored(jake).check_password(PASSWORD)


def test_update_refuses_short_passwords(jake):
    with pytest.raises(InvalidInput) as exc, unchanged():
        user_update(user=jake, password="short", fields={"password"})
    assert list(exc.value.errors) == ["password"]


def test_update_username_and_email(jake):
    user_update(
        user=jake, username="jacob", email="jacob@example.com", fields={"username", "email"}
    )
    after = stored(jake)
    assert (after.username, after.email) == ("jacob", "jacob@example.com")


def test_update_to_own_name_in_another_case_is_allowed(jake):
    user_update(user=jake, username="JAKE", email="JAKE@example.com", fields={"username", "email"})
    assert stored(jake).username == "JAKE"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"username": "Jane"}, {"username": [TAKEN]}),
        ({"email": "JANE@example.com"}, {"email": [TAKEN]}),
        (
            {"username": "jane", "email": "jane@example.com"},
            {"username": [TAKEN], "email": [TAKEN]},
        ),
    ],
)
def test_update_refuses_taken_names_and_emails(jake, changes, errors):
    UserFactory(username="jane", email="jane@example.com")
    with pytest.raises(AlreadyExists) as exc, unchanged():
        user_update(user=jake, fields=set(changes), **changes)
    assert exc.value.errors == errors


def test_a_refused_update_changes_no_field(jake):
    with pytest.raises(InvalidInput), unchanged():
        user_update(
            user=jake,
            bio="Would change",
            image="javascript:alert(1)",
            password="another-password",
            fields={"bio", "image", "password"},
        )
