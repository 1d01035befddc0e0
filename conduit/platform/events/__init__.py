"""Live updates (ADR 0030): events published after a write commits, read as Server-Sent Events.

``publish(channel, kind, data)`` is what domain services call (through ``on_commit``): best-effort,
never raising, bounded in time. ``subscription(channel, after)`` is what the async stream view
reads. The backend comes from ``EVENTS_URL``: empty = the in-process broker (``memory.py``, the
embedded default: publisher and streams in one process), ``redis://`` = Redis (``redis.py``:
pub/sub for delivery, a capped stream per channel for resuming).

Channels: ``article:<id>`` (its new comments, public) and ``feed:<user id>`` (new articles by
the people the user follows, only ever streamed to that user's session).
"""
