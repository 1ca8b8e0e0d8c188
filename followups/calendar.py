"""An iCalendar feed of the user's open follow-ups (secret URL, regenerable)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

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
        event.add("dtend", f.due_on + timedelta(days=1))
        event.add("summary", f.title)
        event.add(
            "description",
            f"With {f.contact.name}. {settings.SITE_URL}{f.contact.get_absolute_url()}",
        )
        event.add("url", f"{settings.SITE_URL}{f.contact.get_absolute_url()}")
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
