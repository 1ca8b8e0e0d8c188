"""Networking groups: what members share on purpose, in tables of its own.

A group's data (memberships, slips between members, one-to-ones between members,
meetings, attendance, visitors, invitations) is scoped by group, never by a member's
private data: the organisers' site reads only these tables. Each member's private side of
a slip (their ledger row and its notes) lives in ``referrals.Referral``, owned by them.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from referrals.models import CLOSED_STATUSES, NEXT_STATUS, OPEN_STATUSES, Status, Temperature
from referrals.money import MAX_AMOUNT, format_money

INVITATION_DAYS = 14
GAINS_PARTS = [
    ("goals", "Goals"),
    ("accomplishments", "Accomplishments"),
    ("interests", "Interests"),
    ("networks", "Networks"),
    ("skills", "Skills"),
]


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


def default_health() -> dict:
    """Traffic-light thresholds, shown on the report page and editable per group.

    Each figure is green at or above ``green``, amber at or above ``amber``, else red;
    green scores 2 points and amber 1. The member's light comes from the points total.
    """
    return {
        "referrals_per_month": {"green": 1.0, "amber": 0.5},
        "one_to_ones_per_month": {"green": 2.0, "amber": 1.0},
        "attendance_pct": {"green": 95.0, "amber": 85.0},
        "visitors_per_month": {"green": 0.3, "amber": 0.1},
        "points": {"green": 6.0, "amber": 3.0},
    }


class GroupQuerySet(models.QuerySet):
    def for_member(self, user) -> GroupQuerySet:
        """Groups ``user`` belongs to now (active or on leave)."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(
            memberships__user=user, memberships__status__in=CURRENT_STATUSES
        ).distinct()

    def organised_by(self, user) -> GroupQuerySet:
        """Groups ``user`` organises: the only ones the organisers' site shows them."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(
            memberships__user=user,
            memberships__role=Role.ORGANISER,
            memberships__status=MembershipStatus.ACTIVE,
        ).distinct()


class Group(models.Model):
    name = models.CharField(max_length=120)
    city = models.CharField(max_length=120, blank=True)
    meeting_weekday = models.PositiveSmallIntegerField(
        "meets on", choices=Weekday.choices, default=Weekday.TUESDAY
    )
    meeting_time = models.TimeField("at", default="07:00")
    meeting_place = models.CharField("where", max_length=200, blank=True)
    description = models.TextField(blank=True)
    currency = models.CharField(max_length=3, default="USD")
    absence_limit = models.PositiveSmallIntegerField(
        "absences allowed",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="A member at or over this many absences in the window needs attention.",
    )
    absence_window_days = models.PositiveSmallIntegerField(
        "absence window (days)",
        default=182,
        validators=[MinValueValidator(7), MaxValueValidator(730)],
        help_text="Rolling window the absences are counted in (182 days = 6 months).",
    )
    health = models.JSONField("traffic-light thresholds", default=default_health)
    created_at = models.DateTimeField(default=timezone.now)
    # Moves on with every write the member report reads (migration 0003's triggers: the
    # group's slips, one-to-ones, meetings, attendance, visitors, outside numbers and
    # memberships, its members' names, the group itself), so a report cached under it is
    # never stale. Kept by PostgreSQL alone: a save of this row bumps it, whatever it says.
    report_version = models.BigIntegerField(default=0, editable=False)

    objects = models.Manager.from_queryset(GroupQuerySet)()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("groups:detail", args=[self.pk])

    def thresholds(self) -> dict:
        merged = default_health()
        for key, value in (self.health or {}).items():
            if key in merged and isinstance(value, dict):
                merged[key].update(value)
        return merged

    def next_meeting_date(self, today: date | None = None) -> date:
        """The next day (today included) on the group's weekday."""
        today = today or timezone.localdate()
        return today + timedelta(days=(self.meeting_weekday - today.weekday()) % 7)


