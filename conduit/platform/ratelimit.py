"""Rate limits (ADR 0024): fixed windows, counted where every app server sees them.

``hit(name, who)`` counts one request against the limit ``settings.RATE_LIMITS[name]`` ("100/5m")
for ``who`` (an address, a user id, an account's key) and raises ``RateLimited`` once the
window's count is over, with the seconds until the window ends. Counts live in the cache
(``SafeCache.count``: one round trip to Redis, or the in-process cache without ``CACHE_URL``);
when the cache is unavailable requests go through (failing open: an outage of Redis must not
become an outage of sign-in). ``hit_local`` counts in this process only, for the anonymous reads
that the micro-cache answers without any round trip; nginx's ``limit_req`` is their shared limit.

Every refusal is counted in ``conduit_rate_limited_total`` by limit name.
"""

import re
import threading
import time
from dataclasses import dataclass
from functools import cache as memoize

from django.conf import settings
from django.core import checks
from prometheus_client import Counter

from conduit.platform.cache.keys import digest
from conduit.platform.cache.safe import cache
from conduit.platform.exceptions import DomainError

RATE_LIMITED = Counter(
    "conduit_rate_limited_total", "Requests refused by a rate limit, by limit.", ["limit"]
)
_PERIODS = {"s": 1, "m": 60, "h": 3600}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


@memoize
def parse_rate(text: str) -> Rate:
    """``"100/5m"`` -> 100 per 300 seconds (``s``, ``m``, ``h``; ``20/h`` is 20 per hour)."""
    match = _RATE.match(text)
    if match is None or int(match[1]) < 1 or match[2] == "0":
        raise ValueError(f"{text!r} is not a rate like 100/5m (a count per s, m or h)")
    return Rate(int(match[1]), int(match[2] or 1) * _PERIODS[match[3]])


def check_rates(**kwargs: object) -> list[checks.CheckMessage]:
    """``manage.py check`` (and every start): each ``RATE_LIMIT_*`` is a rate."""
    errors: list[checks.CheckMessage] = []
    for name, text in settings.RATE_LIMITS.items():
        try:
            parse_rate(text)
        except ValueError as error:
            hint = "Use <count>/<period>, the period in s, m or h: 100/5m, 20/h."
            message = f"RATE_LIMIT_{name.upper()}: {error}"
            errors.append(checks.Error(message, hint=hint, id="conduit.E010"))
    return errors


class RateLimited(DomainError):
    """Too many requests of one kind (``limit``) from one client: retry after ``retry_after``
    seconds."""

    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__(f"{limit}: retry after {retry_after} s")
        self.limit = limit
        self.retry_after = max(1, retry_after)


def enabled() -> bool:
    return bool(settings.RATE_LIMITS_ENABLED)


def _window(rate: Rate) -> tuple[int, int]:
    """This window's number and the seconds left in it."""
    now = time.time()
    number = int(now // rate.seconds)
    return number, int((number + 1) * rate.seconds - now) + 1


def refuse(limit: str, retry_after: int) -> None:
    RATE_LIMITED.labels(limit).inc()
    raise RateLimited(limit, retry_after)


@dataclass(frozen=True)
class Window:
    """The current window of one limit for one client: its counter's key, the limit's rate and
    the seconds left in it."""

    name: str
    key: str
    rate: Rate
    left: int


def window(name: str, who: str | int) -> Window:
    rate = parse_rate(settings.RATE_LIMITS[name])
    number, left = _window(rate)
    return Window(name, f"rl:{name}:{digest(str(who))}:{number}", rate, left)


def hit(name: str, who: str | int) -> int | None:
    """Count a request of kind ``name`` by ``who``; ``RateLimited`` when over the limit.
    Returns the window's count so far (None: not counted, limits off or the cache away)."""
    if not enabled():
        return None
    current = window(name, who)
    count = cache.count(current.key, current.rate.seconds + 1)
    if count is not None and count > current.rate.count:
        refuse(name, current.left)
    return count


def check(current: Window, count: object) -> None:
    """``RateLimited`` if ``count`` (what the cache holds under ``current.key``: the caller
    reads it, with whatever else it reads) has already reached the limit, without counting this
    request (a limit on failures, counted by ``hit`` when one happens)."""
    if enabled() and isinstance(count, int) and count >= current.rate.count:
        refuse(current.name, current.left)


_local: dict[tuple[str, str], tuple[int, int]] = {}  # (name, who) -> (window, count)
_local_lock = threading.Lock()
_LOCAL_MAX = 100_000


def hit_local(name: str, who: str) -> None:
    """``hit``, counted in this process only (no round trip; see the module doc)."""
    if not enabled():
        return
    rate = parse_rate(settings.RATE_LIMITS[name])
    number, left = _window(rate)
    with _local_lock:
        window, count = _local.get((name, who), (number, 0))
        count = count + 1 if window == number else 1
        if len(_local) >= _LOCAL_MAX:
            _local.clear()  # a flood of addresses: forget, rather than grow
        _local[name, who] = (number, count)
    if count > rate.count:
        refuse(name, left)


def forget_local() -> None:
    """Tests: start every process-local count afresh."""
    with _local_lock:
        _local.clear()
