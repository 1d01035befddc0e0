"""Logs and metrics: structlog's configuration, the HTTP and database metrics."""
