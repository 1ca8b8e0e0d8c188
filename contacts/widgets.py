"""What contacts adds to the dashboard and to the contact timeline."""

from __future__ import annotations

from django.db.models import F, Prefetch

from referralcrm.dashboard import Widget

from . import quicklog, timeline
from .forms import MeetingForm
from .models import Contact, Meeting

DASHBOARD_ROWS = 8


def quick_log_widget(request) -> Widget:
    return Widget(
        "contacts/widgets/quick_log.html",
        {"form": MeetingForm(owner=request.user), "extensions": quicklog.extensions()},
        live=False,
    )


def recent_meetings_widget(request) -> Widget:
    meetings = (
        Meeting.objects.for_user(request.user)
        .prefetch_related(Prefetch("attendees", queryset=Contact.objects.only("pk", "name")))
        .order_by("-occurred_at")[:DASHBOARD_ROWS]
    )
    return Widget("contacts/widgets/recent_meetings.html", {"meetings": list(meetings)})


def going_cold_widget(request) -> Widget:
    """Contacts not touched longest relative to their cadence."""
    contacts = (
        Contact.objects.for_user(request.user)
        .active()
        .filter(touch_due_at__isnull=False)
        .order_by(F("touch_due_at").asc(), "pk")
        .only(
            "pk",
            "name",
            "company",
            "last_touched_at",
            "touch_due_at",
            "cadence_days",
            "stage",
            "is_archived",
        )[:DASHBOARD_ROWS]
    )
    return Widget("contacts/widgets/going_cold.html", {"contacts": list(contacts)})


def stages_widget(request) -> Widget:
    from .counters import stage_counts

    return Widget("contacts/widgets/stages.html", {"counts": stage_counts(request.user)})


def meeting_entries(contact: Contact, limit: int) -> list[timeline.Entry]:
    meetings = (
        contact.meetings.all()
        .prefetch_related(Prefetch("attendees", queryset=Contact.objects.only("pk", "name")))
        .order_by("-occurred_at")[:limit]
    )
    return [
        timeline.Entry(m.occurred_at, "contacts/timeline/meeting.html", m, "meeting")
        for m in meetings
    ]
