"""A referral's ledger row (``<tr>``): on the ledger, in the dashboard's open referrals and
as the htmx answer to "→ Contacted" and "Send thanks".

Rendered in Python rather than by a template partial: Django's engine spent ~0.6 ms on a
row (its links, forms and badges), a fifth of the dashboard's time outside SQL. The links
come from ``referralcrm.links`` (one ``reverse()`` per route for the list). The markup is
the partial's; tests/test_referral_ledger.py and the browser tests read it.
"""

from __future__ import annotations

from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString, mark_safe

from referralcrm.links import csrf_field, escape, url_maker

from .models import Direction, Status

SLIP_TITLE = "A slip shared with a fellow group member"


def render(referrals, csrf_token: str) -> SafeString:
    """The rows of these referrals (each with ``partner`` loaded), for a page whose CSRF
    token is ``csrf_token``."""
    advance_url, close_url, thanks_url = (
        url_maker("referrals:advance"),
        url_maker("referrals:close"),
        url_maker("referrals:thanks"),
    )
    detail_url, slip_url, contact_url = (
        url_maker("referrals:detail"),
        url_maker("groups:slip"),
        url_maker("contacts:detail"),
    )
    csrf = csrf_field(csrf_token)
    days: dict = {}
    rows = []
    for r in referrals:
        pk = r.pk
        if r.referred_on not in days:
            days[r.referred_on] = date_format(r.referred_on, "j M Y")
        given = r.direction == Direction.GIVEN
        own_url = slip_url(r.slip_id) if r.slip_id else detail_url(pk)
        if r.partner_id:
            partner = f'<a href="{contact_url(r.partner_id)}">{escape(r.partner.name)}</a>'
        else:
            partner = f'<span class="muted">{escape(r.partner_label)}</span>'
        row = [
            f'<tr id="referral-{pk}">\n'
            f'  <td class="nowrap"><small>{days[r.referred_on]}</small></td>\n'
            "  <td>\n"
            f'    <span class="badge {"dir-given" if given else "dir-received"}">'
            f"{'→ to' if given else '← from'}</span>\n"
            f"    {partner}:\n"
            f'    <a href="{own_url}">{escape(r.prospect_name)}</a>\n'
            f'    <span class="badge temp-{escape(r.temperature)}">'
            f"{escape(r.get_temperature_display())}</span>\n",
            f'    <span class="badge badge-shared" title="{SLIP_TITLE}">group slip</span>\n'
            if r.slip_id
            else "",
            "  </td>\n"
            f'  <td class="hide-sm"><span class="badge status-{escape(r.status)}">'
            f"{escape(r.get_status_display())}</span></td>\n"
            f'  <td class="nowrap">{escape(r.value_display)}</td>\n'
            '  <td class="row nowrap">\n',
        ]
        if r.slip_id:
            row.append(
                f'    <a href="{own_url}" class="small-button secondary outline" role="button">'
                "Open slip</a>\n"
            )
        else:
            if next_status := r.next_status:
                to = advance_url(pk)
                label = "Contacted" if next_status == Status.CONTACTED else "Meeting held"
                row.append(
                    f'    <form method="post" action="{to}"\n'
                    f'          hx-post="{to}" hx-target="#referral-{pk}" hx-swap="outerHTML">\n'
                    f"      {csrf}\n"
                    '      <button type="submit" class="small-button secondary outline"'
                    f' title="Move forward">→ {label}</button>\n'
                    "    </form>\n"
                )
            if r.is_open:
                row.append(
                    f'    <a href="{close_url(pk)}" class="small-button" role="button">Close</a>\n'
                )
            elif r.thanks_due:
                to = thanks_url(pk)
                row.append(
                    f'    <form method="post" action="{to}"\n'
                    f'          hx-post="{to}" hx-target="#referral-{pk}" hx-swap="outerHTML">\n'
                    f"      {csrf}\n"
                    '      <button type="submit" class="small-button">Send thanks</button>\n'
                    "    </form>\n"
                )
            elif r.thanks_sent_on:
                row.append('    <small class="muted">thanked ✓</small>\n')
        row.append("  </td>\n</tr>\n")
        rows.append("".join(row))
    # Every value from the user or the database is escaped above.
    return mark_safe("".join(rows))  # noqa: S308  # nosec B308, B703
