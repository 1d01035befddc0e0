"""The generic cached bulk read behind every selector, and the invalidation it pairs with (ADR
0016), modelled on Zulip's ``generic_bulk_cached_fetch``.

A *family* is one kind of cached entry keyed by an id (an article's card, a user's public
profile): ``fetch(family, ids)`` answers what the cache holds and loads the rest in one call,
storing it for next time. Around that sit the four rules that make it safe to share:

* **Tombstones.** ``bury(keys)`` replaces entries with a short-lived tombstone, at once and again
  when the transaction commits (a reader that read the old rows while the write was in flight is
  covered by the second; outside a transaction the write has committed, and once is enough).
  Fills use "add", never overwriting, and skip a key whose tombstone the reader saw: a reader
  that read the row before the commit cannot put the old version back.
* **Generations.** ``tokens(keys)`` reads the current token of each key (a list's generation, a
  viewer's relations token), making one where none is; ``renew(keys)`` replaces them. An entry
  stored with the token it was read under is never taken for one read under a newer token.
* **Single flight.** Concurrent misses of the same keys in a process load once (``load_once``).
  The flight's key holds the tombstone tokens the reader saw, so a read after a write never
  shares a load that started before it.
* **Read-ahead.** ``fetch`` and ``tokens`` accept what an earlier ``cache.get_many`` already
  returned (``found``), so a caller can read several families and tokens in one round trip;
  ``SafeCache.reading_ahead`` joins that round trip to the authentication's read.

A *rendering* is a channel's form of a family's entry (the API's pre-rendered JSON of a card): a
family of its own, loaded from the source family and buried with it. The domain buries the
source key; ``bury`` buries every rendering derived from it, so the domain never names a
channel's keys. Listeners registered with ``on_invalidation`` (the HTTP micro-cache) are told of
every ``bury`` and ``renew`` in this process.
"""

import contextlib
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from conduit.platform.cache.flight import single_flight
from conduit.platform.cache.safe import cache

logger = logging.getLogger(__name__)

# Longer than any read takes from its query to storing what it read.
TOMBSTONE_SECONDS = 5
TOMBSTONE = "\x00gone:"  # + a token: each invalidation writes a new one (see load_once)

_derived: dict[str, list[str]] = {}  # a family's key prefix -> the renderings' prefixes
_listeners: list[Callable[[], None]] = []


