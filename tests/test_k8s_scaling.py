"""The Kubernetes files as an operator reads them (ADR 0038): disruption budgets that let a drain
proceed and keep pods serving, an HPA that works without an adapter, the optional request-rate
HPA whose prometheus-adapter rule matches the metric the app exports, pods spread over zones and
nodes, and media on S3 wherever the root file system is read-only."""

# ruff: noqa: S603  (the commands are fixed: promtool on a generated file)

import functools
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conduit.platform.observability import metrics
from tests.test_deploy_files import K8S, render

OVERLAYS = sorted(
    str(path.parent.relative_to(K8S)) for path in K8S.glob("overlays/*/kustomization.yaml")
)
ALL = ["base", *OVERLAYS]


@functools.cache
def rendered(overlay: str) -> list[dict[str, Any]]:
    """Each kustomization rendered once per test process (read only by the tests below)."""
    return render(K8S / overlay)


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def selected(pdb: dict[str, Any], deployments: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The one Deployment whose pods the budget's selector matches."""
    wanted = pdb["spec"]["selector"]["matchLabels"]
    matches = [
        d
        for d in deployments.values()
        if wanted.items() <= d["spec"]["template"]["metadata"]["labels"].items()
    ]
    assert len(matches) == 1, (pdb["metadata"]["name"], [m["metadata"]["name"] for m in matches])
    return matches[0]


def test_the_overlays_include_the_request_rate_variant() -> None:
    assert {"overlays/production", "overlays/production-request-rate"} <= set(OVERLAYS)


@pytest.mark.parametrize("overlay", ALL)
def test_every_budget_lets_a_drain_proceed_and_keeps_a_pod_serving(overlay: str) -> None:
    docs = rendered(overlay)
    deployments = by_kind(docs, "Deployment")
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h
        for h in by_kind(docs, "HorizontalPodAutoscaler").values()
    }
    pdbs = by_kind(docs, "PodDisruptionBudget")
    assert {"conduit-web", "conduit-events", "conduit-worker"} <= set(pdbs)

    for name, pdb in pdbs.items():
        deployment = selected(pdb, deployments)
        target = deployment["metadata"]["name"]
        replicas = deployment["spec"]["replicas"]
        # Replicas the budget can count on: the HPA's floor when one scales the Deployment.
        floor = hpas[target]["spec"]["minReplicas"] if target in hpas else replicas
        if target in hpas:
            assert replicas >= floor, (name, "the Deployment starts below its HPA's minimum")
        spec = pdb["spec"]
        assert ("minAvailable" in spec) != ("maxUnavailable" in spec), name
        if "minAvailable" in spec:
            assert isinstance(spec["minAvailable"], int), (name, "counts only: a % rounds up")
            # Room for one eviction at the smallest size, or every drain waits forever.
            assert spec["minAvailable"] < floor, (name, spec, floor)
        else:
            assert isinstance(spec["maxUnavailable"], int), (name, "counts only: a % rounds up")
            assert spec["maxUnavailable"] >= 1, name
            # With more than one pod, a drain still leaves one serving.
            if floor > 1:
                assert spec["maxUnavailable"] < floor, (name, spec, floor)

    # Beat is a single scheduler (Recreate): no budget may pin it to a node.
    assert not [
        p for p in pdbs.values() if selected(p, deployments)["metadata"]["name"] == "conduit-beat"
    ]


def test_a_one_replica_budget_with_min_available_is_caught(tmp_path: Path) -> None:
    """The check above fails on the mistake it is for: minAvailable equal to the replicas."""
    shutil.copytree(K8S, tmp_path / "k8s")
    pdb_file = tmp_path / "k8s" / "base" / "pdb.yaml"
    budgets = list(yaml.safe_load_all(pdb_file.read_text()))
    events = next(b for b in budgets if b["metadata"]["name"] == "conduit-events")
    del events["spec"]["maxUnavailable"]
    events["spec"]["minAvailable"] = 1  # conduit-events runs 1 replica
    pdb_file.write_text(yaml.safe_dump_all(budgets))
    docs = render(tmp_path / "k8s" / "base")
    pdb = by_kind(docs, "PodDisruptionBudget")["conduit-events"]
    deployment = selected(pdb, by_kind(docs, "Deployment"))
    assert not pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"]


