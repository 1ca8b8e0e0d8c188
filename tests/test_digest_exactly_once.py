"""A digest goes out exactly once per user and day: concurrent sweeps, repeated sends,
SMTP refusals retried by a real Celery worker, and a worker killed in the middle of a send.

The worker tests use the Redis database of the test broker (``TEST_BROKER_URL``, db 12 by
default), never the cache database that every test's ``cache.clear()`` flushes.
"""

from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from followups import digest, tasks
from followups.mail import drop_cached_connection
from followups.models import DigestLog, DigestPreference, DigestState, FollowUp
from referralcrm.celery import app
from tests import smtp_server
from tests.conftest import make_user

BASE_DIR = Path(django_settings.BASE_DIR)
BROKER_URL = os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/12")
WORKER_CLAIM_TTL = 2  # seconds: DIGEST_CLAIM_TTL of the subprocess workers


# --- Helpers ----------------------------------------------------------------------------


def user_with_a_digest_due(email: str, when=None):
    """A user with a follow-up due today whose digest hour has just come."""
    when = when or timezone.now()
    user = make_user(email)
    contact = Contact.objects.create(owner=user, name=f"Friend of {email}")
    FollowUp.objects.create(
        owner=user, contact=contact, title=f"Call back for {email}", due_on=when.date()
    )
    DigestPreference.objects.filter(user=user).update(next_digest_at=when - timedelta(minutes=1))
    return user


