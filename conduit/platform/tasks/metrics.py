"""Prometheus metrics of background tasks, and how a worker serves them (ADR 0015).

* ``conduit_celery_tasks_total{task, state}``: state is ``succeeded``, ``retried``, ``failed``;
* ``conduit_celery_task_duration_seconds{task}``: run time of each execution;
* ``conduit_celery_dead_letters_total{task}``: tasks given up on (see ``DeadLetter``);
* ``conduit_task_outbox_total{task, event}``: publishes that failed and were kept in the outbox
  (``kept``, counted where the publish failed: a web process) and their later publish
  (``relayed``, in the worker that ran ``outbox_relay``);
* ``conduit_celery_queue_length{queue}``: messages waiting in each queue (Redis ``LLEN``), read
  when Prometheus scrapes, cached for a few seconds;
* ``conduit_counters_drift``: counters found wrong by the nightly ``counters_check``.

The worker's pool processes record the counters; with ``PROMETHEUS_MULTIPROC_DIR`` set each
writes its own files there and the main process sums them. The main process serves
``/metrics`` on ``CELERY_METRICS_PORT`` (``start_http_server``, started by ``worker_init`` in
``conduit.platform.tasks.signals``), queue lengths included.
"""

import time
from collections.abc import Iterable, Iterator
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from conduit.platform.observability.metrics import multiprocess_dir

TASKS = Counter(
    "conduit_celery_tasks_total", "Task executions by task name and outcome.", ["task", "state"]
)
TASK_DURATION = Histogram(
    "conduit_celery_task_duration_seconds",
    "Run time of a task execution, by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, float("inf")),
)
DEAD_LETTERS = Counter(
    "conduit_celery_dead_letters_total", "Tasks given up on after their retries.", ["task"]
)
OUTBOX = Counter(
    "conduit_task_outbox_total",
    "Tasks kept in the outbox because the broker could not take them (event=kept), and "
    "published from it later (event=relayed).",
    ["task", "event"],
)
_counters_drift: list[Gauge] = []


def counters_drift_gauge() -> Gauge:
    """Made on first use: an unlabelled gauge writes its file in PROMETHEUS_MULTIPROC_DIR as it
    is created, and this module is imported (by config/celery.py) before the settings check
    that directory."""
    if not _counters_drift:
        _counters_drift.append(
            Gauge(
                "conduit_counters_drift",
                "Maintained counters that disagreed with their rows at the last nightly check.",
                multiprocess_mode="mostrecent",
            )
        )
    return _counters_drift[0]


QUEUE_LENGTH_TTL = 5.0


class QueueLengthCollector(Collector):
    """``conduit_celery_queue_length{queue}`` for a Redis broker, computed on scrape.

    Celery's Redis transport keeps each queue as a list named after it (priorities add
    ``<queue>\\x06\\x16<n>`` lists, unused here). Other brokers report nothing: RabbitMQ has its
    own exporter.
    """

    def __init__(self, broker_url: str, queues: Iterable[str]) -> None:
        self.broker_url = broker_url
        self.queues = list(queues)
        self._cached: tuple[float, dict[str, int]] = (0.0, {})

    def lengths(self) -> dict[str, int]:
        at, values = self._cached
        if time.monotonic() - at < QUEUE_LENGTH_TTL:
            return values
        import redis

        client = redis.Redis.from_url(self.broker_url, socket_timeout=1, socket_connect_timeout=1)
        try:
            pipe = client.pipeline(transaction=False)
            for queue in self.queues:
                pipe.llen(queue)
            values = dict(zip(self.queues, (int(n) for n in pipe.execute()), strict=True))
        finally:
            client.close()
        self._cached = (time.monotonic(), values)
        return values

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "conduit_celery_queue_length", "Messages waiting in each task queue.", labels=["queue"]
        )
        if self.broker_url.startswith(("redis://", "rediss://", "unix://")):
            try:
                lengths = self.lengths()
            except Exception:
                lengths = {}
            for queue, length in lengths.items():
                family.add_metric([queue], length)
        yield family


def worker_registry(broker_url: str, queues: Iterable[str]) -> CollectorRegistry:
    """What the worker's metrics port serves: every pool process's samples plus queue lengths."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    registry.register(QueueLengthCollector(broker_url, queues))
    return registry


def start_metrics_server(addr: str, port: int, broker_url: str, queues: Iterable[str]) -> Any:
    return prometheus_client.start_http_server(
        port, addr=addr, registry=worker_registry(broker_url, queues)
    )
