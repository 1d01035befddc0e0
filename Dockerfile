# syntax=docker/dockerfile:1
# Conduit's production image (docs/deploy.md, ADR 0014): a builder stage with uv installs the locked
# dependencies (uv.lock) into /app/.venv with compiled bytecode and collects the static files; the
# final stage, from the same Python base, holds only that venv and the app, and runs as a non-root
# user. No compiler, no uv and no pip cache reach the final image.

ARG PYTHON_IMAGE=python:3.13-slim-bookworm

# --- builder ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ARG UV_VERSION=0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN pip install --no-cache-dir "uv==${UV_VERSION}"

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --no-cache

COPY manage.py ./
COPY config ./config
COPY conduit ./conduit
COPY static ./static
COPY deploy/docker/*.sh ./deploy/docker/

# Hashed, compressed static files at build time; the key only lets settings import (a literal
# one would be refused as a placeholder) and is thrown away with this stage.
RUN SECRET_KEY=$(/app/.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
    /app/.venv/bin/python manage.py collectstatic --noinput --verbosity 0 \
    && /app/.venv/bin/python -m compileall -q config conduit manage.py

# --- final -----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS final

# PYTHONDONTWRITEBYTECODE stays unset: the bytecode was compiled in the builder and is used as is.
# WEB_WORKERS is unset: deploy/docker/web-workers.sh picks 1 with the in-process cache and 2 with
# CACHE_URL (compose and Kubernetes set both).
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_THREADS=4 \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/var/static

RUN groupadd --system --gid 10001 conduit \
    && useradd --system --uid 10001 --gid conduit --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin conduit

WORKDIR /app
COPY --from=builder --chown=root:root /app /app
# The two places the app writes with MEDIA_STORAGE=filesystem: compose mounts a volume on each,
# which takes these directories' owner when first created.
RUN mkdir -p /app/var/media /app/var/exports && chown -R conduit:conduit /app/var/media /app/var/exports

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz\", timeout=2)"]

# No arguments: granian, as tools/run.sh runs it. With arguments (a worker, a migration): those.
ENTRYPOINT ["/app/deploy/docker/entrypoint.sh"]
