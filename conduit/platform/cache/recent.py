"""What this process saw last, bounded: a guess of the keys a request will read next, so that an
earlier round trip can fetch them too (ADR 0016, "one round trip for a warm list").

A guess is never served: the keys it names are read from the cache like any other, so a wrong
or stale guess costs the round trip it meant to save, and nothing else.
"""

import weakref
from collections import OrderedDict

_every: "weakref.WeakSet[Recent[object, object]]" = weakref.WeakSet()


def forget_all() -> None:
    """Drop every guess of this process (a test that counts round trips starts without any)."""
    for recent in list(_every):
        recent.clear()


class Recent[K, V]:
    """The last value put under each key, for at most ``max_entries`` keys (the least recently
    put go first). Safe to share between threads: a race loses a guess, never raises."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[K, V] = OrderedDict()
        _every.add(self)  # type: ignore[arg-type]

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def put(self, key: K, value: V) -> None:
        entries = self._entries
        entries[key] = value
        try:
            entries.move_to_end(key)
            while len(entries) > self.max_entries:
                entries.popitem(last=False)
        except KeyError:  # another thread removed it meanwhile: a lost guess
            pass

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
