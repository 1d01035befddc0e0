"""Throw-away configs for the servers run.sh starts for a bench: nginx and pgbouncer."""

from __future__ import annotations

from pathlib import Path


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
