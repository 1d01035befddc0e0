from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "conduit.api"
    label = "api"

    def ready(self) -> None:
        # The API's renderings must be known to every process that writes (workers included),
        # so that burying a card or profile buries them too (conduit/api/rendered.py).
        from conduit.api import rendered  # noqa: F401
