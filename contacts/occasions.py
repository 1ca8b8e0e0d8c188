"""Birthdays and other dated occasions of a contact: when they next come round, the form
that adds one, and the views of the contact page's "Occasions" section.

An occasion is a (month, day) with an optional year. Its next date is on or after a given
day; 29 February falls on 28 February in years without it (as ``models.occasions_within``
counts it). Every date helper here accepts any stored row, even one no form would let
through (31 February from an import): the day is clamped to the month's last day.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Q, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from referralcrm.ownership import each_on_their_day, first_per_owner
from referralcrm.widgets import FastSelect

from .models import Contact, Occasion, OccasionKind, occasions_within

MIN_YEAR = 1900
MONTHS = [(i, calendar.month_name[i]) for i in range(1, 13)]
_MONTH_NAMES = {
    **{calendar.month_name[i].lower(): i for i in range(1, 13)},
    **{calendar.month_abbr[i].lower(): i for i in range(1, 13)},
    "sept": 9,
}
# Kinds whose year is the year it began: "5 years" on the anniversary.
_COUNTS_YEARS = {OccasionKind.WORK_ANNIVERSARY, OccasionKind.FOUNDED}


# --- Dates ---------------------------------------------------------------------------


def clamp(year: int, month: int, day: int) -> date:
    """``year-month-day``, or the month's last day when it has no such day
    (29 February in other years; 31 February from a bad import)."""
    month = min(max(month, 1), 12)
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(max(day, 1), last))


def next_date(occasion: Occasion, today: date) -> date:
    """The occasion's next date on or after ``today``."""
    this_year = clamp(today.year, occasion.month, occasion.day)
    if this_year >= today:
        return this_year
    return clamp(today.year + 1, occasion.month, occasion.day)


def first_date(occasion: Occasion) -> date:
    """The first date of the occasion: the year it happened if known (the calendar's
    yearly event starts there), else 2000, a leap year so 29 February stays itself."""
    year = occasion.year or 2000
    try:
        return date(year, occasion.month, occasion.day)
    except ValueError:
        return clamp(2000 if occasion.day == 29 else year, occasion.month, occasion.day)


def day_label(occasion: Occasion) -> str:
    """ "15 April" (or "15 April 1985"), safe for any stored month and day."""
    shown = clamp(2000, occasion.month, occasion.day)
    text = f"{shown.day} {calendar.month_name[shown.month]}"
    return f"{text} {occasion.year}" if occasion.year else text


@dataclass(frozen=True)
class Upcoming:
    """An occasion with its next date seen from ``today``: what the contact page, the
    digest and the feed show."""

    occasion: Occasion
    on: date
    days: int  # 0 is today
    years: int | None  # the age they turn, or the years since it began; None if unknown

    @property
    def title(self) -> str:
        return self.occasion.title

    @property
    def when(self) -> str:
        """ "today", "tomorrow", "in 3 days"."""
        if self.days == 0:
            return "today"
        if self.days == 1:
            return "tomorrow"
        return f"in {self.days} days"

    @property
    def years_text(self) -> str:
        """ "turns 41", "5 years", or ""."""
        if not self.years or self.years < 1:
            return ""
        if self.occasion.kind == OccasionKind.BIRTHDAY:
            return f"turns {self.years}"
        return f"{self.years} year{'s' if self.years != 1 else ''}"


def upcoming(occasion: Occasion, today: date) -> Upcoming:
    on = next_date(occasion, today)
    years = on.year - occasion.year if occasion.year else None
    if years is not None and occasion.kind not in {OccasionKind.BIRTHDAY, *_COUNTS_YEARS}:
        years = None
    return Upcoming(occasion=occasion, on=on, days=(on - today).days, years=years)


def coming_up(user, today: date, days: int = 7, limit: int = 10) -> list[Upcoming]:
    """The user's occasions in ``[today, today + days)`` on active contacts, soonest first:
    ``coming_up_many`` for one user, so the digest of one and of a batch agree."""
    if user is None or not user.is_authenticated:
        return []
    return coming_up_many([(user, today)], days, limit)[user.pk]


