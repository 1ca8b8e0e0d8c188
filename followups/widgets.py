from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from contacts import timeline
from contacts.models import Contact
from referralcrm.dashboard import Widget
from referralcrm.links import escape

from .models import FollowUp

DASHBOARD_ROWS = 8


def due_widget(request) -> Widget:
    today = timezone.localdate()
    items = list(
        FollowUp.objects.for_user(request.user)
        .pending()
        .filter(due_on__lte=today + timedelta(days=7))
        .select_related("contact")
        .only("pk", "title", "due_on", "status", "contact__id", "contact__name")
        .order_by("due_on", "pk")[:DASHBOARD_ROWS]
    )
    return Widget("followups/widgets/due.html", {"items": items, "today": today})


def followup_html(f: FollowUp, contact) -> str:
    """followups/timeline/followup.html, in Python."""
    title = escape(f.title)
    done = f.status == "done"
    return (
        f'<div class="spread">\n  <span>{f"✓ <s>{title}</s>" if done else f"☐ {title}"}</span>\n'
        f'  <small class="muted">follow-up, due {timeline.day(f.due_on)}</small>\n</div>\n'
    )


def followup_entries(contact: Contact, limit: int) -> list[timeline.Entry]:
    items = contact.followups.order_by("-due_on")[:limit]
    tz = timezone.get_current_timezone()
    return [
        timeline.Entry(
            datetime.combine(f.due_on, time.min, tzinfo=tz),
            "followups/timeline/followup.html",
            f,
            "followup",
            followup_html,
        )
        for f in items
    ]
