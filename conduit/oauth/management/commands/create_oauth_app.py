"""``manage.py create_oauth_app NAME --redirect-uri URI [--redirect-uri URI ...] [--public]``:
register an OAuth application and print one JSON object: ``client_id``, ``client_type``,
``redirect_uris``, and ``client_secret`` for a confidential app (shown this once: only its hash is
stored)."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conduit.oauth import services
from conduit.platform.exceptions import InvalidInput


class Command(BaseCommand):
    help = "Register an OAuth application (authorization code + PKCE); prints its credentials."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")
        parser.add_argument(
            "--public", action="store_true", help="a public client (no secret): a SPA or app"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            application, secret = services.application_create(
                name=options["name"],
                redirect_uris=options["redirect_uris"],
                public=options["public"],
            )
        except InvalidInput as invalid:
            problems = "; ".join(
                f"{field} {message}"
                for field, messages in invalid.errors.items()
                for message in messages
            )
            raise CommandError(problems) from None
        out: dict[str, Any] = {
            "client_id": application.client_id,
            "client_type": application.client_type,
            "name": application.name,
            "redirect_uris": application.redirect_uris.split(),
        }
        if secret is not None:
            out["client_secret"] = secret
        self.stdout.write(json.dumps(out))
