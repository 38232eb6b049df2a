"""mudhub settings: one module, every knob an environment variable with a safe default.

With no variables set this is the embedded mode: SQLite under var/, Celery tasks run
inline, a file-based cache that every process shares. DATABASE_URL switches to
PostgreSQL, REDIS_URL to the Redis cache and Celery broker, MUDHUB_ENV=production to the
hardened settings. The README lists every variable in one table.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

MUDHUB_ENV = env.str("MUDHUB_ENV", default="development")
if MUDHUB_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"MUDHUB_ENV must be 'development' or 'production', not {MUDHUB_ENV!r}")
PRODUCTION = MUDHUB_ENV == "production"

VAR_DIR = Path(env.str("MUDHUB_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Where `make run` / `make serve` bind. DEBUG defaults on only for a loopback bind in
# development, so a debug page can never be served to the network by accident.
MUDHUB_BIND = env.str("MUDHUB_BIND", default="127.0.0.1:8000")
_bind_host = MUDHUB_BIND.rsplit(":", 1)[0].strip("[]")
_loopback = _bind_host in {"127.0.0.1", "localhost", "::1"}
DEBUG = env.bool("DEBUG", default=(not PRODUCTION and _loopback))
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must not be on with MUDHUB_ENV=production")


def _missing(name: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"MUDHUB_ENV=production requires the environment variable {name}")


def _dev_secret_key() -> str:
    # A development key that survives restarts (sessions stay valid) without living in git.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    if not env.str("SECRET_KEY", default=""):
        raise _missing("SECRET_KEY")
    if not env.list("ALLOWED_HOSTS", default=[]):
        raise _missing("ALLOWED_HOSTS")
SECRET_KEY = env.str("SECRET_KEY", default="") or _dev_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "profiles.api.errors.csrf_failure"

# The public origin gateways fetch MUD files from; it is written into every mud-url, which
# RFC 8520 requires to be https (in production a TLS proxy or CDN sits in front).
MUDHUB_PUBLIC_URL = env.str("MUDHUB_PUBLIC_URL", default=f"https://{MUDHUB_BIND}").rstrip("/")
if not MUDHUB_PUBLIC_URL.startswith("https://"):
    raise ImproperlyConfigured("MUDHUB_PUBLIC_URL must be an https:// origin: RFC 8520 MUD URLs are https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "profiles",
    "profiles.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "profiles.middleware.JsonErrorMiddleware",
    "profiles.middleware.ControlCharacterMiddleware",
    "profiles.middleware.ServiceUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "profiles.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "aggregator.urls"
WSGI_APPLICATION = "aggregator.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -----------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mudhub.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the server read while a management command or an inline task writes;
    # IMMEDIATE transactions take the write lock up front instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery ---------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "profiles.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("MUDHUB_CACHE_PREFIX", default="mudhub"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    # A file cache is shared by every process on the machine, so a recompute run from
    # manage.py is seen by the server at once (a local-memory cache would not be).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 10000},
        }
    }

# Embedded mode runs tasks inline; production never does (a broker is required).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
if PRODUCTION and (CELERY_TASK_ALWAYS_EAGER or not CELERY_BROKER_URL):
    raise ImproperlyConfigured("MUDHUB_ENV=production requires REDIS_URL (or CELERY_BROKER_URL) and no inline tasks")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a request when the broker is down: the sweep catches up.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2, "max_retries": 1}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "profiles.tasks.worker_heartbeat", "schedule": timedelta(minutes=1)},
    "sweep-dirty-models": {"task": "profiles.tasks.sweep_dirty_models", "schedule": timedelta(minutes=1)},
    "recompute-due-models": {"task": "profiles.tasks.recompute_due_models", "schedule": timedelta(minutes=1)},
    "sweep-stale-models": {"task": "profiles.tasks.sweep_stale_models", "schedule": timedelta(hours=1)},
    "nightly-trust": {"task": "profiles.tasks.nightly_trust", "schedule": crontab(hour=3, minute=17)},
    "expired-tokens": {"task": "profiles.tasks.expired_tokens_delete", "schedule": crontab(hour=4, minute=41)},
    # Each mirrored manufacturer profile is re-fetched once its cache-validity has passed.
    "mirror-manufacturer-profiles": {
        "task": "profiles.tasks.mirror_manufacturer_profiles",
        "schedule": timedelta(minutes=15),
    },
    "index-refresh": {"task": "profiles.tasks.index_refresh", "schedule": timedelta(minutes=15)},
    "changes-prune": {"task": "profiles.tasks.changes_prune", "schedule": crontab(hour=5, minute=11)},
}
# A burst of submissions for one model is merged into one recompute this many seconds later.
MUDHUB_RECOMPUTE_DEBOUNCE_SECONDS = env.int("MUDHUB_RECOMPUTE_DEBOUNCE_SECONDS", default=5)
MUDHUB_RECOMPUTE_QUEUE = env.str("MUDHUB_RECOMPUTE_QUEUE", default="celery")
# Time-driven recomputes: at most this many due models per beat run (each minute), and the
# hourly safety net makes a model due when it has not been computed for this many days.
MUDHUB_TIME_RECOMPUTE_BATCH = env.int("MUDHUB_TIME_RECOMPUTE_BATCH", default=200)
MUDHUB_TIME_SWEEP_DAYS = env.int("MUDHUB_TIME_SWEEP_DAYS", default=7)
# How long a served MUD file stays in the cache. Publishing overwrites the entry at once;
# the expiry only bounds how stale a file can be if the cache was down during a publish.
MUDHUB_MUD_FILE_CACHE_SECONDS = env.int("MUDHUB_MUD_FILE_CACHE_SECONDS", default=300)
# Each web process also keeps the files it served in memory this long, sparing the shared
# cache's round trip on the hottest path; a publish reaches every process within it.
MUDHUB_MUD_FILE_MEMORY_SECONDS = env.float("MUDHUB_MUD_FILE_MEMORY_SECONDS", default=2.0)
# The cache-validity (hours, 1..168) written into served MUD files and their Cache-Control.
MUDHUB_CACHE_VALIDITY_HOURS = env.int("MUDHUB_CACHE_VALIDITY_HOURS", default=24)
if not 1 <= MUDHUB_CACHE_VALIDITY_HOURS <= 168:
    raise ImproperlyConfigured("MUDHUB_CACHE_VALIDITY_HOURS must be within 1..168 (RFC 8520)")

# --- Manufacturers ------------------------------------------------------------------------
# The DNS server (`host:port`) domain claims and manufacturer fetches ask; empty: the system's.
MUDHUB_DNS_RESOLVER = env.str("MUDHUB_DNS_RESOLVER", default="")
if MUDHUB_DNS_RESOLVER and not MUDHUB_DNS_RESOLVER.rpartition(":")[2].isdigit():
    raise ImproperlyConfigured("MUDHUB_DNS_RESOLVER must be host:port, e.g. 127.0.0.1:53")
# Fetching from manufacturers' servers may reach private and loopback addresses (tests only).
MUDHUB_CLAIM_ALLOW_PRIVATE = env.bool("MUDHUB_CLAIM_ALLOW_PRIVATE", default=False)
if PRODUCTION and MUDHUB_CLAIM_ALLOW_PRIVATE:
    raise ImproperlyConfigured("MUDHUB_CLAIM_ALLOW_PRIVATE must not be set with MUDHUB_ENV=production")
# The port the https domain-claim check connects to (443; tests run their server elsewhere).
MUDHUB_CLAIM_HTTPS_PORT = env.int("MUDHUB_CLAIM_HTTPS_PORT", default=443)
MUDHUB_FETCH_TIMEOUT_SECONDS = env.float("MUDHUB_FETCH_TIMEOUT_SECONDS", default=5.0)
# An extra CA bundle trusted for those fetches, besides the system's.
MUDHUB_FETCH_CA_FILE = env.str("MUDHUB_FETCH_CA_FILE", default="")
# --- Publishing -------------------------------------------------------------------------
# The aggregator's signing key and the certificate gateways pin. In development both are
# created under var/signing/ on first use; production reads them from these paths and
# never creates a key by itself (`manage.py create_signing_key` does, once).
MUDHUB_SIGNING_KEY = Path(env.str("MUDHUB_SIGNING_KEY", default=str(VAR_DIR / "signing" / "aggregator.key")))
MUDHUB_SIGNING_CERT = Path(env.str("MUDHUB_SIGNING_CERT", default=str(VAR_DIR / "signing" / "aggregator.pem")))
# A certificate announced in the signed index before its key signs anything (key rotation).
MUDHUB_SIGNING_NEXT_CERT = Path(env.str("MUDHUB_SIGNING_NEXT_CERT", default=str(VAR_DIR / "signing" / "next.pem")))
MUDHUB_SIGNING_CREATE = env.bool("MUDHUB_SIGNING_CREATE", default=not PRODUCTION)
# Where every published file is also written, in the /mud/ layout, for nginx or a CDN; empty: nowhere.
MUDHUB_PUBLISH_DIR = env.str("MUDHUB_PUBLISH_DIR", default="")
# How long a signed index is valid; it is signed again well before (every quarter of this).
MUDHUB_INDEX_EXPIRY_HOURS = env.int("MUDHUB_INDEX_EXPIRY_HOURS", default=48)
if MUDHUB_INDEX_EXPIRY_HOURS < 1:
    raise ImproperlyConfigured("MUDHUB_INDEX_EXPIRY_HOURS must be at least 1")
# How long the change feed keeps its entries; an older `since` answers 410 with the export URL.
MUDHUB_CHANGES_RETENTION_DAYS = env.int("MUDHUB_CHANGES_RETENTION_DAYS", default=90)

# --- Limits -------------------------------------------------------------------------------
# Daily limits by trust level (CONSENSUS.md, "Anti-abuse defaults").
MUDHUB_SUBMISSIONS_PER_DAY = {0: 3, 1: 20, 2: 100, 3: 500}
MUDHUB_VOTES_PER_DAY = {0: 0, 1: 0, 2: 30, 3: 60}
MUDHUB_SIGNUPS_PER_NETWORK_PER_DAY = env.int("MUDHUB_SIGNUPS_PER_NETWORK_PER_DAY", default=3)
# How many proxies in front of mudhub append to X-Forwarded-For (0: use the peer address).
REST_FRAMEWORK_NUM_PROXIES = env.int("MUDHUB_NUM_PROXIES", default=0)
# Login lockouts (profiles/services/logins.py): failures before a username, or a /24 (/48)
# network, is locked, and for how long (also how long failures are remembered).
MUDHUB_LOGIN_FAILURES_PER_USERNAME = env.int("MUDHUB_LOGIN_FAILURES_PER_USERNAME", default=5)
MUDHUB_LOGIN_FAILURES_PER_NETWORK = env.int("MUDHUB_LOGIN_FAILURES_PER_NETWORK", default=20)
MUDHUB_LOGIN_LOCKOUT_SECONDS = env.int("MUDHUB_LOGIN_LOCKOUT_SECONDS", default=900)
MUDHUB_MAX_BODY_BYTES = env.int("MUDHUB_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MUDHUB_MAX_BODY_BYTES + 64 * 1024

# --- Auth and API -------------------------------------------------------------------------
# Django's ModelBackend with the login lockout checked before any password hash is computed.
AUTHENTICATION_BACKENDS = ["profiles.auth_backends.LockoutBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("MUDHUB_TOKEN_TTL_DAYS", default=30)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": True,
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["profiles.api.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["profiles.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["profiles.api.parsers.RawJSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "profiles.api.strict.FilterBackend",
        "profiles.api.strict.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "profiles.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "profiles.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "profiles.api.errors.exception_handler",
    # `?format=` is a filter (submissions), not a renderer choice; the schema takes an Accept header.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_THROTTLE_CLASSES": ["profiles.api.throttles.AnonThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": env.str("MUDHUB_ANON_RATE", default="600/minute")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": REST_FRAMEWORK_NUM_PROXIES,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "mudhub API",
    "DESCRIPTION": "Crowdsourced MUD (RFC 8520) device profiles: submissions, consensus, gateway downloads.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # `<id:...>` path segments (profiles/api/converters.py): 64-bit integers.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}},
    # Request and response bodies as separate components, as client generators expect.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "profiles.api.schema.postprocess"],
    # Two models have a `state` field with different choices: each enum named after its model.
    "ENUM_NAME_OVERRIDES": {
        "ConsensusFlowStateEnum": "profiles.models.consensus.ConsensusFlow.State",
        "DiscrepancyStateEnum": "profiles.models.manufacturers.Discrepancy.State",
    },
}

# --- Static, i18n, security ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("MUDHUB_STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)

# The web pages load only their own files: no inline script or style, no CDN, no framing.
# Swagger UI (a third-party page with an inline bootstrap script) and the admin keep their
# own rules.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/schema/swagger-ui/", "/admin/"],
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    },
}
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