def is_tombstone(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(TOMBSTONE)


def new_token() -> str:
    return secrets.token_hex(6)


@dataclass(frozen=True)
class Family[I, V]:
    """Entries ``<prefix>:<ident(id)>``, loaded by ``load(ids) -> {id: value}`` (a missing id:
    gone), kept ``seconds`` in the form ``keep(value)``. With ``version``, an entry stored under
    another version is a miss (a rendering's shape or site URL changed)."""

    prefix: str
    load: Callable[[list[I]], Mapping[I, V]]
    seconds: int
    version: Callable[[], str] | None = None
    ident: Callable[[I], str] = str
    keep: Callable[[V], V] | None = None

    def key(self, item: I) -> str:
        ident = self.ident
        return f"{self.prefix}:{item if ident is str else ident(item)}"

    def stored(self, value: V) -> V:
        """What is kept of a loaded value (``keep``: a loader may return more than is stored)."""
        return value if self.keep is None else self.keep(value)


@dataclass(frozen=True)
class Rendering[I, V, R]:
    """A channel's form ``render(value)`` of ``source``'s entries, cached as the family
    ``<name>:<id>`` and buried with the source's entries. ``version`` names the rendering (its
    shape and anything it bakes in): entries of another version are never served."""

    name: str
    source: Family[I, V]
    render: Callable[[V], R]
    version: Callable[[], str]
    family: Family[I, R] = field(init=False)

    def __post_init__(self) -> None:
        def load(ids: list[I]) -> dict[I, R]:
            source = fetch(self.source, ids)
            return {i: self.render(self.source.stored(value)) for i, value in source.items()}

        rendered = Family(self.name, load, self.source.seconds, self.version, self.source.ident)
        object.__setattr__(self, "family", rendered)
        derived = _derived.setdefault(self.source.prefix, [])
        if self.name not in derived:
            derived.append(self.name)


def on_invalidation(listener: Callable[[], None]) -> Callable[[], None]:
    """Call ``listener()`` after every ``bury`` and ``renew`` in this process (at once and on
    commit), e.g. to drop a per-process cache of whole responses. Returns what removes it."""
    if listener not in _listeners:
        _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def _now_and_on_commit(action: Callable[[], None]) -> None:
    batched = _batch.get()
    if batched is not None:  # sent with the rest of the batch when it ends
        batched.append(action)
        return

    def act() -> None:
        action()
        for listener in _listeners:
            listener()

    act()
    after = _after_statement.get()
    in_transaction = transaction.get_connection().in_atomic_block
    if after is not None and not in_transaction:
        after.append(act)  # the statement commits when it ends: sent then (``statement``)
    elif in_transaction:
        transaction.on_commit(act, robust=True)
    # Outside a transaction the write has committed: on_commit would only send it again now.


_batch: ContextVar[list[Callable[[], None]] | None] = ContextVar("conduit_bulk_batch", default=None)
_after_statement: ContextVar[list[Callable[[], None]] | None] = ContextVar(
    "conduit_bulk_after_statement", default=None
)


@contextlib.contextmanager
def statement() -> Iterator[None]:
    """A write that is one statement in autocommit (``conduit/platform/db/statements.py``):
    what the block buries or renews is sent at once, as always, and its second send, which would
    run at once too outside a transaction, waits for the end of the block, after the statement
    has committed. Inside a caller's transaction it waits for the commit, as everywhere."""
    after: list[Callable[[], None]] = []
    reset = _after_statement.set(after)
    try:
        yield
    finally:
        _after_statement.reset(reset)
    for act in after:  # as on_commit(robust=True): the write stands whatever the cache says
        try:
            act()
        except Exception:
            logger.exception("invalidation after a one-statement write failed")


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Every ``bury`` and ``renew`` in the block is sent when the block ends, together (one
    round trip on Redis), and again together when the transaction commits. A write calls its
    invalidations in a batch *before* it locks any row, so no cache round trip happens while
    a row lock is held (ADR 0016): the first send covers readers during the write, the second
    those that read the old rows before the commit."""
    if _batch.get() is not None:  # nested: the outer batch sends
        yield
        return
    actions: list[Callable[[], None]] = []
    reset = _batch.set(actions)
    try:
        yield
    finally:
        _batch.reset(reset)
    if actions:

        def send() -> None:
            with cache.pipelined():
                for action in actions:
                    action()

        _now_and_on_commit(send)  # the batch is over: at once, and again on commit


def with_renderings(keys: Iterable[str]) -> list[str]:
    """``keys`` and the keys of every rendering derived from them."""
    expanded = []
    for key in keys:
        expanded.append(key)
        prefix, _, ident = key.partition(":")
        expanded.extend(f"{name}:{ident}" for name in _derived.get(prefix, ()))
    return expanded


def bury(keys: Iterable[str]) -> None:
    """Tombstones for ``keys`` and their renderings, at once and on commit (module doc)."""
    buried = with_renderings(keys)
    if buried:
        _now_and_on_commit(
            lambda: cache.set_many(
                dict.fromkeys(buried, TOMBSTONE + new_token()), TOMBSTONE_SECONDS
            )
        )


def renew(keys: Mapping[str, float | None]) -> None:
    """New tokens for these keys (key -> seconds it lives, None: until evicted), at once and on
    commit: whatever was stored under the old ones is never read again."""
    if keys:
        _now_and_on_commit(lambda: _renew(keys))


def _renew(keys: Mapping[str, float | None]) -> None:
    for seconds in set(keys.values()):
        cache.set_many({k: new_token() for k, s in keys.items() if s == seconds}, seconds)


def tokens(keys: Mapping[str, float | None], found: Mapping[str, Any] | None = None) -> list[str]:
    """The current token of each key (key -> seconds a new one lives), in order; ``found``: what
    a read that included them returned. A missing token (first use, or evicted) is made, by
    "add" so that concurrent readers agree on it."""
    if found is None:
        found = cache.get_many(list(keys))
    current = {key: str(found[key]) for key in keys if key in found}
    missing = {key: seconds for key, seconds in keys.items() if key not in current}
    if missing:
        made = {key: new_token() for key in missing}
        for seconds in set(missing.values()):
            cache.add_many({k: made[k] for k, s in missing.items() if s == seconds}, seconds)
        stored = cache.get_many(list(missing))  # another reader's "add" may have won
        current.update({key: str(stored.get(key, made[key])) for key in missing})
    return [current[key] for key in keys]


def load_once[T](key: str, load: Callable[[], T]) -> tuple[T, bool]:
    """``(load(), True)``, or ``(its result, False)`` for a caller of this process that waited
    for a concurrent caller with the same ``key`` (which must hold the tokens the callers saw).
    With the cache unavailable nobody sees tokens: everyone loads."""
    if not cache.healthy:
        return load(), True
    result: tuple[T, bool] = single_flight.do(key, load)
    return result


def fetch[I, V](
    family: Family[I, V], ids: Sequence[I], found: Mapping[str, Any] | None = None
) -> dict[I, V]:
    """The entries of ``ids`` (an id that no longer exists is left out): from ``found`` (what a
    read that included their keys returned) or the cache, the missing ones loaded in one call
    and stored by "add" unless the reader saw a tombstone."""
    if not ids:
        return {}
    keys = {i: family.key(i) for i in ids}
    if found is None:
        found = cache.get_many(list(keys.values()))
    values: dict[I, V] = {}
    missing: list[I] = []
    # The hot path of every warm list (a few dozen keys a request): one pass, no calls per key.
    version = None
    if family.version is None:
        for i, key in keys.items():
            stored = found.get(key)
            if stored is None or (type(stored) is str and stored.startswith(TOMBSTONE)):
                missing.append(i)
            else:
                values[i] = stored
    else:
        version = family.version()
        for i, key in keys.items():
            stored = found.get(key)
            if type(stored) is tuple and len(stored) == 2 and stored[0] == version:
                values[i] = stored[1]
            else:
                missing.append(i)
    if missing:

        def load() -> Mapping[I, V]:
            loaded = family.load(missing)
            add, replace = {}, {}
            for i, value in loaded.items():
                stored = found.get(keys[i])
                kept = family.stored(value)
                if stored is None:  # "add": a tombstone written meanwhile stays
                    add[keys[i]] = kept if version is None else (version, kept)
                elif not is_tombstone(stored):  # another version of a rendering
                    replace[keys[i]] = (version, kept)
            with cache.pipelined():
                cache.add_many(add, family.seconds)
                cache.set_many(replace, family.seconds)
            return loaded

        seen = ",".join(f"{i}{found.get(keys[i]) or ''}" for i in missing)
        loaded, _ = load_once(f"{family.prefix}:{seen}", load)
        values.update(loaded)
    return values
