"""Writes for accounts: registration, sign-in, profile updates and deactivation. Each write that
changes a cached field of the user tells ``conduit.users.invalidation`` (no signals)."""

from functools import cache
from typing import NoReturn

from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F

from conduit.audit.models import AuditEvent
from conduit.audit.services import audit_record
from conduit.platform import ratelimit
from conduit.platform.cache import bulk
from conduit.platform.db.statements import instance_of, savepoint_if_nested, write_rows
from conduit.platform.exceptions import AlreadyExists, InvalidCredentials
from conduit.platform.tasks.enqueue import enqueue_named_on_commit
from conduit.platform.validation import Checker, checked
from conduit.users import invalidation, lockout, validators
from conduit.users.models import User, identity_key
from conduit.users.selectors import (
    ACCOUNT_FIELDS,
    email_taken,
    user_account,
    user_find_by_email,
    username_taken,
)

Kind = AuditEvent.Kind
TAKEN = "has already been taken"
# The notifications app's task, by name: this app is below it (ADR 0022).
EMAIL_CHANGED_NOTICE = "conduit.notifications.email_changed_notice"


@cache
def _dummy_password_hash() -> str:
    """Checked against when the email is unknown, so that a wrong email costs as much time as a
    wrong password and response times do not reveal which accounts exist."""
    return make_password("conduit-timing-equaliser")


def _raise_taken(*, username: str | None, email: str | None, exclude_pk: int | None) -> None:
    checker = Checker()
    if username is not None and username_taken(username, exclude_pk=exclude_pk):
        checker.add("username", TAKEN)
    if email is not None and email_taken(email, exclude_pk=exclude_pk):
        checker.add("email", TAKEN)
    if checker.errors:
        raise AlreadyExists(checker.errors)


def user_register(*, username: str | None, email: str | None, password: str | None) -> User:
    checker = Checker()
    username = validators.check_username(checker, username, required=True)
    email = validators.check_email(checker, email, required=True)
    like = validators.attributes(username=username, email=email)
    password = validators.check_password(checker, password, required=True, user=like)
    checker.raise_if_any()
    username, email = checked(username), checked(email)

    _raise_taken(username=username, email=email, exclude_pk=None)
    user = User(username=username, email=email)
    user.set_password(checked(password))
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # A concurrent registration took the name or email between the check and the insert:
        # the unique indexes decided, so report it like the check above would have.
        _raise_taken(username=username, email=email, exclude_pk=None)
        raise AlreadyExists.field("username", TAKEN) from None
    return user


def user_authenticate(*, email: str | None, password: str | None, source: str = "unknown") -> User:
    """The active user with this email and password, signing in from the address ``source``;
    repeated failures wait longer and longer (``lockout``, a ``RateLimited``)."""
    checker = Checker()
    email = checker.text("email", email, max_length=254)
    password = checker.text("password", password, max_length=1024, strip=False)
    checker.raise_if_any()
    email, password = checked(email), checked(password)

    account = identity_key(email.strip())
    lockout.check(account, source)  # refusals while locked are not audited: the lock was
    user = user_find_by_email(email)
    if user is None or not user.is_active:
        check_password(password, _dummy_password_hash())
        _sign_in_failed(account, source, user_id=user.pk if user else None)
    if not user.check_password(password):  # also upgrades an outdated hash on success
        _sign_in_failed(account, source, user_id=user.pk)
    lockout.succeeded(account, source)
    audit_record(kind=Kind.SIGN_IN, actor_id=user.pk, target_user_id=user.pk)
    return user


def _sign_in_failed(account: str, source: str, *, user_id: int | None) -> NoReturn:
    """Audit a failed sign-in (an unknown account by its name's hash only), count it, and
    audit the lock it starts, if any."""
    identifier = None if user_id else account
    audit_record(kind=Kind.SIGN_IN_FAILED, target_user_id=user_id, identifier=identifier)
    for lock in lockout.failed(account, source):
        audit_record(
            kind=Kind.SIGN_IN_LOCKED, target_user_id=user_id, identifier=identifier, detail=lock
        )
    raise InvalidCredentials


