from conduit.platform.exceptions import NotFound
from conduit.platform.validation import storable
from conduit.users.models import User, identity_key


def user_get_by_username(username: str) -> User:
    """The user with this username, ignoring case (served by the case-insensitive unique index)."""
    user = (
        User.objects.filter(username_key=identity_key(username)).first()
        if storable(username)
        else None
    )
    if user is None:
        raise NotFound("profile")
    return user


def user_find_by_email(email: str) -> User | None:
    if not storable(email):
        return None
    return User.objects.filter(email_key=identity_key(email.strip())).first()


def username_taken(username: str, *, exclude_pk: int | None = None) -> bool:
    qs = User.objects.filter(username_key=identity_key(username))
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    qs = User.objects.filter(email_key=identity_key(email))
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()
