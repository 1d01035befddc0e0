"""Render one environment's Kubernetes manifests for one image: what the delivery workflow applies.

    python3 tools/k8s_release.py --overlay production \\
        --image ghcr.io/acme/conduit@sha256:<64 hex> > release.yaml

The image replaces the overlay's placeholder (``registry.example.com/conduit:<tag>``) in every
Deployment and in the migration Job: by digest on a release (what was tested and pushed is what
runs), or by tag to roll back to an earlier release (docs/deploy.md "Release and rollback").
kustomize takes no absolute paths in ``resources``, so the kustomization that sets the image is
written in a directory under ``deploy/k8s/.release/`` (git-ignored) and rendered with ``kubectl
kustomize``. The standard library only: the workflow's runner has no project virtualenv.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
# The name the overlays give the image; the release replaces it, whatever tag the overlay pins.
PLACEHOLDER = "registry.example.com/conduit"
_NAME = r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^{_NAME}(?::[0-9]+)?(?:/{_NAME})+$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def image_fields(image: str) -> dict[str, str]:
    """kustomize's ``images:`` fields for ``repository@sha256:...`` or ``repository:tag``."""
    if "@" in image:
        repository, digest = image.split("@", 1)
        if not _DIGEST.match(digest):
            raise ValueError(f"{image!r}: a digest is sha256: and 64 lowercase hex digits")
        fields = {"newName": repository, "digest": digest}
    else:
        repository, _, tag = image.rpartition(":")
        if not repository or "/" in tag or not _TAG.match(tag):
            raise ValueError(
                f"{image!r}: name the image by tag (repo:tag) or digest (repo@sha256:...)"
            )
        if tag.startswith("latest"):
            raise ValueError(
                f"{image!r}: a moving tag cannot be rolled back to; use a release's tag"
            )
        fields = {"newName": repository, "newTag": tag}
    if not _REPOSITORY.match(repository):
        raise ValueError(f"{image!r}: not a registry/repository name (lowercase, as GHCR needs)")
    return fields


def kustomization(overlay: str, image: str) -> str:
    fields = image_fields(image)
    lines = [
        "# Written by tools/k8s_release.py: not committed (.gitignore), rewritten at each release.",
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        f"  - ../../overlays/{overlay}",
        "images:",
        f"  - name: {PLACEHOLDER}",
        *(f"    {key}: {value!r}".replace("'", '"') for key, value in fields.items()),
    ]
    return "\n".join(lines) + "\n"


def render(overlay: str, image: str, kubectl: str = "kubectl") -> str:
    if not (K8S / "overlays" / overlay / "kustomization.yaml").is_file():
        known = sorted(p.parent.name for p in K8S.glob("overlays/*/kustomization.yaml"))
        raise ValueError(f"no overlay {overlay!r} (known: {', '.join(known)})")
    # A directory of its own for each run (two renders at once must not share one), at the depth
    # the kustomization's relative path to the overlay expects; removed once rendered.
    (K8S / ".release").mkdir(exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix=f"{overlay}-", dir=K8S / ".release"))
    try:
        (directory / "kustomization.yaml").write_text(kustomization(overlay, image))
        done = subprocess.run(
            [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {directory} failed:\n{done.stderr}")
    rendered = done.stdout
    if PLACEHOLDER in rendered:
        raise RuntimeError(f"{PLACEHOLDER} is still in the rendered manifests")
    return rendered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--overlay", required=True, help="a directory of deploy/k8s/overlays")
    parser.add_argument("--image", required=True, help="repository@sha256:... or repository:tag")
    parser.add_argument("--kubectl", default="kubectl", help="the kubectl to render with")
    args = parser.parse_args()
    try:
        sys.stdout.write(render(args.overlay, args.image, args.kubectl))
    except (ValueError, RuntimeError) as error:
        sys.exit(f"k8s_release: {error}")


if __name__ == "__main__":
    main()
