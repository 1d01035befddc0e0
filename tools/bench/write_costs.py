"""What each write costs, request by request, in process (issue 22's breakdown; not a test:
timings vary by machine). Through Django's WSGI handler and the whole middleware stack, with
the configured database, cache and broker:

    DATABASE_URL=postgres://... CACHE_URL=redis://127.0.0.1:6391/0 \\
    CELERY_BROKER_URL=redis://127.0.0.1:6391/1 SECRET_KEY=... DEBUG=false \\
        PYTHONPATH=. .venv/bin/python tools/bench/write_costs.py [--requests 200] [--json FILE]

The database should be seeded (``manage.py seed_bulk --users 200 --articles 2000``). For each
write it prints the CPU per request, the SQL statements (and how many lock rows: INSERT, UPDATE,
DELETE, SELECT ... FOR UPDATE), the cache calls (each one round trip on Redis) and the tasks
published to the broker. Rate limits are off (``RATE_LIMITS_ENABLED=false``): one user writes
hundreds of times a second here. The writes it makes are undone at the end where they can be
(favorites, follows); the articles, comments and users it creates stay.
"""

import argparse
import io
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

CACHE_CALLS = ("get_many", "set_many", "set_groups", "add_many", "delete_many", "get", "set",
               "add", "incr", "count", "delete")  # fmt: skip


