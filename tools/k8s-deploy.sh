#!/usr/bin/env bash
# One release to one environment, as the delivery workflow runs it (.github/workflows/delivery.yml,
# docs/deploy.md "Release and rollback"); kubectl on PATH, pointed at the cluster.
#   tools/k8s-deploy.sh OVERLAY NAMESPACE IMAGE
#   tools/k8s-deploy.sh production conduit ghcr.io/acme/conduit@sha256:...   # a release
#   tools/k8s-deploy.sh production conduit ghcr.io/acme/conduit:1.4.0        # a rollback
# The order: the previous migration Job is deleted (a Job's template cannot change), everything
# is applied at once, the new migration Job is awaited, then each Deployment's rollout. New web
# pods are not ready until every migration is applied (/readyz), and a rollout replaces old pods
# only with ready ones (maxUnavailable 0): until then the old release serves, on the new schema,
# which is why a migration must be safe to run before the code that needs it (expand, contract).
set -euo pipefail
[[ $# -eq 3 ]] || { sed -n '3,6p' "$0" >&2; exit 2; }
overlay=$1 namespace=$2 image=$3
cd "$(dirname "$0")/.."
release=$(mktemp)
trap 'rm -f "$release"' EXIT
python3 tools/k8s_release.py --overlay "$overlay" --image "$image" >"$release"
grep -q "^  namespace: $namespace$" "$release" \
    || { echo "k8s-deploy: overlay $overlay does not render into namespace $namespace" >&2; exit 2; }

kubectl -n "$namespace" delete job conduit-migrate --ignore-not-found --wait=true
kubectl apply -f "$release"

echo "waiting for job/conduit-migrate"
for _ in $(seq 180); do
    state=$(kubectl -n "$namespace" get job conduit-migrate \
        -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
    case " $state " in
        *" Complete "*) break ;;
        *" Failed "*)
            kubectl -n "$namespace" logs job/conduit-migrate --tail=50 >&2 || true
            echo "k8s-deploy: the migrations failed; the previous release still serves" >&2
            exit 1
            ;;
    esac
    sleep 5
done
[[ " $state " == *" Complete "* ]] || { echo "k8s-deploy: migrations still running after 15 min" >&2; exit 1; }

for deployment in conduit-web conduit-events conduit-worker conduit-beat; do
    kubectl -n "$namespace" rollout status "deployment/$deployment" --timeout=10m
done
echo "deployed $image to $namespace ($overlay)"
