#!/usr/bin/env python3
"""`make stack`: the one-machine topology on loopback, from Debian packages.

    .venv/bin/python tools/stack.py start|stop|status

PostgreSQL 15 primary + streaming replica, Redis (cache and Celery broker), an SMTP sink (aiosmtpd),
STACK_APPS granian app servers behind nginx or HAProxy (STACK_LB=haproxy) on
http://127.0.0.1:8080, a Celery worker (every queue) and beat, Debian's node exporter and
Prometheus scraping them all with the alert rules of deploy/prometheus/alerts.yml. Each process runs
in its own session and is recorded by PID in var/stack/state.json; `stop` stops exactly those.
A second `start` while everything recorded is alive only prints the table.

Ports (0 = any free port; a port given here must be free):
    STACK_HTTP_PORT=8080  STACK_PG_PORT=0  STACK_PG_REPLICA_PORT=0  STACK_REDIS_PORT=0
    STACK_SMTP_PORT=0  STACK_PROMETHEUS_PORT=0  STACK_WORKER_METRICS_PORT=0
    STACK_NODE_EXPORTER_PORT=0  STACK_LB_STATS_PORT=0 (HAProxy's /metrics and /stats)
    STACK_APP_PORT=0 (the first app server's port; the next ones follow)
    STACK_APPS=2 (app-server processes)  STACK_TIMEOUT=60 (seconds each component may take)
    STACK_LB=nginx|haproxy (the load balancer)
    STACK_DRAIN_TIMEOUT=30 (seconds a stopping app server lets in-flight requests finish)

PostgreSQL's data lives under /tmp/conduit-stack-<hash of the checkout>/ (the postgres user
cannot enter /root-owned directories); everything else under var/stack/. The database is made
fresh (migrate + seed_demo) at each start.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import postgres  # tools/postgres.py

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "var" / "stack"
STATE = STACK / "state.json"
LOGS = STACK / "logs"
PG_BASE = Path(f"/tmp/conduit-stack-{hashlib.md5(str(ROOT).encode()).hexdigest()[:8]}")  # noqa: S324
PY = ROOT / ".venv" / "bin" / "python"
GRANIAN = ROOT / ".venv" / "bin" / "granian"
PACKAGES = [
    "postgresql-15",
    "redis-server",
    "nginx",
    "haproxy",
    "prometheus",
    "prometheus-node-exporter",
]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
CELERY = ROOT / ".venv" / "bin" / "celery"
QUEUES = "default,email,media,exports"
TIMEOUT = float(os.environ.get("STACK_TIMEOUT", "60"))

STREAMING = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
Component = dict[str, Any]  # name, pid, address, log, match (a word of its /proc cmdline), stop


class StackError(Exception):
    """A component did not start or become ready; the message names its log."""


# --- processes and ports ------------------------------------------------------------------------


def binary(name: str) -> str:
    """A Debian daemon's path: nginx, haproxy and others live in /usr/sbin, which a non-login
    shell's PATH may lack."""
    found = shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")
    if not found:
        raise StackError(f"{name} not found: tools/debian-packages.sh installs it (as root)")
    return found


def pid_alive(pid: int, match: str = "") -> bool:
    """Alive, not a zombie, and (when ``match`` is given) still the program we started."""
    if not postgres.pid_alive(pid):
        return False
    if not match:
        return True
    # /proc/PID/cmdline can read empty for a moment while the process's memory map is busy (seen
    # with Prometheus replaying its WAL): try again, and an alive process that never shows its
    # command line is taken as ours (its PID was not reused within these few milliseconds).
    for _ in range(5):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return False
        if cmdline:
            return match in cmdline
        time.sleep(0.01)
    return postgres.pid_alive(pid)