@dataclass
class Cost:
    write: str
    requests: int
    cpu_ms: float
    statements: float
    locking_statements: float
    cache_calls: float
    tasks: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--json", metavar="FILE", help="also write the table as JSON")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["RATE_LIMITS_ENABLED"] = "false"
    import django

    django.setup()
    from celery.signals import before_task_publish
    from django.core.cache import caches
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from conduit.api.authentication import token_for
    from conduit.articles.models import Article, Favorite
    from conduit.profiles.models import Follow
    from conduit.users.models import User

    app = WSGIHandler()
    users = list(User.objects.filter(is_active=True).order_by("pk")[:3])
    if len(users) < 3:
        raise SystemExit("seed the database first (manage.py seed_bulk)")
    actor, other, _ = users
    tokens = {u.pk: token_for(u) for u in users}

    counts = {"sql": 0, "lock": 0, "cache": 0, "tasks": 0}

    backend: Any = caches["default"]
    for name in CACHE_CALLS:
        real = getattr(backend, name, None)
        if real is not None:

            def spy(*a: Any, _real: Any = real, **k: Any) -> Any:
                counts["cache"] += 1
                return _real(*a, **k)

            setattr(backend, name, spy)

    def on_publish(**kwargs: Any) -> None:
        counts["tasks"] += 1

    before_task_publish.connect(on_publish, weak=False)

    def call(method: str, path: str, body: Any = None, user: Any = None) -> tuple[int, bytes]:
        raw = json.dumps(body).encode() if body is not None else b""
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(raw)),
            "wsgi.input": io.BytesIO(raw),
        }  # fmt: skip
        if user is not None:
            environ["HTTP_AUTHORIZATION"] = f"Token {tokens[user.pk]}"
        status: list[str] = []

        def start_response(line: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(line)

        content = b"".join(app(environ, start_response))
        return int(status[0].split()[0]), content

    slugs = list(
        Article.objects.exclude(author=actor)
        .exclude(pk__in=Favorite.objects.filter(user=actor).values("article_id"))
        .order_by("-pk")
        .values_list("slug", flat=True)[: args.requests]
    )
    followees = list(
        User.objects.exclude(pk=actor.pk)
        .exclude(pk__in=Follow.objects.filter(follower=actor).values("followee_id"))
        .order_by("pk")
        .values_list("username", flat=True)[: args.requests]
    )
    run = secrets.token_hex(3)
    created: list[str] = []

    def register(i: int) -> tuple[int, bytes]:
        name = f"wc{run}{i}"
        user = {"username": name, "email": f"{name}@example.com", "password": "write-cost-pass"}
        return call("POST", "/api/users", {"user": user})

    def update_user(i: int) -> tuple[int, bytes]:
        return call("PUT", "/api/user", {"user": {"bio": f"{i}"}}, actor)

    def publish(i: int) -> tuple[int, bytes]:
        article = {
            "title": f"Write cost {run} {i}",
            "description": "d",
            "body": "b",
            "tagList": ["writecost", f"tag{i % 7}"],
        }
        status, content = call("POST", "/api/articles", {"article": article}, actor)
        created.append(json.loads(content)["article"]["slug"])
        return status, content

    def edit(i: int) -> tuple[int, bytes]:
        return call("PUT", f"/api/articles/{created[i]}", {"article": {"body": f"{i}"}}, actor)

    def comment(i: int) -> tuple[int, bytes]:
        body = {"comment": {"body": "c"}}
        return call("POST", f"/api/articles/{slugs[i]}/comments", body, other)

    def profile(i: int) -> str:
        return f"/api/profiles/{followees[i]}/follow"

    def favorite(i: int) -> str:
        return f"/api/articles/{slugs[i]}/favorite"

    writes: list[tuple[str, Callable[[int], tuple[int, bytes]], int]] = [
        ("register", register, 201),
        ("update user (bio)", update_user, 200),
        ("follow", lambda i: call("POST", profile(i), None, actor), 200),
        ("unfollow", lambda i: call("DELETE", profile(i), None, actor), 200),
        ("favorite", lambda i: call("POST", favorite(i), None, actor), 200),
        ("unfavorite", lambda i: call("DELETE", favorite(i), None, actor), 200),
        ("publish", publish, 201),
        ("edit (body)", edit, 200),
        ("comment", comment, 201),
        ("delete", lambda i: call("DELETE", f"/api/articles/{created[i]}", None, actor), 204),
    ]
    n = min(args.requests, len(slugs), len(followees))
    rows = [
        measure(name, write, expected, n, counts, connection) for name, write, expected in writes
    ]
    print(table(rows))
    if args.json:
        with open(args.json, "w") as out:
            json.dump([asdict(r) for r in rows], out, indent=2)


def measure(
    name: str,
    write: Callable[[int], tuple[int, bytes]],
    expected: int,
    n: int,
    counts: dict[str, int],
    connection: Any,
) -> Cost:
    import importlib.util

    # An older tree (PYTHONPATH=var/bench-before/<sha>) has no sender thread.
    sender: Any = None
    if importlib.util.find_spec("conduit.platform.tasks.sender") is not None:
        from conduit.platform.tasks import sender

    for key in counts:
        counts[key] = 0
    started = time.process_time()
    with connection.execute_wrapper(_wrapper(counts)):
        for i in range(n):
            status, content = write(i)
            if status != expected:
                raise SystemExit(f"{name}: {status} {content[:200]!r}")
        if sender is not None:
            sender.flush()  # the tasks published after the responses, and their CPU, count too
    cpu = (time.process_time() - started) / n * 1000
    return Cost(name, n, round(cpu, 3), counts["sql"] / n, counts["lock"] / n,
                counts["cache"] / n, counts["tasks"] / n)  # fmt: skip


def _wrapper(counts: dict[str, int]) -> Callable[..., Any]:
    def on_sql(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        counts["sql"] += 1
        text = sql.lstrip().upper()
        writes = ("INSERT ", "UPDATE ", "DELETE ")
        if text.startswith("WITH"):  # a data-modifying WITH: one statement, one round trip
            counts["lock"] += any(verb in text for verb in writes)
        elif text.startswith(writes) or "FOR UPDATE" in text or "FOR NO KEY UPDATE" in text:
            counts["lock"] += 1
        return execute(sql, params, many, context)

    return on_sql


def table(rows: Iterable[Cost]) -> str:
    lines = [
        "| write | CPU ms/request | SQL statements | of them locking | cache round trips | tasks |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.write} | {r.cpu_ms:.2f} | {r.statements:.1f} | {r.locking_statements:.1f} | "
        f"{r.cache_calls:.1f} | {r.tasks:.1f} |"
        for r in rows
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
