"""Failed sign-ins (ADR 0024, docs/security.md): a growing wait for one account from one address,
and a cap on one account's failures from everywhere.

* From one address: after ``SIGN_IN_LOCKOUT_AFTER`` failures within 15 minutes, each further
  failure locks that account for that address for ``SIGN_IN_LOCKOUT_SECONDS``, doubling up to
  ``SIGN_IN_LOCKOUT_MAX_SECONDS``. A success clears it. Only the attacker's address waits: the
  owner signing in from elsewhere is not locked out.
* From everywhere: more than ``sign_in_per_account`` failures in its window refuse further
  attempts on the account until the window ends (many addresses guessing one password). This
  one an attacker with many addresses can renew window after window; it is bounded by the
  window, counted in ``conduit_rate_limited_total``, and the per-address limits slow each of
  those addresses down.

Accounts are named by their email's identity key, known or not, so the answers do not tell
which emails have accounts.
"""

import math
import time

from django.conf import settings

from conduit.platform import ratelimit
from conduit.platform.cache.keys import digest
from conduit.platform.cache.safe import cache

FAILURE_WINDOW_SECONDS = 900


def _keys(account: str, source: str) -> tuple[str, str]:
    ident = digest(f"{account}\x00{source}")
    return f"signin-failures:{ident}", f"signin-locked:{ident}"


def check(account: str, source: str) -> None:
    """``RateLimited`` while ``account`` is locked for ``source`` or over its failure cap."""
    if not ratelimit.enabled():
        return
    _, locked = _keys(account, source)
    cap = ratelimit.window("sign_in_per_account", account)
    found = cache.get_many([locked, cap.key])  # the lock and the account's failures: one read
    until = found.get(locked)
    now = time.time()
    if isinstance(until, float) and until > now:
        ratelimit.refuse("sign_in_lockout", math.ceil(until - now))
    ratelimit.check(cap, found.get(cap.key))


def failed(account: str, source: str) -> list[str]:
    """Count a failed sign-in; lock the pair once past the allowance. Returns the locks this
    failure started, for the audit log: ``"sign_in_lockout <seconds> s"`` for the pair,
    ``"sign_in_per_account"`` when it brought the account to its cap. While a lock lasts
    ``check`` refuses before anything is counted, so each lock is started (and audited) once."""
    if not ratelimit.enabled():
        return []
    failures, locked = _keys(account, source)
    count = cache.count(failures, FAILURE_WINDOW_SECONDS)
    started = []
    if count is not None and count >= settings.SIGN_IN_LOCKOUT_AFTER:
        excess = count - settings.SIGN_IN_LOCKOUT_AFTER
        seconds = min(
            settings.SIGN_IN_LOCKOUT_SECONDS * 2 ** min(excess, 20),
            settings.SIGN_IN_LOCKOUT_MAX_SECONDS,
        )
        cache.set(locked, time.time() + seconds, seconds)
        started.append(f"sign_in_lockout {seconds} s")
    capped = ratelimit.hit("sign_in_per_account", account)
    if capped == ratelimit.parse_rate(settings.RATE_LIMITS["sign_in_per_account"]).count:
        started.append("sign_in_per_account")
    return started


def succeeded(account: str, source: str) -> None:
    cache.delete_many(_keys(account, source))
