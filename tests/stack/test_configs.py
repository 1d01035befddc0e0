"""tools/stack/configs.py: the stack's nginx, HAProxy and Prometheus configurations come from the
same files in deploy/ as compose's (ADR 0021)."""

from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.stack.conftest import ROOT, stack

PLACEHOLDER = re.compile(r"\$\{(CONDUIT_[A-Z0-9_]+)\}")


def test_render_fills_in_the_placeholders_and_nothing_else(tmp_path: Path) -> None:
    template = tmp_path / "t.conf"
    template.write_text("listen ${CONDUIT_LISTEN};\nproxy_set_header Host $http_host;\n")

    text = stack.render(template, {"CONDUIT_LISTEN": "127.0.0.1:1"})

    assert text == "listen 127.0.0.1:1;\nproxy_set_header Host $http_host;\n"


@pytest.mark.parametrize(
    "values",
    [{}, {"CONDUIT_LISTEN": "1", "CONDUIT_RENAMED": "2"}],
    ids=["a placeholder without a value", "a value without a placeholder"],
)
def test_render_refuses_a_mismatch(tmp_path: Path, values: dict[str, str]) -> None:
    template = tmp_path / "t.conf"
    template.write_text("listen ${CONDUIT_LISTEN};\n")

    with pytest.raises(stack.StackError, match="placeholders without a value"):
        stack.render(template, values)


def test_compose_gives_a_value_to_every_placeholder_of_the_nginx_template() -> None:
    template = (ROOT / "deploy" / "nginx" / "conduit.conf.template").read_text()
    nginx = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["nginx"]
    mounted = [v.split(":")[0] for v in nginx["volumes"]]

    assert "./deploy/nginx/conduit.conf.template" in mounted
    assert set(PLACEHOLDER.findall(template)) == {
        name for name in nginx["environment"] if re.search(r"^CONDUIT_", name)
    }
    assert nginx["environment"]["NGINX_ENVSUBST_FILTER"] == "^CONDUIT_"


def test_the_stack_nginx_config_is_the_deploy_template(tmp_path: Path) -> None:
    stack.nginx_conf(tmp_path, 18080, [18001, 18002], tmp_path)

    site = (tmp_path / "conduit.conf").read_text()
    assert "server 127.0.0.1:18001 max_fails=1 fail_timeout=5s;" in site
    assert "listen 127.0.0.1:18080;" in site
    assert f"root {tmp_path};" in site
    assert "$conduit_request_id" in site  # nginx's own variables are left alone
    assert "CONDUIT_" not in site.split("\n\n", 1)[1]  # past the header comment: all filled in
    assert f"include {tmp_path / 'conduit.conf'};" in (tmp_path / "nginx.conf").read_text()


