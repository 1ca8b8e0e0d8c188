"""The referral ledger: referrals both ways, their status history, introductions, spends."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import OuterRef, Q, Subquery
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone

from referralcrm.ownership import OwnedManager, OwnedQuerySet

from .money import MAX_AMOUNT, format_money

# A referral's status moved: sent with (referral, previous) from move_to(), or with
# (referral_id, owner_id, previous) by groups.slips for slip rows; webhooks listen.
status_changed = Signal()


class Direction(models.TextChoices):
    GIVEN = "given", "Given"
    RECEIVED = "received", "Received"


class Temperature(models.TextChoices):
    HOT = "hot", "Hot"
    WARM = "warm", "Warm"
    COLD = "cold", "Cold"


class Status(models.TextChoices):
    PASSED = "passed", "Passed"
    CONTACTED = "contacted", "Contacted"
    MEETING_HELD = "meeting_held", "Meeting held"
    WON = "won", "Closed won"
    LOST = "lost", "Closed lost"
    NOT_A_FIT = "not_a_fit", "Not a fit"


OPEN_STATUSES = [Status.PASSED, Status.CONTACTED, Status.MEETING_HELD]
CLOSED_STATUSES = [Status.WON, Status.LOST, Status.NOT_A_FIT]
NEXT_STATUS = {Status.PASSED: Status.CONTACTED, Status.CONTACTED: Status.MEETING_HELD}

money_validators = [MinValueValidator(0), MaxValueValidator(MAX_AMOUNT)]


class ReferralQuerySet(OwnedQuerySet):
    def open(self) -> ReferralQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def closed_won(self) -> ReferralQuerySet:
        return self.filter(status=Status.WON)


def keep_partner_name(collector, field, sub_objs, using):
    """``on_delete`` for Referral.partner: like SET_NULL, but first copies the contact's name
    into ``partner_name``. Both are the collector's field updates, run in the delete's
    transaction in the order added (the contact rows still exist then), one UPDATE per batch
    whatever the number of referrals."""
    from contacts.models import Contact

    name = Subquery(Contact.objects.filter(pk=OuterRef("partner_id")).values("name")[:1])
    collector.add_field_update(field.model._meta.get_field("partner_name"), name, sub_objs)
    collector.add_field_update(field, None, sub_objs)


keep_partner_name.lazy_sub_objs = True  # like SET_NULL: the rows need not be fetched


class Referral(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referrals"
    )
    direction = models.CharField(max_length=8, choices=Direction.choices)
    # Deleting the partner's contact keeps the referral (the ledger's totals and history
    # stay true): the partner becomes empty and their name is kept in partner_name.
    partner = models.ForeignKey(
        "contacts.Contact",
        null=True,
        on_delete=keep_partner_name,
        related_name="referrals",
        help_text="Who you gave it to, or who gave it to you.",
    )
    partner_name = models.CharField(
        max_length=120,
        blank=True,
        editable=False,
        help_text="The partner's name, kept when their contact was deleted.",
    )
    prospect_name = models.CharField("prospect", max_length=160)
    prospect_contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals_as_prospect",
    )
    prospect_reach = models.CharField("how to reach the prospect", max_length=240, blank=True)
    need = models.TextField("what they need", blank=True)
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
        validators=money_validators,
    )
    currency = models.CharField(max_length=3, default="USD")
    closed_on = models.DateField(null=True, blank=True)
    thanks_sent_on = models.DateField("thank-you sent", null=True, blank=True)
    thanks_received_on = models.DateField("thank-you received", null=True, blank=True)
    notes = models.TextField("private notes", blank=True, max_length=4000)
    # A slip between group members: this row is the owner's side of it. Its shared
    # fields are written only by groups.slips (both sides at once), never edited here.
    slip = models.ForeignKey(
        "groups.Slip",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ledger_rows",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = models.Manager.from_queryset(ReferralQuerySet)()

    class Meta:
        ordering = ["-referred_on", "-pk"]
        indexes = [
            # Ledger list and the monthly chart: a user's referrals by date.
            models.Index(fields=["owner", "-referred_on"], name="referral_owner_date_idx"),
            # Reciprocity panel and "who to ask": aggregates per partner and direction.
            models.Index(fields=["partner", "direction"], name="referral_partner_dir_idx"),
            # Dashboard "needs action": open referrals.
            models.Index(
                fields=["owner", "status"],
                name="referral_open_idx",
                condition=Q(status__in=["passed", "contacted", "meeting_held"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["won", "lost", "not_a_fit"]) | Q(closed_on__isnull=False),
                name="referral_closed_has_date",
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0), name="referral_value_positive"
            ),
            models.UniqueConstraint(
                fields=["owner", "slip"],
                name="referral_one_row_per_slip_side",
                condition=Q(slip__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        arrow = "→" if self.direction == Direction.GIVEN else "←"
        return f"{arrow} {self.prospect_name}"

    def get_absolute_url(self) -> str:
        if self.slip_id:
            return reverse("groups:slip", args=[self.slip_id])
        return reverse("referrals:detail", args=[self.pk])

    @property
    def partner_label(self) -> str:
        """The partner's name, or the kept name of a partner whose contact was deleted."""
        if self.partner_id:
            return self.partner.name
        return f"{self.partner_name or 'Someone'} (deleted)"

    @property
    def is_shared(self) -> bool:
        return self.slip_id is not None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def next_status(self) -> str | None:
        return NEXT_STATUS.get(self.status)

    @property
    def value_display(self) -> str:
        return format_money(self.value, self.currency)

    @property
    def thanks_due(self) -> bool:
        """A received referral that closed won and has not been thanked yet."""
        return (
            self.direction == Direction.RECEIVED
            and self.status == Status.WON
            and not self.thanks_sent_on
        )

    @transaction.atomic
    def move_to(self, status: str, *, on: date | None = None, value=None, note: str = "") -> None:
        """Change the status, keeping the history; closing needs a date (and a value if won)."""
        on = on or timezone.localdate()
        previous, self.status = self.status, status
        fields = ["status", "updated_at"]
        if status in CLOSED_STATUSES:
            self.closed_on = on
            fields.append("closed_on")
            if status == Status.WON:
                self.value = value
                fields.append("value")
        else:
            self.closed_on = None
            fields.append("closed_on")
        self.save(update_fields=fields)
        StatusChange.objects.create(referral=self, status=status, changed_on=on, note=note)
        status_changed.send(Referral, referral=self, previous=previous)

    def mark_thanks_sent(self, on: date | None = None) -> None:
        self.thanks_sent_on = on or timezone.localdate()
        self.save(update_fields=["thanks_sent_on", "updated_at"])

    def mark_thanks_received(self, on: date | None = None) -> None:
        self.thanks_received_on = on or timezone.localdate()
        self.save(update_fields=["thanks_received_on", "updated_at"])


