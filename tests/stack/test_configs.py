"""tools/stack/configs.py: the stack's nginx, HAProxy and Prometheus configurations come from the
same files in deploy/ as compose's (ADR 0021)."""

from __future__ import annotations

import re
from pathlib import Path

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
