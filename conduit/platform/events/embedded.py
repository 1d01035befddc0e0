"""The embedded default's events server: uvicorn in a thread of the one app process.

``make run`` serves the site with WSGI granian in one process (ADR 0002, 0007), and the
in-process broker spans one process only. So that process also serves the streams: with
``EVENTS_PORT`` set, config/wsgi.py calls ``serve_in_thread`` and uvicorn runs the ASGI app on
its own event loop in a daemon thread (uvicorn installs no signal handlers outside the main
thread; granian's own server cannot be embedded in a thread). Publishers (the WSGI request
threads) hand events to that loop. The browser tests start it the same way next to their live
server.
"""

from __future__ import annotations

import threading
import time
from typing import Any


def serve_in_thread(app: Any, host: str, port: int, *, wait: float = 10.0) -> Any:
    """Start serving ``app`` on ``host:port`` in a daemon thread; returns uvicorn's server once
    it listens (``server.should_exit = True`` stops it)."""
    import uvicorn

    config = uvicorn.Config(
        app, host=host, port=port, lifespan="off", log_level="warning", access_log=False,
        loop="asyncio", http="h11", ws="none", timeout_graceful_shutdown=1,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="events-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + wait
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the events server did not start on {host}:{port}")
        time.sleep(0.02)
    return server
