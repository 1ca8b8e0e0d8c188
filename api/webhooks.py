"""Signed webhooks: events, signing, the SSRF guard, fan-out and sending.

Emission: ``emit(owner_id, event, data)`` runs after the causing transaction commits; one
query finds the owner's active endpoints subscribed to the event (usually none, and then
nothing else happens), one ``WebhookDelivery`` per endpoint is created, and each is
enqueued to the ``api.deliver_webhook`` task.

Sending: ``attempt(delivery_id)`` claims the delivery with a compare-and-set (pending, or a
claim that expired), re-checks the URL against the SSRF guard, connects to the vetted IP,
posts the signed JSON and records the outcome. A 2xx is delivered (never sent again); other
codes, timeouts and refusals are retried with backoff, up to ``MAX_ATTEMPTS``; after
``DISABLE_AFTER`` deliveries given up in a row the endpoint is disabled and its owner told.

Signature: ``Referral-CRM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .webhook_models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Referral-CRM-Signature"
EVENT_HEADER = "Referral-CRM-Event"
DELIVERY_HEADER = "Referral-CRM-Delivery"
USER_AGENT = "ReferralCRM-Webhooks/1"
MAX_ATTEMPTS = 6
# Seconds to wait after attempt 1, 2, ... before the next one.
BACKOFF = (10, 60, 300, 1800, 7200)
DISABLE_AFTER = getattr(settings, "WEBHOOK_DISABLE_AFTER", 15)
EXCERPT_CHARS = 200
LOST_AFTER = timedelta(minutes=5)  # a pending delivery this late was never enqueued: requeue
FOLLOWUP_NS = uuid.UUID("6f1c1a52-9a7e-4d55-8c1e-3f0f4f6b9d21")

PRIVATE_MESSAGE = "That address is on a private network; webhooks must reach a public HTTPS server."


class Outcome:
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"  # not ours to send: delivered already, or claimed by another worker


# --- Signing ---------------------------------------------------------------------------


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def compute_signature(secret: str, timestamp: int, body: bytes | str) -> str:
    signed = str(int(timestamp)).encode() + b"." + _as_bytes(body)
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes | str, timestamp: int | None = None) -> str:
    """The ``Referral-CRM-Signature`` header value for ``body``."""
    t = int(time.time() if timestamp is None else timestamp)
    return f"t={t},v1={compute_signature(secret, t, body)}"


def verify_signature(
    secret: str, header: str, body: bytes | str, tolerance: int = 300, now: float | None = None
) -> bool:
    """The reference check: the timestamp is within ``tolerance`` seconds and one of the
    ``v1`` signatures matches (compared in constant time)."""
    try:
        pairs = [item.split("=", 1) for item in header.split(",")]
        timestamp = int(next(value for key, value in pairs if key.strip() == "t"))
    except (ValueError, StopIteration):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = compute_signature(secret, timestamp, body)
    return any(
        key.strip() == "v1" and hmac.compare_digest(expected, value.strip()) for key, value in pairs
    )


def encode(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# --- SSRF guard ------------------------------------------------------------------------


class UnsafeURL(ValueError):
    """The URL may not be called; the message is for the user."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    ip: str  # the vetted address to connect to


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public_address(embedded):
            return False
        if ip.is_site_local:
            return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_url(url: str) -> Target:
    """Where a webhook for ``url`` may connect, or ``UnsafeURL``.

    Only https (http as well when ``WEBHOOK_ALLOW_PRIVATE``, for the test suite); every
    address the host resolves to must be public (no loopback, private, link-local,
    multicast, reserved or unspecified; IPv4-mapped IPv6 is unwrapped first).
    """
    allow_private = getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("That isn't a valid URL.") from exc
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise UnsafeURL("Webhooks must use an https:// address.")
    if parts.username or parts.password:
        raise UnsafeURL("Leave user names and passwords out of the URL.")
    host = parts.hostname
    if not host:
        raise UnsafeURL("That URL has no host name.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL(f"{host} could not be found (DNS).") from exc
    addresses = []
    for info in infos:
        try:
            addresses.append(ipaddress.ip_address(info[4][0].split("%", 1)[0]))
        except ValueError as exc:
            raise UnsafeURL(PRIVATE_MESSAGE) from exc
    if not addresses:
        raise UnsafeURL(f"{host} could not be found (DNS).")
    if not allow_private and not all(is_public_address(ip) for ip in addresses):
        raise UnsafeURL(PRIVATE_MESSAGE)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, str(addresses[0]))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the vetted IP; the Host header still names the host."""

    def __init__(self, host: str, port: int, ip: str, **kwargs):
        super().__init__(host, port, **kwargs)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the vetted IP; SNI and the certificate check use the host name."""

    def __init__(self, host: str, port: int, ip: str, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(
    url: str, body: bytes, headers: dict[str, str], timeout: float | None = None
) -> tuple[int, str]:
    """POST once, no redirects followed; the status and a short excerpt of the response."""
    target = check_url(url)  # again at send time: DNS may have changed since registration
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = cls(target.host, target.port, target.ip, timeout=timeout or settings.WEBHOOK_TIMEOUT)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        excerpt = response.read(EXCERPT_CHARS).decode("utf-8", "replace")
        return response.status, excerpt
    finally:
        conn.close()


# --- Emission --------------------------------------------------------------------------


def _jsonable(data: dict) -> dict:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def emit(owner_id: int, event: str, data, *, event_id: str | uuid.UUID | None = None) -> None:
    """Send ``event`` to ``owner_id``'s endpoints once the current transaction commits.

    ``data`` is a dict, or a callable returning one (only called when someone listens).
    """
    event_id = str(event_id or uuid.uuid4())
    transaction.on_commit(partial(fan_out, owner_id, event, data, event_id, timezone.now()))


def fan_out(
    owner_id: int,
    event: str,
    data,
    event_id: str,
    created: datetime,
    enqueue=None,
    *,
    fresh: bool = True,
) -> list[int]:
    """Create one delivery per subscribed endpoint and enqueue them; the delivery ids.
    One query when the owner has no such endpoint. ``fresh=False``: the event id may have
    been sent before (the follow-up sweep), and endpoints that have it are skipped."""
    # Subscriptions are filtered here rather than with a JSON lookup: the embedded SQLite
    # default has no ``contains`` on JSON, and a user has only a handful of endpoints.
    endpoints = [
        pk
        for pk, events in WebhookEndpoint.objects.filter(
            owner_id=owner_id, is_active=True
        ).values_list("pk", "events")
        if event in events
    ]
    if not endpoints:
        return []
    if not fresh:
        existing = set(
            WebhookDelivery.objects.filter(
                event_id=event_id, endpoint_id__in=endpoints
            ).values_list("endpoint_id", flat=True)
        )
        endpoints = [pk for pk in endpoints if pk not in existing]
        if not endpoints:
            return []
    if callable(data):
        data = data()
        if data is None:  # what it was about is gone already
            return []
    payload = {
        "id": event_id,
        "type": event,
        "created": created.isoformat(),
        "data": _jsonable(data),
    }
    now = timezone.now()
    rows = [
        WebhookDelivery(
            endpoint_id=pk,
            event_id=event_id,
            event=event,
            payload=payload,
            created_at=now,
            next_attempt_at=now,
        )
        for pk in endpoints
    ]
    if fresh:
        ids = [row.pk for row in WebhookDelivery.objects.bulk_create(rows)]
    else:
        # A concurrent sweep may have made some: the unique constraint decides.
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        ids = list(
            WebhookDelivery.objects.filter(
                event_id=event_id, endpoint_id__in=endpoints, attempts=0, created_at=now
            ).values_list("pk", flat=True)
        )
    (enqueue or enqueue_deliveries)(ids)
    return ids


def enqueue_deliveries(ids: list[int]) -> None:
    from .tasks import deliver_webhook

    for pk in ids:
        try:
            deliver_webhook.delay(pk)
        except Exception:  # broker down: the sweep requeues it (LOST_AFTER)
            log.exception("Could not enqueue webhook delivery %s", pk)


# --- Sending ---------------------------------------------------------------------------


def backoff(attempts: int) -> int:
    """Seconds to wait after the ``attempts``-th failed attempt."""
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def headers_for(delivery: WebhookDelivery, secret: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(secret, body),
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.event_id),
    }


