"""Each kind of event is recorded, through the API and the pages, with the right actor, target,
request id, address network and user agent (ADR 0032)."""

from typing import Any

import pytest
from django.test import Client

from conduit.audit.context import identifier_hash
from conduit.audit.models import AuditEvent
from conduit.users.models import User, identity_key
from tests.audit.conftest import AGENT, FROM_CLIENT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Kind = AuditEvent.Kind
PASSWORD = "password123"  # UserFactory's
NEW_PASSWORD = "a-new-long-password-9"


def assert_from_client(event: AuditEvent, *, actor: int | None, target: int | None) -> None:
    assert (event.actor_id, event.target_user_id) == (actor, target)
    assert event.request_id == "req-audit-1"
    assert event.ip_network == "203.0.113.0/24"
    assert event.user_agent == AGENT
    assert event.pseudonym == ""


def api_login(api: Any, email: str, password: str, **extra: Any) -> Any:
    body = {"user": {"email": email, "password": password}}
    return api.post("/api/users/login", body, format="json", **{**FROM_CLIENT, **extra})


def page_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- signing in ---------------------------------------------------------------------------------


def test_api_sign_in_is_recorded(api, user, entries):
    assert api_login(api, user.email, PASSWORD).status_code == 200
    [event] = entries()
    assert event.kind == Kind.SIGN_IN
    assert_from_client(event, actor=user.pk, target=user.pk)


def test_page_sign_in_is_recorded(user, entries):
    response = Client().post("/login", {"email": user.email, "password": PASSWORD}, **FROM_CLIENT)
    assert response.status_code == 302
    [event] = entries()
    assert event.kind == Kind.SIGN_IN
    assert_from_client(event, actor=user.pk, target=user.pk)


def test_a_wrong_password_is_recorded_against_the_account(api, user, entries):
    assert api_login(api, user.email, "wrong-password").status_code == 401
    [event] = entries()
    assert event.kind == Kind.SIGN_IN_FAILED
    assert_from_client(event, actor=None, target=user.pk)
    assert event.identifier == ""  # the account is named by its id


def test_an_unknown_email_is_kept_as_a_keyed_hash_only(user, entries):
    typed = "Nobody.Here@Example.com"
    response = Client().post("/login", {"email": typed, "password": "hunter2"}, **FROM_CLIENT)
    assert response.status_code == 422
    [event] = entries()
    assert event.kind == Kind.SIGN_IN_FAILED
    assert_from_client(event, actor=None, target=None)
    assert event.identifier == identifier_hash(identity_key(typed))
    stored = " ".join(str(value) for value in vars(event).values()).lower()
    assert "nobody" not in stored
    assert "hunter2" not in stored


