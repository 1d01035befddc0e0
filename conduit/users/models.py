from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower

USERNAME_MAX_LENGTH = 40
EMAIL_MAX_LENGTH = 254
BIO_MAX_LENGTH = 2_000
IMAGE_URL_MAX_LENGTH = 2_000


# ``username__lower="jake"`` compiles to ``LOWER(username) = 'jake'``, which the case-insensitive
# unique indexes below serve; ``__iexact`` would compile to ``UPPER(...)`` and miss them.
models.CharField.register_lookup(Lower)


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(username__lower=(username or "").lower())

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
    enforced by the database so that two concurrent registrations cannot both succeed.

    The ``*_count`` columns are counters maintained by the write services (never by signals), so
    that list endpoints read a number instead of running ``COUNT(*)`` over a large table.
    """

    username = models.CharField(max_length=USERNAME_MAX_LENGTH)
    email = models.EmailField(max_length=EMAIL_MAX_LENGTH)
    bio = models.TextField(null=True, blank=True)  # noqa: DJ001 - null means "never set" in the API
    image = models.CharField(max_length=IMAGE_URL_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(auto_now_add=True)

    articles_count = models.PositiveIntegerField(default=0)
    favorites_count = models.PositiveIntegerField(default=0)
    followers_count = models.PositiveIntegerField(default=0)
    following_count = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username
