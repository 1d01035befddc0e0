"""The cookie storage Hurl and newman keep during a run: each response's ``Set-Cookie`` is kept
(until its ``Max-Age`` runs out) and sent back with the next requests to the same server. The
replays of their suites keep one too, so that they meet the app as those tools do (ADR 0028: a
writer's ``conduit_fresh`` cookie makes its next reads skip the shared caches)."""

import time
from http.client import HTTPResponse
from http.cookies import SimpleCookie


class CookieJar:
    def __init__(self) -> None:
        self._cookies: dict[str, tuple[str, float]] = {}  # name: (value, expires at)

    def header(self) -> str | None:
        now = time.monotonic()
        live = {name: value for name, (value, until) in self._cookies.items() if until > now}
        return "; ".join(f"{name}={value}" for name, value in live.items()) or None

    def keep(self, response: HTTPResponse) -> None:
        for line in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(line).items():
                max_age = morsel["max-age"]
                until = time.monotonic() + int(max_age) if max_age else float("inf")
                self._cookies[name] = (morsel.value, until)
