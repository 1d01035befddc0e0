from django.apps import AppConfig


class OAuthConfig(AppConfig):
    name = "conduit.oauth"
    label = "conduit_oauth"  # "oauth" alone reads like django-oauth-toolkit's own app
