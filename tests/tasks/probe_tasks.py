"""Test-only tasks, registered in the workers of ``tests/tasks`` through ``worker_settings``."""

from celery import shared_task

from conduit.platform.tasks.enqueue import TRANSIENT_ERRORS


@shared_task(
    name="tests.tasks.always_unavailable",
    autoretry_for=TRANSIENT_ERRORS,
    soft_time_limit=5,
    time_limit=10,
)
def always_unavailable(marker: int) -> None:
    """A poison message: fails with a transient error on every attempt."""
    raise ConnectionError(f"the service is away (probe {marker})")
