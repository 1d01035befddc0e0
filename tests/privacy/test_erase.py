import io

import pytest
from django.contrib.sessions.models import Session
from django.core.files.storage import storages

from conduit.articles.counters import find_drift
from conduit.articles.favorites import favorite_add
from conduit.articles.models import Article, SiteCounter, Tag
from conduit.comments.models import Comment
from conduit.comments.services import comment_create
from conduit.media.models import Avatar
from conduit.media.services import avatar_upload
from conduit.privacy.models import ExportRequest
from conduit.privacy.services import export_request
from conduit.profiles.services import follow_add
from conduit.users.models import User
from tests.factories import UserFactory, make_article
from tests.media.pictures import picture

PASSWORD = "password123"  # UserFactory's


@pytest.fixture
def world(user, django_capture_on_commit_callbacks):
    """``user`` with everything erasure must undo, among two other people's data."""
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    mine = [make_article(user, title=f"Mine {i}", tags=["shared", "only-mine"]) for i in range(2)]
    ann_article = make_article(ann, title="Ann's", tags=["shared"])
    for article in mine:
        favorite_add(user=ann, slug=article.slug)
        comment_create(author=bob, slug=article.slug, body="bob on user's")
    favorite_add(user=user, slug=ann_article.slug)
    favorite_add(user=bob, slug=ann_article.slug)
    comment_create(author=user, slug=ann_article.slug, body="user on ann's")
    follow_add(follower=user, followee=ann)
    follow_add(follower=bob, followee=user)
    data = picture()
    with django_capture_on_commit_callbacks(execute=True):
        avatar_upload(user=user, data=io.BytesIO(data), size=len(data))
        export_request(user=user)
    return {"ann": ann, "bob": bob, "ann_article": ann_article}


def test_erasure_through_the_api(
    auth_api, user, world, client_for, django_capture_on_commit_callbacks
):
    avatar_files = Avatar.objects.get(user=user).storage_names()
    export_file = ExportRequest.objects.get(user=user).file_name
    assert export_file
    assert all(storages["default"].exists(n) for n in avatar_files)
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api.delete("/api/user", {"user": {"password": PASSWORD}}, format="json")
    assert response.status_code == 204

    assert not User.objects.filter(pk=user.pk).exists()
    assert find_drift() == []  # what `manage.py check_counters` checks
    ann = User.objects.get(pk=world["ann"].pk)
    bob = User.objects.get(pk=world["bob"].pk)
    assert (ann.favorites_count, ann.followers_count, ann.articles_count) == (0, 0, 1)
    assert bob.following_count == 0
    assert Article.objects.get(pk=world["ann_article"].pk).favorites_count == 1  # bob's
    assert SiteCounter.objects.get(name=SiteCounter.ARTICLES).value == 1
    assert Tag.objects.get(name="shared").articles_count == 1
    assert Tag.objects.get(name="only-mine").articles_count == 0
    assert not Comment.objects.filter(body__in=["user on ann's", "bob on user's"]).exists()
    assert not any(storages["default"].exists(n) for n in avatar_files)
    assert not storages["exports"].exists(export_file)
    # The old token now fails: the account is gone.
    response = auth_api.get("/api/user")
    assert response.status_code == 401
    assert response.json()["errors"]["token"] == ["is invalid"]


def test_check_counters_command_reports_no_drift(auth_api, user, world):
    from django.core.management import call_command

    auth_api.delete("/api/user", {"user": {"password": PASSWORD}}, format="json")
    call_command("check_counters")  # exits 1 (SystemExit) on drift


@pytest.mark.parametrize(
    "body",
    [{"user": {"password": "wrong-password"}}, {"user": {}}, {"user": {"password": None}}],
    ids=["wrong", "missing", "null"],
)
def test_erasure_needs_the_current_password(auth_api, user, body):
    response = auth_api.delete("/api/user", body, format="json")
    assert response.status_code == 422
    assert response.json()["errors"]["password"] == ["is not your current password"]
    assert User.objects.filter(pk=user.pk).exists()


def test_anonymous_erasure_is_401(api):
    assert api.delete("/api/user", {"user": {"password": "x"}}, format="json").status_code == 401


def test_sessions_of_the_erased_user_stop_working(client, user):
    client.force_login(user)
    other = type(client)()
    other.force_login(user)  # a second browser
    assert Session.objects.count() == 2
    response = client.post("/settings/erase", {"current_password": PASSWORD})
    assert response.status_code == 302
    assert other.get("/settings").status_code == 302  # sent to sign in: no user any more
    assert not User.objects.filter(pk=user.pk).exists()