def attempt(delivery_id: int) -> tuple[str, int]:
    """Try to send one delivery; the outcome and, for a retry, the seconds to wait."""
    now = timezone.now()
    claim_for = timedelta(seconds=settings.WEBHOOK_TIMEOUT * 3 + 30)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id)
        .filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now + timedelta(seconds=5))
            | Q(status=DeliveryStatus.PENDING, next_attempt_at=None)
            | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
        )
        .update(
            status=DeliveryStatus.SENDING,
            claimed_until=now + claim_for,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
        )
    )
    if not claimed:
        return Outcome.SKIPPED, 0
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    mine = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING)
    if not endpoint.is_active:
        mine.update(
            status=DeliveryStatus.FAILED, error="The endpoint is disabled.", claimed_until=None
        )
        return Outcome.FAILED, 0

    body = encode(delivery.payload)
    code, excerpt, error = None, "", ""
    try:
        code, excerpt = post(endpoint.url, body, headers_for(delivery, endpoint.secret, body))
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except UnsafeURL as exc:
        error = str(exc)
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    done = timezone.now()
    result = {
        "response_code": code,
        "response_excerpt": excerpt,
        "error": error[:300],
        "claimed_until": None,
    }

    if not error:
        mine.update(
            status=DeliveryStatus.DELIVERED, delivered_at=done, next_attempt_at=None, **result
        )
        if endpoint.consecutive_failures:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        return Outcome.DELIVERED, 0
    if delivery.attempts >= MAX_ATTEMPTS:
        mine.update(status=DeliveryStatus.FAILED, next_attempt_at=None, **result)
        record_failure(endpoint)
        return Outcome.FAILED, 0
    wait = backoff(delivery.attempts)
    mine.update(
        status=DeliveryStatus.PENDING, next_attempt_at=done + timedelta(seconds=wait), **result
    )
    return Outcome.RETRY, wait


