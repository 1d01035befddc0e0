"""Where avatars live in storage and what URL a user's picture shows: shared by the services and
the thumbnail task (which the services enqueue), so neither imports the other."""

from django.core.files.storage import storages

from conduit.media.models import Avatar

AVATAR_PREFIX = "avatars"


def avatar_url(avatar: Avatar) -> str:
    """What ``User.image`` shows: the 256 px thumbnail once made, else the cleaned original."""
    storage = storages["default"]
    return storage.url(avatar.thumbnails.get("256.jpeg") or avatar.original)