def coming_up_many(users_days, days: int = 7, limit: int = 10) -> dict[int, list[Upcoming]]:
    """{user id: ``coming_up``} for (user, their today) pairs, in one query whatever the
    number of users, through ``occasion_owner_day_idx`` (each user's window by (month, day)
    pairs). Months before today's belong to next year (the window crosses the year end),
    so they sort after the rest."""
    owners_days = [(user.pk, today) for user, today in users_days]
    wraps = Case(
        When(each_on_their_day(owners_days, lambda today: Q(month__lt=today.month)), then=1),
        default=0,
        output_field=IntegerField(),
    )
    rows = first_per_owner(
        Occasion.objects.filter(
            each_on_their_day(owners_days, lambda today: occasions_within(today, days)),
            contact__is_archived=False,
        )
        .select_related("contact")
        .annotate(wraps=wraps),
        ["wraps", "month", "day", "contact__name", "pk"],
        limit,
    )
    today_of = dict(owners_days)
    return {
        user_id: [upcoming(o, today) for o in rows.get(user_id, [])]
        for user_id, today in today_of.items()
    }


# --- Parsing a typed date (the birthday field of the contact form) --------------------

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NO_YEAR = re.compile(r"^--(\d{1,2})-?(\d{1,2})$")  # vCard's --MMDD / --MM-DD
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:,?\s+(\d{4}))?$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?$")

DATE_HELP = "e.g. 15 April, 15 April 1985 or 1985-04-15; the year is optional."


def parse_day(text: str) -> tuple[int | None, int, int]:
    """``(year or None, month, day)`` from "15 April", "April 15, 1985", "1985-04-15" or
    "--04-15"; raises ValidationError with a message for the user."""
    value = " ".join(text.strip().lower().replace(",", ", ").split()).replace(" ,", ",")
    year = month = day = None
    if m := _ISO.match(value):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _NO_YEAR.match(value):
        month, day = int(m[1]), int(m[2])
    elif m := _DAY_MONTH.match(value):
        day, month, year = int(m[1]), _MONTH_NAMES.get(m[2]), m[3] and int(m[3])
    elif m := _MONTH_DAY.match(value):
        month, day, year = _MONTH_NAMES.get(m[1]), int(m[2]), m[3] and int(m[3])
    if not month or not day:
        raise ValidationError(
            f"Not a date we can read: “{text.strip()}”. Try 15 April, or 1985-04-15."
        )
    check_day(year or None, month, day, OccasionKind.BIRTHDAY)
    return year or None, month, day


def check_day(year: int | None, month: int, day: int, kind: str, today: date | None = None):
    """Refuse a day the month doesn't have (31 February; 29 February of a year without
    it) and a year before 1900 or in the future."""
    today = today or timezone.localdate()
    if not 1 <= month <= 12:
        raise ValidationError(f"There is no month {month}.", code="day")
    month_name = calendar.month_name[month]
    longest = 29 if month == 2 else calendar.monthrange(2001, month)[1]
    if not 1 <= day <= longest:
        raise ValidationError(
            f"{month_name} has no {day}{_ordinal(day)}: it has at most {longest} days.",
            code="day",
        )
    if year is not None:
        if not MIN_YEAR <= year <= today.year:
            what = "A birth year" if kind == OccasionKind.BIRTHDAY else "The year"
            raise ValidationError(f"{what} is between {MIN_YEAR} and {today.year}.", code="year")
        if day > calendar.monthrange(year, month)[1]:
            raise ValidationError(
                f"{year} had no {day} {month_name}: it was not a leap year.", code="year"
            )
        if date(year, month, day) > today:
            raise ValidationError("That date is in the future.", code="year")


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


# --- Saving ------------------------------------------------------------------------------


def set_birthday(contact: Contact, value: tuple[int | None, int, int] | None) -> None:
    """Give the contact this birthday (replacing theirs), or none when ``value`` is None."""
    if value is None:
        Occasion.objects.filter(contact=contact, kind=OccasionKind.BIRTHDAY).delete()
        return
    year, month, day = value
    Occasion.objects.update_or_create(
        contact=contact,
        kind=OccasionKind.BIRTHDAY,
        defaults={"owner": contact.owner, "year": year, "month": month, "day": day, "label": ""},
    )


def birthday_text(contact: Contact) -> str:
    """The contact's birthday as the contact form shows it ("15 April 1985"), or ""."""
    birthday = Occasion.objects.filter(contact=contact, kind=OccasionKind.BIRTHDAY).first()
    return day_label(birthday) if birthday else ""


