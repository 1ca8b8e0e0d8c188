"""Celery tasks for webhooks: thin, each calls one function of ``api.webhooks``."""

from __future__ import annotations

from celery import shared_task

from . import webhooks


@shared_task(name="api.deliver_webhook", bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> str:
    """Send one delivery; on failure, retry with backoff (``webhooks.MAX_ATTEMPTS`` in all,
    counted on the row, so a redelivered task never sends more than that)."""
    outcome, wait = webhooks.attempt(delivery_id)
    if outcome == webhooks.Outcome.RETRY:
        raise self.retry(countdown=wait)
    return outcome


@shared_task(name="api.webhook_sweep", acks_late=True)
def webhook_sweep() -> dict:
    """Beat: emit ``followup.due`` events and requeue deliveries that were lost."""
    return webhooks.sweep()
