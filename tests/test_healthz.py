import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone

from referralcrm.health import HEARTBEAT_KEY, record_heartbeat

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def test_healthy_when_database_cache_and_heartbeat_are_fine(client):
    record_heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "vendor": "postgresql"}
    assert body["checks"]["broker"]["transport"] == "redis"
    assert body["checks"]["beat"]["age_seconds"] <= 1


def test_unhealthy_without_a_heartbeat(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "worker and beat" in response.json()["checks"]["beat"]["error"]


def test_unhealthy_with_a_stale_heartbeat(client, settings):
    cache.set(HEARTBEAT_KEY, (timezone.now() - timedelta(minutes=30)).isoformat())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"]["ok"] is False


def test_unhealthy_when_the_database_is_down():
    """A process whose database is unreachable answers 503 with a one-line reason."""
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "from referralcrm.health import record_heartbeat; record_heartbeat();"
        "r = Client().get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "referralcrm.test_settings",
        # Port 9 (discard) has no PostgreSQL on it: the server is "down".
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/referralcrm",
        "ALLOWED_HOSTS": "testserver",
    }
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == 503
    database = result["body"]["checks"]["database"]
    assert database["ok"] is False
    assert database["error"].startswith("OperationalError")
    assert result["body"]["checks"]["cache"]["ok"] is True
