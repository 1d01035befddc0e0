"""Conduit settings: every deploy-time value comes from the environment (django-environ).

Unset variables give the embedded default: SQLite under ``var/``, an in-process cache and
inline tasks. Production must set ``SECRET_KEY``; with ``DEBUG`` off and no secret, a weak one
or a default database password, the process refuses to start rather than run with a guessable
key.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
import structlog
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from kombu import Queue

from conduit.platform.cache.backends import cache_config
from conduit.platform.http.assets import asset_origins
from conduit.platform.observability.logs import RedactCapabilities, stdout_logger_factory
from conduit.platform.secrets_policy import refuse_weak_secrets
from conduit.platform.storages import storages_from_env

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (make run generates one under var/), "
            "or set DEBUG=true for local development only."
        )
    SECRET_KEY = "insecure-debug-only-key-never-use-in-production"  # noqa: S105
# A short, low-variety or placeholder key (or a default database password) is refused as well,
# at the end of this module once DATABASES is known: conduit/platform/secrets_policy.py.

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
HOST = env.str("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)

# Where the embedded default keeps its state (SQLite file, media, collected static files).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "conduit.users",
    "conduit.profiles",
    "conduit.articles",
    "conduit.comments",
    "conduit.api",
    "conduit.demo",
    "conduit.web",
    "conduit.media",
    "conduit.privacy",
    "conduit.platform",
    "conduit.notifications",
    "oauth2_provider",
    "conduit.oauth",
    "conduit.audit",
    "conduit.timelines",
]

# Observability (ADR 0013): /metrics with prometheus-client, JSON logs with request ids.
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
# Multiprocess metrics for several granian workers: prometheus_client reads this variable from
# the environment when it is imported, so a value from .env is put back into os.environ (read_env
# above already did) and the directory must exist (and be emptied at server start).
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR={PROMETHEUS_MULTIPROC_DIR} is not a directory: create it "
        "(and empty it) before the server starts."
    )

MIDDLEWARE = [
    "conduit.platform.observability.request_id.RequestIdMiddleware",
    # A writer's next reads skip the edge and micro-caches for their staleness bound (ADR 0028).
    "conduit.platform.http.edge_cache.WriterFreshCookieMiddleware",
    # Before anything reads a body: a request declaring more than REQUEST_MAX_BYTES is a 413.
    "conduit.platform.http.body_limit.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # SECURE_CSP on HTML responses (the pages, the API's docs page).
    "conduit.platform.http.channels.HtmlContentSecurityPolicyMiddleware",
    "conduit.platform.http.assets.StaticFilesMiddleware",  # whitenoise
    "corsheaders.middleware.CorsMiddleware",
    # Sessions, Django's user and messages are the pages' (the API's requests skip them).
    "conduit.platform.http.channels.PageSessionMiddleware",
    # No-op without read replicas; with them, a client that wrote reads from the primary.
    "conduit.platform.db.read_your_writes.ReadYourWritesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "conduit.platform.http.channels.PageAuthenticationMiddleware",
    "conduit.platform.http.channels.PageMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After the session's user is known (a page's writes are limited per user).
    "conduit.platform.http.rate_limits.RateLimitMiddleware",
]
if METRICS_ENABLED:
    # Outermost: it times and counts the queries of everything else (session and auth too).
    MIDDLEWARE = ["conduit.platform.observability.metrics.RequestMetricsMiddleware", *MIDDLEWARE]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# Exact paths: /api/articles/ is a 404, never a redirect that drops a POST body.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL unset = a SQLite file in WAL mode: readers never wait for the writer, and
# IMMEDIATE transactions take the write lock up front, so concurrent writers queue (up to the
# timeout) instead of failing with "database is locked" half-way through a transaction.
SQLITE_PATH = VAR_DIR / "conduit.sqlite3"
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}"),
}
# Django's PostgreSQL backend, whose health check looks at the socket before it sends a query.
POSTGRESQL_ENGINE = "conduit.platform.db.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = POSTGRESQL_ENGINE
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A fresh clone has no var/ yet (it is not committed); SQLite will not create directories.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
elif env.bool("DATABASE_POOL", default=False):
    # Django's native psycopg pool, one per process, instead of a connection kept per thread
    # (ADR 0012 compares the two; persistent connections are the default).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=8),
        "timeout": 10,
    }
    # The pool checks a connection before handing it out, so after a primary restart only the
    # requests in flight fail, not one more per stale pooled connection (ADR 0017).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if env.bool("DATABASE_PGBOUNCER", default=False):
    # DATABASE_URL is a pgbouncer in transaction mode (ADR 0017): a server connection belongs to
    # the client for one transaction only, so no cursor may outlive one (psycopg binds parameters
    # on the client by default in Django: no prepared statements to lose either).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

# --- Read replicas (ADR 0017) ----------------------------------------------------------------
# DATABASE_REPLICA_URLS (comma-separated) adds the aliases replica1, replica2, ... with the
# primary's connection handling, and the router that sends reads outside a transaction to a
# usable replica (conduit/platform/db/router.py). A replica is fenced while it is down or its
# replay lag exceeds DATABASE_REPLICA_MAX_LAG, checked at most every ..._CHECK_INTERVAL seconds
# per process. A client that wrote reads from the primary for DATABASE_REPLICA_PIN_SECONDS, marked
# in the cache: with several processes the cache must be shared (CACHE_URL), see the ADR.
DATABASE_REPLICAS: list[str] = []
for _number, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    _replica = env.db_url_config(_url)
    if _replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS must be postgres:// URLs")
    _replica["ENGINE"] = POSTGRESQL_ENGINE
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS"):
        _replica[_key] = DATABASES["default"].get(_key, 0)
    if "pool" in DATABASES["default"].get("OPTIONS", {}):
        _replica.setdefault("OPTIONS", {})["pool"] = dict(DATABASES["default"]["OPTIONS"]["pool"])
    # Under test the replica is the test database itself (tests/pg_replica.py adds a real one).
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_number}"] = _replica
    DATABASE_REPLICAS.append(f"replica{_number}")
if DATABASE_REPLICAS:
    DATABASE_ROUTERS = ["conduit.platform.db.router.ReplicaRouter"]
DATABASE_REPLICA_MAX_LAG = env.float("DATABASE_REPLICA_MAX_LAG", default=5.0)
DATABASE_REPLICA_CHECK_INTERVAL = env.float("DATABASE_REPLICA_CHECK_INTERVAL", default=1.0)
DATABASE_REPLICA_CHECK_TIMEOUT = env.float("DATABASE_REPLICA_CHECK_TIMEOUT", default=2.0)
DATABASE_REPLICA_PIN_SECONDS: float = env.float(
    "DATABASE_REPLICA_PIN_SECONDS",
    default=DATABASE_REPLICA_MAX_LAG + DATABASE_REPLICA_CHECK_INTERVAL + 1.0,
)
if DATABASE_REPLICA_PIN_SECONDS < DATABASE_REPLICA_MAX_LAG + DATABASE_REPLICA_CHECK_INTERVAL:
    raise ImproperlyConfigured(
        "DATABASE_REPLICA_PIN_SECONDS must be at least DATABASE_REPLICA_MAX_LAG + "
        "DATABASE_REPLICA_CHECK_INTERVAL, or a client could read a replica older than its write"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
# Usernames are unique ignoring case, by a functional unique index, which is stricter than the
# plain unique column this check asks for.
SILENCED_SYSTEM_CHECKS = ["auth.E003"]
# Argon2id sized for the process (conduit/users/hashers.py): OWASP's 19 MiB, 2 passes, 1 lane,
# and at most ARGON2_MAX_CONCURRENT hashes at once per process, so that workers x this x the
# memory fits the pod (tests/users/test_hashers.py reads deploy/k8s/). PBKDF2 only verifies
# hashes made elsewhere; they are re-hashed at the next sign-in.
PASSWORD_HASHERS = [
    "conduit.users.hashers.SizedArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
ARGON2_MEMORY_KIB = env.int("ARGON2_MEMORY_KIB", default=19_456)
ARGON2_TIME_COST = env.int("ARGON2_TIME_COST", default=2)
ARGON2_PARALLELISM = env.int("ARGON2_PARALLELISM", default=1)
ARGON2_MAX_CONCURRENT = env.int("ARGON2_MAX_CONCURRENT", default=2)
# NIST 800-63B: a length of at least 8, not too like the username or email, and not one of the
# 20,000 most common passwords. No composition rules. RealWorld's Hurl suite registers with
# "password123", which is common: make run and make stack (which the suites are run against)
# set PASSWORD_REJECT_COMMON=false, production keeps it (docs/api.md, docs/security.md).
AUTH_PASSWORD_VALIDATORS: list[dict[str, Any]] = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=8)},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
if env.bool("PASSWORD_REJECT_COMMON", default=True):
    AUTH_PASSWORD_VALIDATORS.append(
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"}
    )

JWT_TTL = timedelta(seconds=env.int("JWT_TTL", default=7 * 24 * 3600))
JWT_ALGORITHM = "HS256"

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "conduit.api.authentication.JWTAuthentication",
        "conduit.api.authentication.OAuthAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PARSER_CLASSES": ["conduit.api.parsers.ConduitJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["conduit.api.renderers.ConduitJSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "conduit.api.negotiation.ConduitContentNegotiation",
    "EXCEPTION_HANDLER": "conduit.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": [],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Conduit API",
    "DESCRIPTION": (
        "The RealWorld API as served by Conduit. Authenticate with `Authorization: Token <jwt>`."
    ),
    "VERSION": "1.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": False,
    "SCHEMA_PATH_PREFIX": r"/api",
}

# Lists never return more than this many items, whatever `limit` asks for.
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=100)
# How deep a list may be paged with ``offset`` (a 422 beyond it): bounds the cost of the
# deepest page (ADR 0010).
API_MAX_OFFSET = env.int("API_MAX_OFFSET", default=10_000)
# `make bench` only: route /bench/bare, the bare-Django reference view (platform/http/bench.py).
BENCH_ENDPOINTS = env.bool("BENCH_ENDPOINTS", default=False)

# --- CORS (the API only) ----------------------------------------------------------------------
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
# Front ends served from this machine (localhost, 127.0.0.1 or [::1], any port): on while
# debugging, and make run and make stack turn it on (they serve on loopback). In production
# nothing but CORS_ALLOWED_ORIGINS: no cross-origin access unless configured.
CORS_ALLOW_LOOPBACK = env.bool("CORS_ALLOW_LOOPBACK", default=DEBUG)
LOOPBACK_ORIGIN = r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$"
CORS_ALLOWED_ORIGIN_REGEXES = [LOOPBACK_ORIGIN] if CORS_ALLOW_LOOPBACK else []
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "x-requested-with"]
CORS_PREFLIGHT_MAX_AGE = 86400

# --- Static files ---------------------------------------------------------------------------
# STATIC_URL and MEDIA_URL may name another host, a CDN pulling from this origin at the same
# paths (https://cdn.example.com/static/): ADR 0029, conduit/platform/http/assets.py. Static files
# are hashed and compressed (gzip and brotli) by collectstatic (conduit/platform/storages.py).
STATIC_URL = env.str("STATIC_URL", default="/static/")
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# --- Media and exports (ADR 0019, 0020) ---------------------------------------------------------
# MEDIA_STORAGE=filesystem (default) or s3 (django-storages; AWS_* in docs/configuration.md).
# Export zips are private: EXPORTS_ROOT is outside MEDIA_ROOT, so nothing serves them publicly.
EXPORTS_ROOT = Path(env.str("EXPORTS_ROOT", default=str(VAR_DIR / "exports")))
STORAGES = storages_from_env(
    os.environ, media_root=MEDIA_ROOT, media_url=MEDIA_URL, exports_root=EXPORTS_ROOT
)
# Conduit serves MEDIA_URL itself when media is on the file system (the embedded default); a
# proxy in front (nginx in `make stack`) may serve MEDIA_ROOT instead.
MEDIA_SERVE = env.bool(
    "MEDIA_SERVE", default=STORAGES["default"]["BACKEND"].endswith("FileSystemStorage")
)
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=5 * 1024 * 1024)
# Width x height; checked from the header before decoding (a decompression bomb stops here).
# 16 MP bounds the one full decode an upload costs in the request (a JPEG decodes smaller).
AVATAR_MAX_PIXELS = env.int("AVATAR_MAX_PIXELS", default=16_000_000)
# The largest request body the app reads, whatever proxy is (or is not) in front: an avatar plus
# 1 MiB, as nginx's client_max_body_size. Bigger declared bodies are a 413 before being read.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=AVATAR_MAX_BYTES + 1024 * 1024)
EXPORT_TTL = env.int("EXPORT_TTL", default=7 * 24 * 3600)  # seconds an export's zip is kept
# Seconds one download link works; the settings page and the API make a fresh one on each visit.
EXPORT_LINK_SECONDS = env.int("EXPORT_LINK_SECONDS", default=15 * 60)

# --- Cache (ADR 0016) ------------------------------------------------------------------------
# CACHE_URL unset = an in-process cache (the embedded default); redis://host:port/db = Conduit's
# RedisCache; pymemcache://host:port = Memcached. Keys carry the release, so a deploy never reads
# entries of another code version (CACHE_RELEASE: the image sets it to the commit).
CACHE_URL = env.str("CACHE_URL", default="")
CACHE_RELEASE = env.str("CACHE_RELEASE", default="dev")
CACHES = {
    "default": cache_config(
        CACHE_URL,
        key_prefix=f"conduit:{CACHE_RELEASE}",
        socket_timeout=env.float("CACHE_SOCKET_TIMEOUT", default=0.25),
        locmem_max_entries=env.int("CACHE_LOCMEM_MAX_ENTRIES", default=20_000),
    )
}
# Article cards, list id-pages and the tag list read through the cache (off: straight to the DB).
CACHE_ARTICLES = env.bool("CACHE_ARTICLES", default=True)
# Anonymous API reads are kept whole in each process for this long (0 = off, at most 1 s).
CACHE_ANONYMOUS_SECONDS = min(env.float("CACHE_ANONYMOUS_SECONDS", default=1.0), 1.0)
# ... within this many bytes per process (least recently used first out), and an answer bigger
# than the entry cap is not kept: junk query strings or big articles cannot grow a worker.
CACHE_ANONYMOUS_MAX_BYTES = env.int("CACHE_ANONYMOUS_MAX_BYTES", default=32 * 1024 * 1024)
CACHE_ANONYMOUS_MAX_ENTRY_BYTES = env.int("CACHE_ANONYMOUS_MAX_ENTRY_BYTES", default=1024 * 1024)
# After a cache error the backend is left alone this long (calls are misses), and the error is
# logged at most once per CACHE_ERROR_LOG_SECONDS (every error is counted in /metrics).
CACHE_RETRY_SECONDS = env.float("CACHE_RETRY_SECONDS", default=1.0)
CACHE_ERROR_LOG_SECONDS = env.float("CACHE_ERROR_LOG_SECONDS", default=60.0)

# --- Background tasks (Celery, ADR 0015) -----------------------------------------------------
# CELERY_BROKER_URL unset = the embedded default: tasks run inline, in the process that enqueues
# them (after the transaction commits). redis://... or amqp://... (RabbitMQ) = real workers.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# No result backend: nothing reads a task's return value; state that matters is in the database.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# A task is acknowledged when it finishes, not when it starts, and a worker that dies mid-task
# gives it back to the broker: nothing is lost, so every task must be idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
# Retries of transient errors (conduit.platform.tasks.enqueue.TRANSIENT_ERRORS): exponential backoff
# capped at CELERY_RETRY_BACKOFF_MAX seconds, full jitter, then the dead-letter record.
CELERY_RETRY_MAX = env.int("CELERY_RETRY_MAX", default=6)
CELERY_RETRY_BACKOFF_MAX = env.int("CELERY_RETRY_BACKOFF_MAX", default=600)
# Redis redelivers an unacknowledged task after this long, counted from its delivery: longer
# than a retry's countdown (CELERY_RETRY_BACKOFF_MAX, spent in the worker holding the message)
# plus the longest hard time limit (660 s), or a second worker runs a task the first still runs
# (tests/tasks/test_redelivery_settings.py). The cost: a SIGKILLed worker's task waits this long.
# The sweep that finds such tasks runs every CELERY_UNACKED_RESTORE_INTERVAL seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 1800),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing gives up after a few seconds: the request that enqueues must not hang on a dead broker.
CELERY_BROKER_CONNECTION_TIMEOUT = 4
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}
# A publish that still fails keeps the task in the outbox table; beat's outbox_relay publishes
# it every CELERY_OUTBOX_RELAY_INTERVAL s. For CELERY_OUTBOX_BYPASS_SECONDS after a failure the
# process does not try the broker, so an outage slows one request, not all
# (conduit.platform.tasks.enqueue).
CELERY_OUTBOX_RELAY_INTERVAL = env.float("CELERY_OUTBOX_RELAY_INTERVAL", default=30.0)
CELERY_OUTBOX_BYPASS_SECONDS = env.float("CELERY_OUTBOX_BYPASS_SECONDS", default=5.0)
CELERY_TASK_DEFAULT_QUEUE = "default"
# One queue per kind of work, so a burst of emails never waits behind a large export.
TASK_QUEUES = ["default", "email", "media", "exports"]  # workers consume these (-Q)
# Declared, so that a worker started without -Q (compose.yaml, the Kubernetes deployment)
# consumes all of them, not only the default queue. Bound as Celery creates a missing queue
# (the default exchange, routing key = the queue's name): messages already queued still match.
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in TASK_QUEUES]
CELERY_TASK_ROUTES = {
    "conduit.notifications.*": {"queue": "email"},
    "conduit.media.*": {"queue": "media"},
    "conduit.privacy.*": {"queue": "exports"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# No task events: nothing here consumes them (metrics come from signals,
# conduit.platform.tasks.metrics), and each publish paid for a second message, a "task-sent"
# event, in the web process: 0.3-0.5 ms of CPU a publish. Flower or `celery events` can turn
# the workers' on at run time (`celery control enable_events`).
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_TASK_SEND_SENT_EVENT = False
# Worker metrics (conduit.platform.tasks.metrics): the worker's main process serves them on
# this port (0 = off); its pool processes write to PROMETHEUS_MULTIPROC_DIR when it is set.
CELERY_METRICS_PORT = env.int("CELERY_METRICS_PORT", default=0)
CELERY_METRICS_ADDR = env.str("CELERY_METRICS_ADDR", default="127.0.0.1")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "relay-task-outbox": {
        "task": "conduit.platform.outbox_relay",
        "schedule": CELERY_OUTBOX_RELAY_INTERVAL,
        # A relay not started by the next one's turn is dropped, not piled up behind an outage.
        "options": {"expires": CELERY_OUTBOX_RELAY_INTERVAL},
    },
    "check-counters-nightly": {
        "task": "conduit.articles.counters_check",
        "schedule": crontab(hour=3, minute=17),
    },
    "clear-sessions-nightly": {
        "task": "conduit.platform.sessions_clear",
        "schedule": crontab(hour=3, minute=47),
    },
    # Expired export zips deleted within the hour of expiry; orphaned picture files nightly.
    "remove-expired-exports-hourly": {
        "task": "conduit.privacy.exports_remove_expired",
        "schedule": crontab(minute=23),
    },
    "remove-orphaned-media-nightly": {
        "task": "conduit.media.media_remove_orphans",
        "schedule": crontab(hour=4, minute=7),
    },
}

# --- Retention (docs/retention.md, ADR 0032) --------------------------------------------------
# Days each kind of record is kept; nightly beat tasks delete what is older, in batches.
AUDIT_RETENTION_DAYS = env.float("AUDIT_RETENTION_DAYS", default=365)
EMAIL_DELIVERY_RETENTION_DAYS = env.float("EMAIL_DELIVERY_RETENTION_DAYS", default=90)
DEAD_LETTER_RETENTION_DAYS = env.float("DEAD_LETTER_RETENTION_DAYS", default=30)
# An outbox task the relay could not publish for this long becomes a dead letter (kept as above).
OUTBOX_RETENTION_DAYS = env.float("OUTBOX_RETENTION_DAYS", default=7)
# An expired or failed export's request row (its zip is gone already, after EXPORT_TTL).
EXPORT_RECORD_RETENTION_DAYS = env.float("EXPORT_RECORD_RETENTION_DAYS", default=30)
# A page session lives this long after its last change; clear-sessions-nightly deletes it then.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
CELERY_BEAT_SCHEDULE |= {
    "remove-old-audit-entries-nightly": {
        "task": "conduit.audit.audit_remove_old",
        "schedule": crontab(hour=4, minute=27),
    },
    "remove-old-task-records-nightly": {
        "task": "conduit.platform.task_records_remove_old",
        "schedule": crontab(hour=4, minute=37),
    },
    "remove-old-email-deliveries-nightly": {
        "task": "conduit.notifications.deliveries_remove_old",
        "schedule": crontab(hour=4, minute=47),
    },
    "remove-expired-oauth-tokens-nightly": {
        "task": "conduit.oauth.tokens_remove_expired",
        "schedule": crontab(hour=4, minute=57),
    },
}

# --- Live updates (ADR 0030) ------------------------------------------------------------------
# New comments on an open article and "new in your feed", as Server-Sent Events from async views
# under ASGI. EVENTS_URL unset = the in-process broker (the embedded default: make run serves the
# streams from its one app process, on EVENTS_PORT); redis://host:port/db = Redis pub/sub, with
# a capped stream per channel for resuming (the stack's and production's events servers).
EVENTS_URL = env.str("EVENTS_URL", default="")
# Where browsers open the streams: empty = this site (/events/...; nginx routes them to the
# events servers), or another origin (make run: http://127.0.0.1:<EVENTS_PORT>), which the CSP's
# connect-src then allows and the streams answer with CORS for SITE_URL's origin.
EVENTS_PUBLIC_URL = env.str("EVENTS_PUBLIC_URL", default="").rstrip("/")
# make run only: the port of the events server started in the app process (0 = none).
EVENTS_PORT = env.int("EVENTS_PORT", default=0)
# Events kept per channel for a reconnecting client (Last-Event-ID), and for how long.
EVENTS_HISTORY = env.int("EVENTS_HISTORY", default=100)
EVENTS_HISTORY_SECONDS = env.float("EVENTS_HISTORY_SECONDS", default=600.0)
# A publish waits at most this long for Redis; after a failure the process skips publishing 1 s.
EVENTS_PUBLISH_TIMEOUT = env.float("EVENTS_PUBLISH_TIMEOUT", default=0.25)
# A comment line this often on an idle stream (proxies cut idle connections), and a stream's
# lifetime: then the browser reconnects with its last id (a feed stream re-checks the session).
EVENTS_HEARTBEAT_SECONDS = env.float("EVENTS_HEARTBEAT_SECONDS", default=15.0)
EVENTS_STREAM_SECONDS = env.float("EVENTS_STREAM_SECONDS", default=900.0)

# --- Email ----------------------------------------------------------------------------------
# EMAIL_URL: smtp://user:pass@host:25, smtp+tls://...:587, smtp+ssl://...:465 or consolemail://
# (the embedded default: emails are printed on stdout, so make run shows them).
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
# Django 6.1's MAILERS (the EMAIL_BACKEND/EMAIL_HOST/... settings are deprecated).
_email = environ.Env.email_url_config(EMAIL_URL)
_smtp = _email["EMAIL_BACKEND"].endswith(".smtp.EmailBackend")
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {
            "host": _email["EMAIL_HOST"],
            "port": _email["EMAIL_PORT"],
            "username": _email["EMAIL_HOST_USER"],
            "password": _email["EMAIL_HOST_PASSWORD"],
            "use_tls": bool(_email.get("EMAIL_USE_TLS")),
            "use_ssl": bool(_email.get("EMAIL_USE_SSL")),
            "timeout": env.int("EMAIL_TIMEOUT", default=10),
        }
        if _smtp
        else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Conduit <noreply@conduit.local>")
# Absolute links in emails (articles, unsubscribe) start with this.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# --- OAuth2 provider (ADR 0031, docs/security.md) ---------------------------------------------
# django-oauth-toolkit: the authorization-code flow with PKCE (S256) only, refresh tokens that
# rotate (reuse of a rotated one revokes its family), tokens stored as hashes; every RFC 9700 gate
# on. The issuer and every URL of /.well-known/oauth-authorization-server come from SITE_URL.
OAUTH_SCOPES = {
    "read": "Read articles, comments, profiles, tags and your feed",
    "write": "Publish, edit and delete articles and comments, favorite and follow for you",
    "profile": "See your account (email, username, bio, picture) and change your bio and picture",
}
OAUTH2_PROVIDER = {
    "SCOPES": OAUTH_SCOPES,
    "DEFAULT_SCOPES": ["read"],
    "PKCE_REQUIRED": True,
    "OAUTH2_SERVER_CLASS": "oauthlib.oauth2.WebApplicationServer",
    "OAUTH2_VALIDATOR_CLASS": "conduit.oauth.validator.Validator",
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    # "none": a public client (PKCE, no secret) at the token and revocation endpoints
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ],
    "OIDC_ISS_ENDPOINT": SITE_URL,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_ACCESS_TOKEN_SECONDS", default=3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_REFRESH_TOKEN_SECONDS", default=30 * 24 * 3600),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REQUEST_APPROVAL_PROMPT": "force",
    # Plain http (a native app's loopback callback, RFC 8252) only while debugging, unless set.
    "ALLOWED_REDIRECT_URI_SCHEMES": env.list(
        "OAUTH_REDIRECT_URI_SCHEMES", default=["https", "http"] if DEBUG else ["https"]
    ),
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}
# Followers per task when a new article's emails fan out (one task per chunk).
NOTIFICATIONS_CHUNK_SIZE = env.int("NOTIFICATIONS_CHUNK_SIZE", default=500)

# --- Home timelines (ADR 0034) ---------------------------------------------------------------
# Unset: timelines live in the database (a table hash-partitioned by user on PostgreSQL).
# redis-cluster://host:port,host:port,...: sorted sets in a Redis Cluster.
TIMELINE_URL = env.str("TIMELINE_URL", default="")
# Newest article ids kept per timeline; a page past them is read with the feed's query.
FEED_TIMELINE_SIZE = env.int("FEED_TIMELINE_SIZE", default=800)
# Authors with more followers are not fanned out: the read merges their newest articles in.
FEED_FANOUT_MAX_FOLLOWERS = env.int("FEED_FANOUT_MAX_FOLLOWERS", default=10_000)
# Followers per timeline write when an article fans out (one store round trip each).
FEED_FANOUT_CHUNK = env.int("FEED_FANOUT_CHUNK", default=1_000)
# Redis Cluster socket timeouts, seconds: a dead node degrades the feed to its query, briefly.
TIMELINE_SOCKET_TIMEOUT = env.float("TIMELINE_SOCKET_TIMEOUT", default=0.25)
TIMELINE_CONNECT_TIMEOUT = env.float("TIMELINE_CONNECT_TIMEOUT", default=0.25)
# After a store error, a process reads the feed's query this long without trying the store.
TIMELINE_RETRY_SECONDS = env.float("TIMELINE_RETRY_SECONDS", default=1.0)
# A reader's timeline head (window and counters) is kept in the cache this long at most, served
# while no write renewed it (conduit/timelines/heads.py); 0: read from the stores every time.
FEED_HEAD_SECONDS = env.int("FEED_HEAD_SECONDS", default=60)
if FEED_HEAD_SECONDS < 0:
    raise ImproperlyConfigured("FEED_HEAD_SECONDS must be 0 or more")

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "conduit.web.views.csrf_failure"
LOGIN_URL = "web:login"
MESSAGE_STORAGE = "django.contrib.messages.storage.fallback.FallbackStorage"
# Secure cookies unless DEBUG. Browsers treat http://127.0.0.1 and http://localhost as secure
# contexts, so the embedded default works over plain HTTP on loopback too.
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS only with DEBUG off: plain HTTP is redirected and browsers are told (HSTS) to use HTTPS
# for a year. `make run` and `make stack` serve plain HTTP on loopback and turn both off.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
# A host's HSTS covers its subdomains too (Django's deploy check asks for it); turn it off when
# Conduit is served on a domain whose subdomains do not all serve HTTPS.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HSTS_SECONDS > 0
)
# Preloading asks browsers' built-in lists to hold the whole registrable domain to HTTPS, and
# takes months to undo: the domain owner's decision, never a default. Django's deploy check
# warns about every site that does not preload (security.W021); that advice is not for an app.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS.append("security.W021")
# Probes and Prometheus call the app server directly over plain HTTP (Dockerfile HEALTHCHECK,
# deploy/k8s probes, scrapes): never redirect them. Patterns match the path without its "/".
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]
# A strict Content-Security-Policy (Django's own, on HTML responses): scripts, styles, fonts and
# fetches from this origin only, no inline script or style, no plugins, no framing, forms post
# here. Images may come from any HTTPS origin: an avatar is a URL its user chose (or S3's).
# A CDN named by STATIC_URL is allowed beside this origin; one named by MEDIA_URL for images only
# (uploads are never run as scripts or styles).
# The browser tests fail on any violation (their console-error guard, tests/browser/conftest.py).
_STATIC_HOST = asset_origins(STATIC_URL)
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, *_STATIC_HOST],
    "style-src": [CSP.SELF, *_STATIC_HOST],
    "img-src": [CSP.SELF, "https:", "data:", *asset_origins(STATIC_URL, MEDIA_URL)],
    "font-src": [CSP.SELF, *_STATIC_HOST],
    "connect-src": [CSP.SELF, *([EVENTS_PUBLIC_URL] if EVENTS_PUBLIC_URL else [])],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# X-Forwarded-Proto decides whether a request came over HTTPS (redirects, CSRF's origin check,
# absolute URLs). Trust it only behind a TLS-terminating proxy that always sets it: otherwise any
# client could send "https" and skip the redirect.
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Rate limits (ADR 0024, docs/security.md) -----------------------------------------------
# Counted in the cache (Redis with CACHE_URL, in-process without); anonymous reads per process.
# Each is "<count>/<period>" with a period of s, m or h (e.g. 100/5m); RATE_LIMIT_<NAME> sets
# one, RATE_LIMITS_ENABLED=false turns them all off (the benchmarks do).
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)
RATE_LIMITS = {
    # attempts from one address, whatever the account
    "sign_in_per_ip": env.str("RATE_LIMIT_SIGN_IN_PER_IP", default="300/5m"),
    # failed attempts on one account, from anywhere
    "sign_in_per_account": env.str("RATE_LIMIT_SIGN_IN_PER_ACCOUNT", default="50/15m"),
    "register_per_ip": env.str("RATE_LIMIT_REGISTER_PER_IP", default="300/10m"),
    "password_change_per_user": env.str("RATE_LIMIT_PASSWORD_CHANGE_PER_USER", default="20/h"),
    # POST/PUT/PATCH/DELETE of a signed-in user (by address if signed out)
    "writes_per_user": env.str("RATE_LIMIT_WRITES_PER_USER", default="3000/m"),
    # anonymous GETs, per process (nginx's limit_req is the shared limit)
    "reads_per_ip": env.str("RATE_LIMIT_READS_PER_IP", default="12000/m"),
}
# Routes limited per address on top of the writes (the names are the URLconf's).
RATE_LIMITED_ROUTES = {
    "api-login": "sign_in_per_ip",
    "web:login": "sign_in_per_ip",
    "api-register": "register_per_ip",
    "oauth2_provider:authorize": "sign_in_per_ip",
    "oauth2_provider:token": "sign_in_per_ip",
    "oauth2_provider:revoke-token": "sign_in_per_ip",
    "web:register": "register_per_ip",
}
RATE_LIMIT_RESPONSE = "config.errors.too_many_requests"
# Brute force on one account from one address: after SIGN_IN_LOCKOUT_AFTER failures in 15
# minutes, the next attempts from there wait SIGN_IN_LOCKOUT_SECONDS, doubling with each further
# failure up to SIGN_IN_LOCKOUT_MAX_SECONDS. Other addresses (the owner's) are not locked out.
SIGN_IN_LOCKOUT_AFTER = env.int("SIGN_IN_LOCKOUT_AFTER", default=5)
SIGN_IN_LOCKOUT_SECONDS = env.int("SIGN_IN_LOCKOUT_SECONDS", default=30)
SIGN_IN_LOCKOUT_MAX_SECONDS = env.int("SIGN_IN_LOCKOUT_MAX_SECONDS", default=900)
# The proxies (addresses or CIDR networks) whose X-Forwarded-For is believed: the client is the
# rightmost address not among them. Empty: the peer's address is the client's (no proxy).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- Logging --------------------------------------------------------------------------------
# structlog renders every line, Django's and the libraries' included (through the stdlib root
# handler and structlog's ProcessorFormatter): JSON lines on stdout by default, a readable console
# format when DEBUG. Request-scoped values (request_id, method, route) come from contextvars bound
# by conduit.platform.observability.request_id.RequestIdMiddleware.
LOG_FORMAT = env.str("LOG_FORMAT", default="console" if DEBUG else "json")
if LOG_FORMAT not in {"json", "console"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or console, not {LOG_FORMAT!r}")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()

# Paths whose next segment is a capability (a signed link that works without signing in): never
# written to a log (docs/security.md).
CAPABILITY_PATH_PREFIXES = ["/api/user/export/download/", "/notifications/unsubscribe/"]
_shared_processors: list[structlog.typing.Processor] = [
    RedactCapabilities(CAPABILITY_PATH_PREFIXES),
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
# --- Tracing (ADR 0037) ----------------------------------------------------------------------
# OpenTelemetry, exported over OTLP, only when an endpoint is set (the SDK reads the variable
# itself, with the other OTEL_* ones: docs/configuration.md). Off, nothing of it is imported;
# on, each process sets it up once (conduit/platform/observability/tracing.py) and the log lines
# of a sampled span carry its trace_id and span_id.
TRACING_ENABLED = bool(env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default=""))
if TRACING_ENABLED:
    from conduit.platform.observability.otel import add_trace_ids

    _shared_processors.append(add_trace_ids)

_renderer: structlog.typing.Processor = (
    structlog.processors.JSONRenderer()
    if LOG_FORMAT == "json"
    else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
)

structlog.configure(
    processors=[
        *_shared_processors,
        structlog.processors.StackInfoRenderer(),
        *([structlog.processors.format_exc_info] if LOG_FORMAT == "json" else []),
        _renderer,
    ],
    logger_factory=stdout_logger_factory,
    wrapper_class=structlog.make_filtering_bound_logger(LOG_LEVEL),
    cache_logger_on_first_use=True,
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structlog": {
            "()": structlog.stdlib.ProcessorFormatter,
            "foreign_pre_chain": _shared_processors,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *([structlog.processors.format_exc_info] if LOG_FORMAT == "json" else []),
                _renderer,
            ],
        }
    },
    "handlers": {
        "stdout": {
            "()": "conduit.platform.observability.logs.StdoutHandler",
            "formatter": "structlog",
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Django's defaults give these their own handlers; here they go to the root's instead.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "INFO", "propagate": True},
    },
}

# --- Sentry (optional) ------------------------------------------------------------------------
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        integrations=[DjangoIntegration()],
        send_default_pii=False,
    )

# --- Secrets ----------------------------------------------------------------------------------
# Last, so that every start path (granian, Celery, manage.py) refuses before doing anything.
refuse_weak_secrets(debug=DEBUG, secret_key=SECRET_KEY, databases=DATABASES)
