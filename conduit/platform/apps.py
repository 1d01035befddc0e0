from django.apps import AppConfig
from django.core import checks


class PlatformConfig(AppConfig):
    """Shared plumbing; an app for its one model (dead-lettered tasks), its tasks and the
    production secrets and rate limits checks."""

    name = "conduit.platform"
    label = "platform"

    def ready(self) -> None:
        from conduit.platform.ratelimit import check_rates
        from conduit.platform.secrets_policy import check_production_secrets

        checks.register(check_production_secrets, checks.Tags.security)
        checks.register(check_rates, checks.Tags.security)
