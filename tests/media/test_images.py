import io

import pytest
from PIL import Image

from conduit.media.images import image_clean, thumbnails
from conduit.platform.exceptions import InvalidInput
from tests.media.pictures import jpeg_with_gps, picture, png_bomb

LIMITS = {"max_bytes": 5_000_000, "max_pixels": 25_000_000}


def clean(data: bytes, **limits: int):
    return image_clean(io.BytesIO(data), size=len(data), **{**LIMITS, **limits})


def message(exc: pytest.ExceptionInfo[InvalidInput]) -> str:
    return exc.value.errors["image"][0]


@pytest.mark.parametrize(
    ("fmt", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp"), ("GIF", "png")]
)
def test_accepted_formats_are_re_encoded(fmt, extension):
    result = clean(picture(fmt, (300, 200)))
    assert (result.extension, result.width, result.height) == (extension, 300, 200)
    with Image.open(io.BytesIO(result.content)) as image:
        assert image.format == {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[extension]


def test_exif_is_stripped_and_orientation_applied():
    result = clean(jpeg_with_gps())
    with Image.open(io.BytesIO(result.content)) as image:
        assert not image.getexif()
        assert "exif" not in image.info
        assert image.size == (200, 400)  # turned upright by the Orientation tag
    assert b"Secret Camera" not in result.content


def test_format_is_decided_by_content_not_name():
    # BMP is a real image, just not one we accept; text is not an image at all.
    with pytest.raises(InvalidInput) as exc:
        clean(picture("BMP"))
    assert message(exc) == "must be a JPEG, PNG, WebP or GIF image"
    with pytest.raises(InvalidInput) as exc:
        clean(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    assert message(exc) == "must be a JPEG, PNG, WebP or GIF image"


def test_too_many_bytes():
    data = picture("PNG")
    with pytest.raises(InvalidInput) as exc:
        clean(data, max_bytes=len(data) - 1)
    assert message(exc) == f"is larger than {len(data) - 1} bytes"


def test_empty():
    with pytest.raises(InvalidInput) as exc:
        clean(b"")
    assert message(exc) == "is empty"


def test_too_many_pixels():
    with pytest.raises(InvalidInput) as exc:
        clean(picture("PNG", (200, 100)), max_pixels=19_999)
    assert message(exc) == "has too many pixels (200x100; at most 19999)"


def test_decompression_bomb_is_refused_before_decoding():
    data = png_bomb()
    assert len(data) < 10_000
    with pytest.raises(InvalidInput) as exc:
        clean(data)
    assert message(exc).startswith("has too many pixels")


def test_decompression_bomb_beyond_pillows_own_limit():
    # Past 2x Image.MAX_IMAGE_PIXELS Pillow itself raises while opening; still a clear 422.
    with pytest.raises(InvalidInput) as exc:
        clean(png_bomb(side=60_000), max_pixels=10**12)
    assert message(exc).startswith("has too many pixels")


def test_truncated_image():
    data = picture("JPEG", (300, 300))
    with pytest.raises(InvalidInput) as exc:
        clean(data[: len(data) // 2])
    assert message(exc) == "is damaged or truncated"


def test_thumbnails_are_square_in_both_formats():
    made = thumbnails(io.BytesIO(clean(picture("PNG", (500, 300))).content))
    assert set(made) == {"64.webp", "64.jpeg", "256.webp", "256.jpeg"}
    for key, content in made.items():
        side, fmt = key.split(".")
        with Image.open(io.BytesIO(content)) as image:
            assert image.size == (int(side), int(side))
            assert image.format == {"webp": "WEBP", "jpeg": "JPEG"}[fmt]
