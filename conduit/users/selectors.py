from conduit.platform.exceptions import NotFound
from conduit.users.models import User


def user_get_by_username(username: str) -> User:
    """The user with this username, ignoring case (served by the case-insensitive unique index)."""
    user = User.objects.filter(username__lower=username.lower()).first()
    if user is None:
        raise NotFound("profile")
    return user


def user_find_by_email(email: str) -> User | None:
    return User.objects.filter(email__lower=email.strip().lower()).first()


def username_taken(username: str, *, exclude_pk: int | None = None) -> bool:
    qs = User.objects.filter(username__lower=username.lower())
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    qs = User.objects.filter(email__lower=email.lower())
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()
