"""The roster's rows (``<li>``) on a group's page, rendered in Python.

A page holds up to ``ROSTER_PAGE`` members, each with three links or forms, two CSRF
fields and the GAINS parts they share: Django's template engine spent ~0.3 ms a row there
(two thirds of the page), this about a tenth of that. The links come from
``referralcrm.links`` (one ``reverse()`` per route for the page). The markup is the one the
template had; tests/test_group_roster.py and the group tests read it.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from referralcrm.links import csrf_field, escape, url_maker

from .models import MembershipStatus, Role


def render(members, *, user_id: int, group_id: int, csrf_token: str) -> SafeString:
    """The rows of these memberships (each with ``user`` loaded and ``my_contact_id`` set)
    as seen by the user ``user_id``, for a page whose CSRF token is ``csrf_token``."""
    slip_url = reverse("groups:slip_create")
    member_contact_url = url_maker("groups:member_contact", 2)
    contact_url = url_maker("contacts:detail")
    csrf = csrf_field(csrf_token)
    rows = []
    for m in members:
        business = m.user.business_name if m.user is not None else ""
        row = [
            f'<li id="member-{m.pk}">\n<div class="spread">\n<div>\n'
            f"<strong>{escape(m.name)}</strong>",
            f' <small class="muted">· {escape(business)}</small>' if business else "",
            f' <span class="badge">{escape(m.seat)}</span>' if m.seat else "",
            ' <span class="badge">Organiser</span>' if m.role == Role.ORGANISER else "",
            ' <span class="badge badge-warn">On leave</span>'
            if m.status == MembershipStatus.ON_LEAVE
            else "",
            "\n</div>\n",
        ]
        if m.user_id != user_id:
            action = member_contact_url(group_id, m.pk)
            row.append('<div class="row">\n')
            if m.status == MembershipStatus.ACTIVE:
                row.append(
                    f'<a href="{slip_url}?to={m.pk}" class="small-button" role="button">'
                    "Give a slip</a>\n"
                )
            row.append(
                f'<form method="post" action="{action}" class="inline-form">\n'
                f'{csrf}<input type="hidden" name="then" value="log">\n'
                '<button type="submit" class="small-button secondary outline">'
                "Log a one-to-one</button>\n</form>\n"
            )
            if m.my_contact_id:
                row.append(
                    f'<a href="{contact_url(m.my_contact_id)}" class="small-button secondary'
                    ' outline" role="button">In my contacts</a>\n'
                )
            else:
                row.append(
                    f'<form method="post" action="{action}" class="inline-form">\n{csrf}\n'
                    '<button type="submit" class="small-button secondary outline">'
                    "Add to my contacts</button>\n</form>\n"
                )
            row.append("</div>\n")
        else:
            row.append('<small class="muted">You</small>\n')
        row.append("</div>\n")
        if shared := m.shared_profile():
            row.append('<dl class="shared-gains">')
            row.extend(f"<dt>{escape(label)}</dt><dd>{escape(text)}</dd>" for label, text in shared)
            row.append("</dl>\n")
        row.append("</li>\n")
        rows.append("".join(row))
    # Every value from the user or the database is escaped above.
    return mark_safe("".join(rows))  # noqa: S308  # nosec B308, B703
