import unicodedata
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils.crypto import salted_hmac

USERNAME_MAX_LENGTH = 40
EMAIL_MAX_LENGTH = 254
BIO_MAX_LENGTH = 2_000
IMAGE_URL_MAX_LENGTH = 2_000


def identity_key(value: str) -> str:
    """The form of a username or email under which two spellings are the same account:
    Unicode-normalised (NFKC) and case-folded, so "Élise", "élise" and "ÉLISE" collide in any
    script. Computed in Python because SQLite's LOWER() folds ASCII only."""
    return unicodedata.normalize("NFKC", value).casefold()


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(username_key=identity_key(username or ""))

    def create_user(self, username: str, email: str, password: str | None = None) -> "User":
        user = self.model(username=username, email=self.normalize_email(email))
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, email: str, password: str | None = None) -> "User":
        user = self.model(
            username=username,
            email=self.normalize_email(email),
            is_staff=True,
            is_superuser=True,
        )
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser, PermissionsMixin):
    """An account, and the public profile that goes with it.

    Usernames and emails are unique regardless of case (``Jake`` and ``jake`` are one person),
    enforced by unique indexes on their ``identity_key`` so that two concurrent registrations
    cannot both succeed.

    The ``*_count`` columns are counters maintained by the write services (never by signals), so
    that list endpoints read a number instead of running ``COUNT(*)`` over a large table.
    """

    username = models.CharField(max_length=USERNAME_MAX_LENGTH)
    email = models.EmailField(max_length=EMAIL_MAX_LENGTH)
    # identity_key(username) and identity_key(email): unique, and what every lookup uses.
    username_key = models.CharField(max_length=USERNAME_MAX_LENGTH * 3, unique=True, editable=False)
    email_key = models.CharField(max_length=EMAIL_MAX_LENGTH * 3, unique=True, editable=False)
    bio = models.TextField(null=True, blank=True)  # noqa: DJ001 - null means "never set" in the API
    image = models.CharField(max_length=IMAGE_URL_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(auto_now_add=True)

    # In every token and in the session's hash: raising it signs the user out everywhere (a
    # password change, "sign out everywhere", deactivation; ADR 0004).
    token_version = models.PositiveIntegerField(default=0)

    articles_count = models.PositiveIntegerField(default=0)
    favorites_count = models.PositiveIntegerField(default=0)
    followers_count = models.PositiveIntegerField(default=0)
    following_count = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The keys are the same data as username and email in another form, so they are kept
        # in step here rather than by every caller (bulk loaders set them themselves). Only for
        # the fields saved: a user loaded without its email (the signed-in user) saves its image
        # without loading the email first.
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "username" in update_fields:
            self.username_key = identity_key(self.username)
        if update_fields is None or "email" in update_fields:
            self.email_key = identity_key(self.email)
        if update_fields is not None:
            extra = {"username": "username_key", "email": "email_key"}
            kwargs["update_fields"] = {
                *update_fields,
                *(extra[f] for f in update_fields if f in extra),
            }
        super().save(*args, **kwargs)

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django's session check (``get_session_auth_hash`` and the SECRET_KEY_FALLBACKS loop in
        # ``django.contrib.auth.get_user`` both call this) over the password hash and the token
        # version, so that what revokes the tokens ends the page sessions too.
        key_salt = "conduit.users.User.session_auth_hash"
        value = f"{self.password}:{self.token_version}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    def __str__(self) -> str:
        return self.username
