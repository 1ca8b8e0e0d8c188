"""The mail server down for an hour, then back: every digest arrives, exactly once.

A real Celery worker runs the sends against a real Redis broker while nothing listens on
the SMTP port; beat's sweep runs every five minutes meanwhile; then the SMTP server starts
on that port. The hour is simulated, not slept: Django's clock is moved by the test, and
the retries the task schedules (``self.retry(countdown=...)``) are held by the test and
published to the broker when that clock reaches them — what the worker's timer would do
with the real ETA. So attempts, claim expiry and sweeps keep their real timing whatever the
machine's speed.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.exceptions import Retry
from celery.signals import after_task_publish, task_postrun
from django.conf import settings as django_settings
from django.utils import timezone

from contacts.models import Contact
from followups import digest, tasks
from followups.models import DigestLog, DigestPreference, DigestState, FollowUp
from referralcrm.celery import app
from tests import smtp_server
from tests.conftest import make_user

BROKER_URL = os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/12")
OUTAGE = timedelta(hours=1)
BEAT_EVERY = timedelta(minutes=5)  # the digest sweep's schedule in production
SEND = "followups.send_digest"


@contextlib.contextmanager
def celery_broker(url: str):
    """Point the Celery app (producers and in-process workers) at ``url``."""
    assert url != django_settings.REDIS_URL, "the broker must not share the cache db"

    def use(broker_url: str) -> None:
        # The app reads Django's settings under the CELERY_ namespace: the prefixed key is
        # looked up first, so ``app.conf.broker_url = ...`` would change nothing.
        app.conf["CELERY_BROKER_URL"] = broker_url
        app._pool = None  # the cached connection and producer pools were built for one URL
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    use(url)
    assert app.conf.broker_url == url
    try:
        yield url
    finally:
        use(previous)


def wait_until(condition, timeout: float = 30.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {condition}")


class SimulatedTime:
    """Django's clock, moved only by :meth:`advance_to`, and the send retries waiting for
    it. Counts the sends published and run, by task id, to let the worker catch up
    after each step (the clock stands still meanwhile); messages another test left in the
    broker are run too, but not waited for."""

    def __init__(self):
        self.now = timezone.now()
        self.held: list[tuple[datetime, int, object]] = []  # (due, order, signature)
        self.published: Counter[str] = Counter()
        self.finished: Counter[str] = Counter()
        self._order = itertools.count()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return self.now

    def hold(self, seconds: float, signature) -> None:
        with self._lock:
            self.held.append((self.now + timedelta(seconds=seconds), next(self._order), signature))

    def on_publish(self, sender=None, headers=None, **kwargs) -> None:
        if sender == SEND:
            with self._lock:
                self.published[headers["id"]] += 1

    def on_finish(self, sender=None, task_id=None, **kwargs) -> None:
        if sender.name == SEND:
            with self._lock:
                self.finished[task_id] += 1

    def settle(self) -> None:
        """Wait until the worker has run every send published so far."""

        def settled() -> bool:
            with self._lock:
                return all(self.finished[id_] >= n for id_, n in self.published.items())

        wait_until(settled)

    def advance_to(self, moment: datetime) -> None:
        """Move the clock to ``moment``, stopping at each held retry to publish it."""
        while True:
            self.settle()
            with self._lock:
                due = [entry for entry in self.held if entry[0] <= moment]
                if not due:
                    break
                entry = min(due)
                self.held.remove(entry)
            self.now = max(self.now, entry[0])
            entry[2].apply_async()
        self.now = max(self.now, moment)


@contextlib.contextmanager
def simulated_time(monkeypatch) -> Iterator[SimulatedTime]:
    """Django's clock made a :class:`SimulatedTime`, which also holds the send retries."""
    sim = SimulatedTime()
    task = app.tasks[SEND]
    real_retry = task.retry

    def held_retry(*args, exc=None, countdown=None, **options):
        request = task.request
        if request.retries >= task.max_retries:  # out of retries: Celery raises ``exc``
            return real_retry(*args, exc=exc, countdown=countdown, **options)
        sim.hold(countdown, task.signature_from_request(request, retries=request.retries + 1))
        raise Retry(exc=exc, when=countdown)

    after_task_publish.connect(sim.on_publish, weak=False)
    task_postrun.connect(sim.on_finish, weak=False)
    monkeypatch.setattr(task, "retry", held_retry)
    monkeypatch.setattr(timezone, "now", sim)
    try:
        yield sim
    finally:
        after_task_publish.disconnect(sim.on_publish)
        task_postrun.disconnect(sim.on_finish)
        monkeypatch.undo()


def user_with_a_digest_due(email: str):
    """A user with a follow-up due today whose digest hour has just come."""
    now = timezone.now()
    user = make_user(email)
    contact = Contact.objects.create(owner=user, name=f"Friend of {email}")
    FollowUp.objects.create(owner=user, contact=contact, title="Call back", due_on=now.date())
    DigestPreference.objects.filter(user=user).update(next_digest_at=now - timedelta(minutes=1))
    return user


def states() -> dict[str, tuple[str, int]]:
    return {
        log.user.email: (log.state, log.attempts)
        for log in DigestLog.objects.select_related("user")
    }


class Beat:
    """Beat's digest sweep (the task's code, run here) every five simulated minutes;
    ``runs`` keeps what each run returned."""

    def __init__(self, sim: SimulatedTime, sweep=tasks.sweep_digests):
        self.sim = sim
        self.sweep = sweep
        self.start = sim.now
        self.runs: list = []

    def run_until(self, moment: datetime) -> None:
        tick = self.start + BEAT_EVERY * len(self.runs)
        while tick <= moment:
            self.sim.advance_to(tick)
            self.runs.append(self.sweep())
            tick += BEAT_EVERY
        self.sim.advance_to(moment)
        self.sim.settle()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_smtp_down_for_an_hour_then_back_each_digest_arrives_once(settings, monkeypatch):
    users = [user_with_a_digest_due(f"outage{i}@example.com") for i in range(3)]

    with (
        simulated_time(monkeypatch) as sim,
        celery_broker(BROKER_URL),
        smtp_server.running(settings, start=False) as smtp,  # nothing listens on its port
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        beat = Beat(sim)
        start = sim.now
        beat.run_until(start + OUTAGE)
        during = states()
        smtp.start()
        beat.run_until(start + OUTAGE + timedelta(hours=2))
        after = states()

    # While the server was away each digest was tried again and again, and never given up.
    assert beat.runs[0] == len(users)
    assert {state for state, _ in during.values()} == {DigestState.FAILED}, during
    assert all(1 < attempts < digest.MAX_ATTEMPTS for _, attempts in during.values()), during
    # Back: each arrived once, at the first attempt after the server returned.
    received = Counter(message["To"] for message in smtp.messages)
    assert received == {user.email: 1 for user in users}, after
    assert {state for state, _ in after.values()} == {DigestState.SENT}, after
    back = start + OUTAGE
    sent_at = [log.sent_at for log in DigestLog.objects.all()]
    assert all(back <= moment <= back + timedelta(minutes=35) for moment in sent_at), sent_at
    assert DigestLog.objects.count() == len(users)  # one per user and day
    assert len(beat.runs) == 3 * 12 + 1  # beat kept sweeping all along, every five minutes