def spawn(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start ``cmd`` in its own session (its PID is the server's), output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
    return proc.pid


def stop_pid(pid: int, sig: int, match: str, timeout: float = 30) -> None:
    if not pid_alive(pid, match):
        return
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while pid_alive(pid, match) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid, match):
        print(f"pid {pid} did not stop in {timeout:.0f} s: SIGKILL", file=sys.stderr)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pid_alive(pid, match) and time.monotonic() < deadline:
            time.sleep(0.1)


class Ports:
    """Hands out ports: the one asked for in the environment (which must be free), else any."""

    def __init__(self) -> None:
        self.taken: set[int] = set()

    def take(self, var: str, default: int = 0, offset: int = 0) -> int:
        wanted = int(os.environ.get(var, str(default)))
        if wanted:
            port = wanted + offset
            if port in self.taken or not postgres.port_is_free(port):
                raise StackError(f"port {port} ({var}) is in use: free it or set {var}=<port>/0")
        else:
            port = postgres.free_port()
            while port in self.taken:
                port = postgres.free_port()
        self.taken.add(port)
        return port


def wait_for(what: str, ready: Callable[[], bool], log: Path, pid: int, match: str = "") -> None:
    """Poll ``ready()`` until it is true; fail when the process dies or after STACK_TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    last = ""
    while True:
        try:
            if ready():
                return
        except Exception as error:  # not ready yet, whatever the reason
            last = f"{type(error).__name__}: {error}"
        if pid and not pid_alive(pid, match):
            raise StackError(f"{what} exited during start-up; see {log}")
        if time.monotonic() > deadline:
            raise StackError(f"{what} not ready after {TIMEOUT:.0f} s ({last}); see {log}")
        time.sleep(0.2)


def http_get(url: str, timeout: float = 2) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def answers_200(url: str) -> Callable[[], bool]:
    return lambda: http_get(url)[0] == 200


def redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")


def smtp_banner(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        ok = sock.recv(256).startswith(b"220")
        sock.sendall(b"QUIT\r\n")
        return ok


def psql(port: int, sql: str) -> str:
    out = subprocess.run(
        [str(postgres.PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
         "-d", postgres.DB_NAME, "-Atc", sql],
        capture_output=True, text=True, check=True, timeout=10,
    )  # fmt: skip
    return out.stdout.strip()


# --- state --------------------------------------------------------------------------------------


def load_state() -> dict[str, Any] | None:
    if not STATE.exists():
        return None
    return dict(json.loads(STATE.read_text()))


def save_state(state: dict[str, Any]) -> None:
    STACK.mkdir(parents=True, exist_ok=True)
    tmp = STATE.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(STATE)


def table(state: dict[str, Any], with_status: bool = False) -> str:
    rows = [["component", "pid", "address", "log"] + (["status"] if with_status else [])]
    for c in state["components"]:
        log = Path(c["log"])
        row = [c["name"], str(c["pid"]), c["address"],
               str(log.relative_to(ROOT) if log.is_relative_to(ROOT) else log)]  # fmt: skip
        if with_status:
            row.append("up" if pid_alive(c["pid"], c["match"]) else "DOWN")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    env = state.get("env", {})
    lines += [
        "",
        f"site:       {state['url']}  (API: {state['url']}/api/articles)",
        f"prometheus: {state.get('prometheus_url', '-')}",
        f"DATABASE_URL={env.get('DATABASE_URL', '-')}",
        f"DATABASE_REPLICA_URLS={env.get('DATABASE_REPLICA_URLS', '-')}",
        f"CACHE_URL={env.get('CACHE_URL', '-')}",
        f"EMAIL_URL={env.get('EMAIL_URL', '-')}"
        f"  (mail lands in {os.path.relpath(STACK / 'mail', ROOT)}/)",
        f"CELERY_BROKER_URL={env.get('CELERY_BROKER_URL', '-')}  (queues {QUEUES})",
    ]
    return "\n".join(lines)


# --- configuration files ------------------------------------------------------------------------


# Seconds a stopping app server gives its in-flight requests (granian's --workers-kill-timeout;
# deploy/docker/entrypoint.sh uses the same 30, under Kubernetes' terminationGracePeriodSeconds).
DRAIN_TIMEOUT = int(os.environ.get("STACK_DRAIN_TIMEOUT", "30"))


def app_server_argv(port: int, *, workers: int = 1, threads: int = 4) -> list[str]:
    """granian serving Conduit on 127.0.0.1:``port``: the stack's app servers and tests/stack/.

    On SIGTERM granian closes its listening socket at once (new connections are refused, so the
    load balancer tries another server), lets in-flight requests finish for up to DRAIN_TIMEOUT
    seconds, then exits (tests/stack/test_drain.py).
    """
    return [str(GRANIAN), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads), "--no-ws",
            "--respawn-failed-workers", "--workers-kill-timeout", str(DRAIN_TIMEOUT),
            "--log-level", os.environ.get("GRANIAN_LOG_LEVEL", "warning"),
            "config.wsgi:application"]  # fmt: skip


# Request bodies: the largest is an avatar upload, AVATAR_MAX_BYTES (5 MiB by default, as in
# config/settings.py) plus the multipart envelope and the form's other fields; 1 MiB covers those.
MAX_BODY_BYTES = int(os.environ.get("AVATAR_MAX_BYTES", str(5 * 1024 * 1024))) + 1024 * 1024


def nginx_conf(
    prefix: Path,
    port: int,
    app_ports: list[int],
    static_root: Path,
    fail_timeout: int = 5,
    media_root: Path | None = None,
) -> Path:
    """nginx.conf under ``prefix``: a failed app server is skipped for ``fail_timeout`` seconds
    (passive checks: nginx's open-source build has no active health checks; HAProxy does).
    With ``media_root``, nginx serves its avatars/ folder itself (the app runs with
    MEDIA_SERVE=false); without it, /media/ goes to the app like any other path."""
    upstreams = "\n".join(
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout={fail_timeout}s;" for p in app_ports
    )
    media = ""
    if media_root is not None:
        media = f"""
        # Avatars: each upload's files live under a fresh random folder and never change, so
        # they are cacheable forever, as conduit/platform/media.py serves them in `make run`.
        # Only that folder is public; nothing else under MEDIA_ROOT is.
        location /media/avatars/ {{
            alias {media_root}/avatars/;
            add_header Cache-Control "public, max-age=31536000, immutable" always;
            add_header X-Content-Type-Options nosniff always;
            access_log off;
        }}
        location /media/ {{
            return 404;
        }}
"""
    conf = f"""# Generated by tools/stack.py for `make stack`: rewritten at each start.
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {prefix}/tmp/client;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    server_tokens off;

    # The client's X-Request-ID when it sent one, else nginx's own; passed to the app (which
    # validates it) and written in the access log, so one id follows a request end to end.
    map $http_x_request_id $conduit_request_id {{
        default $http_x_request_id;
        "" $request_id;
    }}
    log_format conduit_json escape=json '{{"time":"$time_iso8601","remote_addr":"$remote_addr",'
        '"request_id":"$conduit_request_id","method":"$request_method","uri":"$request_uri",'
        '"status":$status,"bytes":$body_bytes_sent,"request_time":$request_time,'
        '"upstream":"$upstream_addr","upstream_status":"$upstream_status",'
        '"upstream_time":"$upstream_response_time","user_agent":"$http_user_agent"}}';
    access_log {prefix}/access.log conduit_json;

    gzip on;
    gzip_types text/css application/javascript application/json image/svg+xml text/plain;
    gzip_min_length 1024;

    upstream conduit_app {{
{upstreams}
        keepalive 32;
    }}

    server {{
        listen 127.0.0.1:{port};
        server_name 127.0.0.1 localhost;
        client_max_body_size {MAX_BODY_BYTES};  # an avatar upload (AVATAR_MAX_BYTES) + 1 MiB

        location / {{
            proxy_pass http://conduit_app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;  # with its port: CSRF compares Origin
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $conduit_request_id;
            proxy_connect_timeout 2s;
            proxy_send_timeout 30s;
            proxy_read_timeout 30s;
            # A dead or restarting app server: try the next one (nginx never retries a
            # non-idempotent request that reached an upstream).
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 2;
        }}

        # Prometheus scrapes each app server directly; the metrics are not public.
        location = /metrics {{
            return 404;
        }}

        # Hashed file names (ManifestStaticFilesStorage): cacheable forever.
        location /static/ {{
            alias {static_root}/;
            expires max;
            access_log off;
        }}
{media}    }}
}}
"""
    path = prefix / "nginx.conf"
    path.write_text(conf)
    return path


# One JSON line per request, like nginx's: the request id, the server that answered, the retries.
HAPROXY_LOG_FORMAT = (
    '{"time":"%tr","request_id":"%[capture.req.hdr(0)]","method":"%HM","uri":"%HU",'
    '"status":%ST,"server":"%s","retries":%rc,"upstream_time":%Tr,"total_time":%Ta}'
)


def haproxy_conf(
    directory: Path, port: int, app_ports: list[int], stats_port: int, check_interval_ms: int = 1000
) -> Path:
    """haproxy.cfg in ``directory`` (STACK_LB=haproxy): the alternative to nginx, with active
    health checks on /healthz (a server is out after 2 failed checks, back after 2 good ones) and
    retries of idempotent requests on another server. Its own metrics on ``stats_port``."""
    servers = "\n".join(
        f"    server app{i} 127.0.0.1:{p}" for i, p in enumerate(app_ports, start=1)
    )
    conf = f"""# Generated by tools/stack.py for `make stack` (STACK_LB=haproxy).
