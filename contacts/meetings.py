"""Logging a meeting: the meeting, its attendees, GAINS facts and last touches in one go."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.dispatch import Signal

from .models import Contact, GainsFact, Meeting

# Sent inside log_meeting's transaction (meeting, attendees, facts_count); webhooks listen.
meeting_logged = Signal()


@dataclass
class FactInput:
    kind: str
    text: str
    about: Contact | None = None  # None: every attendee


@transaction.atomic
def log_meeting(
    *,
    owner,
    occurred_at: datetime,
    kind: str,
    attendees: list[Contact],
    place: str = "",
    notes: str = "",
    facts: list[FactInput] | tuple = (),
) -> Meeting:
    meeting = Meeting.objects.create(
        owner=owner, occurred_at=occurred_at, kind=kind, place=place, notes=notes
    )
    meeting.attendees.set(attendees)
    learned_on = occurred_at.date()
    GainsFact.objects.bulk_create(
        GainsFact(
            owner=owner,
            contact=contact,
            kind=fact.kind,
            text=fact.text,
            learned_on=learned_on,
            meeting=meeting,
        )
        for fact in facts
        for contact in ([fact.about] if fact.about else attendees)
    )
    touched = [c for c in attendees if c.touched(occurred_at)]
    if touched:
        Contact.objects.bulk_update(touched, ["last_touched_at", "touch_due_at"])
    meeting_logged.send(Meeting, meeting=meeting, attendees=attendees, facts_count=len(facts))
    return meeting


def refresh_touches(contacts: list[Contact]) -> None:
    """Recompute each contact's last touch from its meetings (after an edit or delete)."""
    latest = dict(
        Meeting.objects.filter(attendees__in=contacts)
        .values_list("attendees")
        .annotate(last=Max("occurred_at"))
    )
    for contact in contacts:
        contact.last_touched_at = latest.get(contact.pk)
        contact.touch_due_at = contact.compute_touch_due_at()
    Contact.objects.bulk_update(contacts, ["last_touched_at", "touch_due_at"])


@transaction.atomic
def delete_meeting(meeting: Meeting) -> None:
    """Delete a meeting and move each attendee's last touch back to their latest other one."""
    attendees = list(meeting.attendees.select_for_update())
    meeting.delete()
    refresh_touches(attendees)


def attach_attendees(meetings) -> None:
    """Each meeting's attendees as ``attendee_pairs``, (pk, name) by name: one query of
    names for all the meetings shown (the user's own meetings, so their own contacts), no
    ``Contact`` objects built."""
    pairs: dict[int, list[tuple[int, str]]] = defaultdict(list)
    rows = (
        Meeting.attendees.through.objects.filter(meeting_id__in=[m.pk for m in meetings])
        .order_by("contact__name", "contact_id")
        .values_list("meeting_id", "contact_id", "contact__name")
    )
    for meeting_id, pk, name in rows:
        pairs[meeting_id].append((pk, name))
    for meeting in meetings:
        meeting.attendee_pairs = pairs[meeting.pk]
