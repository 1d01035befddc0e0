import io

import pytest
from django.core.files.storage import storages
from PIL import Image

from conduit.media.models import Avatar
from conduit.media.tasks import avatar_make_thumbnails
from tests.media.pictures import jpeg_with_gps, picture, png_bomb

URL = "/api/user/image"


def upload(client, data: bytes, name: str = "me.jpg", field: str = "image"):
    return client.put(URL, {field: io.BytesIO(data) | _named(name)}, format="multipart")


class _named:
    # io.BytesIO | _named(...) gives the upload a file name, as a browser would.
    def __init__(self, name: str) -> None:
        self.name = name

    def __ror__(self, stream: io.BytesIO) -> io.BytesIO:
        stream.name = self.name
        return stream


def errors(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()["errors"]


def test_upload_shows_the_original_then_the_thumbnail(
    auth_api, user, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(auth_api, jpeg_with_gps())
    assert response.status_code == 200, response.content
    avatar = Avatar.objects.get(user=user)
    original = response.json()["user"]["image"]
    # Stored as the storage's site path; the API shows it on SITE_URL.
    assert original == settings.SITE_URL + storages["default"].url(avatar.original)
    assert original.endswith("/original.jpg")
    assert avatar.thumbnails == {}

    for callback in callbacks:  # the file cleanup and the thumbnail task, as on commit
        callback()
    avatar.refresh_from_db()
    assert set(avatar.thumbnails) == {"64.webp", "64.jpeg", "256.webp", "256.jpeg"}
    user.refresh_from_db()
    assert user.image == storages["default"].url(avatar.thumbnails["256.jpeg"])
    assert auth_api.get("/api/user").json()["user"]["image"] == settings.SITE_URL + user.image
    with storages["default"].open(avatar.thumbnails["256.jpeg"]) as file:
        data = file.read()
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (256, 256)
        assert not image.getexif()
    assert b"Secret Camera" not in data


def test_thumbnail_task_is_idempotent_and_ignores_a_replaced_upload(
    auth_api, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(auth_api, picture("PNG"))
    first = Avatar.objects.get(user=user)
    avatar_make_thumbnails(first.pk, first.token)  # again: nothing changes
    assert Avatar.objects.get(user=user).thumbnails == first.thumbnails
    with django_capture_on_commit_callbacks(execute=True):
        upload(auth_api, picture("WEBP"))
    second = Avatar.objects.get(user=user)
    assert second.token != first.token
    avatar_make_thumbnails(first.pk, first.token)  # a late task of the old upload: no-op
    assert Avatar.objects.get(user=user).thumbnails == second.thumbnails
    # The old upload's files are gone.
    assert not any(storages["default"].exists(name) for name in first.storage_names())


def test_a_url_set_meanwhile_is_not_overwritten(auth_api, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(auth_api, picture("JPEG"))
    auth_api.put("/api/user", {"user": {"image": "https://example.com/me.png"}}, format="json")
    for callback in callbacks:
        callback()
    user.refresh_from_db()
    assert user.image == "https://example.com/me.png"


def test_remove_picture(auth_api, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(auth_api, picture("GIF"))
    names = Avatar.objects.get(user=user).storage_names()
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api.delete(URL)
    assert response.status_code == 200
    assert response.json()["user"]["image"] is None
    assert not Avatar.objects.filter(user=user).exists()
    assert not any(storages["default"].exists(name) for name in names)


def test_anonymous_upload_is_refused(api):
    response = upload(api, picture())
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7 not a picture", "must be a JPEG, PNG, WebP or GIF image"),
        (picture("BMP"), "must be a JPEG, PNG, WebP or GIF image"),
        (png_bomb(10_000), "has too many pixels (10000x10000; at most 16000000)"),
        (png_bomb(30_000), "has too many pixels (at most 16000000)"),
        (picture("JPEG")[:300], "is damaged or truncated"),
    ],
    ids=["not-an-image", "bmp", "bomb", "bomb-past-pillow-limit", "truncated"],
)
def test_bad_pictures_are_422(auth_api, user, data, message):
    response = upload(auth_api, data, name="innocent.png")
    assert response.status_code == 422
    assert errors(response) == {"image": [message]}
    assert not Avatar.objects.filter(user=user).exists()


def test_file_over_the_byte_limit_is_422(auth_api, settings):
    data = picture("PNG", (800, 800))
    settings.AVATAR_MAX_BYTES = len(data) - 1
    response = upload(auth_api, data)
    assert response.status_code == 422
    assert errors(response)["image"] == [f"is larger than {len(data) - 1} bytes"]


def test_huge_request_is_413_before_reading_it(auth_api, settings):
    settings.AVATAR_MAX_BYTES = 1000
    # Under REQUEST_MAX_BYTES, so the view's own check answers (past it, the middleware does:
    # tests/platform/test_body_limit.py).
    response = auth_api.generic(
        "PUT",
        URL,
        b"x" * 100,  # what is sent does not matter: the declared length is refused
        content_type="multipart/form-data; boundary=BoUnDaRy",
        CONTENT_LENGTH=str(1024 * 1024),
    )
    assert response.status_code == 413
    assert errors(response)["image"] == ["is larger than 1000 bytes"]


def test_a_request_past_the_cap_is_413_from_the_middleware(auth_api, settings):
    response = auth_api.generic(
        "PUT",
        URL,
        b"x" * 100,
        content_type="multipart/form-data; boundary=BoUnDaRy",
        CONTENT_LENGTH=str(settings.REQUEST_MAX_BYTES + 1),
    )
    assert response.status_code == 413
    assert errors(response) == {"request": ["is too large"]}


def test_missing_field_and_wrong_encoding(auth_api):
    response = upload(auth_api, picture(), field="picture")
    assert response.status_code == 422
    assert errors(response)["image"] == ["can't be blank"]
    response = auth_api.put(URL, {"image": "https://example.com/a.png"}, format="json")
    assert response.status_code == 415
    assert errors(response) == {"content type": ["must be multipart/form-data"]}


def test_put_user_with_a_url_still_works_after_an_upload(
    auth_api, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(auth_api, picture())
    response = auth_api.put(
        "/api/user", {"user": {"image": "https://example.com/me.png"}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["user"]["image"] == "https://example.com/me.png"


def test_upload_is_in_the_schema(api):
    schema = api.get("/api/schema", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/user/image"]["put"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"200", "401", "413", "422"} <= set(operation["responses"])


def test_over_16_megapixels_is_422_by_default(auth_api, user):
    response = upload(auth_api, png_bomb(4001), name="me.png")  # 16,008,001 pixels
    assert response.status_code == 422
    assert errors(response) == {"image": ["has too many pixels (4001x4001; at most 16000000)"]}
    assert not Avatar.objects.filter(user=user).exists()
