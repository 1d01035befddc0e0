"""Ports on 127.0.0.1, and the bench's few HTTP requests (loopback only)."""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from benchkit.cpu import pid_alive


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def port_answers(port: int) -> bool:
    """Something accepts connections on 127.0.0.1:``port`` (within 0.2 s)."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port(avoid: set[int]) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports."""
    ports: list[int] = []
    for _ in range(count):
        ports.append(free_port(set(ports)))
    return ports


def loopback_only(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"make bench sends traffic to loopback only, not to {host!r}")


def http(
    method: str, url: str, body: dict[str, Any] | None = None, token: str | None = None
) -> tuple[int, bytes]:
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - loopback URLs checked by loopback_only
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def wait_until_up(url: str, pid: int | None, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, _ = http("GET", url)
            if status < 500:
                return
        except OSError:
            pass
        if pid is not None and not pid_alive(pid):
            sys.exit(f"the server (pid {pid}) exited before answering {url}")
        if time.monotonic() > deadline:
            sys.exit(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(0.2)
