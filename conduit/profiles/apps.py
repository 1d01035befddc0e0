from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "conduit.profiles"
    label = "profiles"
