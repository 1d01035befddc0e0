"""Writing the audit log never fails the request it records, and nothing is lost when the
request succeeds (ADR 0032). The faults are real: the table is dropped inside the test's
transaction (rolled back with it), or on PostgreSQL a trigger refuses inserts."""

import pytest
from django.db import connection, transaction
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from conduit.audit.models import AuditEvent
from conduit.users.models import User
from tests.audit.conftest import FROM_CLIENT

Kind = AuditEvent.Kind
PASSWORD = "password123"
NEW_PASSWORD = "a-new-long-password-9"


def write_errors(kind: str) -> float:
    sample = REGISTRY.get_sample_value("conduit_audit_write_errors_total", {"kind": kind})
    return sample or 0.0


def drop_audit_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {AuditEvent._meta.db_table}")


@pytest.mark.django_db
def test_a_sign_in_succeeds_when_its_entry_cannot_be_written(api, user):
    drop_audit_table()
    before = write_errors("sign_in")
    with capture_logs() as logs:
        body = {"user": {"email": user.email, "password": PASSWORD}}
        response = api.post("/api/users/login", body, format="json", **FROM_CLIENT)
    assert response.status_code == 200
    assert response.json()["user"]["token"]
    assert write_errors("sign_in") == before + 1
    [line] = [entry for entry in logs if entry["event"] == "audit entry not written"]
    assert (line["kind"], line["target_user_id"], line["log_level"]) == (
        "sign_in",
        user.pk,
        "error",
    )


@pytest.mark.django_db
def test_a_password_change_commits_when_its_entry_cannot_be_written(user, client_for):
    drop_audit_table()
    before = write_errors("password_changed")
    response = client_for(user).put(
        "/api/user", {"user": {"password": NEW_PASSWORD}}, format="json"
    )
    assert response.status_code == 200
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert write_errors("password_changed") == before + 1


@pytest.mark.django_db
def test_a_page_sign_out_everywhere_commits_when_its_entry_cannot_be_written(user, client):
    client.force_login(user)
    version = user.token_version
    drop_audit_table()  # inside sign-out's own transaction the savepoint keeps it usable
    assert client.post("/settings/sign-out-everywhere").status_code == 302
    assert User.objects.get(pk=user.pk).token_version == version + 1


@pytest.mark.pg
@pytest.mark.django_db
def test_a_database_that_refuses_the_insert_fails_nothing(api, user):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION audit_test_refuse() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'disk full (test)'; END $$ LANGUAGE plpgsql; "
            "CREATE TRIGGER audit_test_refuse BEFORE INSERT ON audit_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION audit_test_refuse();"
        )
    before = write_errors("sign_in")
    body = {"user": {"email": user.email, "password": PASSWORD}}
    assert api.post("/api/users/login", body, format="json").status_code == 200
    # The caller's transaction (the test's) is still usable: the insert failed in a savepoint.
    assert User.objects.filter(pk=user.pk).exists()
    assert write_errors("sign_in") == before + 1


@pytest.mark.django_db(transaction=True)
def test_every_successful_request_leaves_its_committed_entry(api, client_for, client):
    """Real commits (no test transaction): each request that succeeded has its row, readable
    once the request is over, and no request left a row it did not earn."""
    from tests.factories import UserFactory

    user = UserFactory()
    body = {"user": {"email": user.email, "password": PASSWORD}}
    assert api.post("/api/users/login", body, format="json").status_code == 200
    assert (
        api.post(
            "/api/users/login", {"user": {**body["user"], "password": "no"}}, format="json"
        ).status_code
        == 401
    )
    token_api = client_for(user)
    change = {"user": {"email": "moved@example.com", "password": NEW_PASSWORD}}
    assert token_api.put("/api/user", change, format="json").status_code == 200
    client.force_login(User.objects.get(pk=user.pk))
    assert client.post("/settings/sign-out-everywhere").status_code == 302
    kinds = list(
        AuditEvent.objects.filter(target_user_id=user.pk)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        Kind.SIGN_IN,
        Kind.SIGN_IN_FAILED,
        Kind.EMAIL_CHANGED,
        Kind.PASSWORD_CHANGED,
        Kind.SIGNED_OUT_EVERYWHERE,
    ]


@pytest.mark.django_db(transaction=True)
def test_an_entry_rolls_back_with_the_change_it_records(user):
    """Inside a caller's transaction the entry is part of it: when that transaction fails
    after the change, neither the change nor its entry is kept (no event that did not happen)."""
    from conduit.users.services import user_sign_out_everywhere

    def request_failing_after_the_change() -> None:
        with transaction.atomic():
            user_sign_out_everywhere(user=user)
            assert AuditEvent.objects.filter(kind=Kind.SIGNED_OUT_EVERYWHERE).exists()
            raise RuntimeError("the request failed after the change")

    version = user.token_version
    with pytest.raises(RuntimeError):
        request_failing_after_the_change()
    assert User.objects.get(pk=user.pk).token_version == version
    assert not AuditEvent.objects.exists()
