#!/usr/bin/env python3
"""Start and stop a throw-away PostgreSQL 15 server on loopback, from Debian's package.

    python3 tools/postgres.py start --dir /tmp/pg [--port 0] [--fast] [--fresh]  # DATABASE_URL
    python3 tools/postgres.py stop --dir var/test-pg

Used by ``make test`` (and later by the stack and bench targets). As root it installs
``postgresql-15`` when missing, and runs the server as the ``postgres`` user (initdb and pg_ctl
refuse root). The server's PID is recorded in the data directory; ``stop`` stops exactly that
process. Only the standard library: it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
DB_NAME = "conduit"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def ensure_installed() -> None:
    if (PG_BIN / "postgres").exists():
        return
    if os.geteuid() != 0:
        sys.exit(f"PostgreSQL 15 is not installed ({PG_BIN}); run as root or install postgresql-15")
    script = Path(__file__).with_name("debian-packages.sh")
    subprocess.run(["bash", str(script), "postgresql-15"], check=True)


def as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *cmd]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers kill -0
        stat = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return stat != "Z"


def start(
    data_dir: Path, port: int, fast: bool, fresh: bool, settings: dict[str, str] | None = None
) -> str:
    """Start a server on ``data_dir`` and return its DATABASE_URL. An existing data directory is
    reused with its data (a stopped benchmark database keeps its seed) unless ``fresh``.
    ``settings``: more server settings (the backup test's archive_mode and archive_command)."""
    ensure_installed()
    data_dir = data_dir.resolve()
    pid_file = data_dir / "server.pid"
    url_file = data_dir / "database_url"
    pgdata = data_dir / "data"
    if pid_file.exists() and pid_alive(int(pid_file.read_text())) and url_file.exists():
        return url_file.read_text().strip()  # already running: a second start is a no-op

    reuse = not fresh and (pgdata / "PG_VERSION").exists() and url_file.exists()
    if reuse:
        old_port = int(url_file.read_text().strip().rsplit(":", 1)[1].split("/")[0])
        port = port or (old_port if port_is_free(old_port) else free_port())
    else:
        if data_dir.exists() and any(data_dir.iterdir()) and not fresh:
            # Never wipe what this tool did not make: --dir is the parent of the server's data
            # (<dir>/data), and a PostgreSQL data directory passed as --dir would be lost.
            sys.exit(
                f"{data_dir} is not empty and holds no server this tool can reuse "
                "(<dir>/data and <dir>/database_url); --fresh wipes it"
            )
        if data_dir.exists():
            shutil.rmtree(data_dir)
        pgdata.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(data_dir, "postgres", "postgres")
            shutil.chown(pgdata, "postgres", "postgres")
        subprocess.run(
            as_postgres([str(PG_BIN / "initdb"), "-D", str(pgdata), "-U", "postgres",
                         "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        port = port or free_port()
    if not port_is_free(port):
        sys.exit(f"port {port} is taken")
    options = [
        "-c", f"port={port}",
        "-c", "listen_addresses=127.0.0.1",
        "-c", f"unix_socket_directories={data_dir}",
        "-c", "max_connections=200",
        "-c", "shared_buffers=256MB",
        # Solid-state storage: random reads cost about as much as sequential ones. Without this
        # the planner prefers hash joins over index lookups that are 20x faster here (ADR 0010).
        "-c", "random_page_cost=1.1",
        "-c", "effective_io_concurrency=200",
    ]  # fmt: skip
    if fast:  # a test database that is thrown away: durability buys nothing
        options += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                    "-c", "full_page_writes=off"]  # fmt: skip
    for name, value in (settings or {}).items():
        options += ["-c", f"{name}={value}"]
    log = open(data_dir / "server.log", "ab")  # noqa: SIM115 - handed to the server process
    proc = subprocess.Popen(
        as_postgres([str(PG_BIN / "postgres"), "-D", str(pgdata), *options]),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pid_file.write_text(str(proc.pid))
    deadline = time.monotonic() + 60
    while (
        subprocess.run(
            [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"], check=False
        ).returncode
        != 0
    ):
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"PostgreSQL did not start; see {data_dir / 'server.log'}")
        time.sleep(0.1)
    url = f"postgres://postgres@127.0.0.1:{port}/{DB_NAME}"
    if not reuse:
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
             DB_NAME],
            check=True,
        )  # fmt: skip
    url_file.write_text(url + "\n")
    return url


def stop(data_dir: Path) -> None:
    pid_file = data_dir / "server.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    if pid_alive(pid):
        os.kill(pid, signal.SIGINT)  # fast shutdown
        deadline = time.monotonic() + 30
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    pid_file.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, required=True, help="data directory")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--fast", action="store_true", help="no fsync: for throw-away data")
    parser.add_argument("--fresh", action="store_true", help="wipe an existing data directory")
    args = parser.parse_args()
    if args.action == "start":
        print(start(args.dir, args.port, args.fast, args.fresh))
    else:
        stop(args.dir)


if __name__ == "__main__":
    main()
