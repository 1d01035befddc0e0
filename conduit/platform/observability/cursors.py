"""Tracing's hook into the database backend (ADR 0037); a leaf, which the backend imports.

psycopg's instrumentation traces the cursors of the connections it opens; the cursors Django's
backend makes itself (the one-statement writes' prepared cursors,
``conduit/platform/db/postgresql/base.py``) ask :func:`cursor_class`, which gives a traced
subclass while tracing is on (``otel.install`` sets :data:`make_traced`) and the class itself
otherwise.
"""

from collections.abc import Callable
from typing import Any

make_traced: Callable[[type[Any]], type[Any]] | None = None


def cursor_class[C](base: type[C]) -> type[C]:
    return base if make_traced is None else make_traced(base)