class OccasionForm(forms.Form):
    # FastSelect: the same <select> as forms.Select, rendered in Python (on every contact page)
    kind = forms.ChoiceField(label="Occasion", choices=OccasionKind.choices, widget=FastSelect)
    label = forms.CharField(
        label="What it is",
        required=False,
        max_length=80,
        help_text="For “Other”, e.g. wedding anniversary.",
    )
    day = forms.IntegerField(
        label="Day",
        min_value=1,
        max_value=31,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 31}),
    )
    month = forms.TypedChoiceField(
        label="Month",
        choices=[("", "Month…"), *MONTHS],
        coerce=int,
        empty_value=None,
        widget=FastSelect,
    )
    year = forms.IntegerField(
        label="Year (optional)",
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "e.g. 1985"}),
    )

    def __init__(self, *args, contact: Contact, **kwargs):
        self.contact = contact
        super().__init__(*args, prefix="occasion", **kwargs)
        self.fields["year"].widget.attrs["max"] = timezone.localdate().year
        self.fields["year"].widget.attrs["min"] = MIN_YEAR

    def clean_label(self) -> str:
        return " ".join(self.cleaned_data["label"].split())

    def clean(self):
        data = super().clean()
        kind, month, day = data.get("kind"), data.get("month"), data.get("day")
        if kind == OccasionKind.OTHER and not data.get("label") and "label" not in self.errors:
            self.add_error("label", "Say what the occasion is.")
        if kind and month and day:
            try:
                check_day(data.get("year"), month, day, kind)
            except ValidationError as error:
                self.add_error(error.code, error)
        return data

    def save(self) -> Occasion:
        """Add the occasion; a birthday replaces the contact's birthday if they have one."""
        data = self.cleaned_data
        label = data["label"] if data["kind"] == OccasionKind.OTHER else ""
        with transaction.atomic():
            if data["kind"] == OccasionKind.BIRTHDAY:
                set_birthday(self.contact, (data.get("year"), data["month"], data["day"]))
                return Occasion.objects.get(contact=self.contact, kind=OccasionKind.BIRTHDAY)
            return Occasion.objects.create(
                owner=self.contact.owner,
                contact=self.contact,
                kind=data["kind"],
                label=label,
                year=data.get("year"),
                month=data["month"],
                day=data["day"],
            )


# --- Views -------------------------------------------------------------------------------


def _get_contact(request: HttpRequest, pk: int) -> Contact:
    return get_object_or_404(Contact.objects.for_user(request.user), pk=pk)


def section_context(contact: Contact, occasions, form: OccasionForm | None = None) -> dict:
    """What the contact page's "Occasions" section renders; ``occasions`` is the
    contact's occasions (one query, or a prefetched list)."""
    today = timezone.localdate()
    items = sorted((upcoming(o, today) for o in occasions), key=lambda u: (u.days, u.occasion.pk))
    return {
        "contact": contact,
        "occasions": items,
        "occasion_form": form or OccasionForm(contact=contact),
        "has_birthday": any(u.occasion.kind == OccasionKind.BIRTHDAY for u in items),
    }


def _render_section(request, contact: Contact, form=None, status=200) -> HttpResponse:
    context = section_context(contact, contact.occasions.all(), form)
    return render(request, "contacts/contact_detail.html#occasions", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def occasion_add(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the add form on its own page (the contact page's form posts here too)."""
    contact = _get_contact(request, pk)
    form = OccasionForm(request.POST or None, contact=contact)
    if request.method == "POST":
        if form.is_valid():
            occasion = form.save()
            if request.htmx:
                return _render_section(request, contact)
            messages.success(request, f"Saved: {occasion.title}, {day_label(occasion)}.")
            return redirect(f"{contact.get_absolute_url()}#occasions")
        if request.htmx:
            return _render_section(request, contact, form, status=422)
    context = {
        "contact": contact,
        "occasion_form": form,
        "has_birthday": contact.occasions.filter(kind=OccasionKind.BIRTHDAY).exists(),
    }
    return render(request, "contacts/occasion_form.html", context)


@login_required
@require_POST
def occasion_delete(request: HttpRequest, pk: int, occasion_pk: int) -> HttpResponse:
    contact = _get_contact(request, pk)
    occasion = get_object_or_404(
        Occasion.objects.for_user(request.user), pk=occasion_pk, contact=contact
    )
    title = occasion.title
    occasion.delete()
    if request.htmx:
        return _render_section(request, contact)
    messages.success(request, f"Removed: {title}.")
    return redirect(f"{contact.get_absolute_url()}#occasions")
