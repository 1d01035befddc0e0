"""The servers a bench starts for itself: throw-away configs for nginx and pgbouncer (run.sh
starts them), the app server's command line, and processes started and stopped by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchkit import REPO


def nginx_conf(directory: Path, port: int) -> Path:
    """A throw-away nginx: one worker, keepalive, no access log, everything under ``directory``.
    It serves ``directory/www/api/articles`` (written by ``run``) as JSON."""
    (directory / "www" / "api").mkdir(parents=True, exist_ok=True)
    (directory / "tmp").mkdir(exist_ok=True)
    temp = "\n".join(
        f"    {kind}_temp_path {directory}/tmp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
pid {directory}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
{temp}
    types {{ }}
    default_type "application/json; charset=utf-8";
    server {{
        listen 127.0.0.1:{port};
        root {directory}/www;
    }}
}}
"""
    )
    return conf


def pgbouncer_conf(directory: Path, port: int, pg_port: int, pool_size: int) -> Path:
    """A throw-away pgbouncer in transaction mode in front of the bench's PostgreSQL (ADR 0017):
    ``pool_size`` server connections shared by every client connection of the app."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "userlist.txt").write_text('"postgres" ""\n')
    conf = directory / "pgbouncer.ini"
    conf.write_text(
        f"""[databases]
* = host=127.0.0.1 port={pg_port}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir = {directory}
logfile = {directory}/pgbouncer.log
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
"""
    )
    return conf


def granian_command(venv_bin: Path, *, port: int, workers: int, threads: int) -> list[str]:
    """The app on its production server config: tools/run.sh's granian command (run.sh builds
    the same one in bash), on 127.0.0.1:``port``."""
    return [
        str(venv_bin / "granian"),
        "--interface", "wsgi",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", str(workers),
        "--blocking-threads", str(threads),
        "--no-ws",
        "--respawn-failed-workers",
        "--workers-kill-timeout", "30",
        "--log-level", "warning",
        "config.wsgi:application",
    ]  # fmt: skip


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    stop_signal: int = signal.SIGTERM

    def logged(self, text: bytes) -> Callable[[], bool]:
        """A readiness check for ``Processes.wait_for``: ``text`` is in the process's log."""
        return lambda: text in self.log.read_bytes()


class Processes:
    """Every process started here, stopped by PID (process group) in reverse order."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.procs: list[Proc] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], sig: int = 15) -> Proc:
        log = self.run_dir / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
                start_new_session=True,
            )
        proc = Proc(name, process, log, sig)
        self.procs.append(proc)
        return proc

    def wait_for(self, proc: Proc, ready: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.process.poll() is not None:
                raise SystemExit(
                    f"{proc.name} exited: see {proc.log}\n{proc.log.read_text()[-2000:]}"
                )
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{proc.name} not ready in {timeout:.0f} s: see {proc.log}")

    def stop_one(self, proc: Proc) -> None:
        """Stop ``proc`` now (and its process group), as ``stop_all`` does."""
        self._stop(proc)
        self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self._stop(proc)

    def _stop(self, proc: Proc) -> None:
        if proc.process.poll() is None:
            proc.process.send_signal(proc.stop_signal)
            try:
                proc.process.wait(30)
            except subprocess.TimeoutExpired:
                print(f"{proc.name} (pid {proc.process.pid}) did not stop: SIGKILL", flush=True)
        # the group: a worker's pool processes, granian's workers
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.process.pid, signal.SIGKILL)
        proc.process.wait(10)


def redis_command(port: int, directory: Path) -> list[str]:
    """A Redis broker with make stack's persistence (append-only file) in ``directory``."""
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--dir", str(directory)]  # fmt: skip


def celery_worker_command(venv_bin: Path, name: str, concurrency: int) -> list[str]:
    """A Celery worker on the queues a deployment runs (email, default)."""
    return [str(venv_bin / "celery"), "-A", "config", "worker", "-Q", "email,default",
            "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-mingle",
            "--without-gossip", "--hostname", f"{name}@%h"]  # fmt: skip
