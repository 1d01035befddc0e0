"""The two brokers behind the live updates (ADR 0030): ids, history, delivery across threads,
a slow reader cut off, and one Redis pub/sub connection per process whatever the streams."""

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis

from conduit.platform.events.base import QUEUE_LIMIT, Closed
from conduit.platform.events.ids import now_id, parse
from conduit.platform.events.memory import MemoryBroker
from conduit.platform.events.redis_broker import PREFIX, RedisBroker
from tests.services import RedisServer


def run_async[T](coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright keeps an event loop
    running in this process's main thread, where ``asyncio.run`` refuses to start another."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=30)


def test_ids_order_as_times() -> None:
    assert parse("1700000000000-5") == (1_700_000_000_000, 5)
    assert parse("12") == (12, 0)
    for junk in (None, "", "abc", "1-x", "-1", "9" * 50):
        assert parse(junk) is None
    before = parse(now_id())
    assert before is not None
    assert before < (before[0] + 1, 0)


def test_memory_history_is_bounded_and_after_an_id() -> None:
    broker = MemoryBroker(history_size=3, history_seconds=60)
    broker.publish_many([("c", "comment", str(n)) for n in range(5)])
    kept = run_async(broker.history("c", (0, 0)))
    assert [e.data for e in kept] == ["2", "3", "4"]
    after = parse(kept[0].id)
    assert after is not None
    assert [e.data for e in run_async(broker.history("c", after))] == ["3", "4"]
    assert run_async(broker.history("other", (0, 0))) == []


def test_memory_delivers_from_another_thread() -> None:
    broker = MemoryBroker(history_size=10, history_seconds=60)

    async def listen() -> list[str]:
        async with broker.subscribe("c") as subscription:
            threading.Thread(target=broker.publish_many, args=([("c", "k", "x")],)).start()
            event = await subscription.next(timeout=5)
        assert event is not None
        return [event.data]

    assert run_async(listen()) == ["x"]


def test_a_slow_reader_is_cut_off_not_grown() -> None:
    broker = MemoryBroker(history_size=10, history_seconds=60)

    async def overflow() -> None:
        async with broker.subscribe("c") as subscription:
            broker.publish_many([("c", "k", "x")] * (QUEUE_LIMIT + 1))
            await asyncio.sleep(0.05)  # the loop runs the deliveries
            with pytest.raises(Closed):
                await subscription.next(timeout=1)

    run_async(overflow())


@pytest.fixture
def redis_broker(running_redis: RedisServer) -> Iterator[tuple[RedisBroker, redis.Redis]]:
    client = redis.Redis.from_url(running_redis.url_for(4))
    client.flushdb()
    yield RedisBroker(running_redis.url_for(4), history_size=3, history_seconds=60,
                      timeout=0.5), client  # fmt: skip
    client.flushdb()
    client.close()


@pytest.mark.services
def test_redis_keeps_a_capped_expiring_history(
    redis_broker: tuple[RedisBroker, redis.Redis],
) -> None:
    broker, client = redis_broker
    broker.publish_many([("c", "comment", f'"{n}"') for n in range(300)])
    assert client.xlen(PREFIX + "c") < 300  # MAXLEN ~ trims whole nodes: about the cap
    assert 0 < client.ttl(PREFIX + "c") <= 60
    kept = run_async(broker.history("c", (0, 0)))
    assert len(kept) == 3  # COUNT: at most the history size
    last = parse(kept[-1].id)
    assert last is not None
    assert run_async(broker.history("c", last))[0].data == f'"{int(kept[-1].data[1:-1]) + 1}"'


@pytest.mark.services
def test_redis_serves_many_streams_on_one_connection(
    redis_broker: tuple[RedisBroker, redis.Redis],
) -> None:
    broker, client = redis_broker

    async def listen() -> list[str]:
        async with (
            broker.subscribe("a") as one,
            broker.subscribe("a") as two,
            broker.subscribe("b") as three,
        ):
            assert client.pubsub_numsub(PREFIX + "a", PREFIX + "b") == [
                (f"{PREFIX}a".encode(), 1), (f"{PREFIX}b".encode(), 1)
            ]  # fmt: skip
            await asyncio.to_thread(broker.publish_many, [("a", "k", "1"), ("b", "k", "2")])
            got = [await s.next(timeout=5) for s in (one, two, three)]
        assert client.pubsub_numsub(PREFIX + "a")[0][1] == 0  # unsubscribed with the last
        return [e.data for e in got if e is not None]

    assert run_async(listen()) == ["1", "1", "2"]


@pytest.mark.services
def test_a_lost_redis_connection_closes_the_streams(
    redis_broker: tuple[RedisBroker, redis.Redis],
) -> None:
    broker, client = redis_broker

    async def lose() -> None:
        async with broker.subscribe("a") as subscription:
            client.client_kill_filter(_type="pubsub")
            with pytest.raises(Closed):
                await subscription.next(timeout=5)

    run_async(lose())