def test_addresses_behind_a_trusted_proxy_are_the_clients_network(api, user, entries, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    forwarded = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.23"}
    assert api_login(api, user.email, PASSWORD, **forwarded).status_code == 200
    assert entries()[0].ip_network == "198.51.100.0/24"


def test_ipv6_addresses_are_cut_to_their_48(api, user, entries):
    address = {"REMOTE_ADDR": "2001:db8:1234:5678:9abc::1"}
    assert api_login(api, user.email, PASSWORD, **address).status_code == 200
    assert entries()[0].ip_network == "2001:db8:1234::/48"


def test_a_lockout_is_recorded_once_when_it_starts(api, user, entries, settings):
    settings.SIGN_IN_LOCKOUT_AFTER = 2
    for _ in range(2):
        assert api_login(api, user.email, "wrong").status_code == 401
    assert api_login(api, user.email, PASSWORD).status_code == 429  # locked: not recorded again
    assert [e.kind for e in entries()] == [
        Kind.SIGN_IN_FAILED,
        Kind.SIGN_IN_FAILED,
        Kind.SIGN_IN_LOCKED,
    ]
    locked = entries(Kind.SIGN_IN_LOCKED)[0]
    assert_from_client(locked, actor=None, target=user.pk)
    assert locked.detail == "sign_in_lockout 30 s"


def test_the_per_account_cap_is_recorded(api, user, entries, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_in_per_account": "2/15m"}
    settings.SIGN_IN_LOCKOUT_AFTER = 100
    statuses = [
        api_login(api, user.email, "wrong", REMOTE_ADDR=f"10.0.0.{i}").status_code for i in range(3)
    ]
    assert statuses == [401, 401, 429]
    [locked] = entries(Kind.SIGN_IN_LOCKED)
    assert (locked.target_user_id, locked.detail) == (user.pk, "sign_in_per_account")


# --- password, email, sign-out everywhere -------------------------------------------------------


def test_api_password_and_email_changes_are_recorded(user, client_for, entries):
    api = client_for(user)
    body = {"user": {"password": NEW_PASSWORD, "email": "moved@example.com"}}
    assert api.put("/api/user", body, format="json", **FROM_CLIENT).status_code == 200
    kinds = [e.kind for e in entries()]
    assert kinds == [Kind.EMAIL_CHANGED, Kind.PASSWORD_CHANGED]
    for event in entries():
        assert_from_client(event, actor=user.pk, target=user.pk)
        assert "moved" not in event.detail


def test_page_password_and_email_changes_are_recorded(user, entries):
    form = {
        "username": user.username,
        "email": "moved@example.com",
        "bio": "",
        "image": "",
        "password": NEW_PASSWORD,
        "current_password": PASSWORD,
    }
    response = page_client(user).post("/settings", form, **FROM_CLIENT)
    assert response.status_code == 302
    assert {e.kind for e in entries()} == {Kind.EMAIL_CHANGED, Kind.PASSWORD_CHANGED}
    for event in entries():
        assert_from_client(event, actor=user.pk, target=user.pk)


def test_a_bio_change_or_a_refused_change_records_nothing(user, client_for, entries):
    api = client_for(user)
    assert api.put("/api/user", {"user": {"bio": "hi"}}, format="json").status_code == 200
    form = {"username": user.username, "email": "x@example.com", "current_password": "wrong"}
    assert page_client(user).post("/settings", form).status_code == 422
    assert entries() == []


def test_password_changes_over_the_limit_are_recorded(user, client_for, entries, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_change_per_user": "1/h"}
    api = client_for(user)
    body = {"user": {"password": NEW_PASSWORD}}
    assert api.put("/api/user", body, format="json").status_code == 200
    api = client_for(User.objects.get(pk=user.pk))  # the new token version
    assert api.put("/api/user", body, format="json", **FROM_CLIENT).status_code == 429
    [limited] = entries(Kind.PASSWORD_CHANGE_LIMITED)
    assert_from_client(limited, actor=user.pk, target=user.pk)


def test_api_sign_out_everywhere_is_recorded(user, client_for, entries):
    response = client_for(user).post("/api/user/sign-out-everywhere", **FROM_CLIENT)
    assert response.status_code in (200, 204)
    [event] = entries()
    assert event.kind == Kind.SIGNED_OUT_EVERYWHERE
    assert_from_client(event, actor=user.pk, target=user.pk)


def test_page_sign_out_everywhere_is_recorded(user, entries):
    response = page_client(user).post("/settings/sign-out-everywhere", **FROM_CLIENT)
    assert response.status_code == 302
    [event] = entries()
    assert event.kind == Kind.SIGNED_OUT_EVERYWHERE
    assert_from_client(event, actor=user.pk, target=user.pk)


# --- exports ------------------------------------------------------------------------------------


def test_api_export_request_and_download_are_recorded(
    user, client_for, api, entries, django_capture_on_commit_callbacks
):
    owner = client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert owner.post("/api/user/export", **FROM_CLIENT).status_code == 202
    url = owner.get("/api/user/export").json()["export"]["downloadUrl"]
    assert api.get(url, **FROM_CLIENT).status_code == 200  # the signed link, nobody signed in
    requested, downloaded = entries()
    export = user.export_requests.get()
    assert requested.kind == Kind.EXPORT_REQUESTED
    assert_from_client(requested, actor=user.pk, target=user.pk)
    assert downloaded.kind == Kind.EXPORT_DOWNLOADED
    assert_from_client(downloaded, actor=None, target=user.pk)
    assert requested.target_object == downloaded.target_object == f"export:{export.pk}"


def test_page_export_request_is_recorded_once_while_pending(user, entries):
    client = page_client(user)
    for _ in range(2):  # the build waits for a commit that the test's transaction never makes
        assert client.post("/settings/export", **FROM_CLIENT).status_code == 302
    [event] = entries()
    assert event.kind == Kind.EXPORT_REQUESTED
    assert_from_client(event, actor=user.pk, target=user.pk)


def test_another_users_events_are_not_theirs(api, entries):
    ann, bob = UserFactory(), UserFactory()
    api_login(api, ann.email, PASSWORD)
    api_login(api, bob.email, "wrong")
    assert [(e.kind, e.target_user_id) for e in entries()] == [
        (Kind.SIGN_IN, ann.pk),
        (Kind.SIGN_IN_FAILED, bob.pk),
    ]


def test_api_erasure_is_recorded_under_a_pseudonym(user, client_for, entries):
    api = client_for(user)
    assert (
        api.put(
            "/api/user", {"user": {"bio": "x", "password": NEW_PASSWORD}}, format="json"
        ).status_code
        == 200
    )
    api = client_for(User.objects.get(pk=user.pk))
    body = {"user": {"password": NEW_PASSWORD}}
    response = api.delete("/api/user", body, format="json", **FROM_CLIENT)
    assert response.status_code in (200, 204), response.content
    changed, erased = entries()
    assert (changed.kind, erased.kind) == (Kind.PASSWORD_CHANGED, Kind.ACCOUNT_ERASED)
    assert changed.pseudonym == erased.pseudonym != ""
    assert (erased.actor_id, erased.target_user_id, erased.ip_network, erased.user_agent) == (
        None,
        None,
        "",
        "",
    )
    assert erased.request_id == "req-audit-1"
    assert not User.objects.filter(pk=user.pk).exists()