global
    log stdout format raw local0 info
    maxconn 1024
    # A graceful stop (SIGUSR1) waits for open connections, keep-alive ones too: not forever.
    hard-stop-after 10s

defaults
    mode http
    log global
    log-format '{HAPROXY_LOG_FORMAT}'
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 10s
    # A refused connection or a dropped response: retry on another server (at most twice).
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 502 503

frontend conduit
    bind 127.0.0.1:{port}
    # The client's X-Request-ID when it sent one, else HAProxy's own: one id end to end.
    http-request set-header X-Request-ID %[uuid()] unless {{ req.hdr(x-request-id) -m found }}
    http-request capture req.hdr(x-request-id) len 128
    http-request set-header X-Forwarded-Proto http
    option forwardfor
    # Prometheus scrapes each app server directly; the metrics are not public.
    http-request deny deny_status 404 if {{ path /metrics }}
    default_backend conduit_app

backend conduit_app
    balance roundrobin
    # Never replay a write: only GET and HEAD are retried after they reached a server.
    http-request disable-l7-retry if !METH_GET !METH_HEAD
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    default-server check inter {check_interval_ms} fall 2 rise 2 maxconn 64
{servers}

frontend stats
    bind 127.0.0.1:{stats_port}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    stats enable
    stats uri /stats
    stats refresh 5s
