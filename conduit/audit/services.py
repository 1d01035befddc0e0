"""Writes of the audit log (ADR 0032): recording an event, and the only two changes ever made to
recorded rows, retention deletion and pseudonymisation on erasure.

Any app records with ``audit_record(kind=AuditEvent.Kind..., actor_id=..., target_user_id=...)``;
the request's id, network and user agent are filled in from the request being handled. Recording
never fails the caller: an error is logged and counted in ``conduit_audit_write_errors_total``,
and the caller's work goes on (its transaction too: the row is written in a savepoint). Inside
the caller's transaction the row commits or rolls back with the change it records.
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from django.conf import settings
from django.db import connections, router, transaction
from prometheus_client import Counter

from conduit.audit.context import Origin, current_origin, identifier_hash
from conduit.audit.models import AuditEvent
from conduit.platform.db.retention import cutoff, delete_in_batches

Kind = AuditEvent.Kind
logger = structlog.get_logger("conduit.audit")
WRITE_ERRORS = Counter(
    "conduit_audit_write_errors_total",
    "Audit entries that could not be written (the request they record went on), by kind.",
    ["kind"],
)
# PostgreSQL's trigger (migration 0002) lets UPDATE and DELETE through only while this is "on".
MAINTENANCE_SETTING = "conduit.audit_maintenance"


def audit_record(
    *,
    kind: AuditEvent.Kind,
    actor_id: int | None = None,
    target_user_id: int | None = None,
    target_object: str = "",
    identifier: str | None = None,
    detail: str = "",
    pseudonym: str = "",
) -> AuditEvent | None:
    """Append one event; returns it, or None when it could not be written (logged, counted).

    ``actor_id`` is the user who acted (None when nobody is signed in), ``target_user_id`` the
    account it concerns (whose owner sees it), ``target_object`` anything else ("export:12"),
    ``identifier`` a sign-in name that matched no one (stored as a keyed hash, never as typed),
    ``pseudonym`` an erased person's (their event is kept without address or user agent).
    """
    try:  # any failure, from reading the request to the insert: the request goes on (ADR 0032)
        origin = current_origin()
        if pseudonym:
            origin = Origin(request_id=origin.request_id)
        event = AuditEvent(
            kind=kind,
            actor_id=actor_id,
            target_user_id=target_user_id,
            target_object=target_object[:100],
            identifier=identifier_hash(identifier) if identifier else "",
            request_id=origin.request_id,
            ip_network=origin.ip_network,
            user_agent=origin.user_agent,
            detail=detail[:100],
            pseudonym=pseudonym,
        )
        alias = router.db_for_write(AuditEvent)
        if connections[alias].in_atomic_block:
            # A savepoint inside the caller's transaction: a failed insert rolls back alone.
            with transaction.atomic(using=alias):
                event.save(force_insert=True, using=alias)
        else:  # autocommit: the INSERT is its own transaction, one round trip
            event.save(force_insert=True, using=alias)
    except Exception:
        WRITE_ERRORS.labels(str(kind)).inc()
        logger.exception("audit entry not written", kind=str(kind), target_user_id=target_user_id)
        return None
    return event


@contextmanager
def _maintenance() -> Iterator[None]:
    """Within the caller's transaction, let this code change audit rows (PostgreSQL's trigger
    checks the setting); set back at the end, so nothing later in the transaction may."""
    connection = connections[router.db_for_write(AuditEvent)]
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [MAINTENANCE_SETTING])
    try:
        yield
    finally:
        if not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, '', true)", [MAINTENANCE_SETTING])


def audit_pseudonymise_user(*, user_id: int, email_key: str = "") -> str:
    """Erasure: the person's rows lose their user id, address, user agent and sign-in hash, and
    carry instead one random pseudonym (their history stays readable as one person's, but
    nothing in it, not even the key, leads back to them). Failed sign-ins with their email's
    hash go too. Then the erasure itself is recorded under the pseudonym, with no address or
    agent (as any entry: its failure is counted, not raised). Runs in the caller's transaction
    (the erasure's): the changes commit with the erasure or not at all, and a failure to make
    them fails the erasure, which is asked again rather than leaving rows that name the
    person. Returns the pseudonym."""
    pseudonym = secrets.token_hex(8)
    cleared = {"pseudonym": pseudonym, "ip_network": "", "user_agent": "", "identifier": ""}
    alias = router.db_for_write(AuditEvent)
    events = AuditEvent.objects.using(alias)
    with transaction.atomic(using=alias), _maintenance():
        events.filter(actor_id=user_id).update(actor_id=None, **cleared)
        events.filter(target_user_id=user_id).update(target_user_id=None, **cleared)
        if email_key:
            events.filter(identifier=identifier_hash(email_key)).update(**cleared)
    audit_record(kind=Kind.ACCOUNT_ERASED, pseudonym=pseudonym)
    return pseudonym


def audit_prune(*, days: float | None = None, batch_size: int = 1000) -> int:
    """Delete the entries older than ``days`` (``AUDIT_RETENTION_DAYS``) in batches; returns
    how many went."""
    kept = settings.AUDIT_RETENTION_DAYS if days is None else days
    due = AuditEvent.objects.filter(created_at__lt=cutoff(kept))
    return delete_in_batches(due, batch_size=batch_size, within=_maintenance)