def user_update(
    *,
    user: User,
    email: str | None = None,
    username: str | None = None,
    password: str | None = None,
    bio: str | None = None,
    image: str | None = None,
    fields: set[str],
    current_password: str | None = None,
) -> User:
    """Update the given ``fields`` of ``user`` (the signed-in user will do) and return the whole
    account (``selectors.user_account``); a field in ``fields`` whose value is None or empty is
    cleared (bio, image) or rejected (email, username, password). A new password revokes every
    token and page session of the user (a new token has the new ``token_version``); a new email
    is announced to the old address.
    With ``current_password`` (the pages ask for it; the API's token stands in for it), a new
    email or password needs it to be the user's password."""
    if "password" in fields:
        try:
            ratelimit.hit("password_change_per_user", user.pk)
        except ratelimit.RateLimited as refused:
            audit_record(
                kind=Kind.PASSWORD_CHANGE_LIMITED,
                actor_id=user.pk,
                target_user_id=user.pk,
                detail=refused.limit,
            )
            raise
        user = user_account(user)  # the new password must not look like the email
    checker = Checker()
    changes: dict[str, str | None] = {}
    if "username" in fields:
        changes["username"] = validators.check_username(checker, username, required=True)
    if "email" in fields:
        changes["email"] = validators.check_email(checker, email, required=True)
    if "password" in fields:
        like = validators.attributes(
            username=changes.get("username") or user.username,
            email=changes.get("email") or user.email,
        )
        changes["password"] = validators.check_password(checker, password, required=True, user=like)
    if "bio" in fields:
        changes["bio"] = validators.check_bio(checker, bio) or None
    if "image" in fields:
        changes["image"] = validators.check_image(checker, image) or None
    if not checker.errors and (account := _update_in_place(user, changes)) is not None:
        return account
    user = user_account(user)
    credentials = "password" in changes or (
        "email" in changes and identity_key(changes["email"] or "") != user.email_key
    )
    asks = current_password is not None and credentials and not checker.errors
    if asks and not user.check_password(current_password or ""):
        checker.add("current_password", "is invalid")
    checker.raise_if_any()

    _raise_taken(username=changes.get("username"), email=changes.get("email"), exclude_pk=user.pk)
    old_username_key = identity_key(user.username)
    old_email = user.email if "email" in changes else None
    new_password = changes.pop("password", None)
    for name, value in changes.items():
        setattr(user, name, value)
    update_fields = list(changes)
    if new_password:
        user.set_password(new_password)
        user.token_version += 1
        update_fields += ["password", "token_version"]
    if update_fields:
        try:
            # One UPDATE in autocommit: the row is locked for that statement and its commit
            # only; the invalidations go out before it and again after it (ADR 0016, 0025).
            with bulk.statement(), savepoint_if_nested(User):
                with bulk.batch():
                    invalidation.user_changed(
                        user, fields=update_fields, old_username_key=old_username_key
                    )
                user.save(update_fields=update_fields)
            if old_email is not None and identity_key(old_email) != user.email_key:
                enqueue_named_on_commit(EMAIL_CHANGED_NOTICE, user_id=user.pk, old_email=old_email)
                audit_record(kind=Kind.EMAIL_CHANGED, actor_id=user.pk, target_user_id=user.pk)
            if new_password:
                audit_record(kind=Kind.PASSWORD_CHANGED, actor_id=user.pk, target_user_id=user.pk)
        except IntegrityError:
            user.refresh_from_db()
            _raise_taken(
                username=changes.get("username"), email=changes.get("email"), exclude_pk=user.pk
            )
            raise AlreadyExists.field("username", TAKEN) from None
    return user


# What a settings form or a RealWorld client sends with every save, the names unchanged.
_IN_PLACE = frozenset({"bio", "image"})
_UNCHANGED_IF_EQUAL = frozenset({"username", "email"})


def _update_in_place(user: User, changes: dict[str, str | None]) -> User | None:
    """The account after a change of bio or image only, in one ``UPDATE ... RETURNING``; the
    username and email sent with it must be the ones stored, which the statement's ``WHERE``
    checks. None when that does not hold (a real rename, a new email, a password: the caller
    takes the full path) or when there is nothing to update in place."""
    profile = {name: value for name, value in changes.items() if name in _IN_PLACE}
    names = {name: value for name, value in changes.items() if name not in _IN_PLACE}
    if not profile or not set(names) <= _UNCHANGED_IF_EQUAL:
        return None
    if "username" in names and names["username"] != user.username:
        return None  # a rename; the signed-in user knows the name, the email is checked below
    connection = connections[router.db_for_write(User)]
    quote = connection.ops.quote_name
    column = {f.attname: f.column for f in User._meta.concrete_fields if f.column}
    assignments = ", ".join(f"{quote(column[name])} = %s" for name in profile)
    guards = "".join(f" AND {quote(column[name])} = %s" for name in names)
    returning = ", ".join(f"{quote(column[name])} AS {quote(name)}" for name in ACCOUNT_FIELDS)
    statement = (
        f"UPDATE {quote(User._meta.db_table)} SET {assignments} "  # noqa: S608 (names from models)
        f"WHERE {quote(column['id'])} = %s{guards} RETURNING {returning}"
    )
    params = [*profile.values(), user.pk, *names.values()]
    # One statement in autocommit: the row is locked for it and its commit only; the
    # invalidations go out before it and again after it (ADR 0016, 0025).
    with bulk.statement(), savepoint_if_nested(User):
        with bulk.batch():
            invalidation.user_changed(user, fields=profile)
        rows = write_rows(User, statement, params)
    if not rows:
        return None
    for name, value in profile.items():  # as the full path does: the caller's user is changed
        setattr(user, name, value)
    return instance_of(User, rows[0], connection.alias)


def user_sign_out_everywhere(*, user: User) -> None:
    """Revoke every token ``user`` holds and end their page sessions, the caller's included: a
    new token version, which no issued token carries (ADR 0004)."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
        invalidation.user_changed(user, fields={"token_version"})
        audit_record(kind=Kind.SIGNED_OUT_EVERYWHERE, actor_id=user.pk, target_user_id=user.pk)


def user_deactivate(*, user: User) -> None:
    """Close ``user``'s account without erasing it (an operator's decision): signing in is
    refused, and their tokens and sessions fail from the next request on."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(
            is_active=False, token_version=F("token_version") + 1
        )
        invalidation.user_changed(user, fields={"is_active", "token_version"})
    user.is_active = False
