"""Thin Celery tasks: load by id, call one function in followups.digest."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task

from . import digest

log = logging.getLogger(__name__)

RETRY_BACKOFF_MAX = 300  # no countdown longer than five minutes


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
    max_retries=6,
    acks_late=True,
    reject_on_worker_lost=True,
)
def send_digest(self, log_id: int) -> str:
    try:
        return digest.send_log(log_id)
    except (smtplib.SMTPException, OSError) as exc:
        countdown = min(RETRY_BACKOFF_MAX, 10 * 2**self.request.retries)
        raise self.retry(exc=exc, countdown=countdown) from exc
