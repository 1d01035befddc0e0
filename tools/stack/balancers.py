"""The load balancer in front of the app servers: nginx (the default) or HAProxy (STACK_LB=haproxy),
configured from deploy/ (configs.py). Each config is checked (`nginx -t`, `haproxy -c`) before the
balancer starts; it is ready once /healthz answers through it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .configs import haproxy_conf, haproxy_tls, nginx_conf, nginx_tls
from .core import LOGS, STACK, Stack, StackError, binary, http_get, spawn, wait_for
from .tls import Tls


def _check(what: str, conf: Path, argv: list[str]) -> None:
    test = subprocess.run(argv, capture_output=True, text=True, check=False)
    if test.returncode != 0:
        raise StackError(f"{what} config {conf} is invalid: {test.stderr.strip()}")


def _wait_healthz(what: str, port: int, log: Path, pid: int, match: str) -> None:
    site = f"http://127.0.0.1:{port}"
    wait_for(f"{what} -> /healthz", lambda: http_get(f"{site}/healthz")[0] == 200, log, pid, match)


def start_nginx(
    stack: Stack, port: int, app_ports: list[int], https: tuple[int, Tls, str], events_port: int
) -> None:
    """nginx serving var/stack/static/ and var/stack/media/avatars/ itself, on ``port`` and on
    HTTPS: ``https`` is its port, the certificate and which plain requests are redirected there
    (configs.nginx_tls). /events/ goes to the events server (ADR 0030), the rest to the app
    servers."""
    https_port, tls, redirect = https
    print(f"== nginx on 127.0.0.1:{port}, HTTPS on :{https_port} (redirect: {redirect})",
          flush=True)  # fmt: skip
    prefix = STACK / "nginx"
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    conf = nginx_conf(prefix, port, app_ports, STACK, tls=nginx_tls(https_port, tls, redirect),
                      events_ports=[events_port])  # fmt: skip
    log = prefix / "error.log"
    nginx = binary("nginx")
    _check("nginx", conf, [nginx, "-t", "-q", "-p", str(prefix), "-c", str(conf), "-e", str(log)])
    pid = spawn([nginx, "-p", str(prefix), "-c", str(conf), "-e", str(log), "-g", "daemon off;"],
                log)  # fmt: skip
    stack.record("nginx", pid, f"127.0.0.1:{port} (HTTPS :{https_port})", log, "nginx", "QUIT",
                 https_port=https_port)  # fmt: skip
    _wait_healthz("nginx", port, log, pid, "nginx")


def start_haproxy(
    stack: Stack,
    port: int,
    app_ports: list[int],
    stats_port: int,
    https: tuple[int, Tls, str],
    events_port: int,
) -> None:
    """HAProxy with active health checks; its /metrics and /stats on ``stats_port``; HTTPS as
    start_nginx's; /events/ to the events server."""
    https_port, tls, redirect = https
    print(f"== HAProxy on 127.0.0.1:{port} (stats on :{stats_port}), HTTPS on :{https_port} "
          f"(redirect: {redirect})", flush=True)  # fmt: skip
    directory = STACK / "haproxy"
    directory.mkdir(exist_ok=True)
    lines = haproxy_tls(https_port, tls.pem(directory), redirect)
    conf = haproxy_conf(directory, port, app_ports, stats_port, tls=lines,
                        events_ports=[events_port])  # fmt: skip
    log = LOGS / "haproxy.log"
    haproxy = binary("haproxy")
    _check("HAProxy", conf, [haproxy, "-c", "-q", "-f", str(conf)])
    # -db: stay in the foreground (its PID is the one recorded); USR1 is its graceful stop.
    pid = spawn([haproxy, "-f", str(conf), "-db"], log)
    stack.record("haproxy", pid, f"127.0.0.1:{port} (HTTPS :{https_port})", log, "haproxy",
                 "USR1", https_port=https_port)  # fmt: skip
    _wait_healthz("haproxy", port, log, pid, "haproxy")
