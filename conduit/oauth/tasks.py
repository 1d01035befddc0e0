"""The OAuth tokens' retention (celery beat, ``CELERY_BEAT_SCHEDULE``; docs/retention.md)."""

import structlog
from celery import shared_task
from oauth2_provider.models import clear_expired

from conduit.platform.tasks.enqueue import TRANSIENT_ERRORS

logger = structlog.get_logger("conduit.oauth")


@shared_task(
    name="conduit.oauth.tokens_remove_expired",
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
)
def tokens_remove_expired() -> None:
    """Nightly: the toolkit's ``cleartokens``. Expired authorization codes and access tokens
    without a live refresh token go; refresh tokens (rotated ones too, kept to detect reuse)
    once ``OAUTH_REFRESH_TOKEN_SECONDS`` has passed. Deletes in the toolkit's batches."""
    clear_expired()
    logger.info("expired oauth tokens removed")
