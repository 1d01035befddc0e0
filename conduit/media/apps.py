from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "conduit.media"
    label = "media"
