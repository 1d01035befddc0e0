"""Single flight: one computation per key at a time in this process (ADR 0016)."""

import threading
from collections.abc import Callable
from typing import Any


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class SingleFlight:
    """One computation per key at a time in this process; callers that arrive while it runs wait
    for it and share its result (or its exception) instead of computing again.

    This is what stops a stampede when a hot cache key expires: the threads of one process
    compute it once. It also works with the cache down (the waiters do not read the cache
    again), so an outage does not queue requests behind each other. Processes do not
    coordinate: N processes compute a key at most N times (ADR 0016 says why that is enough).
    """

    def __init__(self) -> None:
        self._flights: dict[str, _Flight] = {}
        self._guard = threading.Lock()

    def do(self, key: str, compute: Callable[[], Any]) -> tuple[Any, bool]:
        """``(value, computed_here)``: ``computed_here`` is False for a caller that waited."""
        with self._guard:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value, False
        try:
            flight.value = compute()
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._guard:
                del self._flights[key]
            flight.done.set()
        return flight.value, True


single_flight = SingleFlight()