class Role(models.TextChoices):
    ORGANISER = "organiser", "Organiser"
    MEMBER = "member", "Member"


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_LEAVE = "on_leave", "On leave"
    SUSPENDED = "suspended", "Suspended"
    LEFT = "left", "Left"


# How a member who deleted their account appears in the group's history.
FORMER_MEMBER = "former member"

# Members who see the roster, give slips and count in the report's roster.
CURRENT_STATUSES = [MembershipStatus.ACTIVE, MembershipStatus.ON_LEAVE]


class MembershipQuerySet(models.QuerySet):
    def current(self) -> MembershipQuerySet:
        return self.filter(status__in=CURRENT_STATUSES)

    def of_user(self, user) -> MembershipQuerySet:
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def keep_as_former(self, today: date | None = None) -> int:
        """Detach these memberships from their user, as "left" (with a date), keeping the
        slips, one-to-ones and attendance that point at them. Called as the user is deleted."""
        today = today or timezone.localdate()
        kept_date = models.Case(
            models.When(status=MembershipStatus.LEFT, then=models.F("left_on")),
            default=None,
            output_field=models.DateField(),
        )
        return self.update(
            user=None,
            status=MembershipStatus.LEFT,
            left_on=Coalesce(kept_date, models.Value(today)),
            shared_gains=[],
        )


