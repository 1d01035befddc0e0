from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "conduit.demo"
    label = "demo"