def record_failure(endpoint: WebhookEndpoint) -> bool:
    """Count a delivery given up on; disable the endpoint (once) after ``DISABLE_AFTER`` in a
    row and tell its owner. True if this call disabled it."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    reason = f"Disabled after {DISABLE_AFTER} deliveries in a row failed."
    disabled = WebhookEndpoint.objects.filter(
        pk=endpoint.pk, is_active=True, consecutive_failures__gte=DISABLE_AFTER
    ).update(is_active=False, disabled_at=timezone.now(), disabled_reason=reason)
    if disabled:
        notify_disabled(endpoint, reason)
    return bool(disabled)


def notify_disabled(endpoint: WebhookEndpoint, reason: str) -> None:
    owner = endpoint.owner
    page = settings.SITE_URL.rstrip("/") + endpoint.get_absolute_url()
    try:
        send_mail(
            "Referral CRM: a webhook endpoint was disabled",
            f"Your webhook endpoint {endpoint.url} was disabled. {reason}\n\n"
            f"Check that it answers with a 2xx status, then re-enable it here:\n{page}\n",
            None,
            [owner.email],
        )
    except Exception:  # the page shows the notice anyway
        log.exception("Could not send the webhook-disabled notice for endpoint %s", endpoint.pk)


def send_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``ping`` delivery to this endpoint (even if it is not subscribed to anything)."""
    event_id = uuid.uuid4()
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        event="ping",
        payload={
            "id": str(event_id),
            "type": "ping",
            "created": now.isoformat(),
            "data": {"endpoint": endpoint.pk, "message": "A test event from Referral CRM."},
        },
        next_attempt_at=now,
    )
    transaction.on_commit(partial(enqueue_deliveries, [delivery.pk]))
    return delivery


# --- Sweep (beat) ----------------------------------------------------------------------


def sweep(now: datetime | None = None, enqueue=None) -> dict[str, int]:
    """Every few minutes: emit ``followup.due`` for follow-ups falling due, and requeue
    deliveries that were never enqueued or whose worker died mid-send."""
    now = now or timezone.now()
    return {
        "followups_due": emit_followups_due(now, enqueue=enqueue),
        "requeued": requeue_lost(now, enqueue=enqueue),
    }


def emit_followups_due(now: datetime | None = None, enqueue=None) -> int:
    """One event per follow-up and due date (a stable event id: uuid5 of both), for
    not-done follow-ups due yesterday or today in the owner's time zone."""
    from accounts.models import User
    from followups.models import FollowUp, Status

    now = now or timezone.now()
    owners = {
        owner_id
        for owner_id, events in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "owner_id", "events"
        )
        if Event.FOLLOWUP_DUE in events
    }
    count = 0
    for user in User.objects.filter(pk__in=owners).only("pk", "time_zone"):
        today = now.astimezone(user.tzinfo).date()
        due = (
            FollowUp.objects.filter(
                owner=user, due_on__gte=today - timedelta(days=1), due_on__lte=today
            )
            .exclude(status=Status.DONE)
            .select_related("contact")
        )
        for followup in due:
            event_id = uuid.uuid5(FOLLOWUP_NS, f"{followup.pk}:{followup.due_on.isoformat()}")
            created = fan_out(
                user.pk,
                Event.FOLLOWUP_DUE,
                followup_data(followup),
                str(event_id),
                now,
                enqueue=enqueue,
                fresh=False,
            )
            count += len(created)
    return count


