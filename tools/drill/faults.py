"""The faults `make drill NAME` injects into a running `make stack`, each target found through
`make stack-status JSON=1` at the moment of the fault (the PostgreSQL leader after any number of
failovers).

Nothing in `make stack` restarts a process that dies (ADR 0021: a crash shows DOWN): PostgreSQL's
postmasters are Patroni's to restart or replace, and for everything else the drill plays the
supervisor, restarting the killed process with the command line and environment it had (read from
/proc before the kill) ``restart_after`` seconds later, as systemd's ``Restart=on-failure`` with
``RestartSec`` would, and records the new PID in var/stack/state.json so that `make stack-stop`
stops it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stack import core, patroni, services  # tools/stack/

Clock = Callable[[], float]  # seconds since the load started


class DrillError(Exception):
    """The drill cannot run (no stack, no target) or could not put the stack back."""


# --- the stack as make stack-status JSON=1 shows it ----------------------------------------------


def stack_status() -> dict[str, Any]:
    """`make stack-status JSON=1`'s document (its exit status is 1 while a component is down,
    which during a drill is expected)."""
    out = subprocess.run([str(core.PY), str(core.ROOT / "tools" / "stack"), "status", "--json"],
                         capture_output=True, text=True, check=False, timeout=30)  # fmt: skip
    try:
        return dict(json.loads(out.stdout))
    except ValueError as error:
        raise DrillError(f"make stack-status JSON=1 printed no JSON: {out.stderr}") from error


def component(status: dict[str, Any], **wanted: Any) -> dict[str, Any]:
    for c in status["components"]:
        if all(c.get(k) == v for k, v in wanted.items()):
            return dict(c)
    raise DrillError(f"no component with {wanted} in make stack-status JSON=1")


def synchronous_mode(status: dict[str, Any]) -> bool | None:
    """Patroni's synchronous_mode as the cluster's dynamic configuration has it now."""
    for c in status["components"]:
        if c.get("rest_port"):
            try:
                code, body = core.http_get(f"http://127.0.0.1:{c['rest_port']}/config", timeout=2)
            except OSError:
                continue
            if code == 200:
                return bool(json.loads(body).get("synchronous_mode"))
    return None


def healthy(status: dict[str, Any], synchronous: bool | None) -> bool:
    """Every recorded process up, one leader, every other member a replica (in synchronous mode,
    one of them the synchronous standby), and the site answering."""
    members = [c for c in status["components"] if "postmaster_pid" in c]
    roles = [c["role"] for c in members]
    if not status.get("running") or roles.count("leader") != 1:
        return False
    if roles.count("replica") != len(members) - 1 or any(not c["postmaster_pid"] for c in members):
        return False
    if synchronous and not any(c.get("synchronous_standby") for c in members):
        return False
    try:
        return core.http_get(f"{status['url']}/api/articles?limit=1", timeout=5)[0] == 200
    except OSError:
        return False


def wait_healthy(synchronous: bool | None, timeout: float = 90) -> float:
    """Seconds until the stack is whole again; DrillError after ``timeout``."""
    started = time.monotonic()
    while True:
        if healthy(stack_status(), synchronous):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise DrillError(f"the stack is not whole {timeout:.0f} s after the drill: "
                             "make stack-status shows what is down")  # fmt: skip
        time.sleep(1)


# --- killing and restarting a process -----------------------------------------------------------


@dataclass(frozen=True)
class Process:
    """What it takes to start a process again as it was."""

    argv: list[str]
    env: dict[str, str]

    @classmethod
    def of(cls, pid: int) -> Process:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        pairs = Path(f"/proc/{pid}/environ").read_bytes().rstrip(b"\0").split(b"\0")
        env = dict(p.decode().split("=", 1) for p in pairs if b"=" in p)
        return cls([a.decode() for a in argv], env)


def wait_gone(pid: int, match: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while core.pid_alive(pid, match):
        if time.monotonic() > deadline:
            raise DrillError(f"pid {pid} still alive {timeout:.0f} s after its signal")
        time.sleep(0.05)


def respawn(name: str, process: Process, ready: Callable[[int], bool]) -> int:
    """Start ``name`` again (its own session, output to its recorded log), record the new PID in
    the state file in place of the old one, and wait until ``ready(pid)``."""
    state = core.load_state()
    if state is None:
        raise DrillError("var/stack/state.json is gone: the stack was stopped during the drill")
    entry = next(c for c in state["components"] if c["name"] == name)
    metrics = process.env.get("PROMETHEUS_MULTIPROC_DIR", "")
    if metrics and Path(metrics).is_relative_to(core.STACK):  # as make stack empties it
        shutil.rmtree(metrics, ignore_errors=True)
        Path(metrics).mkdir(parents=True)
    pid = core.spawn(process.argv, Path(entry["log"]), process.env)
    entry["pid"] = pid
    core.save_state(state)
    core.wait_for(f"{name} (restarted by the drill)", lambda: ready(pid), Path(entry["log"]), pid,
                  entry["match"])  # fmt: skip
    return pid


# --- the drills ---------------------------------------------------------------------------------


@dataclass
class Drill:
    name: str
    summary: str  # what is done, for the result and docs/reliability.md
    inject: Callable[[dict[str, Any], Clock], dict[str, Any]]  # runs at the fault's offset


Ready = Callable[[dict[str, Any]], Callable[[int], bool]]  # target -> "is the new PID ready?"


def kill_and_restart(
    name: str, sig: signal.Signals, group: bool, restart_after: float, ready: Ready,
    command: Callable[[dict[str, Any]], Process] | None = None,
) -> Callable[[dict[str, Any], Clock], dict[str, Any]]:  # fmt: skip
    """Signal the component ``name`` (its whole process group with ``group``: a SIGKILLed
    granian's worker would go on serving the port alone), wait until it is gone, restart it
    ``restart_after`` seconds after the signal, and say when each happened. ``ready(target)`` is
    made before the signal (it may look at the log as it was). ``command(target)``: how to start
    it again, when its /proc entry does not say (the default reads it from there)."""

    def inject(status: dict[str, Any], clock: Clock) -> dict[str, Any]:
        target = component(status, name=name)
        pid = target["pid"]
        state = core.load_state() or {"components": []}
        match = next(c["match"] for c in state["components"] if c["name"] == name)
        process = command(target) if command else Process.of(pid)
        is_ready = ready(target)
        at = clock()
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
        wait_gone(pid, match)
        deadline = time.monotonic() + 10  # the group's other processes (granian's worker)
        while group and core.left_in_group(pid, match) and time.monotonic() < deadline:
            time.sleep(0.05)
        gone = clock()
        time.sleep(max(0.0, restart_after - (clock() - at)))
        restarted = clock()
        new_pid = respawn(name, process, is_ready)
        return {"target": {k: target[k] for k in ("name", "pid", "port")},
                "signal": sig.name, "process_group": group, "injected_at_s": round(at, 3),
                "gone_at_s": round(gone, 3), "restarted_at_s": round(restarted, 3),
                "ready_at_s": round(clock(), 3), "new_pid": new_pid,
                "restored_by": f"the drill, {restart_after:g} s after the signal (nothing in "
                               "make stack restarts a dead process)"}  # fmt: skip

    return inject


def app_ready(target: dict[str, Any]) -> Callable[[int], bool]:
    return lambda pid: core.http_get(f"http://127.0.0.1:{target['port']}/readyz")[0] == 200


def redis_process(target: dict[str, Any]) -> Process:
    """Redis rewrites its command line (and the environment's memory) for its process title."""
    return Process(services.redis_argv(target["port"], target.get("tls_port")), dict(os.environ))


def redis_ready(target: dict[str, Any]) -> Callable[[int], bool]:
    return lambda pid: services.redis_ping(target["port"])


def etcd_ready(target: dict[str, Any]) -> Callable[[int], bool]:
    return lambda pid: patroni.etcd_healthy(target["port"])


def worker_ready(target: dict[str, Any]) -> Callable[[int], bool]:
    """The restarted worker has logged one more " ready." than before the kill (the log is
    appended to)."""
    log = Path(target["log"])
    before = log.read_bytes().count(b" ready.")
    return lambda pid: log.read_bytes().count(b" ready.") > before


def kill_postmaster(role: str) -> Callable[[dict[str, Any], Clock], dict[str, Any]]:
    """SIGKILL the postmaster of the member in ``role`` now; Patroni does the rest (a replica's
    postmaster is restarted; a leader's is failed over at once, primary_start_timeout 0, ADR
    0026)."""

    def inject(status: dict[str, Any], clock: Clock) -> dict[str, Any]:
        target = component(status, role=role)
        pid = target["postmaster_pid"]
        if not pid:
            raise DrillError(f"the {role} {target['name']} has no postmaster running")
        at = clock()
        os.kill(pid, signal.SIGKILL)
        return {"target": {"name": target["name"], "patroni_pid": target["pid"],
                           "postmaster_pid": pid, "port": target["port"], "role": role},
                "signal": "SIGKILL", "injected_at_s": round(at, 3),
                "restored_by": "Patroni (nothing done by the drill)"}  # fmt: skip

    return inject


def switchover(status: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """`patronictl switchover` from the leader to the replica, planned (--force: no prompt)."""
    leader = component(status, role="leader")
    candidate = component(status, role="replica")
    state = core.load_state() or {}
    config = Path(state["patroni"]["members"][0]["directory"]) / "patroni.yml"
    scope = state["patroni"]["scope"]
    argv = [core.binary("patronictl"), "-c", str(config), "switchover", scope, "--leader",
            leader["name"], "--candidate", candidate["name"], "--force"]  # fmt: skip
    at = clock()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    return {"target": {"leader": leader["name"], "candidate": candidate["name"]},
            "command": " ".join(["patronictl", *argv[1:]]), "injected_at_s": round(at, 3),
            "command_returned_at_s": round(clock(), 3), "exit_status": done.returncode,
            "output": (done.stdout + done.stderr).strip().splitlines()[-3:],
            "restored_by": "nothing to restore: the old leader follows the new one"}  # fmt: skip


def broker_restart(status: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """A planned restart of Redis, the Celery broker (and the cache): SIGTERM (it writes its
    append-only file and exits), then started again at once, as `systemctl restart` does."""
    restart = kill_and_restart("redis", signal.SIGTERM, False, 0, redis_ready, redis_process)
    return restart(status, clock)


DRILLS = {
    d.name: d
    for d in [
        Drill("app-kill", "SIGKILL app-1's process group (granian and its worker); restarted "
              "5 s later", kill_and_restart("app-1", signal.SIGKILL, True, 5, app_ready)),
        Drill("worker-kill", "SIGKILL the Celery worker's process group; restarted 5 s later",
              kill_and_restart("celery-worker", signal.SIGKILL, True, 5, worker_ready)),
        Drill("redis-kill", "SIGKILL Redis (cache and broker; append-only file); restarted 5 s "
              "later", kill_and_restart("redis", signal.SIGKILL, False, 5, redis_ready,
                                       redis_process)),
        Drill("replica-kill", "SIGKILL the replica's postmaster; Patroni restarts it",
              kill_postmaster("replica")),
        Drill("primary-kill", "SIGKILL the leader's postmaster; Patroni fails over",
              kill_postmaster("leader")),
        Drill("primary-switchover", "patronictl switchover to the replica (planned)", switchover),
        Drill("etcd-kill", "SIGKILL etcd (the only member: quorum lost); restarted 15 s later, "
              "past the leader key's ttl (10 s)",
              kill_and_restart("etcd", signal.SIGKILL, False, 15, etcd_ready)),
        Drill("broker-restart", "restart Redis, the broker (SIGTERM, started again at once)",
              broker_restart),
    ]
}  # fmt: skip
