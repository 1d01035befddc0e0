"""The settings page's picture upload, data export and account deletion."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.test import Client

from conduit.media import services as media_services
from conduit.media.models import Avatar
from conduit.privacy.models import ExportRequest
from conduit.users.models import User
from tests.media.pictures import picture, png_bomb
from tests.web.helpers import PASSWORD, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_settings_page_has_the_three_forms(signed_in):
    doc = page(signed_in.get("/settings"))
    assert doc.has("form[action=/settings/avatar] input[type=file][name=avatar]")
    assert doc.has("form[action=/settings/export] button")
    assert doc.has("form[action=/settings/erase] input[type=password][name=current_password]")
    assert "You have not asked for a copy of your data yet." in doc.one(".export-status").text


def test_upload_a_picture(signed_in, user, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("me.png", picture("PNG"), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post("/settings/avatar", {"avatar": upload})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.image == f"/media/{Avatar.objects.get(user=user).thumbnails['256.jpeg']}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just text", "picture must be a JPEG, PNG, WebP or GIF image"),
        (png_bomb(10_000), "picture has too many pixels (10000x10000; at most 16000000)"),
    ],
    ids=["not-an-image", "bomb"],
)
def test_bad_picture_shows_a_form_error(signed_in, user, data, message):
    upload = SimpleUploadedFile("me.png", data, content_type="image/png")
    doc = page(signed_in.post("/settings/avatar", {"avatar": upload}), 422)
    assert [li.text for li in doc.select(".error-messages li")] == [message]
    assert not Avatar.objects.filter(user=user).exists()


def test_no_file_shows_a_form_error(signed_in):
    doc = page(signed_in.post("/settings/avatar", {}), 422)
    assert [li.text for li in doc.select(".error-messages li")] == ["picture can't be blank"]


def test_export_my_data(signed_in, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post("/settings/export")
    assert response.status_code == 302
    doc = page(signed_in.get("/settings"))
    link = doc.one(".export-status a.export-download").attrs["href"]
    assert link.startswith("/api/user/export/download/")
    download = type(signed_in)().get(link)  # another browser, not signed in
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert ExportRequest.objects.get(user=user).status == "ready"


def test_pending_export_status_is_shown(signed_in, user):
    ExportRequest.objects.create(user=user)
    doc = page(signed_in.get("/settings"))
    assert "Your export is being prepared (pending)." in doc.one(".export-status").text


def test_delete_account_with_a_wrong_password(signed_in, user):
    doc = page(signed_in.post("/settings/erase", {"current_password": "not-it"}), 422)
    assert [li.text for li in doc.select(".error-messages li")] == [
        "password is not your current password"
    ]
    assert User.objects.filter(pk=user.pk).exists()


def test_delete_account(signed_in, user):
    response = signed_in.post("/settings/erase", {"current_password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not User.objects.filter(pk=user.pk).exists()
    assert signed_in.get("/settings").status_code == 302  # signed out


@pytest.fixture
def body_never_read(monkeypatch):
    """Parsing the body (request.POST/FILES, the CSRF check included) fails the test."""

    def refuse(request):
        raise AssertionError("the request body was read")

    monkeypatch.setattr(HttpRequest, "_load_post_and_files", refuse)


@pytest.fixture
def nothing_stored(monkeypatch):
    def refuse(**kwargs):
        raise AssertionError("avatar_upload was called")

    monkeypatch.setattr(media_services, "avatar_upload", refuse)


def test_an_oversized_picture_is_refused_before_the_body_is_read(
    signed_in, user, settings, body_never_read, nothing_stored
):
    settings.AVATAR_MAX_BYTES = 1000
    data = picture("PNG") + b"\0" * (100 * 1024)  # over the limit and its 64 KiB envelope
    upload = SimpleUploadedFile("me.png", data, content_type="image/png")
    doc = page(signed_in.post("/settings/avatar", {"avatar": upload}), 413)
    assert [li.text for li in doc.select(".error-messages li")] == [
        "picture is larger than 1000 bytes"
    ]
    assert not Avatar.objects.filter(user=user).exists()


def test_a_file_over_the_limit_inside_the_envelope_is_still_refused(signed_in, user, settings):
    data = picture("PNG", (800, 800))
    settings.AVATAR_MAX_BYTES = len(data) - 1
    upload = SimpleUploadedFile("me.png", data, content_type="image/png")
    doc = page(signed_in.post("/settings/avatar", {"avatar": upload}), 422)
    assert [li.text for li in doc.select(".error-messages li")] == [
        f"picture is larger than {len(data) - 1} bytes"
    ]
    assert not Avatar.objects.filter(user=user).exists()


def test_the_picture_upload_still_checks_csrf(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    upload = SimpleUploadedFile("me.png", picture("PNG"), content_type="image/png")
    response = client.post("/settings/avatar", {"avatar": upload})
    assert response.status_code == 403
    assert not Avatar.objects.filter(user=user).exists()


def test_a_picture_past_the_request_cap_is_still_a_form_error(signed_in, settings, body_never_read):
    settings.AVATAR_MAX_BYTES = 1000
    settings.REQUEST_MAX_BYTES = 2000
    response = signed_in.generic(
        "POST",
        "/settings/avatar",
        b"x" * 100,  # what is sent does not matter: the declared length is refused
        content_type="multipart/form-data; boundary=BoUnDaRy",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    doc = page(response, 413)
    assert [li.text for li in doc.select(".error-messages li")] == [
        "picture is larger than 1000 bytes"
    ]
