import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from conduit.media import tasks
from conduit.media.services import avatar_upload
from conduit.platform.storages import storages_from_env
from tests.media.pictures import picture

PATHS = {"media_root": Path("/m"), "media_url": "/media/", "exports_root": Path("/x")}


def test_orphaned_files_are_removed_and_referenced_ones_kept(
    user, monkeypatch, django_capture_on_commit_callbacks
):
    data = picture()
    with django_capture_on_commit_callbacks(execute=True):
        avatar = avatar_upload(user=user, data=io.BytesIO(data), size=len(data))
    media = storages["default"]
    orphan = media.save("avatars/999/deadbeef/original.png", ContentFile(b"x"))
    stray = media.save("avatars/not-a-user/zz/original.png", ContentFile(b"x"))
    assert tasks.media_remove_orphans() == 0  # too young: an upload may be committing
    monkeypatch.setattr(tasks, "ORPHAN_GRACE", timedelta(seconds=-1))
    assert tasks.media_remove_orphans() == 2
    assert not media.exists(orphan)
    assert not media.exists(stray)
    assert all(media.exists(name) for name in avatar.storage_names())
    assert tasks.media_remove_orphans() == 0  # idempotent


def test_filesystem_is_the_default_and_exports_are_outside_media():
    config = storages_from_env({}, **PATHS)
    assert config["default"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": "/m", "base_url": "/media/"},
    }
    assert config["exports"]["OPTIONS"]["location"] == "/x"
    assert config["exports"]["OPTIONS"]["base_url"] is None


def test_s3_configuration_mapping():
    env = {
        "MEDIA_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": "conduit",
        "AWS_S3_ENDPOINT_URL": "http://minio:9000",
        "AWS_S3_REGION_NAME": "eu-west-1",
        "AWS_S3_CUSTOM_DOMAIN": "cdn.example.com",
    }
    config = storages_from_env(env, **PATHS)
    media, exports = config["default"], config["exports"]
    assert media["BACKEND"] == exports["BACKEND"] == "storages.backends.s3.S3Storage"
    assert media["OPTIONS"] == {
        "bucket_name": "conduit",
        "endpoint_url": "http://minio:9000",
        "region_name": "eu-west-1",
        "file_overwrite": False,
        "location": "media",
        "querystring_auth": False,
        "custom_domain": "cdn.example.com",
    }
    assert exports["OPTIONS"]["location"] == "exports"
    assert exports["OPTIONS"]["default_acl"] == "private"
    assert "querystring_auth" not in exports["OPTIONS"]  # signed S3 URLs if ever used
    # The mapping builds real backends (no request is made until a file is touched).
    from storages.backends.s3 import S3Storage

    backend = S3Storage(**media["OPTIONS"])
    assert backend.url("avatars/1/t/original.png") == (
        "https://cdn.example.com/media/avatars/1/t/original.png"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEDIA_STORAGE": "s3"}, "MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME"),
        ({"MEDIA_STORAGE": "ftp"}, "MEDIA_STORAGE must be filesystem or s3, not 'ftp'"),
    ],
)
def test_bad_storage_configuration_fails_fast(env, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(")):
        storages_from_env(env, **PATHS)


def test_media_view_serves_avatars_only(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "avatars" / "1" / "abc").mkdir(parents=True)
    (tmp_path / "avatars" / "1" / "abc" / "256.jpeg").write_bytes(picture("JPEG"))
    (tmp_path / "secret.txt").write_text("no")
    response = client.get("/media/avatars/1/abc/256.jpeg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "immutable" in response["Cache-Control"]
    assert client.get("/media/secret.txt").status_code == 404
    assert client.get("/media/avatars/../secret.txt").status_code == 400  # suspicious path
    assert client.get("/media/avatars/1/abc/missing.jpeg").status_code == 404