def requeue_lost(now: datetime | None = None, enqueue=None, limit: int = 1000) -> int:
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lt=now - LOST_AFTER)
            | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
        ).values_list("pk", flat=True)[:limit]
    )
    (enqueue or enqueue_deliveries)(ids)
    return len(ids)


# --- Event data (small and documented; the README lists each shape) -------------------


def contact_data(contact) -> dict:
    return {
        "contact": {
            "id": contact.pk,
            "name": contact.name,
            "company": contact.company,
            "profession": contact.profession,
            "stage": contact.stage,
            "cadence_days": contact.cadence_days,
        }
    }


def meeting_data(meeting, attendees, facts_count: int) -> dict:
    return {
        "meeting": {
            "id": meeting.pk,
            "kind": meeting.kind,
            "occurred_at": meeting.occurred_at,
            "place": meeting.place,
        },
        "attendees": [{"id": c.pk, "name": c.name} for c in attendees],
        "gains_facts": facts_count,
    }


def referral_data(referral, previous: str | None) -> dict:
    partner = referral.partner
    return {
        "referral": {
            "id": referral.pk,
            "direction": referral.direction,
            "prospect_name": referral.prospect_name,
            "partner": {"id": partner.pk, "name": partner.name} if partner else None,
            "slip": referral.slip_id,
        },
        "status": referral.status,
        "previous_status": previous,
    }


def followup_data(followup) -> dict:
    return {
        "followup": {
            "id": followup.pk,
            "title": followup.title,
            "due_on": followup.due_on,
            "status": followup.status,
        },
        "contact": {"id": followup.contact_id, "name": followup.contact.name},
    }


def slip_data(slip, receiver_user_id: int) -> dict | None:
    """What the receiver sees of a slip: who passed it, in which group, the prospect."""
    from referrals.models import Referral

    row = Referral.objects.filter(slip=slip, owner_id=receiver_user_id).values_list("pk", flat=True)
    giver = slip.giver.user
    return {
        "slip": {
            "id": slip.pk,
            "group": {"id": slip.group_id, "name": slip.group.name},
            "from": {"name": str(giver) if giver else "", "seat": slip.giver.seat},
            "prospect_name": slip.prospect_name,
            "prospect_reach": slip.prospect_reach,
            "need": slip.need,
            "temperature": slip.temperature,
            "referred_on": slip.referred_on,
        },
        "referral": row.first(),
    }


# --- Hooks: signals from the apps that cause events ------------------------------------

# Saves that only move bookkeeping fields are not "contact changed".
_QUIET_CONTACT_FIELDS = {"last_touched_at", "touch_due_at", "updated_at"}


def on_contact_saved(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw:
        return
    if not created and update_fields and set(update_fields) <= _QUIET_CONTACT_FIELDS:
        return
    event = Event.CONTACT_CREATED if created else Event.CONTACT_UPDATED
    emit(instance.owner_id, event, contact_data(instance))


def on_meeting_logged(sender, meeting, attendees, facts_count=0, **kwargs) -> None:
    attendees = list(attendees)
    emit(
        meeting.owner_id,
        Event.MEETING_LOGGED,
        partial(meeting_data, meeting, attendees, facts_count),
    )


def on_referral_status_changed(
    sender, referral=None, referral_id=None, owner_id=None, previous=None, **kwargs
) -> None:
    from referrals.models import Referral

    if referral is not None:
        if previous == referral.status:
            return
        emit(
            referral.owner_id,
            Event.REFERRAL_STATUS_CHANGED,
            partial(referral_data, referral, previous),
        )
        return

    def data():
        row = Referral.objects.select_related("partner").filter(pk=referral_id).first()
        return referral_data(row, previous) if row else None

    emit(owner_id, Event.REFERRAL_STATUS_CHANGED, data)


def on_slip_given(sender, slip, **kwargs) -> None:
    receiver_user_id = slip.receiver.user_id
    if receiver_user_id:
        emit(receiver_user_id, Event.SLIP_RECEIVED, partial(slip_data, slip, receiver_user_id))


def connect_signals() -> None:
    """Called from ``ApiConfig.ready``."""
    from django.db.models.signals import post_save

    from contacts.meetings import meeting_logged
    from groups.slips import slip_given
    from referrals.models import status_changed

    post_save.connect(on_contact_saved, sender="contacts.Contact", dispatch_uid="webhooks-contact")
    meeting_logged.connect(on_meeting_logged, dispatch_uid="webhooks-meeting")
    status_changed.connect(on_referral_status_changed, dispatch_uid="webhooks-referral")
    slip_given.connect(on_slip_given, dispatch_uid="webhooks-slip")