def test_the_stack_nginx_streams_events_from_the_events_server(tmp_path: Path) -> None:
    stack.nginx_conf(tmp_path, 18080, [18001], tmp_path, events_ports=[18050])

    site = (tmp_path / "conduit.conf").read_text()
    upstream = site.split("upstream conduit_events {", 1)[1].split("}", 1)[0]
    assert "server 127.0.0.1:18050;" in upstream
    location = site.split("location /events/ {", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://conduit_events;" in location
    assert "proxy_buffering off;" in location
    assert "proxy_read_timeout 1h;" in location


def test_the_stack_haproxy_streams_events_from_the_events_server(tmp_path: Path) -> None:
    conf = stack.haproxy_conf(tmp_path, 18080, [18001], 18090, events_ports=[18050])

    text = conf.read_text()
    assert "use_backend conduit_events if { path_beg /events/ }" in text
    backend = text.split("backend conduit_events", 1)[1].split("\nfrontend ", 1)[0]
    assert "server events1 127.0.0.1:18050" in backend
    checked = subprocess.run(  # noqa: S603 - Debian's haproxy, our own config
        [stack.binary("haproxy"), "-c", "-q", "-f", str(conf)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr


def test_the_stack_prometheus_config_is_the_deploy_file_with_loopback_targets(
    tmp_path: Path,
) -> None:
    deploy = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())

    path = stack.prometheus_conf(tmp_path, 19090, {"conduit-app": [18001, 18002], "node": [19100]})

    config = yaml.safe_load(path.read_text())
    assert config["global"]["evaluation_interval"] == deploy["global"]["evaluation_interval"]
    assert config["global"]["scrape_interval"] == "5s"
    assert config["rule_files"] == [str(ROOT / "deploy" / "prometheus" / "alerts.yml")]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert list(jobs) == [*(job["job_name"] for job in deploy["scrape_configs"]), "node"]
    app = jobs["conduit-app"]
    assert app["metrics_path"] == "/metrics"
    assert "dns_sd_configs" not in app
    assert app["static_configs"] == [{"targets": ["127.0.0.1:18001", "127.0.0.1:18002"]}]
    assert jobs["prometheus"]["static_configs"] == [{"targets": ["127.0.0.1:19090"]}]


def test_a_deploy_job_the_stack_cannot_scrape_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(stack.StackError, match="no target for conduit-app"):
        stack.prometheus_conf(tmp_path, 19090, {"conduit-app": []})


def patroni_config(tmp_path: Path, synchronous: bool) -> dict[str, Any]:
    path = stack.patroni_conf(
        tmp_path, scope="conduit", name="patroni-2", pg_port=15433, rest_port=18009,
        etcd_ports=[12379], synchronous=synchronous,
    )  # fmt: skip
    assert "${CONDUIT_" not in path.read_text()  # all filled in
    return dict(yaml.safe_load(path.read_text()))


def test_the_stack_patroni_config_is_the_deploy_template_for_one_loopback_member(
    tmp_path: Path,
) -> None:
    config = patroni_config(tmp_path, synchronous=True)

    assert config["scope"] == "conduit"
    assert config["name"] == "patroni-2"
    assert config["restapi"]["listen"] == config["restapi"]["connect_address"] == "127.0.0.1:18009"
    assert config["etcd3"]["hosts"] == "127.0.0.1:12379"
    pg = config["postgresql"]
    assert pg["listen"] == pg["connect_address"] == "127.0.0.1:15433"
    assert pg["data_dir"] == f"{tmp_path}/data"
    assert pg["pgpass"] == f"{tmp_path}/pgpass"
    assert pg["parameters"]["unix_socket_directories"] == str(tmp_path)
    assert "host all all 127.0.0.1/32 trust" in pg["pg_hba"]
    assert "host replication all 127.0.0.1/32 trust" in pg["pg_hba"]


@pytest.mark.parametrize("synchronous", [True, False], ids=["STACK_PG_SYNC=on", "off"])
def test_the_patroni_config_sets_synchronous_mode_and_never_strict(
    tmp_path: Path, synchronous: bool
) -> None:
    dcs = patroni_config(tmp_path, synchronous)["bootstrap"]["dcs"]

    assert dcs["synchronous_mode"] is synchronous
    # Strict mode with two members would stop every write while the replica is down.
    assert dcs["synchronous_mode_strict"] is False


def test_the_patroni_config_lets_an_old_leader_rejoin_and_fails_over_a_crash(
    tmp_path: Path,
) -> None:
    dcs = patroni_config(tmp_path, synchronous=True)["bootstrap"]["dcs"]

    assert dcs["postgresql"]["use_pg_rewind"] is True
    assert dcs["postgresql"]["parameters"]["wal_log_hints"] == "on"  # pg_rewind needs it
    assert dcs["postgresql"]["remove_data_directory_on_rewind_failure"] is True
    assert dcs["primary_start_timeout"] == 0  # a crashed leader is failed over, not restarted
    assert dcs["failsafe_mode"] is True  # a lost etcd does not demote a healthy leader
    # Patroni's rule for its timings: a leader renews its key before it expires, with retries.
    assert dcs["loop_wait"] + 2 * dcs["retry_timeout"] <= dcs["ttl"]


def test_the_stack_postgres_haproxy_config_checks_each_member_on_its_rest_port(
    tmp_path: Path,
) -> None:
    members = [("patroni-1", 15432, 18008), ("patroni-2", 15433, 18009)]

    text = stack.haproxy_postgres_conf(tmp_path, 15000, 15001, members).read_text()

    primary, replicas = text.split("listen primary", 1)[1].split("listen replicas")
    assert "bind 127.0.0.1:15000" in primary
    assert "uri /primary" in primary
    assert "bind 127.0.0.1:15001" in replicas
    assert "uri /replica" in replicas
    for section in (primary, replicas):
        assert "server patroni-1 127.0.0.1:15432 check port 18008" in section
        assert "server patroni-2 127.0.0.1:15433 check port 18009" in section
    assert "on-marked-down shutdown-sessions" in text
    assert "${CONDUIT_" not in text


def test_the_patroni_config_archives_the_leaders_wal_with_pgbackrest_naming_its_own_data(
    tmp_path: Path,
) -> None:
    conf = tmp_path / "pgbackrest.conf"
    path = stack.patroni_conf(
        tmp_path, scope="conduit", name="patroni-2", pg_port=15433, rest_port=18009,
        etcd_ports=[12379], synchronous=True, archive=(conf, "conduit"),
    )  # fmt: skip
    config = yaml.safe_load(path.read_text())

    dcs = config["bootstrap"]["dcs"]["postgresql"]["parameters"]
    assert dcs["archive_mode"] == "on"  # the leader archives; a promoted replica from then on
    assert dcs["archive_timeout"] == "60s"
    # pgBackRest refuses to push from a directory other than pg1-path: each member names its own.
    assert config["postgresql"]["parameters"]["archive_command"] == (
        f"pgbackrest --config={conf} --stanza=conduit --pg1-path={tmp_path}/data archive-push %p"
    )


def test_a_patroni_cluster_without_a_repository_does_not_archive(tmp_path: Path) -> None:
    dcs = patroni_config(tmp_path, synchronous=True)["bootstrap"]["dcs"]

    assert dcs["postgresql"]["parameters"]["archive_mode"] == "off"


def test_the_pgbackrest_config_lists_every_member_so_backups_follow_the_leader(
    tmp_path: Path,
) -> None:
    members = [(Path("/srv/s/patroni-1/data"), 15432, Path("/srv/s/patroni-1")),
               (Path("/srv/s/patroni-2/data"), 15433, Path("/srv/s/patroni-2"))]  # fmt: skip

    path = stack.pgbackrest_conf(
        tmp_path / "pgbackrest.conf", repo=Path("/srv/s/pgbackrest/repo"),
        work_dir=Path("/srv/s/pgbackrest"), stanza="conduit", members=members,
    )  # fmt: skip

    assert "${CONDUIT_" not in path.read_text()
    config = configparser.ConfigParser()
    config.read(path)
    assert config["global"]["repo1-path"] == "/srv/s/pgbackrest/repo"
    assert "repo1-cipher-type" not in config["global"]  # unless a passphrase is given:
    encrypted = stack.pgbackrest_conf(
        tmp_path / "encrypted.conf", repo=Path("/srv/s/pgbackrest/repo"),
        work_dir=Path("/srv/s/pgbackrest"), stanza="conduit", members=members, cipher_pass="k" * 64,
    )  # fmt: skip
    config.read(encrypted)
    assert config["global"]["repo1-cipher-type"] == "aes-256-cbc"
    assert config["global"]["repo1-cipher-pass"] == "k" * 64
    assert config["global"]["repo1-retention-full"] == "2"
    # Its own logs and locks: not /var/log/pgbackrest (postgres may not write there), and not
    # the shared /tmp/pgbackrest where another checkout's stack would take the same stanza lock.
    assert config["global"]["log-path"] == "/srv/s/pgbackrest/log"
    assert config["global"]["lock-path"] == "/srv/s/pgbackrest/lock"
    assert config["global"]["start-fast"] == "y"
    assert dict(config["conduit"]) == {
        "pg1-path": "/srv/s/patroni-1/data", "pg1-port": "15432",
        "pg1-socket-path": "/srv/s/patroni-1", "pg1-user": "postgres",
        "pg2-path": "/srv/s/patroni-2/data", "pg2-port": "15433",
        "pg2-socket-path": "/srv/s/patroni-2", "pg2-user": "postgres",
    }  # fmt: skip
