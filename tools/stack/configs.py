"""The load balancers', Patroni's and Prometheus' configurations, made from the files in deploy/
(that compose uses too, for nginx and Prometheus: ADR 0021), with loopback ports and var/stack/
paths filled in.

nginx, HAProxy and Patroni: text templates whose ``${CONDUIT_NAME}`` placeholders are filled in
as envsubst fills them (nginx's official image renders the same file at start for compose).
Prometheus: the YAML compose loads as it is, with each job's service discovery swapped for
loopback targets.
"""

from __future__ import annotations

import os
import pwd
import re
from pathlib import Path

import postgres  # tools/postgres.py
import yaml

from .core import DEPLOY, StackError
from .tls import Tls

NGINX_TEMPLATE = DEPLOY / "nginx" / "conduit.conf.template"
HAPROXY_TEMPLATE = DEPLOY / "haproxy" / "conduit.cfg.template"
PROMETHEUS_BASE = DEPLOY / "prometheus" / "prometheus.yml"
PATRONI_TEMPLATE = DEPLOY / "patroni" / "patroni.yml.template"
HAPROXY_POSTGRES_TEMPLATE = DEPLOY / "haproxy" / "postgres.cfg.template"
PGBACKREST_TEMPLATE = DEPLOY / "pgbackrest" / "pgbackrest.conf.template"

BROTLI_STATIC_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")

_PLACEHOLDER = re.compile(r"\$\{(CONDUIT_[A-Z0-9_]+)\}")

# Request bodies: the largest is an avatar upload, AVATAR_MAX_BYTES (5 MiB by default, as in
# config/settings.py) plus the multipart envelope and the form's other fields; 1 MiB covers those.
MAX_BODY_BYTES = int(os.environ.get("AVATAR_MAX_BYTES", str(5 * 1024 * 1024))) + 1024 * 1024


