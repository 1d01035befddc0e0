"""Expired OAuth tokens and codes are deleted nightly (docs/retention.md)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from conduit.oauth.tasks import tokens_remove_expired
from tests.factories import UserFactory
from tests.oauth import helpers

pytestmark = pytest.mark.django_db
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
Grant = get_grant_model()


def test_tokens_past_their_lifetime_go_and_live_ones_stay(settings):
    app = helpers.register()
    old, live = UserFactory(), UserFactory()
    helpers.tokens_for(old, app)
    helpers.tokens_for(live, app)
    lifetime = settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"]
    # The old grant's access token expired longer ago than a refresh token may live.
    AccessToken.objects.filter(user=old).update(
        expires=timezone.now() - timedelta(seconds=lifetime + 60)
    )
    unused_code = Grant.objects.create(
        user=live,
        application=app.application,
        code="never-exchanged",
        expires=timezone.now() - timedelta(minutes=5),
        redirect_uri=helpers.REDIRECT_URI,
        scope="read",
    )

    tokens_remove_expired()

    assert not AccessToken.objects.filter(user=old).exists()
    assert not RefreshToken.objects.filter(user=old).exists()
    assert AccessToken.objects.filter(user=live).count() == 1
    assert RefreshToken.objects.filter(user=live).count() == 1
    assert not Grant.objects.filter(pk=unused_code.pk).exists()


def test_the_nightly_task_is_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "conduit.oauth.tokens_remove_expired" in tasks