def wait_until(condition, timeout: float = 20.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {condition}")


def log_of(user) -> DigestLog:
    return DigestLog.objects.get(user=user)


def in_threads(target, count: int = 2) -> list:
    """Run ``target()`` in ``count`` threads released together; each thread has its own
    database and SMTP connections. Returns the results in thread order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = target()
        except Exception as exc:
            errors.append(exc)
        finally:
            drop_cached_connection()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return results


@pytest.fixture
def broker():
    """Point the Celery app (producers and in-process workers) at the test broker db."""
    assert BROKER_URL != django_settings.REDIS_URL, "the broker must not share the cache db"

    def use(url: str) -> None:
        app.conf.broker_url = url
        app._pool = None  # the cached connection and producer pools were built for one URL
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    use(BROKER_URL)
    yield BROKER_URL
    use(previous)


# --- Concurrent sweeps and sends --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("via", ["sweep", "command"])
def test_two_sweeps_at_once_send_one_digest_per_user(settings, via):
    when = timezone.now()
    users = [user_with_a_digest_due(f"user{i}@example.com", when) for i in range(8)]

    def sweep_and_send() -> list[int]:
        if via == "command":
            call_command("send_digests", f"--now={when.isoformat()}", stdout=StringIO())
            return []
        claimed = digest.sweep(now=when)
        for log_id in claimed:
            digest.send_log(log_id, now=when)
        return claimed

    with smtp_server.running(settings) as smtp:
        first, second = in_threads(sweep_and_send)

        assert set(first).isdisjoint(second)
        assert DigestLog.objects.count() == len(users)
        assert set(DigestLog.objects.values_list("state", flat=True)) == {DigestState.SENT}
        assert set(DigestLog.objects.values_list("attempts", flat=True)) == {1}
        received = Counter(message["To"] for message in smtp.messages)
        assert received == {user.email: 1 for user in users}


@pytest.mark.django_db
def test_send_log_twice_sends_one_email(settings):
    user = user_with_a_digest_due("twice@example.com")
    [log_id] = digest.sweep()

    with smtp_server.running(settings) as smtp:
        assert digest.send_log(log_id) == DigestState.SENT
        assert digest.send_log(log_id) == "skipped"

        assert len(smtp.messages) == 1
    assert (log_of(user).state, log_of(user).attempts) == (DigestState.SENT, 1)


@pytest.mark.django_db(transaction=True)
def test_send_log_twice_at_once_sends_one_email(settings):
    user = user_with_a_digest_due("race@example.com")
    [log_id] = digest.sweep()

    with smtp_server.running(settings) as smtp:
        outcomes = in_threads(lambda: digest.send_log(log_id))

        assert sorted(outcomes) == [DigestState.SENT, "skipped"]
        assert len(smtp.messages) == 1
    assert (log_of(user).state, log_of(user).attempts) == (DigestState.SENT, 1)


@pytest.mark.django_db
def test_digests_share_one_smtp_connection_reopened_if_the_server_dropped_it(settings):
    when = timezone.now()
    users = [user_with_a_digest_due(f"reuse{i}@example.com", when) for i in range(3)]
    first, second, third = digest.sweep(now=when)

    with smtp_server.running(settings) as smtp:
        digest.send_log(first, now=when)
        digest.send_log(second, now=when)
        smtp.restart()  # the cached connection is now dead
        digest.send_log(third, now=when)

        assert [m["To"] for m in smtp.messages] == [u.email for u in users]
        assert smtp.handler.peers[0] == smtp.handler.peers[1] != smtp.handler.peers[2]
    assert set(DigestLog.objects.values_list("state", "attempts")) == {(DigestState.SENT, 1)}


@pytest.mark.django_db
def test_refused_send_is_marked_failed_and_left_to_the_task_retry(settings):
    user = user_with_a_digest_due("refused@example.com")
    [log_id] = digest.sweep()

    with smtp_server.running(settings, refuse_first=1) as smtp:
        with pytest.raises(smtplib.SMTPDataError, match="Try again later"):
            digest.send_log(log_id)

        assert smtp.handler.data_commands == 1
    failed = log_of(user)
    assert failed.state == DigestState.FAILED
    assert "451" in failed.last_error


@pytest.mark.django_db
def test_refused_send_is_marked_failed_then_sent_by_the_next_attempt(settings):
    user = user_with_a_digest_due("refused@example.com")
    [log_id] = digest.sweep()

    # A refusal is not retried on the spot: it is left to the next attempt.
    with smtp_server.running(settings, refuse_first=1) as smtp:
        with pytest.raises(smtplib.SMTPDataError, match="Try again later"):
            digest.send_log(log_id)
        failed = log_of(user)
        assert failed.state == DigestState.FAILED
        assert "451" in failed.last_error
        assert smtp.messages == []

        assert digest.send_log(log_id) == DigestState.SENT
        assert len(smtp.messages) == 1
    assert (log_of(user).state, log_of(user).attempts) == (DigestState.SENT, 2)


@pytest.mark.django_db
def test_an_address_refused_for_good_is_not_retried_and_the_settings_page_says_so(settings, client):
    user = user_with_a_digest_due("gone@example.com")
    [log_id] = digest.sweep()

    with smtp_server.running(settings, unknown=("gone@example.com",)) as smtp:
        assert digest.send_log(log_id) == DigestState.REFUSED  # no exception: no retry
        assert smtp.messages == []
        # Neither a second attempt nor a later sweep takes it up again.
        assert digest.send_log(log_id) == "skipped"
        assert digest.sweep(now=timezone.now() + timedelta(hours=2)) == []
    refused = log_of(user)
    assert refused.state == DigestState.REFUSED
    assert "550" in refused.last_error

    client.force_login(user)
    page = client.get(reverse("followups:settings")).content.decode()
    assert "Your mail server refused the digest" in page
    assert "550" in page
    client.post(reverse("followups:settings"), {"enabled": "on", "hour": 7, "weekdays": [0, 1]})
    assert DigestPreference.objects.get(user=user).bounced_at is None


@pytest.mark.django_db
def test_a_digest_that_keeps_failing_is_given_up_after_the_last_attempt(settings):
    user = user_with_a_digest_due("flaky@example.com")
    [log_id] = digest.sweep()
    DigestLog.objects.filter(pk=log_id).update(
        state=DigestState.FAILED,
        attempts=digest.MAX_ATTEMPTS,
        claimed_at=timezone.now() - timedelta(hours=1),
    )
    assert digest.claim_log(log_id) is None
    assert log_id not in digest.sweep(now=timezone.now())
    assert log_of(user).state == DigestState.FAILED


# --- Through a real Celery worker --------------------------------------------------------


@pytest.fixture
def finished_sends():
    """{log id: [return value, ...]} of the send tasks an in-process worker ran."""
    finished: dict[int, list] = {}

    def record(sender=None, args=(), retval=None, **kwargs):
        if sender.name == "followups.send_digest":
            finished.setdefault(args[0], []).append(retval)

    task_postrun.connect(record, weak=False)
    yield finished
    task_postrun.disconnect(record)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trouble", ["refuses-thrice", "not-started-yet"])
def test_worker_retries_until_the_smtp_server_accepts(
    settings, broker, monkeypatch, finished_sends, trouble
):
    monkeypatch.setattr(tasks, "RETRY_BACKOFF_MAX", 1)  # retry after a second, not 10 s
    user = user_with_a_digest_due("retry@example.com")
    # Three refusals need at least one retry of the task, even with the immediate
    # reconnect-and-resend inside send_digest_email (not done for refusals any more).
    refuse = 3 if trouble == "refuses-thrice" else 0

    with (
        smtp_server.running(settings, refuse_first=refuse, start=refuse > 0) as smtp,
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        [log_id] = digest.sweep(enqueue=tasks.send_digest.delay)
        if trouble == "not-started-yet":
            failed = wait_until(lambda: (log := log_of(user)).state == DigestState.FAILED and log)
            smtp.start()
        [message] = smtp.wait_for(1, timeout=20)
        wait_until(lambda: log_of(user).state == DigestState.SENT)
        # Give a stray second delivery time to show up.
        time.sleep(1.2)

        assert message["To"] == "retry@example.com"
        assert len(smtp.messages) == 1
    log = log_of(user)
    if trouble == "refuses-thrice":
        assert smtp.handler.data_commands == 4
        assert log.attempts >= 2
        assert "451" in log.last_error
    else:
        assert "ConnectionRefusedError" in failed.last_error
        assert smtp.handler.data_commands == 1
        assert log.attempts == failed.attempts + 1
    assert log.state == DigestState.SENT
    assert finished_sends[log_id][-1] == DigestState.SENT


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_duplicate_task_for_a_sent_digest_sends_nothing(settings, broker, finished_sends):
    user = user_with_a_digest_due("dup@example.com")

    with (
        smtp_server.running(settings) as smtp,
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        [log_id] = digest.sweep(enqueue=tasks.send_digest.delay)
        smtp.wait_for(1)
        wait_until(lambda: finished_sends.get(log_id))
        tasks.send_digest.delay(log_id)  # a redelivery or a second enqueue
        tasks.send_digest.delay(log_id)
        wait_until(lambda: len(finished_sends[log_id]) == 3)

        assert finished_sends[log_id] == [DigestState.SENT, "skipped", "skipped"]
        assert len(smtp.messages) == 1
    assert (log_of(user).state, log_of(user).attempts) == (DigestState.SENT, 1)


# --- A worker killed in the middle of a send ----------------------------------------------


def database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{quote(db['USER'] or '', safe='')}{password}"
        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def take_back_unacked(task_id: str) -> bool:
    """Remove a killed worker's unacknowledged message from the broker, which would hand
    it to some worker after the visibility timeout (an hour). True if it was there."""
    client = redis.Redis.from_url(BROKER_URL)
    found = False
    for tag, raw in client.hgetall("unacked").items():  # kombu's Redis transport keys
        if task_id.encode() in raw:
            client.zrem("unacked_index", tag)
            client.hdel("unacked", tag)
            found = True
    client.close()
    return found


class WorkerProcess:
    """``celery worker`` in a subprocess, on the test database, broker and SMTP server.

    Production settings read from the environment: the test settings always send mail to
    locmem, whatever EMAIL_URL says."""

    def __init__(self, name: str, smtp_port: int, log_dir: Path):
        self.log_path = log_dir / f"{name}.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "referralcrm.settings",
            "SECRET_KEY": django_settings.SECRET_KEY,
            "DATABASE_URL": database_url(),
            "REDIS_URL": BROKER_URL,
            "CACHE_KEY_PREFIX": "rcrm-test-worker",
            "EMAIL_URL": f"smtp://{smtp_server.HOST}:{smtp_port}",
            "DIGEST_CLAIM_TTL": str(WORKER_CLAIM_TTL),
            "LOG_LEVEL": "INFO",
        }
        self.command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "referralcrm",
            "worker",
            "--pool=solo",
            "-Q",
            "celery",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}-{os.getpid()}@%h",
        ]
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_send_the_digest_arrives_once_later(settings, broker, tmp_path):
    user = user_with_a_digest_due("killed@example.com")
    workers: list[WorkerProcess] = []
    with smtp_server.running(settings, hold_first=30) as smtp:
        try:
            first = WorkerProcess("first", smtp.port, tmp_path).start()
            workers.append(first)
            enqueued = []
            [log_id] = digest.sweep(enqueue=lambda pk: enqueued.append(tasks.send_digest.delay(pk)))

            # The first worker is in the middle of the SMTP conversation: kill it there.
            assert smtp.handler.holding.wait(30), first.log()
            first.kill()
            # Acked late: the task's message is still in the broker, unacknowledged.
            assert take_back_unacked(enqueued[0].id)
            stuck = log_of(user)
            assert (stuck.state, stuck.attempts) == (DigestState.SENDING, 1)
            assert smtp.messages == []

            second = WorkerProcess("second", smtp.port, tmp_path).start()
            workers.append(second)
            # The claim expires; the next sweep (here run by beat's task on the worker)
            # enqueues the send again.
            wait_until(
                lambda: timezone.now() > stuck.claimed_at + timedelta(seconds=WORKER_CLAIM_TTL)
            )
            tasks.sweep_digests.delay()
            [message] = smtp.wait_for(1, timeout=30)
            sent = wait_until(lambda: log_of(user).state == DigestState.SENT and log_of(user))

            assert message["To"] == "killed@example.com"
            assert message["Message-ID"] == sent.message_id
            assert (sent.attempts, sent.sent_at > stuck.claimed_at) == (2, True)

            # A redelivery of the killed worker's task, for a digest already sent.
            duplicate = tasks.send_digest.delay(log_id)
            done = re.compile(rf"\[{duplicate.id}\] succeeded in [0-9.]+s: '(\w+)'")
            outcome = wait_until(lambda: done.search(second.log()), timeout=20).group(1)
            assert outcome == "skipped"
            assert len(smtp.messages) == 1
            assert smtp.handler.data_commands == 2
            assert log_of(user).state == DigestState.SENT
        finally:
            for worker in workers:
                worker.stop()
