"""Follow-up ticks on the quick-log form ("send a thank-you note tomorrow")."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .models import FollowUp

TICKS = {
    "thank_you": ("Send a thank-you note", 1),
    "week": ("Follow up", 7),
    "month": ("Check in again", 30),
}


def handle(meeting, data, user) -> list[FollowUp]:
    """Create the ticked follow-ups for every attendee of ``meeting``."""
    today = timezone.localdate()
    wanted = [key for key in data.getlist("followup_ticks") if key in TICKS]
    attendees = list(meeting.attendees.all())
    followups = [
        FollowUp(
            owner=user,
            contact=contact,
            meeting=meeting,
            title=f"{TICKS[key][0]} to {contact.name}"
            if key == "thank_you"
            else f"{TICKS[key][0]} with {contact.name}",
            due_on=today + timedelta(days=TICKS[key][1]),
        )
        for key in wanted
        for contact in attendees
    ]
    return FollowUp.objects.bulk_create(followups)
