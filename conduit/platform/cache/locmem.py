"""Django's in-process cache (``CACHE_URL`` unset: the embedded default), reading many keys in
one pass.

Django's ``LocMemCache`` answers ``get_many`` one key at a time through ``get``: each call makes
its key, checks it for what Memcached would reject (one character at a time in Python), takes
the lock and unpickles: ~4 µs a key, and a warm list or feed page reads ~30 keys (an eighth of a
warm signed-in list's CPU; docs/performance.md). Here the keys are made once, read under the lock
once, and unpickled after it. Expiry and recency are Django's (``_expire_info``, the entries'
order for culling). Keys are not checked, as in Conduit's ``RedisCache`` (``backends.py``): the
Memcached backend refuses a bad key, in the tests that run on it.
"""

import pickle
import time
from collections import OrderedDict
from collections.abc import Iterable
from threading import Lock
from typing import Any

from django.core.cache.backends import locmem


class LocMemCache(locmem.LocMemCache):
    # Django's (its stubs leave them out): pickled entries, most recent first; their deadlines.
    _cache: OrderedDict[str, bytes]
    _expire_info: dict[str, float | None]
    _lock: Lock

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        made = {self.make_key(key, version=version): key for key in keys}
        found: dict[str, bytes] = {}
        now = time.time()
        with self._lock:
            for key, asked in made.items():
                pickled = self._cache.get(key)
                if pickled is None:
                    continue
                expires = self._expire_info.get(key, -1)
                if expires is not None and expires <= now:
                    del self._cache[key]  # as Django's ``_delete``
                    self._expire_info.pop(key, None)
                    continue
                self._cache.move_to_end(key, last=False)
                found[asked] = pickled
        # What this process pickled itself, as Django's ``get`` unpickles it.
        return {asked: pickle.loads(pickled) for asked, pickled in found.items()}  # noqa: S301
