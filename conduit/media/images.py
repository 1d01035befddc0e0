"""Checking and re-encoding uploaded pictures with Pillow.

The format is decided by the file's content, never by its name or declared type. Dimensions are
read from the header and checked before a single pixel is decoded, so a decompression bomb (a tiny
file that expands to gigapixels) is refused without allocating its memory. The kept original is
re-encoded from decoded pixels, which drops EXIF (location, camera serial) and any trailing data,
and scaled down to ``ORIGINAL_MAX_SIDE``; a JPEG is decoded in draft mode (the decoder's own 1/2,
1/4 or 1/8 scaling) when that size allows, so a big photo never costs its full-size pixels.
"""

import io
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from conduit.platform.exceptions import InvalidInput

# Pillow format name -> (format we store the original in, file extension).
# A GIF keeps its first frame only, as a PNG: animated avatars are not supported.
_ACCEPTED = {
    "JPEG": ("JPEG", "jpg"),
    "PNG": ("PNG", "png"),
    "WEBP": ("WEBP", "webp"),
    "GIF": ("PNG", "png"),
}
NOT_AN_IMAGE = "must be a JPEG, PNG, WebP or GIF image"
THUMBNAIL_SIZES = (64, 256)
# (Pillow format, extension) of every thumbnail: WebP for browsers, JPEG for everything else.
THUMBNAIL_FORMATS = (("WEBP", "webp"), ("JPEG", "jpeg"))
# The kept original's longest side. Pictures are shown at 256 px at most, so 1024 px leaves room
# for high-density screens, and a JPEG of 2048 px or more decodes at a reduced scale.
ORIGINAL_MAX_SIDE = 1024


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    extension: str
    width: int
    height: int


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency over white, palettes and CMYK converted."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image


def _for_format(image: Image.Image, fmt: str) -> Image.Image:
    if fmt == "JPEG":
        return _flatten(image)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        return image.convert("RGBA")
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    # No exif=, icc_profile= or pnginfo=: nothing but pixels leaves this function.
    options = {"JPEG": {"quality": 88, "optimize": True}, "WEBP": {"quality": 85}}.get(fmt, {})
    _for_format(image, fmt).save(out, format=fmt, **options)
    return out.getvalue()


def _fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` scaled (down only) to fit a ``side`` x ``side`` square, as thumbnail() does."""
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _decode(data: IO[bytes], *, max_pixels: int) -> CleanImage:
    with Image.open(data) as probe:  # reads the header only
        if probe.format not in _ACCEPTED:
            raise InvalidInput.field("image", NOT_AN_IMAGE)
        fmt = probe.format
        width, height = probe.size
        if width * height > max_pixels:
            raise InvalidInput.field(
                "image", f"has too many pixels ({width}x{height}; at most {max_pixels})"
            )
        probe.verify()  # structure and checksums, without decoding
    data.seek(0)
    with Image.open(data) as image:
        image.seek(0)  # a GIF's first frame
        # JPEG only (other formats ignore it): the smallest 1/2^n scale still at least the kept
        # size on both sides, so the thumbnail() below only ever shrinks.
        image.draft(None, _fitted(image.size, ORIGINAL_MAX_SIDE))
        image.load()
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((ORIGINAL_MAX_SIDE, ORIGINAL_MAX_SIDE), Image.Resampling.LANCZOS)
        stored_format, extension = _ACCEPTED[fmt]
        content = _encode(upright, stored_format)
        width, height = upright.size
    return CleanImage(content=content, extension=extension, width=width, height=height)


def image_clean(data: IO[bytes], *, size: int, max_bytes: int, max_pixels: int) -> CleanImage:
    """The upload, checked and re-encoded; InvalidInput on the ``image`` field otherwise."""
    if size <= 0:
        raise InvalidInput.field("image", "is empty")
    if size > max_bytes:
        raise InvalidInput.field("image", f"is larger than {max_bytes} bytes")
    try:
        # Pillow only warns between its own pixel limit and twice that; our max_pixels check
        # (smaller by default) is the limit that counts, so the warning is noise here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            clean = _decode(data, max_pixels=max_pixels)
    except Image.DecompressionBombError:
        raise InvalidInput.field("image", f"has too many pixels (at most {max_pixels})") from None
    except UnidentifiedImageError:
        raise InvalidInput.field("image", NOT_AN_IMAGE) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        # Pillow's ways of saying "truncated or corrupt".
        raise InvalidInput.field("image", "is damaged or truncated") from None
    return clean


def thumbnails(data: IO[bytes]) -> dict[str, bytes]:
    """``{"64.webp": ..., "256.jpeg": ...}``: square, centre-cropped thumbnails of a cleaned
    original (so no size or bomb checks here: the upload passed them)."""
    with Image.open(data) as image:
        biggest = max(THUMBNAIL_SIZES)
        image.draft(None, (biggest, biggest))  # a JPEG original decodes at a reduced scale
        image.load()
        out: dict[str, bytes] = {}
        for side in THUMBNAIL_SIZES:
            square = ImageOps.fit(image, (side, side), method=Image.Resampling.LANCZOS)
            for fmt, extension in THUMBNAIL_FORMATS:
                out[f"{side}.{extension}"] = _encode(square, fmt)
    return out
