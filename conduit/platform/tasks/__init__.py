"""Background tasks: enqueueing on commit (with the outbox), Celery's signal handlers and
metrics."""
