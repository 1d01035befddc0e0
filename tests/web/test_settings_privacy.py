"""The settings page's picture upload, data export and account deletion."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

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
        (png_bomb(10_000), "picture has too many pixels (10000x10000; at most 25000000)"),
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
