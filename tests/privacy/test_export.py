import io
import json
import time
import zipfile
from datetime import timedelta

import pytest
from django.core import signing
from django.core.files.storage import storages
from django.utils import timezone

from conduit.media.services import avatar_upload
from conduit.privacy import tasks
from conduit.privacy.models import ExportRequest
from tests.factories import UserFactory, make_article
from tests.media.pictures import picture

URL = "/api/user/export"


@pytest.fixture
def ready(auth_api, user, django_capture_on_commit_callbacks):
    """The user's export, built (tasks run inline on commit), and its download URL."""
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api.post(URL)
    assert response.status_code == 202
    status = auth_api.get(URL).json()["export"]
    assert status["status"] == "ready"
    return status["downloadUrl"]


def test_export_contains_everything(
    api, auth_api, user, client_for, django_capture_on_commit_callbacks
):
    from conduit.articles.favorites import favorite_add
    from conduit.comments.services import comment_create
    from conduit.profiles.services import follow_add

    other = UserFactory(username="other")
    mine = make_article(user, title="Mine", tags=["x"])
    theirs = make_article(other, title="Theirs")
    favorite_add(user=user, slug=theirs.slug)
    comment_create(author=user, slug=theirs.slug, body="Nice one")
    follow_add(follower=user, followee=other)
    follow_add(follower=other, followee=user)
    data = picture("PNG")
    with django_capture_on_commit_callbacks(execute=True):
        avatar_upload(user=user, data=io.BytesIO(data), size=len(data))
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api.post(URL)
    assert response.status_code == 202
    body = auth_api.get(URL).json()["export"]
    assert body["status"] == "ready"
    assert body["downloadUrl"].startswith("http://testserver/api/user/export/download/")

    download = api.get(body["downloadUrl"])  # no Authorization header: the link is enough
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert download["Cache-Control"] == "private, no-store"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = set(archive.namelist())
    assert {
        "README.txt",
        "profile.json",
        "articles.json",
        "comments.json",
        "favorites.json",
        "follows.json",
        "avatar/original.png",
        "avatar/256.jpeg",
        "avatar/64.webp",
    } <= names
    read = lambda name: json.loads(archive.read(name))  # noqa: E731
    assert read("profile.json")["email"] == user.email
    assert [a["slug"] for a in read("articles.json")] == [mine.slug]
    assert read("articles.json")[0]["tagList"] == ["x"]
    assert read("comments.json")[0]["body"] == "Nice one"
    assert read("comments.json")[0]["article"] == theirs.slug
    assert read("favorites.json") == [{"article": theirs.slug, "title": "Theirs"}]
    assert read("follows.json") == {"following": ["other"], "followers": ["other"]}


def test_status_before_any_export_is_404(auth_api):
    response = auth_api.get(URL)
    assert response.status_code == 404
    assert response.json()["errors"]["export"] == ["not found"]


def test_a_pending_export_is_not_queued_twice(auth_api, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = auth_api.post(URL)
        second = auth_api.post(URL)
    assert first.json()["export"]["status"] == second.json()["export"]["status"] == "pending"
    assert first.json()["export"]["downloadUrl"] is None
    assert ExportRequest.objects.filter(user=user).count() == 1
    assert len(callbacks) == 1


def test_build_is_idempotent(ready, user):
    export = ExportRequest.objects.get(user=user)
    tasks.export_build(export.pk)  # redelivered: leaves the ready export alone
    assert ExportRequest.objects.get(pk=export.pk).file_name == export.file_name


def test_forged_link_is_403(api, ready):
    token = ready.rstrip("/").rsplit("/", 1)[1]
    forged = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    response = api.get(ready.replace(token, forged))
    assert response.status_code == 403
    assert response.json()["errors"]["link"] == ["is not valid"]
    # A well-formed signature for another purpose (salt) is no key either.
    other = signing.dumps({"e": 1, "f": "x"}, compress=True)
    assert api.get(f"{URL}/download/{other}").status_code == 403


def test_expired_link_is_410(api, ready, settings):
    settings.EXPORT_LINK_SECONDS = -1  # any link is now older than the lifetime
    response = api.get(ready)
    assert response.status_code == 410
    assert response.json()["errors"]["link"] == ["has expired; get a new one from your settings"]


def test_a_link_lives_minutes_and_a_fresh_one_works_while_the_zip_is_kept(
    api, auth_api, ready, settings, monkeypatch
):
    """The link's lifetime (EXPORT_LINK_SECONDS) is not the zip's (EXPORT_TTL): an hour later
    the old link is refused, and the new one the API gives then works."""
    assert settings.EXPORT_LINK_SECONDS == 900
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)  # django.core.signing reads time.time()
    assert api.get(ready).status_code == 410
    fresh = auth_api.get(URL).json()["export"]["downloadUrl"]
    assert fresh != ready
    assert api.get(fresh).status_code == 200


def test_cleanup_deletes_expired_zips_and_the_link_stops_working(api, auth_api, ready, user):
    export = ExportRequest.objects.get(user=user)
    assert tasks.exports_remove_expired() == 0  # not yet
    ExportRequest.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert api.get(ready).status_code == 410  # expired even before the cleanup ran
    assert tasks.exports_remove_expired() == 1
    assert not storages["exports"].exists(export.file_name)
    assert auth_api.get(URL).json()["export"]["status"] == "expired"
    response = api.get(ready)
    assert response.status_code == 410
    assert response.json()["errors"]["link"] == ["is no longer available; request a new export"]
    assert tasks.exports_remove_expired() == 0  # idempotent


def test_stuck_exports_are_marked_failed(user):
    stuck = ExportRequest.objects.create(user=user, status=ExportRequest.Status.RUNNING)
    ExportRequest.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(days=2))
    tasks.exports_remove_expired()
    assert ExportRequest.objects.get(pk=stuck.pk).status == "failed"


def test_a_failing_build_is_marked_failed(user, monkeypatch):
    export = ExportRequest.objects.create(user=user)

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(tasks, "_write_zip", broken)
    with pytest.raises(RuntimeError):
        tasks.export_build(export.pk)
    assert ExportRequest.objects.get(pk=export.pk).status == "failed"


def test_anonymous_is_401(api):
    assert api.post(URL).status_code == 401
    assert api.get(URL).status_code == 401
