"""Settings for Referral CRM, read from the environment only (12-factor).

Every variable is listed in the README with its default. With nothing set, the app
runs on an embedded default: SQLite in ``var/``, a file-system Celery transport and
cache, and e-mail printed to the console.
"""

from __future__ import annotations

import os
from pathlib import Path

import csp.constants
import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DATA_DIR") or BASE_DIR / "var")

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (or DEBUG=1 for development)."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = [SITE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "template_partials",
    "accounts",
    "contacts",
    "referrals",
    "followups",
    "groups",
    "portability",
    "plan",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.TimezoneMiddleware",
    "csp.middleware.CSPMiddleware",
    "referralcrm.middleware.permissions_policy",
]

ROOT_URLCONF = "referralcrm.urls"
WSGI_APPLICATION = "referralcrm.wsgi.application"
# Django's form renderer with inputs, textareas and labels written in Python (same HTML).
FORM_RENDERER = "referralcrm.widgets.FastRenderer"

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

# --- Database --------------------------------------------------------------
# PostgreSQL in production and tests; SQLite in var/ for the embedded default.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
# A worker keeps its connection between requests (connecting costs more than most pages'
# queries); each request first checks it is alive, so a restarted database costs nothing.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if IS_POSTGRES:
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache, broker ---------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Falls back to a local cache while Redis is down (referralcrm/cache.py).
            "BACKEND": "referralcrm.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="rcrm"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    # A file cache is shared by web, worker and beat processes on one machine,
    # so allauth's rate limits and the beat heartbeat work on the embedded default.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery ----------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any task's hard time limit, so an unacked task of a live
        # worker is never redelivered to a second one while it still runs.
        "visibility_timeout": 3600,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    _queue_dir = str(VAR_DIR / "celery" / "queue")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _queue_dir,
        "data_folder_out": _queue_dir,
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # /healthz reports how long ago this ran: proof that beat and a worker are alive.
    "heartbeat": {"task": "referralcrm.heartbeat", "schedule": 60.0},
    # Finds users whose digest hour has come; claims and enqueues one send per user.
    "digest-sweep": {
        "task": "followups.sweep_digests",
        "schedule": env.float("DIGEST_SWEEP_SECONDS", default=300.0),
    },
    # Deletes export files whose download link has expired.
    "export-cleanup": {"task": "portability.delete_expired_exports", "schedule": 3600.0},
    # Webhooks: "follow-up due" events, and deliveries lost before a worker took them.
    "webhook-sweep": {"task": "api.webhook_sweep", "schedule": 300.0},
    # Relationship strength: recency decays with time alone (plan.strength).
    "strength-refresh": {"task": "plan.refresh_all_strength", "schedule": 86400.0},
    # Stored introduction suggestions (plan.precompute): refreshes whose task was lost,
    # and everyone's once a day (their scores include recency too).
    "suggestions-sweep": {"task": "plan.sweep_suggestions", "schedule": 300.0},
    "suggestions-refresh": {"task": "plan.refresh_all_suggestions", "schedule": 86400.0},
}
# A digest send whose claim is older than this is taken to have crashed and is retried.
DIGEST_CLAIM_TTL = env.int("DIGEST_CLAIM_TTL", default=600)
HEARTBEAT_MAX_AGE = env.int("HEARTBEAT_MAX_AGE", default=300)

# --- E-mail ----------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="console")
if EMAIL_URL == "console":
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    vars().update(env.email_url_config(EMAIL_URL))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Referral CRM <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Accounts (django-allauth) --------------------------------------------
AUTHENTICATION_BACKENDS = [
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
# Changing e-mail addresses (and two-factor, always) asks for the password again when the
# last log-in is older than ACCOUNT_REAUTHENTICATION_TIMEOUT (5 minutes).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# Staff must set up two-factor authentication before the admin site opens (organisers always
# must, for the organisers' site).
REQUIRE_MFA_FOR_STAFF = env.bool("REQUIRE_MFA_FOR_STAFF", default=False)
# Sessions end after this long without a request, and this long after log-in at the most.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=7 * 24 * 3600)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=30 * 24 * 3600)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Referral CRM] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
LOGIN_REDIRECT_URL = "dashboard"
LOGIN_URL = "account_login"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Referral CRM"

# --- I18N, static ----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Import and export ---------------------------------------------------
# Private files of finished exports (served only through an owner-checked view).
EXPORT_ROOT = env.str("EXPORT_ROOT", default=str(BASE_DIR / "var" / "exports"))
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
# manage.py import_contacts restores archives up to this size (the web upload stops at
# IMPORT_MAX_BYTES; a big account's archive is restored from the command line).
ARCHIVE_MAX_BYTES = env.int("ARCHIVE_MAX_BYTES", default=200 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20_000)
# Files with more rows than this are read and imported by a Celery task with a progress bar.
IMPORT_BACKGROUND_ROWS = env.int("IMPORT_BACKGROUND_ROWS", default=300)
EXPORT_LINK_HOURS = env.int("EXPORT_LINK_HOURS", default=24)

# --- API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # the app's own pages, CSRF
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.TokenScopePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.TokenRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only: ``?format=`` is an unknown parameter like any other, not a renderer pick
    # (an unknown one was a 404 that no operation documents; the API fuzz test found it).
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Cursor",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Referral CRM API",
    "DESCRIPTION": "Your contacts, GAINS, meetings, follow-ups, referral ledger and groups. "
    "Authenticate with a personal access token: `Authorization: Bearer rcrm_…`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "TriStateEnum": "contacts.models.TriState",
        "GainsKindEnum": "contacts.models.GainsKind",
        "MeetingKindEnum": "contacts.models.MeetingKind",
        "ReferralStatusEnum": "referrals.models.Status",
        "FollowUpStatusEnum": "followups.models.Status",
        "MembershipStatusEnum": "api.endpoints.groups.CURRENT_STATUS_CHOICES",
        "RoleEnum": "groups.models.Role",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
}
# Requests per token (or per signed-in user) and the largest JSON body accepted.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="120/min")
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=256 * 1024)
# Webhook endpoints must resolve to public addresses; only the test suite turns this on.
WEBHOOK_ALLOW_PRIVATE = False
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=5.0)

# --- Security --------------------------------------------------------------
HTTPS = SITE_URL.startswith("https")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
# HTTPS everywhere once the site is served over it (each can be turned off by environment).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container's own health check speaks plain HTTP
# Proxy headers are believed only when a trusted proxy is declared: TRUSTED_PROXY is how many
# proxies (that append to X-Forwarded-For and set X-Forwarded-Proto) stand in front of the
# app. Unset, a client could claim HTTPS or forge its address to dodge the rate limits.
TRUSTED_PROXY = env.int("TRUSTED_PROXY", default=0)
if TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): our own origin only; no inline script or style, no
# eval. A third-party page that needs an inline block (the API docs) carries the nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.constants.SELF],
        "script-src": [csp.constants.SELF, csp.constants.NONCE],
        "style-src": [csp.constants.SELF, csp.constants.NONCE],
        "img-src": [csp.constants.SELF, "data:"],  # data: for the two-factor QR code
        "font-src": [csp.constants.SELF],
        "connect-src": [csp.constants.SELF],
        "form-action": [csp.constants.SELF],
        "frame-ancestors": [csp.constants.NONE],
        "base-uri": [csp.constants.SELF],
        "object-src": [csp.constants.NONE],
    }
}
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Secret URLs (calendar feed, one-click links, invitations, reset keys) are redacted.
    "filters": {"redact_secrets": {"()": "referralcrm.logfilters.RedactSecretsFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own loggers (requests, runserver) through the same redacting handler.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
