"""An iCalendar feed of the user's open follow-ups and their contacts' occasions
(birthdays and other dates, as yearly all-day events), at a secret, regenerable URL."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from contacts.models import Occasion, OccasionKind
from contacts.occasions import first_date

from .models import FollowUp

FEED_LIMIT = 1000


def feed(user, host: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Referral CRM//Follow-ups//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "Referral CRM follow-ups")
    cal.add("x-wr-timezone", user.time_zone)
    now = timezone.now()
    items = (
        FollowUp.objects.for_user(user)
        .pending()
        .select_related("contact")
        .order_by("due_on", "pk")[:FEED_LIMIT]
    )
    for f in items:
        event = Event()
        event.add("uid", f"followup-{f.pk}@{host.split(':')[0]}")
        event.add("dtstamp", now)
        event.add("dtstart", f.due_on)
        if f.due_on < date.max:  # a stored far-future date must not break the whole feed
            event.add("dtend", f.due_on + timedelta(days=1))
        event.add("summary", f.title)
        event.add(
            "description",
            f"With {f.contact.name}. {settings.SITE_URL}{f.contact.get_absolute_url()}",
        )
        event.add("url", f"{settings.SITE_URL}{f.contact.get_absolute_url()}")
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    for event in _occasion_events(user, host, now):
        cal.add_component(event)
    return cal.to_ical()


def _occasion_events(user, host: str, now) -> list[Event]:
    """One query: a yearly all-day event per occasion of an active contact, from the
    year it happened (2000 when unknown). 29 February repeats as RRULE has it: calendars
    show it in leap years. Any stored day is safe (``first_date`` clamps it)."""
    rows = (
        Occasion.objects.for_user(user)
        .filter(contact__is_archived=False)
        .select_related("contact")
        .order_by("month", "day", "pk")[:FEED_LIMIT]
    )
    events = []
    for o in rows:
        start = first_date(o)
        url = f"{settings.SITE_URL}{o.contact.get_absolute_url()}"
        event = Event()
        event.add("uid", f"occasion-{o.pk}@{host.split(':')[0]}")
        event.add("dtstamp", now)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(days=1))
        event.add("rrule", {"freq": "yearly"})
        what = o.title if o.kind == OccasionKind.OTHER else o.get_kind_display().lower()
        event.add("summary", f"{o.contact.name}: {what}")
        event.add("description", f"A reason to get in touch with {o.contact.name}. {url}")
        event.add("url", url)
        event.add("transp", "TRANSPARENT")
        events.append(event)
    return events
