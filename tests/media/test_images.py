import io

import pytest
from PIL import Image, JpegImagePlugin

from conduit.media.images import ORIGINAL_MAX_SIDE, image_clean, thumbnails
from conduit.platform.exceptions import InvalidInput
from tests.media.pictures import jpeg_with_gps, picture, png_bomb

LIMITS = {"max_bytes": 5_000_000, "max_pixels": 16_000_000}


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


@pytest.fixture
def draft_calls(monkeypatch):
    """Each JPEG draft request, with the size the image then decodes at."""
    calls: list[tuple[tuple[int, int] | None, tuple[int, int]]] = []
    real = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = real(self, mode, size)
        calls.append((size, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    return calls


def test_big_jpeg_decodes_in_draft_mode_and_the_original_is_scaled(draft_calls):
    # 2400 px is more than twice ORIGINAL_MAX_SIDE: the decoder's 1/2 scale still covers it.
    result = clean(picture("JPEG", (2400, 1600)))
    side = ORIGINAL_MAX_SIDE  # 1024 x 683 kept
    assert draft_calls == [((side, 683), (1200, 800))]
    assert (result.width, result.height) == (side, 683)
    with Image.open(io.BytesIO(result.content)) as image:
        assert (image.format, image.size) == ("JPEG", (side, 683))


def test_a_jpeg_under_twice_the_side_decodes_at_full_scale(draft_calls):
    result = clean(picture("JPEG", (1500, 1000)))
    assert draft_calls == [((ORIGINAL_MAX_SIDE, 683), (1500, 1000))]  # 1/2 would be too small
    assert (result.width, result.height) == (ORIGINAL_MAX_SIDE, 683)


def test_other_formats_are_scaled_to_the_same_side():
    result = clean(picture("PNG", (600, 2400)))
    assert (result.extension, result.width, result.height) == ("png", 256, ORIGINAL_MAX_SIDE)


def test_thumbnails_decode_a_jpeg_original_in_draft_mode(draft_calls):
    made = thumbnails(io.BytesIO(picture("JPEG", (1024, 1024))))
    assert draft_calls == [((256, 256), (256, 256))]  # 1/4 scale: 1024 / 4 = the 256 thumbnail
    with Image.open(io.BytesIO(made["256.jpeg"])) as image:
        assert image.size == (256, 256)


def test_the_default_pixel_limit_is_16_megapixels(settings):
    assert settings.AVATAR_MAX_PIXELS == 16_000_000
    with pytest.raises(InvalidInput) as exc:
        clean(png_bomb(4001), max_pixels=settings.AVATAR_MAX_PIXELS)
    assert message(exc) == "has too many pixels (4001x4001; at most 16000000)"
