"""The profiles app's cache keys and their invalidation (ADR 0016). A leaf: it imports the
platform only, so the write services of any app that changes what a user favorites or follows
(this app's follows, the articles app's favorites) can call it.

A viewer's *relations token* (``rel:<viewer>``) names the state of what they favorite and follow.
The lists store each viewer's ``favorited``/``following`` flags under their current token; each
of their own favorites and follows replaces it. Only the viewer can change their flags, so the
flags stored under a token never go stale, and those of an old token are never read again.
"""

from conduit.platform.cache import bulk

# A relations token outlives the flags stored under it; when it expires a new one is made, and
# the flags under the old one are never read again.
RELATIONS_SECONDS = 86400
# A viewer's ``following`` flag for one profile, under their relations token (``selectors.py``).
FOLLOWS_SECONDS = 600


def relations_key(user_id: int) -> str:
    return f"rel:{user_id}"


def follows_key(viewer_id: int, relations: str, user_id: int) -> str:
    return f"follows:{viewer_id}:{relations}:{user_id}"


def invalidate_relations(*, user_id: int) -> None:
    """What ``user_id`` favorites or follows changed: the flags they see are read again."""
    bulk.renew({relations_key(user_id): RELATIONS_SECONDS})
