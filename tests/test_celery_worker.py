import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache

from referralcrm.celery import app, heartbeat
from referralcrm.health import HEARTBEAT_KEY

pytestmark = pytest.mark.worker


def test_real_worker_runs_the_heartbeat_task_from_redis():
    assert app.conf.broker_url.startswith("redis://")
    assert cache.get(HEARTBEAT_KEY) is None
    # Tasks that earlier tests in this process queued (and no worker ran) would run first,
    # outside any test's database access: only this test's task is for this worker.
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        heartbeat.delay()
        deadline = time.monotonic() + 20
        while cache.get(HEARTBEAT_KEY) is None and time.monotonic() < deadline:
            time.sleep(0.1)
    assert cache.get(HEARTBEAT_KEY) is not None


def test_celery_is_configured_for_at_least_once_delivery():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert "heartbeat" in conf.beat_schedule
