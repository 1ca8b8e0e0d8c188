"""The member report's table rows (``<tr>``) on the organisers' site, rendered in Python.

A year's report of a 300-member group is 300 rows of a dozen cells and a health breakdown
of four parts each: Django's template engine spent ~70 ms there, most of the page; this a
tenth of that. The markup is the one the template had (tests/test_group_report.py compares
the two on a report with every kind of row).
"""

from __future__ import annotations

from django.template.defaultfilters import floatformat
from django.utils.safestring import SafeString, mark_safe

from referralcrm.links import escape

from .models import MembershipStatus


def _capfirst(light: str) -> str:
    """A light ("green", "amber", "red", "none": no markup) as a word: "Green"."""
    return light[:1].upper() + light[1:]


def _codes(codes) -> str:
    return " / ".join(str(n) for _code, n in codes)


def _health(health) -> str:
    score, light = health.score, health.light  # each worked out from the parts: once
    parts = "".join(
        f'<li><span class="light light-{p.light}">{_capfirst(p.light)}</span> '
        f"{escape(p.label)}: {escape(p.display)} <small>(green ≥ {p.green}, amber ≥ "
        f"{p.amber})</small> = {p.points} pt</li>"
        for p in health.parts
    )
    return (
        '<details class="health">\n'
        f'<summary><span class="light light-{light}">{_capfirst(light)}</span> '
        f"{score}/8</summary>\n<ul>\n{parts}\n"
        f"<li>{health.points} of {health.max_points} points → {score}/8</li>\n"
        "</ul>\n</details>"
    )


def render(rows) -> SafeString:
    """The ``<tr>`` of each ``report.MemberRow`` (scored: ``health`` set). Numbers and
    lights are written as they are; every text is escaped."""
    out = []
    for r in rows:
        m = r.membership
        status = ""
        if m.status != MembershipStatus.ACTIVE:
            status = f" <small>({escape(m.get_status_display().lower())})</small>"
        pct = r.attendance_pct
        attendance = f"{floatformat(pct, 0)}%" if pct is not None else "—"
        out.append(
            f'<tr class="member-row" id="row-{m.pk}">\n'
            f'<th scope="row">{escape(r.name)}{status}</th>\n'
            f"<td>{escape(m.seat)}</td>\n"
            f'<td class="num">{r.given}</td>\n'
            f'<td class="num">{r.received}</td>\n'
            f'<td class="num">{r.outside}</td>\n'
            f'<td class="num">{escape(r.closed_received_display)}</td>\n'
            f'<td class="num">{escape(r.closed_given_display)}</td>\n'
            f'<td class="num">{r.one_to_ones}</td>\n'
            f'<td class="num">{attendance}</td>\n'
            f'<td class="num">{r.visitors}</td>\n'
            f"<td>\n{_health(r.health)}\n</td>\n"
            f'<td class="nowrap">{_codes(r.codes)}</td>\n'
            "</tr>\n"
        )
    return mark_safe("".join(out))  # noqa: S308  # nosec B308, B703
