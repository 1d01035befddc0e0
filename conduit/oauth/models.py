"""The user's token version when each OAuth token was issued (ADR 0031).

django-oauth-toolkit's tokens know nothing of ``User.token_version`` (ADR 0004): signing out
everywhere or a new password bumps it, and every JWT issued before stops working. An OAuth token
stops the same way: its version is kept here, beside django-oauth-toolkit's row, and the API's
authentication and the refresh grant refuse a token whose version is not the user's. A token with
no version row (made outside Conduit's validator) is refused too.
"""

from django.db import models


class AccessTokenVersion(models.Model):
    access_token = models.OneToOneField(
        "oauth2_provider.AccessToken",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="conduit_version",
    )
    version = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"access token {self.pk} at version {self.version}"


class RefreshTokenVersion(models.Model):
    refresh_token = models.OneToOneField(
        "oauth2_provider.RefreshToken",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="conduit_version",
    )
    version = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"refresh token {self.pk} at version {self.version}"
