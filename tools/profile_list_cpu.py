"""CPU per request of one API path in process, through Django's WSGI handler (no server, no
load): the figures of docs/performance.md's "Cache and replicas" profile.

    DATABASE_URL=postgres://... SECRET_KEY=... PYTHONPATH=. \\
        .venv/bin/python tools/profile_list_cpu.py --cache off --signed-in
    ... --cache on --signed-in [--path /api/tags] [--profile cumulative]
    ... --cache on --signed-in --user user6 --path /api/articles/feed  (a timeline built first:
        manage.py rebuild_timelines --user user6)

With ``--profile``, ``PROFILE_DUMP=<file>`` also writes the raw cProfile data there (for
``pstats`` callers/callees).

The database should be seeded (``manage.py seed_bulk --users 200 --articles 2000``). ``--cache
off`` sets ``CACHE_ARTICLES=false`` (every list from the database); ``on`` warms the cache with
50 requests before measuring. The anonymous micro-cache is off unless ``--micro-cache``.
"""

import argparse
import cProfile
import io
import os
import pstats
import time
from collections.abc import Iterable
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", choices=["on", "off"], required=True)
    parser.add_argument("--signed-in", action="store_true")
    parser.add_argument("--user", help="sign in as this username (default: the first user)")
    parser.add_argument("--path", default="/api/articles")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--micro-cache", action="store_true")
    parser.add_argument("--profile", metavar="SORT", help="print a cProfile sorted by SORT")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    from conduit.api.authentication import token_for
    from conduit.platform.cache.safe import cache
    from conduit.platform.http.micro_cache import micro_cache
    from conduit.users.models import User

    settings.CACHE_ARTICLES = args.cache == "on"
    if not args.micro_cache:
        settings.CACHE_ANONYMOUS_SECONDS = 0
    path, _, query = args.path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
    }
    if args.signed_in:
        users = User.objects.filter(is_active=True).order_by("pk")
        user = users.filter(username=args.user).first() if args.user else users.first()
        assert user is not None, "seed the database first (or no such --user)"  # noqa: S101
        environ["HTTP_AUTHORIZATION"] = f"Token {token_for(user)}"
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return None

    def call() -> None:
        body: Iterable[bytes] = app({**environ, "wsgi.input": io.BytesIO(b"")}, start_response)
        b"".join(body)

    cache.clear()
    micro_cache.clear()
    for _ in range(50):
        call()
    if not statuses[-1].startswith("200"):
        raise SystemExit(f"{args.path}: {statuses[-1]}")
    profile = cProfile.Profile() if args.profile else None
    started = time.process_time()
    if profile:
        profile.enable()
    for _ in range(args.requests):
        call()
    if profile:
        profile.disable()
    per_request = (time.process_time() - started) / args.requests * 1000
    who = "signed in" if args.signed_in else "anonymous"
    print(f"{args.path} cache {args.cache}, {who}: {per_request:.3f} ms CPU a request")
    if profile:
        pstats.Stats(profile).sort_stats(args.profile).print_stats(40)
        if os.environ.get("PROFILE_DUMP"):
            profile.dump_stats(os.environ["PROFILE_DUMP"])


if __name__ == "__main__":
    main()
