"""Argon2id sized for the process (ADR 0004, docs/security.md).

Django's ``Argon2PasswordHasher`` uses 100 MiB and 8 lanes a hash: four concurrent sign-ins took
a worker to 641 MiB, so a handful of anonymous requests could get a 512 Mi pod killed. Here the
cost comes from settings, at OWASP's recommendation by default (``ARGON2_MEMORY_KIB`` 19,456 =
19 MiB, ``ARGON2_TIME_COST`` 2, ``ARGON2_PARALLELISM`` 1), and at most
``ARGON2_MAX_CONCURRENT`` hashes run at once in a process (the others wait their turn), so a
process's hashing memory is bounded whatever the number of threads or requests.

Hashes made with other parameters (Django's defaults) still verify, under the same bound, and
are re-hashed with these at the next successful sign-in (``must_update``).
"""

import threading
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

_slots_lock = threading.Lock()
_slots: tuple[int, threading.BoundedSemaphore] | None = None


def hashing_slot() -> threading.BoundedSemaphore:
    """The process's semaphore of ``ARGON2_MAX_CONCURRENT`` slots (made again if it changed)."""
    global _slots
    size = max(1, int(settings.ARGON2_MAX_CONCURRENT))
    with _slots_lock:
        if _slots is None or _slots[0] != size:
            _slots = (size, threading.BoundedSemaphore(size))
        return _slots[1]


class SizedArgon2PasswordHasher(Argon2PasswordHasher):
    """``argon2`` hashes with the settings' cost, a bounded number at a time."""

    def params(self) -> Any:
        """Django's Argon2id parameters with the settings' cost (read at each hash, so a changed
        setting applies at once)."""
        params = super().params()
        params.time_cost = int(settings.ARGON2_TIME_COST)
        params.memory_cost = int(settings.ARGON2_MEMORY_KIB)
        params.parallelism = int(settings.ARGON2_PARALLELISM)
        return params

    def encode(self, password: str, salt: str) -> str:
        with hashing_slot():
            return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        with hashing_slot():
            return bool(super().verify(password, encoded))

    def harden_runtime(self, password: str, encoded: str) -> Any:
        return None  # Argon2's cost is in its parameters, not in rounds to top up
