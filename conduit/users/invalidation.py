"""The users app's cache keys and their invalidation (temporary: see the users-cache branch)."""

from conduit.platform.cache import bulk
from conduit.platform.cache.keys import digest

PROFILE_PREFIX = "profile"
PROFILE_SECONDS = 3600


def profile_key(user_id: int) -> str:
    return f"{PROFILE_PREFIX}:{user_id}"


def name_generation(username_key: str) -> str:
    return f"gen:name:{digest(username_key)}"


def invalidate_profiles(user_ids: list[int]) -> None:
    bulk.bury(profile_key(i) for i in user_ids)


def invalidate_names(username_keys: list[str]) -> None:
    bulk.renew(dict.fromkeys(map(name_generation, username_keys)))
