"""Health checks for /healthz: database, cache/broker and the beat heartbeat."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

HEARTBEAT_KEY = "health:heartbeat"


def record_heartbeat() -> str:
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return {"ok": False, "error": _one_line(exc)}
    return {"ok": True, "vendor": connection.vendor}


def check_cache() -> dict:
    try:
        if hasattr(cache, "ping"):  # the resilient Redis cache: ask Redis, not its fallback
            cache.ping()
        cache.set("health:probe", "1", timeout=30)
        ok = cache.get("health:probe") == "1"
    except Exception as exc:
        return {"ok": False, "error": _one_line(exc)}
    return {"ok": ok, "backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def check_broker() -> dict:
    from referralcrm.celery import app

    url = app.conf.broker_url or ""
    if not url.startswith("redis"):
        return {"ok": True, "transport": url.split(":", 1)[0]}
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return {"ok": False, "error": _one_line(exc)}
    return {"ok": True, "transport": "redis"}


def check_heartbeat() -> dict:
    try:
        raw = cache.get(HEARTBEAT_KEY)
    except Exception as exc:
        return {"ok": False, "error": _one_line(exc)}
    if not raw:
        return {"ok": False, "error": "no heartbeat yet: are the worker and beat running?"}
    last = datetime.fromisoformat(raw)
    age = (timezone.now() - last).total_seconds()
    ok = age <= settings.HEARTBEAT_MAX_AGE
    result = {"ok": ok, "last": raw, "age_seconds": round(age)}
    if not ok:
        result["error"] = f"last heartbeat {round(age)} s ago: is beat or the worker down?"
    return result


def report() -> tuple[bool, dict]:
    checks = {
        "database": check_database(),
        "cache": check_cache(),
        "broker": check_broker(),
        "beat": check_heartbeat(),
    }
    healthy = all(c["ok"] for c in checks.values())
    return healthy, {"status": "ok" if healthy else "fail", "checks": checks}


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
