"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

One browser for the session (pytest-playwright's ``browser``), a fresh context for each test.
Every page a test opens fails the test on a console error or an uncaught exception. ``shot(page,
name)`` saves a full-page PNG under ``$CONDUIT_SCREENSHOTS`` (default ``var/screenshots``).
"""

import os
import re

# Before anything runs: Playwright's sync API keeps an event loop in this thread, and Django
# refuses ORM calls (factories, the live server's flush) from a thread with a running loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Response,
    expect,
)

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CONDUIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000  # for one action or expectation; a page here renders in milliseconds

Shot = Callable[[Page, str], Path]
NewPage = Callable[..., Page]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium")


@pytest.hookimpl(tryfirst=True)  # before `-m "not browser"` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


# --- The browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def base_url(live_server: Any) -> str:
    """Relative URLs (``page.goto("/editor")``) go to the live server."""
    return str(live_server.url)


@pytest.fixture(scope="session", autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=TIMEOUT_MS)


# --- Live updates, as make run serves them ----------------------------------------------------


@pytest.fixture(autouse=True)
def live_events(events_server: int, live_server: Any, settings: Any) -> Iterator[None]:
    """Every page opens its event streams (ADR 0030) where make run serves them: the events
    server in a thread of this process (tests/events.py), on the live server's host name (the
    session cookie goes along: same site), allowed by CSP's connect-src and answered with CORS."""
    from conduit.platform.events import publish

    site = urlsplit(live_server.url)
    origin = f"http://{site.hostname}:{events_server}"
    settings.EVENTS_PUBLIC_URL = origin
    settings.SITE_URL = f"{site.scheme}://{site.netloc}"
    settings.SECURE_CSP = {**settings.SECURE_CSP, "connect-src": ["'self'", origin]}
    publish.broker.cache_clear()
    yield
    publish.broker.cache_clear()


# --- Pages that fail the test on a console error ------------------------------------------------


class PageErrors:
    """Console errors and uncaught exceptions of every page a test opened.

    Chromium also logs "Failed to load resource: ... status of 422" when a *page* (not a
    resource on it) answers with an error status, as the forms do on purpose when they show
    their errors: those are the pages' status codes, not broken pages, and are left out. A
    stylesheet, script or image that fails to load is still an error.
    """

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._error_documents: set[tuple[str, int]] = set()

    def watch(self, page: Page) -> Page:
        def on_response(response: Response) -> None:
            if response.request.resource_type == "document" and response.status >= 400:
                self._error_documents.add((response.url, response.status))

        def on_console(message: ConsoleMessage) -> None:
            if message.type != "error" or self._is_document_status(message):
                return
            source = message.location.get("url") or "?"
            self.errors.append(f"console error on {page.url}: {message.text} [{source}]")

        def on_page_error(error: Error) -> None:
            self.errors.append(f"uncaught error on {page.url}: {error.message}")

        page.on("response", on_response)
        page.on("console", on_console)
        page.on("pageerror", on_page_error)
        page.set_default_timeout(TIMEOUT_MS)
        return page

    def _is_document_status(self, message: ConsoleMessage) -> bool:
        status = re.fullmatch(
            r"Failed to load resource: the server responded with a status of (\d+) .*",
            message.text,
        )
        url = message.location.get("url", "")
        return status is not None and (url, int(status[1])) in self._error_documents


@pytest.fixture
def page_errors() -> Iterator[PageErrors]:
    errors = PageErrors()
    yield errors
    assert not errors.errors, "the pages logged errors:\n" + "\n".join(errors.errors)


@pytest.fixture
def page(transactional_db: None, context: BrowserContext, page_errors: PageErrors) -> Page:
    """A page in this test's own context, watched for console errors."""
    return page_errors.watch(context.new_page())


@pytest.fixture
def new_page(
    transactional_db: None, new_context: Callable[..., BrowserContext], page_errors: PageErrors
) -> NewPage:
    """``new_page(**context_options)``: a page in a new context (another person, no JavaScript,
    a phone's viewport), watched for console errors like ``page``."""

    def make(**context_options: Any) -> Page:
        return page_errors.watch(new_context(**context_options).new_page())

    return make


# --- Screenshots --------------------------------------------------------------------------------


def screenshot_dir() -> Path:
    directory = Path(os.environ.get("CONDUIT_SCREENSHOTS") or "var/screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def take_shot(page: Page, name: str) -> Path:
    """Save the whole page as ``<name>.png`` in the screenshot directory; returns the path."""
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def shot() -> Shot:
    """``shot(page, name)``: a full-page PNG of ``page`` as ``$CONDUIT_SCREENSHOTS/<name>.png``."""
    return take_shot