class Membership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    # Empty once the member deleted their account: the membership stays (status "left") so
    # the slips they gave and received stay in the group's history, as "former member".
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="memberships",
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    seat = models.CharField(
        max_length=120, blank=True, help_text="The member's profession: their seat in the group."
    )
    status = models.CharField(
        max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )
    joined_on = models.DateField(default=timezone.localdate)
    left_on = models.DateField(null=True, blank=True)
    # Which parts of the member's own GAINS profile this group sees (names of User fields).
    shared_gains = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = models.Manager.from_queryset(MembershipQuerySet)()

    class Meta:
        ordering = ["group", "user__display_name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="membership_one_per_group"),
        ]
        indexes = [
            # "My groups", the dashboard widget and every co-member check: a user's memberships.
            models.Index(fields=["user", "status"], name="membership_user_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.group})"

    @property
    def name(self) -> str:
        if self.user is None:
            return FORMER_MEMBER
        return self.user.display_name or self.user.email

    @property
    def is_former(self) -> bool:
        """The member deleted their account: only their group history is left."""
        return self.user_id is None

    @property
    def is_current(self) -> bool:
        return self.status in CURRENT_STATUSES

    @property
    def is_organiser(self) -> bool:
        return self.role == Role.ORGANISER and self.status == MembershipStatus.ACTIVE

    def shared_profile(self) -> list[tuple[str, str]]:
        """(label, text) of the GAINS parts this member shares with the group."""
        if self.user is None:
            return []
        return [
            (label, text)
            for field, label in GAINS_PARTS
            if field in (self.shared_gains or []) and (text := getattr(self.user, field))
        ]

    def leave(self, on: date | None = None) -> None:
        self.status = MembershipStatus.LEFT
        self.left_on = on or timezone.localdate()
        self.save(update_fields=["status", "left_on"])


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


class InvitationState(models.TextChoices):
    PENDING = "pending", "Waiting"
    ACCEPTED = "accepted", "Accepted"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        """Not yet used, withdrawn or expired: the ``state`` property, as a filter."""
        return self.filter(accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An e-mailed, signed, expiring, single-use link to join a group."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("e-mail")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    seat = models.CharField(max_length=120, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    nonce = models.CharField(max_length=32, unique=True, default=new_nonce, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = models.Manager.from_queryset(InvitationQuerySet)()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["group", "-created_at"], name="invitation_group_idx")]

    def __str__(self) -> str:
        return f"{self.email} to {self.group}"

    def save(self, *args, **kwargs):
        if not self.expires_at:
            self.expires_at = (self.created_at or timezone.now()) + timedelta(days=INVITATION_DAYS)
        super().save(*args, **kwargs)

    @property
    def state(self) -> str:
        if self.accepted_at:
            return InvitationState.ACCEPTED
        if self.revoked_at:
            return InvitationState.REVOKED
        if self.expires_at and self.expires_at <= timezone.now():
            return InvitationState.EXPIRED
        return InvitationState.PENDING

    def get_state_display(self) -> str:
        return InvitationState(self.state).label


class SlipQuerySet(models.QuerySet):
    def for_party(self, user) -> SlipQuerySet:
        """Slips ``user`` gave or received: the only ones a member's pages show."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(Q(giver__user=user) | Q(receiver__user=user))

    def open(self) -> SlipQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Slip(models.Model):
    """A referral from one member to another: one shared record, seen from both sides.

    Each side also has a private ledger row (``referrals.Referral.slip``) that mirrors
    the shared fields and keeps that side's notes; ``groups.slips`` writes both at once.
    """

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="slips")
    giver = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="slips_given")
    receiver = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="slips_received"
    )
    prospect_name = models.CharField("prospect", max_length=160)
    prospect_reach = models.CharField("how to reach the prospect", max_length=240, blank=True)
    need = models.TextField("what they need", blank=True, max_length=2000)
    referred_on = models.DateField("date", default=timezone.localdate)
    temperature = models.CharField(
        max_length=4, choices=Temperature.choices, default=Temperature.WARM
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PASSED)
    value = models.DecimalField(
        "value of closed business",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_AMOUNT)],
    )
    currency = models.CharField(max_length=3, default="USD")
    closed_on = models.DateField(null=True, blank=True)
    # The giver hears of the thank-you (and the receiver of a new slip) in the next digest.
    giver_notified_at = models.DateTimeField(null=True, blank=True)
    receiver_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = models.Manager.from_queryset(SlipQuerySet)()

    class Meta:
        ordering = ["-referred_on", "-pk"]
        indexes = [
            # The member report: slips of a group in a period, per giver and receiver.
            models.Index(fields=["group", "referred_on"], name="slip_group_date_idx"),
            models.Index(fields=["group", "closed_on"], name="slip_group_closed_idx"),
            models.Index(fields=["giver", "-referred_on"], name="slip_giver_idx"),
            models.Index(fields=["receiver", "-referred_on"], name="slip_receiver_idx"),
            # The digest: thank-yous and new slips members have not heard of yet.
            models.Index(
                fields=["giver"],
                name="slip_thanks_unnotified_idx",
                condition=Q(status="won", giver_notified_at__isnull=True),
            ),
            models.Index(
                fields=["receiver"],
                name="slip_new_unnotified_idx",
                condition=Q(receiver_notified_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(giver=models.F("receiver")), name="slip_between_two_members"
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0), name="slip_value_positive"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["won", "lost", "not_a_fit"]) | Q(closed_on__isnull=False),
                name="slip_closed_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.giver.name} → {self.receiver.name}: {self.prospect_name}"

    def get_absolute_url(self) -> str:
        return reverse("groups:slip", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def next_status(self) -> str | None:
        return NEXT_STATUS.get(self.status)

    @property
    def value_display(self) -> str:
        return format_money(self.value, self.currency)


class SlipChange(models.Model):
    """The audit trail of a slip: who changed what, when. Seen by both sides and organisers."""

    slip = models.ForeignKey(Slip, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    field = models.CharField(max_length=32)
    old = models.CharField(max_length=200, blank=True)
    new = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["changed_at", "pk"]

    LABELS = {
        "created": "Slip passed",
        "status": "Status",
        "value": "Value",
        "currency": "Currency",
        "referred_on": "Date passed",
        "closed_on": "Date closed",
    }

    def __str__(self) -> str:
        return f"{self.field}: {self.old} → {self.new}"

    @property
    def label(self) -> str:
        return self.LABELS.get(self.field, self.field)


class OneToOne(models.Model):
    """A one-to-one between two members, as one of them logged it.

    Both may log the same one-to-one: the report counts distinct ``pair_day`` values,
    so it counts once. Deleting the meeting deletes its row.
    """

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="one_to_ones")
    member_low = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    member_high = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    on = models.DateField()
    pair_day = models.CharField(max_length=48)
    # The logging member's private meeting: never shown on a group page.
    meeting = models.ForeignKey(
        "contacts.Meeting", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "meeting"], name="one_to_one_once_per_log"),
            models.CheckConstraint(
                condition=Q(member_low__lt=models.F("member_high")), name="one_to_one_ordered"
            ),
        ]
        indexes = [models.Index(fields=["group", "on"], name="one_to_one_group_date_idx")]

    def __str__(self) -> str:
        return f"One-to-one {self.pair_day}"

    @staticmethod
    def key(a: int, b: int, on: date) -> tuple[int, int, str]:
        low, high = sorted((a, b))
        return low, high, f"{low}-{high}-{on:%Y%m%d}"


class GroupMeetingQuerySet(models.QuerySet):
    def upcoming(self, today: date | None = None) -> GroupMeetingQuerySet:
        """Meetings from today on, soonest first."""
        return self.filter(on__gte=today or timezone.localdate()).order_by("on")

    def next_per_group(self, group_ids, today: date | None = None) -> dict[int, GroupMeeting]:
        """{group id: its next scheduled meeting} in one query (groups with none are absent)."""
        soonest = (
            GroupMeeting.objects.filter(group=models.OuterRef("group"))
            .upcoming(today)
            .values("pk")[:1]
        )
        rows = self.filter(group__in=group_ids, pk=models.Subquery(soonest))
        return {m.group_id: m for m in rows}


class GroupMeeting(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="meetings")
    on = models.DateField("date")
    starts_at = models.TimeField("at", null=True, blank=True)
    place = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = models.Manager.from_queryset(GroupMeetingQuerySet)()

    class Meta:
        ordering = ["-on"]
        constraints = [
            models.UniqueConstraint(fields=["group", "on"], name="group_meeting_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.group} on {self.on:%a %d %b %Y}"


class AttendanceCode(models.TextChoices):
    PRESENT = "P", "Present"
    ABSENT = "A", "Absent"
    LATE = "L", "Late"
    MEDICAL = "M", "Medical"
    SUBSTITUTE = "S", "Substitute"


ATTENDANCE_CYCLE = ["P", "A", "L", "M", "S"]


class Attendance(models.Model):
    meeting = models.ForeignKey(GroupMeeting, on_delete=models.CASCADE, related_name="attendance")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="attendance")
    code = models.CharField(max_length=1, choices=AttendanceCode.choices)
    substitute_name = models.CharField("substitute", max_length=120, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "membership"], name="attendance_once"),
        ]
        indexes = [models.Index(fields=["membership", "code"], name="attendance_member_idx")]

    def __str__(self) -> str:
        return f"{self.membership.name}: {self.code}"


class Visitor(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="visitors")
    meeting = models.ForeignKey(
        GroupMeeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="visitors"
    )
    brought_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="visitors"
    )
    name = models.CharField(max_length=120)
    profession = models.CharField(max_length=120, blank=True)
    email = models.EmailField("e-mail", blank=True)
    visited_on = models.DateField("date", default=timezone.localdate)
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-visited_on", "-pk"]
        indexes = [models.Index(fields=["group", "visited_on"], name="visitor_group_date_idx")]

    def __str__(self) -> str:
        return self.name


class OutsideReport(models.Model):
    """The number of referrals outside the group a member chooses to report for a month.

    Their outside referrals themselves stay private ledger rows; only this number is shared.
    """

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="outside_reports"
    )
    month = models.DateField(help_text="The first day of the month.")
    count = models.PositiveSmallIntegerField(validators=[MaxValueValidator(999)])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "month"], name="outside_once_a_month"),
        ]

    def __str__(self) -> str:
        return f"{self.membership.name} {self.month:%Y-%m}: {self.count}"
