"""What contacts adds to the dashboard and to the contact timeline."""

from __future__ import annotations

import functools

from django.db.models import F
from django.template.defaultfilters import linebreaksbr, urlencode
from django.utils import timezone

from referralcrm.dashboard import Widget
from referralcrm.links import escape, url_maker

from . import quicklog, timeline
from .forms import MeetingForm
from .meetings import attach_attendees
from .models import Contact, Meeting

DASHBOARD_ROWS = 8


def quick_log_widget(request) -> Widget:
    return Widget(
        "contacts/widgets/quick_log.html",
        {"form": MeetingForm(owner=request.user), "extensions": quicklog.extensions()},
        live=False,
    )


def recent_meetings_widget(request) -> Widget:
    meetings = list(
        Meeting.objects.for_user(request.user).order_by("-occurred_at")[:DASHBOARD_ROWS]
    )
    attach_attendees(meetings)
    contact_url = url_maker("contacts:detail")  # one reverse() for the widget's links
    for meeting in meetings:
        meeting.people = [(contact_url(pk), name) for pk, name in meeting.attendee_pairs]
    return Widget("contacts/widgets/recent_meetings.html", {"meetings": meetings})


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
    contacts = list(contacts)
    contact_url, touch_url = url_maker("contacts:detail"), url_maker("contacts:touch")
    for contact in contacts:
        contact.url, contact.touch_url = contact_url(contact.pk), touch_url(contact.pk)
    return Widget("contacts/widgets/going_cold.html", {"contacts": contacts})


def stages_widget(request) -> Widget:
    from .counters import stage_counts

    return Widget("contacts/widgets/stages.html", {"counts": stage_counts(request.user)})


def meeting_html(m: Meeting, contact: Contact, *, contact_url, edit_url) -> str:
    """contacts/timeline/meeting.html, in Python (``contact_url``, ``edit_url``: the page's
    ``url_maker``s of those routes; ``m.attendee_pairs`` from ``attach_attendees``)."""
    at = timezone.template_localtime(m.occurred_at)
    out = [
        f'<div class="spread">\n  <strong>{escape(m.get_kind_display())}</strong>\n'
        f'  <small class="muted" title="{timeline.stamp(at)}">'
        f"{timeline.day(at, 'j M Y, H:i')}</small>\n</div>\n"
    ]
    others = m.attendee_pairs
    if len(others) > 1:
        last = len(others) - 1
        links = "".join(
            f'<a href="{contact_url(pk)}">{escape(name)}</a>{", " if i < last else ""}'
            for i, (pk, name) in enumerate(others)
            if pk != contact.pk
        )
        out.append(f"<small>with {links}</small>\n")
    if m.place:
        out.append(f'<small class="muted"> at {escape(m.place)}</small>\n')
    if m.notes:
        out.append(f"<p>{linebreaksbr(m.notes, autoescape=True)}</p>\n")
    back = escape(urlencode(contact_url(contact.pk)))
    out.append(f'<small><a href="{edit_url(m.pk)}?next={back}">Edit</a></small>\n')
    return "".join(out)


def meeting_entries(contact: Contact, limit: int) -> list[timeline.Entry]:
    meetings = list(contact.meetings.order_by("-occurred_at")[:limit])
    attach_attendees(meetings)
    # Each route reversed once for the page, not once a meeting.
    render = functools.partial(
        meeting_html,
        contact_url=url_maker("contacts:detail"),
        edit_url=url_maker("contacts:meeting_edit"),
    )
    return [
        timeline.Entry(m.occurred_at, "contacts/timeline/meeting.html", m, "meeting", render)
        for m in meetings
    ]
