"""Parts of cache keys."""

import hashlib


def digest(text: str) -> str:
    """A short ASCII stand-in for ``text`` in a key: tags, slugs and usernames may hold any
    script, and Memcached keys must be short ASCII."""
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
