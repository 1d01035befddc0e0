#!/bin/sh
# The image's entrypoint. With no arguments it serves Conduit with granian exactly as tools/run.sh
# does (WSGI, workers from deploy/docker/web-workers.sh, threads from WEB_THREADS); with arguments it runs them
# instead, e.g. `python manage.py migrate --noinput` or `celery -A config worker`.
set -eu
if [ "$#" -gt 0 ]; then
    exec "$@"
fi
# One process with the in-process cache, more with a shared one (web-workers.sh says why).
workers=$(sh "$(dirname "$0")/web-workers.sh")
exec granian --interface wsgi \
    --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" \
    --workers "$workers" --blocking-threads "${WEB_THREADS:-4}" \
    --no-ws --respawn-failed-workers --workers-kill-timeout 30 \
    --log-level "${GRANIAN_LOG_LEVEL:-warning}" \
    config.wsgi:application
