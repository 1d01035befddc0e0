from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class UsersConfig(AppConfig):
    name = "conduit.users"
    label = "users"

    def ready(self) -> None:
        # Cache invalidation of the signed-in user (conduit/users/cached.py), on every change.
        from conduit.users.cached import user_changed
        from conduit.users.models import User

        post_save.connect(user_changed, sender=User, dispatch_uid="users.cached.save")
        post_delete.connect(user_changed, sender=User, dispatch_uid="users.cached.delete")
