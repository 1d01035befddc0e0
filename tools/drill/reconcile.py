"""The ledger against the database, after the load: every acknowledged write must be there
(else it is *lost*), and each logical write must be there at most once (else a retried request
was applied twice: a *duplicate*). Each write carries a client-made unique marker: an article's
title, a comment's body, a favorite's ``username slug``, the same on every attempt, so a retry
that the server applied twice shows as two rows with one marker.

The database is read through the stack's leader (DATABASE_URL: HAProxy's STACK_PG_PORT), once the
cluster has a leader again: what a client would read after the drill.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .ledger import WRITES, Record


@dataclass
class Found:
    """The run's writes as the database has them, by marker."""

    articles: dict[str, list[str]] = field(default_factory=dict)  # title -> slugs
    comments: dict[str, list[str]] = field(default_factory=dict)  # body -> ids
    favorites: set[str] = field(default_factory=set)  # "username slug"

    def rows(self, kind: str, marker: str) -> list[str]:
        """What the database holds for one logical write: the articles' slugs, the comments'
        ids, or the favorite's pair (at most one: a unique constraint)."""
        if kind == "create_article":
            return self.articles.get(marker, [])
        if kind == "comment":
            return self.comments.get(marker, [])
        return [marker] if marker in self.favorites else []


def reconcile(records: list[Record], found: Found, sample: int = 20) -> dict[str, Any]:
    """Per kind of write and in total: logical writes, acknowledged, lost (acknowledged, absent),
    duplicates (rows beyond the first for one marker), failed (no attempt acknowledged) and,
    among those, applied anyway (the client saw a failure but the write happened: what a client
    that retries without a marker would duplicate). ``sample`` items of each finding are listed."""
    attempts: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in records:
        if r.is_write:
            attempts[(r.kind, r.marker)].append(r)
    kinds = {
        kind: {"writes": 0, "acknowledged": 0, "lost": 0, "duplicates": 0, "failed": 0,
               "applied_without_ack": 0}
        for kind in WRITES
    }  # fmt: skip
    lost: list[str] = []
    duplicated: list[str] = []
    applied: list[str] = []
    for (kind, marker), tries in sorted(attempts.items()):
        counts = kinds[kind]
        rows = found.rows(kind, marker)
        acknowledged = [r.acknowledged for r in tries if r.ok]
        counts["writes"] += 1
        if acknowledged:
            counts["acknowledged"] += 1
            if not any(a in rows for a in acknowledged):
                counts["lost"] += 1
                lost.append(f"{kind} {marker}: acknowledged {acknowledged[0]}, not found")
        else:
            counts["failed"] += 1
            if rows:
                counts["applied_without_ack"] += 1
                applied.append(f"{kind} {marker}: {len(tries)} failed attempt(s), found {rows}")
        if len(rows) > 1:
            counts["duplicates"] += len(rows) - 1
            duplicated.append(f"{kind} {marker}: {len(rows)} rows {rows}")
    total = {key: sum(k[key] for k in kinds.values()) for key in next(iter(kinds.values()))}
    return {
        **total,
        "by_kind": kinds,
        "lost_items": lost[:sample],
        "duplicate_items": duplicated[:sample],
        "applied_without_ack_items": applied[:sample],
    }


def found_in_database(database_url: str, run: str) -> Found:
    """The rows of the run ``run`` (every marker and drill username starts with ``drill-<run>``)
    read with psycopg from ``database_url``."""
    import psycopg  # the app's own driver, in the project's virtualenv

    like = f"drill-{run}-%"
    found = Found()
    with psycopg.connect(database_url, connect_timeout=5, autocommit=True) as conn:
        for title, slug in conn.execute(
            "SELECT title, slug FROM articles_article WHERE title LIKE %s", (like,)
        ):
            found.articles.setdefault(title, []).append(slug)
        for body, comment_id in conn.execute(
            "SELECT body, id FROM comments_comment WHERE body LIKE %s", (like,)
        ):
            found.comments.setdefault(body, []).append(str(comment_id))
        for username, slug in conn.execute(
            "SELECT u.username, a.slug FROM articles_favorite f"
            " JOIN users_user u ON u.id = f.user_id JOIN articles_article a ON a.id = f.article_id"
            " WHERE u.username LIKE %s",
            (like,),
        ):
            found.favorites.add(f"{username} {slug}")
    return found
