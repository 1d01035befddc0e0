from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "conduit.notifications"
    label = "notifications"
