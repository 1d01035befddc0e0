"""The audit log's own rules: what an entry keeps of the client, pseudonymisation on erasure,
retention, and on PostgreSQL the trigger that makes the table append-only (ADR 0032)."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from conduit.audit.context import bounded_user_agent, identifier_hash, truncate_ip
from conduit.audit.models import AuditEvent
from conduit.audit.services import audit_prune, audit_pseudonymise_user, audit_record
from conduit.audit.tasks import audit_remove_old
from conduit.users.models import identity_key
from tests.audit.conftest import FROM_CLIENT
from tests.factories import UserFactory

Kind = AuditEvent.Kind
PASSWORD = "password123"


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("10.1.2.255", "10.1.2.0/24"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),  # an IPv4 client of a dual-stack socket
        ("::1", "::/48"),
        ("unknown", ""),
        ("203.0.113.7, 10.0.0.1", ""),
    ],
)
def test_addresses_are_cut_to_their_network(address, network):
    assert truncate_ip(address) == network


def test_user_agents_are_bounded_and_printable():
    assert bounded_user_agent("x" * 5000) == "x" * 200
    assert bounded_user_agent("evil\nline\x00") == "evil?line?"


def test_identifier_hashes_are_keyed_and_stable(settings):
    first = identifier_hash("someone@example.com")
    assert first == identifier_hash("someone@example.com") != identifier_hash("other@example.com")
    assert len(first) == 32
    settings.SECRET_KEY = "another-key-" * 5
    assert identifier_hash("someone@example.com") != first


@pytest.mark.django_db
def test_outside_a_request_an_entry_has_no_client():
    event = audit_record(kind=Kind.SIGN_IN, actor_id=1, target_user_id=1)
    assert event is not None
    assert (event.request_id, event.ip_network, event.user_agent) == ("", "", "")


# --- erasure -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_erasure_pseudonymises_the_persons_entries_and_records_itself(client, api, entries):
    user, other = UserFactory(), UserFactory()
    login = {"user": {"email": user.email, "password": PASSWORD}}
    assert api.post("/api/users/login", login, format="json", **FROM_CLIENT).status_code == 200
    wrong = {"user": {"email": user.email, "password": "wrong"}}
    api.post("/api/users/login", wrong, format="json", **FROM_CLIENT)
    # Before they had an account under this email: a failed attempt kept as its hash.
    stranger = {"user": {"email": "later@example.com", "password": "x"}}
    api.post("/api/users/login", stranger, format="json", **FROM_CLIENT)
    audit_record(kind=Kind.SIGN_IN, actor_id=other.pk, target_user_id=other.pk)
    user.email = "later@example.com"
    user.save()
    client.force_login(user)
    response = client.post("/settings/erase", {"current_password": PASSWORD}, **FROM_CLIENT)
    assert response.status_code == 302

    theirs = [e for e in entries() if e.target_user_id != other.pk]
    assert [e.kind for e in theirs] == [
        Kind.SIGN_IN,
        Kind.SIGN_IN_FAILED,
        Kind.SIGN_IN_FAILED,
        Kind.ACCOUNT_ERASED,
    ]
    pseudonyms = {e.pseudonym for e in theirs}
    assert len(pseudonyms) == 1
    assert len(pseudonyms.pop()) == 16
    for event in theirs:
        assert (event.actor_id, event.target_user_id) == (None, None)
        assert (event.ip_network, event.user_agent, event.identifier) == ("", "", "")
    erased = theirs[-1]
    assert erased.request_id == "req-audit-1"  # which request erased, but not from where
    assert not AuditEvent.objects.filter(identifier=identifier_hash(identity_key(user.email)))
    # Another person's entries are untouched.
    [kept] = [e for e in entries() if e.target_user_id == other.pk]
    assert (kept.actor_id, kept.pseudonym) == (other.pk, "")


@pytest.mark.django_db
def test_each_erased_person_gets_their_own_pseudonym():
    ann, bob = UserFactory(), UserFactory()
    for person in (ann, bob):
        audit_record(kind=Kind.SIGN_IN, actor_id=person.pk, target_user_id=person.pk)
    first = audit_pseudonymise_user(user_id=ann.pk)
    second = audit_pseudonymise_user(user_id=bob.pk)
    assert first != second
    assert AuditEvent.objects.filter(pseudonym=first).count() == 2  # sign-in + erasure


# --- retention -----------------------------------------------------------------------------------


def aged(days: float, count: int = 1) -> list[AuditEvent]:
    when = timezone.now() - timedelta(days=days)
    return AuditEvent.objects.bulk_create(
        AuditEvent(kind=Kind.SIGN_IN, target_user_id=1, created_at=when) for _ in range(count)
    )


@pytest.mark.django_db
def test_retention_deletes_only_entries_past_it_in_batches(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    aged(31, count=5)
    kept = aged(29, count=2) + aged(0)
    assert audit_prune(batch_size=2) == 5
    assert set(AuditEvent.objects.values_list("pk", flat=True)) == {e.pk for e in kept}


@pytest.mark.django_db
def test_the_nightly_task_uses_audit_retention_days(settings):
    settings.AUDIT_RETENTION_DAYS = 365
    aged(366, count=3)
    aged(364)
    assert audit_remove_old.apply().get() == 3
    assert AuditEvent.objects.count() == 1


def test_the_nightly_task_is_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "conduit.audit.audit_remove_old" in tasks


# --- append-only on PostgreSQL -------------------------------------------------------------------


@pytest.mark.pg
@pytest.mark.django_db
@pytest.mark.parametrize("change", ["update", "delete"])
def test_postgresql_refuses_changes_from_ordinary_code(change):
    event = audit_record(kind=Kind.SIGN_IN, actor_id=7, target_user_id=7)
    assert event is not None
    rows = AuditEvent.objects.filter(pk=event.pk)
    act = (lambda: rows.update(actor_id=8)) if change == "update" else rows.delete
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        act()
    assert AuditEvent.objects.get(pk=event.pk).actor_id == 7


@pytest.mark.pg
@pytest.mark.django_db
def test_postgresql_lets_retention_and_erasure_through_and_then_closes_again():
    audit_record(kind=Kind.SIGN_IN, actor_id=7, target_user_id=7)
    aged(400)
    assert audit_prune(days=365) == 1
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(actor_id=7).update(detail="tampered")
    audit_pseudonymise_user(user_id=7)
    assert not AuditEvent.objects.filter(actor_id=7).exists()
    erased = AuditEvent.objects.get(kind=Kind.ACCOUNT_ERASED)
    # The erasure's transaction (the test's here) is closed again once the service is done.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=erased.pk).update(detail="tampered")


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_an_entry_is_one_insert(django_assert_num_queries):
    # Autocommit (a sign-in's request): no BEGIN, SAVEPOINT or COMMIT around the INSERT.
    with django_assert_num_queries(1):
        audit_record(kind=Kind.SIGN_IN, actor_id=1, target_user_id=1)
    assert AuditEvent.objects.filter(kind=Kind.SIGN_IN).count() == 1
