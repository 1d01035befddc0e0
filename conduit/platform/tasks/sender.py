"""Publishing tasks off the request path: one sender thread per process (issue 22, ADR 0025).

A write's response does not wait for the broker: after the commit the task goes into this
process's queue, and a daemon thread publishes it (``enqueue.publish``, handed in: to the
broker, or to the outbox when the broker cannot take it). The request's context (its request
id) travels with it.

What can be lost is what a synchronous publish after the commit could lose too: the tasks of a
process killed between its commit and the publish, here the few still queued (the thread keeps
up with the requests; ``flush`` runs at exit, so a graceful stop sends them). Idempotent tasks
and the nightly jobs cover that window (ADR 0015).
"""

import atexit
import contextvars
import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections

logger = logging.getLogger(__name__)

Item = tuple[Callable[..., None], tuple[Any, ...], contextvars.Context]

_queue: "queue.Queue[Item | threading.Event]" = queue.Queue()
_thread: threading.Thread | None = None
_lock = threading.Lock()


def soon(publish: Callable[..., None], *args: Any) -> None:
    """``publish(*args)`` in the sender thread, in this context, soon; returns at once."""
    _start()
    _queue.put((publish, args, contextvars.copy_context()))


def flush(timeout: float = 10.0) -> bool:
    """Wait until every task queued so far has been published (or kept); False on timeout."""
    if _thread is None:
        return True  # nothing was ever queued in this process
    done = threading.Event()
    _queue.put(done)  # the thread sets it when it gets there
    return done.wait(timeout)


def _start() -> None:
    global _thread
    if _thread is not None and _thread.is_alive():
        return
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="conduit-task-sender", daemon=True)
            _thread.start()


def _run() -> None:
    while True:
        item = _queue.get()
        if isinstance(item, threading.Event):
            item.set()
            continue
        publish, args, context = item
        try:
            context.run(publish, *args)
        except Exception:  # publish keeps what the broker refuses; this is what it could not
            logger.exception("task not published")
        finally:
            if _queue.empty():  # the outbox's connection, if it opened one: not held idle
                for connection in connections.all(initialized_only=True):
                    connection.close()


def _forget_after_fork() -> None:
    """A forked child (a server's worker) starts its own thread on its first task."""
    global _thread, _queue, _lock
    _thread, _queue, _lock = None, queue.Queue(), threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(flush, 5.0)
