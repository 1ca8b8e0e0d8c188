"""The Redis cache, surviving Redis being down.

The cache holds rate-limit counters (allauth's, the API's) and heartbeats. If Redis stops,
Django's Redis backend raises on every call, and logging in, signing up and resetting a
password would fail with it. ``ResilientRedisCache`` answers from a local in-process cache
instead — rate limits then count per process, which still slows an attacker down — and
tries Redis again after ``RETRY_AFTER`` seconds, so a dead Redis costs one connection
timeout per process now and then, not one per request. ``/healthz`` reports the outage
through ``ping()``, which never falls back.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)

RETRY_AFTER = 10.0


FALLBACK_METHODS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


def _resilient(name: str):
    def method(self, *args, **kwargs):
        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(ResilientRedisCache, self), name)(*args, **kwargs)
            except Exception as exc:  # redis.ConnectionError, TimeoutError, ...
                self._down_until = time.monotonic() + RETRY_AFTER
                log.warning("Redis cache unavailable (%s); using a local cache for now", exc)
        return getattr(self._fallback, name)(*args, **kwargs)

    method.__name__ = name
    return method


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0
        self._fallback = LocMemCache("rcrm-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})

    @property
    def degraded(self) -> bool:
        return time.monotonic() < self._down_until

    def ping(self) -> bool:
        """Ask Redis itself (no fallback): raises when it is down."""
        return bool(self._cache.get_client(write=True).ping())


for _name in FALLBACK_METHODS:
    setattr(ResilientRedisCache, _name, _resilient(_name))
