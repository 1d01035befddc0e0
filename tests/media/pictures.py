"""Pictures made on the fly for the avatar tests."""

import io
import struct
import zlib

from PIL import Image


def picture(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), **save: object) -> bytes:
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    image = Image.new(mode, size, (200, 30, 60, 255) if mode == "RGBA" else (200, 30, 60))
    out = io.BytesIO()
    if fmt == "GIF":
        image = image.convert("P")
    image.save(out, format=fmt, **save)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A JPEG whose EXIF holds a camera model and a GPS position, rotated by its Orientation."""
    exif = Image.Exif()
    exif[0x0110] = "Secret Camera 3000"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90° to show upright
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPSInfo: latitude
    return picture("JPEG", (400, 200), exif=exif.tobytes())


def png_bomb(side: int = 30_000) -> bytes:
    """A valid PNG header announcing ``side`` x ``side`` pixels (900 megapixels) in a few hundred
    bytes: what a decompression bomb looks like to a server before it decodes it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" + b"\x00" * (side // 8)
    pixels = zlib.compress(row * 64, 9)  # the first rows only; enough for any reader's header
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
