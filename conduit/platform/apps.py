from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """Shared plumbing; an app only for its one model (dead-lettered tasks) and its tasks."""

    name = "conduit.platform"
    label = "platform"
