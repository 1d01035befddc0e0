"""The calls our Redis backend makes in one round trip (``backends.RedisCache``) and Django's
Memcached and in-process backends make in several: ``SafeCache`` calls these with whichever
backend is configured."""

from collections.abc import Mapping
from typing import Any, NamedTuple


class Group(NamedTuple):
    """Values stored with one timeout: set, or (``only_absent``) added where the key is absent."""

    values: dict[str, Any]
    timeout: float | None
    only_absent: bool = False


def set_groups(backend: Any, groups: list[Group], version: int) -> None:
    set_groups = getattr(backend, "set_groups", None)
    if set_groups is not None:  # ours for Redis: every SET (or SET NX) in one pipeline
        set_groups(groups, version=version)
        return
    for values, timeout, only_absent in groups:  # Django's Memcached and in-process backends
        if only_absent:
            add_many(backend, values, timeout, version)
        else:
            backend.set_many(values, timeout, version=version)


def count(backend: Any, key: str, seconds: int, version: int) -> int:
    count = getattr(backend, "count", None)
    if count is not None:  # ours for Redis: one INCR on the client's connection
        return int(count(key, seconds, version=version))
    backend.add(key, 0, seconds, version=version)  # Django's Memcached and in-process backends
    try:
        return int(backend.incr(key, version=version))
    except ValueError:  # expired between the two calls: a new window
        backend.add(key, 1, seconds, version=version)
        return 1


def add_many(backend: Any, values: Mapping[str, Any], timeout: float | None, version: int) -> None:
    add_many = getattr(backend, "add_many", None)
    if add_many is not None:  # ours for Redis: SET NX for every key in one round trip
        add_many(values, timeout, version=version)
        return
    for key, value in values.items():  # Django's Memcached and in-process backends
        backend.add(key, value, timeout, version=version)
