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
        verbose_name = "follow-up"
        ordering = ["due_on", "pk"]
        indexes = [
            # Dashboard lists and the digest: a user's pending follow-ups by due date, read
            # in the lists' own order (due date, then id) so that "due today" stops at its
            # rows instead of PostgreSQL walking the primary key through everyone's.
            models.Index(
                fields=["owner", "due_on", "id"],
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

    def snooze_until(self, day: date) -> bool:
        """Move the follow-up to ``day``; one already done stays done (an old digest link,
        a second tab) and False is returned. A conditional update, so a race cannot reopen it."""
        moved = (
            FollowUp.objects.filter(pk=self.pk)
            .exclude(status=Status.DONE)
            .update(status=Status.SNOOZED, due_on=day)
        )
        if moved:
            self.status, self.due_on = Status.SNOOZED, day
        else:
            self.refresh_from_db(fields=["status", "due_on"])
        return bool(moved)

    @property
    def is_overdue(self) -> bool:
        return self.status != Status.DONE and self.due_on < timezone.localdate()


def overdue_followup_reason(now) -> Q:
    """A contact with an open follow-up past its due date is stalled."""
    today = timezone.localdate(now)
    return Q(
        models.Exists(
            FollowUp.objects.filter(contact=models.OuterRef("pk"), due_on__lt=today).exclude(
                status=Status.DONE
            )
        )
    )


WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


def default_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


def new_calendar_token() -> str:
    import secrets

    return secrets.token_urlsafe(24)


class DigestPreference(models.Model):
    """When the user wants the daily digest; ``next_digest_at`` is what the sweep reads."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_preference"
    )
    enabled = models.BooleanField("send me the daily digest", default=True)
    hour = models.PositiveSmallIntegerField(
        "at (hour, your time)", default=7, choices=[(h, f"{h:02d}:00") for h in range(24)]
    )
    weekdays = models.JSONField(default=default_weekdays)
    # The next moment (UTC) a digest is due, computed in the user's own time zone by
    # followups.digest.next_digest_at(); NULL when the digest is off.
    next_digest_at = models.DateTimeField(null=True, blank=True)
    calendar_token = models.CharField(max_length=64, unique=True, default=new_calendar_token)
    # The mail server refused the address for good (a 5xx): shown on the settings page until
    # the user saves them again; digests are not retried meanwhile.
    bounced_at = models.DateTimeField(null=True, blank=True, editable=False)
    bounce_reason = models.CharField(max_length=300, blank=True, editable=False)

    class Meta:
        indexes = [
            # The digest sweep (followups.digest.sweep): users whose digest time has come.
            models.Index(
                fields=["next_digest_at"],
                name="digest_due_idx",
                condition=Q(enabled=True, next_digest_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Digest for {self.user}"


class DigestState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    EMPTY = "empty", "Nothing to report"
    FAILED = "failed", "Failed, will retry"
    REFUSED = "refused", "Refused by the mail server"


class DigestLog(models.Model):
    """One row per user per local day: claimed before sending, so a digest goes out once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_logs"
    )
    local_date = models.DateField()
    state = models.CharField(max_length=8, choices=DigestState.choices, default=DigestState.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    items = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Exactly one digest per user per local day, whatever the sweeps and retries do.
            models.UniqueConstraint(fields=["user", "local_date"], name="digest_one_per_user_day"),
        ]
        indexes = [
            # The sweep's second pass: sends stuck in "sending" (a crashed worker) or "failed".
            models.Index(
                fields=["claimed_at"],
                name="digest_unfinished_idx",
                condition=Q(state__in=["pending", "sending", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Digest {self.user_id} {self.local_date} {self.state}"

    @property
    def message_id(self) -> str:
        from django.conf import settings as conf

        host = conf.SITE_URL.split("://", 1)[-1].split("/")[0].split(":")[0] or "localhost"
        return f"<digest-{self.user_id}-{self.local_date:%Y%m%d}@{host}>"


class UsedToken(models.Model):
    """One-click e-mail links work once: each token's nonce is recorded when used."""

    nonce = models.CharField(max_length=32, unique=True)
    used_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.nonce
