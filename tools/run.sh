#!/usr/bin/env bash
# `make run`: the embedded default (SQLite under var/, in-process cache, inline tasks) served by
# granian, the production app server (ADR 0002), with demo data loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
# python3 below is the project's interpreter: a fresh machine may have no other.
export PATH="$PWD/.venv/bin:$PATH"

HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
mkdir -p var

# A secret made once per checkout and kept under var/ (never committed), so that sessions and
# tokens survive restarts without anyone having to invent a key.
if [[ -z "${SECRET_KEY:-}" ]]; then
    if [[ ! -s var/secret_key ]]; then
        (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key)
    fi
    SECRET_KEY=$(cat var/secret_key)
    export SECRET_KEY
fi

if ! python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('$HOST', $PORT)) == 0)"; then
    echo "port $PORT on $HOST is already in use: stop what runs there, or run PORT=<free port> make run" >&2
    exit 1
fi

# Live updates (ADR 0030): the one app process also serves the event streams, on EVENTS_PORT
# (the in-process broker spans one process), and the pages open them there.
if [[ -z "${EVENTS_URL:-}" ]]; then
    EVENTS_PORT=${EVENTS_PORT:-$((PORT + 1))}
    if ! python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('$HOST', $EVENTS_PORT)) == 0)"; then
        echo "port $EVENTS_PORT on $HOST (the live updates) is already in use: run EVENTS_PORT=<free port> make run" >&2
        exit 1
    fi
    export EVENTS_PORT
fi

# Image URLs in API answers and links in emails start with SITE_URL: by default where this serves
# (a front end on another origin then loads the demo avatars from here, not from its own host).
site_host=$HOST
[[ $site_host == 0.0.0.0 || $site_host == "::" ]] && site_host=127.0.0.1
[[ $site_host == *:* ]] && site_host="[$site_host]"
export SITE_URL=${SITE_URL:-"http://$site_host:$PORT"}
if [[ -n "${EVENTS_PORT:-}" && -z "${EVENTS_PUBLIC_URL:-}" ]]; then
    export EVENTS_PUBLIC_URL="http://$site_host:$EVENTS_PORT"
fi

# A front end on another port of this machine may call the API (production allows only
# CORS_ALLOWED_ORIGINS; docs/configuration.md).
export CORS_ALLOW_LOOPBACK=${CORS_ALLOW_LOOPBACK:-true}

# RealWorld's conformance suites register with common passwords ("password123"): the suites are
# run against make run, so its accounts skip the common-password list (production keeps it;
# docs/security.md).
export PASSWORD_REJECT_COMMON=${PASSWORD_REJECT_COMMON:-false}

# Plain HTTP on this machine: no redirect to HTTPS, and no HSTS, which would make browsers use
# HTTPS for every later visit to this host (production turns both on; docs/deploy.md).
export SECURE_SSL_REDIRECT=${SECURE_SSL_REDIRECT:-false}
export SECURE_HSTS_SECONDS=${SECURE_HSTS_SECONDS:-0}

# One process with the in-process cache, more with a shared one (the script says why).
WEB_WORKERS=$(sh deploy/docker/web-workers.sh)
# ... and exactly one while it serves the streams too (a second would not see the first's events).
[[ -n "${EVENTS_PORT:-}" ]] && WEB_WORKERS=1

PY=.venv/bin/python
$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput --verbosity 0
$PY manage.py seed_demo

echo
echo "Conduit is serving on http://$HOST:$PORT  (API: http://$HOST:$PORT/api/articles, docs: http://$HOST:$PORT/api/docs)"
[[ -n "${EVENTS_PORT:-}" ]] && echo "Live updates (event streams) on http://$HOST:$EVENTS_PORT/events/"
echo "Press Ctrl-C to stop."
# Ctrl-C signals the whole process group, workers included, and a worker that gets SIGINT while its
# main process is stopping it sometimes never reports back: the main then waits out the kill
# timeout. This is a development server, so that wait is 3 s, not the 30 s of deployments
# (deploy/docker/entrypoint.sh), which are stopped by a SIGTERM to the main process alone.
exec .venv/bin/granian --interface wsgi \
    --host "$HOST" --port "$PORT" \
    --workers "$WEB_WORKERS" --blocking-threads "${WEB_THREADS:-4}" \
    --no-ws --respawn-failed-workers --workers-kill-timeout 3 \
    --log-level "${GRANIAN_LOG_LEVEL:-warning}" \
    config.wsgi:application
