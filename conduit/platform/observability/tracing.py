"""OpenTelemetry tracing (ADR 0037): on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, else absent.

Each process sets it up once, before it serves: ``config/wsgi.py`` (a granian worker, kind
``web``), ``config/asgi.py`` (``events``), a Celery pool process on ``worker_process_init``
(``worker``; ``conduit/platform/tasks/signals.py``). With the variable unset, :func:`setup` returns
at once and nothing of OpenTelemetry is imported: no tracer provider, no patched library, no span.
What it sets up when on is in ``otel.py``, the one module that imports OpenTelemetry.
"""

from django.conf import settings


def setup(kind: str) -> bool:
    """Trace this process (``kind``: web, worker, events) if ``OTEL_EXPORTER_OTLP_ENDPOINT`` is
    set; once per process. Returns whether tracing is on."""
    if not settings.TRACING_ENABLED:
        return False
    from conduit.platform.observability import otel

    otel.setup(kind)
    return True


def flush() -> None:
    """Export the spans still queued (a Celery pool process exits without ``atexit``)."""
    if settings.TRACING_ENABLED:
        from conduit.platform.observability import otel

        otel.flush()
