"""Webhook endpoints a user registers, and one delivery row per (endpoint, event).

Star-imported by ``api.models``; the rules (signing, SSRF guard, emission, sending) are in
``api.webhooks``.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from referralcrm.ownership import OwnedManager

__all__ = ["DeliveryStatus", "Event", "WebhookDelivery", "WebhookEndpoint", "new_secret"]


class Event(models.TextChoices):
    MEETING_LOGGED = "meeting.logged", "A meeting is logged"
    CONTACT_CREATED = "contact.created", "A contact is added"
    CONTACT_UPDATED = "contact.updated", "A contact is changed"
    REFERRAL_STATUS_CHANGED = "referral.status_changed", "A referral's status changes"
    FOLLOWUP_DUE = "followup.due", "A follow-up falls due"
    SLIP_RECEIVED = "slip.received", "A group member passes you a slip"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its first attempt or its next retry
    SENDING = "sending", "Sending"  # claimed by a worker until ``claimed_until``
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"  # gave up: every retry failed, or the endpoint was disabled


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField("URL", max_length=500)
    events = models.JSONField(default=list)  # a list of ``Event`` values
    secret = models.CharField(max_length=80, default=new_secret)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # Deliveries given up on in a row (every retry failed); a success resets it.
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwnedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # Emission: "this user's active endpoints", one query per event (usually empty).
            models.Index(
                fields=["owner"], name="webhook_active_owner_idx", condition=Q(is_active=True)
            )
        ]

    def __str__(self) -> str:
        return self.url

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("apisettings:webhook", args=[self.pk])

    @property
    def event_labels(self) -> list[str]:
        return [Event(e).label for e in self.events if e in Event.values]

    def rotate_secret(self) -> None:
        self.secret = new_secret()
        self.save(update_fields=["secret"])

    def enable(self) -> None:
        self.is_active = True
        self.disabled_at = None
        self.disabled_reason = ""
        self.consecutive_failures = 0
        self.save(
            update_fields=["is_active", "disabled_at", "disabled_reason", "consecutive_failures"]
        )


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # Stable across retries (and the same for every endpoint the event goes to): receivers
    # de-duplicate on it.
    event_id = models.UUIDField()
    event = models.CharField(max_length=40, choices=Event.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once")
        ]
        indexes = [
            # The endpoint page's delivery log, newest first.
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log_idx"),
            # The requeue sweep (api.requeue_webhooks): unfinished deliveries by due time.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} → {self.endpoint_id}"
