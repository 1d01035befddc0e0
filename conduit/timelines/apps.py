from django.apps import AppConfig


class TimelinesConfig(AppConfig):
    name = "conduit.timelines"
    label = "timelines"
