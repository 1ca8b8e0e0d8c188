"""The digest e-mail: templates in threes under templates/emails/, one SMTP connection
reused across sends in a worker process."""

from __future__ import annotations

import contextlib
import smtplib
import threading

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from referralcrm import emails

_local = threading.local()


def _cached_connection():
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = get_connection(fail_silently=False)
        connection.open()
        _local.connection = connection
    return connection


def drop_cached_connection() -> None:
    connection = getattr(_local, "connection", None)
    _local.connection = None
    if connection is not None:
        with contextlib.suppress(Exception):  # closing a broken connection may fail too
            connection.close()


def build_message(digest, entry, connection=None) -> EmailMultiAlternatives:
    from .digest import action_links

    links = action_links(digest.user.pk)
    context = {
        "digest": digest,
        "user": digest.user,
        "link": links["link"],
        "unsubscribe_url": links["unsubscribe"],
        "site_url": settings.SITE_URL,
    }
    link = links["link"]
    context["followups"] = [
        {
            "obj": f,
            "overdue": f.due_on < digest.local_date,
            "done": link("done", f.pk),
            "snooze": link("snooze", f.pk),
        }
        for f in [*digest.overdue, *digest.due_today]
    ]
    context["stalled"] = [
        {"item": item, "reached_out": link("reached_out", item.contact.pk)}
        for item in digest.stalled
    ]
    subject = render_to_string("emails/digest-subject.txt", context).strip()
    text = render_to_string("emails/digest-body.txt", context)
    html = emails.render_html("emails/digest-body.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[digest.user.email],
        connection=connection,
        headers={
            "Message-ID": entry.message_id,
            "List-Unsubscribe": f"<{links['unsubscribe']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def send_digest_email(digest, entry, connection=None) -> None:
    """Send over ``connection``, or over this process's cached one (reopened once if the
    server dropped it)."""
    if connection is not None:
        build_message(digest, entry, connection).send()
        return
    for attempt in (1, 2):
        conn = _cached_connection()
        try:
            build_message(digest, entry, conn).send()
            return
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            # The server dropped the cached connection before the message was taken:
            # reconnect once. Refusals (4xx/5xx) and timeouts go to the task's retry.
            drop_cached_connection()
            if attempt == 2:
                raise
        except (smtplib.SMTPException, OSError):
            drop_cached_connection()
            raise
