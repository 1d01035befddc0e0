"""`make stack` (cli.py says what it runs and how to start it): one module per kind of component
(databases with patroni, backups and restore, services with redis_cluster, apps, balancers, tasks,
monitoring with backup_metrics), the configurations made from deploy/ (configs.py), and what they
share: processes, ports, waiting and the state file (core.py).

Importable with tools/ on sys.path, as the tests and tools/validate-deploy.sh do (``import stack``);
what they use is here.
"""

from . import (
    backup_metrics,
    backups,
    logrotate,
    monitoring,
    patroni,
    redis_cluster,
    restore,
    services,
    status,
    tls,
)
from .apps import DRAIN_TIMEOUT, app_server_argv
from .configs import (
    archive_command,
    haproxy_conf,
    haproxy_postgres_conf,
    haproxy_tls,
    nginx_conf,
    nginx_limits,
    nginx_tls,
    patroni_conf,
    pgbackrest_conf,
    prometheus_conf,
    render,
)
from .core import ROOT, StackError, binary, spawn, stop_pid

__all__ = [
    "DRAIN_TIMEOUT",
    "ROOT",
    "StackError",
    "app_server_argv",
    "archive_command",
    "backup_metrics",
    "backups",
    "binary",
    "haproxy_conf",
    "haproxy_postgres_conf",
    "haproxy_tls",
    "logrotate",
    "monitoring",
    "nginx_conf",
    "nginx_limits",
    "nginx_tls",
    "patroni",
    "patroni_conf",
    "pgbackrest_conf",
    "prometheus_conf",
    "redis_cluster",
    "render",
    "restore",
    "services",
    "spawn",
    "status",
    "stop_pid",
    "tls",
]