@pytest.mark.parametrize("overlay", ALL)
def test_the_hpa_scales_on_cpu_without_an_adapter(overlay: str) -> None:
    docs = rendered(overlay)
    [hpa] = by_kind(docs, "HorizontalPodAutoscaler").values()
    assert hpa["apiVersion"] == "autoscaling/v2"
    kinds = [m["type"] for m in hpa["spec"]["metrics"]]
    assert kinds[0] == "Resource"
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    web = by_kind(docs, "Deployment")["conduit-web"]
    # Utilization is a share of the request: without a CPU request the HPA cannot compute it.
    assert web["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
    if overlay.endswith("request-rate"):
        assert kinds == ["Resource", "Pods"]
    else:
        assert kinds == ["Resource"], "a metric that needs an adapter belongs in the component"


def adapter_rules() -> list[dict[str, Any]]:
    [configmap] = rendered("prometheus-adapter")
    assert configmap["kind"] == "ConfigMap"
    return yaml.safe_load(configmap["data"]["config.yaml"])["rules"]


def test_the_adapter_rule_serves_the_metric_the_hpa_asks_for_from_one_the_app_exports() -> None:
    [rule] = adapter_rules()
    series = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{", rule["seriesQuery"])
    assert series, rule["seriesQuery"]
    # The app's request histogram; a histogram's _count is its request counter.
    [family] = metrics.REQUEST_DURATION.describe()
    exported = family.name
    assert family.type == "histogram"
    assert series.group(1) == f"{exported}_count"
    assert re.fullmatch(rule["name"]["matches"], series.group(1))
    docs = rendered("overlays/production-request-rate")
    [hpa] = by_kind(docs, "HorizontalPodAutoscaler").values()
    [pods] = [m["pods"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    assert pods["metric"]["name"] == rule["name"]["as"]
    # A per-pod metric: the adapter maps the series' pod and namespace labels to objects.
    assert rule["resources"]["overrides"] == {
        "namespace": {"resource": "namespace"},
        "pod": {"resource": "pod"},
    }


def test_the_adapter_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses the query as the adapter sends it (its template filled in as the adapter
    fills it for the HPA: the series, the namespace and pods, grouped by pod)."""
    [rule] = adapter_rules()
    series = rule["seriesQuery"].split("{", 1)[0]
    query = (
        rule["metricsQuery"]
        .replace("<<.Series>>", series)
        .replace("<<.LabelMatchers>>", 'namespace="conduit",pod=~"conduit-web-a|conduit-web-b"')
        .replace("<<.GroupBy>>", "pod")
    )
    assert "<<" not in query
    rules = {"groups": [{"name": "adapter", "rules": [{"record": "adapter:query", "expr": query}]}]}
    path = tmp_path / "adapter.yml"
    path.write_text(yaml.safe_dump(rules))
    promtool = shutil.which("promtool")
    assert promtool, "promtool: Debian's prometheus (tools/debian-packages.txt)"
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("overlay", ALL)
def test_serving_pods_spread_over_zones_and_nodes(overlay: str) -> None:
    for name, deployment in by_kind(rendered(overlay), "Deployment").items():
        if name == "conduit-beat":
            continue  # one pod
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        constraints = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        keys = {c["topologyKey"]: c for c in constraints}
        assert set(keys) == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}, name
        for constraint in constraints:
            assert constraint["maxSkew"] == 1
            # Each counts this Deployment's pods only.
            assert constraint["labelSelector"]["matchLabels"].items() <= labels.items(), name
            assert constraint["labelSelector"]["matchLabels"]["app.kubernetes.io/component"]
        assert keys["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"
        assert keys["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"


@pytest.mark.parametrize("overlay", ALL)
def test_media_goes_to_s3_since_no_pod_has_a_shared_writable_place(overlay: str) -> None:
    docs = rendered(overlay)
    configmap = by_kind(docs, "ConfigMap")["conduit-config"]
    assert configmap["data"]["MEDIA_STORAGE"] == "s3"
    for name, deployment in by_kind(docs, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
            mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
            assert set(mounts.values()) <= {"/tmp"}, (name, mounts)  # noqa: S108
        kinds = {next(k for k in v if k != "name") for v in pod.get("volumes", [])}
        assert kinds <= {"emptyDir"}, (name, kinds)  # nothing shared between pods


# Measured by tools/measure-footprint.sh (RSS after 10 s of load, MiB; ADR 0038).
WEB_MAIN_MIB, WEB_WORKER_MIB = 29.4, 122.8
CELERY_MAIN_MIB, CELERY_CHILD_MIB = 123.1, 106.9
ARGON2_PEAK_MIB_PER_WORKER = 2 * 19  # ARGON2_MAX_CONCURRENT hashes of 19 MiB (docs/security.md)


def mebibytes(quantity: str) -> float:
    units = {"Mi": 1, "Gi": 1024}
    return float(quantity[:-2]) * units[quantity[-2:]]


def env_of(container: dict[str, Any], configmap: dict[str, str], name: str) -> str:
    for item in container.get("env", []):
        if item["name"] == name:
            return str(item["value"])
    return configmap[name]


@pytest.mark.parametrize("overlay", ALL)
def test_memory_requests_hold_the_measured_processes(overlay: str) -> None:
    docs = rendered(overlay)
    configmap = by_kind(docs, "ConfigMap")["conduit-config"]["data"]
    deployments = by_kind(docs, "Deployment")

    [web] = deployments["conduit-web"]["spec"]["template"]["spec"]["containers"]
    workers = int(env_of(web, configmap, "WEB_WORKERS"))
    steady = WEB_MAIN_MIB + workers * WEB_WORKER_MIB
    peak = steady + workers * ARGON2_PEAK_MIB_PER_WORKER
    assert mebibytes(web["resources"]["requests"]["memory"]) >= steady, (overlay, steady)
    assert mebibytes(web["resources"]["limits"]["memory"]) >= peak * 1.2, (overlay, peak)

    [worker] = deployments["conduit-worker"]["spec"]["template"]["spec"]["containers"]
    args = worker["args"]
    # A bounded pool: Celery's default is one child per core of the node, not of the pod.
    concurrency = int(args[args.index("--concurrency") + 1])
    idle = CELERY_MAIN_MIB + concurrency * CELERY_CHILD_MIB
    assert mebibytes(worker["resources"]["requests"]["memory"]) >= idle, (overlay, idle)
    assert mebibytes(worker["resources"]["limits"]["memory"]) >= idle + 64 * 1.5, overlay
