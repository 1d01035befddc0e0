"""Fixtures for tests that write files through Django's ``storages``."""

from collections.abc import Iterator

import pytest
from django.core.files.storage import storages


@pytest.fixture(autouse=True)
def fresh_file_storages() -> Iterator[None]:
    """Empty in-memory ``default`` and ``exports`` storages for each test: the handler caches
    its backends for the process, and files of other tests would otherwise be seen.

    Autouse where a ``conftest.py`` imports it (tests/media, tests/privacy)."""

    def reset() -> None:
        for alias in ("default", "exports"):
            storages._storages.pop(alias, None)

    reset()
    yield
    reset()
