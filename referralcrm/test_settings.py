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
os.environ.setdefault("TEST_BROKER_URL", "redis://127.0.0.1:6379/12")


def _redis_db_below(url: str, by: int) -> str:
    """The same Redis URL ``by`` database numbers lower (redis://host:port/13 → /11)."""
    base, _, db = url.rpartition("/")
    return f"{base}/{(int(db) - by) % 16}"


# Under pytest-xdist (make test runs two workers) each worker has its own test database
# (pytest-django names it) and its own cache and broker databases, two below the previous
# worker's; the processes a test starts inherit them (and the marker, so never shift twice).
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
if _worker != "gw0" and not os.environ.get("RCRM_TEST_REDIS_WORKER"):
    _shift = 2 * int(_worker.removeprefix("gw"))
    os.environ["REDIS_URL"] = _redis_db_below(os.environ["REDIS_URL"], _shift)
    os.environ["TEST_BROKER_URL"] = _redis_db_below(os.environ["TEST_BROKER_URL"], _shift)
    os.environ["RCRM_TEST_REDIS_WORKER"] = _worker

from .settings import *  # noqa: F403, E402  (after the environment above)
from .settings import STORAGES  # noqa: E402

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
CELERY_BROKER_URL = os.environ["TEST_BROKER_URL"]

# The test suite's webhook receiver listens on loopback.
WEBHOOK_ALLOW_PRIVATE = True
