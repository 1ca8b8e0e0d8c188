import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache

from referralcrm.celery import app, heartbeat
from referralcrm.health import HEARTBEAT_KEY

pytestmark = pytest.mark.worker


def test_real_worker_runs_the_heartbeat_task_from_redis():
    assert app.conf.broker_url.startswith("redis://")
    # A test that leaves this thread's cache on its local fallback would hide the worker's
    # write to Redis (test_redis_down did, which failed this test in CI).
    assert not cache.degraded
    cache.delete(HEARTBEAT_KEY)
    assert cache.get(HEARTBEAT_KEY) is None
    # Tasks that earlier tests in this process queued (and no worker ran) would run first,
    # outside any test's database access: only this test's task is for this worker. It
    # listens on a queue of its own: the Redis transport puts back on the default queue what
    # an earlier test's worker took and never acknowledged, and with one process a task
    # waiting on a timeout there held the heartbeat past the deadline (CI, twice).
    app.control.purge()
    queue = "test-heartbeat"
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)
    queues, consumed = app.amqp.queues, app.amqp.queues._consume_from
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=[queue]
        ):
            heartbeat.apply_async(queue=queue)
            deadline = time.monotonic() + 30
            while cache.get(HEARTBEAT_KEY) is None and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        # The worker's queue selection is the app's (Queues.select): every later worker of
        # this process would consume this queue only. Put the app's back.
        queues._consume_from = consumed
        queues.pop(queue, None)
    assert cache.get(HEARTBEAT_KEY) is not None


def test_a_later_worker_consumes_the_default_queue_again():
    assert "test-heartbeat" not in app.amqp.queues.consume_from
    assert app.conf.task_default_queue in app.amqp.queues.consume_from


def test_celery_is_configured_for_at_least_once_delivery():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert "heartbeat" in conf.beat_schedule
