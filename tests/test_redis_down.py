"""Redis down: pages and log in still work (rate limits count in a local cache meanwhile),
/healthz says what is wrong, and the app goes back to Redis by itself when it returns."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.urls import reverse

from referralcrm import cache as resilient
from tests.conftest import PASSWORD

DEAD = {
    "default": {
        "BACKEND": "referralcrm.cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down():
    with override_settings(CACHES=DEAD):  # Django re-creates the cache handlers for it
        yield


def test_log_in_sign_up_and_password_reset_work_while_redis_is_down(client, alice, redis_down):
    assert isinstance(caches["default"], resilient.ResilientRedisCache)
    response = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    client.logout()
    assert client.get(reverse("account_signup")).status_code == 200
    response = client.post(reverse("account_reset_password"), {"email": alice.email})
    assert response.status_code == 302
    assert caches["default"].degraded


def test_failed_logins_are_still_limited_while_redis_is_down(client, alice, redis_down, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip,3/m/key"}
    pages = [
        client.post(reverse("account_login"), {"login": alice.email, "password": "wrong"})
        for _ in range(5)
    ]
    assert "Too many failed login attempts" not in pages[0].content.decode()
    assert "Too many failed login attempts" in pages[-1].content.decode()


def test_healthz_reports_the_outage(client, redis_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["ok"] is False


def test_back_to_redis_when_it_returns(monkeypatch):
    backend = caches["default"]
    assert isinstance(backend, resilient.ResilientRedisCache)  # the test settings use Redis
    # As if an outage had just been seen; monkeypatch puts the real value back afterwards.
    # Set by hand and left, it kept this thread's cache on its local fallback for the rest of
    # the process (real time never reaches 10**12), and a later test in the same xdist worker
    # read the heartbeat there instead of from Redis (CI, four times).
    monkeypatch.setattr(backend, "_down_until", 10**12)
    backend.set("x", 1)
    assert backend.degraded
    monkeypatch.setattr(resilient.time, "monotonic", lambda: 10**12 + 1)
    backend.set("back", "yes")
    assert not backend.degraded
    assert backend.ping()
