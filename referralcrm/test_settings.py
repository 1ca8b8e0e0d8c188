"""Settings for the test suite: the real PostgreSQL and Redis, a fast password hasher.

The defaults below point at the local servers (``docker compose up -d db redis``
starts them); set DATABASE_URL / REDIS_URL to use others.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/referralcrm")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("CACHE_KEY_PREFIX", "rcrm-test")
os.environ.setdefault("EMAIL_URL", "console")

from .settings import *  # noqa: F403
from .settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if os.environ["EMAIL_URL"] == "console":  # tests read mail.outbox unless SMTP is asked for
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True

# The broker gets its own Redis database, so clearing the cache between tests
# (conftest's cache.clear() is a FLUSHDB) never drops queued tasks.
CELERY_BROKER_URL = os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/12")

# The test suite's webhook receiver listens on loopback.
WEBHOOK_ALLOW_PRIVATE = True
