from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "conduit.web"
    label = "web"
