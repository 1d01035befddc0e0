"""Latency samples in milliseconds, summarised as ``make bench-fanout`` records them."""

from __future__ import annotations

import math
import statistics
from typing import Any


def summary(samples: list[float]) -> dict[str, Any]:
    """n, median, p99 (nearest rank), mean, min, max, and the samples in the order measured."""
    ordered = sorted(samples)

    def rank(p: float) -> float:  # nearest rank
        return ordered[max(0, min(len(ordered), math.ceil(p / 100 * len(ordered))) - 1)]

    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p99": round(rank(99), 2),
        "mean": round(statistics.fmean(ordered), 2),
        "min": round(ordered[0], 2),
        "max": round(ordered[-1], 2),
        "samples": [round(s, 2) for s in samples],
    }
