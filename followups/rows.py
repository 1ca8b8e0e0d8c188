"""A follow-up's row (``<li>``): on the follow-ups page, in the dashboard widget and as
the htmx answer to "done" and "snooze".

Rendered in Python rather than by a template: the follow-ups page has up to 160 rows of
about thirty values each, and Django's template engine spent ~0.3 ms on a row, twice the
budget of the whole page. The links come from ``referralcrm.links`` (one ``reverse()`` per
route for the list). tests/test_followups_pages.py reads these rows.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from referralcrm.links import csrf_field, url_maker

from .models import Status

# What a row reads, for ``.select_related("contact").only(*FIELDS)``.
FIELDS = ("title", "due_on", "status", "contact", "contact__name")


def _links():
    return (
        url_maker("followups:done"),
        url_maker("followups:snooze"),
        url_maker("contacts:detail"),
        url_maker("plan:prep"),
    )


def _day(days: dict, day) -> str:
    if day not in days:
        days[day] = date_format(day, "D j M")  # as the |date:"D j M" filter writes it
    return days[day]


def render(items, csrf_token: str) -> SafeString:
    """The rows of these follow-ups (each with its ``contact`` loaded), for a page whose
    CSRF token is ``csrf_token``."""
    done_url, snooze_url, contact_url, prep_url = _links()
    today = timezone.localdate()
    csrf = csrf_field(csrf_token)
    days: dict = {}  # rows share a few due dates; Django's date formatting is slow-ish
    rows = []
    for item in items:
        pk, title, name = item.pk, escape(item.title), escape(item.contact.name)
        done = item.status == Status.DONE
        overdue = not done and item.due_on < today
        when = (
            "done" if done else f"{'overdue since' if overdue else 'due'} {_day(days, item.due_on)}"
        )
        row = [
            f'<li id="followup-{pk}" class="spread{" done" if done else ""}">\n'
            f"  <span>\n"
            f"    {f'<s>{title}</s>' if done else title}\n"
            f'    <br><small class="{"field-error" if overdue else "muted"}">\n'
            f"      {when}\n"
            f"      {' · snoozed' if item.status == Status.SNOOZED else ''}\n"
            f'      · <a href="{contact_url(item.contact_id)}">{name}</a>\n'
        ]
        if not done:
            done_to, snooze_to = done_url(pk), snooze_url(pk)
            row.append(
                f'      · <a href="{prep_url(item.contact_id)}?followup={pk}"'
                f' aria-label="Prepare a one-to-one with {name}">prepare</a>\n'
                f"    </small>\n"
                f"  </span>\n"
                f'  <div class="row nowrap">\n'
                f'    <form method="post" action="{done_to}"\n'
                f'          hx-post="{done_to}" hx-target="#followup-{pk}" hx-swap="outerHTML">\n'
                f"      {csrf}\n"
                f'      <button type="submit" class="small-button"'
                f' aria-label="Mark “{title}” done">Done</button>\n'
                f"    </form>\n"
                f'    <form method="post" action="{snooze_to}"\n'
                f'          hx-post="{snooze_to}" hx-target="#followup-{pk}" hx-swap="outerHTML">\n'
                f"      {csrf}\n"
                f'      <input type="hidden" name="by" value="week">\n'
                f'      <button type="submit" class="small-button secondary outline"'
                f' aria-label="Snooze “{title}” a week">+1 week</button>\n'
                f"    </form>\n"
                f'    <a href="{snooze_to}" class="small-button secondary outline" role="button"'
                f' aria-label="More snooze options for “{title}”">…</a>\n'
                f"  </div>\n"
            )
        else:
            row.append("    </small>\n  </span>\n")
        row.append("</li>\n")
        rows.append("".join(row))
    # Every value from the user or the database is escaped above.
    return mark_safe("".join(rows))  # noqa: S308  # nosec B308, B703
