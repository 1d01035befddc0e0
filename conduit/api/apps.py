from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "conduit.api"
    label = "api"
