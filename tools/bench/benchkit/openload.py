"""An open-model load step for ``make bench-capacity`` (ADR 0036): requests are sent on a fixed
schedule (request ``i`` at ``start + i / rate``) whatever the server's latency, and each
latency is measured from that scheduled time, so time spent queueing anywhere (in the server,
in the connection pool, in this process when it falls behind) is counted: no coordinated
omission. wrk (closed loop) and Locust (closed-loop users) cannot do this; the ADR says why
the generator is this small asyncio + aiohttp loop and not wrk2, vegeta, k6 or Artillery.

``send_lag_ms`` records how late each request actually left against its schedule: when its
p99 is high the generator, not the server, was the limit, and the step says so.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import resource
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp

GENERATOR_LAG_MS = 20.0  # a step whose send lag p99 passes this was limited by the generator


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    token: str | None = None
    body: bytes | None = None


Plan = Callable[[int], Request]  # the i-th request of a scenario (i counts across its steps)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0-100) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class _Outcome:
    latency_ms: float
    lag_ms: float
    status: int  # 0: no answer (connection error or timeout)


async def _send(
    session: aiohttp.ClientSession, base: str, request: Request, due: float, timeout: float
) -> _Outcome:
    loop = asyncio.get_running_loop()
    lag = (loop.time() - due) * 1000
    headers = {"Accept": "application/json"}
    if request.token:
        headers["Authorization"] = f"Token {request.token}"
    if request.body is not None:
        headers["Content-Type"] = "application/json"
    try:
        async with session.request(
            request.method, base + request.path, data=request.body, headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:  # fmt: skip
            await response.read()
            status = response.status
    except (TimeoutError, aiohttp.ClientError, OSError):
        status = 0
    return _Outcome((loop.time() - due) * 1000, lag, status)


async def _step(
    base: str, plan: Plan, first: int, rate: float, seconds: float, timeout: float,
    connections: int,
) -> list[_Outcome]:  # fmt: skip
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        loop = asyncio.get_running_loop()
        count = max(1, round(rate * seconds))
        start = loop.time() + 0.05
        tasks = []
        for i in range(count):
            due = start + i / rate
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(_send(session, base, plan(first + i), due, timeout)))
        return list(await asyncio.gather(*tasks))


def cpu_seconds_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_step(
    base: str, plan: Plan, *, first: int, rate: float, seconds: float, timeout: float = 5.0,
    connections: int = 256,
) -> dict[str, Any]:  # fmt: skip
    """Offer ``rate`` requests a second for ``seconds`` (requests ``first`` onwards of
    ``plan``); waits for the last answer (at most ``timeout`` after it was due)."""
    cpu_before, wall_before = cpu_seconds_self(), time.monotonic()
    outcomes = _run(_step(base, plan, first, rate, seconds, timeout, connections))
    wall = time.monotonic() - wall_before
    ok = [o.latency_ms for o in outcomes if 200 <= o.status < 400]
    statuses: dict[str, int] = {}
    for o in outcomes:
        statuses[str(o.status)] = statuses.get(str(o.status), 0) + 1
    lags = [o.lag_ms for o in outcomes]
    latencies = [o.latency_ms for o in outcomes]
    lag_p99 = percentile(lags, 99)
    return {
        "offered_rps": round(rate, 1),
        "requests": len(outcomes),
        "ok": len(ok),
        "errors": len(outcomes) - len(ok),
        "statuses": statuses,
        "achieved_rps": round(len(ok) / seconds, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 2),
            "p90": round(percentile(latencies, 90), 2),
            "p99": round(percentile(latencies, 99), 2),
            "max": round(max(latencies, default=0.0), 2),
        },
        "send_lag_ms": {"p50": round(percentile(lags, 50), 2), "p99": round(lag_p99, 2)},
        "generator_limited": lag_p99 > GENERATOR_LAG_MS,
        "generator_cpu_s": round(cpu_seconds_self() - cpu_before, 3),
        "wall_s": round(wall, 3),
    }


def _run[T](step: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, in a thread of its own when this thread already runs a loop (a caller
    inside Playwright's sync API, say, as in the test suite)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(step)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, step).result()
