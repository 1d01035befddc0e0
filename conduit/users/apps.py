from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "conduit.users"
    label = "users"