"""
    path = directory / "haproxy.cfg"
    path.write_text(conf)
    return path


def prometheus_conf(directory: Path, port: int, jobs: dict[str, list[int]]) -> Path:
    """prometheus.yml: one scrape job per entry of ``jobs`` (name -> loopback ports), itself,
    and the alert rules of deploy/prometheus/alerts.yml."""
    scrapes = "".join(
        f"""  - job_name: {name}
    static_configs:
      - targets: [{", ".join(f'"127.0.0.1:{p}"' for p in ports)}]
"""
        for name, ports in {**jobs, "prometheus": [port]}.items()
        if ports
    )
    conf = f"""# Generated by tools/stack.py for `make stack`: rewritten at each start.
global:
  scrape_interval: 5s
  evaluation_interval: 15s
rule_files:
  - {ALERTS}
scrape_configs:
{scrapes}"""
    path = directory / "prometheus.yml"
    path.write_text(conf)
    return path


def prometheus_targets_up(port: int, expected: int) -> bool:
    status, body = http_get(f"http://127.0.0.1:{port}/api/v1/targets")
    if status != 200:
        return False
    active = json.loads(body)["data"]["activeTargets"]
    return len(active) == expected and all(t["health"] == "up" for t in active)


# --- start, stop, status ------------------------------------------------------------------------


def running(state: dict[str, Any]) -> bool:
    return all(pid_alive(c["pid"], c["match"]) for c in state["components"])


def start() -> int:
    state = load_state()
    if state is not None:
        if state.get("complete") and running(state):
            print("the stack is already running (make stack-stop stops it):\n")
            print(table(state))
            return 0
        print("a previous stack is partly down: stopping what is left of it", file=sys.stderr)
        stop_all(state)

    n_apps = int(os.environ.get("STACK_APPS", "2"))
    if n_apps < 1:
        print("STACK_APPS must be at least 1", file=sys.stderr)
        return 2
    if os.environ.get("STACK_LB", "nginx") not in {"nginx", "haproxy"}:
        print("STACK_LB must be nginx (the default) or haproxy", file=sys.stderr)
        return 2
    subprocess.run(["bash", str(ROOT / "tools" / "debian-packages.sh"), *PACKAGES], check=True)

    STACK.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(exist_ok=True)
    state = {"components": [], "pg_base": str(PG_BASE), "complete": False, "env": {}}
    save_state(state)

    def record(name: str, pid: int, address: str, log: Path, match: str, sig: str) -> None:
        state["components"].append(
            {"name": name, "pid": pid, "address": address, "log": str(log), "match": match,
             "stop": sig}
        )  # fmt: skip
        save_state(state)

    try:
        boot(state, record, n_apps)
    except (StackError, subprocess.CalledProcessError, OSError) as error:
        print(f"\nmake stack failed: {error}", file=sys.stderr)
        print("stopping what was started", file=sys.stderr)
        stop_all(state)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: stopping what was started", file=sys.stderr)
        stop_all(state)
        return 130
    state["complete"] = True
    save_state(state)
    print("\nthe stack is running (make stack-status, make stack-stop):\n")
    print(table(state))
    return 0


def boot(state: dict[str, Any], record: Callable[..., None], n_apps: int) -> None:
    ports = Ports()
    http_port = ports.take("STACK_HTTP_PORT", 8080)
    pg_port = ports.take("STACK_PG_PORT")
    replica_port = ports.take("STACK_PG_REPLICA_PORT")
    redis_port = ports.take("STACK_REDIS_PORT")
    smtp_port = ports.take("STACK_SMTP_PORT")
    prom_port = ports.take("STACK_PROMETHEUS_PORT")
    app_ports = [ports.take("STACK_APP_PORT", offset=i) for i in range(n_apps)]
    worker_port = ports.take("STACK_WORKER_METRICS_PORT")
    node_port = ports.take("STACK_NODE_EXPORTER_PORT")
    lb_stats_port = ports.take("STACK_LB_STATS_PORT")
    lb = os.environ.get("STACK_LB", "nginx")

    # PostgreSQL primary (tools/postgres.py: initdb as postgres, durable settings, trust auth on
    # loopback; the default pg_hba.conf already allows replication connections from 127.0.0.1).
    print(f"== PostgreSQL primary on 127.0.0.1:{pg_port}", flush=True)
    primary_dir = PG_BASE / "primary"
    PG_BASE.mkdir(mode=0o755, exist_ok=True)
    PG_BASE.chmod(0o755)
    try:
        database_url = postgres.start(primary_dir, pg_port, fast=False, fresh=True)
    except SystemExit as error:
        raise StackError(f"PostgreSQL primary: {error}; see {primary_dir / 'server.log'}") from None
    record("postgres-primary", int((primary_dir / "server.pid").read_text()),
           f"127.0.0.1:{pg_port}", primary_dir / "server.log", "postgres", "INT")  # fmt: skip

    # The streaming replica: a base backup of the primary with standby.signal and
    # primary_conninfo (-R), started as a hot standby on its own port.
    print(f"== PostgreSQL streaming replica on 127.0.0.1:{replica_port}", flush=True)
    replica_dir = PG_BASE / "replica"
    if replica_dir.exists():
        shutil.rmtree(replica_dir)
    replica_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(replica_dir, "postgres", "postgres")
    replica_log = replica_dir / "server.log"
    subprocess.run(
        postgres.as_postgres(
            [str(postgres.PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(pg_port),
             "-U", "postgres", "-D", str(replica_dir / "data"), "-R", "-X", "stream", "-c", "fast"]
        ),
        check=True,
    )  # fmt: skip
    replica_pid = spawn(
        postgres.as_postgres(
            [str(postgres.PG_BIN / "postgres"), "-D", str(replica_dir / "data"),
             "-c", f"port={replica_port}", "-c", "listen_addresses=127.0.0.1",
             "-c", f"unix_socket_directories={replica_dir}", "-c", "max_connections=200",
             "-c", "hot_standby=on"]
        ),
        replica_log,
    )  # fmt: skip
    record("postgres-replica", replica_pid, f"127.0.0.1:{replica_port}", replica_log, "postgres",
           "INT")  # fmt: skip

    def replica_ready() -> bool:
        isready = [str(postgres.PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-q"]
        if subprocess.run([*isready, "-p", str(replica_port)], check=False).returncode != 0:
            return False
        return psql(pg_port, STREAMING) == "1"

    wait_for("PostgreSQL replica (streaming)", replica_ready, replica_log, replica_pid, "postgres")
    replica_url = f"postgres://postgres@127.0.0.1:{replica_port}/{postgres.DB_NAME}"

    print(f"== Redis on 127.0.0.1:{redis_port}", flush=True)
    redis_dir = STACK / "redis"
    redis_dir.mkdir(exist_ok=True)
    redis_log = LOGS / "redis.log"
    redis_pid = spawn(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes", "--dir", str(redis_dir), "--daemonize", "no"],
        redis_log,
    )  # fmt: skip
    record("redis", redis_pid, f"127.0.0.1:{redis_port}", redis_log, "redis-server", "TERM")
    wait_for("Redis", lambda: redis_ping(redis_port), redis_log, redis_pid, "redis-server")

    print(f"== SMTP sink on 127.0.0.1:{smtp_port} (mail in var/stack/mail/)", flush=True)
    mail_dir = STACK / "mail"
    # A Maildir: aiosmtpd's Mailbox handler creates one only where no directory exists yet, and
    # fails every delivery (SMTP 500) into a bare directory.
    for sub in ("tmp", "new", "cur"):
        (mail_dir / sub).mkdir(parents=True, exist_ok=True)
    smtp_log = LOGS / "smtp.log"
    smtp_pid = spawn(
        [str(PY), "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}",
         "-c", "aiosmtpd.handlers.Mailbox", str(mail_dir)],
        smtp_log,
    )  # fmt: skip
    record("smtp-sink", smtp_pid, f"127.0.0.1:{smtp_port}", smtp_log, "aiosmtpd", "TERM")
    wait_for("SMTP sink", lambda: smtp_banner(smtp_port), smtp_log, smtp_pid, "aiosmtpd")

    # The app's environment. DATABASE_REPLICA_URLS, CACHE_URL and EMAIL_URL are passed along for
    # the issues that read them (replica reads and caching: issue 8; mail: issue 5).
    secret_file = STACK / "secret_key"
    if not secret_file.exists() or not secret_file.read_text().strip():
        secret_file.touch(mode=0o600)
        secret_file.write_text(secrets.token_urlsafe(50) + "\n")
    static_root = STACK / "static"
    media_root = STACK / "media"
    (media_root / "avatars").mkdir(parents=True, exist_ok=True)
    app_env = {
        "DATABASE_URL": database_url,
        "DATABASE_REPLICA_URLS": replica_url,
        "CACHE_URL": f"redis://127.0.0.1:{redis_port}/0",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/1",
        "DEBUG": "false",
        "DATABASE_POOL": "true",  # ADR 0017: measured ahead of persistent connections and pgbouncer
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Image URLs in API answers and links in emails: the load balancer's address.
        "SITE_URL": os.environ.get("SITE_URL") or f"http://127.0.0.1:{http_port}",
        "LOG_FORMAT": "json",
        "STATIC_ROOT": str(static_root),
        "MEDIA_ROOT": str(media_root),
        # nginx serves the avatars; behind HAProxy (which serves no files) the app does.
        "MEDIA_SERVE": "true" if lb == "haproxy" else "false",
    }
    state["env"] = app_env
    save_state(state)
    env = {**os.environ, **app_env, "SECRET_KEY": secret_file.read_text().strip()}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)

    print("== migrate, collectstatic, seed_demo", flush=True)
    setup_log = LOGS / "setup.log"
    for args in (["migrate", "--noinput"], ["collectstatic", "--noinput", "--clear"],
                 ["seed_demo"]):  # fmt: skip
        print(f"   manage.py {args[0]} ...", end=" ", flush=True)  # each takes seconds
        started = time.monotonic()
        with open(setup_log, "ab") as out:
            done = subprocess.run(
                [str(PY), "manage.py", *args], env=env, cwd=ROOT, stdout=out,
                stderr=subprocess.STDOUT, check=False,
            )  # fmt: skip
        print(f"{time.monotonic() - started:.1f} s", flush=True)
        if done.returncode != 0:
            raise StackError(f"manage.py {args[0]} failed; see {setup_log}")

    for i, port in enumerate(app_ports, start=1):
        print(f"== app server {i} (granian) on 127.0.0.1:{port}", flush=True)
        metrics_dir = STACK / "metrics" / f"app-{i}"
        if metrics_dir.exists():
            shutil.rmtree(metrics_dir)
        metrics_dir.mkdir(parents=True)
        log = LOGS / f"app-{i}.log"
        pid = spawn(
            app_server_argv(port), log, {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        )
        record(f"app-{i}", pid, f"127.0.0.1:{port}", log, "granian", "TERM")
    for i, port in enumerate(app_ports, start=1):
        pid = state["components"][-n_apps + i - 1]["pid"]
        url = f"http://127.0.0.1:{port}/readyz"
        wait_for(f"app server {i} /readyz", answers_200(url), LOGS / f"app-{i}.log", pid, "granian")

    site = f"http://127.0.0.1:{http_port}"
    state["url"] = site
    if lb == "haproxy":
        print(f"== HAProxy on 127.0.0.1:{http_port} (stats on :{lb_stats_port})", flush=True)
        haproxy_dir = STACK / "haproxy"
        haproxy_dir.mkdir(exist_ok=True)
        conf = haproxy_conf(haproxy_dir, http_port, app_ports, lb_stats_port)
        lb_log = LOGS / "haproxy.log"
        test = subprocess.run([binary("haproxy"), "-c", "-q", "-f", str(conf)],
                              capture_output=True, text=True, check=False)  # fmt: skip
        if test.returncode != 0:
            raise StackError(f"HAProxy config {conf} is invalid: {test.stderr.strip()}")
        # -db: stay in the foreground (its PID is the one recorded); USR1 is its graceful stop.
        lb_pid = spawn([binary("haproxy"), "-f", str(conf), "-db"], lb_log)
        record("haproxy", lb_pid, f"127.0.0.1:{http_port}", lb_log, "haproxy", "USR1")
    else:
        print(f"== nginx on 127.0.0.1:{http_port}", flush=True)
        prefix = STACK / "nginx"
        (prefix / "tmp").mkdir(parents=True, exist_ok=True)
        conf = nginx_conf(prefix, http_port, app_ports, static_root, media_root=media_root)
        lb_log = prefix / "error.log"
        test = subprocess.run(
            [binary("nginx"), "-t", "-q", "-p", str(prefix), "-c", str(conf), "-e", str(lb_log)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if test.returncode != 0:
            raise StackError(f"nginx config {conf} is invalid: {test.stderr.strip()}")
        lb_pid = spawn(
            [binary("nginx"), "-p", str(prefix), "-c", str(conf), "-e", str(lb_log),
             "-g", "daemon off;"],
            lb_log,
        )  # fmt: skip
        record("nginx", lb_pid, f"127.0.0.1:{http_port}", lb_log, "nginx", "QUIT")
    wait_for(f"{lb} -> /healthz", lambda: http_get(f"{site}/healthz")[0] == 200, lb_log, lb_pid,
             lb)  # fmt: skip

    # Celery: one worker for every queue (its pool processes write metrics to their own
    # multiprocess directory; the main process serves them on worker_port) and beat, whose
    # schedule file lives under var/stack/.
    print(f"== Celery worker (queues {QUEUES}, metrics on :{worker_port}) and beat", flush=True)
    worker_metrics = STACK / "metrics" / "worker"
    if worker_metrics.exists():
        shutil.rmtree(worker_metrics)
    worker_metrics.mkdir(parents=True)
    worker_log = LOGS / "celery-worker.log"
    worker_pid = spawn(
        [str(CELERY), "-A", "config", "worker", "-Q", QUEUES, "--concurrency", "2",
         "--hostname", f"stack-worker@{socket.gethostname()}", "--loglevel", "INFO",
         "--without-mingle", "--without-gossip"],
        worker_log,
        {**env, "PROMETHEUS_MULTIPROC_DIR": str(worker_metrics),
         "CELERY_METRICS_PORT": str(worker_port)},
    )  # fmt: skip
    record("celery-worker", worker_pid, f"metrics 127.0.0.1:{worker_port}", worker_log,
           "worker", "TERM")  # fmt: skip
    beat_log = LOGS / "celery-beat.log"
    beat_pid = spawn(
        [str(CELERY), "-A", "config", "beat", "--loglevel", "INFO",
         "--schedule", str(STACK / "celerybeat-schedule")],
        beat_log,
        env,
    )  # fmt: skip
    record("celery-beat", beat_pid, "-", beat_log, "beat", "TERM")
    wait_for("Celery worker", lambda: b" ready." in worker_log.read_bytes(), worker_log,
             worker_pid, "worker")  # fmt: skip
    wait_for("Celery beat", lambda: b"beat: Starting" in beat_log.read_bytes(), beat_log,
             beat_pid, "beat")  # fmt: skip

    jobs = {"conduit-app": app_ports, "celery-worker": [worker_port]}
    if lb == "haproxy":
        jobs["haproxy"] = [lb_stats_port]
    exporter = shutil.which("prometheus-node-exporter")
    if exporter:  # the host's disk, CPU and memory for the disk alerts (Debian's exporter)
        print(f"== node exporter on 127.0.0.1:{node_port}", flush=True)
        node_log = LOGS / "node-exporter.log"
        node_pid = spawn(
            [exporter, f"--web.listen-address=127.0.0.1:{node_port}",
             "--collector.disable-defaults", "--collector.filesystem", "--collector.cpu",
             "--collector.meminfo", "--collector.loadavg"],
            node_log,
        )  # fmt: skip
        record("node-exporter", node_pid, f"127.0.0.1:{node_port}", node_log, "node-exporter",
               "TERM")  # fmt: skip
        jobs["node"] = [node_port]

    print(
        f"== Prometheus on 127.0.0.1:{prom_port} (alerts: deploy/prometheus/alerts.yml)", flush=True
    )
    prom_dir = STACK / "prometheus"
    (prom_dir / "data").mkdir(parents=True, exist_ok=True)
    prom_conf = prometheus_conf(prom_dir, prom_port, jobs)
    prom_log = LOGS / "prometheus.log"
    prom_pid = spawn(
        [binary("prometheus"), f"--config.file={prom_conf}",
         f"--storage.tsdb.path={prom_dir / 'data'}",
         f"--web.listen-address=127.0.0.1:{prom_port}", "--storage.tsdb.retention.time=7d"],
        prom_log,
    )  # fmt: skip
    record("prometheus", prom_pid, f"127.0.0.1:{prom_port}", prom_log, "prometheus", "TERM")
    state["prometheus_url"] = f"http://127.0.0.1:{prom_port}"
    targets = sum(len(ports) for ports in jobs.values()) + 1
    wait_for("Prometheus (every target up)", lambda: prometheus_targets_up(prom_port, targets),
             prom_log, prom_pid, "prometheus")  # fmt: skip


def stop_all(state: dict[str, Any]) -> bool:
    """Stop every recorded process in reverse start order; True when none is left alive."""
    for c in reversed(state["components"]):
        if pid_alive(c["pid"], c["match"]):
            print(f"stopping {c['name']} (pid {c['pid']})", flush=True)
            with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
                # An app server may take DRAIN_TIMEOUT to finish its requests: no SIGKILL before.
                grace = DRAIN_TIMEOUT + 5 if c["match"] == "granian" else 30
                stop_pid(c["pid"], getattr(signal, f"SIG{c['stop']}"), c["match"], grace)
    left = [c for c in state["components"] if pid_alive(c["pid"], c["match"])]
    for c in left:
        print(f"still alive: {c['name']} (pid {c['pid']})", file=sys.stderr)
    if not left:
        for name in ("primary", "replica"):
            (Path(state["pg_base"]) / name / "server.pid").unlink(missing_ok=True)
        STATE.unlink(missing_ok=True)
    return not left


def stop() -> int:
    state = load_state()
    if state is None:
        print("no stack recorded in var/stack/state.json: nothing to stop")
        return 0
    if stop_all(state):
        print("the stack is stopped")
        return 0
    return 1


def status() -> int:
    state = load_state()
    if state is None:
        print("the stack is not running (no var/stack/state.json)")
        return 3
    state.setdefault("url", "-")
    print(table(state, with_status=True))
    return 0 if running(state) else 1


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in {"start", "stop", "status"}:
        print(__doc__)
        return 2
    os.chdir(ROOT)
    return {"start": start, "stop": stop, "status": status}[sys.argv[1]]()


if __name__ == "__main__":
    sys.exit(main())
