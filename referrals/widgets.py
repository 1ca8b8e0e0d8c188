"""What the ledger adds to the dashboard, the contact page panels and the timeline."""

from __future__ import annotations

from datetime import datetime, time

from django.utils import timezone

from contacts import timeline
from referralcrm.dashboard import Widget
from referralcrm.links import escape

from . import charts, reciprocity, rollups
from .models import Introduction, Referral, Spend

DASHBOARD_ROWS = 6


def open_referrals_widget(request) -> Widget:
    rows = list(
        Referral.objects.for_user(request.user)
        .open()
        .select_related("partner")
        .order_by("referred_on", "pk")[:DASHBOARD_ROWS]
    )
    return Widget("referrals/widgets/open.html", {"referrals": rows})


def month_widget(request) -> Widget:
    from .views import _totals

    start = timezone.localdate().replace(day=1)
    # Counts of referrals passed this month; value of business closed this month.
    if rollups.enabled():
        totals = rollups.month_totals(request.user, start)
    else:
        mine = Referral.objects.for_user(request.user)
        totals = _totals(
            mine.filter(referred_on__gte=start), closed=mine.filter(closed_on__gte=start)
        )
    return Widget("referrals/widgets/month.html", {"totals": totals, "start": start})


def who_to_ask_widget(request) -> Widget:
    return Widget(
        "referrals/widgets/who_to_ask.html",
        {"rows": list(reciprocity.who_to_ask(request.user, limit=3))},
    )


def chart_widget(request) -> Widget:
    chart = charts.render(charts.monthly_chart(request.user), "dashboard")
    return Widget(
        "referrals/widgets/chart.html",
        {"chart_html": chart},
        wide=True,
    )


def reciprocity_panel(request, contact) -> Widget:
    return Widget(
        "referrals/panels/reciprocity.html",
        {
            "balance": reciprocity.balance_for(request.user, contact),
            "chart_html": charts.render(
                charts.monthly_chart(request.user, partner=contact), "partner"
            ),
            "contact": contact,
        },
    )


def _at(day) -> datetime:
    return datetime.combine(day, time(12), tzinfo=timezone.get_current_timezone())


def referral_html(r: Referral, contact) -> str:
    """referrals/timeline/referral.html, in Python."""
    side = "Referral given" if r.direction == "given" else "Referral received"
    return (
        f'<div class="spread">\n  <span><strong>{side}</strong>:\n'
        f'    <a href="{escape(r.get_absolute_url())}">{escape(r.prospect_name)}</a></span>\n'
        f'  <small class="muted">{timeline.day(r.referred_on)}</small>\n</div>\n'
        f'<small><span class="badge status-{escape(r.status)}">'
        f"{escape(r.get_status_display())}</span> {escape(r.value_display)}</small>\n"
    )


def introduction_html(i: Introduction, contact) -> str:
    """referrals/timeline/introduction.html, in Python."""
    a, b = i.contact_a, i.contact_b
    reason = f" · {escape(i.reason_a)}" if i.reason_a else ""
    return (
        f'<div class="spread">\n  <span><strong>Introduction</strong>: '
        f'<a href="{escape(a.get_absolute_url())}">{escape(a.name)}</a> ↔ '
        f'<a href="{escape(b.get_absolute_url())}">{escape(b.name)}</a></span>\n'
        f'  <small class="muted">{timeline.day(i.introduced_on)}</small>\n</div>\n'
        f"<small>{escape(i.get_outcome_display())}{reason}</small>\n"
    )


def spend_html(s: Spend, contact) -> str:
    """referrals/timeline/spend.html, in Python."""
    description = f": {escape(s.description)}" if s.description else ""
    return (
        f'<div class="spread">\n  <span><strong>Spent {escape(s.amount_display)}</strong>'
        f"{description}</span>\n"
        f'  <small class="muted">{timeline.day(s.spent_on)}</small>\n</div>\n'
    )


def referral_entries(contact, limit: int) -> list[timeline.Entry]:
    rows = Referral.objects.filter(owner_id=contact.owner_id, partner=contact).order_by(
        "-referred_on", "-pk"
    )[:limit]
    return [
        timeline.Entry(
            _at(r.referred_on), "referrals/timeline/referral.html", r, "referral", referral_html
        )
        for r in rows
    ]


def introduction_entries(contact, limit: int) -> list[timeline.Entry]:
    rows = (
        Introduction.objects.filter(owner_id=contact.owner_id)
        .involving(contact)
        .select_related("contact_a", "contact_b")
        .order_by("-introduced_on", "-pk")[:limit]
    )
    return [
        timeline.Entry(
            _at(i.introduced_on),
            "referrals/timeline/introduction.html",
            i,
            "introduction",
            introduction_html,
        )
        for i in rows
    ]


def spend_entries(contact, limit: int) -> list[timeline.Entry]:
    rows = Spend.objects.filter(owner_id=contact.owner_id, contact=contact).order_by(
        "-spent_on", "-pk"
    )[:limit]
    return [
        timeline.Entry(_at(s.spent_on), "referrals/timeline/spend.html", s, "spend", spend_html)
        for s in rows
    ]
