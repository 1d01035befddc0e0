"""Pictures and export zips on S3, as the Kubernetes production overlay configures them, against
a real S3-compatible HTTP server: moto's server (PyPI ``moto[server]``, a dev dependency) in its
own process on a free loopback port. Debian ships no S3 server (no MinIO, and radosgw needs a
Ceph cluster); moto answers the S3 REST API over HTTP and enforces bucket policies and ACLs for
anonymous reads, which is what these tests look at (ADR 0038).

The app's settings are the ones the rendered overlay gives (its ConfigMap and the keys of
deploy/k8s/secret.example.yaml), with the endpoint and credentials pointed at the test server.
"""

import functools
import io
import json
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml
from django.core.files.storage import storages

from conduit.media.models import Avatar
from conduit.media.services import avatar_upload
from conduit.platform.storages import storages_from_env
from tests.media.pictures import picture
from tests.services import ServerProcess, free_port, port_answers
from tests.test_deploy_files import K8S, render

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "conduit-media"  # the name deploy/s3/bucket-policy.json and secret.example.yaml use
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "conduit-test", "AWS_SECRET_ACCESS_KEY": "conduit-test-key"}


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    server = ServerProcess(
        name="moto-s3",
        argv=[str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        port=port,
        workdir=tmp_path_factory.mktemp("moto-s3"),
        ready=lambda: port_answers(port),
    )
    server.start()
    yield server
    server.stop()


@functools.cache
def overlay_environment() -> dict[str, str]:
    """What the production pods' environment holds for storage: the rendered ConfigMap, and the
    Secret's keys as deploy/k8s/secret.example.yaml lists them."""
    docs = render(K8S / "overlays" / "production")
    configmap = next(d for d in docs if d["kind"] == "ConfigMap")
    secret = yaml.safe_load((K8S / "secret.example.yaml").read_text())["stringData"]
    return {**configmap["data"], **{k: str(v) for k, v in secret.items()}}


@pytest.fixture
def s3(s3_server, settings, monkeypatch, tmp_path):
    """A fresh bucket with the shipped policy, and STORAGES built from the overlay's settings."""
    endpoint = f"http://127.0.0.1:{s3_server.port}"
    env = {**overlay_environment(), **CREDENTIALS, "AWS_S3_ENDPOINT_URL": endpoint}
    assert env["MEDIA_STORAGE"] == "s3"
    assert env["AWS_STORAGE_BUCKET_NAME"] == BUCKET
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_S3_REGION_NAME"):
        monkeypatch.setenv(name, env[name])  # boto3 reads the credentials itself
    client = boto3.client("s3", endpoint_url=endpoint, region_name=env["AWS_S3_REGION_NAME"])
    client.create_bucket(
        Bucket=BUCKET,
        CreateBucketConfiguration={"LocationConstraint": env["AWS_S3_REGION_NAME"]},
    )
    policy = (ROOT / "deploy" / "s3" / "bucket-policy.json").read_text()
    client.put_bucket_policy(Bucket=BUCKET, Policy=policy)
    settings.STORAGES = storages_from_env(
        env, media_root=tmp_path / "m", media_url="/media/", exports_root=tmp_path / "x"
    )
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def anonymous_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def keys(client) -> set[str]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {item["Key"] for item in listed}


def test_an_avatar_and_its_thumbnails_are_stored_on_s3_and_public_by_url(
    s3, user, django_capture_on_commit_callbacks
):
    data = picture("PNG")
    with django_capture_on_commit_callbacks(execute=True):  # the thumbnail task runs too
        avatar_upload(user=user, data=io.BytesIO(data), size=len(data))
    avatar = Avatar.objects.get(user=user)
    assert set(avatar.thumbnails) == {"64.webp", "64.jpeg", "256.webp", "256.jpeg"}
    stored = keys(s3)
    assert {f"media/{name}" for name in avatar.storage_names()} == stored

    user.refresh_from_db()
    # The URL the API shows: the bucket's own (no custom domain set), plain, unsigned.
    assert user.image.startswith(f"{s3.meta.endpoint_url}/{BUCKET}/media/avatars/{user.pk}/")
    assert "Signature" not in user.image
    status, body = anonymous_get(user.image)
    assert status == 200
    assert body[:3] == b"\xff\xd8\xff"  # the 256 px JPEG thumbnail
    status, body = anonymous_get(storages["default"].url(avatar.original))
    assert (status, body[:8]) == (200, b"\x89PNG\r\n\x1a\n")


def test_an_export_zip_is_stored_on_s3_privately_and_served_by_the_signed_link(
    s3, api, auth_api, user, django_capture_on_commit_callbacks
):
    data = picture("PNG")
    with django_capture_on_commit_callbacks(execute=True):
        avatar_upload(user=user, data=io.BytesIO(data), size=len(data))
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_api.post("/api/user/export").status_code == 202
    status = auth_api.get("/api/user/export").json()["export"]
    assert status["status"] == "ready"
    zips = {key for key in keys(s3) if key.startswith("exports/")}
    assert len(zips) == 1
    (key,) = zips
    assert key.startswith(f"exports/{user.pk}/conduit-export-")
    assert key.endswith(".zip")

    # Not readable by its bucket URL: the policy opens media/ only, and the object is private.
    exports = storages["exports"]
    direct = exports.url(key.removeprefix("exports/"), parameters=None)
    unsigned = direct.split("?", 1)[0]
    assert anonymous_get(unsigned)[0] == 403
    grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert all("URI" not in grant["Grantee"] for grant in grants), grants  # no AllUsers grant

    download = api.get(status["downloadUrl"])  # the app's signed link reads it from S3
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    profile = json.loads(archive.read("profile.json"))
    assert profile["username"] == user.username
    assert any(name.startswith("avatar/original.") for name in archive.namelist())


def test_the_pictures_policy_opens_nothing_but_media(s3):
    s3.put_object(Bucket=BUCKET, Key="elsewhere/secret.txt", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="media/visible.txt", Body=b"y")
    base = f"{s3.meta.endpoint_url}/{BUCKET}"
    assert anonymous_get(f"{base}/elsewhere/secret.txt")[0] == 403
    assert anonymous_get(f"{base}/media/visible.txt") == (200, b"y")
