"""Redis, the Celery broker, down when beat's sweep runs, then back: every digest that came
due meanwhile goes out, exactly once.

The test starts a redis-server of its own as the broker and stops it under the sweep. The
sweep claims the users (the day's DigestLog rows are committed) but cannot enqueue their
sends; those logs must not be lost: a later sweep finds them (pending for longer than
``DIGEST_CLAIM_TTL``) and enqueues them once the broker is back. Time is simulated as in
test_fault_smtp (the sweeps run every five minutes of Django's clock).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections import Counter
from datetime import timedelta

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from kombu.exceptions import OperationalError as BrokerError

from followups import tasks
from followups.models import DigestLog, DigestPreference, DigestState
from referralcrm.celery import app
from tests import smtp_server
from tests.test_fault_smtp import Beat, celery_broker, simulated_time, user_with_a_digest_due

REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on a free port: nothing persisted, stoppable."""

    def __init__(self):
        assert REDIS_SERVER, "redis-server is needed (Debian's redis-server package)"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        client.close()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def own_redis():
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


def broker_check(client) -> dict:
    return client.get("/healthz").json()["checks"]["broker"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_broker_down_at_the_sweep_then_back_each_digest_goes_out_once(
    settings, monkeypatch, client
):
    users = [user_with_a_digest_due(f"queued{i}@example.com") for i in range(3)]
    failures: list[Exception] = []

    def beat_tick():
        try:
            return tasks.sweep_digests()
        except BrokerError as exc:  # the task fails; beat runs it again five minutes later
            failures.append(exc)
            return exc

    with (
        own_redis() as broker,
        simulated_time(monkeypatch) as sim,
        celery_broker(broker.url),
        smtp_server.running(settings) as smtp,
    ):
        beat = Beat(sim, beat_tick)
        start = sim.now
        assert broker_check(client)["ok"] is True
        broker.stop()

        beat.run_until(start)  # the sweep due now, with the broker down
        assert len(failures) == 1
        health = client.get("/healthz")
        assert health.status_code == 503
        assert broker_check(client)["ok"] is False
        # Claimed (each user's next digest moved to tomorrow, today's log written) but
        # not sent: the logs wait, pending.
        assert DigestLog.objects.filter(state=DigestState.PENDING).count() == len(users)
        assert not DigestPreference.objects.filter(next_digest_at__lte=start).exists()

        broker.start()
        assert broker_check(client)["ok"] is True
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            beat.run_until(start + timedelta(minutes=45))

    assert len(failures) == 1  # every sweep after the broker came back worked
    received = Counter(message["To"] for message in smtp.messages)
    assert received == {user.email: 1 for user in users}
    logs = DigestLog.objects.all()
    assert {(log.state, log.attempts) for log in logs} == {(DigestState.SENT, 1)}
    assert len(logs) == len(users)
    # Sent by the first sweep after the pending logs' claim expired (DIGEST_CLAIM_TTL).
    ttl = timedelta(seconds=settings.DIGEST_CLAIM_TTL)
    assert all(start + ttl < log.sent_at <= start + ttl + timedelta(minutes=5) for log in logs)
