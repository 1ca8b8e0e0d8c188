"""Thin Celery tasks: load by id, call one function in followups.digest."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import digest
from .models import DigestLog, DigestState

log = logging.getLogger(__name__)

# Retries after 1, 2, 4, 8 and 16 minutes, then every 30: a digest's attempts
# (digest.MAX_ATTEMPTS) span an hour and a half, so an SMTP outage of an hour loses none.
RETRY_FIRST = 60
RETRY_BACKOFF_MAX = 1800  # below the broker's visibility_timeout (1 h): no early redelivery


def retry_countdown(retries: int) -> int:
    return min(RETRY_BACKOFF_MAX, RETRY_FIRST * 2**retries)


@shared_task(name="followups.sweep_digests", ignore_result=True)
def sweep_digests() -> int:
    claimed = digest.sweep(enqueue=lambda log_id: send_digest.delay(log_id))
    if claimed:
        log.info("digest sweep enqueued %d", len(claimed))
    return len(claimed)


@shared_task(
    name="followups.send_digest",
    bind=True,
    ignore_result=True,
    max_retries=digest.MAX_ATTEMPTS - 1,
    acks_late=True,
    reject_on_worker_lost=True,
)
def send_digest(self, log_id: int) -> str:
    try:
        return digest.send_log(log_id)
    except (smtplib.SMTPException, OSError) as exc:
        countdown = retry_countdown(self.request.retries)
        _claim_until_retry(log_id, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc


def _claim_until_retry(log_id: int, countdown: int) -> None:
    """The failed log stays claimed until its retry is due: the sweep re-enqueues failed
    logs whose claim is older than DIGEST_CLAIM_TTL, and a second chain of attempts
    alongside this one would spend the digest's attempts twice as fast."""
    DigestLog.objects.filter(pk=log_id, state=DigestState.FAILED).update(
        claimed_at=timezone.now() + timedelta(seconds=countdown)
    )
