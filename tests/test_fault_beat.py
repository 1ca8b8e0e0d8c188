"""Two beat processes by mistake: still one digest per user and day.

Two real ``celery beat`` processes, with the digest sweep every half second
(``DIGEST_SWEEP_SECONDS``), and a worker running four sweeps or sends at once, all on a
redis-server of the test's own, send to the test's SMTP server. Users come due one after
another while both beats tick: every sweep races the others, and each user still gets one
e-mail and one DigestLog.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from followups.models import DigestLog, DigestPreference, DigestState
from tests import smtp_server
from tests.test_digest_exactly_once import database_url
from tests.test_fault_broker import own_redis
from tests.test_fault_smtp import user_with_a_digest_due, wait_until

ROOT = Path(__file__).resolve().parent.parent
SWEEP_EVERY = 0.5  # seconds: DIGEST_SWEEP_SECONDS of the beats
SENDING_SWEEP = "Sending due task digest-sweep"
SWEEP_DONE = re.compile(r"Task followups\.sweep_digests\[[^\]]+\] succeeded")


class CeleryProcess:
    """``celery -A referralcrm <args>`` in its own process group, logging to a file."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.command = [sys.executable, "-m", "celery", "-A", "referralcrm", *args]
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryProcess:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@contextlib.contextmanager
def all_running(*processes: CeleryProcess):
    try:
        for process in processes:
            process.start()
        yield processes
    finally:
        for process in processes:
            process.stop()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_two_beats_still_send_one_digest_per_user_and_day(settings, tmp_path):
    users = [user_with_a_digest_due(f"twobeats{i}@example.com") for i in range(6)]
    DigestPreference.objects.update(next_digest_at=timezone.now() + timedelta(days=1))

    with own_redis() as redis, smtp_server.running(settings) as smtp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "referralcrm.settings",
            "SECRET_KEY": django_settings.SECRET_KEY,
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis.url,
            "EMAIL_URL": f"smtp://{smtp_server.HOST}:{smtp.port}",
            "DIGEST_SWEEP_SECONDS": str(SWEEP_EVERY),
            "DATA_DIR": str(tmp_path),
            "LOG_LEVEL": "INFO",
        }
        worker = CeleryProcess(
            "worker",
            ["worker", "--pool=threads", "--concurrency=4", "--loglevel=INFO",
             "--without-heartbeat", "--without-gossip", "--without-mingle",
             "-n", f"two-beats-{os.getpid()}@%h"],
            env, tmp_path,
        )  # fmt: skip
        beats = [
            CeleryProcess(
                name, ["beat", "-s", str(tmp_path / name), "--loglevel=INFO"], env, tmp_path
            )
            for name in ("beat1", "beat2")
        ]
        with all_running(worker, *beats):
            wait_until(lambda: all(SENDING_SWEEP in beat.log() for beat in beats), timeout=60)
            wait_until(lambda: SWEEP_DONE.search(worker.log()), timeout=60)
            # Users come due one after another while both beats tick.
            now = timezone.now()
            for i, user in enumerate(users):
                DigestPreference.objects.filter(user=user).update(
                    next_digest_at=now + timedelta(seconds=0.3 * i)
                )
            smtp.wait_for(len(users), timeout=30)
            before = [beat.log().count(SENDING_SWEEP) for beat in beats]
            # A few more sweeps from each beat find nothing left to send.
            wait_until(
                lambda: all(
                    beat.log().count(SENDING_SWEEP) >= count + 4
                    for beat, count in zip(beats, before, strict=True)
                ),
                timeout=30,
            )
            sweeps_done = len(SWEEP_DONE.findall(worker.log()))
            time.sleep(SWEEP_EVERY)

    received = Counter(message["To"] for message in smtp.messages)
    assert received == {user.email: 1 for user in users}
    per_user_and_day = Counter(DigestLog.objects.values_list("user_id", "local_date"))
    assert sorted(per_user_and_day.values()) == [1] * len(users)
    logs = DigestLog.objects.all()
    assert {(log.state, log.attempts) for log in logs} == {(DigestState.SENT, 1)}
    assert sweeps_done >= 10  # both beats' sweeps ran, not one beat's
    assert all(beat.log().count(SENDING_SWEEP) >= 5 for beat in beats)
