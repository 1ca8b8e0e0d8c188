"""Follow-ups: tasks tied to a contact, with a due date; done or snoozed."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from referralcrm.ownership import OwnedQuerySet


class Status(models.TextChoices):
    OPEN = "open", "Open"
    SNOOZED = "snoozed", "Snoozed"
    DONE = "done", "Done"


class FollowUpQuerySet(OwnedQuerySet):
    def pending(self) -> FollowUpQuerySet:
        return self.exclude(status=Status.DONE)

    def overdue(self, today: date) -> FollowUpQuerySet:
        return self.pending().filter(due_on__lt=today)

    def due_today(self, today: date) -> FollowUpQuerySet:
        return self.pending().filter(due_on=today)

    def upcoming(self, today: date) -> FollowUpQuerySet:
        return self.pending().filter(due_on__gt=today)


class FollowUp(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followups"
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="followups"
    )
    meeting = models.ForeignKey(
        "contacts.Meeting",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
    )
    title = models.CharField(max_length=200)
    due_on = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = models.Manager.from_queryset(FollowUpQuerySet)()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            # Dashboard lists and the digest: a user's pending follow-ups by due date.
            models.Index(
                fields=["owner", "due_on"],
                name="followup_pending_due_idx",
                condition=~Q(status="done"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def mark_done(self) -> None:
        self.status = Status.DONE
        self.completed_at = timezone.now()
        self.save(update_fields=["status", "completed_at"])

    def snooze_until(self, day: date) -> None:
        self.status = Status.SNOOZED
        self.due_on = day
        self.save(update_fields=["status", "due_on"])

    @property
    def is_overdue(self) -> bool:
        return self.status != Status.DONE and self.due_on < timezone.localdate()
