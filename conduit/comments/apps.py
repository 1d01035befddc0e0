from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "conduit.comments"
    label = "comments"
