"""The rules for account fields, shared by registration and profile updates."""

import re
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from conduit.platform.validation import Checker
from conduit.users.models import (
    BIO_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    IMAGE_URL_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    User,
)

# Letters (any script), digits, and . _ - : a username is a path segment in /profile/<username>.
_USERNAME_RE = re.compile(r"^[\w.-]+$")
PASSWORD_MAX_LENGTH = 128


def _username_rule(value: str) -> str | None:
    if not _USERNAME_RE.fullmatch(value):
        return "may contain only letters, digits and . _ -"
    return None


def _email_rule(value: str) -> str | None:
    try:
        validate_email(value)
    except ValidationError:
        return "is invalid"
    return None


def _image_rule(value: str) -> str | None:
    # Only http(s) URLs or site-relative paths: never javascript:, data: or other schemes.
    if value.startswith("/") and not value.startswith("//"):
        return None
    if re.match(r"^https?://[^\s/$.?#][^\s]*$", value, flags=re.IGNORECASE):
        return None
    return "must be an http(s) URL"


def _password_message(error: ValidationError) -> str:
    # Said of the field, as every other message is: shown as "password <message>".
    if error.code == "password_too_short" and error.params:
        return f"is too short (minimum is {error.params['min_length']} characters)"
    if error.code == "password_too_common":
        return "is too common"
    if error.code == "password_too_similar" and error.params:
        return f"is too similar to the {error.params['verbose_name']}"
    return " ".join(error.messages)


def check_username(checker: Checker, value: str | None, *, required: bool) -> str | None:
    return checker.text(
        "username", value, max_length=USERNAME_MAX_LENGTH, required=required, rule=_username_rule
    )


def check_email(checker: Checker, value: str | None, *, required: bool) -> str | None:
    return checker.text(
        "email", value, max_length=EMAIL_MAX_LENGTH, required=required, rule=_email_rule
    )


def check_password(
    checker: Checker, value: str | None, *, required: bool, user: Any = None
) -> str | None:
    """A password within the length bounds that passes ``AUTH_PASSWORD_VALIDATORS``: with
    ``user`` (anything with ``username`` and ``email``), not too similar to either."""
    password = checker.text(
        "password", value, max_length=PASSWORD_MAX_LENGTH, required=required, strip=False
    )
    if password:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            for error in exc.error_list:
                checker.add("password", _password_message(error))
            return None
    return password


def attributes(*, username: str | None, email: str | None) -> User:
    """What the similarity validator compares a new password with: an unsaved user."""
    return User(username=username or "", email=email or "")


def check_bio(checker: Checker, value: str | None) -> str | None:
    return checker.text("bio", value, max_length=BIO_MAX_LENGTH, required=False)


def check_image(checker: Checker, value: str | None) -> str | None:
    return checker.text(
        "image", value, max_length=IMAGE_URL_MAX_LENGTH, required=False, rule=_image_rule
    )
