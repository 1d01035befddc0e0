from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "conduit.privacy"
    label = "privacy"
