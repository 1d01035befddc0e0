"""The service fixtures themselves: a Redis that restarts keeps its data, the SMTP sink receives."""

import smtplib

import pytest
import redis

pytestmark = pytest.mark.services


def test_redis_restart_keeps_appended_data(running_redis):
    client = redis.Redis.from_url(running_redis.url)
    client.set("fixture-check", b"kept")
    running_redis.restart()
    assert redis.Redis.from_url(running_redis.url).get("fixture-check") == b"kept"


def test_smtp_sink_receives(smtp):
    with smtplib.SMTP(smtp.host, smtp.port) as conn:
        conn.sendmail("a@example.com", ["b@example.com"], b"Subject: hi\r\n\r\nbody")
    (message,) = smtp.wait_for(1)
    assert message["Subject"] == "hi"


def test_memcached_answers(memcached_server):
    from pymemcache.client.base import Client

    client = Client(("127.0.0.1", memcached_server.port))
    client.set("k", b"v")
    assert client.get("k") == b"v"
