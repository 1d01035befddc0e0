"""The deploy files (docs/deploy.md): the validator fails on a broken manifest, and every rendered
Deployment has its probes on the right paths and resource requests and limits."""

# ruff: noqa: S603, S607  (the commands are fixed: kubectl and this repo's own validator)

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
VALIDATOR = ROOT / "tools" / "validate-deploy.sh"

needs_tools = pytest.mark.skipif(
    shutil.which("kubectl") is None or shutil.which("docker-compose") is None,
    reason="kubectl and docker-compose are installed by tools/validate-deploy.sh (as root)",
)


def render(kustomization: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(kustomization)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@needs_tools
def test_validator_passes_on_the_committed_files() -> None:
    result = subprocess.run(["bash", str(VALIDATOR)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_tools
def test_validator_fails_on_a_deployment_without_a_selector(tmp_path: Path) -> None:
    k8s = tmp_path / "k8s"
    shutil.copytree(K8S, k8s)
    web = k8s / "base" / "deployment-web.yaml"
    doc = yaml.safe_load(web.read_text())
    del doc["spec"]["selector"]
    web.write_text(yaml.safe_dump(doc))
    # commonLabels would give the Deployment a selector back: without them it renders none.
    kustomization = k8s / "base" / "kustomization.yaml"
    config = yaml.safe_load(kustomization.read_text())
    del config["commonLabels"]
    kustomization.write_text(yaml.safe_dump(config))

    result = subprocess.run(["bash", str(VALIDATOR), str(k8s)], capture_output=True, text=True)

    assert result.returncode != 0
    assert "'selector' is a required property" in result.stdout + result.stderr


@needs_tools
@pytest.mark.parametrize("overlay", ["base", "overlays/production"])
def test_every_deployment_has_probes_and_resources(overlay: str) -> None:
    docs = render(K8S / overlay)
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == {"conduit-web", "conduit-worker", "conduit-beat"}

    for name, deployment in deployments.items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), name
            assert {"cpu", "memory"} <= set(resources["limits"]), name

    web = deployments["conduit-web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["securityContext"]["readOnlyRootFilesystem"] is True
    beat = deployments["conduit-beat"]["spec"]
    assert beat["replicas"] == 1
    assert beat["strategy"]["type"] == "Recreate"


@needs_tools
def test_the_secret_is_referenced_and_never_rendered() -> None:
    docs = render(K8S / "overlays" / "production")
    assert not [d for d in docs if d["kind"] == "Secret"]
    job = next(d for d in docs if d["kind"] == "Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["python", "manage.py", "migrate", "--noinput"]
    assert {"secretRef": {"name": "conduit-secrets"}} in container["envFrom"]
