"""A user's private network: contacts, their GAINS facts, tags and logged meetings."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from referralcrm.ownership import OwnedManager, OwnedQuerySet

DEFAULT_CADENCE_DAYS = 30


class Stage(models.TextChoices):
    CONTACT = "contact", "Contact"
    ACQUAINTANCE = "acquaintance", "Acquaintance"
    CONNECTION = "connection", "Connection"


class TriState(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    YES = "yes", "Yes"
    NO = "no", "No"


class GainsKind(models.TextChoices):
    GOAL = "goal", "Goals"
    ACCOMPLISHMENT = "accomplishment", "Accomplishments"
    INTEREST = "interest", "Interests"
    NETWORK = "network", "Networks"
    SKILL = "skill", "Skills"


class MeetingKind(models.TextChoices):
    ONE_TO_ONE = "one_to_one", "One-to-one"
    COFFEE = "coffee", "Coffee"
    CALL = "call", "Call"
    VIDEO = "video", "Video call"
    EVENT = "event", "Event"
    EMAIL = "email", "E-mail"
    MESSAGE = "message", "Message"
    OTHER = "other", "Other"


# Other apps add reasons a contact is stalled: ``fn(now) -> Q`` over Contact, registered
# in their AppConfig.ready() (followups adds "has an overdue follow-up").
STALLED_REASONS: list = []


class Tag(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=40)
    # Contacts carrying the tag, kept current by a trigger (contacts.counters).
    contact_count = models.IntegerField(default=0, editable=False)

    objects = OwnedManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "owner", Lower("name"), name="contacts_tag_owner_name_ci_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


def tags_named(owner, names) -> list[Tag]:
    """The owner's tags with these names (reused whatever the case, as the unique constraint
    compares them), made when missing: two queries whatever the number of names."""
    names = list(dict.fromkeys(names))
    if not names:
        return []
    Tag.objects.bulk_create([Tag(owner=owner, name=n) for n in names], ignore_conflicts=True)
    condition = Q()
    for name in names:
        condition |= Q(name_lower=Lower(models.Value(name)))
    return list(
        Tag.objects.for_user(owner).alias(name_lower=Lower("name")).filter(condition).distinct()
    )


class ContactQuerySet(OwnedQuerySet):
    def active(self) -> ContactQuerySet:
        return self.filter(is_archived=False)

    def stalled(self, now: datetime | None = None) -> ContactQuerySet:
        """Active contacts whose cadence has passed since the last touch, or for whom
        another app registered a reason (an overdue follow-up, see ``STALLED_REASONS``).

        Reads the denormalised ``touch_due_at`` through ``contact_touch_due_idx``.
        """
        now = now or timezone.now()
        condition = Q(touch_due_at__lt=now)
        for reason in STALLED_REASONS:
            condition |= reason(now)
        return self.active().filter(condition)

    def search(self, text: str) -> ContactQuerySet:
        """Contacts with every word typed at the start of a word of their name, company,
        profession, city, tags or GAINS facts: one query on the search document's GIN
        index on PostgreSQL (see contacts.search, which also ranks and explains). Elsewhere
        (the embedded SQLite default, small data) a scan for the text in the same fields."""
        text = text.strip()
        if not text:
            return self
        from . import search

        if search.on_postgresql(self):
            return search.matching(self, text)
        return self.filter(
            Q(name__icontains=text)
            | Q(company__icontains=text)
            | Q(profession__icontains=text)
            | Q(city__icontains=text)
            | Q(
                models.Exists(
                    Tag.objects.filter(
                        contacts=models.OuterRef("pk"), name__iexact=text.lstrip("#")
                    )
                )
            )
            | Q(
                models.Exists(
                    GainsFact.objects.filter(contact=models.OuterRef("pk"), text__icontains=text)
                )
            )
        )


class Contact(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(max_length=120)
    company = models.CharField(max_length=160, blank=True)
    profession = models.CharField("profession or category", max_length=120, blank=True)
    emails = models.JSONField(default=list, blank=True)
    phones = models.JSONField(default=list, blank=True)
    website = models.URLField(blank=True)
    address = models.TextField(blank=True)
    city = models.CharField(max_length=120, blank=True)
    met_how = models.CharField("how and where we met", max_length=240, blank=True)
    notes = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")

    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.CONTACT)
    cadence_days = models.PositiveIntegerField(
        "keep in touch every (days)",
        null=True,
        blank=True,
        default=DEFAULT_CADENCE_DAYS,
        validators=[MinValueValidator(1)],
        help_text="Leave empty for no cadence.",
    )
    is_expert = models.CharField(
        "expert at their trade", max_length=8, choices=TriState.choices, default=TriState.UNKNOWN
    )
    is_passionate = models.CharField(
        "passionate about it", max_length=8, choices=TriState.choices, default=TriState.UNKNOWN
    )
    honours_referrals = models.CharField(
        "honours the referral process",
        max_length=8,
        choices=TriState.choices,
        default=TriState.UNKNOWN,
    )
    word_of_mouth = models.TextField("what others in the network say", blank=True)

    is_archived = models.BooleanField(default=False)
    # A fellow group member added to the user's contacts: their shared profile shows live.
    linked_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    # Denormalised by log_meeting(), in the same transaction as the meeting, so lists
    # and the stalled sweep need no aggregate over meetings.
    last_touched_at = models.DateTimeField(null=True, blank=True)
    # last touch (or creation) + cadence; NULL when there is no cadence.
    touch_due_at = models.DateTimeField(null=True, blank=True)
    # Relationship strength (0-100) and its parts, kept current by plan.strength when its
    # inputs change; strength_before is last quarter's score, for the trend arrow.
    strength = models.PositiveSmallIntegerField(default=0, editable=False)
    strength_parts = models.JSONField(default=dict, blank=True, editable=False)
    strength_before = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = models.Manager.from_queryset(ContactQuerySet)()

    class Meta:
        ordering = ["name"]
        indexes = [
            # The stalled sweep (ContactQuerySet.stalled, the dashboard and the digest)
            # reads active contacts by owner in order of when a touch fell due.
            models.Index(
                fields=["owner", "touch_due_at"],
                name="contact_touch_due_idx",
                condition=Q(is_archived=False, touch_due_at__isnull=False),
            ),
            # Contact list sorted by last touch, and the typeahead (contacts.search). On
            # PostgreSQL migration 0007 builds it as (owner, last_touched_at DESC NULLS
            # LAST), the order both sorts read (backwards for oldest first); SQLite cannot.
            models.Index(fields=["owner", "last_touched_at"], name="contact_last_touched_idx"),
            models.Index(fields=["owner", "name"], name="contact_owner_name_idx"),
            # Contact list sorted by relationship strength.
            models.Index(fields=["owner", "-strength"], name="contact_strength_idx"),
            # The plan's strongest contacts of a stage (the connections to deepen): read in
            # strength order and stopped after a few, not every contact sorted.
            models.Index(
                fields=["owner", "stage", "-strength"],
                name="contact_stage_strength_idx",
                condition=Q(is_archived=False),
            ),
            # The API's contact list and sync (newest id first, a cursor on the id): read in
            # order from the owner's part of the index, not the primary key through everyone's.
            models.Index(fields=["owner", "id"], name="contact_owner_id_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(cadence_days__isnull=True) | Q(cadence_days__gte=1),
                name="contact_cadence_positive",
            ),
            # One contact per fellow member (groups.members.contact_for finds or makes it).
            models.UniqueConstraint(
                fields=["owner", "linked_user"],
                name="contact_one_per_linked_user",
                condition=Q(linked_user__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.touch_due_at = self.compute_touch_due_at()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "cadence_days" in update_fields:
            kwargs["update_fields"] = {*update_fields, "touch_due_at"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("contacts:detail", args=[self.pk])

    def compute_touch_due_at(self) -> datetime | None:
        if not self.cadence_days:
            return None
        return (self.last_touched_at or self.created_at) + timedelta(days=self.cadence_days)

    def touched(self, when: datetime) -> bool:
        """Move the last touch forward to ``when``; True if it changed."""
        if self.last_touched_at and self.last_touched_at >= when:
            return False
        self.last_touched_at = when
        self.touch_due_at = self.compute_touch_due_at()
        return True

    @property
    def days_since_touch(self) -> int | None:
        if not self.last_touched_at:
            return None
        return (timezone.now() - self.last_touched_at).days

    @property
    def days_overdue(self) -> int | None:
        if not self.touch_due_at:
            return None
        return (timezone.now() - self.touch_due_at).days

    @property
    def is_stalled(self) -> bool:
        return bool(
            not self.is_archived and self.touch_due_at and self.touch_due_at < timezone.now()
        )

    def archive(self) -> None:
        self.is_archived = True
        self.save(update_fields=["is_archived", "updated_at"])

    def unarchive(self) -> None:
        self.is_archived = False
        self.save(update_fields=["is_archived", "updated_at"])


class SearchRank(models.Model):
    """A narrow copy of each contact's search document, for ranking (PostgreSQL only).

    The best-match contact search ranks every contact that has the words typed, so it reads
    each one's document. From ``contacts_contact`` that is a wide row (~1.5 kB) per match;
    here it is the owner, the archive flag, the name (the tie-break), the stage (a filter of
    the list, migration 0014) and the document, so the same matches take a third of the
    pages. Triggers of migration 0010 keep it current in the same transaction as the
    contact's own ``search_vector`` (migration 0007), and
    Django never writes it; its ``search_vector`` column is declared by the migration only.
    Elsewhere (SQLite) it stays empty and the search reads the contacts themselves.
    """

    contact = models.OneToOneField(
        Contact, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    owner_id = models.BigIntegerField()
    is_archived = models.BooleanField(default=False)
    name = models.CharField(max_length=120)
    stage = models.CharField(max_length=16, default=Stage.CONTACT)

    class Meta:
        verbose_name = "search rank entry"
        verbose_name_plural = "search rank entries"

    def __str__(self) -> str:
        return self.name


class GainsFact(models.Model):
    """One dated fact of a contact's GAINS profile, learned at a meeting or by hand."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="gains_facts")
    kind = models.CharField(max_length=16, choices=GainsKind.choices)
    text = models.CharField(max_length=280)
    learned_on = models.DateField(default=timezone.localdate)
    meeting = models.ForeignKey(
        "Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="gains_facts"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwnedManager()

    class Meta:
        verbose_name = "GAINS fact"
        ordering = ["-learned_on", "-created_at"]
        indexes = [models.Index(fields=["contact", "kind"], name="gains_contact_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text}"


class Meeting(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meetings"
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(
        max_length=16, choices=MeetingKind.choices, default=MeetingKind.ONE_TO_ONE
    )
    attendees = models.ManyToManyField(Contact, related_name="meetings")
    place = models.CharField("place or event", max_length=200, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwnedManager()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["owner", "-occurred_at"], name="meeting_owner_when_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d}"


class OccasionKind(models.TextChoices):
    BIRTHDAY = "birthday", "Birthday"
    WORK_ANNIVERSARY = "work_anniversary", "Work anniversary"
    FOUNDED = "founded", "Business founded"
    OTHER = "other", "Other"


class OccasionQuerySet(OwnedQuerySet):
    def within(self, start, days: int) -> OccasionQuerySet:
        return self.filter(occasions_within(start, days))


def occasions_within(start, days: int) -> Q:
    """Occasions whose next anniversary falls in ``[start, start + days)``, by (month, day)
    pairs so ``occasion_owner_day_idx`` serves it; 29 February counts on 28 February in
    years without it."""
    condition = Q()
    for offset in range(days):
        day = start + timedelta(days=offset)
        condition |= Q(month=day.month, day=day.day)
        if day.month == 2 and day.day == 28 and not _is_leap(day.year):
            condition |= Q(month=2, day=29)
    return condition


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


class Occasion(models.Model):
    """A dated occasion of a contact's: birthday (year optional), work anniversary, ..."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="occasions")
    kind = models.CharField(max_length=20, choices=OccasionKind.choices)
    label = models.CharField(max_length=80, blank=True, help_text="For “Other”: what it is.")
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    month = models.PositiveSmallIntegerField()
    day = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = models.Manager.from_queryset(OccasionQuerySet)()

    class Meta:
        ordering = ["month", "day", "pk"]
        indexes = [
            # The digest and the calendar feed: a user's occasions by day of the year.
            models.Index(fields=["owner", "month", "day"], name="occasion_owner_day_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contact"],
                condition=Q(kind="birthday"),
                name="occasion_one_birthday_per_contact",
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12, day__gte=1, day__lte=31),
                name="occasion_valid_day",
            ),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1900, year__lte=2100),
                name="occasion_year_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}: {self.day_display}"

    @property
    def title(self) -> str:
        if self.kind == OccasionKind.OTHER and self.label:
            return self.label
        return self.get_kind_display()

    @property
    def day_display(self) -> str:
        shown = datetime(2000, self.month, self.day).strftime("%-d %B")
        return f"{shown} {self.year}" if self.year else shown


# Counters kept current on write (contacts/counters.py).
from .counters import ContactTally  # noqa: E402, F401