class StatusChange(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=16, choices=Status.choices)
    changed_on = models.DateField(default=timezone.localdate)
    note = models.CharField(max_length=240, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_on", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} on {self.changed_on}"


class IntroMethod(models.TextChoices):
    EMAIL = "email", "E-mail"
    IN_PERSON = "in_person", "In person"
    CALL = "call", "Call"
    MESSAGE = "message", "Message"


class IntroOutcome(models.TextChoices):
    PENDING = "pending", "Waiting to hear"
    MET = "met", "They met"
    BUSINESS = "business", "Business came of it"
    NOTHING = "nothing", "Nothing came of it"


class IntroductionQuerySet(OwnedQuerySet):
    def involving(self, contact) -> IntroductionQuerySet:
        return self.filter(Q(contact_a=contact) | Q(contact_b=contact))


class Introduction(models.Model):
    """The user put two contacts in touch (a tri-win)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="introductions"
    )
    contact_a = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="introductions_as_a"
    )
    contact_b = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="introductions_as_b"
    )
    reason_a = models.CharField("what the first can do for the second", max_length=240, blank=True)
    reason_b = models.CharField("what the second can do for the first", max_length=240, blank=True)
    introduced_on = models.DateField("date", default=timezone.localdate)
    method = models.CharField(max_length=10, choices=IntroMethod.choices, default=IntroMethod.EMAIL)
    outcome = models.CharField(
        max_length=10, choices=IntroOutcome.choices, default=IntroOutcome.PENDING
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = models.Manager.from_queryset(IntroductionQuerySet)()

    class Meta:
        ordering = ["-introduced_on", "-pk"]
        indexes = [
            models.Index(fields=["contact_a"], name="intro_a_idx"),
            models.Index(fields=["contact_b"], name="intro_b_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(contact_a=models.F("contact_b")), name="intro_two_different_people"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact_a} ↔ {self.contact_b}"


class Spend(models.Model):
    """Money the user paid to a contact's business (the money trail)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="spends"
    )
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="spends")
    spent_on = models.DateField("date", default=timezone.localdate)
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(0.01), MaxValueValidator(MAX_AMOUNT)],
    )
    currency = models.CharField(max_length=3, default="USD")
    description = models.CharField("what for", max_length=240, blank=True)
    imported = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwnedManager()

    class Meta:
        ordering = ["-spent_on", "-pk"]
        indexes = [
            models.Index(fields=["contact", "currency"], name="spend_contact_idx"),
            models.Index(fields=["owner", "-spent_on"], name="spend_owner_date_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="spend_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{format_money(self.amount, self.currency)} to {self.contact}"

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)


# The ledger's counters kept current on write (referrals/rollups.py).
from .rollups import (  # noqa: E402, F401
    ClosedWonMonth,
    IntroductionTally,
    ReciprocityTally,
    ReferralMonth,
    SpendTotal,
)
