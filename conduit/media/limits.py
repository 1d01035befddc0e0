"""An avatar upload's size, judged from the request's declared length before its body is read.

Both channels (``PUT /api/user/image`` and the settings page's form) ask this first: reading the
body is what costs memory and disk, so a request announcing more than a picture plus its
multipart envelope is refused unread. The file's own size is checked again after parsing
(``images.image_clean``), since the declared length may be missing or smaller.
"""

from django.conf import settings

# Room for the multipart envelope around the file itself (boundaries, headers, the CSRF field).
MULTIPART_OVERHEAD = 64 * 1024


def declared_length(content_length: str | None) -> int:
    """The ``Content-Length`` header as a number; 0 when missing or not a number."""
    try:
        return max(int(content_length or 0), 0)
    except ValueError:
        return 0


def upload_too_large(content_length: str | None) -> bool:
    """Whether a request declaring ``content_length`` bytes cannot hold an acceptable picture."""
    return declared_length(content_length) > settings.AVATAR_MAX_BYTES + MULTIPART_OVERHEAD


def too_large_message() -> str:
    return f"is larger than {settings.AVATAR_MAX_BYTES} bytes"
