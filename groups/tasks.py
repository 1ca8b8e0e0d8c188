"""Thin Celery tasks: load by id, call one function in groups.invitations."""

from __future__ import annotations

import smtplib

from celery import shared_task

from . import invitations

RETRY_BACKOFF_MAX = 300


@shared_task(name="groups.send_invitation", bind=True, ignore_result=True, max_retries=6)
def send_invitation(self, invitation_id: int) -> str:
    try:
        return invitations.send(invitation_id)
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:  # refused for good: retrying would not help
            return "refused"
        raise self.retry(exc=exc, countdown=_backoff(self)) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise self.retry(exc=exc, countdown=_backoff(self)) from exc


def _backoff(task) -> int:
    return min(RETRY_BACKOFF_MAX, 10 * 2**task.request.retries)