def render(template: Path, values: dict[str, str]) -> str:
    """``template`` with each ``${CONDUIT_NAME}`` replaced by ``values["CONDUIT_NAME"]``, as
    ``envsubst '${CONDUIT_NAME}...'`` does; everything else (nginx's ``$host``...) stays. A
    placeholder without a value, or a value without a placeholder, is an error: a renamed one
    must not go unnoticed."""
    text = template.read_text()
    wanted = set(_PLACEHOLDER.findall(text))
    if wanted != set(values):
        missing, unused = sorted(wanted - set(values)), sorted(set(values) - wanted)
        raise StackError(f"{template}: placeholders without a value {missing}, unused {unused}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def nginx_limits() -> dict[str, str]:
    """nginx's limit_req values for the stack, per client address: generous on one machine, where
    every test suite and the bench come from 127.0.0.1 (the bench raises them:
    tools/bench/stack.sh)."""
    return {
        "CONDUIT_REQUESTS_PER_SECOND": os.environ.get("STACK_NGINX_REQUESTS_PER_SECOND") or "2000",
        "CONDUIT_REQUESTS_BURST": os.environ.get("STACK_NGINX_REQUESTS_BURST") or "4000",
        "CONDUIT_SIGN_INS_PER_MINUTE": os.environ.get("STACK_NGINX_SIGN_INS_PER_MINUTE") or "300",
        # A minute's worth at once: RealWorld's Hurl suite and Postman collection, run back to
        # back against make stack, sign in and register ~70 times in a few seconds.
        "CONDUIT_SIGN_INS_BURST": os.environ.get("STACK_NGINX_SIGN_INS_BURST") or "300",
    }


HTTP_REDIRECTS = ("browsers", "all", "off")


def nginx_tls(https_port: int, tls: Tls, redirect: str = "browsers") -> str:
    """The template's CONDUIT_TLS for make stack (ADR 0033): HTTPS on ``https_port`` beside the
    plain port, and which plain requests are redirected there: ``browsers``, the navigations that
    say they would rather have HTTPS (``Upgrade-Insecure-Requests: 1``, which every browser sends
    and curl, wrk, k6, hurl and the drills do not); ``all`` (but /healthz and /readyz, which
    make stack and the probes ask over plain HTTP); or ``off``. HSTS comes from the app
    (SECURE_HSTS_SECONDS) on a request nginx marks as HTTPS (X-Forwarded-Proto)."""
    if redirect not in HTTP_REDIRECTS:
        raise StackError(f"STACK_HTTP_REDIRECT must be one of {', '.join(HTTP_REDIRECTS)}")
    lines = [
        f"listen 127.0.0.1:{https_port} ssl;",
        f"ssl_certificate {tls.cert};",
        f"ssl_certificate_key {tls.key};",
        "ssl_protocols TLSv1.2 TLSv1.3;",
    ]
    to_https = f"return 308 https://$host:{https_port}$request_uri;"
    if redirect == "browsers":
        lines += [
            'set $conduit_to_https "$scheme:$http_upgrade_insecure_requests";',
            f'if ($conduit_to_https = "http:1") {{ {to_https} }}',
        ]
    elif redirect == "all":  # but the probes, as the app's SECURE_REDIRECT_EXEMPT
        lines += [
            "set $conduit_to_https $scheme;",
            'if ($uri ~ "^/(healthz|readyz)$") { set $conduit_to_https probe; }',
            f"if ($conduit_to_https = http) {{ {to_https} }}",
        ]
    return "\n    ".join(lines)


def nginx_edge_cache(prefix: Path, on: bool | None = None) -> dict[str, str]:
    """The edge micro-cache (ADR 0028) under ``prefix``/edge-cache: ``on``, or when None on
    unless STACK_EDGE_CACHE is off (the bench compares both)."""
    if on is None:
        switch = os.environ.get("STACK_EDGE_CACHE") or "on"
        if switch not in ("on", "off"):
            raise StackError(f"STACK_EDGE_CACHE={switch}: on or off")
        on = switch == "on"
    return {
        "CONDUIT_EDGE_CACHE": "conduit_edge" if on else "off",
        "CONDUIT_EDGE_CACHE_PATH": str(prefix / "edge-cache"),
    }


def nginx_conf(
    prefix: Path,
    port: int,
    app_ports: list[int],
    files_root: Path,
    fail_timeout: int = 5,
    limits: dict[str, str] | None = None,
    events_ports: list[int] | None = None,
    tls: str = "",
    edge_cache: bool | None = None,
) -> Path:
    """nginx.conf under ``prefix`` (also its pid, logs and temporary files) and conduit.conf, the
    rendered deploy/nginx/conduit.conf.template it includes. A failed app server is skipped for
    ``fail_timeout`` seconds. nginx serves ``files_root``/static/ and /media/avatars/ itself when
    it finds the file there (the stack's app then runs with MEDIA_SERVE=false); anything else goes
    to the app. ``tls``: nginx_tls's lines, or none for plain HTTP only.
    ``edge_cache``: the edge micro-cache on or off (None: STACK_EDGE_CACHE); its
    files are under ``prefix``, which nginx's workers (``nobody`` when started as root) must be
    able to reach."""
    servers = "\n    ".join(
        f"server 127.0.0.1:{p} max_fails=1 fail_timeout={fail_timeout}s;" for p in app_ports
    )
    site = prefix / "conduit.conf"
    site.write_text(
        "# Generated by tools/stack from deploy/nginx/conduit.conf.template at each start.\n"
        + render(
            NGINX_TEMPLATE,
            {
                "CONDUIT_UPSTREAM_SERVERS": servers,
                # No events server (tests of the balancer alone): /events/ answers 502.
                "CONDUIT_EVENTS_SERVERS": "\n    ".join(
                    f"server 127.0.0.1:{p};" for p in (events_ports or [port])
                ),
                "CONDUIT_LISTEN": f"127.0.0.1:{port}",
                "CONDUIT_CLIENT_MAX_BODY_SIZE": str(MAX_BODY_BYTES),
                "CONDUIT_FILES_ROOT": str(files_root),
                "CONDUIT_ACCESS_LOG": str(prefix / "access.log"),
                **(limits or nginx_limits()),
                "CONDUIT_TLS": tls,
                **nginx_edge_cache(prefix, edge_cache),
            },
        )
    )
    # The process-level part, which under compose is the image's own /etc/nginx/nginx.conf.
    # Debian's brotli_static module (libnginx-mod-http-brotli-static) serves collectstatic's .br
    # files; compose's image has no such module, and no static files either (whitenoise serves
    # them, brotli included): ADR 0029. 8,192 connections: an open event stream holds two
    # (ADR 0030), and 1,024 stopped at ~500 readers.
    brotli = BROTLI_STATIC_MODULE.exists()
    # Started as root, nginx runs its workers as `nobody`, who cannot read what they serve and
    # write (var/static, the media, the edge cache, the temporary files) in a checkout under
    # /root (0700) or pytest's temporary directories: 500s. The workers run as whoever started
    # the stack, as every other process of make stack but PostgreSQL does.
    worker_user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    main = f"""# Generated by tools/stack for `make stack`: rewritten at each start.
{f"load_module {BROTLI_STATIC_MODULE};" if brotli else ""}
{worker_user}
worker_processes 1;
worker_rlimit_nofile 20000;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 8192; }}
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
    {"brotli_static on;" if brotli else ""}
    include {site};
}}
"""
    path = prefix / "nginx.conf"
    path.write_text(main)
    return path


def haproxy_tls(https_port: int, pem: Path, redirect: str = "browsers") -> str:
    """The HAProxy template's CONDUIT_TLS: as nginx_tls, for STACK_LB=haproxy (``pem``: the
    certificate and its key in one file, tls.Tls.pem)."""
    if redirect not in HTTP_REDIRECTS:
        raise StackError(f"STACK_HTTP_REDIRECT must be one of {', '.join(HTTP_REDIRECTS)}")
    lines = [
        f"bind 127.0.0.1:{https_port} ssl crt {pem}",
        "http-request set-header X-Forwarded-Proto https if { ssl_fc }",
    ]
    to_https = (
        f"http-request redirect location https://%[req.hdr(host),field(1,:)]:{https_port}"
        "%[capture.req.uri] code 308 if !{ ssl_fc }"
    )
    if redirect == "browsers":
        lines.append(to_https + " { req.hdr(upgrade-insecure-requests) -m str 1 }")
    elif redirect == "all":
        lines.append(to_https + " !{ path_reg ^/(healthz|readyz)$ }")
    return "\n    ".join(lines)


def haproxy_conf(
    directory: Path,
    port: int,
    app_ports: list[int],
    stats_port: int,
    check_interval_ms: int = 1000,
    tls: str = "",
    events_ports: list[int] | None = None,
) -> Path:
    """haproxy.cfg in ``directory`` (STACK_LB=haproxy): deploy/haproxy/conduit.cfg.template with
    the app servers, the events servers (``events_ports``; none: /events/ answers 503), a health
    check every ``check_interval_ms``, and its metrics on ``stats_port``. ``tls``: haproxy_tls's
    lines, or none for plain HTTP only."""
    servers = "\n    ".join(
        f"server app{i} 127.0.0.1:{p}" for i, p in enumerate(app_ports, start=1)
    )
    events = "\n    ".join(
        f"server events{i} 127.0.0.1:{p}" for i, p in enumerate(events_ports or [], start=1)
    )
    text = render(
        HAPROXY_TEMPLATE,
        {
            "CONDUIT_BIND": f"127.0.0.1:{port}",
            "CONDUIT_SERVERS": servers,
            "CONDUIT_EVENTS_SERVERS": events,
            "CONDUIT_CHECK_INTERVAL_MS": str(check_interval_ms),
            "CONDUIT_STATS_BIND": f"127.0.0.1:{stats_port}",
            "CONDUIT_TLS": tls,
        },
    )
    path = directory / "haproxy.cfg"
    path.write_text(
        "# Generated by tools/stack from deploy/haproxy/conduit.cfg.template (STACK_LB=haproxy).\n"
        + text
    )
    return path


def patroni_conf(
    member_dir: Path,
    *,
    scope: str,
    name: str,
    pg_port: int,
    rest_port: int,
    etcd_ports: list[int],
    synchronous: bool,
    archive: tuple[Path, str] | None = None,
    ssl: bool = False,
) -> Path:
    """patroni.yml in ``member_dir`` (the member's own directory, which holds data/ too):
    deploy/patroni/patroni.yml.template for one member on loopback, trusting loopback clients as
    tools/postgres.py does. ``archive``: pgBackRest's config and stanza, to which the leader
    archives its WAL; None: no archiving. ``ssl``: TLS with the certificate and key in the
    member's tls/ directory (tls.Tls.copy_for)."""
    command = archive_command(*archive, member_dir / "data") if archive else ""
    text = render(
        PATRONI_TEMPLATE,
        {
            "CONDUIT_PATRONI_SCOPE": scope,
            "CONDUIT_PATRONI_NAME": name,
            "CONDUIT_PATRONI_REST": f"127.0.0.1:{rest_port}",
            "CONDUIT_ETCD_HOSTS": ",".join(_loopback(etcd_ports)),
            "CONDUIT_PG_LISTEN": f"127.0.0.1:{pg_port}",
            "CONDUIT_PG_BIN_DIR": str(postgres.PG_BIN),
            "CONDUIT_MEMBER_DIR": str(member_dir),
            "CONDUIT_PG_CLIENTS": "127.0.0.1/32",
            "CONDUIT_PG_AUTH": "trust",
            "CONDUIT_SYNCHRONOUS_MODE": "true" if synchronous else "false",
            "CONDUIT_ARCHIVE_MODE": "on" if archive else "off",
            "CONDUIT_ARCHIVE_COMMAND": command,
            "CONDUIT_PG_SSL": "on" if ssl else "off",
        },
    )
    path = member_dir / "patroni.yml"
    path.write_text(
        "# Generated by tools/stack from deploy/patroni/patroni.yml.template at each start.\n"
        + text
    )
    return path


def archive_command(config: Path, stanza: str, data_dir: Path) -> str:
    """PostgreSQL's archive_command on the member whose data is ``data_dir``: pgBackRest pushes
    each finished WAL segment (``%p``) to the repository of ``config``'s ``stanza``. It runs as
    PostgreSQL's user, in ``data_dir``, which pgBackRest checks against pg1-path: the config
    lists every member, so the command names its own."""
    return f"pgbackrest --config={config} --stanza={stanza} --pg1-path={data_dir} archive-push %p"


def pgbackrest_conf(
    path: Path,
    *,
    repo: Path,
    work_dir: Path,
    stanza: str,
    members: list[tuple[Path, int, Path]],
    retention_full: int = 2,
    cipher_pass: str | None = None,
) -> Path:
    """``path``: deploy/pgbackrest/pgbackrest.conf.template with one stanza listing ``members``
    (data directory, port, socket directory), numbered pg1, pg2... in that order: pgBackRest
    backs up whichever of them is the primary when it runs. ``cipher_pass``: the repository is
    encrypted with AES-256 under that passphrase (then the file is for its owner only)."""
    lines = []
    for n, (data_dir, port, socket_dir) in enumerate(members, start=1):
        lines += [f"pg{n}-path={data_dir}", f"pg{n}-port={port}",
                  f"pg{n}-socket-path={socket_dir}", f"pg{n}-user=postgres"]  # fmt: skip
    text = render(
        PGBACKREST_TEMPLATE,
        {
            "CONDUIT_BACKUP_REPO": str(repo),
            "CONDUIT_BACKUP_WORK_DIR": str(work_dir),
            "CONDUIT_BACKUP_RETENTION": str(retention_full),
            "CONDUIT_BACKUP_STANZA": stanza,
            "CONDUIT_BACKUP_MEMBERS": "\n".join(lines),
            "CONDUIT_BACKUP_CIPHER": (
                f"repo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass={cipher_pass}"
                if cipher_pass
                else ""
            ),
        },
    )
    path.write_text(
        "# Generated by tools/stack from deploy/pgbackrest/pgbackrest.conf.template.\n" + text
    )
    return path


def haproxy_postgres_conf(
    directory: Path,
    primary_port: int,
    replica_port: int,
    members: list[tuple[str, int, int]],
    check_interval_ms: int = 500,
) -> Path:
    """postgres.cfg in ``directory``: deploy/haproxy/postgres.cfg.template with ``members``
    (name, PostgreSQL port, Patroni REST port), the leader on ``primary_port`` and the replicas
    on ``replica_port``."""
    servers = "\n    ".join(
        f"server {name} 127.0.0.1:{pg} check port {rest}" for name, pg, rest in members
    )
    text = render(
        HAPROXY_POSTGRES_TEMPLATE,
        {
            "CONDUIT_PRIMARY_BIND": f"127.0.0.1:{primary_port}",
            "CONDUIT_REPLICA_BIND": f"127.0.0.1:{replica_port}",
            "CONDUIT_SERVERS": servers,
            "CONDUIT_CHECK_INTERVAL_MS": str(check_interval_ms),
        },
    )
    path = directory / "postgres.cfg"
    path.write_text(
        "# Generated by tools/stack from deploy/haproxy/postgres.cfg.template at each start.\n"
        + text
    )
    return path


def prometheus_conf(directory: Path, port: int, jobs: dict[str, list[int]]) -> Path:
    """prometheus.yml in ``directory``: deploy/prometheus/prometheus.yml (its settings, its rule
    files, its jobs' names and paths) with every job scraping loopback ports instead of its
    service discovery: ``jobs`` (name -> ports; a name the file lacks is added) and Prometheus
    itself on ``port``. Every 5 s, so `make stack` sees every target up within seconds."""
    config = yaml.safe_load(PROMETHEUS_BASE.read_text())
    config["global"]["scrape_interval"] = "5s"
    config["rule_files"] = [str(PROMETHEUS_BASE.parent / rule) for rule in config["rule_files"]]
    targets = {name: ports for name, ports in {**jobs, "prometheus": [port]}.items() if ports}
    scrapes = []
    for job in config["scrape_configs"]:
        if job["job_name"] not in targets:
            raise StackError(f"{PROMETHEUS_BASE}: make stack has no target for {job['job_name']}")
        kept = {k: v for k, v in job.items() if not k.endswith("_sd_configs")}
        kept["static_configs"] = [{"targets": _loopback(targets.pop(job["job_name"]))}]
        scrapes.append(kept)
    scrapes += [
        {"job_name": name, "static_configs": [{"targets": _loopback(ports)}]}
        for name, ports in targets.items()
    ]
    config["scrape_configs"] = scrapes
    path = directory / "prometheus.yml"
    path.write_text(
        "# Generated by tools/stack from deploy/prometheus/prometheus.yml at each start.\n"
        + yaml.safe_dump(config, sort_keys=False)
    )
    return path


def _loopback(ports: list[int]) -> list[str]:
    return [f"127.0.0.1:{p}" for p in ports]
