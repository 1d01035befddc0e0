"""The feeds issue 18 measures, added to ``seed_bulk``'s data in set-based SQL (PostgreSQL):

* ``bench-celebrity``, an author followed by as many users as the data set has (100,000 at
  ``1m``): every user whose id is above ``spared`` (``max(users // 100, 300)``), plus ``spared``
  new users ``bench-fan-<n>``, each of whom also follows what user ``<n>`` follows (so a fan's
  feed is user ``<n>``'s feed with the celebrity merged in). The celebrity writes every 1,000th
  article (they change author; the counters follow). The users up to ``spared`` (the writers, the
  hot users and the typical reader) do not follow it.
* ``bench-follows-1000``, a user following the first 1,000 users by id who have articles (fewer
  when the data set has fewer authors): the heaviest follower.

Idempotent: nothing is added when ``bench-celebrity`` exists. Counters are recomputed from the
rows, so ``check_counters`` finds no drift. Django must be set up.
"""

from __future__ import annotations

import time
from typing import Any

CELEBRITY = "bench-celebrity"
HEAVY = "bench-follows-1000"
FAN = "bench-fan-"
HEAVY_FOLLOWS = 1_000
CELEBRITY_EVERY = 1_000  # the celebrity writes article ids divisible by this
SHAPES_VERSION = 1


def spared(users: int) -> int:
    return max(users // 100, 300)


def fan_of(user_id: int) -> str:
    return f"{FAN}{user_id}"


def add_feed_shapes(users: int) -> dict[str, Any]:
    """Add the celebrity, its fans and the heavy follower to ``seed_bulk``'s data of ``users``
    users; returns what was added (the marker records it)."""
    from django.db import connection, transaction

    from conduit.demo.bulk.plan import START
    from conduit.users.models import User

    if User.objects.filter(username=CELEBRITY).exists():
        return {"added": False}
    keep = spared(users)
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT max(id), min(password) FROM users_user WHERE id <= %s", [users])
        base, password = cur.fetchone()
        if base != users:
            raise SystemExit(f"expected {users:,} users from seed_bulk, found ids up to {base}")
        celebrity, heavy = base + 1, base + 2
        # The new users: the celebrity, the heavy follower and the fans (ids base+3 ...).
        cur.execute(
            """
            INSERT INTO users_user (id, password, last_login, is_superuser, username, email,
                username_key, email_key, bio, image, is_staff, is_active, date_joined,
                token_version, articles_count, favorites_count, followers_count, following_count)
            SELECT id, %(pw)s, NULL, false, name, name || '@bench.conduit.local', name,
                   name || '@bench.conduit.local', NULL, NULL, false, true, %(start)s, 0, 0, 0, 0, 0
            FROM (SELECT %(celebrity)s AS id, %(c_name)s AS name
                  UNION ALL SELECT %(heavy)s, %(h_name)s
                  UNION ALL SELECT %(base)s + 2 + n, %(fan)s || n
                            FROM generate_series(1, %(keep)s) AS n) AS new_users
            """,
            {"pw": password, "start": START, "celebrity": celebrity, "c_name": CELEBRITY,
             "heavy": heavy, "h_name": HEAVY, "base": base, "fan": FAN, "keep": keep},
        )  # fmt: skip
        # The fans follow what the user of their number follows (before anyone follows the
        # celebrity), then the celebrity; everyone above `keep` follows it too.
        cur.execute(
            "INSERT INTO profiles_follow (follower_id, followee_id, created_at) "
            "SELECT %s + 2 + follower_id, followee_id, %s FROM profiles_follow "
            "WHERE follower_id <= %s",
            [base, START, keep],
        )
        cur.execute(
            "INSERT INTO profiles_follow (follower_id, followee_id, created_at) "
            "SELECT id, %s, %s FROM users_user WHERE id > %s AND id <> %s AND id <> %s",
            [celebrity, START, keep, celebrity, heavy],
        )
        cur.execute(
            "UPDATE articles_article SET author_id = %s WHERE id %% %s = 0",
            [celebrity, CELEBRITY_EVERY],
        )
        _recount(cur)
        cur.execute(
            "INSERT INTO profiles_follow (follower_id, followee_id, created_at) "
            "SELECT %s, id, %s FROM users_user WHERE articles_count > 0 AND id <= %s "
            "ORDER BY id LIMIT %s",
            [heavy, START, base, HEAVY_FOLLOWS],
        )
        _recount(cur)
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('users_user', 'id'), (SELECT max(id) "
            "FROM users_user))"
        )
        cur.execute(
            "SELECT username, followers_count, following_count, articles_count FROM users_user "
            "WHERE id IN (%s, %s)",
            [celebrity, heavy],
        )
        counts = {name: {"followers": a, "following": b, "articles": c}
                  for name, a, b, c in cur.fetchall()}  # fmt: skip
    with connection.cursor() as cur:
        cur.execute("ANALYZE users_user, profiles_follow, articles_article")
    return {
        "added": True,
        "version": SHAPES_VERSION,
        "spared_user_ids": keep,
        "fans": keep,
        CELEBRITY: counts[CELEBRITY],
        HEAVY: counts[HEAVY],
        "seconds": round(time.monotonic() - started, 1),
    }


def _recount(cur: Any) -> None:
    """Every user's followers, following and articles counters from the rows (set-based)."""
    for column, table, key in (
        ("followers_count", "profiles_follow", "followee_id"),
        ("following_count", "profiles_follow", "follower_id"),
        ("articles_count", "articles_article", "author_id"),
    ):
        cur.execute(
            f"UPDATE users_user u SET {column} = COALESCE(s.n, 0) FROM users_user u2 "  # noqa: S608 - fixed names
            f"LEFT JOIN (SELECT {key} AS id, count(*) AS n FROM {table} GROUP BY {key}) s "
            f"ON s.id = u2.id WHERE u.id = u2.id AND u.{column} <> COALESCE(s.n, 0)"
        )
