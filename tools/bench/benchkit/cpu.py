"""CPU accounting from /proc: seconds used by process trees and by the whole machine.

``make bench`` snapshots them around each wrk run (``CpuWatch``); ``make bench-fanout`` around
its delivery phase (``cpu_snapshot``, ``cpu_cores``). Either way ``other`` is what the rest
of the machine used meanwhile: on a shared machine, the part nobody here is responsible for.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def pid_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def proc_stats(*, reaped_children: bool = False) -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds: utime + stime of all its threads, and with
    ``reaped_children`` also of its children that exited and were waited for: PostgreSQL's
    backends come and go with connections and their time ends up in the postmaster's)."""
    # fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    last = 15 if reaped_children else 13
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        stats[int(entry.name)] = (int(fields[1]), sum(map(int, fields[11:last])) / CLK_TCK)
    return stats


def tree_cpu(stats: dict[int, tuple[int, float]], root: int) -> float:
    """CPU seconds of ``root`` and every live descendant (processes that exited are lost)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, everything but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK


def settle(
    *,
    below: float = 0.5,
    longest: float = 3.0,
    window: float = 0.1,
    busy: Callable[[], float] = machine_busy_seconds,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Wait until the machine is busy on fewer than ``below`` cores over a ``window``, or for
    ``longest`` seconds: what the last run left queued (32 Argon2 hashes are 0.4 s of both cores)
    is done before the next run starts. Returns the seconds waited."""
    samples = 0
    while samples < round(longest / window):
        before = busy()
        sleep(window)
        samples += 1
        if (busy() - before) / window < below:
            break
    return round(samples * window, 1)


@dataclass
class CpuWatch:
    """Snapshots CPU time before and after a wrk run."""

    pids: dict[str, int | None]
    _before: dict[str, float] = field(default_factory=dict)
    _wall: float = 0.0

    def _snapshot(self) -> dict[str, float]:
        # With the exited children waited for: a database connection recycled mid-run
        # (CONN_MAX_AGE) ends its backend, whose whole CPU would otherwise leave the tree and
        # make the run's PostgreSQL time 0 (its share went to "other").
        stats = proc_stats(reaped_children=True)
        snap = {name: tree_cpu(stats, pid) for name, pid in self.pids.items() if pid}
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        snap["wrk"] = usage.ru_utime + usage.ru_stime
        own = resource.getrusage(resource.RUSAGE_SELF)  # the bench process: its lock sampler
        snap["bench"] = own.ru_utime + own.ru_stime
        snap["machine_busy"] = machine_busy_seconds()
        return snap

    def start(self) -> None:
        self._before = self._snapshot()
        self._wall = time.monotonic()

    def stop(self) -> dict[str, float | None]:
        after = self._snapshot()
        wall = time.monotonic() - self._wall
        seconds = {k: max(0.0, after[k] - self._before[k]) for k in after}
        known = sum(v for k, v in seconds.items() if k != "machine_busy")
        seconds["other"] = max(0.0, seconds["machine_busy"] - known)
        cores: dict[str, float | None] = {k: round(v / wall, 3) for k, v in seconds.items()}
        for name, pid in self.pids.items():
            if not pid:
                cores[name] = None  # not ours to watch (BENCH_TARGET)
        cores["wall_s"] = round(wall, 3)
        return cores


def cpu_snapshot(pids: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each named group of process trees, of this process (fanout: the
    SMTP sink and the prober) and of the whole machine."""
    stats = proc_stats(reaped_children=True)
    snapshot = {name: sum(tree_cpu(stats, pid) for pid in group) for name, group in pids.items()}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    snapshot["bench_process"] = usage.ru_utime + usage.ru_stime
    snapshot["machine"] = machine_busy_seconds()
    return snapshot


def cpu_cores(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, float]:
    """CPU seconds per second of wall time between two ``cpu_snapshot``; ``other`` is the
    rest of the machine."""
    used = {name: (after[name] - before[name]) / wall for name in before}
    machine = used.pop("machine")
    used["other"] = max(0.0, machine - sum(used.values()))
    return {name: round(value, 2) for name, value in used.items()}
